//! Raw bpf(2): the only place in the runtime that makes the syscall.
//!
//! In: attrs built from checked Rust values. Out: owned fds and
//! [`SysError`]s that keep the command and the errno. Every function that
//! lets the kernel read or write user memory checks the buffer sizes against
//! what the kernel will touch first, so all of them are safe to call.

pub mod attach;
mod attr;
mod btf_obj;
pub mod events;
pub mod netlink;
pub mod perf_event;

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use attr::*;
pub use attr::{MapInfoRaw, ProgInfoRaw};
pub use btf_obj::{btf_fd_by_id, btf_next_id, btf_object, BtfObject};

/// A failed bpf(2) command.
#[derive(Debug, thiserror::Error)]
#[error("{op}: {source}")]
pub struct SysError {
    /// The command, e.g. `BPF_MAP_CREATE`.
    pub op: &'static str,
    #[source]
    pub source: io::Error,
}

impl SysError {
    /// The errno, if the kernel returned one (also when it came with the
    /// kernel's own message, [`netlink::KernelMessage`]).
    pub fn errno(&self) -> Option<i32> {
        self.source.raw_os_error().or_else(|| {
            self.source
                .get_ref()
                .and_then(|e| e.downcast_ref::<netlink::KernelMessage>())
                .map(|k| k.errno)
        })
    }

    fn last(op: &'static str) -> SysError {
        SysError {
            op,
            source: io::Error::last_os_error(),
        }
    }

    fn invalid(op: &'static str, message: String) -> SysError {
        SysError {
            op,
            source: io::Error::new(io::ErrorKind::InvalidInput, message),
        }
    }
}

/// Result of this module's calls.
pub type Result<T> = std::result::Result<T, SysError>;

/// `enum bpf_cmd` values used by this module and `link` (include/uapi/linux/bpf.h).
#[repr(u32)]
#[derive(Clone, Copy)]
enum Cmd {
    MapCreate = 0,
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    MapGetNextKey = 4,
    ProgLoad = 5,
    ObjPin = 6,
    ObjGet = 7,
    ProgTestRun = 10,
    ProgGetFdById = 13,
    MapGetFdById = 14,
    ObjGetInfoByFd = 15,
    RawTracepointOpen = 17,
    BtfLoad = 18,
    MapLookupAndDeleteElem = 21,
    MapFreeze = 22,
    MapLookupBatch = 24,
    MapLookupAndDeleteBatch = 25,
    MapUpdateBatch = 26,
    MapDeleteBatch = 27,
    LinkCreate = 28,
    LinkUpdate = 29,
    LinkGetFdById = 30,
    IterCreate = 33,
    BtfGetFdById = 19,
    BtfGetNextId = 23,
    LinkDetach = 34,
}

/// bpf(2) with an attr struct. Returns the syscall's non-negative result.
fn bpf<A>(cmd: Cmd, attr: &mut A) -> std::result::Result<i64, ()> {
    // SAFETY: `attr` is a live, initialised #[repr(C)] attr of the layout
    // the command expects, and we pass its exact size. Pointers inside it
    // were checked by the caller against what the kernel will access and
    // point to buffers the caller keeps alive for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr as *mut A as *mut libc::c_void,
            std::mem::size_of::<A>() as libc::c_long,
        )
    };
    if r < 0 {
        Err(())
    } else {
        Ok(r as i64)
    }
}

fn fd_result(op: &'static str, r: std::result::Result<i64, ()>) -> Result<OwnedFd> {
    match r {
        // SAFETY: the kernel returned a new fd that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }),
        Err(()) => Err(SysError::last(op)),
    }
}

fn ptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// An object name as the kernel takes it: at most 15 bytes and a NUL, from
/// `[A-Za-z0-9_.]` (other bytes are dropped).
pub fn obj_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let mut n = 0;
    for b in name.bytes() {
        if n == 15 {
            break;
        }
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            out[n] = b;
            n += 1;
        }
    }
    out
}

/// Everything BPF_MAP_CREATE takes.
#[derive(Clone, Debug, Default)]
pub struct MapCreate<'a> {
    pub name: &'a str,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: Option<BorrowedFd<'a>>,
    pub numa_node: u32,
    pub map_ifindex: u32,
    pub btf_fd: Option<BorrowedFd<'a>>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// BPF_MAP_CREATE.
