//! Random and mutated BTF never panics: 20,000 inputs derived from valid
//! builder output by a deterministic PRNG, each parsed standalone and split,
//! and every query asked of every type of those that parse.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::sync::Arc;

use bpf2rs_reader::btf::ext::BtfExt;
use bpf2rs_reader::btf::testing::*;
use bpf2rs_reader::btf::*;

const INPUTS: usize = 20_000;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that hit boundaries: ids just past the end, vlen limits, sizes
/// that overflow, kinds past the last.
const INTERESTING: &[u32] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    16,
    20,
    31,
    32,
    33,
    64,
    128,
    255,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    // info words: every kind with vlen 1 and with kind_flag.
    0x0100_0001,
    0x0400_0001,
    0x0600_0001,
    0x0d00_0001,
    0x0f00_0001,
    0x1300_0001,
    0x8400_0001,
    0x9400_0000,
];

fn seeds() -> Vec<Vec<u8>> {
    let every = BtfBuilder::every_kind();
    let mut small = BtfBuilder::new();
    let int = small.int("int", 4, SIGNED);
    let s = TypeId(small.next_id().0 + 2);
    let p = small.ptr(s);
    let arr = small.array(int, int, 3);
    small.struct_("s", 24, &[("p", p, 0), ("a", arr, 64)]);
    small.typedef("t", s);
    vec![
        every.bytes(),
        every.bytes_be(),
        small.bytes(),
        small.bytes_be(),
    ]
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        if data.len() < 4 {
            data.extend_from_slice(&[0; 4]);
        }
        let word_at = rng.below(data.len() / 4) * 4;
        match rng.below(9) {
            // Flip a bit anywhere.
            0 => {
                let at = rng.below(data.len());
                data[at] ^= 1 << rng.below(8);
            }
            // An interesting word at a word boundary (both byte orders).
            1 | 2 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let bytes = if rng.below(2) == 0 {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                data[word_at..word_at + 4].copy_from_slice(&bytes);
            }
            // A random word.
            3 => {
                let v = rng.next() as u32;
                data[word_at..word_at + 4].copy_from_slice(&v.to_le_bytes());
            }
            // A header field: lengths and offsets.
            4 if data.len() >= HEADER_LEN => {
                let field = [
                    HDR_LEN,
                    HDR_TYPE_OFF,
                    HDR_TYPE_LEN,
                    HDR_STR_OFF,
                    HDR_STR_LEN,
                ];
                let at = field[rng.below(field.len())];
                let old = get_u32(&data, at);
                let new = match rng.below(3) {
                    0 => old.wrapping_add(4 * (rng.below(8) as u32)),
                    1 => old.wrapping_sub(4 * (rng.below(8) as u32)),
                    _ => INTERESTING[rng.below(INTERESTING.len())],
                };
                set_u32(&mut data, at, new);
            }
            // Truncate.
            4 | 5 => {
                let len = rng.below(data.len() + 1);
                data.truncate(len);
            }
            // Insert or remove a few bytes.
            6 => {
                let at = rng.below(data.len());
                for _ in 0..1 + rng.below(8) {
                    data.insert(at, rng.next() as u8);
                }
            }
            7 => {
                let at = rng.below(data.len());
                let end = (at + 1 + rng.below(8)).min(data.len());
                data.drain(at..end);
            }
            // Copy one record's words over another's.
            _ => {
                let from = rng.below(data.len() / 4) * 4;
                let n = (1 + rng.below(6)) * 4;
                let chunk: Vec<u8> = data[from..(from + n).min(data.len())].to_vec();
                let to = word_at.min(data.len() - chunk.len());
                data[to..to + chunk.len()].copy_from_slice(&chunk);
            }
        }
    }
    data
}

/// Asks every question of every type id, plus ids past the end.
fn walk(btf: &Btf) -> usize {
    let mut answered = 0;
    for raw in 0..btf.len() + 2 {
        let id = TypeId(raw);
        let results = [
            btf.size_of(id).is_ok(),
            btf.align_of(id).is_ok(),
            btf.c_type_name(id).is_ok(),
            btf.skip_mods_and_typedefs(id).is_ok(),
            btf.skip_mods(id).is_ok(),
            btf.kind_of(id).is_ok(),
        ];
        answered += results.iter().filter(|ok| **ok).count();
        if let Ok(ty) = btf.type_by_id(id) {
            let _ = btf.name(ty.name());
            let _ = ty.referenced();
            for m in ty.members().unwrap_or(&[]) {
                let _ = btf.name(m.name);
                let _ = btf.member_bits(m);
            }
            if let Type::Enum(e) = ty {
                for v in e.values.iter() {
                    let _ = btf.name(v.name);
                }
            }
            if let Type::FuncProto(p) = ty {
                for p in p.params.iter() {
                    let _ = btf.name(p.name);
                }
            }
            if !btf.name(ty.name()).is_empty() {
                let _ = btf.find_by_name(btf.name(ty.name()), ty.kind());
            }
        }
    }
    let _ = btf.check_graph();
    let _ = btf.type_by_id(TypeId(u32::MAX));
    answered
}

#[test]
fn mutated_btf_never_panics() {
    let seeds = seeds();
    let base = Arc::new(Btf::parse(&seeds[0]).unwrap());
    let mut rng = Rng(0x5eed_b7f0_0d15_ea5e);
    let (mut parsed, mut split_parsed, mut answered) = (0, 0, 0);
    let mut errors = std::collections::BTreeSet::new();
    for i in 0..INPUTS {
        let data = if i % 50 == 49 {
            // Now and then pure noise behind a valid magic.
            let mut noise: Vec<u8> = (0..rng.below(256)).map(|_| rng.next() as u8).collect();
            if noise.len() >= 3 {
                noise[..3].copy_from_slice(&[0x9f, 0xeb, 1]);
            }
            noise
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed)
        };
        match Btf::parse(&data) {
            Ok(btf) => {
                parsed += 1;
                answered += walk(&btf);
                let _ = BtfExt::parse(&data, &btf);
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("btf"), "{msg}");
                errors.insert(msg.split(':').nth(1).unwrap_or("").trim().to_owned());
            }
        }
        if let Ok(split) = Btf::parse_split(&data, base.clone()) {
            split_parsed += 1;
            answered += walk(&split);
        }
    }
    eprintln!(
        "{parsed} parsed, {split_parsed} parsed as split, {answered} answers, {} error kinds",
        errors.len()
    );
    // The mutations must reach both sides: some inputs still parse and are
    // walked, many are rejected for many different reasons.
    assert!(
        parsed > INPUTS / 20,
        "only {parsed} of {INPUTS} mutated inputs parsed"
    );
    assert!(split_parsed > 0, "no mutated input parsed as split BTF");
    assert!(answered > 10_000, "only {answered} queries answered");
    assert!(
        errors.len() > 10,
        "only {} kinds of error: {errors:?}",
        errors.len()
    );
}

#[test]
fn every_truncation_of_a_valid_blob_is_an_error() {
    for bytes in seeds() {
        // Cutting the string section's last byte (its NUL) or anything
        // before it must fail; the header's lengths no longer fit.
        for len in 0..bytes.len() {
            assert!(
                Btf::parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes parsed"
            );
        }
        assert!(Btf::parse(&bytes).is_ok());
    }
}
