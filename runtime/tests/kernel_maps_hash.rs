//! Real-kernel checks of HashMap and LruHashMap: element ops and flags,
//! full vs missing, size and type checks, threads, iteration (batched and
//! get_next_key), batch ops, pin/unpin/info/freeze.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::collections::BTreeMap;
use std::os::fd::AsFd;

use bpf2rs::map::{BatchCursor, CreateFlags, HashMap, LruHashMap, Map, MapFlags, MapHandle};
use bpf2rs::obj::MapType;
use common::{require_root, unique};

type Val = [u64; 2];

fn val(k: u32) -> Val {
    [u64::from(k), u64::from(k) * 2 + 1]
}

#[test]
fn element_ops_and_flags() {
    require_root();
    let name = unique("h_ops");
    let m = HashMap::<u32, Val>::create(&name, 16, CreateFlags::NONE).unwrap();
    m.insert(&1, &val(1), MapFlags::ANY).unwrap();
    assert_eq!(m.get(&1).unwrap(), Some(val(1)));
    let mut v = [0u64; 2];
    assert!(m.get_into(&1, &mut v).unwrap());
    assert_eq!(v, val(1));
    assert!(!m.get_into(&2, &mut v).unwrap());
    assert_eq!(v, val(1), "a miss leaves the buffer alone");
    assert!(m.contains_key(&1).unwrap());
    assert!(!m.contains_key(&2).unwrap());

    let exists = m.insert(&1, &val(9), MapFlags::NOEXIST).unwrap_err();
    assert_eq!(exists.errno(), Some(libc::EEXIST));
    assert_eq!(
        exists.to_string(),
        format!("map {name}: insert: BPF_MAP_UPDATE_ELEM: element exists (EEXIST)")
    );
    m.insert(&1, &val(5), MapFlags::EXIST).unwrap();
    assert_eq!(m.get(&1).unwrap(), Some(val(5)));
    let absent = m.insert(&3, &val(3), MapFlags::EXIST).unwrap_err();
    assert_eq!(absent.errno(), Some(libc::ENOENT));

    assert_eq!(m.get_and_remove(&1).unwrap(), Some(val(5)));
    assert_eq!(m.get_and_remove(&1).unwrap(), None);
    m.insert(&4, &val(4), MapFlags::ANY).unwrap();
    assert!(m.remove(&4).unwrap());
    assert!(!m.remove(&4).unwrap());
    assert_eq!(m.keys().count(), 0);
}

#[test]
fn full_map_and_missing_key_are_distinct() {
    require_root();
    let name = unique("h_full");
    let m = HashMap::<u32, u64>::create(&name, 2, CreateFlags::NONE).unwrap();
    m.insert(&1, &1, MapFlags::ANY).unwrap();
    m.insert(&2, &2, MapFlags::ANY).unwrap();
    // Full: an error that says so.
    let full = m.insert(&3, &3, MapFlags::ANY).unwrap_err();
    assert_eq!(full.errno(), Some(libc::E2BIG));
    assert_eq!(
        full.to_string(),
        format!("map {name}: insert: BPF_MAP_UPDATE_ELEM: map is full (E2BIG)")
    );
    // Missing: not an error at all.
    assert_eq!(m.get(&3).unwrap(), None);
    assert!(!m.remove(&3).unwrap());
    assert_eq!(m.get_and_remove(&3).unwrap(), None);
    // Replacing a present key in a full map works.
    m.insert(&2, &20, MapFlags::ANY).unwrap();
    assert_eq!(m.get(&2).unwrap(), Some(20));
}

