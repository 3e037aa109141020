//! `cargo bpf2rs usdt BINARY`: the USDT probes of a real binary (Debian's
//! python3, built with dtrace probes; scripts/setup installs it), and the
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use common::cli;

#[test]
fn lists_python_probes_with_their_arguments_and_semaphores() {
    let python = std::fs::canonicalize("/usr/bin/python3")
        .expect("python3 is needed for this test (scripts/setup installs it)");
    let out = cli(&["bpf2rs", "usdt", python.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["probe", "offset", "semaphore", "arguments"]);
    let row = |probe: &str| {
        lines
            .iter()
            .find(|l| l[0] == probe)
            .unwrap_or_else(|| panic!("{probe} missing: {stdout}"))
    };
    // (readelf -n shows the same argument strings.)
    assert_eq!(row("python:audit")[3..], ["8@%rbx", "8@%r15"]);
    assert_eq!(
        row("python:function__entry")[3..],
        ["8@%rbp", "8@%r12", "-4@%eax"]
    );
    for probe in ["python:audit", "python:function__entry"] {
        let r = row(probe);
        assert!(r[1].starts_with("0x") && r[2].starts_with("0x"), "{r:?}");
    }
}

#[test]
fn a_binary_without_probes_says_so() {
    let out = cli(&["bpf2rs", "usdt", "/bin/true"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "/bin/true: no USDT probes\n"
    );
}

#[test]
fn errors() {
    let text = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let out = cli(&["bpf2rs", "usdt", text]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: {text}: not an ELF file: ")),
        "{stderr}"
    );
    let out = cli(&["bpf2rs", "usdt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: usdt: missing BINARY"));
}
