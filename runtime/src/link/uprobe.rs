//! User-space probes: uprobe/uretprobe through the uprobe PMU, on a file
//! by symbol (resolved to a file offset from the ELF symbol tables) or by
//! raw file offset; uprobe.multi on every function matching a glob, with
//! one `uprobe_multi` link or, where the program was loaded without it
//! (kernels before 6.6), one uprobe per function.
//!
//! In: a loaded kprobe-type program, a path, a symbol, offset or globs.
//! Out: a [`Link`] bound to the uprobe perf event(s) or uprobe_multi link.

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol};

use super::perf_attach::{attach_new_event, perf_link_fd};
use super::target_path::resolve_target;
use super::{tracefs, Ctx, Link, LinkError, PerfAttachMode};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};
use crate::sys::perf_event::{perf_event_open, PerfEventOpen};

/// Where in the file the probe goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UprobeTarget<'a> {
    /// A function symbol (`.symtab` or `.dynsym`), plus bytes into it.
    Symbol(&'a str, u64),
    /// A file offset.
    Offset(u64),
}

/// Options of [`Program::attach_uprobe`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UprobeOpts {
    /// A uretprobe: run when the function returns.
    pub retprobe: bool,
    /// Only this process; `None` for every process that maps the file.
    pub pid: Option<i32>,
    /// Value of `bpf_get_attach_cookie()` in the program (needs a perf
    /// link: an error with [`PerfAttachMode::Ioctl`]).
    pub cookie: u64,
    /// File offset of a USDT semaphore to increment while attached.
    pub ref_ctr_offset: u64,
    /// Perf link or ioctl; `Auto` picks what the kernel has.
    pub attach_mode: PerfAttachMode,
}

/// `uprobe` section targets: `/path/to/bin:func` or `/path:func+0x10`.
pub(super) fn parse_section_target(t: &str) -> Option<(&str, UprobeTarget<'_>)> {
    let (path, rest) = t.rsplit_once(':')?;
    if path.is_empty() || rest.is_empty() {
        return None;
    }
    let (sym, off) = super::probe::split_symbol_offset(rest);
    Some((path, UprobeTarget::Symbol(sym, off)))
}

/// The file offset of function `symbol` in the ELF file `path`.
pub fn symbol_file_offset(path: &Path, symbol: &str) -> Result<u64, String> {
    let found = symbol_file_offsets(path, |name| name == symbol)?;
    found
        .into_iter()
        .next()
        .map(|(_, off)| off)
        .ok_or_else(|| format!("no symbol {symbol} defined in {}", path.display()))
}

/// Every defined function symbol of the ELF file `path` whose name
/// `wanted` accepts, with its file offset, sorted by name (no duplicates).
pub(super) fn symbol_file_offsets(
    path: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<(String, u64)>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for sym in file.symbols().chain(file.dynamic_symbols()) {
        let Ok(name) = sym.name() else { continue };
        if !sym.is_definition() || sym.kind() != object::SymbolKind::Text || !wanted(name) {
            continue;
        }
        out.push((name.to_owned(), sym_offset(&file, &sym, name)?));
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

fn sym_offset<'d>(
    file: &object::File<'d>,
    sym: &object::Symbol<'d, '_>,
    symbol: &str,
) -> Result<u64, String> {
    let index = sym
        .section_index()
        .ok_or_else(|| format!("symbol {symbol} is in no section"))?;
    let section = file
        .section_by_index(index)
        .map_err(|e| format!("symbol {symbol}: {e}"))?;
    let (file_start, _) = section
        .file_range()
        .ok_or_else(|| format!("symbol {symbol}: its section has no file bytes"))?;
    // Offset in the file = offset in the section + where the section starts.
    sym.address()
        .checked_sub(section.address())
        .and_then(|o| o.checked_add(file_start))
        .ok_or_else(|| format!("symbol {symbol}: address outside its section"))
}

impl Program {
    /// Attaches a uprobe (or uretprobe) program to a function of the ELF
    /// file at `path` (an executable or a shared library), with a perf link
    /// or by ioctl as `opts.attach_mode` says.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::{UprobeOpts, UprobeTarget};
    /// let _link = prog.attach_uprobe(
    ///     "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ///     UprobeTarget::Symbol("malloc", 0),
    ///     UprobeOpts::default(),
    /// )?;
    /// # Ok(()) }
    /// ```
    pub fn attach_uprobe(
        &self,
        path: impl AsRef<Path>,
        target: UprobeTarget<'_>,
        opts: UprobeOpts,
    ) -> Result<Link, LinkError> {
        let path = path.as_ref();
        let desc = match target {
            UprobeTarget::Symbol(s, 0) => format!("{}:{s}", path.display()),
            UprobeTarget::Symbol(s, o) => format!("{}:{s}+{o:#x}", path.display()),
            UprobeTarget::Offset(o) => format!("{}:{o:#x}", path.display()),
        };
        let ctx = Ctx {
            program: self.name(),
            kind: if opts.retprobe { "uretprobe" } else { "uprobe" },
            target: &desc,
        };
        if self.prog_type() != ProgType::KPROBE {
            return Err(ctx.target(format!("the program is {}, not kprobe", self.prog_type())));
        }
        let path = &resolve_target(path).map_err(|r| ctx.target(r))?;
        let offset = match target {
            UprobeTarget::Symbol(s, o) => symbol_file_offset(path, s)
                .map_err(|r| ctx.target(r))?
                .checked_add(o)
                .ok_or_else(|| ctx.target("offset overflows"))?,
            UprobeTarget::Offset(o) => o,
        };
        let uprobes = Uprobes::new(self, ctx, path, opts.retprobe, opts.pid)?;
        attach_new_event(self, ctx, opts.cookie, opts.attach_mode, || {
            uprobes.open_event(ctx, offset, opts.ref_ctr_offset)
        })
    }
}

/// Uprobes of one program on one file: each a uprobe PMU perf event at a
/// file offset, with the program bound to it by a BPF_PERF_EVENT link.
#[derive(Debug)]
pub(super) struct Uprobes<'a> {
    prog: &'a Program,
    path: CString,
    pmu_type: u32,
    /// What every event's `config` has: the retprobe bit, or nothing.
    config: u64,
    pid: i32,
    cpu: i32,
}

