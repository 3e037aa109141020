//! Real-kernel checks of the untyped `Map` and the sys layer under it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::map::{Map, MapFlags};
use bpf2rs::sys::MapCreate;

mod common;
use common::require_root;

#[test]
fn hash_map_round_trip_and_errors() {
    require_root();
    let map = Map::create(&MapCreate {
        name: "t_untyped",
        map_type: 1,
        key_size: 4,
        value_size: 8,
        max_entries: 2,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(map.info().key_size, 4);
    assert_eq!(map.info().name, "t_untyped");
    map.update(&1u32.to_ne_bytes(), &11u64.to_ne_bytes(), MapFlags::ANY)
        .unwrap();
    map.update(&2u32.to_ne_bytes(), &22u64.to_ne_bytes(), MapFlags::ANY)
        .unwrap();
    let mut v = [0u8; 8];
    assert!(map.lookup(&2u32.to_ne_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_ne_bytes(v), 22);
    assert!(!map.lookup(&3u32.to_ne_bytes(), &mut v).unwrap());
    let full = map
        .update(&3u32.to_ne_bytes(), &33u64.to_ne_bytes(), MapFlags::ANY)
        .unwrap_err();
    assert_eq!(full.errno(), Some(libc::E2BIG));
    assert_eq!(
        full.to_string(),
        "map t_untyped: update: BPF_MAP_UPDATE_ELEM: map is full (E2BIG)"
    );
    let exists = map
        .update(&1u32.to_ne_bytes(), &1u64.to_ne_bytes(), MapFlags::NOEXIST)
        .unwrap_err();
    assert_eq!(exists.errno(), Some(libc::EEXIST));
    let short = map.lookup(&[0u8; 2], &mut v).unwrap_err();
    assert!(
        short
            .to_string()
            .contains("key buffer is 2 bytes, the map's key is 4"),
        "{short}"
    );
    assert!(map.delete(&1u32.to_ne_bytes()).unwrap());
    assert!(!map.delete(&1u32.to_ne_bytes()).unwrap());
}
