//! The typed skeleton against the kernel: every map form of kitchen.bpf.o
//! and its global data, through generated APIs only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::os::fd::AsFd;

use bpf2rs::map::MapFlags;
use bpf2rs::prog::TestRunInput;
use bpf2rs_tests::skel::kitchen::{types, KitchenSkel};
use bpf2rs_tests::{require_root, BpffsDir};

const XDP_PASS: u32 = 2;

fn packet() -> Vec<u8> {
    vec![0u8; 64]
}

/// The kitchen skeleton opened with its pinned map under `pins`, not the
/// shared bpffs root.
fn open_pinned_in(pins: &BpffsDir) -> bpf2rs_tests::skel::kitchen::OpenKitchenSkel {
    let mut open = KitchenSkel::open().unwrap();
    open.maps.pinned.set_pin_path(pins.path().join("pinned"));
    open
}

#[test]
fn kitchen_every_map_form_and_global_data() {
    require_root();
    let pins = BpffsDir::new("kitchen");
    let mut open = open_pinned_in(&pins);
    // .rodata before load changes what the program does: mode 3 counts
    // under proto 2 and stores kind = 3.
    assert_eq!(open.rodata_mut().cfg_mode, 1);
    open.rodata_mut().cfg_mode = 3;
    let mut skel = open.load().unwrap();
    assert_eq!(skel.object().new_pins(), [pins.path().join("pinned")]);

    for _ in 0..3 {
        run_once(&skel);
    }

    // BTF-typed hash map whose value has padding and bitfields.
    let key = types::flow_key {
        addr: 0x0a00_0001,
        port: 80,
        proto: 2,
        ..Default::default()
    };
    let keys: Vec<types::flow_key> = skel.maps.flows.keys().collect::<Result<_, _>>().unwrap();
    let stats = skel
        .maps
        .flows
        .get(&key)
        .unwrap()
        .unwrap_or_else(|| panic!("flow written by the program; keys: {keys:?}"));
    assert_eq!(stats.packets, 3);
    assert_eq!(stats.bytes, 3 * 64);
    assert_eq!(stats.syn(), 1);
    assert_eq!(stats.kind(), 3);
    assert_eq!(stats.tos, 0x10);
    assert_eq!(stats.last, 0xfeed_face);
    let mode1 = types::flow_key { proto: 1, ..key };
    assert!(
        skel.maps.flows.get(&mode1).unwrap().is_none(),
        "rodata mode 3 must not count under proto 1"
    );

    // Per-CPU array: test_run ran on some CPU; the sum over CPUs is 3.
    let per_cpu = skel.maps.per_cpu.get(0).unwrap();
    assert_eq!(per_cpu.iter().sum::<u64>(), 3);

    // The inner map reached through the statically filled ARRAY_OF_MAPS.
    assert_eq!(skel.maps.inner.get(0).unwrap(), 3);

    // Legacy `maps` hash, typed by the build (map_types).
    assert_eq!(skel.maps.legacy_counts.get(&7).unwrap(), Some(3));

    // Tail calls seen, .bss and .data through the mmap views.
    assert_eq!(skel.bss().unwrap().packets_seen, 3);
    assert_eq!(skel.bss().unwrap().tail_hits, 3);
    assert_eq!(skel.data().unwrap().data_counter, 103);
    skel.data_mut().unwrap().data_counter = 1000;
    run_once(&skel);
    assert_eq!(
        skel.data().unwrap().data_counter,
        1001,
        "a write through the mmap view is seen by the program"
    );
    assert_eq!(skel.rodata().unwrap().cfg_mode, 3);

    // The pinned map: a second open reuses it.
    assert_eq!(skel.maps.pinned.get(0).unwrap(), 4);
    let open2 = open_pinned_in(&pins);
    let skel2 = open2.load().unwrap();
    assert_eq!(
        skel2.maps.pinned.get(0).unwrap(),
        4,
        "second open reuses the pinned map"
    );
    skel2.maps.pinned.set(0, &40).unwrap();
    assert_eq!(skel.maps.pinned.get(0).unwrap(), 40);
    let _ = skel.maps.flows.insert(&key, &stats, MapFlags::ANY);
}

