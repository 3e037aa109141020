//! Compiled BPF objects (ELF from clang or gcc) read into an [`ObjectSpec`].
//!
//! In: the bytes of a `.bpf.o`. Out: its maps (BTF-style `.maps` and legacy
//! `maps`), global data (`.data`, `.rodata`, `.bss` and their `.*` variants),
//! externs (`.kconfig`, `.ksyms`, and unresolved ones the loader refuses),
//! programs with their instructions and relocations, license and version,
//! the object's BTF (with DATASEC sizes and offsets filled in from the ELF
//! symbols) and `.BTF.ext`. Nothing here talks to the kernel. An object
//! that reads may still not load: unresolved externs are kept for display.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = bpf2rs_reader::obj::ObjectSpec::from_file("maps.bpf.o")?;
//! let icmpcnt = spec.map("icmpcnt").unwrap();
//! assert_eq!(icmpcnt.value_size, 12);
//! # Ok(()) }
//! ```

mod data;
mod elf;
mod error;
mod kinds;
mod maps;
mod programs;
mod section;
mod struct_ops;

use std::path::Path;
use std::sync::Arc;

use crate::btf::ext::{BtfExt, CoreRelo, FuncInfo, LineInfo};
use crate::btf::{Btf, TypeId};

pub use error::ObjError;
pub use kinds::{AttachType, MapType, ProgType};
pub use programs::{Insn, RelocTarget, Relocation, INSN_SIZE};
pub use section::{section_def, AttachKind, SectionDef};
pub use struct_ops::{StructOpsSlot, StructOpsSpec};

/// Everything a compiled BPF object declares.
#[derive(Clone, Debug)]
pub struct ObjectSpec {
    /// The object's name: its file name without `.bpf.o` / `.o`.
    pub name: String,
    /// Contents of the `license` section.
    pub license: Option<String>,
    /// Contents of the `version` section (for old kprobe programs).
    pub kern_version: Option<u32>,
    /// The object's BTF, with DATASEC sizes and offsets fixed.
    pub btf: Option<Arc<Btf>>,
    /// `.BTF.ext`: func info, line info, CO-RE relocations.
    pub btf_ext: Option<BtfExt>,
    /// Maps from `.maps` and `maps`, in section offset order.
    pub maps: Vec<MapSpec>,
    /// Global data sections (each becomes an array map when loaded).
    pub data: Vec<DataSection>,
    /// Externs: `.kconfig` and `.ksyms` ones, and those that are neither
    /// ([`ExternKind::Unresolved`]: readable, but refused by the loader).
    pub externs: Vec<Extern>,
    /// Entry points: functions in program sections.
    pub programs: Vec<ProgramSpec>,
    /// Functions in `.text`, called from programs (bpf-to-bpf calls).
    pub subprograms: Vec<ProgramSpec>,
    /// `.struct_ops` / `.struct_ops.link` variables (kernel ops structs
    /// implemented by programs).
    pub struct_ops: Vec<StructOpsSpec>,
}

impl ObjectSpec {
    /// Reads an object file. The object's name is the file name without
    /// `.bpf.o` (or `.o`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<ObjectSpec, ObjError> {
        let path = path.as_ref();
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ObjError::Io {
            object: display.clone(),
            message: format!("reading: {e}"),
        })?;
        let name = object_name(path);
        ObjectSpec::parse_named(&bytes, &name, &display)
    }

    /// Reads an object from memory under `name` (used in every message).
    pub fn parse(bytes: &[u8], name: &str) -> Result<ObjectSpec, ObjError> {
        ObjectSpec::parse_named(bytes, name, name)
    }

    fn parse_named(bytes: &[u8], name: &str, display: &str) -> Result<ObjectSpec, ObjError> {
        // The ELF reader reads headers in place and needs 8-byte alignment;
        // `include_bytes!` data has none, so copy such input once.
        if !(bytes.as_ptr() as usize).is_multiple_of(8) {
            let aligned = crate::AlignedBytes::new(bytes);
            return ObjectSpec::parse_aligned(aligned.as_slice(), name, display);
        }
        ObjectSpec::parse_aligned(bytes, name, display)
    }

    fn parse_aligned(bytes: &[u8], name: &str, display: &str) -> Result<ObjectSpec, ObjError> {
        let cx = error::Ctx { object: display };
        let file = elf::Elf::parse(bytes, cx)?;
        let (btf, btf_ext) = file.btf()?;
        let mut btf = btf;
        let maps = maps::read_maps(&file, btf.as_ref())?;
        let (data, externs) = data::read_data(&file, btf.as_mut())?;
        let (programs, subprograms) =
            programs::read_programs(&file, btf_ext.as_ref(), &maps, &data, &externs)?;
        let struct_ops = struct_ops::read_struct_ops(&file, btf.as_ref())?;
        Ok(ObjectSpec {
            name: name.to_owned(),
            license: file.license()?,
            kern_version: file.kern_version()?,
            btf: btf.map(Arc::new),
            btf_ext,
            maps,
            data,
            externs,
            programs,
            subprograms,
            struct_ops,
        })
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&MapSpec> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The global data section named `name` (`.rodata`, `.data.custom`).
    pub fn data_section(&self, name: &str) -> Option<&DataSection> {
        self.data.iter().find(|d| d.name == name)
    }

    /// Why each extern the loader cannot resolve is refused
    /// ([`Extern::unresolved_reason`]); empty when every extern is
    /// `__kconfig` or `__ksym`.
    pub fn unresolved_externs(&self) -> Vec<String> {
        self.externs
            .iter()
            .filter_map(Extern::unresolved_reason)
            .collect()
    }
}

