//! `.BTF.ext`: per-section function info, line info and CO-RE relocation
//! records (Documentation/bpf/btf.rst, "BTF Ext Section").
//!
//! In: the section bytes and the object's [`Btf`] (whose strings the records
//! name). Out: [`BtfExt`], records grouped by ELF section name, offsets in
//! bytes from the start of that section as clang writes them.

use super::wire::{endian_of, Reader, MAGIC};
use super::{Btf, BtfError, Name, TypeId};

/// Parsed `.BTF.ext`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BtfExt {
    pub func_info: Vec<SectionRecords<FuncInfo>>,
    pub line_info: Vec<SectionRecords<LineInfo>>,
    pub core_relos: Vec<SectionRecords<CoreRelo>>,
}

/// The records of one ELF section.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionRecords<T> {
    /// ELF section name, e.g. `xdp` or `.text`.
    pub section: String,
    pub records: Vec<T>,
}

/// `struct bpf_func_info`: which BTF FUNC starts at an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset in the section.
    pub insn_off: u32,
    pub type_id: TypeId,
}

/// `struct bpf_line_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Byte offset in the section.
    pub insn_off: u32,
    pub file_name: Name,
    pub line: Name,
    /// Line number in the upper 22 bits, column in the lower 10.
    pub line_col: u32,
}

impl LineInfo {
    /// Source line number.
    pub fn line_num(&self) -> u32 {
        self.line_col >> 10
    }
    /// Source column.
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

/// `struct bpf_core_relo`: one CO-RE relocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset in the section.
    pub insn_off: u32,
    /// The local (object) type the access string starts from.
    pub type_id: TypeId,
    /// Access string such as `0:1:2`.
    pub access: Name,
    pub kind: CoreReloKind,
}

/// `enum bpf_core_relo_kind`. Unknown values are kept so that an object from
/// a newer compiler still reads; the loader rejects what it cannot apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CoreReloKind(pub u32);

impl CoreReloKind {
    pub const FIELD_BYTE_OFFSET: Self = Self(0);
    pub const FIELD_BYTE_SIZE: Self = Self(1);
    pub const FIELD_EXISTS: Self = Self(2);
    pub const FIELD_SIGNED: Self = Self(3);
    pub const FIELD_LSHIFT_U64: Self = Self(4);
    pub const FIELD_RSHIFT_U64: Self = Self(5);
    pub const TYPE_ID_LOCAL: Self = Self(6);
    pub const TYPE_ID_TARGET: Self = Self(7);
    pub const TYPE_EXISTS: Self = Self(8);
    pub const TYPE_SIZE: Self = Self(9);
    pub const ENUMVAL_EXISTS: Self = Self(10);
    pub const ENUMVAL_VALUE: Self = Self(11);
    pub const TYPE_MATCHES: Self = Self(12);

    /// libbpf's short name for the kind (`byte_off`, `enumval_value`).
    pub fn as_str(self) -> &'static str {
        match self.0 {
            0 => "byte_off",
            1 => "byte_sz",
            2 => "field_exists",
            3 => "signed",
            4 => "lshift_u64",
            5 => "rshift_u64",
            6 => "local_type_id",
            7 => "target_type_id",
            8 => "type_exists",
            9 => "type_size",
            10 => "enumval_exists",
            11 => "enumval_value",
            12 => "type_matches",
            _ => "unknown",
        }
    }
}

const MIN_HEADER: usize = 24;

