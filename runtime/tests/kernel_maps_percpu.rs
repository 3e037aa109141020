//! Real-kernel checks of PerCpuHashMap, LruPerCpuHashMap and PerCpuArray:
//! values written by a BPF program on each CPU read back per CPU, user-space
//! writes, walks and batches, and lookups that allocate nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::os::fd::AsFd;

use bpf2rs::map::{
    BatchCursor, CreateFlags, LruPerCpuHashMap, Map, MapFlags, PerCpuArray, PerCpuHashMap,
    PerCpuValues,
};
use bpf2rs::obj::MapType;
use common::{require_root, unique};
use kernel_maps_util::{per_cpu_writer, run_on_cpu};

/// Counts allocations of the current thread (tests run in parallel threads).
struct CountingAlloc;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

fn cpus() -> usize {
    bpf2rs::sys::possible_cpus().unwrap()
}

/// Runs the per-CPU writer for `key` once on every CPU and checks that each
/// CPU's slot holds `cpu * 1000 + tag`.
fn program_writes_each_cpu(map_fd: std::os::fd::BorrowedFd<'_>, key: u32, tag: i32) {
    let prog = per_cpu_writer(map_fd, key, tag);
    for cpu in 0..cpus() as u32 {
        assert_eq!(run_on_cpu(prog.as_fd(), cpu), 0);
    }
}

fn expect_per_cpu(values: &PerCpuValues<u64>, tag: u64) {
    assert_eq!(values.cpus(), cpus());
    for (cpu, v) in values.iter().enumerate() {
        assert_eq!(v, cpu as u64 * 1000 + tag, "cpu {cpu}");
    }
}

#[test]
fn per_cpu_hash_values_written_by_a_program_on_each_cpu() {
    require_root();
    assert!(cpus() >= 2, "this check needs at least 2 possible CPUs");
    let m = PerCpuHashMap::<u32, u64>::create(&unique("pch_prog"), 16, CreateFlags::NONE).unwrap();
    program_writes_each_cpu(m.as_fd(), 7, 3);
    let values = m.get(&7).unwrap().unwrap();
    expect_per_cpu(&values, 3);
    assert_eq!(m.get(&8).unwrap(), None);
}

#[test]
fn lru_per_cpu_hash_values_written_by_a_program_on_each_cpu() {
    require_root();
    let m =
        LruPerCpuHashMap::<u32, u64>::create(&unique("lpch_prog"), 16, CreateFlags::NONE).unwrap();
    program_writes_each_cpu(m.as_fd(), 2, 9);
    let mut values = m.values();
    assert!(m.get_into(&2, &mut values).unwrap());
    expect_per_cpu(&values, 9);
    assert_eq!(m.info().map_type, MapType::LRU_PERCPU_HASH);
}

#[test]
fn per_cpu_array_values_written_by_a_program_on_each_cpu() {
    require_root();
    let a = PerCpuArray::<u64>::create(&unique("pca_prog"), 4, CreateFlags::NONE).unwrap();
    program_writes_each_cpu(a.as_fd(), 3, 5);
    expect_per_cpu(&a.get(3).unwrap(), 5);
    assert!(
        a.get(0).unwrap().iter().all(|v| v == 0),
        "other indices untouched"
    );
}

#[test]
fn user_space_writes_every_cpu_and_lookups_do_not_allocate() {
    require_root();
    let name = unique("pch_user");
    let m = PerCpuHashMap::<u32, [u32; 3]>::create(&name, 64, CreateFlags::NONE).unwrap();
    assert_eq!(
        PerCpuValues::<[u32; 3]>::SLOT,
        16,
        "12-byte values use 16-byte slots"
    );
    let mut values = m.values();
    for cpu in 0..values.cpus() {
        assert!(values.set(cpu, &[cpu as u32, 1, 2]));
    }
    assert!(!values.set(values.cpus(), &[0; 3]));
    for k in 0..50u32 {
        m.insert(&k, &values, MapFlags::NOEXIST).unwrap();
    }
    let mut out = m.values();
    let before = allocs();
    for _ in 0..10 {
        for k in 0..50u32 {
            assert!(m.get_into(&k, &mut out).unwrap());
        }
        assert!(!m.get_into(&999, &mut out).unwrap());
    }
    assert_eq!(allocs() - before, 0, "get_into allocates nothing");
    assert_eq!(out, values);
    assert_eq!(out.get(1), Some([1, 1, 2]));

    let short = PerCpuValues::<[u32; 3]>::with_cpus(1);
    let e = m.insert(&1, &short, MapFlags::ANY).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "map {name}: insert: per-CPU buffer holds 1 CPUs, the map has {}",
            cpus()
        )
    );
    assert!(m.contains_key(&1).unwrap());
    let mut taken = m.values();
    assert!(m.get_and_remove_into(&1, &mut taken).unwrap());
    assert_eq!(taken, values);
    assert!(!m.contains_key(&1).unwrap());
    assert!(m.remove(&2).unwrap());
    assert!(!m.remove(&2).unwrap());
}

