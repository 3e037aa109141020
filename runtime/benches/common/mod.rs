//! What the benches that load the peers' object share.

use std::path::{Path, PathBuf};

/// The object to load, per the peers' contract: argv[1] (run.sh passes its
/// bench.bpf.o), or else ../shared/peers/bpf/bench.bpf.c compiled here with
/// clang-19. `cargo bench` passes `--bench`: a path is an argument that does
/// not start with '-'.
pub fn peers_object() -> Result<PathBuf, String> {
    if let Some(p) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        return Ok(PathBuf::from(p));
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/bpf/bench.bpf.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers-bench.bpf.o");
    let status = std::process::Command::new("clang-19")
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-I/usr/include/x86_64-linux-gnu",
            "-c",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .map_err(|e| format!("running clang-19 on {}: {e}", src.display()))?;
    if !status.success() {
        return Err(format!("clang-19 failed on {}", src.display()));
    }
    Ok(out)
}
