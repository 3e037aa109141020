//! Real-kernel checks of what every handle shares: info, pin, from_pin,
//! unpin, from_fd, map()/into_map, freeze, and refusal of another family's
//! map, for each map family.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::os::fd::AsFd;
use std::path::Path;

use bpf2rs::map::{
    Array, ArrayOfMaps, BloomFilter, CpuMap, CreateFlags, DevMap, DevMapHash, HashMap, HashOfMaps,
    LpmTrie, LruHashMap, LruPerCpuHashMap, Map, MapHandle, PerCpuArray, PerCpuHashMap, ProgArray,
    Queue, SockHash, SockMap, Stack, StackTrace, XskMap,
};
use bpf2rs::obj::MapType;
use common::{require_root, unique};

/// Runs the shared operations on `$handle` (of type `$ty`, kernel type
/// `$map_type`) and checks that a plain array is refused by `$ty`.
macro_rules! common_ops {
    ($ty:ty, $map_type:expr, $handle:expr) => {{
        let h: $ty = $handle;
        let what = stringify!($ty);
        let info = h.info().clone();
        assert_eq!(info.map_type, $map_type, "{what}");
        assert!(info.id > 0, "{what}");
        assert_eq!(h.name(), h.map().name());

        let path = format!("/sys/fs/bpf/{}", unique("common"));
        h.pin(&path).unwrap();
        assert_eq!(h.map().pinned().as_deref(), Some(Path::new(&path)));
        let again = <$ty>::from_pin(&path).unwrap();
        assert_eq!(again.info().id, info.id, "{what}");
        again.unpin().unwrap();
        assert!(!Path::new(&path).exists(), "{what}");
        assert!(h.unpin().is_err(), "{what}: the pin is gone");

        let dup = <$ty>::from_fd(h.as_fd().try_clone_to_owned().unwrap()).unwrap();
        assert_eq!(dup.info(), &info, "{what}");
        let generic: $ty = MapHandle::from_map(dup.into_map()).unwrap();
        assert_eq!(MapHandle::map(&generic).info().id, info.id);

        h.freeze().unwrap();
        let refused = <$ty>::from_map(other()).unwrap_err();
        assert!(
            refused.to_string().contains("is a array map, not")
                || refused.to_string().contains("Rust type is"),
            "{what}: {refused}"
        );
    }};
}

/// A map no typed handle below accepts (key 4, value 1: only `Array<u8>`).
fn other() -> Map {
    Map::create_simple("other", MapType::ARRAY, 4, 1, 1, CreateFlags::NONE).unwrap()
}

#[test]
fn every_family_shares_info_pin_unpin_from_fd_freeze() {
    require_root();
    let none = CreateFlags::NONE;
    let n = |p: &str| unique(p);
    common_ops!(HashMap<u32, u64>, MapType::HASH, HashMap::create(&n("c_h"), 4, none).unwrap());
    common_ops!(
        LruHashMap<u32, u64>,
        MapType::LRU_HASH,
        LruHashMap::create(&n("c_lru"), 4, none).unwrap()
    );
    common_ops!(
        Array<u64>,
        MapType::ARRAY,
        Array::create(&n("c_a"), 4, none).unwrap()
    );
    common_ops!(
        PerCpuHashMap<u32, u64>,
        MapType::PERCPU_HASH,
        PerCpuHashMap::create(&n("c_pch"), 4, none).unwrap()
    );
    common_ops!(
        LruPerCpuHashMap<u32, u64>,
        MapType::LRU_PERCPU_HASH,
        LruPerCpuHashMap::create(&n("c_lpch"), 4, none).unwrap()
    );
    common_ops!(
        PerCpuArray<u64>,
        MapType::PERCPU_ARRAY,
        PerCpuArray::create(&n("c_pca"), 4, none).unwrap()
    );
    common_ops!(
        LpmTrie<[u8; 4], u32>,
        MapType::LPM_TRIE,
        LpmTrie::create(&n("c_lpm"), 4, none).unwrap()
    );
    common_ops!(
        Queue<u64>,
        MapType::QUEUE,
        Queue::create(&n("c_q"), 4, none).unwrap()
    );
    common_ops!(
        Stack<u64>,
        MapType::STACK,
        Stack::create(&n("c_s"), 4, none).unwrap()
    );
    common_ops!(
        BloomFilter<u64>,
        MapType::BLOOM_FILTER,
        BloomFilter::create(&n("c_b"), 4, none).unwrap()
    );
    common_ops!(
        ProgArray,
        MapType::PROG_ARRAY,
        ProgArray::create(&n("c_pa"), 4, none).unwrap()
    );
    let inner = HashMap::<u32, u64>::create(&n("c_in"), 4, none).unwrap();
    common_ops!(
        ArrayOfMaps<HashMap<u32, u64>>,
        MapType::ARRAY_OF_MAPS,
        ArrayOfMaps::create(&n("c_aom"), 4, &inner, none).unwrap()
    );
    common_ops!(
        HashOfMaps<u32>,
        MapType::HASH_OF_MAPS,
        HashOfMaps::create(&n("c_hom"), 4, &inner, none).unwrap()
    );
    common_ops!(
        StackTrace,
        MapType::STACK_TRACE,
        StackTrace::create(&n("c_st"), 4, 8, none).unwrap()
    );
    common_ops!(
        DevMap,
        MapType::DEVMAP,
        DevMap::create(&n("c_d"), 4, none).unwrap()
    );
    common_ops!(
        DevMapHash,
        MapType::DEVMAP_HASH,
        DevMapHash::create(&n("c_dh"), 4, none).unwrap()
    );
    common_ops!(
        CpuMap,
        MapType::CPUMAP,
        CpuMap::create(&n("c_c"), 1, none).unwrap()
    );
    common_ops!(
        XskMap,
        MapType::XSKMAP,
        XskMap::create(&n("c_x"), 4, none).unwrap()
    );
    common_ops!(
        SockMap,
        MapType::SOCKMAP,
        SockMap::create(&n("c_sm"), 4, none).unwrap()
    );
    common_ops!(
        SockHash<u32>,
        MapType::SOCKHASH,
        SockHash::create(&n("c_sh"), 4, none).unwrap()
    );
}

#[test]
fn untyped_map_byte_ops_for_other_types() {
    require_root();
    // A map type without a typed handle here: the untyped Map still works.
    let name = unique("c_raw");
    let m = Map::create_simple(&name, MapType::HASH, 3, 5, 2, CreateFlags::NONE).unwrap();
    m.update(b"abc", b"12345", bpf2rs::map::MapFlags::ANY)
        .unwrap();
    let mut v = [0u8; 5];
    assert!(m.lookup(b"abc", &mut v).unwrap());
    assert_eq!(&v, b"12345");
    assert!(m.delete(b"abc").unwrap());
    assert_eq!(Map::from_id(m.info().id).unwrap().info().key_size, 3);
}
