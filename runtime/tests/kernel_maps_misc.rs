//! Real-kernel checks of LpmTrie, Queue, Stack, BloomFilter and StackTrace.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::os::fd::AsFd;

use bpf2rs::map::{
    BloomFilter, CreateFlags, LpmKey, LpmTrie, Map, MapFlags, Queue, Stack, StackTrace,
};
use bpf2rs::obj::MapType;
use common::{require_root, unique};
use kernel_maps_util::{run_on_cpu, stack_recorder};

#[test]
fn lpm_trie_longest_prefix_match() {
    require_root();
    let name = unique("lpm");
    let t = LpmTrie::<[u8; 4], u32>::create(&name, 16, CreateFlags::NONE).unwrap();
    assert_eq!(t.info().map_flags & CreateFlags::NO_PREALLOC.0, 1);
    t.insert(&LpmKey::new(8, [10, 0, 0, 0]), &8, MapFlags::ANY)
        .unwrap();
    t.insert(&LpmKey::new(16, [10, 1, 0, 0]), &16, MapFlags::ANY)
        .unwrap();
    t.insert(&LpmKey::new(24, [10, 1, 2, 0]), &24, MapFlags::NOEXIST)
        .unwrap();
    let dup = t
        .insert(&LpmKey::new(24, [10, 1, 2, 0]), &0, MapFlags::NOEXIST)
        .unwrap_err();
    assert_eq!(dup.errno(), Some(libc::EEXIST));

    assert_eq!(t.get(&LpmKey::new(32, [10, 1, 2, 3])).unwrap(), Some(24));
    assert_eq!(t.get(&LpmKey::new(32, [10, 1, 9, 9])).unwrap(), Some(16));
    assert_eq!(t.get(&LpmKey::new(32, [10, 9, 9, 9])).unwrap(), Some(8));
    assert_eq!(t.get(&LpmKey::new(32, [11, 0, 0, 0])).unwrap(), None);
    let mut v = 0;
    assert!(t
        .get_into(&LpmKey::new(32, [10, 1, 2, 200]), &mut v)
        .unwrap());
    assert_eq!(v, 24);

    let mut keys: Vec<(u32, [u8; 4])> = t
        .keys()
        .map(|k| k.map(|k| (k.prefix_len, k.data)))
        .collect::<Result<_, _>>()
        .unwrap();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [(8, [10, 0, 0, 0]), (16, [10, 1, 0, 0]), (24, [10, 1, 2, 0])]
    );
    let mut entries: Vec<(LpmKey<[u8; 4]>, u32)> = t.iter().collect::<Result<_, _>>().unwrap();
    entries.sort_by_key(|(k, _)| k.prefix_len);
    assert!(entries.iter().all(|(k, v)| k.prefix_len == *v));

    assert!(t.remove(&LpmKey::new(16, [10, 1, 0, 0])).unwrap());
    assert!(!t.remove(&LpmKey::new(16, [10, 1, 0, 0])).unwrap());
    assert_eq!(t.get(&LpmKey::new(32, [10, 1, 9, 9])).unwrap(), Some(8));
    let bad = t
        .insert(&LpmKey::new(33, [0; 4]), &1, MapFlags::ANY)
        .unwrap_err();
    assert_eq!(bad.errno(), Some(libc::EINVAL));

    let raw =
        Map::create_simple(&name, MapType::LPM_TRIE, 8, 4, 4, CreateFlags::NO_PREALLOC).unwrap();
    let e = LpmTrie::<[u8; 16], u32>::from_map(raw).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: key: Rust type is 20 bytes, the map's is 8 bytes")
    );
}

#[test]
fn lpm_trie_wide_keys_and_full() {
    require_root();
    let name = unique("lpm6");
    let t = LpmTrie::<[u8; 16], u64>::create(&name, 2, CreateFlags::NONE).unwrap();
    let mut a = [0u8; 16];
    a[0] = 0x20;
    t.insert(&LpmKey::new(8, a), &1, MapFlags::ANY).unwrap();
    t.insert(&LpmKey::new(16, a), &2, MapFlags::ANY).unwrap();
    let full = t
        .insert(&LpmKey::new(24, a), &3, MapFlags::ANY)
        .unwrap_err();
    assert_eq!(
        full.errno(),
        Some(libc::ENOSPC),
        "tries report a full map as ENOSPC: {full}"
    );
    assert_eq!(t.get(&LpmKey::new(128, a)).unwrap(), Some(2));
    assert_eq!(t.iter().count(), 2);
}

