//! Real-kernel tests of the loader settings (tests/bpf/settings.bpf.c): per
//! map set_map_flags, set_numa_node, set_autocreate, set_initial_value (and
//! OpenObject::set_initial_value for global data); per program
//! set_sleepable / set_flags, set_xdp_frags, set_ifindex and
//! set_attach_target (a kernel tracepoint or function other than the
//! section's, a function of a kernel module, a global function of another loaded program for freplace and
//! fentry). Each value is read back from the kernel or seen by a program.
//! fentry and freplace need BPF trampolines: where the kernel refuses them
//! the refusal is checked and the test says NOT RUN.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_attach_util;

use bpf2rs::load::{LoadError, Object, OpenObject, BPF_F_SLEEPABLE};
use bpf2rs::prog::TestRunInput;
use kernel_attach_util::{assert_refused, fixture, getpid_syscalls, kernel_version, not_run};

const FIXTURE: &str = "settings.bpf.o";
const BPF_F_NO_PREALLOC: u32 = 1;
const BPF_F_NUMA_NODE: u32 = 1 << 2;
const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;
/// .rodata: cfg_magic at 0, target_tgid at 4 (see the fixture's header).
const RODATA_TGID: usize = 4;
/// .bss: seen_magic, seen_table, seen_len, then hits[4] from 16.
const BSS_SEEN_MAGIC: usize = 0;
const BSS_SEEN_TABLE: usize = 4;
const BSS_SEEN_LEN: usize = 8;
const BSS_HITS: usize = 16;

/// Opens the fixture with only `programs` to load and target_tgid set to
/// this process.
fn open(programs: &[&str]) -> OpenObject {
    common::require_root();
    let mut open = OpenObject::open_file(fixture(FIXTURE)).unwrap();
    common::autoload_only(&mut open, |n| programs.contains(&n));
    open.data_mut(".rodata").unwrap()[RODATA_TGID..RODATA_TGID + 4]
        .copy_from_slice(&std::process::id().to_ne_bytes());
    open
}

fn bss(obj: &Object) -> Vec<u8> {
    let bss = obj.data(".bss").unwrap();
    let mut buf = vec![0u8; bss.map.info().value_size as usize];
    assert!(bss.map.lookup(&0u32.to_ne_bytes(), &mut buf).unwrap());
    buf
}

fn bss_u32(obj: &Object, at: usize) -> u32 {
    u32::from_ne_bytes(bss(obj)[at..at + 4].try_into().unwrap())
}

fn hits(obj: &Object, i: usize) -> u64 {
    let at = BSS_HITS + 8 * i;
    u64::from_ne_bytes(bss(obj)[at..at + 8].try_into().unwrap())
}

