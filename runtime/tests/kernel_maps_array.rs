//! Real-kernel checks of Array: get/set, bounds, in-order walks, batches,
//! size and type checks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use bpf2rs::map::{Array, BatchCursor, CreateFlags, Map, MapFlags};
use bpf2rs::obj::MapType;
use common::{require_root, unique};

#[test]
fn get_set_len_and_bounds() {
    require_root();
    let name = unique("a_ops");
    let a = Array::<u64>::create(&name, 8, CreateFlags::NONE).unwrap();
    assert_eq!(a.len(), 8);
    assert!(!a.is_empty());
    assert_eq!(a.get(7).unwrap(), 0, "arrays start zeroed");
    a.set(3, &33).unwrap();
    assert_eq!(a.get(3).unwrap(), 33);
    let mut v = 0;
    a.get_into(3, &mut v).unwrap();
    assert_eq!(v, 33);

    let past = a.get(8).unwrap_err();
    assert_eq!(
        past.to_string(),
        format!("map {name}: get: index 8 is out of bounds: the map has 8 entries")
    );
    let past = a.set(100, &1).unwrap_err();
    assert!(
        past.to_string().contains("set: index 100 is out of bounds"),
        "{past}"
    );
    let noexist = a.set_with_flags(3, &1, MapFlags::NOEXIST).unwrap_err();
    assert_eq!(noexist.errno(), Some(libc::EEXIST));
    a.set_with_flags(3, &44, MapFlags::EXIST).unwrap();
    assert_eq!(a.get(3).unwrap(), 44);
}

#[test]
fn walks_in_index_order_and_batches() {
    require_root();
    const N: u32 = 10_000;
    let a = Array::<[u32; 3]>::create(&unique("a_iter"), N, CreateFlags::NONE).unwrap();
    let idx: Vec<u32> = (0..N).collect();
    let vals: Vec<[u32; 3]> = idx.iter().map(|&i| [i, i * 2, 7]).collect();
    assert_eq!(
        a.update_batch(&idx, &vals, MapFlags::ANY).unwrap(),
        N as usize
    );
    let walked: Vec<[u32; 3]> = a.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(walked, vals);

    let (mut ib, mut vb) = (vec![0u32; 999], vec![[0u32; 3]; 999]);
    let mut cursor = BatchCursor::new();
    let mut got = Vec::new();
    while !cursor.is_done() {
        let n = a.lookup_batch(&mut cursor, &mut ib, &mut vb).unwrap();
        got.extend(ib[..n].iter().copied().zip(vb[..n].iter().copied()));
    }
    assert_eq!(got.len(), N as usize);
    assert!(got
        .iter()
        .enumerate()
        .all(|(i, (k, v))| *k == i as u32 && v[0] == *k));

    let e = a
        .update_batch(&[1, N], &[[0; 3], [0; 3]], MapFlags::ANY)
        .unwrap_err();
    assert_eq!(e.errno(), Some(libc::E2BIG), "{e}");
    assert_eq!(
        a.get(1).unwrap(),
        [0; 3],
        "elements before the bad index are written"
    );
}

#[test]
fn wrong_sizes_and_types_are_refused() {
    require_root();
    let name = unique("a_sizes");
    let raw = Map::create_simple(&name, MapType::ARRAY, 4, 8, 4, CreateFlags::NONE).unwrap();
    let e = Array::<u32>::from_map(raw).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: value: Rust type is 4 bytes, the map's is 8 bytes")
    );
    let hash = Map::create_simple(&name, MapType::HASH, 4, 8, 4, CreateFlags::NONE).unwrap();
    let e = Array::<u64>::from_map(hash).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: is a hash map, not array")
    );
}

#[test]
fn mmapable_and_frozen_arrays() {
    require_root();
    let a = Array::<u32>::create(&unique("a_frz"), 4, CreateFlags::MMAPABLE).unwrap();
    assert_eq!(a.info().map_flags, CreateFlags::MMAPABLE.0);
    a.set(0, &5).unwrap();
    a.freeze().unwrap();
    assert_eq!(a.set(0, &6).unwrap_err().errno(), Some(libc::EPERM));
    assert_eq!(a.get(0).unwrap(), 5);
}