impl<'a> Uprobes<'a> {
    /// `pid`: only that process; `None` for every process.
    pub(super) fn new(
        prog: &'a Program,
        ctx: Ctx<'_>,
        path: &Path,
        retprobe: bool,
        pid: Option<i32>,
    ) -> Result<Uprobes<'a>, LinkError> {
        let (pmu_type, ret_bit) = tracefs::pmu("uprobe").map_err(|r| ctx.target(r))?;
        use std::os::unix::ffi::OsStrExt;
        let path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| ctx.target("the path contains a NUL byte"))?;
        // A process's uprobe follows its threads (the kernel filters by
        // mm); every process's is a CPU-wide event, which still fires on
        // every CPU (libbpf opens it on CPU 0 too).
        let (pid, cpu) = match pid {
            Some(pid) => (pid, -1),
            None => (-1, 0),
        };
        Ok(Uprobes {
            prog,
            path,
            pmu_type,
            config: if retprobe { 1 << ret_bit } else { 0 },
            pid,
            cpu,
        })
    }

    /// Opens the uprobe perf event at file offset `offset`.
    /// `ref_ctr_offset`: the file offset of a USDT semaphore the kernel
    /// counts up while the uprobe is there (0 for none).
    fn open_event(
        &self,
        ctx: Ctx<'_>,
        offset: u64,
        ref_ctr_offset: u64,
    ) -> Result<OwnedFd, LinkError> {
        // ref_ctr_offset lives in config bits 32..63 (format/ref_ctr_offset).
        perf_event_open(&PerfEventOpen {
            pmu_type: self.pmu_type,
            config: self.config | ref_ctr_offset << 32,
            config1_str: Some(&self.path),
            config2: offset,
            sample_period: 1,
            pid: self.pid,
            cpu: self.cpu,
            ..Default::default()
        })
        .map_err(|e| ctx.sys(e))
    }

    /// A uprobe at file offset `offset` bound to the program with a BPF
    /// perf link; `cookie`: what `bpf_get_attach_cookie()` returns.
    pub(super) fn attach(
        &self,
        ctx: Ctx<'_>,
        offset: u64,
        ref_ctr_offset: u64,
        cookie: u64,
    ) -> Result<OwnedFd, LinkError> {
        let perf = self.open_event(ctx, offset, ref_ctr_offset)?;
        perf_link_fd(self.prog, ctx, perf.as_fd(), cookie)
    }
}

/// `BPF_F_UPROBE_MULTI_RETURN`.
const BPF_F_UPROBE_MULTI_RETURN: u32 = 1;

