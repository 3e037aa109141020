//! Tracing attach points without a perf event of their own: raw
//! tracepoints, BTF-typed tracing programs (tp_btf, fentry, fexit,
//! fmod_ret, lsm), iterators, and programs on a caller's perf event.
//!
//! In: a loaded program (tracing ones already carry their kernel BTF id
//! from the loader). Out: a [`Link`].

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::perf_attach::attach_borrowed_event;
use super::{Ctx, Link, LinkError, PerfAttachMode};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::sys::attach::{self as sys_attach, LinkCreate, LinkExtra};

impl Program {
    /// Attaches a raw tracepoint program (`raw_tp/`, `raw_tracepoint/`) to
    /// tracepoint `name` (`sys_enter`, `sched_switch`...).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_raw_tracepoint("sys_enter")?;
    /// # Ok(()) }
    /// ```
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link, LinkError> {
        let ctx = Ctx {
            program: self.name(),
            kind: "raw tracepoint",
            target: name,
        };
        if !matches!(
            self.prog_type(),
            ProgType::RAW_TRACEPOINT | ProgType::RAW_TRACEPOINT_WRITABLE
        ) {
            return Err(ctx.target(format!(
                "the program is {}, not raw_tracepoint",
                self.prog_type()
            )));
        }
        let c = CString::new(name).map_err(|_| ctx.target("the name contains a NUL byte"))?;
        let fd = sys_attach::raw_tracepoint_open(self.fd()?, Some(&c)).map_err(|e| ctx.sys(e))?;
        Ok(Link::new(fd, format!("raw_tp {} on {name}", self.name())))
    }

    /// Attaches a BTF-typed tracing program (tp_btf, fentry, fexit,
    /// fmod_ret, lsm, freplace) to the kernel function, hook or BPF
    /// program function it was loaded for (the target is fixed at load
    /// time by its BTF id; see
    /// [`ProgSettings::set_attach_target`](crate::load::ProgSettings::set_attach_target)).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_tracing()?; // e.g. SEC("fentry/do_unlinkat")
    /// # Ok(()) }
    /// ```
    pub fn attach_tracing(&self) -> Result<Link, LinkError> {
        let section = self.section();
        let ctx = Ctx {
            program: self.name(),
            kind: "tracing",
            target: section,
        };
        let attach_type = match (self.prog_type(), self.expected_attach_type()) {
            (ProgType::TRACING, Some(t))
                if matches!(
                    t,
                    AttachType::TRACE_RAW_TP
                        | AttachType::TRACE_FENTRY
                        | AttachType::TRACE_FEXIT
                        | AttachType::MODIFY_RETURN
                ) =>
            {
                t
            }
            (ProgType::LSM, Some(AttachType::LSM_MAC)) => AttachType::LSM_MAC,
            // freplace: attach type ignored, the kernel takes the program
            // and function named at load (ProgSettings::set_attach_target).
            (ProgType::EXT, _) => AttachType(0),
            (ty, at) => {
                return Err(ctx.target(format!(
                    "the program is {ty} with attach type {}, not a tp_btf/fentry/fexit/fmod_ret/lsm program",
                    at.map_or_else(|| "none".to_owned(), |a| a.to_string())
                )))
            }
        };
        let prog_fd = self.fd()?;
        let fd = match sys_attach::link_create(&LinkCreate {
            prog_fd,
            target: 0,
            attach_type: attach_type.0,
            flags: 0,
            extra: LinkExtra::None,
        }) {
            Ok(fd) => fd,
            // Kernels before 5.x take tracing programs only through
            // BPF_RAW_TRACEPOINT_OPEN with no name.
            Err(e) if e.errno() == Some(libc::EINVAL) => {
                sys_attach::raw_tracepoint_open(prog_fd, None).map_err(|_| ctx.sys(e))?
            }
            Err(e) => return Err(ctx.sys(e)),
        };
        let what = match self.prog_type() {
            ProgType::EXT => format!("freplace {section}"),
            _ => format!("{attach_type} {section}"),
        };
        Ok(Link::new(fd, what))
    }

    /// Attaches an iterator program (`iter/task`, `iter/bpf_map_elem`...).
    /// Map iterators need the map: pass its fd as `map`. Read the output
    /// with [`Link::read_iter`].
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let link = prog.attach_iter(None)?;
    /// print!("{}", String::from_utf8_lossy(&link.read_iter()?));
    /// # Ok(()) }
    /// ```
    pub fn attach_iter(&self, map: Option<BorrowedFd<'_>>) -> Result<Link, LinkError> {
        let ctx = Ctx {
            program: self.name(),
            kind: "iter",
            target: self.section(),
        };
        if self.prog_type() != ProgType::TRACING
            || self.expected_attach_type() != Some(AttachType::TRACE_ITER)
        {
            return Err(ctx.target("not an iterator program (section iter/...)"));
        }
        // union bpf_iter_link_info { struct { __u32 map_fd; } map; ... }
        let info = map.map(|m| (m.as_raw_fd() as u32).to_ne_bytes());
        let fd = sys_attach::link_create(&LinkCreate {
            prog_fd: self.fd()?,
            target: 0,
            attach_type: AttachType::TRACE_ITER.0,
            flags: 0,
            extra: match &info {
                Some(b) => LinkExtra::Iter(b),
                None => LinkExtra::None,
            },
        })
        .map_err(|e| ctx.sys(e))?;
        Ok(Link::new(fd, format!("iter {}", self.section())))
    }

    /// Attaches a program to a perf event the caller opened (a
    /// `perf_event` program on a sampling event, or a kprobe/tracepoint
    /// program on its probe event), with a perf link when the kernel has
    /// them ([`PerfAttachMode::Auto`]). Without perf links the program is
    /// set on the event by ioctl: it then stays set on the event until the
    /// caller's fd is closed as well, and dropping the link disables the
    /// event.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program, ev: std::os::fd::BorrowedFd<'_>) -> Result<(), bpf2rs::link::LinkError> {
    /// let _link = prog.attach_perf_event(ev, 0)?;
    /// # Ok(()) }
    /// ```
    pub fn attach_perf_event(&self, event: BorrowedFd<'_>, cookie: u64) -> Result<Link, LinkError> {
        let target = format!("perf event fd {}", event.as_raw_fd());
        let ctx = Ctx {
            program: self.name(),
            kind: "perf_event",
            target: &target,
        };
        attach_borrowed_event(self, ctx, event, cookie, PerfAttachMode::Auto)
    }
}
