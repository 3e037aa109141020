//! Attaching loaded programs to the kernel, and the links that keep them
//! attached.
//!
//! In: a loaded [`Program`] and a target (an interface, a symbol, a
//! tracepoint, a cgroup, ...). Out: a [`Link`] (an owned bpf_link fd: the
//! program detaches when the last fd closes, unless the link is pinned).
//!
//! - network: [`Program::attach_xdp`], [`Program::attach_tcx`],
//!   [`Program::attach_cgroup`], [`Program::attach_netns`],
//!   [`Program::attach_socket_filter`];
//! - probes: [`Program::attach_kprobe`], [`Program::attach_kprobe_multi`],
//!   [`Program::attach_uprobe`], [`Program::attach_uprobe_multi`],
//!   [`Program::attach_tracepoint`];
//! - tracing: [`Program::attach_raw_tracepoint`], [`Program::attach_tracing`]
//!   (tp_btf, fentry, fexit, fmod_ret, lsm), [`Program::attach_perf_event`],
//!   [`Program::attach_iter`] and [`Link::read_iter`];
//! - [`attach_auto`]: whatever the section name says, like libbpf's
//!   `bpf_program__attach`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let obj = bpf2rs::load::OpenObject::open_file("trace.bpf.o")?.load()?;
//! let mut links = Vec::new();
//! for prog in obj.programs() {
//!     if let Some(link) = bpf2rs::link::attach_auto(prog)? {
//!         links.push(link);
//!     }
//! }
//! // Dropping `links` detaches every program.
//! # Ok(()) }
//! ```

mod net;
mod probe;
mod tracefs;
mod tracing;
mod uprobe;
mod usdt;

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::obj::{section_def, AttachKind};
use crate::prog::{ProgError, Program};
use crate::sys::{self, SysError};

pub use net::{detach_socket_filter, TcxAnchor, XdpFlags};
pub use probe::KprobeOpts;
pub use uprobe::{symbol_file_offset, UprobeOpts, UprobeTarget};
pub use usdt::{
    parse_usdt_args, usdt_notes, usdt_notes_in, UsdtArg, UsdtLocation, UsdtNote, UsdtOpts,
};
pub(crate) use usdt::{UsdtSpecs, SPEC_MAP as USDT_SPEC_MAP};

/// An attach or link operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The kernel refused (or the system call failed).
    #[error("program {program}: attach {kind} to {target}: {source}")]
    Attach {
        program: String,
        kind: &'static str,
        target: String,
        #[source]
        source: SysError,
    },
    /// The target could not be resolved or the program cannot attach there.
    #[error("program {program}: attach {kind} to {target}: {reason}")]
    Target {
        program: String,
        kind: &'static str,
        target: String,
        reason: String,
    },
    /// The program is not loaded.
    #[error(transparent)]
    Program(#[from] ProgError),
    /// Registering a struct_ops map ([`crate::struct_ops::StructOpsMap::register`]).
    #[error("{object}: struct_ops map {map} (struct {type_name}): {op}: {source}")]
    StructOps {
        object: String,
        map: String,
        type_name: String,
        op: &'static str,
        #[source]
        source: SysError,
    },
    /// An operation on an existing link.
    #[error("link {what}: {op}: {source}")]
    Link {
        what: String,
        op: &'static str,
        #[source]
        source: SysError,
    },
}

impl LinkError {
    /// The errno, when the kernel returned one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            LinkError::Attach { source, .. }
            | LinkError::Link { source, .. }
            | LinkError::StructOps { source, .. } => source.errno(),
            LinkError::Program(p) => p.source.errno(),
            LinkError::Target { .. } => None,
        }
    }
}

/// Context for errors of one attach call.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    program: &'a str,
    kind: &'static str,
    target: &'a str,
}

