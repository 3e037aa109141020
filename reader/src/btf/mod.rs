//! BTF: reading the type information of objects and kernels.
//!
//! In: raw BTF bytes (an object's `.BTF` section, `/sys/kernel/btf/vmlinux`,
//! or module BTF split on top of vmlinux). Out: [`Btf`], an arena of
//! [`Type`]s indexed by [`TypeId`], with checked names and bounded-depth walks.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let vmlinux = bpf2rs_reader::btf::Btf::from_sys_fs()?;
//! let id = vmlinux.find_by_name("task_struct", bpf2rs_reader::btf::Kind::Struct)?;
//! println!("task_struct is {} bytes", vmlinux.size_of(id)?);
//! # Ok(()) }
//! ```

mod check;
mod decode;
mod downgrade;
mod error;
pub mod ext;

mod resolve;
mod sanitize;
mod table;
#[doc(hidden)]
pub mod testing;
mod types;
pub(crate) mod wire;
mod writer;

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub use downgrade::BtfSupport;
pub use error::BtfError;
pub use resolve::{MemberBits, MAX_DEPTH};
pub use types::*;
pub use wire::Endian;

use table::TypeTable;

/// A parsed BTF blob: types and names, optionally on top of a base (split BTF).
///
/// Parsing checks every record and keeps the raw bytes; a type is decoded
/// into a [`Type`] the first time it is asked for (with its neighbours, a
/// few dozen ids at a time) and kept from then on.
#[derive(Clone)]
pub struct Btf {
    base: Option<Arc<Btf>>,
    /// Id of own type 0: 0 for standalone BTF, the base's count for split BTF.
    start_id: u32,
    /// The type and string sections (and, read from a file, the rest of it).
    bytes: Arc<Vec<u8>>,
    type_sec: Range<usize>,
    string_sec: Range<usize>,
    types: TypeTable,
    /// Length of the base's string section (0 without a base).
    str_base: u32,
    /// Whether all strings, the base's included, are ASCII.
    ascii: bool,
    endian: Endian,
}