/// Calls `trigger` until hits[i] moves (up to 2 s); returns the count.
fn wait_hits(obj: &Object, i: usize, mut trigger: impl FnMut()) -> u64 {
    let start = std::time::Instant::now();
    loop {
        trigger();
        let n = hits(obj, i);
        if n > 0 || start.elapsed() > std::time::Duration::from_secs(2) {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn errno(e: &LoadError) -> Option<i32> {
    match e {
        LoadError::Verifier(v) => v.source.errno(),
        LoadError::Map {
            source: bpf2rs::map::MapError::Sys { source, .. },
            ..
        } => source.errno(),
        _ => None,
    }
}

fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

/// The id of `name` (of kind `kind`) in the running kernel's vmlinux BTF.
fn vmlinux_id(name: &str, kind: bpf2rs::btf::Kind) -> u32 {
    let btf = bpf2rs::btf::Btf::from_sys_fs().unwrap();
    btf.find_by_name(name, kind).unwrap().0
}

#[test]
fn map_flags_replace_the_definitions() {
    let obj = open(&[]).load().unwrap();
    assert_eq!(obj.map("flagged").unwrap().info().map_flags, 0);
    drop(obj);
    let mut open = open(&[]);
    open.map_mut("flagged")
        .unwrap()
        .set_map_flags(BPF_F_NO_PREALLOC);
    let obj = open.load().unwrap();
    assert_eq!(
        obj.map("flagged").unwrap().info().map_flags,
        BPF_F_NO_PREALLOC
    );
}

/// bpf_map_info has no numa_node: the flag is read back, and a node the
/// kernel does not have must reach BPF_MAP_CREATE and be refused there.
#[test]
fn numa_node_sets_the_flag_and_the_kernel_checks_the_node() {
    let mut open = open(&[]);
    open.map_mut("placed").unwrap().set_numa_node(0);
    let obj = open.load().unwrap();
    let info = obj.map("placed").unwrap().info().clone();
    assert_eq!(info.map_flags & BPF_F_NUMA_NODE, BPF_F_NUMA_NODE);
    drop(obj);

    let mut open = self::open(&[]);
    open.map_mut("placed").unwrap().set_numa_node(4096);
    let e = open.load().unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("settings: map placed: "), "{text}");
    assert_eq!(errno(&e), Some(libc::EINVAL), "{text}");
}

#[test]
fn autocreate_off_leaves_the_map_out_and_its_users_fail_by_name() {
    let mut open = open(&["read_settings"]);
    open.map_mut("optional").unwrap().set_autocreate(false);
    let obj = open.load().unwrap();
    assert!(obj.map("optional").is_none());
    assert!(obj.map_not_created("optional"));
    assert!(obj.map("placed").is_some());
    assert!(!obj.map_not_created("placed"));
    drop(obj);

    let mut open = self::open(&["uses_optional"]);
    open.map_mut("optional").unwrap().set_autocreate(false);
    let text = open.load().unwrap_err().to_string();
    assert_eq!(
        text,
        "settings: program uses_optional: uses map optional, which is not created (its \
         autocreate is off): turn this program's autoload off too, or create the map"
    );
}

#[test]
fn initial_values_fill_an_array_map_and_global_data() {
    let mut open = open(&["read_settings"]);
    open.map_mut("table")
        .unwrap()
        .set_initial_value(u32s(&[10, 20, 30, 40]));
    let mut rodata = u32s(&[0x5eed, std::process::id()]);
    open.set_initial_value(".rodata", &rodata).unwrap();
    // The untyped buffer, what a skeleton's rodata_mut() views too, shows
    // it; a later write through it wins.
    assert_eq!(open.data_mut(".rodata").unwrap(), &rodata[..]);
    open.data_mut(".rodata").unwrap()[0] = 0xee;
    rodata[0] = 0xee;
    let obj = open.load().unwrap();
    let table = obj.map("table").unwrap();
    let mut value = [0u8; 4];
    for (i, want) in [10u32, 20, 30, 40].into_iter().enumerate() {
        assert!(table.lookup(&(i as u32).to_ne_bytes(), &mut value).unwrap());
        assert_eq!(u32::from_ne_bytes(value), want);
    }
    let ro = obj.data(".rodata").unwrap();
    let mut read = vec![0u8; 8];
    assert!(ro.map.lookup(&0u32.to_ne_bytes(), &mut read).unwrap());
    assert_eq!(read, rodata);
    let prog = obj.program("read_settings").unwrap();
    let out = prog
        .test_run(&TestRunInput {
            data: &[0u8; 64],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, XDP_PASS);
    assert_eq!(bss_u32(&obj, BSS_SEEN_MAGIC), 0x5eee);
    assert_eq!(bss_u32(&obj, BSS_SEEN_TABLE), 20);
}

#[test]
fn initial_values_of_the_wrong_size_or_map_are_refused_by_name() {
    let mut open = open(&[]);
    let e = open.set_initial_value(".rodata", &[0u8; 3]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "settings: global data .rodata: the initial value is 3 bytes, the section 8"
    );
    let e = open.set_initial_value("table", &[0u8; 16]).unwrap_err();
    assert!(e.to_string().contains("table is a map definition"), "{e}");
    let e = open.set_initial_value(".nope", &[]).unwrap_err();
    assert!(
        e.to_string().contains("no global data section .nope"),
        "{e}"
    );

    open.map_mut("table")
        .unwrap()
        .set_initial_value(u32s(&[1, 2]));
    assert_eq!(
        open.load().unwrap_err().to_string(),
        "settings: map table: the initial value is 8 bytes, the map holds 16 (4 entries of 4 bytes)"
    );
    let mut open = self::open(&[]);
    open.map_mut("flagged")
        .unwrap()
        .set_initial_value(vec![0u8; 8]);
    let text = open.load().unwrap_err().to_string();
    assert!(
        text.starts_with(
            "settings: map flagged: an initial value is for array maps, and this is a hash map"
        ),
        "{text}"
    );
}

/// bpf_prog_info does not report prog_flags: sleepable shows in what the
/// verifier allows. bpf_copy_from_user may sleep, so only a sleepable
/// program may call it.
#[test]
fn sleepable_lets_a_program_call_a_sleeping_helper() {
    let e = open(&["copy_user"]).load().unwrap_err();
    let log = e.verifier_log().unwrap_or_default();
    assert!(log.contains("sleep"), "{e}");

    let mut open = self::open(&["copy_user"]);
    open.program_mut("copy_user").unwrap().set_sleepable(true);
    let obj = open.load().unwrap();
    assert!(obj.program("copy_user").unwrap().info().unwrap().id > 0);

    // The last of set_flags and set_sleepable decides the bit.
    let mut open = self::open(&["copy_user"]);
    let settings = open.program_mut("copy_user").unwrap();
    settings.set_flags(BPF_F_SLEEPABLE);
    settings.set_sleepable(false);
    assert!(open.load().is_err());
    let mut open = self::open(&["copy_user"]);
    let settings = open.program_mut("copy_user").unwrap();
    settings.set_sleepable(false);
    settings.set_flags(BPF_F_SLEEPABLE);
    open.load().unwrap();
}

/// The kernel reports no prog_flags, and BPF_PROG_TEST_RUN hands any XDP
/// program a packet bigger than a page as fragments. What shows that the
/// flag reaches BPF_PROG_LOAD: an XDP program bound to a device for offload
/// may not have frags (EINVAL: kernel/bpf/offload.c; Linux 6.1 takes no
/// flags at all there), where the same program without the flag gets as
/// far as the device (EOPNOTSUPP: lo has no ndo_bpf).
#[test]
fn xdp_frags_reaches_the_kernel_and_a_frags_program_runs() {
    let packet = vec![0u8; 9000];
    let input = TestRunInput {
        data: &packet,
        ..Default::default()
    };
    let mut open = open(&["buff_len"]);
    open.program_mut("buff_len").unwrap().set_xdp_frags(true);
    let obj = open.load().unwrap();
    let out = obj.program("buff_len").unwrap().test_run(&input).unwrap();
    assert_eq!(out.retval, XDP_PASS);
    assert_eq!(bss_u32(&obj, BSS_SEEN_LEN), 9000);

    let lo = bpf2rs::link::interface_index("lo").unwrap();
    for (frags, want) in [(false, libc::EOPNOTSUPP), (true, libc::EINVAL)] {
        let mut open = self::open(&["buff_len"]);
        let settings = open.program_mut("buff_len").unwrap();
        settings.set_ifindex(lo);
        settings.set_xdp_frags(frags);
        let e = open.load().unwrap_err();
        assert_eq!(errno(&e), Some(want), "frags {frags}: {e}");
    }
}

/// `lo` can neither run offloaded programs nor give dev-bound XDP programs
/// metadata: the kernel refuses the binding at BPF_PROG_LOAD, before
/// verifying (no log), and the error names the program.
#[test]
fn ifindex_binds_the_program_and_lo_is_refused() {
    let lo = bpf2rs::link::interface_index("lo").unwrap();
    for flags in [0, bpf2rs::load::BPF_F_XDP_DEV_BOUND_ONLY] {
        let mut open = open(&["read_settings"]);
        let settings = open.program_mut("read_settings").unwrap();
        settings.set_ifindex(lo);
        settings.set_flags(flags);
        let e = open.load().unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "settings: program read_settings (section xdp): the kernel rejected it: BPF_PROG_LOAD: "
            ),
            "{text}"
        );
        let why = format!(
            "\n--- verifier log ---\n(no verifier output: the kernel refused to bind the \
             program to device {lo} (prog_ifindex). "
        );
        assert!(text.contains(&why), "{text}");
        // lo has no ndo_bpf: EOPNOTSUPP (kernel/bpf/offload.c,
        // bpf_dev_offload_check); before 6.3 the dev-bound flag is unknown
        // to the kernel: EINVAL.
        let want = if flags != 0 && kernel_version() < (6, 3) {
            libc::EINVAL
        } else {
            libc::EOPNOTSUPP
        };
        assert_eq!(errno(&e), Some(want), "flags {flags:#x}: {text}");
    }
    dev_bound_on_veth();
}

/// A veth has ndo_bpf: a dev-bound-only XDP program loads for it (6.3+)
/// and attaches to it only. Needs `ip` to make the pair.
fn dev_bound_on_veth() {
    const VETH: &str = "bpf2rs_set0";
    if kernel_version() < (6, 3) {
        not_run(
            "dev-bound XDP on a veth",
            "BPF_F_XDP_DEV_BOUND_ONLY is Linux 6.3+",
        );
        return;
    }
    let made = std::process::Command::new("ip")
        .args([
            "link",
            "add",
            VETH,
            "type",
            "veth",
            "peer",
            "name",
            "bpf2rs_set1",
        ])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        not_run(
            "dev-bound XDP on a veth",
            "`ip link add ... type veth` failed",
        );
        return;
    }
    let ifindex = bpf2rs::link::interface_index(VETH).unwrap();
    let mut open = open(&["read_settings"]);
    let settings = open.program_mut("read_settings").unwrap();
    settings.set_ifindex(ifindex);
    settings.set_flags(bpf2rs::load::BPF_F_XDP_DEV_BOUND_ONLY);
    let checked = open.load().map(|obj| {
        // bpf_prog_info's ifindex is only for offloaded programs; a
        // dev-bound one shows its device at attach: it attaches there and
        // nowhere else (net/core/dev.c, dev_xdp_attach).
        let prog = obj.program("read_settings").unwrap();
        assert_eq!(prog.info().unwrap().ifindex, 0);
        let lo = bpf2rs::link::interface_index("lo").unwrap();
        let elsewhere = prog.attach_xdp(lo, bpf2rs::link::XdpFlags::SKB_MODE);
        let here = prog.attach_xdp(ifindex, bpf2rs::link::XdpFlags::DRV_MODE);
        (elsewhere.map(drop), here.map(drop))
    });
    let _ = std::process::Command::new("ip")
        .args(["link", "del", VETH])
        .status();
    let (elsewhere, here) = checked.unwrap();
    here.unwrap();
    let e = elsewhere.unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
}