#[test]
fn wrong_sizes_and_types_are_refused() {
    require_root();
    let name = unique("h_sizes");
    let raw = || Map::create_simple(&name, MapType::HASH, 4, 16, 8, CreateFlags::NONE).unwrap();

    let key = HashMap::<u64, Val>::from_map(raw()).unwrap_err();
    assert_eq!(
        key.to_string(),
        format!("map {name}: key: Rust type is 8 bytes, the map's is 4 bytes")
    );
    let value = HashMap::<u32, u64>::from_map(raw()).unwrap_err();
    assert_eq!(
        value.to_string(),
        format!("map {name}: value: Rust type is 8 bytes, the map's is 16 bytes")
    );
    let kind = LruHashMap::<u32, Val>::from_map(raw()).unwrap_err();
    assert_eq!(
        kind.to_string(),
        format!("map {name}: is a hash map, not lru_hash")
    );
    // Through from_fd the kernel's name is used.
    let fd = raw().map_fd().fd().try_clone_to_owned().unwrap();
    let e = HashMap::<u32, [u8; 3]>::from_fd(fd).unwrap_err();
    assert!(
        e.to_string()
            .contains("value: Rust type is 3 bytes, the map's is 16 bytes"),
        "{e}"
    );
    assert!(HashMap::<u32, Val>::from_map(raw()).is_ok());
}

#[test]
fn lru_evicts_instead_of_failing() {
    require_root();
    let m = LruHashMap::<u32, u64>::create(&unique("lru"), 64, CreateFlags::NONE).unwrap();
    for k in 0..1000u32 {
        m.insert(&k, &u64::from(k), MapFlags::ANY).unwrap();
    }
    assert_eq!(m.get(&999).unwrap(), Some(999), "the newest entry stays");
    let n = m.keys().count();
    assert!(n > 0 && n <= 64 + 2 * 64, "{n} entries");
    let walked: Vec<(u32, u64)> = m.iter().collect::<Result<_, _>>().unwrap();
    assert!(walked.iter().all(|(k, v)| u64::from(*k) == *v));
    assert_eq!(m.info().map_type, MapType::LRU_HASH);
    assert_eq!(m.get_and_remove(&999).unwrap(), Some(999));
}

#[test]
fn two_threads_insert_and_read() {
    require_root();
    const N: u32 = 20_000;
    let m = HashMap::<u32, Val>::create(&unique("h_threads"), 2 * N, CreateFlags::NONE).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for k in 0..N {
                m.insert(&k, &val(k), MapFlags::NOEXIST).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::Release);
        });
        let second_writer = s.spawn(|| {
            for k in N..2 * N {
                m.insert(&k, &val(k), MapFlags::ANY).unwrap();
            }
        });
        let reader = s.spawn(|| {
            let mut seen = 0u64;
            let mut v = [0u64; 2];
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                for k in (0..N).step_by(97) {
                    if m.get_into(&k, &mut v).unwrap() {
                        assert_eq!(v, val(k), "a torn or wrong value");
                        seen += 1;
                    }
                }
            }
            seen
        });
        writer.join().unwrap();
        second_writer.join().unwrap();
        reader.join().unwrap();
    });
    for k in 0..2 * N {
        assert_eq!(m.get(&k).unwrap(), Some(val(k)));
    }
}

fn sorted<I: Iterator<Item = Result<(u32, Val), bpf2rs::map::MapError>>>(it: I) -> Vec<(u32, Val)> {
    let mut v: Vec<(u32, Val)> = it.collect::<Result<_, _>>().unwrap();
    v.sort_unstable();
    v
}

