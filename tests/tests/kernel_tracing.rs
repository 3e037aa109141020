//! Loading tracing objects on the running kernel: CO-RE relocations agree
//! with what bpftool reads from /sys/kernel/btf/vmlinux, tp_btf and iter
//! programs get their attach BTF ids, `.kconfig` / `__ksym` externs are
//! resolved (and a missing strong one is named), and poisoned relocations
//! fail only when reachable, naming the relocation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::collections::HashMap;
use std::process::Command;

use bpf2rs::load::OpenObject;
use bpf2rs::prog::TestRunInput;
use bpf2rs_tests::{fixture, require_root};

/// `bpftool btf dump` of vmlinux, raw format.
fn bpftool_dump() -> String {
    let out = Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .expect("bpftool must be installed for this test");
    assert!(out.status.success(), "bpftool failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Member byte offsets and size of `STRUCT 'name'` from bpftool's dump.
/// The number right after `key` in a bpftool dump line (`size=16 vlen=2`).
fn number_after(line: &str, key: &str) -> u64 {
    let rest = line
        .split(key)
        .nth(1)
        .unwrap_or_else(|| panic!("no {key} in {line:?}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

fn struct_layout(dump: &str, name: &str) -> (u64, HashMap<String, u64>) {
    let header = format!("STRUCT '{name}' size=");
    let mut lines = dump.lines().skip_while(|l| !l.contains(&header));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no struct {name} in vmlinux"));
    let size = number_after(first, "size=");
    let mut members = HashMap::new();
    for l in lines.take_while(|l| l.starts_with('\t')) {
        let name = l.trim().split('\'').nth(1).unwrap().to_owned();
        let bits = number_after(l, "bits_offset=");
        members.insert(name, bits / 8);
    }
    (size, members)
}

fn enum_value(dump: &str, enum_name: &str, value: &str) -> u64 {
    let header = format!("ENUM '{enum_name}' ");
    dump.lines()
        .skip_while(|l| !l.contains(&header))
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .find(|l| l.contains(&format!("'{value}'")))
        .and_then(|l| l.split("val=").nth(1)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {value} in enum {enum_name}"))
}

#[test]
fn core_relocations_of_a_tracing_object_match_bpftool() {
    require_root();
    let obj = OpenObject::open_file(fixture("core_trace.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    let dump = bpftool_dump();
    let (task_size, task) = struct_layout(&dump, "task_struct");
    let (_, bprm) = struct_layout(&dump, "linux_binprm");
    let relos = obj.core_relocations("on_exec");
    let value_of = |desc: &str| {
        let r = relos
            .iter()
            .find(|c| c.resolution.description.starts_with(desc))
            .unwrap_or_else(|| panic!("no relocation `{desc}` in {relos:#?}"));
        r.resolution.new_val
    };
    assert_eq!(value_of("byte_off struct task_struct.tgid "), task["tgid"]);
    assert_eq!(value_of("byte_off struct task_struct.pid "), task["pid"]);
    assert_eq!(
        value_of("byte_off struct task_struct.real_parent "),
        task["real_parent"]
    );
    assert_eq!(
        value_of("byte_off struct linux_binprm.filename "),
        bprm["filename"]
    );
    assert_eq!(value_of("type_size struct task_struct "), task_size);
    assert_eq!(value_of("type_exists struct task_struct "), 1);
    assert_eq!(
        value_of("enumval_value enum pid_type::PIDTYPE_TGID "),
        enum_value(&dump, "pid_type", "PIDTYPE_TGID")
    );
    // The flavor's missing field: existence is 0 and the guarded read is
    // poisoned, yet the program loaded (the verifier never reached it).
    assert_eq!(
        value_of("field_exists struct task_struct___bpf2rs.bpf2rs_no_such_field "),
        0
    );
    assert!(relos.iter().any(|c| c.resolution.poison
        && c.resolution
            .description
            .starts_with("byte_off struct task_struct___bpf2rs")));
    // The iterator's context is relocated too, and the program is loaded.
    assert!(!obj.core_relocations("dump_task").is_empty());
    for p in ["on_exec", "dump_task"] {
        assert!(obj.program(p).unwrap().id().is_ok(), "{p} loaded");
    }
}

#[test]
fn reachable_poisoned_relocation_fails_naming_it() {
    require_root();
    let err = OpenObject::open_file(fixture("core_poison.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("CO-RE relocation byte_off struct task_struct___bpf2rs.bpf2rs_no_such_field (0:0) found nothing"),
        "{text}"
    );
}

fn kernel_version_code() -> u32 {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let nums: Vec<u32> = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    nums[0] << 16 | nums[1] << 8 | nums[2].min(255)
}

/// CONFIG_HZ as `zcat /proc/config.gz` (or /boot/config-*) says.
fn config_value(name: &str) -> Option<String> {
    let text = Command::new("sh")
        .args([
            "-c",
            "cat /boot/config-$(uname -r) 2>/dev/null || zcat /proc/config.gz",
        ])
        .output()
        .ok()?
        .stdout;
    let text = String::from_utf8(text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")).map(str::to_owned))
}

#[test]
fn globals_externs_resolve_and_run() {
    require_root();
    let mut obj = OpenObject::open_file(fixture("globals.bpf.o"))
        .unwrap()
        .load()
        .unwrap();
    // The .kconfig map holds LINUX_KERNEL_VERSION as uname says.
    let kconfig = obj.data(".kconfig").expect("a .kconfig map");
    let mut value = vec![0u8; kconfig.map.info().value_size as usize];
    assert!(kconfig.map.lookup(&0u32.to_ne_bytes(), &mut value).unwrap());
    let version = kernel_version_code().to_ne_bytes();
    assert!(
        value.chunks(4).any(|c| c == version),
        "LINUX_KERNEL_VERSION {:#x} not in {value:?}",
        kernel_version_code()
    );
    let prog = obj.program("glob_xdp").unwrap();
    let out = prog
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, 2, "XDP_PASS");
    let bss = obj.data_mut(".bss").unwrap().to_vec().unwrap();
    let arr = |i: usize| u32::from_ne_bytes(bss[8 + 4 * i..12 + 4 * i].try_into().unwrap());
    // bss_arr[1] = CONFIG_HZ when CONFIG_BPF_SYSCALL; [2] = CONFIG_BPF_JIT == y;
    // [3] = the kfunc bpf_cast_to_kern_ctx returned a pointer.
    let hz: u32 = config_value("CONFIG_HZ").map_or(0, |v| v.parse().unwrap());
    assert_eq!(arr(1), hz, "CONFIG_HZ from the kernel config");
    assert_eq!(
        arr(2),
        u32::from(config_value("CONFIG_BPF_JIT").as_deref() == Some("y"))
    );
    // The kfunc is __weak and new in 6.2: on older kernels the loader
    // poisons its call and the program's version check skips it.
    let vmlinux = bpf2rs::btf::Btf::from_file("/sys/kernel/btf/vmlinux").unwrap();
    let has_kfunc = vmlinux
        .find_by_name("bpf_cast_to_kern_ctx", bpf2rs::btf::Kind::Func)
        .is_ok();
    assert_eq!(
        arr(3),
        u32::from(has_kfunc),
        "kfunc call ran iff the kernel has it"
    );
    // .data: g_counter 5 + 1, + 2 when LINUX_KERNEL_VERSION >= 6.0.
    let data = obj.data(".data").unwrap().to_vec().unwrap();
    let g_counter = i32::from_ne_bytes(data[0..4].try_into().unwrap());
    assert_eq!(
        g_counter,
        if kernel_version_code() >= 0x060000 {
            8
        } else {
            6
        }
    );
}

#[test]
fn missing_strong_extern_is_named() {
    require_root();
    let err = OpenObject::open_file(fixture("extern_missing.bpf.o"))
        .unwrap()
        .load()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("extern `CONFIG_BPF2RS_DOES_NOT_EXIST`"),
        "{err}"
    );
}

#[test]
fn custom_core_target_file_is_used() {
    require_root();
    // The running kernel's BTF given as a file gives the same result.
    let mut open = OpenObject::open_file(fixture("core_trace.bpf.o")).unwrap();
    open.set_core_target("/sys/kernel/btf/vmlinux");
    let obj = open.load().unwrap();
    assert!(!obj.core_relocations("on_exec").is_empty());
    // A target that is not BTF is a clear error.
    let mut open = OpenObject::open_file(fixture("core_trace.bpf.o")).unwrap();
    open.set_core_target(fixture("core_trace.bpf.c"));
    let err = open.load().unwrap_err().to_string();
    assert!(err.contains("reading the kernel BTF"), "{err}");
}

#[test]
fn typed_ksym_is_passed_to_the_kernel_by_btf_id() {
    require_root();
    // Without CONFIG_KALLSYMS_ALL the kernel cannot find a per-CPU
    // variable's address and refuses the program (libbpf too); the refusal
    // must name the symbol, which proves the ld_imm64 carried its BTF id.
    match OpenObject::open_file(fixture("core_ksym_typed.bpf.o"))
        .unwrap()
        .load()
    {
        Ok(obj) => assert!(obj.program("read_rq").unwrap().id().is_ok()),
        Err(e) => {
            let log = e.verifier_log().unwrap_or_default();
            assert!(log.contains("kernel symbol 'runqueues'"), "{e}");
            assert!(config_value("CONFIG_KALLSYMS_ALL").is_none(), "{e}");
        }
    }
}

#[test]
fn attach_targets_missing_from_the_kernel_are_named() {
    require_root();
    let load_with = |prog: &str, edit: &dyn Fn(&mut bpf2rs::obj::SectionDef)| {
        let mut spec = bpf2rs::obj::ObjectSpec::from_file(fixture("core_trace.bpf.o")).unwrap();
        let p = spec.programs.iter_mut().find(|p| p.name == prog).unwrap();
        edit(p.def.as_mut().unwrap());
        OpenObject::from_spec(spec).load().unwrap_err().to_string()
    };
    let err = load_with("on_exec", &|d| {
        d.attach_target = Some("bpf2rs_no_such_tp".into())
    });
    assert!(err.contains("program on_exec"), "{err}");
    assert!(
        err.contains("tracepoint typedef `btf_trace_bpf2rs_no_such_tp`"),
        "{err}"
    );
    let err = load_with("dump_task", &|d| {
        d.attach_target = Some("bpf2rs_nope".into())
    });
    assert!(err.contains("function `bpf_iter_bpf2rs_nope`"), "{err}");
    let err = load_with("on_exec", &|d| d.attach_target = None);
    assert!(err.contains("names no attach target"), "{err}");
    let err = load_with("on_exec", &|d| {
        d.prog_type = bpf2rs::obj::ProgType::STRUCT_OPS
    });
    assert!(
        err.contains("no variable of this object points at it"),
        "{err}"
    );
}