/// tp_btf needs no trampoline: this runs everywhere.
#[test]
fn attach_target_points_tp_btf_at_another_tracepoint() {
    let mut open = open(&["on_tracepoint"]);
    open.program_mut("on_tracepoint")
        .unwrap()
        .set_attach_target(None, "sys_enter");
    let obj = open.load().unwrap();
    let prog = obj.program("on_tracepoint").unwrap();
    // attach_btf_id is in bpf_prog_info from Linux 6.0.
    if kernel_version() >= (6, 0) {
        let want = vmlinux_id("btf_trace_sys_enter", bpf2rs::btf::Kind::Typedef);
        assert_eq!(prog.info().unwrap().attach_btf_id, want);
    }
    let _link = prog.attach_tracing().unwrap();
    assert!(
        wait_hits(&obj, 2, getpid_syscalls) > 0,
        "sys_enter never ran"
    );

    let mut open = self::open(&["on_tracepoint"]);
    open.program_mut("on_tracepoint")
        .unwrap()
        .set_attach_target(None, "no_such_tracepoint");
    assert_eq!(
        open.load().unwrap_err().to_string(),
        "settings: program on_tracepoint: section `tp_btf/sched_switch`: the kernel BTF \
         (vmlinux and modules) has no tracepoint typedef `btf_trace_no_such_tracepoint`"
    );
}

