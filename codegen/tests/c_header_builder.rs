//! `Builder` without bpftool: it defines `__TARGET_ARCH_<arch>` for
//! `<bpf/bpf_tracing.h>` on its own (unless given one), and generates
//! vmlinux.h from the kernel's BTF, only when that BTF changed.
//!
//! Needs clang-19 and /sys/kernel/btf/vmlinux.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::path::PathBuf;

use bpf2rs_codegen::Builder;
use common::fixture;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpf2rs-c-builder-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// core_tools.bpf.c uses BPF_KPROBE, which needs the target architecture;
/// nobody passes it here.
#[test]
fn bpf_kprobe_builds_without_passing_the_arch() {
    let dir = scratch("arch");
    let tests_bpf = fixture("");
    Builder::new(fixture("core_tools.bpf.c"))
        .clang_args([format!("-I{}", tests_bpf.display())])
        .object_out(dir.join("core_tools.bpf.o"))
        .generate_to(dir.join("core_tools.skel.rs"))
        .unwrap();
    assert!(dir.join("core_tools.skel.rs").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A define the user passes is the only one clang sees.
#[test]
fn a_user_arch_define_is_not_doubled() {
    let dir = scratch("user-arch");
    let src = dir.join("arch.bpf.c");
    std::fs::write(
        &src,
        "#if !defined(__TARGET_ARCH_arm64)\n#error the user's define is missing\n#endif\n\
         #if defined(__TARGET_ARCH_x86) || defined(__TARGET_ARCH_riscv)\n#error a second arch\n#endif\n\
         int counter;\n",
    )
    .unwrap();
    Builder::new(&src)
        .clang_args(["-D__TARGET_ARCH_arm64"])
        .object_out(dir.join("arch.bpf.o"))
        .generate_to(dir.join("arch.skel.rs"))
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// vmlinux.h made from /sys/kernel/btf/vmlinux beside the output, used by
/// a fixture that includes it (and BPF_KPROBE), and not rewritten when
/// the BTF has not changed.
#[test]
fn vmlinux_h_is_generated_once_and_used() {
    let dir = scratch("vmlinux");
    // Copied so that tests/bpf/vmlinux.h beside the original is not found.
    std::fs::copy(fixture("core_tools.bpf.c"), dir.join("core_tools.bpf.c")).unwrap();
    let build = || {
        Builder::new(dir.join("core_tools.bpf.c"))
            .vmlinux_header(true)
            .object_out(dir.join("core_tools.bpf.o"))
            .generate_to(dir.join("core_tools.skel.rs"))
            .unwrap();
    };
    build();
    let header = dir.join("bpf2rs-vmlinux/vmlinux.h");
    let text = std::fs::read_to_string(&header).unwrap();
    assert!(text.contains("struct task_struct {"));
    let first = std::fs::metadata(&header).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    build();
    let second = std::fs::metadata(&header).unwrap().modified().unwrap();
    assert_eq!(
        first, second,
        "vmlinux.h rewritten though the BTF is the same"
    );
    // A different BTF (here: a stale hash) regenerates it.
    std::fs::write(dir.join("bpf2rs-vmlinux/vmlinux.h.btf-hash"), "0 0\n").unwrap();
    build();
    let third = std::fs::metadata(&header).unwrap().modified().unwrap();
    assert_ne!(second, third, "vmlinux.h kept though its BTF changed");
    let _ = std::fs::remove_dir_all(&dir);
}