#[test]
fn per_cpu_walks_and_batches_agree() {
    require_root();
    let m =
        PerCpuHashMap::<u32, u64>::create(&unique("pch_iter"), 5000, CreateFlags::NONE).unwrap();
    let keys: Vec<u32> = (0..5000).collect();
    let values: Vec<PerCpuValues<u64>> = keys
        .iter()
        .map(|&k| PerCpuValues::from_fn(|cpu| u64::from(k) * 10 + cpu as u64).unwrap())
        .collect();
    assert_eq!(m.update_batch(&keys, &values, MapFlags::ANY).unwrap(), 5000);

    let mut batched: Vec<(u32, PerCpuValues<u64>)> = m.iter().collect::<Result<_, _>>().unwrap();
    batched.sort_by_key(|e| e.0);
    let mut plain: Vec<(u32, PerCpuValues<u64>)> =
        m.iter_next_key().collect::<Result<_, _>>().unwrap();
    plain.sort_by_key(|e| e.0);
    assert_eq!(batched.len(), 5000);
    assert!(batched == plain);
    assert!(batched.iter().all(|(k, v)| *v == values[*k as usize]));

    // The allocation-free walk.
    let (mut key, mut buf) = (0u32, m.values());
    let mut it = m.iter();
    let before = allocs();
    let mut n = 0;
    while it.next_into(&mut key, &mut buf).unwrap() {
        assert_eq!(buf, values[key as usize]);
        n += 1;
    }
    assert_eq!(n, 5000);
    assert_eq!(allocs() - before, 0, "next_into allocates nothing");

    let mut kb = vec![0u32; 512];
    let mut vb = vec![m.values(); 512];
    let mut cursor = BatchCursor::new();
    let mut drained = 0;
    while !cursor.is_done() {
        let got = m
            .lookup_and_delete_batch(&mut cursor, &mut kb, &mut vb)
            .unwrap();
        for i in 0..got {
            assert_eq!(vb[i], values[kb[i] as usize]);
        }
        drained += got;
    }
    assert_eq!(drained, 5000);
    assert_eq!(m.keys().count(), 0);
    m.update_batch(&keys[..10], &values[..10], MapFlags::ANY)
        .unwrap();
    assert_eq!(m.delete_batch(&keys[..10]).unwrap(), 10);
}

#[test]
fn per_cpu_array_user_space_and_batches() {
    require_root();
    let name = unique("pca_user");
    let a = PerCpuArray::<u32>::create(&name, 100, CreateFlags::NONE).unwrap();
    assert_eq!((a.len(), a.cpus()), (100, cpus()));
    let mut v = a.values();
    v.fill(&7);
    a.set(99, &v).unwrap();
    let mut out = a.values();
    a.get_into(99, &mut out).unwrap();
    assert_eq!(out, v);
    let e = a.get_into(100, &mut out).unwrap_err();
    assert!(e.to_string().contains("index 100 is out of bounds"), "{e}");

    let idx: Vec<u32> = (0..100).collect();
    let vals: Vec<PerCpuValues<u32>> = idx
        .iter()
        .map(|&i| PerCpuValues::from_fn(|cpu| i + cpu as u32).unwrap())
        .collect();
    a.update_batch(&idx, &vals, MapFlags::ANY).unwrap();
    let walked: Vec<(u32, PerCpuValues<u32>)> = a.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(walked.len(), 100);
    assert!(walked
        .iter()
        .enumerate()
        .all(|(i, (k, v))| *k == i as u32 && *v == vals[i]));
    let (mut ib, mut vb) = (vec![0u32; 30], vec![a.values(); 30]);
    let mut cursor = BatchCursor::new();
    let mut total = 0;
    while !cursor.is_done() {
        let n = a.lookup_batch(&mut cursor, &mut ib, &mut vb).unwrap();
        assert!((0..n).all(|i| vb[i] == vals[ib[i] as usize]));
        total += n;
    }
    assert_eq!(total, 100);
}

#[test]
fn per_cpu_sizes_and_types_are_refused() {
    require_root();
    let name = unique("pc_sizes");
    let raw = Map::create_simple(&name, MapType::PERCPU_HASH, 4, 12, 4, CreateFlags::NONE).unwrap();
    let e = PerCpuHashMap::<u32, u64>::from_map(raw).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: value: Rust type is 8 bytes, the map's is 12 bytes")
    );
    let hash = Map::create_simple(&name, MapType::HASH, 4, 8, 4, CreateFlags::NONE).unwrap();
    let e = PerCpuHashMap::<u32, u64>::from_map(hash).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: is a hash map, not percpu_hash")
    );
    let arr = Map::create_simple(&name, MapType::ARRAY, 4, 8, 4, CreateFlags::NONE).unwrap();
    assert!(PerCpuArray::<u64>::from_map(arr).is_err());
}
