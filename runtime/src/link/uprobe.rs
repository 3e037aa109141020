//! User-space probes: uprobe/uretprobe through the uprobe PMU, on a file
//! by symbol (resolved to a file offset from the ELF symbol tables) or by
//! raw file offset.
//!
//! In: a loaded kprobe-type program, a path, a symbol or offset. Out: a
//! [`Link`] bound to the uprobe perf event.

use std::ffi::CString;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol};

use super::perf_attach::attach_new_event;
use super::{tracefs, Ctx, Link, LinkError, PerfAttachMode};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::link::{self as sys_link, LinkCreate, LinkExtra};
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
        let offset = match target {
            UprobeTarget::Symbol(s, o) => symbol_file_offset(path, s)
                .map_err(|r| ctx.target(r))?
                .checked_add(o)
                .ok_or_else(|| ctx.target("offset overflows"))?,
            UprobeTarget::Offset(o) => o,
        };
        let (pmu_type, ret_bit) = tracefs::pmu("uprobe").map_err(|r| ctx.target(r))?;
        use std::os::unix::ffi::OsStrExt;
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| ctx.target("the path contains a NUL byte"))?;
        // ref_ctr_offset lives in config bits 32..63 (format/ref_ctr_offset).
        let mut config = opts.ref_ctr_offset << 32;
        if opts.retprobe {
            config |= 1 << ret_bit;
        }
        let (pid, cpu) = match opts.pid {
            Some(pid) => (pid, -1),
            None => (-1, 0),
        };
        attach_new_event(self, ctx, opts.cookie, opts.attach_mode, || {
            perf_event_open(&PerfEventOpen {
                pmu_type,
                config,
                config1_str: Some(&c),
                config2: offset,
                sample_period: 1,
                pid,
                cpu,
                ..Default::default()
            })
            .map_err(|e| ctx.sys(e))
        })
    }
}

/// `BPF_F_UPROBE_MULTI_RETURN`.
const BPF_F_UPROBE_MULTI_RETURN: u32 = 1;

impl Program {
    /// Attaches a `uprobe.multi` program to every function of the ELF file
    /// at `path` whose name matches one of `patterns` (globs with `*` and
    /// `?`), with one BPF_TRACE_UPROBE_MULTI link (Linux 6.6+).
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
        let found = symbol_file_offsets(path, |name| {
            patterns.iter().any(|p| tracefs::glob_match(p, name))
        })
        .map_err(|r| ctx.target(r))?;
        if found.is_empty() {
            return Err(ctx.target("no function symbol matches"));
        }
        let offsets: Vec<u64> = found.iter().map(|(_, o)| *o).collect();
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
        Ok(Link::new(
            fd,
            format!(
                "{} {} on {} functions of {}",
                ctx.kind,
                self.name(),
                offsets.len(),
                path.display()
            ),
        ))
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
        sys_link::link_create(&LinkCreate {
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
