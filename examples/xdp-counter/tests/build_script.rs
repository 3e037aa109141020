//! What the Builder in build.rs told cargo: rebuild when the BPF source or
//! any header it includes changes. Cargo keeps a build script's stdout in
//! `output` next to its OUT_DIR.
#![allow(clippy::unwrap_used)] // reason: tests

#[test]
fn rerun_if_changed_names_the_source_and_its_headers() {
    let out_dir = std::path::Path::new(env!("OUT_DIR"));
    let output = std::fs::read_to_string(out_dir.parent().unwrap().join("output")).unwrap();
    let watched: Vec<&str> = output
        .lines()
        .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        .collect();
    assert_eq!(
        watched
            .iter()
            .filter(|p| **p == "src/bpf/counter.bpf.c")
            .count(),
        1,
        "the source, once: {watched:?}"
    );
    for header in [
        "/linux/bpf.h",
        "/linux/ip.h",
        "/bpf/bpf_helpers.h",
        "/bpf/bpf_endian.h",
    ] {
        assert!(
            watched.iter().any(|p| p.ends_with(header)),
            "{header} missing from {watched:?}"
        );
    }
    // Every watched file exists (cargo would rebuild forever otherwise).
    for p in &watched {
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(p)
                .exists(),
            "{p}"
        );
    }
}

#[test]
fn the_object_is_watched_without_a_rebuild_loop() {
    let out_dir = std::path::Path::new(env!("OUT_DIR"));
    let build_dir = out_dir.parent().unwrap();
    let output = std::fs::read_to_string(build_dir.join("output")).unwrap();
    let object = out_dir.join("counter.bpf.o");
    let line = format!("cargo:rerun-if-changed={}", object.display());
    assert!(
        output.lines().any(|l| l == line),
        "{line} missing:\n{output}"
    );
    // Cargo reruns build.rs when a watched file is newer than the start of
    // its last run (invoked.timestamp): the object must not be.
    let mtime = |p: &std::path::Path| std::fs::metadata(p).unwrap().modified().unwrap();
    assert!(
        mtime(&object) <= mtime(&build_dir.join("invoked.timestamp")),
        "the object is newer than the build script's start: cargo would rebuild forever"
    );
}