pub fn map_create(m: &MapCreate<'_>) -> Result<OwnedFd> {
    let mut a = MapCreateAttr {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        map_flags: m.map_flags,
        inner_map_fd: m.inner_map_fd.map(|f| f.as_raw_fd() as u32).unwrap_or(0),
        numa_node: m.numa_node,
        map_name: obj_name(m.name),
        map_ifindex: m.map_ifindex,
        btf_fd: m.btf_fd.map(|f| f.as_raw_fd() as u32).unwrap_or(0),
        btf_key_type_id: m.btf_key_type_id,
        btf_value_type_id: m.btf_value_type_id,
        btf_vmlinux_value_type_id: m.btf_vmlinux_value_type_id,
        map_extra: m.map_extra,
    };
    fd_result("BPF_MAP_CREATE", bpf(Cmd::MapCreate, &mut a))
}

/// An open map with the sizes the kernel will read and write per element,
/// so element operations can check caller buffers.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    key_size: usize,
    /// Bytes of one value as user space sees it (per-CPU maps: one slot,
    /// rounded to 8, per possible CPU).
    value_size: usize,
}

impl MapFd {
    /// Wraps `fd` of a map whose key is `key_size` bytes and whose value
    /// buffer is `value_size` bytes (see [`MapFd::value_size`]).
    pub fn new(fd: OwnedFd, key_size: usize, value_size: usize) -> MapFd {
        MapFd {
            fd,
            key_size,
            value_size,
        }
    }

    /// Wraps `fd`, taking the sizes from the kernel's map info.
    pub fn from_fd(fd: OwnedFd) -> Result<(MapFd, MapInfoRaw)> {
        let info = map_info(fd.as_fd_ref())?;
        let slot = if is_per_cpu(info.map_type) {
            (info.value_size as usize).next_multiple_of(8)
                * possible_cpus().map_err(|e| SysError {
                    op: "reading /sys/devices/system/cpu/possible",
                    source: e,
                })?
        } else {
            info.value_size as usize
        };
        Ok((MapFd::new(fd, info.key_size as usize, slot), info))
    }

    pub fn key_size(&self) -> usize {
        self.key_size
    }

    pub fn value_size(&self) -> usize {
        self.value_size
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd_ref()
    }

    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    fn check(&self, op: &'static str, key: Option<usize>, value: Option<usize>) -> Result<()> {
        if let Some(k) = key {
            if k < self.key_size {
                return Err(SysError::invalid(
                    op,
                    format!(
                        "key buffer is {k} bytes, the map's key is {}",
                        self.key_size
                    ),
                ));
            }
        }
        if let Some(v) = value {
            if v < self.value_size {
                return Err(SysError::invalid(
                    op,
                    format!(
                        "value buffer is {v} bytes, the map's value is {}",
                        self.value_size
                    ),
                ));
            }
        }
        Ok(())
    }

