//! The ELF layer: sections, symbols and relocations of a BPF object, read
//! once through the `object` crate into plain owned tables, with every index
//! checked.

use object::{
    Architecture, BinaryFormat, Object, ObjectSection, ObjectSymbol, RelocationFlags,
    RelocationTarget, SectionFlags, SectionIndex, SectionKind, SymbolKind, SymbolSection,
};

use super::error::{Ctx, ObjError};
use crate::btf::ext::BtfExt;
use crate::btf::Btf;

/// SHF_EXECINSTR.
const SHF_EXECINSTR: u64 = 0x4;

#[derive(Clone, Debug)]
pub(crate) struct Section<'a> {
    pub(crate) index: usize,
    pub(crate) name: String,
    pub(crate) executable: bool,
    /// SHT_NOBITS (.bss): no bytes in the file.
    pub(crate) nobits: bool,
    pub(crate) size: u64,
    pub(crate) data: &'a [u8],
}

#[derive(Clone, Debug)]
pub(crate) struct Symbol {
    pub(crate) name: String,
    pub(crate) value: u64,
    pub(crate) size: u64,
    /// Defining section; `None` for undefined (extern), absolute and common.
    pub(crate) section: Option<usize>,
    pub(crate) undefined: bool,
    pub(crate) kind: SymbolKind,
    pub(crate) global: bool,
    pub(crate) weak: bool,
    /// Visibility STV_HIDDEN or STV_INTERNAL (`__hidden`).
    pub(crate) hidden: bool,
}

impl Symbol {
    /// Whether byte `offset` of the symbol's section lies inside the symbol
    /// (a zero-sized symbol covers its first byte). Overflow-safe for any
    /// value and size the file gives.
    pub(crate) fn contains(&self, offset: u64) -> bool {
        offset >= self.value && offset - self.value < self.size.max(1)
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Reloc {
    pub(crate) offset: u64,
    pub(crate) r_type: u32,
    /// Index into `Elf::symbols`.
    pub(crate) symbol: usize,
}

/// R_BPF_64_64: ld_imm64 of a map, global data or function address.
pub(crate) const R_BPF_64_64: u32 = 1;
/// R_BPF_64_ABS64: 64-bit data (static map values in `.maps`).
pub(crate) const R_BPF_64_ABS64: u32 = 2;
/// R_BPF_64_32: call to a function.
pub(crate) const R_BPF_64_32: u32 = 10;

pub(crate) struct Elf<'a> {
    pub(crate) cx: Ctx<'a>,
    pub(crate) little_endian: bool,
    pub(crate) sections: Vec<Section<'a>>,
    pub(crate) symbols: Vec<Symbol>,
    file: object::File<'a>,
}

impl<'a> Elf<'a> {
    pub(crate) fn parse(bytes: &'a [u8], cx: Ctx<'a>) -> Result<Elf<'a>, ObjError> {
        let file = object::File::parse(bytes).map_err(|e| ObjError::NotElf {
            object: cx.object.to_owned(),
            message: e.to_string(),
        })?;
        if file.format() != BinaryFormat::Elf {
            return Err(ObjError::NotElf {
                object: cx.object.to_owned(),
                message: format!("{:?} file", file.format()),
            });
        }
        if file.architecture() != Architecture::Bpf {
            return Err(ObjError::NotBpf {
                object: cx.object.to_owned(),
                message: format!(
                    "ELF machine is {:?}, want BPF (EM_BPF, 247)",
                    file.architecture()
                ),
            });
        }
        let mut sections = Vec::new();
        for s in file.sections() {
            let name = s
                .name()
                .map_err(|e| cx.section(&format!("#{}", s.index().0), e.to_string()))?
                .to_owned();
            let flags = match s.flags() {
                SectionFlags::Elf { sh_flags } => sh_flags,
                _ => 0,
            };
            // SHT_NOBITS: `object` calls it UninitializedTls when SHF_TLS
            // is set too, which BPF has no use for but a file may say.
            let nobits = matches!(
                s.kind(),
                SectionKind::UninitializedData | SectionKind::UninitializedTls
            );
            let data = if nobits {
                &[][..]
            } else {
                s.data().map_err(|e| cx.section(&name, e.to_string()))?
            };
            sections.push(Section {
                index: s.index().0,
                name,
                executable: flags & SHF_EXECINSTR != 0,
                nobits,
                size: s.size(),
                data,
            });
        }
        let mut symbols = Vec::new();
        // Symbol indexes are kept dense (index 0 is the null symbol).
        let max_index = file.symbols().map(|s| s.index().0).max().unwrap_or(0);
        symbols.resize(
            max_index + 1,
            Symbol {
                name: String::new(),
                value: 0,
                size: 0,
                section: None,
                undefined: false,
                kind: SymbolKind::Unknown,
                global: false,
                weak: false,
                hidden: false,
            },
        );
        for s in file.symbols() {
            let mut name = s
                .name()
                .map_err(|e| cx.section(".symtab", format!("symbol {}: {e}", s.index().0)))?
                .to_owned();
            let (section, undefined) = match s.section() {
                SymbolSection::Section(SectionIndex(i)) => (Some(i), false),
                SymbolSection::Undefined => (None, true),
                _ => (None, false),
            };
            // Section symbols (STT_SECTION) have no name of their own; clang
            // relocates calls to static functions against `.text`'s. Name
            // them after their section, as llvm-objdump and libbpf do.
            if s.kind() == SymbolKind::Section && name.is_empty() {
                if let Some(sec) =
                    section.and_then(|i| sections.iter().find(|x: &&Section<'_>| x.index == i))
                {
                    name = sec.name.clone();
                }
            }
            symbols[s.index().0] = Symbol {
                name,
                value: s.address(),
                size: s.size(),
                section,
                undefined,
                kind: s.kind(),
                global: s.is_global(),
                weak: s.is_weak(),
                hidden: matches!(
                    s.flags(),
                    object::SymbolFlags::Elf { st_other, .. }
                        if matches!(st_other & 3, object::elf::STV_HIDDEN | object::elf::STV_INTERNAL)
                ),
            };
        }
        Ok(Elf {
            cx,
            little_endian: file.is_little_endian(),
            sections,
            symbols,
            file,
        })
    }

    pub(crate) fn section_by_name(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.name == name)
    }