/// Loads `program` (needing a trampoline); `None` after checking and
/// printing the refusal where the kernel has none for us.
fn load_or_refused(open: OpenObject, program: &str, section: &str) -> Option<Object> {
    match open.load() {
        Ok(obj) => Some(obj),
        Err(e) => {
            assert_refused(FIXTURE, program, section, &e);
            None
        }
    }
}

/// `on_function` (fentry/do_unlinkat) loaded with kernel function
/// `target` as its attach target; `None` where trampolines are refused.
fn on_function_at(target: &str) -> Option<Object> {
    let mut open = open(&["on_function"]);
    open.program_mut("on_function")
        .unwrap()
        .set_attach_target(None, target);
    load_or_refused(open, "on_function", "fentry/do_unlinkat")
}

#[test]
fn attach_target_points_fentry_at_another_kernel_function() {
    let Some(obj) = on_function_at("do_sys_openat2") else {
        return;
    };
    let prog = obj.program("on_function").unwrap();
    let want = vmlinux_id("do_sys_openat2", bpf2rs::btf::Kind::Func);
    assert_eq!(prog.info().unwrap().attach_btf_id, want);
    let _link = prog.attach_tracing().unwrap();
    let open_file = || drop(std::hint::black_box(std::fs::File::open("/proc/self/stat")));
    assert!(
        wait_hits(&obj, 1, open_file) > 0,
        "fentry on do_sys_openat2 never ran"
    );
}