#[test]
fn incompatible_pinned_map_is_refused() {
    require_root();
    let pins = BpffsDir::new("incompatible");
    // Something else pinned at the path: an array of the wrong size.
    let other =
        bpf2rs::map::Array::<u64>::create("other", 2, bpf2rs::map::CreateFlags::default()).unwrap();
    other.pin(pins.path().join("pinned")).unwrap();
    let open = open_pinned_in(&pins);
    let err = open.load().unwrap_err().to_string();
    assert!(err.contains("map pinned"), "{err}");
    assert!(
        err.contains("max_entries 2, the definition wants 1"),
        "{err}"
    );
    let _ = other.into_map();
}

#[test]
fn skeleton_of_another_object_is_refused() {
    require_root();
    let other = bpf2rs_tests::fixture("layout.bpf.o");
    let err = KitchenSkel::open_file(other).unwrap_err().to_string();
    assert!(
        err.contains("differs from the object the skeleton was generated from"),
        "{err}"
    );
}

#[test]
fn inner_map_template_is_a_per_map_setting() {
    require_root();
    let pins = BpffsDir::new("template");
    let mut open = open_pinned_in(&pins);
    // A template that does not fit `inner` (8-byte values): the kernel
    // refuses to store `inner` in the outer map, and the error says where.
    let mut template = open.object_mut().spec().map("inner").unwrap().clone();
    template.value_size = 4;
    template.value_type = None;
    open.maps.outer.set_inner_template(template);
    let err = open.load().unwrap_err().to_string();
    assert!(
        err.starts_with("kitchen: map outer: update: BPF_MAP_UPDATE_ELEM"),
        "{err}"
    );
    // `pinned` was created and pinned before `outer` failed: the failed
    // load removed the pin it made.
    assert!(
        !pins.path().join("pinned").exists(),
        "a failed load left its pin behind"
    );
}

#[test]
fn a_reused_map_fd_is_the_map_the_program_uses() {
    require_root();
    let pins = BpffsDir::new("reuse");
    // Our own map, shaped like `pinned` (array of one u64).
    let ours =
        bpf2rs::map::Array::<u64>::create("ours", 1, bpf2rs::map::CreateFlags::default()).unwrap();
    let mut open = open_pinned_in(&pins);
    let fd = ours.as_fd().try_clone_to_owned().unwrap();
    open.maps.pinned.reuse_fd(fd);
    let skel = open.load().unwrap();
    run_once(&skel);
    assert_eq!(ours.get(0).unwrap(), 1, "the program counted into our map");
    assert_eq!(skel.maps.pinned.get(0).unwrap(), 1);
}

#[test]
fn a_log_level_keeps_the_verifier_log_of_a_successful_load() {
    require_root();
    let pins = BpffsDir::new("log");
    let mut open = open_pinned_in(&pins);
    open.progs.on_packet.set_log_level(2);
    let skel = open.load().unwrap();
    let log = skel.progs.on_packet.verifier_log().unwrap();
    assert!(
        log.contains("processed ") && log.contains(" insns"),
        "{log}"
    );
    assert_eq!(skel.progs.tail.verifier_log(), None, "no log asked for");
}