fn object_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for suffix in [".bpf.o", ".o"] {
        if let Some(stem) = file.strip_suffix(suffix) {
            return stem.to_owned();
        }
    }
    file
}

/// Where a map definition came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapOrigin {
    /// A BTF-described definition in `.maps`.
    Btf,
    /// A `struct bpf_map_def`-style definition in `maps` (sizes only).
    Legacy,
}

/// `pinning` of a map definition.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Pinning {
    #[default]
    None,
    /// LIBBPF_PIN_BY_NAME: pinned under a root directory by the map's name.
    ByName,
    /// Another value (iproute2's object/global namespaces); kept as written.
    Other(u32),
}

impl Pinning {
    pub(crate) fn from_u32(v: u32) -> Pinning {
        match v {
            0 => Pinning::None,
            1 => Pinning::ByName,
            n => Pinning::Other(n),
        }
    }

    /// Short name for displays: `none`, `by_name`, or the number.
    pub fn as_string(self) -> String {
        match self {
            Pinning::None => "none".into(),
            Pinning::ByName => "by_name".into(),
            Pinning::Other(n) => n.to_string(),
        }
    }
}

/// One map definition.
#[derive(Clone, Debug, PartialEq)]
pub struct MapSpec {
    pub name: String,
    pub origin: MapOrigin,
    pub map_type: MapType,
    pub key_size: u32,
    pub value_size: u32,
    /// 0 where the kernel or loader picks (a perf event array without
    /// max_entries gets one slot per possible CPU).
    pub max_entries: u32,
    pub map_flags: u32,
    pub numa_node: u32,
    pub map_extra: u64,
    pub pinning: Pinning,
    /// BTF type of the key (`__type(key, T)`), if given.
    pub key_type: Option<TypeId>,
    /// BTF type of the value (`__type(value, T)`), if given.
    pub value_type: Option<TypeId>,
    /// The inner map template of a map-in-map (`__array(values, struct {..})`).
    pub inner: Option<Box<MapSpec>>,
    /// Static contents: map-in-map and prog-array slots set in the source.
    pub values: Vec<MapSlot>,
    /// Byte offset of the definition in its ELF section.
    pub section_offset: u64,
}

/// One statically initialised slot of a map-in-map or prog array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapSlot {
    pub index: u32,
    pub target: SlotTarget,
}

/// What a static slot holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotTarget {
    /// Another map of the object, by name.
    Map(String),
    /// A program of the object, by name.
    Program(String),
}

impl SlotTarget {
    /// The name of the map or program.
    pub fn name(&self) -> &str {
        match self {
            SlotTarget::Map(n) | SlotTarget::Program(n) => n,
        }
    }
}

/// Kind of a global data section.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DataKind {
    /// `.data`, `.data.*`: initialised, writable.
    Data,
    /// `.rodata`, `.rodata.*`: initialised, frozen after load.
    Rodata,
    /// `.bss`: zero-initialised.
    Bss,
}

/// A global data section and its variables.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSection {
    /// ELF section name (`.rodata`, `.data.custom`).
    pub name: String,
    pub kind: DataKind,
    pub size: u32,
    /// Initial contents (all zero for `.bss`).
    pub bytes: Vec<u8>,
    /// The section's DATASEC in the object's BTF.
    pub btf_type: Option<TypeId>,
    /// Variables, sorted by offset.
    pub vars: Vec<GlobalVar>,
}