#[test]
fn batch_and_plain_iteration_return_the_same_65536_entries() {
    require_root();
    const N: u32 = 65_536;
    let m = HashMap::<u32, Val>::create(&unique("h_iter"), N, CreateFlags::NONE).unwrap();
    let keys: Vec<u32> = (0..N).collect();
    let values: Vec<Val> = keys.iter().map(|&k| val(k)).collect();
    for (k, v) in keys.chunks(4096).zip(values.chunks(4096)) {
        assert_eq!(m.update_batch(k, v, MapFlags::ANY).unwrap(), k.len());
    }
    let want: Vec<(u32, Val)> = keys.iter().map(|&k| (k, val(k))).collect();

    let batched = sorted(m.iter());
    assert_eq!(batched.len(), N as usize);
    assert_eq!(batched, want);
    let plain = sorted(m.iter_next_key());
    assert_eq!(plain, batched);
    let mut by_keys: Vec<(u32, Val)> = m
        .keys()
        .map(|k| {
            let k = k.unwrap();
            (k, m.get(&k).unwrap().unwrap())
        })
        .collect();
    by_keys.sort_unstable();
    assert_eq!(by_keys, batched);

    // Caller-driven batches with small buffers see the same set.
    let (mut kb, mut vb) = (vec![0u32; 300], vec![[0u64; 2]; 300]);
    let mut cursor = BatchCursor::new();
    let mut manual = Vec::new();
    while !cursor.is_done() {
        let n = m.lookup_batch(&mut cursor, &mut kb, &mut vb).unwrap();
        manual.extend(kb[..n].iter().copied().zip(vb[..n].iter().copied()));
    }
    manual.sort_unstable();
    assert_eq!(manual, batched);
    // A finished cursor returns nothing; reset starts over.
    assert_eq!(m.lookup_batch(&mut cursor, &mut kb, &mut vb).unwrap(), 0);
    cursor.reset();
    assert!(m.lookup_batch(&mut cursor, &mut kb, &mut vb).unwrap() > 0);
}

#[test]
fn batched_walk_sees_stable_entries_exactly_once_under_deletion() {
    require_root();
    const N: u32 = 20_000;
    let m = HashMap::<u32, Val>::create(&unique("h_del"), N, CreateFlags::NONE).unwrap();
    let keys: Vec<u32> = (0..N).collect();
    let values: Vec<Val> = keys.iter().map(|&k| val(k)).collect();
    m.update_batch(&keys, &values, MapFlags::ANY).unwrap();
    let mut seen = BTreeMap::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            for k in (N / 2..N).rev() {
                m.remove(&k).unwrap();
            }
        });
        for e in m.iter() {
            let (k, _) = e.unwrap();
            *seen.entry(k).or_insert(0u32) += 1;
        }
    });
    for k in 0..N / 2 {
        assert_eq!(seen.get(&k), Some(&1), "stable key {k}");
    }
    assert!(seen.values().all(|&n| n == 1), "no entry twice");
}

#[test]
fn lookup_and_delete_update_and_delete_batches() {
    require_root();
    let name = unique("h_batch");
    let m = HashMap::<u32, u64>::create(&name, 1024, CreateFlags::NONE).unwrap();
    let keys: Vec<u32> = (0..1000).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k) * 7).collect();
    assert_eq!(m.update_batch(&keys, &values, MapFlags::ANY).unwrap(), 1000);
    let e = m
        .update_batch(&keys, &values[..10], MapFlags::ANY)
        .unwrap_err();
    assert!(e.to_string().contains("1000 keys but 10 values"), "{e}");
    let e = m
        .update_batch(&keys, &values, MapFlags::NOEXIST)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("batch updates take only MapFlags::ANY or F_LOCK"),
        "{e}"
    );

    assert_eq!(m.delete_batch(&keys[..100]).unwrap(), 100);
    assert_eq!(m.get(&5).unwrap(), None);
    let missing = m.delete_batch(&[500, 5, 501]).unwrap_err();
    assert_eq!(missing.errno(), Some(libc::ENOENT));
    assert!(
        missing
            .to_string()
            .starts_with(&format!("map {name}: delete_batch: BPF_MAP_DELETE_BATCH")),
        "{missing}"
    );
    assert_eq!(
        m.get(&500).unwrap(),
        None,
        "keys before the missing one are deleted"
    );

    let (mut kb, mut vb) = (vec![0u32; 128], vec![0u64; 128]);
    let mut cursor = BatchCursor::new();
    let mut drained = BTreeMap::new();
    while !cursor.is_done() {
        let n = m
            .lookup_and_delete_batch(&mut cursor, &mut kb, &mut vb)
            .unwrap();
        for i in 0..n {
            assert!(
                drained.insert(kb[i], vb[i]).is_none(),
                "key {} twice",
                kb[i]
            );
        }
    }
    assert_eq!(drained.len(), 899);
    assert!(drained.iter().all(|(k, v)| u64::from(*k) * 7 == *v));
    assert_eq!(m.keys().count(), 0);
    assert_eq!(m.iter().count(), 0, "an empty map walks to nothing");
}

