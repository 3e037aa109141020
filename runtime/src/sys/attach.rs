//! bpf(2) commands of links and attachment: BPF_LINK_CREATE,
//! BPF_RAW_TRACEPOINT_OPEN, BPF_ITER_CREATE, BPF_LINK_DETACH,
//! BPF_LINK_GET_FD_BY_ID, link info, and `setsockopt(SO_ATTACH_BPF)` for
//! socket filters.
//!
//! In: fds and checked values. Out: owned link fds and [`SysError`]s.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::{bpf, fd_result, ptr, Cmd, Result, SysError};

/// `link_create` of `union bpf_attr`: four u32s, then a per-attach-type
/// union (target_btf_id, iter_info, perf_event, kprobe_multi, tcx...) that
/// is filled by byte offset from the start of the attr.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct LinkCreateAttr {
    prog_fd: u32,
    /// `target_fd` or `target_ifindex`.
    target: u32,
    attach_type: u32,
    flags: u32,
    tail: [u8; 48],
}

impl LinkCreateAttr {
    fn set_u32(&mut self, offset: usize, v: u32) {
        self.tail[offset - 16..offset - 12].copy_from_slice(&v.to_ne_bytes());
    }
    fn set_u64(&mut self, offset: usize, v: u64) {
        self.tail[offset - 16..offset - 8].copy_from_slice(&v.to_ne_bytes());
    }
}

const _: () = assert!(std::mem::size_of::<LinkCreateAttr>() == 64);

/// The per-attach-type part of BPF_LINK_CREATE.
#[derive(Debug, Clone, Copy, Default)]
pub enum LinkExtra<'a> {
    #[default]
    None,
    /// fentry/fexit/lsm when re-targeting: `target_btf_id` (offset 16).
    TargetBtfId(u32),
    /// BPF_TRACE_ITER: `iter_info` pointer and length (offsets 16, 24).
    Iter(&'a [u8]),
    /// BPF_PERF_EVENT: `perf_event.bpf_cookie` (offset 16).
    PerfEvent { cookie: u64 },
    /// BPF_TRACE_KPROBE_MULTI: flags, cnt, syms (array of C string
    /// pointers), cookies (offsets 16, 20, 24, 40).
    KprobeMulti {
        flags: u32,
        syms: &'a [u64],
        cookies: Option<&'a [u64]>,
    },
    /// tcx/netkit: relative fd or id and expected revision (offsets 16, 24).
    Tcx {
        relative: u32,
        expected_revision: u64,
    },
    /// BPF_TRACE_UPROBE_MULTI: path, offsets, ref_ctr_offsets, cookies,
    /// cnt, flags, pid (offsets 16, 24, 32, 40, 48, 52, 56).
    UprobeMulti {
        path: &'a CStr,
        offsets: &'a [u64],
        ref_ctr_offsets: Option<&'a [u64]>,
        cookies: Option<&'a [u64]>,
        flags: u32,
        pid: u32,
    },
}

/// Everything BPF_LINK_CREATE takes.
#[derive(Debug)]
pub struct LinkCreate<'a> {
    pub prog_fd: BorrowedFd<'a>,
    /// An fd (cgroup, perf event, ...) or an ifindex (XDP, tcx); 0 for none.
    pub target: u32,
    pub attach_type: u32,
    pub flags: u32,
    pub extra: LinkExtra<'a>,
}

