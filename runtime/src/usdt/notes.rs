//! The probe sites of an ELF file, from its `.note.stapsdt` notes, and the
//! decoding of their argument strings.
//!
//! In: ELF bytes, or one site's argument string. Out: [`UsdtNote`]s and
//! [`UsdtArg`]s, or an error naming the note or argument.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSegment};

/// One probe site from an ELF file's `.note.stapsdt` notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtNote {
    pub provider: String,
    pub name: String,
    /// Virtual address of the probe's instruction (after the
    /// `.stapsdt.base` adjustment prelinked files need).
    pub address: u64,
    /// File offset of that instruction: where the uprobe goes.
    pub file_offset: u64,
    /// File offset of the probe's semaphore; 0 when it has none.
    pub semaphore_offset: u64,
    /// The argument string, e.g. `-4@%eax 8@-16(%rbp)`.
    pub args: String,
}

/// Where a USDT argument lives when the probe fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsdtLocation {
    /// A constant (`$5`).
    Const(i64),
    /// A register, as its byte offset in `struct pt_regs` (`%rax`).
    Reg(u16),
    /// Memory at a register plus an offset (`-16(%rbp)`).
    Deref { reg: u16, offset: i64 },
}

/// One decoded USDT argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdtArg {
    /// 1, 2, 4 or 8 bytes.
    pub size: u8,
    pub signed: bool,
    pub location: UsdtLocation,
}

/// Every USDT probe site of the ELF file at `path`.
pub fn usdt_notes(path: &Path) -> Result<Vec<UsdtNote>, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    usdt_notes_in(&data)
}

/// Every USDT probe site of the ELF file `data`.
pub fn usdt_notes_in(data: &[u8]) -> Result<Vec<UsdtNote>, String> {
    parse_notes(data).map(|(notes, _)| notes)
}

/// The probe sites of the ELF file `data`, and whether it is
/// position-independent (a shared library or PIE executable: ET_DYN).
pub(crate) fn parse_notes(data: &[u8]) -> Result<(Vec<UsdtNote>, bool), String> {
    let file = object::File::parse(data).map_err(|e| format!("not an ELF file: {e}"))?;
    if !file.is_64() {
        return Err("32-bit ELF files are not supported for USDT".into());
    }
    let dynamic = file.kind() == object::ObjectKind::Dynamic;
    let Some(notes) = file.section_by_name(".note.stapsdt") else {
        return Ok((Vec::new(), dynamic));
    };
    let raw = notes
        .data()
        .map_err(|e| format!("section .note.stapsdt: {e}"))?;
    // Prelinking moves the file but not the notes: `.stapsdt.base`'s
    // address now, against the one recorded in each note.
    let base_now = file.section_by_name(".stapsdt.base").map(|s| s.address());
    let segments: Vec<(u64, u64, u64)> = file
        .segments()
        .map(|s| {
            let (offset, _) = s.file_range();
            (s.address(), s.size(), offset)
        })
        .collect();
    let file_offset = |addr: u64, what: &str| -> Result<u64, String> {
        segments
            .iter()
            .find(|(va, size, _)| addr >= *va && addr - va < *size)
            .and_then(|(va, _, off)| (addr - va).checked_add(*off))
            .ok_or_else(|| format!("{what} address {addr:#x} is in no loadable segment"))
    };
    let little = file.is_little_endian();
    let word = |b: &[u8]| -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let quad = |b: &[u8]| -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if little {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < raw.len() {
        let bad = |why: &str| format!("section .note.stapsdt: note at offset {pos}: {why}");
        let hdr = raw
            .get(pos..pos + 12)
            .ok_or_else(|| bad("truncated header"))?;
        let (namesz, descsz, kind) = (
            word(&hdr[0..4]) as usize,
            word(&hdr[4..8]) as usize,
            word(&hdr[8..12]),
        );
        let name_at = pos + 12;
        let desc_at = name_at
            .checked_add(namesz.next_multiple_of(4))
            .ok_or_else(|| bad("name size overflows"))?;
        let end = desc_at
            .checked_add(descsz)
            .ok_or_else(|| bad("descriptor size overflows"))?;
        let name = raw
            .get(name_at..name_at + namesz)
            .ok_or_else(|| bad("truncated name"))?;
        let desc = raw
            .get(desc_at..end)
            .ok_or_else(|| bad("truncated descriptor"))?;
        let next = end.next_multiple_of(4);
        if kind == 3 && name == b"stapsdt\0" {
            if desc.len() < 24 {
                return Err(bad("descriptor shorter than its three addresses"));
            }
            let (mut address, note_base, mut semaphore) =
                (quad(&desc[0..8]), quad(&desc[8..16]), quad(&desc[16..24]));
            if let Some(now) = base_now {
                address = address.wrapping_add(now).wrapping_sub(note_base);
                if semaphore != 0 {
                    semaphore = semaphore.wrapping_add(now).wrapping_sub(note_base);
                }
            }
            let mut strings = desc[24..].split(|&b| b == 0);
            let mut text = |what: &str| -> Result<String, String> {
                let s = strings.next().ok_or_else(|| bad(&format!("no {what}")))?;
                String::from_utf8(s.to_vec()).map_err(|_| bad(&format!("{what} is not UTF-8")))
            };
            let (provider, probe, args) = (text("provider")?, text("name")?, text("arguments")?);
            let what = format!("probe {provider}:{probe}");
            out.push(UsdtNote {
                file_offset: file_offset(address, &what)?,
                semaphore_offset: if semaphore == 0 {
                    0
                } else {
                    file_offset(semaphore, &format!("{what} semaphore"))?
                },
                provider,
                name: probe,
                address,
                args,
            });
        }
        pos = next;
    }
    Ok((out, dynamic))
}

/// Decodes an x86-64 USDT argument string (`-4@%eax 8@-16(%rbp) 4@$5`).
pub fn parse_usdt_args(args: &str) -> Result<Vec<UsdtArg>, String> {
    args.split_whitespace()
        .map(|a| parse_arg(a).map_err(|why| format!("argument `{a}`: {why}")))
        .collect()
}

fn parse_arg(arg: &str) -> Result<UsdtArg, String> {
    let (size, loc) = arg.split_once('@').ok_or("no `SIZE@` prefix")?;
    let (signed, digits) = match size.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, size),
    };
    let size: u8 = match digits {
        "1" => 1,
        "2" => 2,
        "4" => 4,
        "8" => 8,
        _ => return Err(format!("size {size} is not 1, 2, 4 or 8")),
    };
    let location = if let Some(c) = loc.strip_prefix('$') {
        UsdtLocation::Const(number(c)?)
    } else if let Some(r) = loc.strip_prefix('%') {
        UsdtLocation::Reg(register(r)?)
    } else if let Some((off, inner)) = loc.split_once('(') {
        let inner = inner.strip_suffix(')').ok_or("unbalanced parentheses")?;
        if inner.contains(',') {
            return Err("index-register addressing is not supported".into());
        }
        let reg = inner
            .strip_prefix('%')
            .ok_or("no register inside the parentheses")?;
        let offset = if off.is_empty() { 0 } else { number(off)? };
        UsdtLocation::Deref {
            reg: register(reg)?,
            offset,
        }
    } else {
        return Err("not a constant, register or memory operand".into());
    };
    Ok(UsdtArg {
        size,
        signed,
        location,
    })
}