/// The BTF object id of kernel module `module` and the id of function
/// `name` in its (split) BTF.
fn module_function(module: &str, name: &str) -> (u32, u32) {
    let mut id = 0;
    let mut object = None;
    while let Some(next) = bpf2rs::sys::btf_next_id(id).unwrap() {
        id = next;
        let Ok(fd) = bpf2rs::sys::btf_fd_by_id(id) else {
            continue;
        };
        let info = bpf2rs::sys::btf_object(std::os::fd::AsFd::as_fd(&fd), false).unwrap();
        if info.kernel_btf && info.name == module {
            object = Some(id);
        }
    }
    let vmlinux = std::sync::Arc::new(bpf2rs::btf::Btf::from_sys_fs().unwrap());
    let bytes = std::fs::read(format!("/sys/kernel/btf/{module}")).unwrap();
    let split = bpf2rs::btf::Btf::parse_split(&bytes, vmlinux).unwrap();
    let func = split.find_by_name(name, bpf2rs::btf::Kind::Func).unwrap();
    (object.expect("a loaded BTF object of the module"), func.0)
}

#[test]
fn attach_target_points_fentry_at_a_module_function() {
    // cls_bpf is a module on Debian's kernels (scripts/vmtest loads it);
    // its classify function runs for every packet a tc bpf filter sees.
    if !std::path::Path::new("/sys/kernel/btf/cls_bpf").exists() {
        common::require_root();
        not_run(
            "fentry on a module function",
            "cls_bpf is not a module with BTF on this kernel",
        );
        return;
    }
    let Some(obj) = on_function_at("cls_bpf_classify") else {
        return;
    };
    let prog = obj.program("on_function").unwrap();
    let info = prog.info().unwrap();
    let (module, func) = module_function("cls_bpf", "cls_bpf_classify");
    assert_eq!(
        (info.attach_btf_obj_id, info.attach_btf_id),
        (module, func),
        "the target is the module's function, by the module's BTF"
    );
    let _link = prog.attach_tracing().unwrap();
    // A tc bpf filter (through netlink, so cls_bpf runs it) on lo.
    let tc = kernel_attach_util::load_only("attach.bpf.o", Some("tcx_count"));
    let opts = bpf2rs::link::TcOpts {
        mode: bpf2rs::link::TcMode::Netlink,
        ..Default::default()
    };
    let filter = tc.program("tcx_count").unwrap().attach_tc(1, false, opts);
    let _filter = filter.unwrap();
    assert!(
        wait_hits(&obj, 1, kernel_attach_util::udp_roundtrip) > 0,
        "fentry on cls_bpf_classify never ran"
    );
}

/// Loads xdp_target, whose global function `check` the others attach to.
fn load_target() -> Object {
    let obj = open(&["xdp_target"]).load().unwrap();
    assert_eq!(run_target(&obj), XDP_PASS);
    obj
}

fn run_target(target: &Object) -> u32 {
    let input = TestRunInput {
        data: &[0u8; 64],
        ..Default::default()
    };
    let prog = target.program("xdp_target").unwrap();
    prog.test_run(&input).unwrap().retval
}

fn target_fd(target: &Object) -> std::os::fd::OwnedFd {
    let prog = target.program("xdp_target").unwrap();
    prog.fd().unwrap().try_clone_to_owned().unwrap()
}

#[test]
fn freplace_replaces_a_global_function_of_a_loaded_program() {
    let target = load_target();
    let text = open(&["replace_check"]).load().unwrap_err().to_string();
    assert!(
        text.starts_with("settings: program replace_check: section `freplace/check`: a freplace program needs the program"),
        "{text}"
    );
    let mut open = self::open(&["replace_check"]);
    open.program_mut("replace_check")
        .unwrap()
        .set_attach_target(Some(target_fd(&target)), "nope");
    let text = open.load().unwrap_err().to_string();
    assert!(
        text.contains("attach target `nope` in the given program: its BTF has no function `nope` (program `xdp_target`)"),
        "{text}"
    );

    let mut open = self::open(&["replace_check"]);
    open.program_mut("replace_check")
        .unwrap()
        .set_attach_target(Some(target_fd(&target)), "check");
    let Some(obj) = load_or_refused(open, "replace_check", "freplace/check") else {
        return;
    };
    let link = obj
        .program("replace_check")
        .unwrap()
        .attach_tracing()
        .unwrap();
    assert_eq!(run_target(&target), XDP_DROP);
    drop(link);
    assert_eq!(run_target(&target), XDP_PASS);
}

#[test]
fn attach_target_points_fentry_at_a_function_of_a_loaded_program() {
    let target = load_target();
    let mut open = open(&["on_check"]);
    open.program_mut("on_check")
        .unwrap()
        .set_attach_target(Some(target_fd(&target)), "check");
    let Some(obj) = load_or_refused(open, "on_check", "fentry/check") else {
        return;
    };
    let prog = obj.program("on_check").unwrap();
    let _link = prog.attach_tracing().unwrap();
    for _ in 0..3 {
        run_target(&target);
    }
    assert_eq!(hits(&obj, 0), 3);
}
