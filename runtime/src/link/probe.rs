//! Kernel probes and tracepoints: kprobe/kretprobe through the kprobe PMU,
//! kprobe.multi links, ksyscall, tracepoints; all but kprobe.multi are a
//! perf event with the program bound to it by a perf link or by ioctl
//! ([`PerfAttachMode`]).
//!
//! In: a loaded kprobe or tracepoint program and a symbol or tracepoint
//! name. Out: a [`Link`] (the link keeps the perf event alive).

use std::ffi::CString;

use super::perf_attach::attach_new_event;
use super::{tracefs, Ctx, Link, LinkError, PerfAttachMode};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};
use crate::sys::perf_event::{perf_event_open, PerfEventOpen, PERF_TYPE_TRACEPOINT};

/// Options of [`Program::attach_kprobe`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KprobeOpts {
    /// A kretprobe: run when the function returns.
    pub retprobe: bool,
    /// Bytes into the function (kprobes only).
    pub offset: u64,
    /// Value of `bpf_get_attach_cookie()` in the program (needs a perf
    /// link: an error with [`PerfAttachMode::Ioctl`]).
    pub cookie: u64,
    /// Perf link or ioctl; `Auto` picks what the kernel has.
    pub attach_mode: PerfAttachMode,
}

/// Options of [`Program::attach_tracepoint_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TracepointOpts {
    /// Value of `bpf_get_attach_cookie()` in the program (needs a perf
    /// link: an error with [`PerfAttachMode::Ioctl`]).
    pub cookie: u64,
    /// Perf link or ioctl; `Auto` picks what the kernel has.
    pub attach_mode: PerfAttachMode,
}

/// `BPF_F_KPROBE_MULTI_RETURN`.
const BPF_F_KPROBE_MULTI_RETURN: u32 = 1;

/// `do_sys_open+0x10` -> (`do_sys_open`, 16).
pub(super) fn split_symbol_offset(target: &str) -> (&str, u64) {
    if let Some((sym, off)) = target.split_once('+') {
        let off = off.trim();
        let parsed = match off.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => off.parse().ok(),
        };
        if let Some(o) = parsed {
            return (sym, o);
        }
    }
    (target, 0)
}

fn check_type(prog: &Program, ctx: Ctx<'_>, want: ProgType) -> Result<(), LinkError> {
    if prog.prog_type() != want {
        return Err(ctx.target(format!("the program is {}, not {want}", prog.prog_type())));
    }
    Ok(())
}