    pub(crate) fn section(&self, index: usize) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.index == index)
    }

    /// Symbols defined in a section, sorted by offset.
    pub(crate) fn symbols_in(&self, index: usize) -> Vec<&Symbol> {
        let mut out: Vec<&Symbol> = self
            .symbols
            .iter()
            .filter(|s| {
                s.section == Some(index)
                    && s.kind != SymbolKind::Section
                    && s.kind != SymbolKind::File
            })
            .collect();
        out.sort_by(|a, b| a.value.cmp(&b.value).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The relocations that apply to a section, with symbol indexes checked.
    pub(crate) fn relocations(&self, section: &Section<'_>) -> Result<Vec<Reloc>, ObjError> {
        let s = self
            .file
            .section_by_index(SectionIndex(section.index))
            .map_err(|e| self.cx.section(&section.name, e.to_string()))?;
        let mut out = Vec::new();
        for (i, (offset, rel)) in s.relocations().enumerate() {
            let r_type = match rel.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                _ => 0,
            };
            let symbol = match rel.target() {
                RelocationTarget::Symbol(idx) => idx.0,
                other => {
                    return Err(self.cx.reloc(
                        &section.name,
                        i,
                        format!("target {other:?} is not a symbol"),
                    ))
                }
            };
            if symbol == 0 || symbol >= self.symbols.len() {
                return Err(self.cx.reloc(
                    &section.name,
                    i,
                    format!(
                        "refers to symbol {symbol}, but the symbol table has {} entries",
                        self.symbols.len()
                    ),
                ));
            }
            out.push(Reloc {
                offset,
                r_type,
                symbol,
            });
        }
        Ok(out)
    }

    /// `.BTF` and `.BTF.ext`, if present.
    pub(crate) fn btf(&self) -> Result<(Option<Btf>, Option<BtfExt>), ObjError> {
        let Some(sec) = self.section_by_name(".BTF") else {
            return Ok((None, None));
        };
        let btf = Btf::parse(sec.data).map_err(|e| self.cx.btf(".BTF", e))?;
        btf.check_graph().map_err(|e| self.cx.btf(".BTF", e))?;
        let ext = match self.section_by_name(".BTF.ext") {
            Some(ext) => {
                Some(BtfExt::parse(ext.data, &btf).map_err(|e| self.cx.btf(".BTF.ext", e))?)
            }
            None => None,
        };
        Ok((Some(btf), ext))
    }

    pub(crate) fn license(&self) -> Result<Option<String>, ObjError> {
        let Some(sec) = self.section_by_name("license") else {
            return Ok(None);
        };
        let end = sec
            .data
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(sec.data.len());
        let text = std::str::from_utf8(&sec.data[..end])
            .map_err(|_| self.cx.section("license", "not valid UTF-8"))?;
        Ok(Some(text.to_owned()))
    }

    pub(crate) fn kern_version(&self) -> Result<Option<u32>, ObjError> {
        let Some(sec) = self.section_by_name("version") else {
            return Ok(None);
        };
        let bytes: [u8; 4] = sec
            .data
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                self.cx
                    .section("version", format!("{} bytes, want 4", sec.data.len()))
            })?;
        Ok(Some(self.u32(bytes)))
    }

    pub(crate) fn u32(&self, b: [u8; 4]) -> u32 {
        if self.little_endian {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    }
}