#[test]
fn queue_is_fifo_and_stack_is_lifo() {
    require_root();
    let name = unique("queue");
    let q = Queue::<u64>::create(&name, 3, CreateFlags::NONE).unwrap();
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.peek().unwrap(), None);
    for v in [1, 2, 3] {
        q.push(&v, MapFlags::ANY).unwrap();
    }
    let full = q.push(&4, MapFlags::ANY).unwrap_err();
    assert_eq!(full.errno(), Some(libc::E2BIG));
    assert_eq!(
        full.to_string(),
        format!("map {name}: push: BPF_MAP_UPDATE_ELEM: map is full (E2BIG)")
    );
    q.push(&4, MapFlags::EXIST).unwrap();
    assert_eq!(q.peek().unwrap(), Some(2), "EXIST dropped the oldest");
    assert_eq!(q.pop().unwrap(), Some(2));
    assert_eq!(q.pop().unwrap(), Some(3));
    assert_eq!(q.pop().unwrap(), Some(4));
    assert_eq!(q.pop().unwrap(), None);

    let s = Stack::<[u8; 5]>::create(&unique("stack"), 4, CreateFlags::NONE).unwrap();
    s.push(b"first", MapFlags::ANY).unwrap();
    s.push(b"secnd", MapFlags::ANY).unwrap();
    assert_eq!(s.peek().unwrap(), Some(*b"secnd"));
    assert_eq!(s.pop().unwrap(), Some(*b"secnd"));
    assert_eq!(s.pop().unwrap(), Some(*b"first"));
    assert_eq!(s.pop().unwrap(), None);

    let e = Stack::<u64>::from_map(q.into_map()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: is a queue map, not stack")
    );
}

#[test]
fn bloom_filter_has_no_false_negatives() {
    require_root();
    let name = unique("bloom");
    let b = BloomFilter::<u32>::create(&name, 1000, CreateFlags::NONE).unwrap();
    for v in 0..500u32 {
        b.insert(&(v * 2)).unwrap();
    }
    for v in 0..500u32 {
        assert!(b.contains(&(v * 2)).unwrap(), "added {v} must be found");
    }
    let false_positives = (0..500u32)
        .filter(|v| b.contains(&(v * 2 + 1)).unwrap())
        .count();
    assert!(false_positives < 100, "{false_positives} false positives");
    let b3 =
        BloomFilter::<[u8; 16]>::create_with_hashes(&unique("bloom3"), 64, 3, CreateFlags::NONE)
            .unwrap();
    assert_eq!(b3.info().map_extra, 3);
    assert!(!b3.contains(&[1; 16]).unwrap());
    b3.insert(&[1; 16]).unwrap();
    assert!(b3.contains(&[1; 16]).unwrap());
    let e = BloomFilter::<u64>::from_map(b.into_map()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: value: Rust type is 8 bytes, the map's is 4 bytes")
    );
}

#[test]
fn stack_trace_by_id() {
    require_root();
    let name = unique("stacks");
    let s = StackTrace::create(&name, 64, 32, CreateFlags::NONE).unwrap();
    assert_eq!(s.max_depth(), 32);
    let prog = stack_recorder(s.as_fd());
    let id = run_on_cpu(prog.as_fd(), 0) as i32;
    assert!(id >= 0, "bpf_get_stackid failed: {id}");
    let id = id as u32;

    let ips = s.get(id).unwrap().expect("the recorded stack");
    assert!(!ips.is_empty() && ips.len() <= 32);
    assert!(
        ips.iter().all(|&ip| ip >= 0xffff_0000_0000_0000),
        "kernel addresses: {ips:x?}"
    );
    let mut again = Vec::with_capacity(32);
    assert!(s.get_into(id, &mut again).unwrap());
    assert_eq!(again, ips);
    assert_eq!(
        s.stack_ids().collect::<Result<Vec<_>, _>>().unwrap(),
        vec![id]
    );
    assert_eq!(s.get(id + 1).unwrap(), None);
    assert!(s.remove(id).unwrap());
    assert!(!s.remove(id).unwrap());
    assert!(!s.get_into(id, &mut again).unwrap());
    assert!(again.is_empty());

    // Build-id stacks are not addresses: refused with a reason.
    let e = StackTrace::create(&name, 4, 4, CreateFlags::STACK_BUILD_ID).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: from_map: stores build ids, not addresses")
    );
}
