//! A program the verifier rejects: the error carries the verifier log and
//! every fd the load created is closed; an object with struct_ops maps is
//! refused by name. Its own test binary (and one test at a time), so
//! counting this process's fds is not disturbed by other tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::load::OpenObject;
use bpf2rs_tests::{fixture, require_root};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The tests count this process's fds: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn rejected_program_returns_the_verifier_log_and_leaks_nothing() {
    // Lock first: require_root opens /proc/self/status, which the other
    // test would count as an fd.
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

/// struct_ops maps are not created yet: the load is refused before anything
/// is created, naming the variable; with its programs' autoload off the
/// rest of the object loads and a note says what was left out.
#[test]
fn struct_ops_objects_are_refused_by_name_and_load_without_their_programs() {
    // Lock first: require_root opens /proc/self/status, which the other
    // test would count as an fd.
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    require_root();
    let before = open_fds();
    let err = OpenObject::open_file(fixture("struct_ops.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "struct_ops: struct_ops map reno_like (struct tcp_congestion_ops, section \
         .struct_ops.link): this loader does not create struct_ops maps yet; turn off \
         autoload of its programs (cc_ssthresh, cc_cong_avoid, cc_undo_cwnd, cc_init) to \
         load the rest of the object"
    );
    assert_eq!(open_fds(), before, "nothing was created");
    let mut open = OpenObject::open_file(fixture("struct_ops.bpf.o")).unwrap();
    for p in ["cc_init", "cc_ssthresh", "cc_cong_avoid", "cc_undo_cwnd"] {
        open.program_mut(p).unwrap().set_autoload(false);
    }
    let obj = open.load().unwrap();
    for name in ["reno_like", "plain_ops"] {
        let note = format!("struct_ops map {name} (struct tcp_congestion_ops, section ");
        assert!(
            obj.notes().iter().any(|n| n.starts_with(&note)
                && n.ends_with(": not created (its programs are not loaded)")),
            "{:?}",
            obj.notes()
        );
    }
}
