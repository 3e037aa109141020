//! What [`Builder`](crate::Builder) adds to clang's command line on its
//! own: the `__TARGET_ARCH_<arch>` define that `<bpf/bpf_tracing.h>` needs,
//! and the include directory of a generated `vmlinux.h`.
//!
//! In: the user's clang arguments, the target (from cargo or the host) and
//! the BTF to make vmlinux.h from. Out: extra clang arguments, vmlinux.h
//! (rewritten only when its BTF changed) and `cargo:rerun-if-changed` lines.

use std::path::{Path, PathBuf};

use crate::c_header;
use crate::BuildError;

/// libbpf's name for a Rust target architecture (`__TARGET_ARCH_<name>`),
/// for the architectures `bpf_tracing.h` knows.
pub(crate) fn libbpf_arch(rust_arch: &str) -> Option<&'static str> {
    Some(match rust_arch {
        "x86_64" | "x86" => "x86",
        "aarch64" => "arm64",
        "arm" => "arm",
        "riscv64" => "riscv",
        "s390x" => "s390",
        "powerpc64" => "powerpc",
        "loongarch64" => "loongarch",
        "mips" | "mips64" => "mips",
        "sparc64" => "sparc",
        _ => return None,
    })
}

/// `-D__TARGET_ARCH_<arch>` for the crate's target (cargo's
/// `CARGO_CFG_TARGET_ARCH` in build.rs, else the host), unless `user_args`
/// already define one.
pub(crate) fn arch_define(user_args: &[String]) -> Option<String> {
    if user_args.iter().any(|a| a.starts_with("-D__TARGET_ARCH_")) {
        return None;
    }
    let rust_arch = std::env::var("CARGO_CFG_TARGET_ARCH")
        .unwrap_or_else(|_| std::env::consts::ARCH.to_owned());
    libbpf_arch(&rust_arch).map(|a| format!("-D__TARGET_ARCH_{a}"))
}

/// Writes `dir/vmlinux.h` from the BTF at `btf_path` unless the one there
/// was made from identical BTF (a hash of it is kept beside the header);
/// returns `dir`.
pub(crate) fn ensure_vmlinux_h(btf_path: &Path, dir: &Path) -> Result<PathBuf, BuildError> {
    let io = |p: &Path, e: std::io::Error| BuildError::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let bytes = std::fs::read(btf_path).map_err(|e| io(btf_path, e))?;
    let stamp = format!("{:016x} {}\n", fnv1a(&bytes), bytes.len());
    let header = dir.join("vmlinux.h");
    let stamp_path = dir.join("vmlinux.h.btf-hash");
    let fresh = header.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp);
    if !fresh {
        let btf = c_header::read_btf_source(btf_path, None)?;
        let text = c_header::generate(&btf)?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        std::fs::write(&header, text).map_err(|e| io(&header, e))?;
        std::fs::write(&stamp_path, stamp).map_err(|e| io(&stamp_path, e))?;
    }
    Ok(dir.to_owned())
}

/// 64-bit FNV-1a: enough to notice a different kernel's BTF.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
