//! bpf2rs::probe against the running kernel: program types, map types and
//! helpers per program type agree with `bpftool feature probe kernel -j`;
//! loader features agree with the kernel's version; the helper name table
//! agrees with the kernel's `enum bpf_func_id`; and a process without
//! privilege gets "could not probe", never "no".
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use bpf2rs::btf::{Btf, Kind, Type};
use bpf2rs::obj::{MapType, ProgType};
use bpf2rs::probe::{self, Support};
use common::require_root;

/// `bpftool feature probe kernel -j` and the names bpftool knows.
struct Bpftool {
    report: serde_json::Value,
    version: String,
    prog_types: BTreeSet<String>,
    map_types: BTreeSet<String>,
    helpers: BTreeSet<String>,
}

fn bpftool() -> Bpftool {
    let run = |args: &[&str]| {
        let out = Command::new("bpftool")
            .args(args)
            .output()
            .expect("bpftool is installed (the vmtest image has it too)");
        assert!(out.status.success(), "bpftool {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let names = |group: &str| -> BTreeSet<String> {
        run(&["feature", "list_builtins", group])
            .lines()
            .map(str::to_owned)
            .collect()
    };
    Bpftool {
        report: serde_json::from_str(&run(&["feature", "probe", "kernel", "-j"])).unwrap(),
        version: run(&["version"])
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join(", "),
        prog_types: names("prog_types"),
        map_types: names("map_types"),
        helpers: names("helpers"),
    }
}

fn release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .trim()
        .to_owned()
}