/// A global variable.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalVar {
    pub name: String,
    /// The variable's BTF type (not the VAR itself).
    pub btf_type: Option<TypeId>,
    pub offset: u32,
    pub size: u32,
    /// Whether the symbol is global (visible to user space by name).
    pub global: bool,
}

/// Which extern section an extern belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExternKind {
    /// `__kconfig`: a kernel config value or LINUX_KERNEL_VERSION.
    Kconfig,
    /// `__ksym`: a kernel variable or kfunc.
    Ksym,
    /// Neither: a function declared and called but not defined (`int
    /// fwd(void);`), or an `extern` variable without `__kconfig` / `__ksym`.
    /// Only a static linker step could resolve it; the object reads (for
    /// `cargo bpf2rs inspect`) but does not load
    /// ([`Extern::unresolved_reason`] says why).
    Unresolved,
}

/// An extern declared by the program.
#[derive(Clone, Debug, PartialEq)]
pub struct Extern {
    pub name: String,
    pub kind: ExternKind,
    /// The BTF VAR's type, or the FUNC for a kfunc.
    pub btf_type: Option<TypeId>,
    /// A kfunc (a FUNC in `.ksyms`) rather than a variable.
    pub is_func: bool,
    /// `__weak`: resolves to zero when missing instead of failing the load.
    pub weak: bool,
}

impl Extern {
    /// Why the loader refuses this extern, for an [`ExternKind::Unresolved`]
    /// one (`None` for `__kconfig` and `__ksym` externs), e.g. `extern
    /// function fwd is not defined in the object (a static linker step, or a
    /// kfunc declared __ksym, is needed)`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let spec = bpf2rs_reader::obj::ObjectSpec::from_file("fwd.bpf.o")?;
    /// for why in spec.externs.iter().filter_map(|e| e.unresolved_reason()) {
    ///     eprintln!("cannot load: {why}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn unresolved_reason(&self) -> Option<String> {
        if self.kind != ExternKind::Unresolved {
            return None;
        }
        let what = if self.is_func { "function" } else { "variable" };
        let name = &self.name;
        Some(match (self.btf_type, self.is_func) {
            // No FUNC or VAR in the object's BTF (no BTF at all, or a
            // symbol only inline asm refers to): nothing says which
            // section the extern belongs to.
            (None, _) => format!(
                "extern {what} {name} has no BTF description, so it is neither __kconfig nor \
                 __ksym (compile with clang -g, or link the object first)"
            ),
            (Some(_), true) => format!(
                "extern function {name} is not defined in the object \
                 (a static linker step, or a kfunc declared __ksym, is needed)"
            ),
            (Some(_), false) => format!(
                "extern variable {name} is neither __kconfig nor __ksym \
                 (a static linker step, or a declaration with __kconfig or __ksym, is needed)"
            ),
        })
    }
}

/// One program (or `.text` subprogram).
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramSpec {
    pub name: String,
    /// ELF section name, e.g. `kprobe/do_unlinkat`.
    pub section: String,
    /// What the section name says; `None` when no convention matches.
    pub def: Option<SectionDef>,
    /// Offset of the first instruction in its section, in instructions.
    pub section_insn_offset: usize,
    pub insns: Vec<Insn>,
    /// Relocations, indexed by instruction within this program.
    pub relocations: Vec<Relocation>,
    /// `.BTF.ext` records of this program; `insn_off` is rebased to an
    /// instruction index from the program's first instruction.
    pub func_info: Vec<FuncInfo>,
    pub line_info: Vec<LineInfo>,
    pub core_relos: Vec<CoreRelo>,
    /// Whether the symbol is global.
    pub global: bool,
    /// Whether a global symbol has hidden (or internal) visibility, as
    /// `__hidden` functions of headers like `<bpf/usdt.bpf.h>` do. The
    /// loader marks such functions static in the BTF it loads, as libbpf
    /// does, so the verifier checks them with their callers' context.
    pub hidden: bool,
}

impl ProgramSpec {
    /// The program type (UNSPEC when the section is not recognised).
    pub fn prog_type(&self) -> ProgType {
        self.def
            .as_ref()
            .map(|d| d.prog_type)
            .unwrap_or(ProgType::UNSPEC)
    }

    /// The expected attach type the section implies.
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.def.as_ref().and_then(|d| d.expected_attach_type)
    }
}
