//! BTF objects already in the kernel: by id, the next id, and their raw
//! bytes and name (BPF_BTF_GET_FD_BY_ID, BPF_BTF_GET_NEXT_ID and
//! BPF_OBJ_GET_INFO_BY_FD on a BTF fd).
//!
//! In: ids and fds. Out: fds, and a [`BtfObject`] with the raw BTF.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::attr::{BtfInfoRaw, IdAttr, InfoAttr};
use super::{bpf, fd_result, ptr, Cmd, Result, SysError};

/// BPF_BTF_GET_FD_BY_ID.
pub fn btf_fd_by_id(id: u32) -> Result<OwnedFd> {
    let mut a = IdAttr {
        id,
        ..Default::default()
    };
    fd_result("BPF_BTF_GET_FD_BY_ID", bpf(Cmd::BtfGetFdById, &mut a))
}

/// BPF_BTF_GET_NEXT_ID: the id after `id` (0 for the first), `None` at the end.
pub fn btf_next_id(id: u32) -> Result<Option<u32>> {
    let mut a = IdAttr {
        id,
        ..Default::default()
    };
    match bpf(Cmd::BtfGetNextId, &mut a) {
        Ok(_) => Ok(Some(a.next_id)),
        Err(()) => {
            let e = SysError::last("BPF_BTF_GET_NEXT_ID");
            if e.errno() == Some(libc::ENOENT) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// A BTF object as the kernel describes it.
#[derive(Clone, Debug)]
pub struct BtfObject {
    pub id: u32,
    /// `vmlinux`, a module's name, or empty for a program's BTF.
    pub name: String,
    /// Whether it is the kernel's or a module's BTF.
    pub kernel_btf: bool,
    /// The raw BTF (for a module: split BTF on top of vmlinux); empty
    /// unless asked for.
    pub bytes: Vec<u8>,
}

fn btf_info_into(fd: BorrowedFd<'_>, info: &mut BtfInfoRaw) -> Result<()> {
    let mut a = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: std::mem::size_of::<BtfInfoRaw>() as u32,
        info: ptr(info as *mut BtfInfoRaw),
    };
    bpf(Cmd::ObjGetInfoByFd, &mut a).map_err(|()| SysError::last("BPF_OBJ_GET_INFO_BY_FD"))?;
    Ok(())
}

/// BPF_OBJ_GET_INFO_BY_FD on a BTF fd: its id and name, and with
/// `with_bytes` its raw BTF.
pub fn btf_object(fd: BorrowedFd<'_>, with_bytes: bool) -> Result<BtfObject> {
    let mut name = [0u8; 64];
    let mut info = BtfInfoRaw {
        name: ptr(name.as_mut_ptr()),
        name_len: name.len() as u32,
        ..Default::default()
    };
    btf_info_into(fd, &mut info)?;
    let mut bytes = Vec::new();
    if with_bytes && info.btf_size > 0 {
        bytes = vec![0u8; info.btf_size as usize];
        info = BtfInfoRaw {
            btf: ptr(bytes.as_mut_ptr()),
            btf_size: info.btf_size,
            name: ptr(name.as_mut_ptr()),
            name_len: name.len() as u32,
            ..Default::default()
        };
        btf_info_into(fd, &mut info)?;
        bytes.truncate(info.btf_size as usize);
    }
    Ok(BtfObject {
        id: info.id,
        name: crate::ctypes::c_str_lossy(&name).into_owned(),
        kernel_btf: info.kernel_btf != 0,
        bytes,
    })
}
