//! Runs the example (as root) on `ls /`: the uprobe named by library
//! counts its malloc calls, and the histogram adds up to them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::process::Command;

#[test]
fn counts_the_mallocs_of_a_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_uprobe-malloc"))
        .args(["ls", "/"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("attached on_malloc to /"), "{stderr}");
    // "ls (pid 123, exit status: 0): 57 malloc calls, 95735 bytes, largest 32816"
    let summary = stderr.lines().nth(1).unwrap();
    let calls: u64 = summary
        .split_once("): ")
        .map(|(_, rest)| rest)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no call count in {summary:?}"));
    assert!(calls > 0, "{stderr}");
    assert!(
        summary.starts_with("ls (pid ") && summary.contains("exit status: 0"),
        "{summary}"
    );
    assert!(stdout.lines().any(|l| l == "proc"), "ls / ran: {stdout}");
    // Histogram rows: "lo .. hi  calls bar"; they add up to the calls.
    let in_buckets: u64 = stderr
        .lines()
        .filter(|l| l.contains(" .. "))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(in_buckets, calls, "{stderr}");
}