    fn elem(&self, cmd: Cmd, key: u64, value: u64, flags: u64) -> std::result::Result<i64, ()> {
        let mut a = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            _pad: 0,
            key,
            value,
            flags,
        };
        bpf(cmd, &mut a)
    }

    /// BPF_MAP_LOOKUP_ELEM into `value`. `Ok(false)` when the key is absent.
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<bool> {
        const OP: &str = "BPF_MAP_LOOKUP_ELEM";
        self.check(OP, Some(key.len()), Some(value.len()))?;
        match self.elem(
            Cmd::MapLookupElem,
            ptr(key.as_ptr()),
            ptr(value.as_mut_ptr()),
            flags,
        ) {
            Ok(_) => Ok(true),
            Err(()) => absent(OP),
        }
    }

    /// BPF_MAP_LOOKUP_ELEM for maps without keys (queue, stack peek).
    pub fn peek(&self, value: &mut [u8]) -> Result<bool> {
        const OP: &str = "BPF_MAP_LOOKUP_ELEM";
        self.check(OP, None, Some(value.len()))?;
        match self.elem(Cmd::MapLookupElem, 0, ptr(value.as_mut_ptr()), 0) {
            Ok(_) => Ok(true),
            Err(()) => absent(OP),
        }
    }

    /// BPF_MAP_UPDATE_ELEM. With no key (queue, stack, bloom filter) pass
    /// an empty `key`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        const OP: &str = "BPF_MAP_UPDATE_ELEM";
        self.check(OP, Some(key.len()), Some(value.len()))?;
        let k = if self.key_size == 0 {
            0
        } else {
            ptr(key.as_ptr())
        };
        self.elem(Cmd::MapUpdateElem, k, ptr(value.as_ptr()), flags)
            .map(|_| ())
            .map_err(|()| SysError::last(OP))
    }

    /// BPF_MAP_DELETE_ELEM. `Ok(false)` when the key was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        const OP: &str = "BPF_MAP_DELETE_ELEM";
        self.check(OP, Some(key.len()), None)?;
        match self.elem(Cmd::MapDeleteElem, ptr(key.as_ptr()), 0, 0) {
            Ok(_) => Ok(true),
            Err(()) => absent(OP),
        }
    }

    /// BPF_MAP_LOOKUP_AND_DELETE_ELEM (queue/stack pop with an empty key).
    pub fn lookup_and_delete(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<bool> {
        const OP: &str = "BPF_MAP_LOOKUP_AND_DELETE_ELEM";
        self.check(OP, Some(key.len()), Some(value.len()))?;
        let k = if self.key_size == 0 {
            0
        } else {
            ptr(key.as_ptr())
        };
        match self.elem(
            Cmd::MapLookupAndDeleteElem,
            k,
            ptr(value.as_mut_ptr()),
            flags,
        ) {
            Ok(_) => Ok(true),
            Err(()) => absent(OP),
        }
    }

    /// BPF_MAP_GET_NEXT_KEY: the key after `key` (the first with `None`)
    /// into `next`. `Ok(false)` at the end.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        const OP: &str = "BPF_MAP_GET_NEXT_KEY";
        self.check(OP, key.map(|k| k.len()), None)?;
        self.check(OP, Some(next.len()), None)?;
        let k = key.map(|k| ptr(k.as_ptr())).unwrap_or(0);
        match self.elem(Cmd::MapGetNextKey, k, ptr(next.as_mut_ptr()), 0) {
            Ok(_) => Ok(true),
            Err(()) => absent(OP),
        }
    }

    /// BPF_MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH): up to `count`
    /// elements after `in_batch` into `keys`/`values`; returns how many and
    /// whether the map is exhausted. `out_batch` receives the cursor.
    #[allow(clippy::too_many_arguments)] // reason: mirrors the kernel's attr; one caller per map family
    pub fn lookup_batch(
        &self,
        delete: bool,
        in_batch: Option<&[u8]>,
        out_batch: &mut [u8],
        keys: &mut [u8],
        values: &mut [u8],
        count: u32,
        elem_flags: u64,
    ) -> Result<(u32, bool)> {
        let op = if delete {
            "BPF_MAP_LOOKUP_AND_DELETE_BATCH"
        } else {
            "BPF_MAP_LOOKUP_BATCH"
        };
        let n = count as usize;
        if keys.len() < n * self.key_size || values.len() < n * self.value_size {
            return Err(SysError::invalid(
                op,
                format!("buffers too small for {count} elements"),
            ));
        }
        // The batch cursor of hash maps is a bucket index (4 bytes); arrays use the key.
        let cursor_len = self.key_size.max(4);
        if out_batch.len() < cursor_len || in_batch.is_some_and(|b| b.len() < cursor_len) {
            return Err(SysError::invalid(
                op,
                format!("batch cursor needs {cursor_len} bytes"),
            ));
        }
        let mut a = MapBatchAttr {
            in_batch: in_batch.map(|b| ptr(b.as_ptr())).unwrap_or(0),
            out_batch: ptr(out_batch.as_mut_ptr()),
            keys: ptr(keys.as_mut_ptr()),
            values: ptr(values.as_mut_ptr()),
            count,
            map_fd: self.fd.as_raw_fd() as u32,
            elem_flags,
            flags: 0,
        };
        let cmd = if delete {
            Cmd::MapLookupAndDeleteBatch
        } else {
            Cmd::MapLookupBatch
        };
        match bpf(cmd, &mut a) {
            Ok(_) => Ok((a.count, false)),
            Err(()) => {
                let e = SysError::last(op);
                if e.errno() == Some(libc::ENOENT) {
                    Ok((a.count, true))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// BPF_MAP_UPDATE_BATCH of `count` elements; returns how many were written.
    pub fn update_batch(
        &self,
        keys: &[u8],
        values: &[u8],
        count: u32,
        elem_flags: u64,
    ) -> Result<u32> {
        const OP: &str = "BPF_MAP_UPDATE_BATCH";
        let n = count as usize;
        if keys.len() < n * self.key_size || values.len() < n * self.value_size {
            return Err(SysError::invalid(
                OP,
                format!("buffers too small for {count} elements"),
            ));
        }
        let mut a = MapBatchAttr {
            keys: ptr(keys.as_ptr()),
            values: ptr(values.as_ptr()),
            count,
            map_fd: self.fd.as_raw_fd() as u32,
            elem_flags,
            ..Default::default()
        };
        bpf(Cmd::MapUpdateBatch, &mut a)
            .map(|_| a.count)
            .map_err(|()| SysError::last(OP))
    }

    /// BPF_MAP_DELETE_BATCH of `count` keys; returns how many were deleted.
    pub fn delete_batch(&self, keys: &[u8], count: u32) -> Result<u32> {
        const OP: &str = "BPF_MAP_DELETE_BATCH";
        if keys.len() < count as usize * self.key_size {
            return Err(SysError::invalid(
                OP,
                format!("key buffer too small for {count} keys"),
            ));
        }
        let mut a = MapBatchAttr {
            keys: ptr(keys.as_ptr()),
            count,
            map_fd: self.fd.as_raw_fd() as u32,
            ..Default::default()
        };
        bpf(Cmd::MapDeleteBatch, &mut a)
            .map(|_| a.count)
            .map_err(|()| SysError::last(OP))
    }
}

fn absent(op: &'static str) -> Result<bool> {
    let e = SysError::last(op);
    if e.errno() == Some(libc::ENOENT) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// BPF_MAP_FREEZE.
pub fn map_freeze(fd: BorrowedFd<'_>) -> Result<()> {
    let mut a = FdAttr {
        fd: fd.as_raw_fd() as u32,
    };
    bpf(Cmd::MapFreeze, &mut a)
        .map(|_| ())
        .map_err(|()| SysError::last("BPF_MAP_FREEZE"))
}

/// BPF_OBJ_PIN.
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr) -> Result<()> {
    let mut a = ObjAttr {
        pathname: ptr(path.as_ptr()),
        bpf_fd: fd.as_raw_fd() as u32,
        file_flags: 0,
    };
    bpf(Cmd::ObjPin, &mut a)
        .map(|_| ())
        .map_err(|()| SysError::last("BPF_OBJ_PIN"))
}

/// BPF_OBJ_GET.
pub fn obj_get(path: &CStr) -> Result<OwnedFd> {
    let mut a = ObjAttr {
        pathname: ptr(path.as_ptr()),
        ..Default::default()
    };
    fd_result("BPF_OBJ_GET", bpf(Cmd::ObjGet, &mut a))
}

/// BPF_MAP_GET_FD_BY_ID.
pub fn map_fd_by_id(id: u32) -> Result<OwnedFd> {
    let mut a = IdAttr {
        id,
        ..Default::default()
    };
    fd_result("BPF_MAP_GET_FD_BY_ID", bpf(Cmd::MapGetFdById, &mut a))
}

/// BPF_PROG_GET_FD_BY_ID.
pub fn prog_fd_by_id(id: u32) -> Result<OwnedFd> {
    let mut a = IdAttr {
        id,
        ..Default::default()
    };
    fd_result("BPF_PROG_GET_FD_BY_ID", bpf(Cmd::ProgGetFdById, &mut a))
}

fn info<T: Default>(fd: BorrowedFd<'_>) -> Result<T> {
    let mut info = T::default();
    let mut a = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: std::mem::size_of::<T>() as u32,
        info: ptr(&mut info as *mut T),
    };
    bpf(Cmd::ObjGetInfoByFd, &mut a).map_err(|()| SysError::last("BPF_OBJ_GET_INFO_BY_FD"))?;
    Ok(info)
}

/// BPF_OBJ_GET_INFO_BY_FD for a map.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfoRaw> {
    info(fd)
}

/// BPF_OBJ_GET_INFO_BY_FD for a program.
pub fn prog_info(fd: BorrowedFd<'_>) -> Result<ProgInfoRaw> {
    info(fd)
}

/// Everything BPF_PROG_LOAD takes.
#[derive(Debug, Default)]
pub struct ProgLoad<'a> {
    pub name: &'a str,
    pub prog_type: u32,
    pub expected_attach_type: u32,
    /// Instructions in this machine's byte order, 8 bytes each.
    pub insns: &'a [u8],
    pub license: &'a CStr,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// `bpf_func_info` records (8 bytes each).
    pub func_info: &'a [u8],
    /// `bpf_line_info` records (16 bytes each).
    pub line_info: &'a [u8],
    pub attach_btf_id: u32,
    pub attach_fd: Option<BorrowedFd<'a>>,
    pub log_level: u32,
    /// The device a device-bound (offloaded or XDP dev-bound) program is for.
    pub prog_ifindex: u32,
}