#[test]
fn lru_batches() {
    require_root();
    let m = LruHashMap::<u32, u64>::create(&unique("lru_b"), 4096, CreateFlags::NONE).unwrap();
    let keys: Vec<u32> = (0..2000).collect();
    let values: Vec<u64> = keys.iter().map(|&k| u64::from(k)).collect();
    m.update_batch(&keys, &values, MapFlags::ANY).unwrap();
    let mut got: Vec<(u32, u64)> = m.iter().collect::<Result<_, _>>().unwrap();
    got.sort_unstable();
    assert_eq!(got.len(), 2000);
    assert_eq!(m.delete_batch(&keys).unwrap(), 2000);
}

#[test]
fn pin_unpin_info_freeze() {
    require_root();
    let name = unique("h_pin");
    let m = HashMap::<u32, Val>::create(&name, 32, CreateFlags::NO_PREALLOC).unwrap();
    let info = m.info().clone();
    assert_eq!(info.map_type, MapType::HASH);
    assert_eq!(
        (info.key_size, info.value_size, info.max_entries),
        (4, 16, 32)
    );
    assert_eq!(info.map_flags, CreateFlags::NO_PREALLOC.0);
    assert!(info.id > 0);
    assert_eq!(
        info.name,
        bpf2rs::sys::obj_name(&name)
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| b as char)
            .collect::<String>()
    );
    assert_eq!(
        (info.btf_id, info.btf_key_type_id, info.btf_value_type_id),
        (0, 0, 0)
    );
    assert_eq!(m.name(), name);

    let path = format!("/sys/fs/bpf/{name}");
    m.pin(&path).unwrap();
    let again = HashMap::<u32, Val>::from_pin(&path).unwrap();
    assert_eq!(again.info().id, info.id);
    m.insert(&1, &val(1), MapFlags::ANY).unwrap();
    assert_eq!(again.get(&1).unwrap(), Some(val(1)));
    let wrong = HashMap::<u32, u64>::from_pin(&path).unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("value: Rust type is 8 bytes, the map's is 16 bytes"),
        "{wrong}"
    );
    m.unpin().unwrap();
    assert!(!std::path::Path::new(&path).exists());
    let twice = m.unpin().unwrap_err();
    assert!(
        twice.to_string().contains("not pinned through this handle"),
        "{twice}"
    );
    let gone = HashMap::<u32, Val>::from_pin(&path).unwrap_err();
    assert_eq!(gone.errno(), Some(libc::ENOENT));
    assert!(
        gone.to_string()
            .starts_with(&format!("map {path}: from_pin: BPF_OBJ_GET")),
        "{gone}"
    );

    // The handle's fd works as any AsFd.
    let dup = HashMap::<u32, Val>::from_fd(again.as_fd().try_clone_to_owned().unwrap()).unwrap();
    assert_eq!(dup.map().info().id, info.id);
    let untyped: Map = dup.into_map();
    assert_eq!(untyped.info().id, info.id);

    m.freeze().unwrap();
    let frozen = m.insert(&2, &val(2), MapFlags::ANY).unwrap_err();
    assert_eq!(frozen.errno(), Some(libc::EPERM));
    assert!(
        frozen.to_string().starts_with(&format!(
            "map {name}: insert: BPF_MAP_UPDATE_ELEM: operation not permitted"
        )),
        "{frozen}"
    );
    assert_eq!(m.get(&1).unwrap(), Some(val(1)), "reads still work");
}

#[test]
fn handles_are_send_sync_and_generic() {
    fn assert_send_sync<T: Send + Sync + MapHandle>() {}
    assert_send_sync::<HashMap<u32, Val>>();
    assert_send_sync::<LruHashMap<[u8; 6], u64>>();
    assert_send_sync::<Map>();
}
