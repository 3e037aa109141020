//! struct_ops: kernel operations structs (`tcp_congestion_ops`,
//! `sched_ext_ops`, ...) implemented by BPF programs.
//!
//! In: a loaded [`Object`](crate::load::Object) whose `.struct_ops` /
//! `.struct_ops.link` variables became BPF_MAP_TYPE_STRUCT_OPS maps
//! ([`StructOpsMap`], the kernel's `struct bpf_struct_ops_<name>` value with
//! each function pointer set to its program's fd). Out: [`StructOps`], a
//! registration with the kernel subsystem; dropping it unregisters.
//!
//! A `.struct_ops` variable registers when its map's value is written
//! (BPF_MAP_UPDATE_ELEM) and unregisters when the value is deleted; such a
//! map registers once in its life. A `.struct_ops.link` variable (map flag
//! BPF_F_LINK, Linux 6.4 and later) registers through a BPF link
//! (BPF_LINK_CREATE, attach type BPF_STRUCT_OPS) and unregisters when the
//! link closes; it can register again afterwards.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let obj = bpf2rs::load::OpenObject::open_file("my_cc.bpf.o")?.load()?;
//! let ops = obj.struct_ops("my_cc").unwrap();
//! let registration = ops.register()?;
//! // ... sockets can now select the congestion control by its name ...
//! drop(registration); // unregistered
//! # Ok(()) }
//! ```

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::link::{Link, LinkError};
use crate::map::Map;
use crate::obj::AttachType;
use crate::sys::{self, MapFd, SysError};
use crate::Pod;

/// BPF_F_LINK: the struct_ops map registers through a link.
pub(crate) const BPF_F_LINK: u32 = 1 << 13;

/// A struct_ops variable before load: its initial value (the object's
/// struct, laid out as in the object's BTF) and whether to create it.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut open = bpf2rs::load::OpenObject::open_file("my_cc.bpf.o")?;
/// // Leave the variable out (its programs are not loaded unless another
/// // variable uses them):
/// open.struct_ops_mut("my_cc_link").unwrap().set_autocreate(false);
/// let obj = open.load()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StructOpsSettings {
    /// Create the struct_ops map at load (true by default).
    pub autocreate: bool,
    value: crate::AlignedBytes,
}

impl StructOpsSettings {
    pub(crate) fn new(initial: &[u8]) -> StructOpsSettings {
        StructOpsSettings {
            autocreate: true,
            value: crate::AlignedBytes::new(initial),
        }
    }

    /// Whether to create the map at load.
    pub fn set_autocreate(&mut self, autocreate: bool) {
        self.autocreate = autocreate;
    }

    /// The variable's value in the object's layout (function pointers are
    /// zero: the loader fills them with the programs' fds).
    pub fn value(&self) -> &[u8] {
        self.value.as_slice()
    }

    /// The value, writable until load. The loader copies it member by
    /// member, by name, into the kernel's struct; pointer members are
    /// ignored except the function pointers the object binds to programs.
    pub fn value_mut(&mut self) -> &mut [u8] {
        self.value.as_mut_slice()
    }
}

/// A typed struct_ops variable in an open skeleton: the value (the
/// object's struct type, e.g. `types::tcp_congestion_ops`) and whether to
/// create it.
///
/// ```no_run
/// # #[derive(Clone, Copy)] #[repr(C)] struct tcp_congestion_ops { name: [u8; 16], flags: u32, pad: u32 }
/// # unsafe impl bpf2rs::Pod for tcp_congestion_ops {}
/// # fn f(ops: &mut bpf2rs::struct_ops::OpenStructOps<tcp_congestion_ops>) {
/// // e.g. `open.struct_ops.my_cc` of a skeleton:
/// ops.value.name = bpf2rs::ctypes::c_str_array("my_cc_v2").unwrap();
/// ops.value.flags = 0;
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OpenStructOps<T> {
    /// The value, copied into the kernel's struct by member name at load.
    pub value: T,
    /// Create the struct_ops map at load (true by default).
    pub autocreate: bool,
}

impl<T: Pod> OpenStructOps<T> {
    /// Wraps an initial value; created at load.
    pub fn new(value: T) -> OpenStructOps<T> {
        OpenStructOps {
            value,
            autocreate: true,
        }
    }

    /// Whether to create the map at load.
    pub fn set_autocreate(&mut self, autocreate: bool) {
        self.autocreate = autocreate;
    }
}

/// A struct_ops map created by the loader, ready to register.
#[derive(Debug)]
pub struct StructOpsMap {
    object: String,
    name: String,
    type_name: String,
    link: bool,
    map: Map,
    /// `struct bpf_struct_ops_<type>` with the programs' fds in place.
    value: Vec<u8>,
    /// Duplicates of the programs' fds that `value` names: they stay open
    /// as long as this map handle, whatever happens to the programs.
    _programs: Vec<OwnedFd>,
}