impl Ctx<'_> {
    fn sys(&self, source: SysError) -> LinkError {
        LinkError::Attach {
            program: self.program.to_owned(),
            kind: self.kind,
            target: self.target.to_owned(),
            source,
        }
    }

    fn target(&self, reason: impl Into<String>) -> LinkError {
        LinkError::Target {
            program: self.program.to_owned(),
            kind: self.kind,
            target: self.target.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A program attached to something. Dropping it closes the link fd, which
/// detaches the program unless the link was pinned (or its fd duplicated).
#[derive(Debug)]
pub struct Link {
    fd: OwnedFd,
    /// What was attached where, for errors (`xdp on ifindex 1`).
    what: String,
    /// A USDT link's spec slots, freed with the link.
    usdt: Option<usdt::SpecSlots>,
}

/// What the kernel says about a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    pub id: u32,
    /// `enum bpf_link_type` (1 raw_tracepoint, 2 tracing, 3 cgroup, 4 iter,
    /// 6 xdp, 7 perf_event, 8 kprobe_multi, 11 tcx, ...).
    pub link_type: u32,
    pub prog_id: u32,
}

impl Link {
    pub(crate) fn new(fd: OwnedFd, what: String) -> Link {
        Link {
            fd,
            what,
            usdt: None,
        }
    }

    /// Wraps the fd of an existing bpf_link.
    pub fn from_fd(fd: OwnedFd) -> Link {
        Link::new(fd, "from fd".into())
    }

    /// Opens a link pinned at `path` in bpffs. The program stays attached
    /// as long as the pin or any link fd exists.
    ///
    /// ```no_run
    /// let link = bpf2rs::link::Link::from_pin("/sys/fs/bpf/my_link")?;
    /// println!("{:?}", link.info()?);
    /// # Ok::<(), bpf2rs::link::LinkError>(())
    /// ```
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link, LinkError> {
        let what = path.as_ref().display().to_string();
        let c = c_path(&what, path.as_ref(), "BPF_OBJ_GET")?;
        let fd = sys::obj_get(&c).map_err(|source| LinkError::Link {
            what: what.clone(),
            op: "from_pin",
            source,
        })?;
        Ok(Link::new(fd, what))
    }

    /// The link's fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Gives up ownership: the program stays attached while the fd is open.
    ///
    /// A USDT link's spec slots stay taken for the rest of the process: the
    /// fd may keep the probes attached.
    pub fn into_fd(self) -> OwnedFd {
        if let Some(slots) = &self.usdt {
            slots.keep();
        }
        self.fd
    }

    /// Pins the link at `path` in bpffs, so that the program stays attached
    /// after this process drops the link (remove the file to detach).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), LinkError> {
        let c = c_path(&self.what, path.as_ref(), "BPF_OBJ_PIN")?;
        sys::obj_pin(self.fd(), &c).map_err(self.err("pin"))?;
        // The pinned link may outlive this handle: its USDT specs stay.
        if let Some(slots) = &self.usdt {
            slots.keep();
        }
        Ok(())
    }

    /// Detaches the program now, even if the link is pinned or shared
    /// (BPF_LINK_DETACH), then closes the fd. Only some link types support
    /// it (xdp, tcx, cgroup, netns, netfilter, netkit, sockmap); the others
    /// (perf event, raw tracepoint, tracing, iter) answer EOPNOTSUPP and
    /// detach when their last fd and pin are gone.
    pub fn detach(self) -> Result<(), LinkError> {
        sys::link::link_detach(self.fd()).map_err(self.err("detach"))
    }

    /// Replaces the attached program with `prog` without a gap.
    pub fn update(&self, prog: &Program) -> Result<(), LinkError> {
        sys::link::link_update(self.fd(), prog.fd()?).map_err(self.err("update"))
    }

    /// The link's id, type and program id.
    pub fn info(&self) -> Result<LinkInfo, LinkError> {
        let raw = sys::link::link_info(self.fd()).map_err(self.err("info"))?;
        Ok(LinkInfo {
            id: raw.id,
            link_type: raw.link_type,
            prog_id: raw.prog_id,
        })
    }

    /// For an iterator link ([`Program::attach_iter`]): a new iteration
    /// whose `read`s run the program (BPF_ITER_CREATE).
    pub fn open_iter(&self) -> Result<File, LinkError> {
        let fd = sys::link::iter_create(self.fd()).map_err(self.err("iter_create"))?;
        Ok(File::from(fd))
    }

    /// Runs an iterator link to the end and returns what it printed.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// let link = prog.attach_iter(None)?;
    /// let text = String::from_utf8_lossy(&link.read_iter()?).into_owned();
    /// # Ok(()) }
    /// ```
    pub fn read_iter(&self) -> Result<Vec<u8>, LinkError> {
        let mut f = self.open_iter()?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).map_err(|e| LinkError::Link {
            what: self.what.clone(),
            op: "read iterator",
            source: SysError {
                op: "read",
                source: e,
            },
        })?;
        Ok(out)
    }

    fn err(&self, op: &'static str) -> impl FnOnce(SysError) -> LinkError + '_ {
        move |source| LinkError::Link {
            what: self.what.clone(),
            op,
            source,
        }
    }
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn c_path(what: &str, path: &Path, op: &'static str) -> Result<CString, LinkError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| LinkError::Link {
        what: what.to_owned(),
        op: "pin path",
        source: SysError {
            op,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "path contains a NUL byte",
            ),
        },
    })
}

