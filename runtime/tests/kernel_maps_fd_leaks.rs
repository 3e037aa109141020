//! No map handle leaks an fd: every family is created, used, failed and
//! dropped, and /proc/self/fd has as many entries afterwards as before.
//! Its own test binary, with one test, so no other test opens fds meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::os::fd::AsFd;

use bpf2rs::map::{
    Array, ArrayOfMaps, BatchCursor, BloomFilter, CpuMap, CreateFlags, DevMap, DevMapHash, HashMap,
    HashOfMaps, LpmKey, LpmTrie, LruHashMap, LruPerCpuHashMap, Map, MapFlags, PerCpuArray,
    PerCpuHashMap, ProgArray, Queue, SockHash, SockMap, Stack, StackTrace, XskMap,
};
use bpf2rs::obj::MapType;
use common::{require_root, unique};
use kernel_maps_util::{open_fds, trivial_prog};

fn exercise_everything() {
    let n = |p: &str| unique(p);
    let none = CreateFlags::NONE;

    // Hash families: ops, a full map, failed flags, walks, batches.
    let h = HashMap::<u32, u64>::create(&n("fd_h"), 4, none).unwrap();
    for k in 0..4 {
        h.insert(&k, &1, MapFlags::ANY).unwrap();
    }
    assert!(h.insert(&9, &1, MapFlags::ANY).is_err());
    assert!(h.insert(&1, &1, MapFlags::NOEXIST).is_err());
    assert_eq!(h.iter().count(), 4);
    assert_eq!(h.iter_next_key().count(), 4);
    assert_eq!(h.keys().count(), 4);
    let mut cursor = BatchCursor::new();
    let (mut kb, mut vb) = ([0u32; 8], [0u64; 8]);
    while !cursor.is_done() {
        h.lookup_batch(&mut cursor, &mut kb, &mut vb).unwrap();
    }
    assert!(h.delete_batch(&[100]).is_err());
    assert!(h.update_batch(&[1], &[], MapFlags::ANY).is_err());
    let lru = LruHashMap::<u32, u64>::create(&n("fd_lru"), 4, none).unwrap();
    lru.insert(&1, &1, MapFlags::ANY).unwrap();

    // Refused handles close the map they were given.
    let raw = || Map::create_simple("fd_raw", MapType::HASH, 4, 8, 4, none).unwrap();
    assert!(HashMap::<u64, u64>::from_map(raw()).is_err());
    assert!(LruHashMap::<u32, u64>::from_map(raw()).is_err());
    assert!(Array::<u64>::from_map(raw()).is_err());
    assert!(
        HashMap::<u32, u32>::from_fd(raw().map_fd().fd().try_clone_to_owned().unwrap()).is_err()
    );
    assert!(HashMap::<u32, u64>::from_pin("/sys/fs/bpf/does-not-exist").is_err());
    assert!(HashMap::<u32, u64>::from_pin("/sys/fs/bpf/nul\0byte").is_err());
    assert!(Map::create_simple("fd_bad", MapType::HASH, 0, 8, 4, none).is_err());
    assert!(HashMap::<u32, u64>::create("fd_zero", 0, none).is_err());

    // Pin, reopen, unpin, freeze.
    let path = format!("/sys/fs/bpf/{}", n("fd_pin"));
    h.pin(&path).unwrap();
    let again = HashMap::<u32, u64>::from_pin(&path).unwrap();
    assert!(HashMap::<u32, u32>::from_pin(&path).is_err());
    again.unpin().unwrap();
    assert!(again.unpin().is_err());
    h.freeze().unwrap();
    assert!(h.insert(&1, &1, MapFlags::ANY).is_err());

    // Arrays and per-CPU maps.
    let a = Array::<u64>::create(&n("fd_a"), 4, none).unwrap();
    a.set(0, &1).unwrap();
    assert!(a.get(4).is_err());
    assert_eq!(a.iter().count(), 4);
    let pch = PerCpuHashMap::<u32, u64>::create(&n("fd_pch"), 4, none).unwrap();
    let mut v = pch.values();
    pch.insert(&1, &v, MapFlags::ANY).unwrap();
    assert!(pch.get_into(&1, &mut v).unwrap());
    assert_eq!(pch.iter().count(), 1);
    let lpch = LruPerCpuHashMap::<u32, u64>::create(&n("fd_lpch"), 4, none).unwrap();
    lpch.insert(&1, &v, MapFlags::ANY).unwrap();
    let pca = PerCpuArray::<u64>::create(&n("fd_pca"), 4, none).unwrap();
    pca.get_into(3, &mut v).unwrap();

    // The rest.
    let t = LpmTrie::<[u8; 4], u32>::create(&n("fd_lpm"), 4, none).unwrap();
    t.insert(&LpmKey::new(8, [10, 0, 0, 0]), &1, MapFlags::ANY)
        .unwrap();
    assert_eq!(t.iter().count(), 1);
    let q = Queue::<u32>::create(&n("fd_q"), 1, none).unwrap();
    q.push(&1, MapFlags::ANY).unwrap();
    assert!(q.push(&2, MapFlags::ANY).is_err());
    let s = Stack::<u32>::create(&n("fd_s"), 1, none).unwrap();
    assert_eq!(s.pop().unwrap(), None);
    let b = BloomFilter::<u32>::create(&n("fd_b"), 8, none).unwrap();
    b.insert(&1).unwrap();
    let st = StackTrace::create(&n("fd_st"), 4, 8, none).unwrap();
    assert_eq!(st.get(0).unwrap(), None);
    assert!(StackTrace::create(&n("fd_st"), 4, 8, CreateFlags::STACK_BUILD_ID).is_err());

    let prog = trivial_prog();
    let pa = ProgArray::create(&n("fd_pa"), 2, none).unwrap();
    pa.set(0, prog.as_fd()).unwrap();
    assert!(pa.get(0).unwrap().is_some());
    assert!(pa.set(1, std::io::stdin().as_fd()).is_err());

    let inner = HashMap::<u32, u64>::create(&n("fd_in"), 4, none).unwrap();
    let aom = ArrayOfMaps::<HashMap<u32, u64>>::create(&n("fd_aom"), 2, &inner, none).unwrap();
    aom.set(0, &inner).unwrap();
    assert!(aom.get(0).unwrap().is_some());
    assert!(aom.set(1, &a).is_err());
    let wrong =
        ArrayOfMaps::<HashMap<u32, u32>>::from_map(Map::from_id(aom.info().id).unwrap()).unwrap();
    assert!(
        wrong.get(0).is_err(),
        "inner map of the wrong shape: opened, refused, closed"
    );
    let hom = HashOfMaps::<u32>::create(&n("fd_hom"), 2, &inner, none).unwrap();
    hom.insert(&1, &inner, MapFlags::ANY).unwrap();
    assert!(hom.get(&1).unwrap().is_some());

    let d = DevMap::create(&n("fd_d"), 2, none).unwrap();
    d.set(0, 1, None, MapFlags::ANY).unwrap();
    assert!(d.set(1, 999_999, None, MapFlags::ANY).is_err());
    let dh = DevMapHash::create(&n("fd_dh"), 2, none).unwrap();
    dh.set(5, 1, None, MapFlags::ANY).unwrap();
    let c = CpuMap::create(&n("fd_c"), 1, none).unwrap();
    c.set(0, 64, None, MapFlags::ANY).unwrap();
    let x = XskMap::create(&n("fd_x"), 1, none).unwrap();
    assert!(x.set(0, std::io::stdin().as_fd()).is_err());

    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (server, _) = l.accept().unwrap();
    let sm = SockMap::create(&n("fd_sm"), 2, none).unwrap();
    sm.set(0, client.as_fd(), MapFlags::ANY).unwrap();
    assert!(sm.get(0).unwrap().is_some());
    let sh = SockHash::<u32>::create(&n("fd_sh"), 2, none).unwrap();
    sh.insert(&1, server.as_fd(), MapFlags::ANY).unwrap();
    assert!(sm.set(1, std::io::stdin().as_fd(), MapFlags::ANY).is_err());
}

#[test]
fn no_fd_leaks_including_failed_operations() {
    require_root();
    // One warm-up round: lazily opened process-wide fds (none expected,
    // but e.g. a libc cache) are not leaks.
    exercise_everything();
    let before = open_fds();
    for _ in 0..3 {
        exercise_everything();
    }
    let after = open_fds();
    assert_eq!(
        before, after,
        "fds before and after three rounds of every map family"
    );
}