/// BPF_LINK_CREATE.
pub fn link_create(l: &LinkCreate<'_>) -> Result<OwnedFd> {
    const OP: &str = "BPF_LINK_CREATE";
    let mut a = LinkCreateAttr {
        prog_fd: l.prog_fd.as_raw_fd() as u32,
        target: l.target,
        attach_type: l.attach_type,
        flags: l.flags,
        tail: [0; 48],
    };
    match l.extra {
        LinkExtra::None => {}
        LinkExtra::TargetBtfId(id) => a.set_u32(16, id),
        LinkExtra::Iter(info) => {
            let len = u32::try_from(info.len())
                .map_err(|_| SysError::invalid(OP, "iter_info too long".into()))?;
            a.set_u64(16, ptr(info.as_ptr()));
            a.set_u32(24, len);
        }
        LinkExtra::PerfEvent { cookie } => a.set_u64(16, cookie),
        LinkExtra::KprobeMulti {
            flags,
            syms,
            cookies,
        } => {
            if cookies.is_some_and(|c| c.len() != syms.len()) {
                return Err(SysError::invalid(
                    OP,
                    "kprobe_multi: one cookie per symbol needed".into(),
                ));
            }
            let cnt = u32::try_from(syms.len())
                .map_err(|_| SysError::invalid(OP, "too many kprobe_multi symbols".into()))?;
            a.set_u32(16, flags);
            a.set_u32(20, cnt);
            a.set_u64(24, ptr(syms.as_ptr()));
            if let Some(c) = cookies {
                a.set_u64(40, ptr(c.as_ptr()));
            }
        }
        LinkExtra::Tcx {
            relative,
            expected_revision,
        } => {
            a.set_u32(16, relative);
            a.set_u64(24, expected_revision);
        }
        LinkExtra::UprobeMulti {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            flags,
            pid,
        } => {
            let n = offsets.len();
            if ref_ctr_offsets.is_some_and(|r| r.len() != n)
                || cookies.is_some_and(|c| c.len() != n)
            {
                return Err(SysError::invalid(
                    OP,
                    "uprobe_multi: ref_ctr_offsets and cookies need one entry per offset".into(),
                ));
            }
            let cnt = u32::try_from(n)
                .map_err(|_| SysError::invalid(OP, "too many uprobe_multi offsets".into()))?;
            a.set_u64(16, ptr(path.as_ptr()));
            a.set_u64(24, ptr(offsets.as_ptr()));
            if let Some(r) = ref_ctr_offsets {
                a.set_u64(32, ptr(r.as_ptr()));
            }
            if let Some(c) = cookies {
                a.set_u64(40, ptr(c.as_ptr()));
            }
            a.set_u32(48, cnt);
            a.set_u32(52, flags);
            a.set_u32(56, pid);
        }
    }
    fd_result(OP, bpf(Cmd::LinkCreate, &mut a))
}

/// `raw_tracepoint` of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct RawTracepointAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
    cookie: u64,
}

/// BPF_RAW_TRACEPOINT_OPEN of `name` (None: a tracing program's own BTF target).
pub fn raw_tracepoint_open(prog_fd: BorrowedFd<'_>, name: Option<&CStr>) -> Result<OwnedFd> {
    let mut a = RawTracepointAttr {
        name: name.map(|n| ptr(n.as_ptr())).unwrap_or(0),
        prog_fd: prog_fd.as_raw_fd() as u32,
        ..Default::default()
    };
    fd_result(
        "BPF_RAW_TRACEPOINT_OPEN",
        bpf(Cmd::RawTracepointOpen, &mut a),
    )
}

/// `iter_create` of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct IterCreateAttr {
    link_fd: u32,
    flags: u32,
}

/// BPF_ITER_CREATE: a readable fd that runs the iterator program of `link`.
pub fn iter_create(link: BorrowedFd<'_>) -> Result<OwnedFd> {
    let mut a = IterCreateAttr {
        link_fd: link.as_raw_fd() as u32,
        flags: 0,
    };
    fd_result("BPF_ITER_CREATE", bpf(Cmd::IterCreate, &mut a))
}

/// `link_detach` of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct LinkDetachAttr {
    link_fd: u32,
}

