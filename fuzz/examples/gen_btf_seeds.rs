//! Writes synthetic BTF seeds for the `btf` target into the directory given
//! as the only argument: every kind in both byte orders (standalone), and a
//! split blob on top of the same fixed base the target uses.
//! Run by `seed.sh`; an example (not a `[[bin]]`) so cargo-fuzz ignores it.

use std::path::PathBuf;

use bpf2rs::btf::testing::{BtfBuilder, SIGNED};
use bpf2rs::btf::{Btf, TypeId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: gen_btf_seeds DIR")?);
    std::fs::create_dir_all(&dir)?;

    let every = BtfBuilder::every_kind();
    std::fs::write(dir.join("synthetic-every-kind-le.btf"), every.bytes())?;
    std::fs::write(dir.join("synthetic-every-kind-be.btf"), every.bytes_be())?;

    // Same base as fuzz_targets/btf.rs: every kind plus a 16 KiB string.
    let mut base = BtfBuilder::every_kind();
    base.raw_string(&[b'x'; 16 * 1024]);
    let base = Btf::parse(&base.bytes())?;

    let mut split = BtfBuilder::split(base.len(), base.strings_len());
    let int = TypeId(1); // "int" in every_kind
    let own = split.int("own_int", 8, SIGNED);
    let p = split.ptr(own);
    split.struct_("split_s", 16, &[("a", int, 0), ("p", p, 64)]);
    let arr = split.array(own, int, 4);
    split.typedef("own_arr_t", arr);
    std::fs::write(dir.join("synthetic-split-le.btf"), split.bytes())?;
    std::fs::write(dir.join("synthetic-split-be.btf"), split.bytes_be())?;
    Ok(())
}
