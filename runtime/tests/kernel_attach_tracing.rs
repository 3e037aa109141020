//! Real-kernel attach tests of BTF-typed tracing programs and iterators
//! (tests/bpf/attach_tracing.bpf.c): fentry, fexit, tp_btf, lsm, iter/task.
//! Each test loads only its program: they need the loader to set the
//! program's kernel BTF id (attach_btf_id) at load time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use bpf2rs::link;
use kernel_attach_util::*;

const FIXTURE: &str = "attach_tracing.bpf.o";

fn open_a_file() {
    std::hint::black_box(std::fs::File::open("/proc/self/stat").unwrap());
}

/// Kernels without BPF trampolines for us (6.18.44-fc here: EPERM, libbpf
/// too) refuse fentry/fexit/lsm at load: then the refusal is what is checked.
#[test]
fn fentry_and_fexit_count_unlinkat_and_detach_on_drop() {
    let Some(entry_obj) = load_or_refused(FIXTURE, "fentry_unlinkat", "fentry/do_unlinkat") else {
        return;
    };
    let exit_obj = load_only(FIXTURE, Some("fexit_unlinkat"));
    let fentry = entry_obj
        .program("fentry_unlinkat")
        .unwrap()
        .attach_tracing()
        .unwrap();
    let fexit = link::attach_auto(exit_obj.program("fexit_unlinkat").unwrap())
        .unwrap()
        .expect("fexit/ attaches by itself");
    assert_eq!(fentry.info().unwrap().link_type, 2, "a tracing link");
    assert!(
        wait_hits(&entry_obj, 0, unlink_temp) > 0,
        "fentry never ran"
    );
    assert!(wait_hits(&exit_obj, 1, unlink_temp) > 0, "fexit never ran");
    drop((fentry, fexit));
    assert_detached(&entry_obj, 0, unlink_temp);
    assert_detached(&exit_obj, 1, unlink_temp);
}

#[test]
fn lsm_counts_file_opens_and_detaches_on_drop() {
    let Some(obj) = load_or_refused(FIXTURE, "lsm_file_open", "lsm/file_open") else {
        return;
    };
    let l = obj
        .program("lsm_file_open")
        .unwrap()
        .attach_tracing()
        .unwrap();
    assert!(wait_hits(&obj, 3, open_a_file) > 0, "lsm never ran");
    drop(l);
    assert_detached(&obj, 3, open_a_file);
}

#[test]
fn tp_btf_counts_syscalls_and_detaches_on_drop() {
    let obj = load_only(FIXTURE, Some("btf_sys_enter"));
    let l = obj
        .program("btf_sys_enter")
        .unwrap()
        .attach_auto()
        .unwrap()
        .expect("tp_btf/ attaches by itself");
    // tp_btf links are raw tracepoint links (kernel/bpf/syscall.c).
    assert_eq!(l.info().unwrap().link_type, 1, "a raw_tracepoint link");
    assert!(wait_hits(&obj, 2, getpid_syscalls) > 0, "tp_btf never ran");
    drop(l);
    assert_detached(&obj, 2, getpid_syscalls);
}

#[test]
fn task_iterator_prints_one_line_per_task() {
    let obj = load_only(FIXTURE, Some("dump_task"));
    let l = link::attach_auto(obj.program("dump_task").unwrap())
        .unwrap()
        .expect("iter/ attaches by itself");
    assert_eq!(l.info().unwrap().link_type, 4, "an iter link");
    let out = String::from_utf8(l.read_iter().unwrap()).unwrap();
    let lines = out.lines().count();
    assert!(lines > 1, "{out:?}");
    assert!(out.lines().all(|l| l == "bpf2rs-iter task"), "{out:?}");
    assert_eq!(hits(&obj, 4), lines as u64);
    // Each read is a new iteration.
    assert!(!l.read_iter().unwrap().is_empty());
}

#[test]
fn map_iterator_reads_every_value_of_the_given_map() {
    let Some(obj) = load_or_refused(FIXTURE, "dump_values", "iter/bpf_map_elem") else {
        return;
    };
    let map = obj.map("iter_values").unwrap();
    for (k, v) in [(0u32, 11u64), (1, 22), (2, 33), (3, 44)] {
        map.update(&k.to_ne_bytes(), &v.to_ne_bytes(), Default::default())
            .unwrap();
    }
    let prog = obj.program("dump_values").unwrap();
    let l = prog.attach_iter(Some(map.map_fd().fd())).unwrap();
    let out = l.read_iter().unwrap();
    let values: Vec<u64> = out
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, [11, 22, 33, 44]);
    let _ = l.fd().unwrap();
    // A map iterator without its map is refused by the kernel.
    let e = prog.attach_iter(None).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EBADF), "{e}");
}
