//! `tests/bpf/typed.bpf.o` through its Builder skeleton: a struct whose C
//! alignment (16) exceeds its natural one, as a .bss variable and as ring
//! buffer and perf records, and one map of every family the skeleton
//! types (LPM trie, array and hash of maps, perf event array, stack trace,
//! cgroup array, a size-only map with the build's own Rust value type).
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::mem::{align_of, size_of};
use std::time::Duration;

use bpf2rs::map::{CreateFlags, HashMap, LpmKey, MapFlags};
use bpf2rs_tests::skel::typed::{types, TypedSkel};
use bpf2rs_tests::{require_root, Pair};

/// The calling thread's kernel id (`/proc/thread-self` is `PID/task/TID`).
fn thread_id() -> u32 {
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    link.file_name().unwrap().to_str().unwrap().parse().unwrap()
}

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or
/// `/sys/fs/cgroup/unified` on hybrid v1/v2 systems).
fn cgroup2_root() -> String {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    mounts
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) == Some(&"cgroup2")).then(|| f[1].to_owned())
        })
        .unwrap_or_else(|| panic!("no cgroup2 mount in /proc/self/mounts:\n{mounts}"))
}

/// Makes the program run once: glibc's getpid() is a real syscall.
fn fire() {
    std::hint::black_box(std::process::id());
}

/// What the program wrote into `last_event` on its `seq`-th run for
/// process `pid` (taken before attaching: getpid() runs the program).
fn check_event(e: &types::event, seq: u64, pid: u32) {
    assert_eq!(e.seq, seq);
    assert_eq!(e.pid, pid);
    assert_eq!(e.kind, types::flow_kind::FLOW_UDP);
    let hdr = e.hdr;
    assert_eq!(
        ({ hdr.version }, { hdr.length }, { hdr.flags }),
        (4, 0x0102_0304, 0xbeef)
    );
    assert_eq!((e.w.lo, e.w.tag), (seq * 10, 7));
    assert_eq!(&e.msg, b"hello, bpf!\0");
}

#[test]
fn generated_alignment_never_exceeds_c() {
    // C: `struct event` is 64 bytes with alignment 16; the gap before `w`
    // is explicit padding, so the Rust type needs only its natural 8.
    assert_eq!(size_of::<types::event>(), 64);
    assert_eq!(align_of::<types::event>(), 8);
    assert_eq!(size_of::<types::wide>(), 16);
    assert_eq!(align_of::<types::wide>(), 8);
    assert_eq!(std::mem::offset_of!(types::event, w), 32);
    assert_eq!(std::mem::offset_of!(types::event, msg), 48);
    // The .bss holds the event at C's offset 16 and stays a plain struct.
    assert_eq!(std::mem::offset_of!(types::SectionBss, last_event), 16);
    assert_eq!(size_of::<types::SectionBss>(), 112);
    assert_eq!(align_of::<types::packed_hdr>(), 1);
}

#[test]
fn typed_skeleton_every_family_and_aligned_events() {
    require_root();
    let pid = std::process::id();
    let mut open = TypedSkel::open().unwrap();
    open.rodata_mut().target_tid = thread_id();
    let mut skel = open.load().unwrap();

    // LPM trie typed from `struct lpm_v4 { __u32 prefixlen; __u8 addr[4]; }`.
    let routes = &skel.maps.routes;
    routes
        .insert(&LpmKey::new(8, [10, 0, 0, 0]), &8, MapFlags::ANY)
        .unwrap();
    routes
        .insert(&LpmKey::new(24, [10, 1, 2, 0]), &24, MapFlags::ANY)
        .unwrap();
    assert_eq!(
        routes.get(&LpmKey::new(32, [10, 1, 9, 9])).unwrap(),
        Some(8)
    );
    // Hash of maps: the inner handle is typed from `__array(values, ...)`.
    let tenant = HashMap::<u32, u64>::create("typed_tenant", 8, CreateFlags::NONE).unwrap();
    tenant.insert(&7, &100, MapFlags::ANY).unwrap();
    skel.maps
        .outer_hash
        .insert(&7, &tenant, MapFlags::ANY)
        .unwrap();
    // A size-only map typed with the build's own Rust types.
    skel.maps
        .pairs
        .insert(&1, &Pair { a: 20, b: 22 }, MapFlags::ANY)
        .unwrap();

    skel.attach().unwrap();
    // Cgroup array: an empty slot is an error for the helper.
    fire();
    assert!(
        skel.bss().unwrap().under_cgroup < 0,
        "{}",
        skel.bss().unwrap().under_cgroup
    );
    // Every task is under the root of the v2 hierarchy.
    skel.maps.cgroups.set_path(0, cgroup2_root()).unwrap();
    fire();
    assert_eq!(skel.bss().unwrap().under_cgroup, 1);
    assert!(skel.maps.cgroups.clear(0).unwrap());
    fire();
    assert!(
        skel.bss().unwrap().under_cgroup < 0,
        "{}",
        skel.bss().unwrap().under_cgroup
    );

    // Global data: typed and borrowed in place (no packed section).
    let bss = skel.bss().unwrap();
    assert_eq!(bss.packets_seen, 3);
    check_event(&bss.last_event, 3, pid);
    assert_eq!(bss.route, 24, "longest prefix 10.1.2.0/24");
    assert_eq!(bss.pair_sum, 42);
    let data = skel.data().unwrap();
    assert_eq!(
        (
            data.data_flag,
            data.data_pair.a,
            data.data_pair.b,
            data.data_total
        ),
        (1, 3, 4, 5)
    );

    // Array of maps: the static slot 0 reads back as the inner Array<u64>.
    let inner = skel.maps.outer_arr.get(0).unwrap().expect("static slot 0");
    assert_eq!(inner.map().info().id, skel.maps.inner_a.map().info().id);
    assert_eq!(inner.get(0).unwrap(), 3);
    assert!(skel.maps.outer_arr.get(1).unwrap().is_none());
    let tenant_back = skel.maps.outer_hash.get(&7).unwrap().expect("slot 7");
    assert_eq!(tenant_back.get(&7).unwrap(), Some(103));

    // Stack traces: the id the program stored names a user stack.
    let id = u32::try_from(bss.stack_id).expect("a stack id, not an error");
    let frames = skel.maps.stacks.get(id).unwrap().expect("stored stack");
    assert!(!frames.is_empty() && frames[0] != 0, "{frames:?}");

    // The ring buffer and the perf buffer deliver the 16-aligned C struct.
    let mut seen = Vec::new();
    skel.maps
        .events
        .poll(Duration::from_secs(1), |e: &types::event| seen.push(*e))
        .unwrap();
    assert_eq!(seen.len(), 3);
    for (i, e) in seen.iter().enumerate() {
        check_event(e, i as u64 + 1, pid);
    }
    let mut perf_seen = Vec::new();
    while perf_seen.len() < 3 {
        let got = skel
            .maps
            .perf_events
            .poll(Duration::from_secs(1), |_cpu, e: &types::event| {
                perf_seen.push(*e)
            })
            .unwrap();
        assert_eq!(got.lost, 0);
        assert!(got.events > 0, "perf samples missing: {}", perf_seen.len());
    }
    perf_seen.sort_by_key(|e| e.seq);
    for (i, e) in perf_seen.iter().enumerate() {
        check_event(e, i as u64 + 1, pid);
    }

    // Detached on drop: no more runs.
    skel.links.on_getpid = None;
    fire();
    assert_eq!(skel.bss().unwrap().packets_seen, 3);
}
