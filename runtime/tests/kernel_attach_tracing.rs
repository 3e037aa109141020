//! Real-kernel attach tests of BTF-typed tracing programs and iterators
//! (tests/bpf/attach_tracing.bpf.c): fentry, fexit, fmod_ret (on the
//! kernel's bpf_modify_return_test through BPF_PROG_TEST_RUN, and on
//! security_file_open), tp_btf, lsm, iter/task, iter/bpf_map_elem; each
//! detaches when its link is dropped.
//! Each test loads only its program: they need the loader to set the
//! program's kernel BTF id (attach_btf_id) at load time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use bpf2rs::link::{self, Link};
use bpf2rs::prog::{Program, TestRunInput};
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

/// What fmod_ret_test returns (FMOD_RET_VALUE in attach_tracing.bpf.c).
const FMOD_RET_VALUE: u32 = 21;

/// BPF_PROG_TEST_RUN of an fmod_ret program: the kernel calls
/// bpf_modify_return_test(1, &b) with b = 2 and reports
/// `side_effect << 16 | ret` (net/bpf/test_run.c, bpf_prog_test_run_tracing),
/// `side_effect` counting the calls that changed b. Unmodified the function
/// does *b += 1 and returns 1 + 3.
fn run_modify_return_test(fmod_ret: &Program) -> u32 {
    fmod_ret.test_run(&TestRunInput::default()).unwrap().retval
}

#[test]
fn fmod_ret_changes_the_return_fexit_and_the_kernel_see_until_dropped() {
    const SECTION: &str = "fmod_ret/bpf_modify_return_test";
    let mod_obj = match try_load_only(FIXTURE, Some("fmod_ret_test")) {
        Ok(o) => o,
        // Linux 6.1 lets fmod_ret modify only error-injectable and
        // security_* functions (kernel/bpf/verifier.c,
        // check_attach_modify_return); bpf_modify_return_test is
        // error-injectable only with CONFIG_FUNCTION_ERROR_INJECTION, which
        // Debian's 6.1 leaves off. 6.2 added an fmod_ret BTF id set that
        // holds it on every kernel. The security_file_open test below covers
        // fmod_ret there.
        Err(e)
            if e.verifier_log()
                .is_some_and(|l| l.contains("is not modifiable")) =>
        {
            assert_eq!(
                e.verifier_log().unwrap().lines().next(),
                Some("bpf_modify_return_test() is not modifiable")
            );
            let errno = match &e {
                bpf2rs::load::LoadError::Verifier(v) => v.source.errno(),
                _ => None,
            };
            assert_eq!(errno, Some(libc::EINVAL), "{e}");
            not_run(
                "fmod_ret on bpf_modify_return_test",
                "bpf_modify_return_test() is not modifiable (before 6.2 fmod_ret needs CONFIG_FUNCTION_ERROR_INJECTION)",
            );
            return;
        }
        Err(e) => return assert_refused(FIXTURE, "fmod_ret_test", SECTION, &e),
    };
    let exit_obj = load_only(FIXTURE, Some("fexit_modify_return"));
    let fmod_ret = mod_obj.program("fmod_ret_test").unwrap();

    // Nothing attached yet: the kernel's own result. Linux 6.1 calls only
    // bpf_modify_return_test (1 << 16 | 4); later kernels (6.12 here) also
    // call bpf_modify_return_test2(1, &b, 3, 4, 5, 6, 7) = 1 + 3 + 3 + 4 +
    // 5 + 6 + 7: one more side effect and 29 more (2 << 16 | 33).
    let original = run_modify_return_test(fmod_ret);
    let (other_side_effects, other_ret) = match original {
        0x1_0004 => (0, 0),
        0x2_0021 => (1, 29),
        _ => panic!("test_run of an unattached fmod_ret program: unexpected {original:#x}"),
    };

    let fexit = exit_obj
        .program("fexit_modify_return")
        .unwrap()
        .attach_tracing()
        .unwrap();
    assert_eq!(run_modify_return_test(fmod_ret), original);
    assert_eq!(hits(&exit_obj, 6), 1, "fexit runs once per call");
    assert_eq!(
        hits(&exit_obj, 7),
        4,
        "fexit sees the function's own return"
    );

    let modify = link::attach_auto(fmod_ret)
        .unwrap()
        .expect("fmod_ret/ attaches by itself");
    assert_eq!(modify.info().unwrap().link_type, 2, "a tracing link");
    // The function is skipped: b stays 2 (one side effect fewer) and its
    // return is FMOD_RET_VALUE, for the kernel and for fexit alike.
    assert_eq!(
        run_modify_return_test(fmod_ret),
        other_side_effects << 16 | (FMOD_RET_VALUE + other_ret)
    );
    assert_eq!(hits(&mod_obj, 5), 1, "fmod_ret runs once per call");
    assert_eq!(hits(&exit_obj, 6), 2);
    assert_eq!(hits(&exit_obj, 7), u64::from(FMOD_RET_VALUE));

    drop(modify);
    assert_eq!(
        run_modify_return_test(fmod_ret),
        original,
        "the original return is back after the fmod_ret link is dropped"
    );
    assert_eq!(
        hits(&mod_obj, 5),
        1,
        "fmod_ret ran after its link was dropped"
    );
    assert_eq!(hits(&exit_obj, 6), 3);
    assert_eq!(hits(&exit_obj, 7), 4);

    drop(fexit);
    run_modify_return_test(fmod_ret);
    assert_eq!(
        hits(&exit_obj, 6),
        3,
        "fexit ran after its link was dropped"
    );
}

