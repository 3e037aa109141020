//! A program the verifier rejects: the error carries the verifier log and
//! every fd the load created is closed, also with struct_ops maps; errors
//! of struct_ops variables name the variable and member. Its own test binary (and one test at a time), so
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

/// An object with struct_ops variables whose last program fails to load
/// (after the BTF, .bss, both struct_ops maps and three programs were
/// created): the error names the program and every fd is closed.
#[test]
fn struct_ops_load_failure_leaks_nothing() {
    // Lock first: require_root opens /proc/self/status, which the other
    // test would count as an fd.
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    require_root();
    let mut spec = bpf2rs_tests::open("struct_ops.bpf.o");
    let last = spec.programs.last_mut().unwrap();
    assert_eq!(last.name, "cc_undo_cwnd");
    last.insns.pop(); // no final exit: the verifier refuses it
    let mut open = OpenObject::from_spec(spec);
    // .struct_ops.link needs Linux 6.4: only plain_ops is created on 6.1.
    open.struct_ops_mut("reno_like")
        .unwrap()
        .set_autocreate(false);
    let before = open_fds();
    let err = open.load().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("struct_ops: program cc_undo_cwnd (section struct_ops/cc_undo_cwnd)"),
        "{err}"
    );
    assert_eq!(
        open_fds(),
        before,
        "a failed load must close its BTF, map, struct_ops map and program fds"
    );
}

/// Errors of struct_ops variables name the object, the variable and the
/// member; a struct_ops program no variable points at is not loadable;
/// with every variable's autocreate off, their programs are not loaded.
#[test]
fn struct_ops_errors_name_the_variable_and_member() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    require_root();
    let load_err = |edit: &dyn Fn(&mut bpf2rs::obj::ObjectSpec)| {
        let mut spec = bpf2rs_tests::open("struct_ops.bpf.o");
        edit(&mut spec);
        OpenObject::from_spec(spec).load().unwrap_err().to_string()
    };
    let err = load_err(&|s| s.struct_ops[0].type_name = "bpf2rs_no_ops".into());
    assert_eq!(
        err,
        "struct_ops: struct_ops map reno_like: struct bpf2rs_no_ops: the kernel BTF has no \
         struct bpf_struct_ops_bpf2rs_no_ops: this kernel cannot take struct bpf2rs_no_ops \
         from BPF (too old, or the subsystem is not built in)"
    );
    // One program for two different members.
    let err = load_err(&|s| {
        let slot = s.struct_ops[1]
            .programs
            .iter_mut()
            .find(|p| p.member == "ssthresh")
            .unwrap();
        slot.program = "cc_undo_cwnd".into();
    });
    assert!(
        err.starts_with(
            "struct_ops: struct_ops map plain_ops: struct tcp_congestion_ops: member ssthresh: \
             program cc_undo_cwnd is also "
        ),
        "{err}"
    );
    // A struct_ops program no variable points at.
    let err = load_err(&|s| {
        for o in &mut s.struct_ops {
            o.programs.retain(|p| p.program != "cc_init");
        }
    });
    assert!(
        err.starts_with(
            "struct_ops: program cc_init: section `struct_ops/cc_init`: a struct_ops program \
             loads only as a member of a `.struct_ops` / `.struct_ops.link` variable"
        ),
        "{err}"
    );
    // No variable created: nothing needs their programs.
    let mut open = OpenObject::open_file(fixture("struct_ops.bpf.o")).unwrap();
    for name in ["reno_like", "plain_ops"] {
        open.struct_ops_mut(name).unwrap().set_autocreate(false);
    }
    let obj = open.load().unwrap();
    assert!(obj.struct_ops_maps().is_empty());
    assert!(obj.programs().iter().all(|p| !p.is_loaded()));
    for name in ["reno_like", "plain_ops"] {
        let note = format!("struct_ops map {name}: not created (autocreate is off)");
        assert!(obj.notes().contains(&note), "{:?}", obj.notes());
    }
}