/// A decimal or `0x` hexadecimal number, possibly negative.
fn number(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .map_err(|_| format!("`{s}` is not a number"))? as i64;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The byte offset in x86-64's `struct pt_regs` (the ptrace register
/// order) of register `name`, in any of its widths.
fn register(name: &str) -> Result<u16, String> {
    const REGS: [(u16, &[&str]); 18] = [
        (0, &["r15", "r15d", "r15w", "r15b"]),
        (8, &["r14", "r14d", "r14w", "r14b"]),
        (16, &["r13", "r13d", "r13w", "r13b"]),
        (24, &["r12", "r12d", "r12w", "r12b"]),
        (32, &["rbp", "ebp", "bp", "bpl"]),
        (40, &["rbx", "ebx", "bx", "bl"]),
        (48, &["r11", "r11d", "r11w", "r11b"]),
        (56, &["r10", "r10d", "r10w", "r10b"]),
        (64, &["r9", "r9d", "r9w", "r9b"]),
        (72, &["r8", "r8d", "r8w", "r8b"]),
        (80, &["rax", "eax", "ax", "al"]),
        (88, &["rcx", "ecx", "cx", "cl"]),
        (96, &["rdx", "edx", "dx", "dl"]),
        (104, &["rsi", "esi", "si", "sil"]),
        (112, &["rdi", "edi", "di", "dil"]),
        (128, &["rip", "eip", "ip"]),
        (144, &["eflags"]),
        (152, &["rsp", "esp", "sp", "spl"]),
    ];
    REGS.iter()
        .find(|(_, names)| names.contains(&name))
        .map(|r| r.0)
        .ok_or_else(|| format!("unknown register %{name}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    fn arg(size: u8, signed: bool, location: UsdtLocation) -> UsdtArg {
        UsdtArg {
            size,
            signed,
            location,
        }
    }

    #[test]
    fn argument_strings() {
        assert_eq!(
            parse_usdt_args("-4@%eax 8@-16(%rbp) 2@$0x10 -1@$-7 8@(%rsi) 4@%r12d 1@%sil").unwrap(),
            vec![
                arg(4, true, UsdtLocation::Reg(80)),
                arg(
                    8,
                    false,
                    UsdtLocation::Deref {
                        reg: 32,
                        offset: -16
                    }
                ),
                arg(2, false, UsdtLocation::Const(16)),
                arg(1, true, UsdtLocation::Const(-7)),
                arg(
                    8,
                    false,
                    UsdtLocation::Deref {
                        reg: 104,
                        offset: 0
                    }
                ),
                arg(4, false, UsdtLocation::Reg(24)),
                arg(1, false, UsdtLocation::Reg(104)),
            ]
        );
        assert_eq!(parse_usdt_args("").unwrap(), vec![]);
    }

    #[test]
    fn bad_argument_strings_name_the_argument() {
        for (s, why) in [
            (
                "4@%eax 3@%ebx",
                "argument `3@%ebx`: size 3 is not 1, 2, 4 or 8",
            ),
            ("8@%xmm0", "argument `8@%xmm0`: unknown register %xmm0"),
            ("%eax", "argument `%eax`: no `SIZE@` prefix"),
            (
                "8@-4(%rbp,%rax,8)",
                "argument `8@-4(%rbp,%rax,8)`: index-register addressing is not supported",
            ),
            (
                "8@foo(%rip)",
                "argument `8@foo(%rip)`: `foo` is not a number",
            ),
            ("4@$x", "argument `4@$x`: `x` is not a number"),
            ("4@-8(%rbp", "argument `4@-8(%rbp`: unbalanced parentheses"),
        ] {
            assert_eq!(parse_usdt_args(s).unwrap_err(), why, "{s}");
        }
    }
}