/// What fmod_ret_file_open makes security_file_open return, negated
/// (FAIL_OPEN_ERRNO in attach_tracing.bpf.c: ENOTUNIQ on x86 and arm64).
const FAIL_OPEN_ERRNO: i32 = 76;

/// This thread's id, from /proc/thread-self (-> `<pid>/task/<tid>`).
fn this_thread_id() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// Sets the fixture's `fail_open_tid` (its only .data variable).
fn set_fail_open_tid(obj: &bpf2rs::load::Object, tid: u32) {
    let data = obj.data(".data").expect("fixture has .data");
    data.map
        .update(&0u32.to_ne_bytes(), &tid.to_ne_bytes(), Default::default())
        .unwrap();
}

/// fmod_ret on a security_* function, which every kernel with trampolines
/// lets fmod_ret modify (6.1 included): the open(2)s of this thread fail
/// with the program's errno, other threads' do not, fexit sees the
/// modified return, and dropping the link brings the real one back.
#[test]
fn fmod_ret_fails_this_threads_opens_until_dropped() {
    let Some(mod_obj) =
        load_or_refused(FIXTURE, "fmod_ret_file_open", "fmod_ret/security_file_open")
    else {
        return;
    };
    let exit_obj = load_only(FIXTURE, Some("fexit_file_open"));
    let tid = this_thread_id();
    set_fail_open_tid(&mod_obj, tid);
    set_fail_open_tid(&exit_obj, tid);
    let open = || std::fs::File::open("/proc/self/stat").map(drop);

    let fexit = exit_obj
        .program("fexit_file_open")
        .unwrap()
        .attach_tracing()
        .unwrap();
    open().unwrap();
    assert_eq!(hits(&exit_obj, 9), 1, "fexit runs once per open");
    assert_eq!(
        hits(&exit_obj, 10),
        0,
        "security_file_open allowed the open"
    );

    let modify = link::attach_auto(mod_obj.program("fmod_ret_file_open").unwrap())
        .unwrap()
        .expect("fmod_ret/ attaches by itself");
    assert_eq!(modify.info().unwrap().link_type, 2, "a tracing link");
    let e = open().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(FAIL_OPEN_ERRNO), "{e}");
    assert_eq!(hits(&mod_obj, 8), 1, "fmod_ret runs once per open");
    assert_eq!(hits(&exit_obj, 9), 2);
    assert_eq!(
        hits(&exit_obj, 10),
        u64::from((-FAIL_OPEN_ERRNO) as u32),
        "fexit sees the modified return"
    );
    // Another thread of this process opens as usual.
    std::thread::spawn(open).join().unwrap().unwrap();
    assert_eq!(hits(&mod_obj, 8), 1);

    drop(modify);
    open().unwrap();
    assert_eq!(
        hits(&mod_obj, 8),
        1,
        "fmod_ret ran after its link was dropped"
    );
    assert_eq!(hits(&exit_obj, 9), 3);
    assert_eq!(hits(&exit_obj, 10), 0, "the real return is back");

    drop(fexit);
    open().unwrap();
    assert_eq!(
        hits(&exit_obj, 9),
        3,
        "fexit ran after its link was dropped"
    );
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
fn task_iterator_link_is_gone_once_dropped() {
    let obj = load_only(FIXTURE, Some("dump_task"));
    let l = obj.program("dump_task").unwrap().attach_iter(None).unwrap();
    let id = l.info().unwrap().id;
    // Another fd of the same link iterates too.
    let again = Link::from_id(id).unwrap();
    assert_eq!(again.info().unwrap().id, id);
    assert!(!again.read_iter().unwrap().is_empty());
    let runs = hits(&obj, 4);
    drop((l, again));
    // No link, so no iterator can be created from it: the program cannot run.
    assert_link_gone(id);
    assert_eq!(hits(&obj, 4), runs);
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
    let id = l.info().unwrap().id;
    drop(l);
    assert_link_gone(id);
}