impl Btf {
    /// Reads standalone BTF (an object's `.BTF` section or vmlinux).
    ///
    /// ```no_run
    /// let raw = std::fs::read("/sys/kernel/btf/vmlinux").unwrap();
    /// let btf = bpf2rs_reader::btf::Btf::parse(&raw).unwrap();
    /// assert!(btf.len() > 1);
    /// ```
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        Btf::parse_copied(data, None)
    }

    /// Checks `data` while it keeps a copy of its type and string sections.
    fn parse_copied(data: &[u8], base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let start_id = base.as_ref().map_or(0, |b| b.len());
        let (parsed, bytes) = wire::parse_copy(data, start_id, base.as_deref())?;
        Ok(Btf::new(base, parsed, bytes))
    }

    /// [`Btf::parse`] keeping `data` instead of copying from it.
    fn parse_owned(data: Vec<u8>, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        let parsed = wire::parse(&data, base.as_ref().map_or(0, |b| b.len()), base.as_deref())?;
        Ok(Btf::new(base, parsed, data))
    }

    fn new(base: Option<Arc<Btf>>, parsed: wire::Parsed, bytes: Vec<u8>) -> Btf {
        Btf {
            start_id: base.as_ref().map_or(0, |b| b.len()),
            str_base: base.as_ref().map_or(0, |b| b.strings_len()),
            types: TypeTable::new(parsed.index, base.is_none()),
            base,
            bytes: Arc::new(bytes),
            type_sec: parsed.types,
            string_sec: parsed.strings,
            ascii: parsed.ascii,
            endian: parsed.endian,
        }
    }

    /// Reads split BTF (a kernel module's) on top of `base` (vmlinux).
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Arc::new(Btf::from_sys_fs()?);
    /// let raw = std::fs::read("/sys/kernel/btf/nf_tables")?;
    /// let module = Btf::parse_split(&raw, vmlinux.clone())?;
    /// assert_eq!(module.first_own_id().0, vmlinux.len());
    /// # Ok(()) }
    /// ```
    pub fn parse_split(data: &[u8], base: Arc<Btf>) -> Result<Btf, BtfError> {
        Btf::parse_copied(data, Some(base))
    }

    /// Reads a raw BTF file.
    ///
    /// ```no_run
    /// let btf = bpf2rs_reader::btf::Btf::from_file("/sys/kernel/btf/vmlinux").unwrap();
    /// println!("{} types", btf.len());
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Btf, BtfError> {
        Btf::from_path(path.as_ref(), None)
    }

    /// Reads a raw split BTF file on top of `base`.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use bpf2rs_reader::btf::Btf;
    /// let vmlinux = Arc::new(Btf::from_sys_fs().unwrap());
    /// let module = Btf::from_file_split("/sys/kernel/btf/nf_tables", vmlinux).unwrap();
    /// println!("{} module types", module.iter().count());
    /// ```
    pub fn from_file_split(path: impl AsRef<Path>, base: Arc<Btf>) -> Result<Btf, BtfError> {
        Btf::from_path(path.as_ref(), Some(base))
    }

    fn from_path(path: &Path, base: Option<Arc<Btf>>) -> Result<Btf, BtfError> {
        // Kernel BTF comes through sysfs 4 KiB per read(2); mapping it
        // (vmlinux, Linux 6.16 on) skips those copies. Anything else, or a
        // kernel that refuses, is read.
        if path.starts_with("/sys/kernel/btf") {
            if let Ok(map) = crate::sys::Mapping::kernel_btf(path) {
                return match base {
                    Some(base) => Btf::parse_split(map.bytes(), base),
                    None => Btf::parse(map.bytes()),
                };
            }
        }
        Btf::parse_owned(read(path)?, base)
    }

    /// The running kernel's BTF, `/sys/kernel/btf/vmlinux`.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// println!("{} types", vmlinux.len());
    /// # Ok(()) }
    /// ```
    pub fn from_sys_fs() -> Result<Btf, BtfError> {
        Btf::from_file("/sys/kernel/btf/vmlinux")
    }

    /// A loaded module's BTF, `/sys/kernel/btf/<module>`, split on `vmlinux`.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Arc::new(Btf::from_sys_fs()?);
    /// let module = Btf::from_sys_fs_module("nf_tables", vmlinux)?;
    /// let id = module.find_by_name("nft_table", Kind::Struct)?;
    /// # Ok(()) }
    /// ```
    pub fn from_sys_fs_module(module: &str, vmlinux: Arc<Btf>) -> Result<Btf, BtfError> {
        Btf::from_file_split(Path::new("/sys/kernel/btf").join(module), vmlinux)
    }

    /// Number of type ids, including void and the base's types: valid ids are `0..len()`.
    pub fn len(&self) -> u32 {
        self.start_id + self.types.len() as u32
    }

    /// The raw type section the table decodes from.
    fn type_sec(&self) -> &[u8] {
        self.bytes.get(self.type_sec.clone()).unwrap_or_default()
    }

    /// This blob's own string section.
    pub(crate) fn own_strings(&self) -> &[u8] {
        self.bytes.get(self.string_sec.clone()).unwrap_or_default()
    }

    /// Whether there is no type besides void.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// The first id this blob defines (1 for standalone BTF).
    pub fn first_own_id(&self) -> TypeId {
        TypeId(self.start_id.max(1))
    }

    /// The base of split BTF.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// Byte order of the blob.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Total length of the string space (base and own).
    pub fn strings_len(&self) -> u32 {
        self.str_base + self.string_sec.len() as u32
    }

    /// The type with id `id`.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("task_struct", Kind::Struct)?;
    /// if let Type::Struct(s) = vmlinux.type_by_id(id)? {
    ///     println!("{} members", s.members.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn type_by_id(&self, id: TypeId) -> Result<&Type, BtfError> {
        if id.0 < self.start_id {
            return match &self.base {
                Some(base) => base.type_by_id(id),
                None => Err(self.no_such(id)),
            };
        }
        self.types
            .get(
                (id.0 - self.start_id) as usize,
                self.type_sec(),
                self.endian,
            )
            .ok_or_else(|| self.no_such(id))
    }

    fn no_such(&self, id: TypeId) -> BtfError {
        BtfError::NoSuchType {
            id,
            count: self.len(),
        }
    }

    /// Resolves a name. Offsets were checked when the BTF was read; an offset
    /// from another BTF resolves to the empty string, never a panic.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("task_struct", Kind::Struct)?;
    /// assert_eq!(vmlinux.name(vmlinux.type_by_id(id)?.name()), "task_struct");
    /// # Ok(()) }
    /// ```
    pub fn name(&self, name: Name) -> &str {
        if name.0 < self.str_base {
            return match &self.base {
                Some(base) => base.name(name),
                None => "",
            };
        }
        let start = (name.0 - self.str_base) as usize;
        let Some(rest) = self.own_strings().get(start..) else {
            return "";
        };
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// Whether all strings, the base's included, are ASCII.
    pub(crate) fn strings_ascii(&self) -> bool {
        self.ascii
    }

    /// Whether a (checked) name offset starts a character, not continues one.
    pub(crate) fn name_starts_char(&self, name: Name) -> bool {
        match name.0.checked_sub(self.str_base) {
            Some(own) => self
                .own_strings()
                .get(own as usize)
                .is_none_or(|&b| !wire::is_utf8_continuation(b)),
            None => self.base.as_ref().is_none_or(|b| b.name_starts_char(name)),
        }
    }

    /// Own types with their ids: for standalone BTF from void (id 0) on,
    /// for split BTF from `first_own_id()` on (not the base's).
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let structs = vmlinux.iter().filter(|(_, t)| t.kind() == Kind::Struct).count();
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (TypeId, &Type)> + '_ {
        self.types
            .iter(self.type_sec(), self.endian)
            .map(move |(i, t)| (TypeId(self.start_id + i as u32), t))
    }

    /// The first type of `kind` named `name` (own types first, then the base).
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use bpf2rs_reader::btf::{Btf, Kind, Type};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let vmlinux = Btf::from_sys_fs()?;
    /// let id = vmlinux.find_by_name("sk_buff", Kind::Struct)?;
    /// # Ok(()) }
    /// ```
    pub fn find_by_name(&self, name: &str, kind: Kind) -> Result<TypeId, BtfError> {
        for (id, ty) in self.iter() {
            if ty.kind() == kind && self.name(ty.name()) == name {
                return Ok(id);
            }
        }
        match &self.base {
            Some(base) => base.find_by_name(name, kind),
            None => Err(BtfError::NotFound {
                name: name.to_owned(),
            }),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, BtfError> {
    std::fs::read(path).map_err(|e| BtfError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

impl Btf {
    /// Replaces an own type (ids of the base are left alone).
    pub(crate) fn set_type(&mut self, id: TypeId, ty: Type) {
        if let Some(slot) = self.type_mut(id) {
            *slot = ty;
        }
    }

    /// Appends a type and returns its id.
    pub(crate) fn push_type(&mut self, ty: Type) -> TypeId {
        self.types.push(ty);
        TypeId(self.len() - 1)
    }

    /// Replaces a DATASEC's size and variables. The object reader uses it to
    /// fill in what clang leaves zero in `.o` files (sizes and offsets that
    /// are only known from the ELF symbols).
    pub(crate) fn fix_datasec(&mut self, id: TypeId, byte_size: u32, vars: Vec<VarSecinfo>) {
        if let Some(Type::Datasec(d)) = self.type_mut(id) {
            d.byte_size = byte_size;
            d.vars = vars.into();
        }
    }

    fn type_mut(&mut self, id: TypeId) -> Option<&mut Type> {
        let own = id.0.checked_sub(self.start_id)? as usize;
        let sec = self.bytes.get(self.type_sec.clone()).unwrap_or_default();
        self.types.get_mut(own, sec, self.endian)
    }
}

/// Types are shown decoded, strings by their length.
impl fmt::Debug for Btf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Types<'a>(&'a Btf);
        impl fmt::Debug for Types<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|(_, t)| t))
                    .finish()
            }
        }
        f.debug_struct("Btf")
            .field("base", &self.base)
            .field("start_id", &self.start_id)
            .field("types", &Types(self))
            .field("strings_len", &self.string_sec.len())
            .field("endian", &self.endian)
            .finish()
    }
}