fn since(major: u32, minor: u32) -> bool {
    let release = release();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

/// A line on stderr that libtest does not capture, so the vmtest logs show
/// it for passing tests too.
fn say(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

fn not_run(what: &str, why: &str) {
    say(&format!("note: {what} NOT RUN on this kernel: {why}"));
}

/// Compares our answers with bpftool's `have_<name>_<suffix>` booleans for
/// the names both know. bpftool (as root) counts a probe the kernel refused
/// with EPERM as "no"; ours says "could not probe" there, which is allowed
/// against bpftool's false and listed.
fn compare_types(
    what: &str,
    ours: &[(String, Support)],
    bpftool_known: &BTreeSet<String>,
    section: &serde_json::Value,
    key: impl Fn(&str) -> String,
) {
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut could_not_probe = Vec::new();
    for (name, answer) in ours {
        // A type newer than this bpftool (the host's is Debian's 7.1, from
        // Linux 6.1, which has no cgrp_storage, arena or netfilter) is not
        // in its report: only types both know are compared.
        if !bpftool_known.contains(name) {
            continue;
        }
        let theirs = section[key(name)]
            .as_bool()
            .unwrap_or_else(|| panic!("bpftool reports no {}", key(name)));
        compared += 1;
        match (answer, theirs) {
            (Support::Yes, true) | (Support::No, false) => {}
            (Support::Unknown, false) => could_not_probe.push(name.clone()),
            _ => differences.push(format!("{name}: ours {answer}, bpftool {theirs}")),
        }
    }
    say(&format!(
        "{what}: {compared} compared with bpftool on {}, {} differ; could not probe (bpftool: no): {could_not_probe:?}",
        release(),
        differences.len()
    ));
    assert!(compared > 20, "{what}: only {compared} compared");
    assert!(
        differences.is_empty(),
        "{what} differ from bpftool's on {}: {differences:#?}",
        release()
    );
}

#[test]
fn program_types_agree_with_bpftool() {
    require_root();
    let b = bpftool();
    let ours: Vec<(String, Support)> = (1..=ProgType::NETFILTER.0)
        .map(|t| {
            let t = ProgType(t);
            (t.name().unwrap().to_owned(), probe::prog_type_supported(t))
        })
        .collect();
    compare_types(
        "program types",
        &ours,
        &b.prog_types,
        &b.report["program_types"],
        |n| format!("have_{n}_prog_type"),
    );
}

#[test]
fn map_types_agree_with_bpftool() {
    require_root();
    let b = bpftool();
    let ours: Vec<(String, Support)> = (1..=MapType::ARENA.0)
        .map(|t| {
            let t = MapType(t);
            (t.name().unwrap().to_owned(), probe::map_type_supported(t))
        })
        .collect();
    compare_types(
        "map types",
        &ours,
        &b.map_types,
        &b.report["map_types"],
        |n| format!("have_{n}_map_type"),
    );
}

/// Program types whose helpers bpftool does not list: libbpf cannot load
/// them without a target (`libbpf_probe_bpf_helper` answers EOPNOTSUPP),
/// so bpftool's list is empty; ours probes tracing and lsm against real
/// targets.
const NO_BPFTOOL_HELPERS: [ProgType; 4] = [
    ProgType::TRACING,
    ProgType::EXT,
    ProgType::LSM,
    ProgType::STRUCT_OPS,
];

#[test]
fn helpers_per_program_type_agree_with_bpftool() {
    require_root();
    let b = bpftool();
    let lists = &b.report["helpers"];
    // bpftool without `full` skips the helpers that write to the kernel
    // log; ours leaves the same three to `helper_supported`.
    let skipped: BTreeSet<&str> = probe::HELPERS_PROBED_ON_REQUEST
        .iter()
        .map(|&id| probe::helper_name(id).unwrap())
        .collect();
    // bpftool's libbpf reads the verifier's "unknown func" as "no"; since
    // Linux 6.10 the verifier says "program of this type cannot use helper"
    // instead, which libbpf before 1.4 (Debian's bpftool 7.1 has 1.1)
    // does not know: it then lists every helper for every type. A
    // kprobe-only helper in its socket_filter list shows it.
    let theirs_of = |t: ProgType| -> BTreeSet<String> {
        lists[format!("{}_available_helpers", t.name().unwrap())]
            .as_array()
            .map(|a| a.iter().map(|h| h.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let misread = theirs_of(ProgType::SOCKET_FILTER).contains("bpf_override_return");
    let mut pairs = 0;
    let mut types = 0;
    let mut differences = Vec::new();
    for t in (1..=ProgType::NETFILTER.0).map(ProgType) {
        let name = t.name().unwrap();
        if !b.prog_types.contains(name) || NO_BPFTOOL_HELPERS.contains(&t) {
            continue;
        }
        if !probe::prog_type_supported(t).is_yes() {
            // bpftool lists no helpers for a type it cannot load.
            assert!(theirs_of(t).is_empty(), "{name}: bpftool lists helpers");
            continue;
        }
        let set = probe::supported_helpers(t);
        let theirs = theirs_of(t);
        types += 1;
        for (id, answer) in set.iter() {
            let helper = probe::helper_name(id).unwrap();
            if !b.helpers.contains(helper) || skipped.contains(helper) {
                continue;
            }
            pairs += 1;
            let bpftool_yes = theirs.contains(helper);
            let agree = match answer {
                Support::Yes => bpftool_yes,
                // Where bpftool misreads, it says yes to everything.
                Support::No => !bpftool_yes || misread,
                Support::Unknown => false,
            };
            if !agree {
                differences.push(format!(
                    "{name} {helper}: ours {answer}, bpftool {bpftool_yes}"
                ));
            }
        }
    }
    say(&format!(
        "helpers: {pairs} (program type, helper) pairs of {types} types compared with bpftool on {}, {} differ",
        release(),
        differences.len()
    ));
    assert!(
        types > 20 && pairs > 20 * 150,
        "only {types} types, {pairs} pairs"
    );
    assert!(
        differences.is_empty(),
        "helpers differ from bpftool's on {}: {differences:#?}",
        release()
    );
    if misread {
        not_run(
            "exact helper comparison with bpftool",
            &format!(
                "{} reads the verifier's \"program of this type cannot use helper\" (Linux 6.10+) as \"yes\"; only checked that every helper we say yes to is in its lists",
                b.version
            ),
        );
    }
}

#[test]
fn known_facts() {
    require_root();
    assert_eq!(
        probe::prog_type_supported(ProgType::SOCKET_FILTER),
        Support::Yes
    );
    assert_eq!(probe::prog_type_supported(ProgType::UNSPEC), Support::No);
    assert_eq!(probe::prog_type_supported(ProgType(1000)), Support::Unknown);
    assert_eq!(probe::map_type_supported(MapType::RINGBUF), Support::Yes);
    assert_eq!(probe::map_type_supported(MapType::HASH), Support::Yes);
    assert_eq!(probe::map_type_supported(MapType(1000)), Support::Unknown);
    let id = |name| probe::helper_id(name).unwrap();
    let sf = ProgType::SOCKET_FILTER;
    assert_eq!(
        probe::helper_supported(sf, id("bpf_map_lookup_elem")),
        Support::Yes
    );
    assert_eq!(
        probe::helper_supported(sf, id("bpf_override_return")),
        Support::No
    );
    assert_eq!(
        probe::helper_supported(ProgType::XDP, id("bpf_xdp_adjust_head")),
        Support::Yes
    );
    assert_eq!(
        probe::helper_supported(ProgType::KPROBE, id("bpf_xdp_adjust_head")),
        Support::No
    );
    // A helper id past the table: this crate cannot name or probe it.
    assert_eq!(
        probe::helper_supported(sf, probe::HELPER_ID_MAX + 1),
        Support::Unknown
    );
    // Cached: the same set again, and the same as one lookup at a time.
    let set = probe::supported_helpers(sf);
    assert_eq!(set, probe::supported_helpers(sf));
    for (helper, answer) in set.iter() {
        if !probe::HELPERS_PROBED_ON_REQUEST.contains(&helper) {
            assert_eq!(probe::helper_supported(sf, helper), answer, "{helper}");
        }
    }
    // The on-request helpers: bpf_trace_printk is every tracing type's.
    assert_eq!(
        probe::helper_supported(ProgType::KPROBE, id("bpf_trace_printk")),
        Support::Yes
    );
}

#[test]
fn loader_features_match_the_kernel_version() {
    require_root();
    let f = probe::features();
    for (name, answer) in f.iter() {
        say(&format!("feature {name}: {answer}"));
    }
    // Every kernel this runs on (6.1 and later) has these.
    for (name, answer) in f.iter() {
        let old = [
            "prog_name",
            "global_data",
            "btf",
            "btf_func",
            "btf_func_global",
            "btf_datasec",
            "btf_float",
            "btf_decl_tag",
            "btf_type_tag",
            "mmapable_arrays",
            "expected_attach_type",
            "probe_read_kernel",
            "batch_ops",
            "ringbuf",
            "struct_ops",
            "perf_link",
            "xdp_link",
            "uprobe_pmu",
        ];
        if old.contains(&name) {
            assert_eq!(answer, Support::Yes, "{name} on {}", release());
        }
    }
    assert_eq!(f.btf_enum64, Support::from(since(6, 0)), "btf_enum64");
    assert_eq!(f.bpf_cookie, Support::from(since(5, 15)), "bpf_cookie");
    assert_eq!(f.tcx, Support::from(since(6, 6)), "tcx");
    assert_eq!(f.bpf_cookie.is_yes(), probe::has_bpf_cookie());
    assert_eq!(f.uprobe_multi.is_yes(), probe::has_uprobe_multi_link());
    assert_eq!(f.tcx.as_option(), probe::has_tcx_link().ok());
    // kprobe_multi needs 5.18 and CONFIG_FPROBE (Debian's 6.12 has it, its
    // 6.1 and the 6.18 CI kernel not): checked by use, a kprobe_multi link
    // on a real function is made exactly where the probe says yes.
    assert_eq!(
        f.kprobe_multi.is_yes(),
        kprobe_multi_attaches(),
        "kprobe_multi"
    );
    assert!(!f.kprobe_multi.is_yes() || since(5, 18));
    // Trampolines: every x86-64 kernel since 5.5 has them, and a kernel
    // that refuses tracing programs with EPERM even to root (the CI host)
    // is "could not probe", which the probe of the type agrees with.
    match f.trampolines {
        Support::Unknown => {
            assert_eq!(
                probe::prog_type_supported(ProgType::TRACING),
                Support::Unknown
            );
            not_run(
                "trampolines",
                "the kernel refuses tracing programs with EPERM (could not probe)",
            );
        }
        answer => assert_eq!(answer, Support::Yes, "x86-64 has trampolines since 5.5"),
    }
    assert_eq!(probe::features(), f, "cached");
}

/// Whether a kprobe_multi link on `do_unlinkat` can be made (and closed).
fn kprobe_multi_attaches() -> bool {
    use bpf2rs::obj::AttachType;
    use bpf2rs::sys::attach::{link_create, LinkCreate, LinkExtra};
    use std::os::fd::AsFd;
    let insns: Vec<u8> = [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0].to_vec();
    let prog = bpf2rs::sys::prog_load(
        &bpf2rs::sys::ProgLoad {
            prog_type: ProgType::KPROBE.0,
            expected_attach_type: AttachType::TRACE_KPROBE_MULTI.0,
            insns: &insns, // r0 = 0; exit
            license: c"GPL",
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    let symbol = c"do_unlinkat";
    let syms = [symbol.as_ptr() as usize as u64];
    link_create(&LinkCreate {
        prog_fd: prog.as_fd(),
        target: 0,
        attach_type: AttachType::TRACE_KPROBE_MULTI.0,
        flags: 0,
        extra: LinkExtra::KprobeMulti {
            flags: 0,
            syms: &syms,
            cookies: None,
        },
    })
    .is_ok()
}

#[test]
fn helper_names_match_the_kernels_enum() {
    let Ok(vmlinux) = Btf::from_sys_fs() else {
        not_run("helper names", "no /sys/kernel/btf/vmlinux");
        return;
    };
    let id = vmlinux.find_by_name("bpf_func_id", Kind::Enum).unwrap();
    let Type::Enum(e) = vmlinux.type_by_id(id).unwrap() else {
        panic!("bpf_func_id is not an enum")
    };
    let mut checked = 0;
    for v in &e.values {
        let name = vmlinux.name(v.name);
        let Some(suffix) = name.strip_prefix("BPF_FUNC_") else {
            assert_eq!(name, "__BPF_FUNC_MAX_ID");
            continue;
        };
        let want = if v.value == 0 {
            None
        } else {
            Some(format!("bpf_{suffix}"))
        };
        assert_eq!(probe::helper_name(v.value as u32).map(str::to_owned), want);
        checked += 1;
    }
    assert!(checked > 200, "{checked}");
}

/// The child of `unprivileged_probes_could_not_probe`: it does nothing
/// unless that test started it (as nobody), then prints its answers.
#[test]
fn unprivileged_child() {
    if std::env::var_os("BPF2RS_PROBE_CHILD").is_none() {
        return;
    }
    let f = probe::features();
    let answers: BTreeMap<String, String> = [
        (
            "prog xdp".to_owned(),
            probe::prog_type_supported(ProgType::XDP),
        ),
        (
            "prog kprobe".to_owned(),
            probe::prog_type_supported(ProgType::KPROBE),
        ),
        (
            "helpers xdp".to_owned(),
            probe::helper_supported(ProgType::XDP, 1),
        ),
    ]
    .into_iter()
    .chain(f.iter().map(|(n, a)| (format!("feature {n}"), a)))
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    println!("ANSWERS {}", serde_json::to_string(&answers).unwrap());
}

#[test]
fn unprivileged_probes_could_not_probe() {
    require_root();
    use std::os::unix::process::CommandExt;
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "unprivileged_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BPF2RS_PROBE_CHILD", "1")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("ANSWERS ").map(|(_, json)| json))
        .unwrap_or_else(|| panic!("child said: {out:?}"));
    let answers: BTreeMap<String, String> = serde_json::from_str(line).unwrap();
    // Loading XDP and kprobe programs needs CAP_BPF (+ CAP_NET_ADMIN or
    // CAP_PERFMON) whatever kernel.unprivileged_bpf_disabled says.
    for key in [
        "prog xdp",
        "prog kprobe",
        "helpers xdp",
        "feature bpf_cookie",
        "feature tcx",
        "feature xdp_link",
    ] {
        assert_eq!(answers[key], "could not probe", "{key}: {answers:#?}");
    }
    // No feature says "no" for want of privilege (the PMUs are read from
    // sysfs, which needs none).
    for (key, answer) in &answers {
        if answer == "no" && !key.ends_with("_pmu") {
            assert!(unprivileged_may(key), "{key}: no");
        }
    }
}

/// Features an unprivileged process may probe for real where
/// kernel.unprivileged_bpf_disabled is 0 (socket filters, plain maps, BTF
/// needs CAP_BPF): their "no" would be a real one.
fn unprivileged_may(key: &str) -> bool {
    std::fs::read_to_string("/proc/sys/kernel/unprivileged_bpf_disabled")
        .is_ok_and(|v| v.trim() == "0")
        && [
            "feature prog_name",
            "feature global_data",
            "feature mmapable_arrays",
            "feature batch_ops",
        ]
        .contains(&key)
}