impl Program {
    /// Attaches a `uprobe.multi` program to every function of the ELF file
    /// at `path` whose name matches one of `patterns` (globs with `*` and
    /// `?`), with one BPF_TRACE_UPROBE_MULTI link (Linux 6.6+).
    ///
    /// On older kernels (or with
    /// [`ProgSettings::set_uprobe_multi`](crate::load::ProgSettings::set_uprobe_multi)
    /// off) the program was loaded as a plain kprobe program and gets one
    /// uprobe per function instead, all owned by the one [`Link`]; libbpf
    /// has no such fallback. The program runs at the same places; only
    /// `bpf_get_func_ip()` differs (0 in a plain uprobe).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_uprobe_multi("/bin/bash", &["readline", "rl_*"], false, None)?;
    /// # Ok(()) }
    /// ```
    pub fn attach_uprobe_multi(
        &self,
        path: impl AsRef<Path>,
        patterns: &[&str],
        retprobe: bool,
        pid: Option<u32>,
    ) -> Result<Link, LinkError> {
        let path = path.as_ref();
        let desc = format!("{}:{}", path.display(), patterns.join(","));
        let ctx = Ctx {
            program: self.name(),
            kind: if retprobe {
                "uretprobe.multi"
            } else {
                "uprobe.multi"
            },
            target: &desc,
        };
        if self.prog_type() != ProgType::KPROBE {
            return Err(ctx.target(format!("the program is {}, not kprobe", self.prog_type())));
        }
        let path = &resolve_target(path).map_err(|r| ctx.target(r))?;
        let found = symbol_file_offsets(path, |name| {
            patterns.iter().any(|p| tracefs::glob_match(p, name))
        })
        .map_err(|r| ctx.target(r))?;
        if found.is_empty() {
            return Err(ctx.target("no function symbol matches"));
        }
        let offsets: Vec<u64> = found.iter().map(|(_, o)| *o).collect();
        let what = format!(
            "{} {} on {} functions of {}",
            ctx.kind,
            self.name(),
            offsets.len(),
            path.display()
        );
        if self.expected_attach_type() != Some(AttachType::TRACE_UPROBE_MULTI) {
            // Loaded for plain uprobes (see crate::load's expected_attach_type).
            let uprobes = Uprobes::new(self, ctx, path, retprobe, perf_pid(ctx, pid)?)?;
            let fds = offsets
                .iter()
                .map(|&offset| uprobes.attach(ctx, offset, 0, 0))
                .collect::<Result<Vec<_>, _>>()?;
            return Link::group(fds, what).ok_or_else(|| ctx.target("no function symbol matches"));
        }
        let fd = self.uprobe_multi_link(
            &ctx,
            path,
            UprobeMultiSites {
                offsets: &offsets,
                ref_ctr_offsets: None,
                cookies: None,
            },
            if retprobe {
                BPF_F_UPROBE_MULTI_RETURN
            } else {
                0
            },
            pid,
        )?;
        Ok(Link::new(fd, what))
    }
}

/// A `uprobe_multi` PID filter as a perf event's: 0 and `None` both mean
/// every process there.
pub(super) fn perf_pid(ctx: Ctx<'_>, pid: Option<u32>) -> Result<Option<i32>, LinkError> {
    match pid {
        None | Some(0) => Ok(None),
        Some(p) => i32::try_from(p)
            .map(Some)
            .map_err(|_| ctx.target(format!("pid {p} is out of range"))),
    }
}

/// The probe sites of one `uprobe_multi` link, with per-site extras.
pub(super) struct UprobeMultiSites<'a> {
    pub(super) offsets: &'a [u64],
    pub(super) ref_ctr_offsets: Option<&'a [u64]>,
    pub(super) cookies: Option<&'a [u64]>,
}

impl Program {
    /// BPF_LINK_CREATE of a `uprobe_multi` link on `sites` of the file at
    /// `path`.
    pub(super) fn uprobe_multi_link(
        &self,
        ctx: &Ctx<'_>,
        path: &Path,
        sites: UprobeMultiSites<'_>,
        flags: u32,
        pid: Option<u32>,
    ) -> Result<std::os::fd::OwnedFd, LinkError> {
        use std::os::unix::ffi::OsStrExt;
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| ctx.target("the path contains a NUL byte"))?;
        sys_attach::link_create(&LinkCreate {
            prog_fd: self.fd()?,
            target: 0,
            attach_type: AttachType::TRACE_UPROBE_MULTI.0,
            flags: 0,
            extra: LinkExtra::UprobeMulti {
                path: &c,
                offsets: sites.offsets,
                ref_ctr_offsets: sites.ref_ctr_offsets,
                cookies: sites.cookies,
                flags,
                pid: pid.unwrap_or(0),
            },
        })
        .map_err(|e| ctx.sys(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_targets() {
        assert_eq!(
            parse_section_target("/bin/bash:readline"),
            Some(("/bin/bash", UprobeTarget::Symbol("readline", 0)))
        );
        assert_eq!(
            parse_section_target("/lib/libc.so.6:malloc+0x4"),
            Some(("/lib/libc.so.6", UprobeTarget::Symbol("malloc", 4)))
        );
        assert_eq!(parse_section_target("malloc"), None);
    }
}
