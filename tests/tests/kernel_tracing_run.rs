//! The relocated programs run: a tp_btf program on sched_process_exec
//! reads task_struct and linux_binprm fields through CO-RE while the test
//! execs a child, and a task iterator prints every pid. Their own binary:
//! other tests' execs would race for the same global results.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::process::Command;

use bpf2rs::load::OpenObject;
use bpf2rs_tests::{fixture, require_root};

#[test]
fn tp_btf_program_reads_task_fields_through_core() {
    require_root();
    let spec = bpf2rs::obj::ObjectSpec::from_file(fixture("core_trace.bpf.o")).unwrap();
    let bss_spec = spec.data.iter().find(|d| d.name == ".bss").unwrap().clone();
    let var = |name: &str| {
        let v = bss_spec.vars.iter().find(|v| v.name == name).unwrap();
        v.offset as usize..(v.offset + v.size) as usize
    };
    let obj = OpenObject::from_spec(spec).load().unwrap();
    let link = obj.program("on_exec").unwrap().attach_tracing().unwrap();
    // Exec until the program has seen our child (another process may exec too).
    let mut seen = None;
    for _ in 0..20 {
        let child = Command::new("/bin/true").spawn().unwrap();
        let pid = child.id();
        let _ = child.wait_with_output();
        let bss = obj.data(".bss").unwrap().to_vec().unwrap();
        let seen_pid = u32::from_ne_bytes(bss[var("seen_pid")].try_into().unwrap());
        if seen_pid == pid {
            seen = Some(bss);
            break;
        }
    }
    drop(link);
    let bss = seen.expect("the program never saw our child's exec");
    let parent = u32::from_ne_bytes(bss[var("seen_parent")].try_into().unwrap());
    assert_eq!(parent, std::process::id(), "task->real_parent->tgid is us");
    let file = &bss[var("seen_file")];
    assert!(file.starts_with(b"/bin/true\0"), "bprm->filename: {file:?}");
    let out: Vec<u64> = bss[var("out")]
        .chunks(8)
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    let relos = obj.core_relocations("on_exec");
    let relocated = |prefix: &str| {
        relos
            .iter()
            .find(|c| c.resolution.description.starts_with(prefix))
            .unwrap()
            .resolution
            .new_val
    };
    assert_eq!(out[0], relocated("byte_off struct task_struct.pid "));
    assert_eq!(out[1], relocated("byte_off struct task_struct.tgid "));
    assert_eq!(out[3], 1, "PIDTYPE_TGID");
    assert_eq!(out[4], 0, "the flavor's field does not exist");
    assert_eq!(out[5], relocated("type_size struct task_struct "));
    assert_eq!(out[6], 1);
}

#[test]
fn task_iterator_prints_our_pid() {
    require_root();
    let obj = OpenObject::open_file(fixture("core_trace.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let link = obj.program("dump_task").unwrap().attach_iter(None).unwrap();
    let text = String::from_utf8(link.read_iter().unwrap()).unwrap();
    let me = std::process::id().to_string();
    assert!(
        text.lines().any(|l| l == me),
        "our pid {me} in the task iterator's output"
    );
}