/// BPF_PROG_LOAD. `log` receives the verifier log (when `log_level` > 0 or
/// on failure with a retry by the caller).
pub fn prog_load(p: &ProgLoad<'_>, log: &mut [u8]) -> Result<OwnedFd> {
    const OP: &str = "BPF_PROG_LOAD";
    if !p.insns.len().is_multiple_of(8)
        || !p.func_info.len().is_multiple_of(8)
        || !p.line_info.len().is_multiple_of(16)
    {
        return Err(SysError::invalid(
            OP,
            "instruction or BTF.ext buffers are not whole records".into(),
        ));
    }
    let log_size = u32::try_from(log.len()).unwrap_or(u32::MAX);
    let mut a = ProgLoadAttr {
        prog_type: p.prog_type,
        insn_cnt: (p.insns.len() / 8) as u32,
        insns: ptr(p.insns.as_ptr()),
        license: ptr(p.license.as_ptr()),
        log_level: if log.is_empty() { 0 } else { p.log_level },
        log_size: if p.log_level == 0 { 0 } else { log_size },
        log_buf: if p.log_level == 0 || log.is_empty() {
            0
        } else {
            ptr(log.as_mut_ptr())
        },
        kern_version: p.kern_version,
        prog_flags: p.prog_flags,
        prog_name: obj_name(p.name),
        expected_attach_type: p.expected_attach_type,
        prog_btf_fd: p.prog_btf_fd.map(|f| f.as_raw_fd() as u32).unwrap_or(0),
        attach_btf_id: p.attach_btf_id,
        attach_fd: p.attach_fd.map(|f| f.as_raw_fd() as u32).unwrap_or(0),
        prog_ifindex: p.prog_ifindex,
        ..Default::default()
    };
    if p.prog_btf_fd.is_some() && !p.func_info.is_empty() {
        a.func_info_rec_size = 8;
        a.func_info = ptr(p.func_info.as_ptr());
        a.func_info_cnt = (p.func_info.len() / 8) as u32;
    }
    if p.prog_btf_fd.is_some() && !p.line_info.is_empty() {
        a.line_info_rec_size = 16;
        a.line_info = ptr(p.line_info.as_ptr());
        a.line_info_cnt = (p.line_info.len() / 16) as u32;
    }
    fd_result(OP, bpf(Cmd::ProgLoad, &mut a))
}

