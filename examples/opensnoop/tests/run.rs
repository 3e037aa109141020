//! Runs both binaries against the kernel (as root): each reports, with the
//! caller's pid and command, the two opens of a file this test makes while
//! the binary runs, and then the per-process counts of the hash map.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

fn run(exe: &str) {
    assert!(
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")),
        "opensnoop tests load BPF programs: run them as root"
    );
    let name = format!("bpf2rs-opensnoop-{}-{}", std::process::id(), exe.len());
    let mut child = Command::new(exe)
        .args(["--name", &name, "--count", "2", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it says it is attached.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("attached on_openat"), "{line}");

    let path = std::env::temp_dir().join(&name);
    std::fs::write(&path, b"x").unwrap(); // an open for writing
    std::fs::read(&path).unwrap(); // an open for reading
    std::fs::remove_file(&path).unwrap();

    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{exe}: {status}\n{out}\n{rest}");

    let me = std::process::id().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("PID"), "{out}");
    let events: Vec<&str> = lines[1..]
        .iter()
        .copied()
        .filter(|l| l.contains(&name))
        .collect();
    assert_eq!(events.len(), 2, "{out}");
    for e in events {
        let cols: Vec<&str> = e.split_whitespace().collect();
        assert_eq!(cols[0], me, "{e}");
        assert_eq!(cols[1], "0", "uid: {e}");
        assert_eq!(cols[3], path.to_str().unwrap(), "{e}");
    }
    // The hash map counted this process's opens in both modes.
    assert!(rest.contains("processes opened files"), "{rest}");
    assert!(rest.contains("0 events dropped"), "{rest}");
}

#[test]
fn opensnoop_prints_this_processs_opens() {
    run(env!("CARGO_BIN_EXE_opensnoop"));
}

#[test]
fn opensnoop_async_prints_this_processs_opens() {
    run(env!("CARGO_BIN_EXE_opensnoop-async"));
}