/// BPF_LINK_DETACH: detaches the link even when it is pinned or shared;
/// the fd stays open but dead.
pub fn link_detach(link: BorrowedFd<'_>) -> Result<()> {
    let mut a = LinkDetachAttr {
        link_fd: link.as_raw_fd() as u32,
    };
    bpf(Cmd::LinkDetach, &mut a)
        .map(|_| ())
        .map_err(|()| SysError::last("BPF_LINK_DETACH"))
}

/// BPF_LINK_GET_FD_BY_ID: a new fd of the link with kernel id `id`
/// (ENOENT once the link is gone).
pub fn link_fd_by_id(id: u32) -> Result<OwnedFd> {
    let mut a = super::attr::IdAttr {
        id,
        ..Default::default()
    };
    fd_result("BPF_LINK_GET_FD_BY_ID", bpf(Cmd::LinkGetFdById, &mut a))
}

/// `link_update` of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct LinkUpdateAttr {
    link_fd: u32,
    new_prog_fd: u32,
    flags: u32,
    old_prog_fd: u32,
}

/// BPF_LINK_UPDATE: replaces the link's program with `new_prog`.
pub fn link_update(link: BorrowedFd<'_>, new_prog: BorrowedFd<'_>) -> Result<()> {
    let mut a = LinkUpdateAttr {
        link_fd: link.as_raw_fd() as u32,
        new_prog_fd: new_prog.as_raw_fd() as u32,
        ..Default::default()
    };
    bpf(Cmd::LinkUpdate, &mut a)
        .map(|_| ())
        .map_err(|()| SysError::last("BPF_LINK_UPDATE"))
}

/// The common prefix of `struct bpf_link_info`.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct LinkInfoRaw {
    /// `enum bpf_link_type`.
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad: u32,
}

#[repr(C)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// BPF_OBJ_GET_INFO_BY_FD for a link.
pub fn link_info(link: BorrowedFd<'_>) -> Result<LinkInfoRaw> {
    let mut info = LinkInfoRaw::default();
    let mut a = InfoAttr {
        bpf_fd: link.as_raw_fd() as u32,
        info_len: std::mem::size_of::<LinkInfoRaw>() as u32,
        info: ptr(&mut info as *mut LinkInfoRaw),
    };
    bpf(Cmd::ObjGetInfoByFd, &mut a).map_err(|()| SysError::last("BPF_OBJ_GET_INFO_BY_FD"))?;
    Ok(info)
}

/// `SO_ATTACH_BPF` / `SO_DETACH_BPF` (asm-generic/socket.h).
const SO_ATTACH_BPF: libc::c_int = 50;
const SO_DETACH_BPF: libc::c_int = 27;

/// `setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd)`.
pub fn socket_attach_bpf(sock: BorrowedFd<'_>, prog_fd: BorrowedFd<'_>) -> Result<()> {
    let fd: libc::c_int = prog_fd.as_raw_fd();
    // SAFETY: the option value is a live c_int and we pass its size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_ATTACH_BPF,
            &fd as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::last("setsockopt(SO_ATTACH_BPF)"));
    }
    Ok(())
}

/// `setsockopt(sock, SOL_SOCKET, SO_DETACH_BPF)`.
pub fn socket_detach_bpf(sock: BorrowedFd<'_>) -> Result<()> {
    let zero: libc::c_int = 0;
    // SAFETY: as in `socket_attach_bpf`; the kernel ignores the value.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_DETACH_BPF,
            &zero as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(SysError::last("setsockopt(SO_DETACH_BPF)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_create_union_offsets() {
        let mut a = LinkCreateAttr {
            prog_fd: 0,
            target: 0,
            attach_type: 0,
            flags: 0,
            tail: [0; 48],
        };
        a.set_u32(20, 7);
        a.set_u64(40, 9);
        assert_eq!(a.tail[4..8], 7u32.to_ne_bytes());
        assert_eq!(a.tail[24..32], 9u64.to_ne_bytes());
        assert_eq!(std::mem::offset_of!(LinkCreateAttr, tail), 16);
    }
}