/// BPF_BTF_LOAD. `log` receives the kernel's BTF verifier log when non-empty.
pub fn btf_load(btf: &[u8], log: &mut [u8]) -> Result<OwnedFd> {
    let mut a = BtfLoadAttr {
        btf: ptr(btf.as_ptr()),
        btf_size: u32::try_from(btf.len()).unwrap_or(u32::MAX),
        btf_log_buf: if log.is_empty() {
            0
        } else {
            ptr(log.as_mut_ptr())
        },
        btf_log_size: u32::try_from(log.len()).unwrap_or(u32::MAX),
        btf_log_level: u32::from(!log.is_empty()),
        btf_log_true_size: 0,
    };
    fd_result("BPF_BTF_LOAD", bpf(Cmd::BtfLoad, &mut a))
}

/// What BPF_PROG_TEST_RUN reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRunOut {
    pub retval: u32,
    /// Mean nanoseconds per repetition.
    pub duration_ns: u32,
    pub data_size_out: u32,
    pub ctx_size_out: u32,
}

/// Inputs of BPF_PROG_TEST_RUN.
#[derive(Debug, Default)]
pub struct TestRun<'a> {
    pub data_in: &'a [u8],
    pub data_out: Option<&'a mut [u8]>,
    pub ctx_in: &'a [u8],
    pub ctx_out: Option<&'a mut [u8]>,
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
}