/// Runs the kitchen object's XDP entry once. XDP_PASS comes from the
/// tail-called program; without the statically filled prog array the
/// program returns XDP_DROP.
fn run_once(skel: &KitchenSkel) {
    let out = skel
        .progs
        .on_packet
        .test_run(&TestRunInput {
            data: &packet(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.retval, XDP_PASS);
}

const BPF_F_MMAPABLE: u32 = 1 << 10;

#[test]
fn global_data_is_mmapped_where_the_kernel_can() {
    require_root();
    assert!(bpf2rs::probe::has_mmapable_arrays());
    let pins = BpffsDir::new("mmapped");
    let skel = open_pinned_in(&pins).load().unwrap();
    for d in skel.object().data_maps() {
        assert!(d.is_mapped(), "{}", d.section);
        assert_ne!(d.map.info().map_flags & BPF_F_MMAPABLE, 0, "{}", d.section);
    }
    // A view of the mapped memory follows the program's writes.
    let view = skel.bss().unwrap();
    run_once(&skel);
    assert_eq!(view.packets_seen, 1);
}

/// The fallback for kernels without mmapable arrays (before 5.5), forced:
/// global data maps are plain arrays, read and written with map lookups
/// and updates, and the programs see the same values.
#[test]
fn global_data_without_mmap_goes_through_the_map() {
    require_root();
    let pins = BpffsDir::new("nommap");
    let mut open = open_pinned_in(&pins);
    open.object_mut().set_mmapable_data(false);
    open.rodata_mut().cfg_mode = 3;
    let mut skel = open.load().unwrap();
    for d in skel.object().data_maps() {
        assert!(!d.is_mapped(), "{}", d.section);
        assert_eq!(d.map.info().map_flags & BPF_F_MMAPABLE, 0, "{}", d.section);
    }
    let before = skel.bss().unwrap();
    for _ in 0..3 {
        run_once(&skel);
    }
    // A Global is a copy read when it was made; a new one reads again.
    assert_eq!(before.packets_seen, 0);
    drop(before);
    assert_eq!(skel.bss().unwrap().packets_seen, 3);
    assert_eq!(skel.bss().unwrap().tail_hits, 3);
    assert_eq!(skel.data().unwrap().data_counter, 103);
    // .rodata set before load reached the program: mode 3 counts under
    // proto 2.
    assert_eq!(skel.rodata().unwrap().cfg_mode, 3);
    let key = types::flow_key {
        addr: 0x0a00_0001,
        port: 80,
        proto: 2,
        ..Default::default()
    };
    assert_eq!(skel.maps.flows.get(&key).unwrap().unwrap().packets, 3);

    // A write is written back when the guard drops...
    skel.data_mut().unwrap().data_counter = 1000;
    run_once(&skel);
    assert_eq!(skel.data().unwrap().data_counter, 1001);
    // ...or when committed, with the kernel's answer.
    let mut data = skel.data_mut().unwrap();
    data.data_counter = 2000;
    data.commit().unwrap();
    run_once(&skel);
    assert_eq!(skel.data().unwrap().data_counter, 2001);

    // A guard that was not changed writes nothing back: a write made
    // meanwhile through another fd of the map survives its drop.
    let other = skel
        .object()
        .data(".data")
        .unwrap()
        .map
        .try_clone()
        .unwrap();
    let untouched = skel.data_mut().unwrap();
    let mut bytes = vec![0u8; other.info().value_size as usize];
    other.lookup(&0u32.to_ne_bytes(), &mut bytes).unwrap();
    let offset = core::mem::offset_of!(types::SectionData, data_counter);
    bytes[offset..offset + 8].copy_from_slice(&7u64.to_ne_bytes());
    other
        .update(&0u32.to_ne_bytes(), &bytes, MapFlags::ANY)
        .unwrap();
    assert_eq!(untouched.data_counter, 2001);
    drop(untouched);
    assert_eq!(skel.data().unwrap().data_counter, 7);
}

#[test]
fn global_data_of_the_wrong_shape_or_read_only_is_an_error() {
    require_root();
    for mmapable in [true, false] {
        let pins = BpffsDir::new("shape");
        let path = bpf2rs_tests::fixture("kitchen.bpf.o");
        let mut open = bpf2rs::load::OpenObject::open_file(path).unwrap();
        let pinned = open.map_mut("pinned").unwrap();
        pinned.set_pin_path(pins.path().join("pinned"));
        open.set_mmapable_data(mmapable);
        let mut obj = open.load().unwrap();
        let bss = obj.data(".bss").unwrap();
        let err = bss.get::<[u8; 3]>().unwrap_err().to_string();
        assert!(
            err.starts_with("map kitchen.bss: global data: Rust type is 3 bytes, the map's is"),
            "{err}"
        );
        // The section's bytes, either way.
        assert_eq!(bss.to_vec().unwrap().len(), bss.len());
        let err = obj
            .data_mut(".rodata")
            .unwrap()
            .get_mut::<types::SectionRodata>()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "map kitchen.rodata: global data: .rodata: read-only after load"
        );
    }
}

/// The loader's per-map settings reach the kernel through a skeleton's
/// `maps.*` settings (runtime/tests/kernel_settings.rs covers each one
/// through `OpenObject`).
#[test]
fn map_settings_through_the_skeleton() {
    require_root();
    const BPF_F_NO_PREALLOC: u32 = 1;
    const BPF_F_NUMA_NODE: u32 = 1 << 2;
    let pins = BpffsDir::new("settings");
    let mut open = open_pinned_in(&pins);
    open.maps.flows.set_map_flags(BPF_F_NO_PREALLOC);
    open.maps.flows.set_numa_node(0);
    open.maps.inner.set_initial_value(41u64.to_ne_bytes());
    let skel = open.load().unwrap();
    let flags = skel.maps.flows.info().map_flags;
    assert_eq!(flags, BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE);
    assert_eq!(skel.maps.inner.get(0).unwrap(), 41);
    for _ in 0..3 {
        run_once(&skel);
    }
    assert_eq!(
        skel.maps.inner.get(0).unwrap(),
        44,
        "the program counted on"
    );
}
