//! Map types: a one-entry map of each type created with the sizes, flags
//! and BTF the type needs, as libbpf's `libbpf_probe_bpf_map_type`
//! (tools/lib/bpf/libbpf_probes.c).
//!
//! In: a [`MapType`]. Out: a [`Support`], cached per type. Every map (and
//! the inner map or BTF it needed) is closed before the probe returns.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::OnceLock;

use super::prog_types::ENOTSUPP;
use super::{btf, cached_support, lacks_privilege, Support};
use crate::obj::MapType;
use crate::sys::{self, SysError};

/// The highest `enum bpf_map_type` value this crate knows how to probe.
pub(super) const MAP_TYPE_MAX: u32 = MapType::ARENA.0;

const BPF_F_NO_PREALLOC: u32 = 1;
const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Whether the running kernel can create maps of `map_type`, probed like
/// libbpf's `libbpf_probe_bpf_map_type` and bpftool's
/// `have_<type>_map_type`: a small map of the type is created (with an
/// inner map for maps of maps, BTF with a spin lock for the local
/// storages, a page for ring buffers). A struct_ops map cannot be created
/// without its kernel struct: the ENOTSUPP a kernel with them gives for
/// BTF type 1 counts as "yes".
///
/// [`Support::Unknown`] when the process may not create maps (EPERM), and
/// for a type newer than this crate; `unspec` is never creatable. Answers
/// are cached.
///
/// ```no_run
/// use bpf2rs::obj::MapType;
///
/// if bpf2rs::probe::map_type_supported(MapType::RINGBUF).is_yes() {
///     println!("events go through a ring buffer");
/// }
/// ```
pub fn map_type_supported(map_type: MapType) -> Support {
    static CACHE: [OnceLock<Support>; MAP_TYPE_MAX as usize + 1] =
        [const { OnceLock::new() }; MAP_TYPE_MAX as usize + 1];
    let Some(cell) = CACHE.get(map_type.0 as usize) else {
        return Support::Unknown;
    };
    cached_support(cell, || {
        if map_type == MapType::UNSPEC {
            return Support::No;
        }
        match probe(map_type) {
            Ok(()) => Support::Yes,
            // The struct_ops probe's telling failure.
            Err(e) if map_type == MapType::STRUCT_OPS && e.errno() == Some(ENOTSUPP) => {
                Support::Yes
            }
            Err(e) if lacks_privilege(&e) => Support::Unknown,
            Err(_) => Support::No,
        }
    })
}

/// Creates (and closes) a map of `map_type`.
fn probe(map_type: MapType) -> Result<(), SysError> {
    let mut m = sys::MapCreate {
        map_type: map_type.0,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    };
    let mut local_storage_btf: Option<OwnedFd> = None;
    match map_type {
        MapType::STACK_TRACE => m.value_size = 8,
        MapType::LPM_TRIE => {
            m.key_size = 8;
            m.value_size = 8;
            m.map_flags = BPF_F_NO_PREALLOC;
        }
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => {
            m.key_size = 16; // struct bpf_cgroup_storage_key, padded to 8
            m.value_size = 8;
            m.max_entries = 0;
        }
        MapType::QUEUE | MapType::STACK => m.key_size = 0,
        MapType::SK_STORAGE
        | MapType::INODE_STORAGE
        | MapType::TASK_STORAGE
        | MapType::CGRP_STORAGE => {
            m.value_size = 8;
            m.max_entries = 0;
            m.map_flags = BPF_F_NO_PREALLOC;
            m.btf_key_type_id = 1;
            m.btf_value_type_id = 3;
            local_storage_btf = Some(btf::load_local_storage_btf()?);
        }
        MapType::RINGBUF | MapType::USER_RINGBUF => {
            m.key_size = 0;
            m.value_size = 0;
            m.max_entries = page_size();
        }
        // BTF type 1 of vmlinux is no struct_ops struct: ENOTSUPP where
        // the type exists.
        MapType::STRUCT_OPS => m.btf_vmlinux_value_type_id = 1,
        MapType::BLOOM_FILTER => m.key_size = 0,
        MapType::ARENA => {
            m.key_size = 0;
            m.value_size = 0;
            m.map_flags = BPF_F_MMAPABLE; // one page, mapped anywhere
        }
        _ => {}
    }
    m.btf_fd = local_storage_btf.as_ref().map(|f| f.as_fd());
    let inner = if map_type.is_map_in_map() {
        Some(sys::map_create(&sys::MapCreate {
            map_type: MapType::HASH.0,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..Default::default()
        })?)
    } else {
        None
    };
    m.inner_map_fd = inner.as_ref().map(|f| f.as_fd());
    sys::map_create(&m).map(drop)
}

fn page_size() -> u32 {
    u32::try_from(sys::events::page_size()).unwrap_or(4096)
}