/// BPF_PROG_TEST_RUN.
pub fn prog_test_run(prog: BorrowedFd<'_>, t: &mut TestRun<'_>) -> Result<TestRunOut> {
    let (data_out, data_out_len) = match t.data_out.as_deref_mut() {
        Some(b) => (ptr(b.as_mut_ptr()), b.len() as u32),
        None => (0, 0),
    };
    let (ctx_out, ctx_out_len) = match t.ctx_out.as_deref_mut() {
        Some(b) => (ptr(b.as_mut_ptr()), b.len() as u32),
        None => (0, 0),
    };
    let mut a = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: t.data_in.len() as u32,
        data_size_out: data_out_len,
        data_in: if t.data_in.is_empty() {
            0
        } else {
            ptr(t.data_in.as_ptr())
        },
        data_out,
        repeat: t.repeat,
        ctx_size_in: t.ctx_in.len() as u32,
        ctx_size_out: ctx_out_len,
        ctx_in: if t.ctx_in.is_empty() {
            0
        } else {
            ptr(t.ctx_in.as_ptr())
        },
        ctx_out,
        flags: t.flags,
        cpu: t.cpu,
        ..Default::default()
    };
    bpf(Cmd::ProgTestRun, &mut a).map_err(|()| SysError::last("BPF_PROG_TEST_RUN"))?;
    Ok(TestRunOut {
        retval: a.retval,
        duration_ns: a.duration,
        data_size_out: a.data_size_out,
        ctx_size_out: a.ctx_size_out,
    })
}

/// Whether a map type stores one value per possible CPU.
pub fn is_per_cpu(map_type: u32) -> bool {
    matches!(map_type, 5 | 6 | 10 | 21)
}

/// Number of possible CPUs, from /sys/devices/system/cpu/possible (a list
/// such as `0-3,5`); per-CPU values have one slot for each. Read once.
pub fn possible_cpus() -> io::Result<usize> {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    if let Some(&n) = CPUS.get() {
        return Ok(n);
    }
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    let n = parse_cpu_list(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse cpu list {text:?}"),
        )
    })?;
    Ok(*CPUS.get_or_init(|| n))
}

/// Highest CPU number in a kernel cpu list, plus one.
pub fn parse_cpu_list(text: &str) -> Option<usize> {
    let mut max = None;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let last = match part.split_once('-') {
            Some((_, hi)) => hi.trim().parse::<usize>().ok()?,
            None => part.trim().parse::<usize>().ok()?,
        };
        max = Some(max.map_or(last, |m: usize| m.max(last)));
    }
    max.map(|m| m + 1)
}

trait AsFdRef {
    fn as_fd_ref(&self) -> BorrowedFd<'_>;
}

impl AsFdRef for OwnedFd {
    fn as_fd_ref(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0,2-3,7"), Some(8));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("x"), None);
        assert_eq!(parse_cpu_list(""), None);
    }

    #[test]
    fn names_are_cut_and_filtered() {
        assert_eq!(
            &obj_name("a-very_long.name.beyond")[..],
            b"avery_long.name\0"
        );
        assert_eq!(&obj_name("x")[..2], b"x\0");
    }
}