impl BtfExt {
    /// Reads `.BTF.ext`. Names are checked against `btf`'s strings.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (btf_section, ext_section): (Vec<u8>, Vec<u8>) = (vec![], vec![]);
    /// use bpf2rs_reader::btf::{ext::BtfExt, Btf};
    /// let btf = Btf::parse(&btf_section)?;
    /// let ext = BtfExt::parse(&ext_section, &btf)?;
    /// for sec in &ext.core_relos {
    ///     println!("{}: {} CO-RE relocations", sec.section, sec.records.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        let err = |m: String| BtfError::Ext(m);
        if data.len() < MIN_HEADER {
            return Err(err(format!(
                "header needs {MIN_HEADER} bytes, section has {}",
                data.len()
            )));
        }
        let endian = endian_of(data, MAGIC).ok_or_else(|| err("bad magic".into()))?;
        if data[2] != 1 {
            return Err(err(format!("unsupported version {}", data[2])));
        }
        let r = Reader { data, endian };
        let hdr_len = r.u32(4, "btf.ext header")? as usize;
        if hdr_len < MIN_HEADER || hdr_len > data.len() {
            return Err(err(format!("header length {hdr_len} out of range")));
        }
        let body = r.slice(hdr_len, data.len() - hdr_len, "btf.ext body")?;
        let sub = |off_at: usize| -> Result<Option<Reader<'_>>, BtfError> {
            let off = r.u32(off_at, "btf.ext header")? as usize;
            let len = r.u32(off_at + 4, "btf.ext header")? as usize;
            if len == 0 {
                return Ok(None);
            }
            body.slice(off, len, "btf.ext subsection").map(Some)
        };
        let mut ext = BtfExt::default();
        let strings = btf.strings_len();
        let name = |off: u32, what: &str| -> Result<Name, BtfError> {
            if off >= strings {
                return Err(err(format!(
                    "{what} name offset {off} past the string section ({strings} bytes)"
                )));
            }
            Ok(Name(off))
        };
        if let Some(sec) = sub(8)? {
            ext.func_info = read_records(sec, btf, "func_info", 8, |r, o| {
                Ok(FuncInfo {
                    insn_off: r.u32(o, "func_info")?,
                    type_id: TypeId(r.u32(o + 4, "func_info")?),
                })
            })?;
        }
        if let Some(sec) = sub(16)? {
            ext.line_info = read_records(sec, btf, "line_info", 16, |r, o| {
                Ok(LineInfo {
                    insn_off: r.u32(o, "line_info")?,
                    file_name: name(r.u32(o + 4, "line_info")?, "line_info file")?,
                    line: name(r.u32(o + 8, "line_info")?, "line_info line")?,
                    line_col: r.u32(o + 12, "line_info")?,
                })
            })?;
        }
        if hdr_len >= 32 {
            if let Some(sec) = sub(24)? {
                ext.core_relos = read_records(sec, btf, "core_relo", 16, |r, o| {
                    Ok(CoreRelo {
                        insn_off: r.u32(o, "core_relo")?,
                        type_id: TypeId(r.u32(o + 4, "core_relo")?),
                        access: name(r.u32(o + 8, "core_relo")?, "core_relo access")?,
                        kind: CoreReloKind(r.u32(o + 12, "core_relo")?),
                    })
                })?;
            }
        }
        Ok(ext)
    }
}

/// Reads one info subsection: a record size, then per ELF section its name,
/// a count and that many records.
fn read_records<T>(
    sec: Reader<'_>,
    btf: &Btf,
    what: &'static str,
    min_rec: usize,
    mut read: impl FnMut(&Reader<'_>, usize) -> Result<T, BtfError>,
) -> Result<Vec<SectionRecords<T>>, BtfError> {
    let rec_size = sec.u32(0, what)? as usize;
    if rec_size < min_rec || !rec_size.is_multiple_of(4) {
        return Err(BtfError::Ext(format!(
            "{what}: record size {rec_size} (want a multiple of 4, at least {min_rec})"
        )));
    }
    let mut out = Vec::new();
    let mut off = 4;
    while off < sec.data.len() {
        let sec_name = sec.u32(off, what)?;
        let count = sec.u32(off + 4, what)? as usize;
        off += 8;
        let bytes = count
            .checked_mul(rec_size)
            .filter(|&b| b <= sec.data.len() - off)
            .ok_or_else(|| {
                BtfError::Ext(format!(
                    "{what}: {count} records of {rec_size} bytes overflow the subsection"
                ))
            })?;
        if sec_name >= btf.strings_len() {
            return Err(BtfError::Ext(format!(
                "{what}: section name offset {sec_name} past the string section"
            )));
        }
        let mut records = Vec::with_capacity(count);
        for i in 0..count {
            records.push(read(&sec, off + i * rec_size)?);
        }
        off += bytes;
        out.push(SectionRecords {
            section: btf.name(Name(sec_name)).to_owned(),
            records,
        });
    }
    Ok(out)
}