/// Attaches `prog` where its section name says (libbpf's conventions):
/// `kprobe/SYM`, `kretprobe/SYM`, `kprobe.multi/GLOB`, `ksyscall/NAME`,
/// `uprobe/PATH:SYM[+OFF]`, `uprobe.multi/PATH:GLOB`, `usdt/PATH:PROVIDER:NAME`,
/// `tracepoint/CAT/NAME` (`tp/`),
/// `raw_tp/NAME` (`raw_tracepoint/`), `tp_btf/`, `fentry/`, `fexit/`,
/// `fmod_ret/`, `lsm/` and `iter/`.
///
/// `Ok(None)` when the section names no target the program can attach to
/// by itself (xdp, tc, cgroup, socket, perf_event, a bare `kprobe`...):
/// attach those with the `attach_*` method for their kind. Also `Ok(None)`
/// for a program that was not loaded (autoload off), as libbpf's
/// skeletons skip them.
///
/// ```no_run
/// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
/// match bpf2rs::link::attach_auto(prog)? {
///     Some(link) => println!("attached: {:?}", link.info()?),
///     None => println!("{} needs a target", prog.name()),
/// }
/// # Ok(()) }
/// ```
pub fn attach_auto(prog: &Program) -> Result<Option<Link>, LinkError> {
    if !prog.is_loaded() {
        return Ok(None);
    }
    let Some(def) = section_def(prog.section()) else {
        return Ok(None);
    };
    let target = def.attach_target.as_deref();
    let link = match (def.attach, target) {
        (AttachKind::Kprobe, Some(t)) => {
            let (sym, offset) = probe::split_symbol_offset(t);
            prog.attach_kprobe(
                sym,
                KprobeOpts {
                    offset,
                    ..Default::default()
                },
            )?
        }
        (AttachKind::Kretprobe, Some(t)) => prog.attach_kprobe(
            t,
            KprobeOpts {
                retprobe: true,
                ..Default::default()
            },
        )?,
        (AttachKind::KprobeMulti, Some(t)) => prog.attach_kprobe_multi(&[t], false)?,
        (AttachKind::KretprobeMulti, Some(t)) => prog.attach_kprobe_multi(&[t], true)?,
        (AttachKind::Ksyscall, Some(t)) => prog.attach_ksyscall(t, false)?,
        (AttachKind::Kretsyscall, Some(t)) => prog.attach_ksyscall(t, true)?,
        (AttachKind::Uprobe | AttachKind::Uretprobe, Some(t)) => {
            let retprobe = def.attach == AttachKind::Uretprobe;
            match uprobe::parse_section_target(t) {
                Some((path, target)) => prog.attach_uprobe(
                    path,
                    target,
                    UprobeOpts {
                        retprobe,
                        ..Default::default()
                    },
                )?,
                None => return Ok(None),
            }
        }
        (AttachKind::UprobeMulti | AttachKind::UretprobeMulti, Some(t)) => {
            match t.rsplit_once(':') {
                Some((path, pattern)) if !path.is_empty() && !pattern.is_empty() => prog
                    .attach_uprobe_multi(
                        path,
                        &[pattern],
                        def.attach == AttachKind::UretprobeMulti,
                        None,
                    )?,
                _ => return Ok(None),
            }
        }
        (AttachKind::Usdt, Some(t)) => {
            let mut parts = t.rsplitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(name), Some(provider), Some(path))
                    if !path.is_empty() && !provider.is_empty() && !name.is_empty() =>
                {
                    prog.attach_usdt(path, provider, name, UsdtOpts::default())?
                }
                _ => return Ok(None),
            }
        }
        (AttachKind::Tracepoint, Some(t)) => match t.split_once('/') {
            Some((cat, name)) => prog.attach_tracepoint(cat, name)?,
            None => return Ok(None),
        },
        (AttachKind::RawTracepoint, Some(t)) => prog.attach_raw_tracepoint(t)?,
        (AttachKind::Tracing, Some(_)) => prog.attach_tracing()?,
        (AttachKind::Iter, Some(_)) => prog.attach_iter(None)?,
        _ => return Ok(None),
    };
    Ok(Some(link))
}

impl Program {
    /// [`attach_auto`] as a method.
    pub fn attach_auto(&self) -> Result<Option<Link>, LinkError> {
        attach_auto(self)
    }
}
