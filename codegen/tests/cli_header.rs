//! `cargo bpf2rs header`: vmlinux by default, an object's .BTF, split BTF
//! with `--base`, `-o FILE`, and usage errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use bpf2rs_reader::btf::testing::{BtfBuilder, SIGNED};
use bpf2rs_reader::btf::Btf;
use common::{cli, fixture};

#[test]
fn header_of_vmlinux_by_default() {
    let out = cli(&["header"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("#ifndef __VMLINUX_H__\n"));
    assert!(text.contains("\nstruct task_struct {\n"));
    assert!(text.ends_with("#endif /* __VMLINUX_H__ */\n"));
}

#[test]
fn header_of_an_object_to_a_file() {
    let dir = std::env::temp_dir().join(format!("bpf2rs-cli-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("layout.h");
    let obj = fixture("layout.bpf.o");
    let out = cli(&[
        "header",
        obj.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("#pragma clang attribute push"), "{text}");
    assert!(text.contains("\nstruct "), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn split_btf_reads_on_its_base() {
    let dir = std::env::temp_dir().join(format!("bpf2rs-cli-header-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut base = BtfBuilder::new();
    let int = base.int("int", 4, SIGNED);
    base.struct_("base_thing", 4, &[("x", int, 0)]);
    let base_bytes = base.bytes();
    let base_btf = Btf::parse(&base_bytes).unwrap();
    let mut module = BtfBuilder::split(base_btf.len(), base_btf.strings_len());
    module.struct_("mod_thing", 4, &[("y", int, 0)]);
    std::fs::write(dir.join("base.btf"), base_bytes).unwrap();
    std::fs::write(dir.join("mod.btf"), module.bytes()).unwrap();
    let m = dir.join("mod.btf");
    let b = dir.join("base.btf");
    let out = cli(&["header", m.to_str().unwrap(), "--base", b.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("struct base_thing {\n\tint x;\n};"), "{text}");
    assert!(text.contains("struct mod_thing {\n\tint y;\n};"), "{text}");
    // Without its base, split BTF does not parse: a clear error.
    let out = cli(&["header", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mod.btf"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors() {
    let out = cli(&["header", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("header: unknown option `--frobnicate`"));
    let out = cli(&["header", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&["header", "-o"]);
    assert_eq!(out.status.code(), Some(2));
}