impl Program {
    /// Attaches a kprobe (or, with `opts.retprobe`, a kretprobe) program to
    /// kernel function `symbol` through the kprobe PMU, with a perf link or
    /// by ioctl as `opts.attach_mode` says.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_kprobe("do_unlinkat", Default::default())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_kprobe(&self, symbol: &str, opts: KprobeOpts) -> Result<Link, LinkError> {
        let ctx = Ctx {
            program: self.name(),
            kind: if opts.retprobe { "kretprobe" } else { "kprobe" },
            target: symbol,
        };
        check_type(self, ctx, ProgType::KPROBE)?;
        let (pmu_type, ret_bit) = tracefs::pmu("kprobe").map_err(|r| ctx.target(r))?;
        let c = CString::new(symbol).map_err(|_| ctx.target("the symbol contains a NUL byte"))?;
        attach_new_event(self, ctx, opts.cookie, opts.attach_mode, || {
            perf_event_open(&PerfEventOpen {
                pmu_type,
                config: if opts.retprobe { 1 << ret_bit } else { 0 },
                config1_str: Some(&c),
                config2: opts.offset,
                sample_period: 1,
                pid: -1,
                cpu: 0,
                ..Default::default()
            })
            .map_err(|e| ctx.sys(e))
        })
    }

    /// Attaches to the syscall `name` (`unlinkat`) through its
    /// architecture's entry symbol (`__x64_sys_unlinkat`), like libbpf's
    /// `ksyscall/` sections.
    pub fn attach_ksyscall(&self, name: &str, retprobe: bool) -> Result<Link, LinkError> {
        let prefix = match std::env::consts::ARCH {
            "x86_64" => "__x64_sys_",
            "x86" => "__ia32_sys_",
            "aarch64" => "__arm64_sys_",
            "s390x" => "__s390x_sys_",
            "riscv64" => "__riscv_sys_",
            "powerpc64" => "sys_",
            _ => "__se_sys_",
        };
        self.attach_kprobe(
            &format!("{prefix}{name}"),
            KprobeOpts {
                retprobe,
                ..Default::default()
            },
        )
    }

    /// Attaches a `kprobe.multi` program to every kernel function matching
    /// one of `patterns` (globs with `*` and `?`, resolved against
    /// `available_filter_functions`; plain names are passed as they are).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_kprobe_multi(&["vfs_read*", "vfs_write"], false)?;
    /// # Ok(()) }
    /// ```
    pub fn attach_kprobe_multi(
        &self,
        patterns: &[&str],
        retprobe: bool,
    ) -> Result<Link, LinkError> {
        let target = patterns.join(",");
        let ctx = Ctx {
            program: self.name(),
            kind: if retprobe {
                "kretprobe.multi"
            } else {
                "kprobe.multi"
            },
            target: &target,
        };
        check_type(self, ctx, ProgType::KPROBE)?;
        let mut names: Vec<String> = Vec::new();
        if patterns.iter().any(|p| p.contains(['*', '?'])) {
            let all = tracefs::available_filter_functions().map_err(|r| ctx.target(r))?;
            for p in patterns {
                if p.contains(['*', '?']) {
                    names.extend(all.iter().filter(|f| tracefs::glob_match(p, f)).cloned());
                } else {
                    names.push((*p).to_owned());
                }
            }
        } else {
            names.extend(patterns.iter().map(|p| (*p).to_owned()));
        }
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(ctx.target("no traceable kernel function matches"));
        }
        let c_names = names
            .iter()
            .map(|n| CString::new(n.as_str()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ctx.target("a symbol contains a NUL byte"))?;
        let ptrs: Vec<u64> = c_names.iter().map(|c| c.as_ptr() as usize as u64).collect();
        let fd = sys_attach::link_create(&LinkCreate {
            prog_fd: self.fd()?,
            target: 0,
            attach_type: AttachType::TRACE_KPROBE_MULTI.0,
            flags: 0,
            extra: LinkExtra::KprobeMulti {
                flags: if retprobe {
                    BPF_F_KPROBE_MULTI_RETURN
                } else {
                    0
                },
                syms: &ptrs,
                cookies: None,
            },
        })
        .map_err(|e| ctx.sys(e))?;
        Ok(Link::new(
            fd,
            format!("{} {} on {} functions", ctx.kind, self.name(), names.len()),
        ))
    }

    /// Attaches a tracepoint program to `category/name`
    /// (`/sys/kernel/tracing/events/<category>/<name>`).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_tracepoint("syscalls", "sys_enter_getpid")?;
    /// # Ok(()) }
    /// ```
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<Link, LinkError> {
        self.attach_tracepoint_with(category, name, TracepointOpts::default())
    }

    /// [`Program::attach_tracepoint`] with a cookie or a forced
    /// [`PerfAttachMode`].
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::{PerfAttachMode, TracepointOpts};
    /// let opts = TracepointOpts { attach_mode: PerfAttachMode::Ioctl, ..Default::default() };
    /// let _link = prog.attach_tracepoint_with("syscalls", "sys_enter_getpid", opts)?;
    /// # Ok(()) }
    /// ```
    pub fn attach_tracepoint_with(
        &self,
        category: &str,
        name: &str,
        opts: TracepointOpts,
    ) -> Result<Link, LinkError> {
        let target = format!("{category}/{name}");
        let ctx = Ctx {
            program: self.name(),
            kind: "tracepoint",
            target: &target,
        };
        check_type(self, ctx, ProgType::TRACEPOINT)?;
        let id = tracefs::tracepoint_id(category, name).map_err(|r| ctx.target(r))?;
        attach_new_event(self, ctx, opts.cookie, opts.attach_mode, || {
            perf_event_open(&PerfEventOpen {
                pmu_type: PERF_TYPE_TRACEPOINT,
                config: id,
                sample_period: 1,
                pid: -1,
                cpu: 0,
                ..Default::default()
            })
            .map_err(|e| ctx.sys(e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_offsets() {
        assert_eq!(split_symbol_offset("do_sys_open"), ("do_sys_open", 0));
        assert_eq!(split_symbol_offset("do_sys_open+0x10"), ("do_sys_open", 16));
        assert_eq!(split_symbol_offset("do_sys_open+8"), ("do_sys_open", 8));
        assert_eq!(split_symbol_offset("a+zz"), ("a+zz", 0));
    }
}
