//! A program the verifier rejects: the error carries the verifier log and
//! every fd the load created is closed. Its own test binary, so counting
//! this process's fds is not disturbed by other tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::load::OpenObject;
use bpf2rs_tests::{fixture, require_root};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn rejected_program_returns_the_verifier_log_and_leaks_nothing() {
    require_root();
    let before = open_fds();
    for _ in 0..3 {
        let err = OpenObject::open_file(fixture("rejected.bpf.o"))
            .unwrap()
            .load()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("rejected: program unchecked (section xdp): the kernel rejected it"),
            "{text}"
        );
        let log = err.verifier_log().expect("a verifier error");
        assert!(log.contains("invalid access to packet"), "{log}");
    }
    assert_eq!(
        open_fds(),
        before,
        "a failed load must close every map, BTF and program fd it created"
    );
}
