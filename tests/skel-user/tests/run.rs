//! Runs the user's binary against the kernel: the skeleton it includes
//! loads, its typed maps work, and every other skeleton's object opens.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

#[test]
fn the_users_binary_runs_its_skeletons() {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    assert!(root, "this kernel test needs root: run the tests as root");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skel-user"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "typed: pairs[1] = Some(Pair { a: 2, b: 3 })",
            "typed: packets_seen = 1",
            "opened: kitchen maps tools usdt attach globals legacy user_sized bpf2rs_cc2",
        ]
    );
}