impl StructOpsMap {
    pub(crate) fn new(
        object: String,
        type_name: String,
        link: bool,
        map: Map,
        value: Vec<u8>,
        programs: Vec<OwnedFd>,
    ) -> StructOpsMap {
        StructOpsMap {
            object,
            name: map.name().to_owned(),
            type_name,
            link,
            map,
            value,
            _programs: programs,
        }
    }

    /// The variable's (and map's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel struct it implements, e.g. `tcp_congestion_ops`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// Whether it registers through a link (`.struct_ops.link`).
    pub fn is_link(&self) -> bool {
        self.link
    }

    /// The BPF_MAP_TYPE_STRUCT_OPS map.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// The value written to the map: the kernel's `struct
    /// bpf_struct_ops_<type>` with the object's members in its `data`
    /// member and the programs' fds in the function pointers.
    pub fn kernel_value(&self) -> &[u8] {
        &self.value
    }

    /// Registers the ops with the kernel (e.g. makes a TCP congestion
    /// control selectable by name). Dropping the returned [`StructOps`]
    /// unregisters it.
    ///
    /// A `.struct_ops` map registers once: after unregistering it the
    /// kernel refuses it (EBUSY). A `.struct_ops.link` map can register
    /// again after the previous link is dropped.
    ///
    /// ```no_run
    /// # fn f(obj: &bpf2rs::load::Object) -> Result<(), bpf2rs::link::LinkError> {
    /// let registration = obj.struct_ops("my_cc").unwrap().register()?;
    /// # Ok(()) }
    /// ```
    pub fn register(&self) -> Result<StructOps, LinkError> {
        let key = 0u32.to_ne_bytes();
        let updated = self
            .map
            .map_fd()
            .update(&key, &self.value, 0)
            .map_err(|source| self.err("register (BPF_MAP_UPDATE_ELEM)", source));
        match updated {
            Ok(()) => {}
            // A link map's value, once written, stays (the kernel never
            // changes it): a second registration only needs a new link.
            Err(e) if self.link && e.errno() == Some(libc::EBUSY) => {}
            Err(e) => return Err(e),
        }
        let what = format!("struct_ops map {} ({})", self.name, self.type_name);
        if self.link {
            // BPF_LINK_CREATE takes the map fd in prog_fd's place (the two
            // share a union in `link_create`; include/uapi/linux/bpf.h).
            let fd = sys::attach::link_create(&sys::attach::LinkCreate {
                prog_fd: self.map.map_fd().fd(),
                target: 0,
                attach_type: AttachType::STRUCT_OPS.0,
                flags: 0,
                extra: sys::attach::LinkExtra::None,
            })
            .map_err(|source| self.err("register (BPF_LINK_CREATE)", source))?;
            return Ok(StructOps {
                inner: Some(Registered::Link(Link::new(fd, what))),
            });
        }
        let dup = self.map.map_fd().fd().try_clone_to_owned().map_err(|e| {
            self.err(
                "register (dup of the map fd)",
                SysError {
                    op: "dup",
                    source: e,
                },
            )
        })?;
        Ok(StructOps {
            inner: Some(Registered::Map {
                map: MapFd::new(dup, 4, self.value.len()),
                what,
            }),
        })
    }

    fn err(&self, op: &'static str, source: SysError) -> LinkError {
        LinkError::StructOps {
            object: self.object.clone(),
            map: self.name.clone(),
            type_name: self.type_name.clone(),
            op,
            source,
        }
    }
}

impl AsFd for StructOpsMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.map.map_fd().fd()
    }
}

/// A registered struct_ops map. Dropping it unregisters the ops (closes
/// the link, or deletes the map's value); sockets or tasks that still use
/// them keep them until they let go, as with a kernel module's.
#[derive(Debug)]
pub struct StructOps {
    inner: Option<Registered>,
}

#[derive(Debug)]
enum Registered {
    Link(Link),
    Map { map: MapFd, what: String },
}

impl StructOps {
    /// The link of a `.struct_ops.link` registration (pin it to keep the
    /// ops registered after this process exits).
    pub fn link(&self) -> Option<&Link> {
        match &self.inner {
            Some(Registered::Link(l)) => Some(l),
            _ => None,
        }
    }

    /// Unregisters now, reporting a failure that dropping would ignore.
    pub fn unregister(mut self) -> Result<(), LinkError> {
        match self.inner.take() {
            Some(Registered::Map { map, what }) => map
                .delete(&0u32.to_ne_bytes())
                .map(|_| ())
                .map_err(|source| LinkError::Link {
                    what,
                    op: "unregister (BPF_MAP_DELETE_ELEM)",
                    source,
                }),
            Some(Registered::Link(l)) => {
                drop(l);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Drop for StructOps {
    fn drop(&mut self) {
        if let Some(Registered::Map { map, .. }) = self.inner.take() {
            // Nothing to report to: unregister() is the checked way.
            let _ = map.delete(&0u32.to_ne_bytes());
        }
    }
}
