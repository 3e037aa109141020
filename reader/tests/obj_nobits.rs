//! `.bss` is SHT_NOBITS whatever else its flags say: a fuzzed object with
//! SHF_TLS on `.bss` (2026-12-05) came back with no bytes for 72 of size.
#![allow(clippy::unwrap_used)] // reason: tests

use bpf2rs_reader::obj::ObjectSpec;

/// Offset of section `name`'s header in a 64-bit little-endian ELF file.
fn section_header(elf: &[u8], name: &str) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (shoff, shnum, shstrndx) = (u64_at(0x28), u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * 64 + 0x18);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let start = strtab + u32_at(h);
            let end = start + elf[start..].iter().position(|&b| b == 0).unwrap();
            &elf[start..end] == name.as_bytes()
        })
        .unwrap()
}

#[test]
fn bss_with_the_tls_flag_is_still_zeroes_of_its_size() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/bpf/globals.bpf.o");
    let mut elf = std::fs::read(path).unwrap();
    let clean = ObjectSpec::parse(&elf, "globals.bpf.o").unwrap();
    let bss = clean.data.iter().find(|d| d.name == ".bss").unwrap();
    assert!(bss.size > 0);
    let flags = section_header(&elf, ".bss") + 8;
    let sh_flags = u64::from_le_bytes(elf[flags..flags + 8].try_into().unwrap());
    elf[flags..flags + 8].copy_from_slice(&(sh_flags | 0x400).to_le_bytes()); // SHF_TLS
    let spec = ObjectSpec::parse(&elf, "globals.bpf.o").unwrap();
    let tls = spec.data.iter().find(|d| d.name == ".bss").unwrap();
    assert_eq!(tls.size, bss.size);
    assert_eq!(tls.bytes.len(), bss.size as usize);
    assert!(tls.bytes.iter().all(|&b| b == 0));
    assert_eq!(tls.vars.len(), bss.vars.len());
}
