//! `union bpf_attr` members as `#[repr(C)]` structs, one per command family,
//! with the kernel's field offsets (include/uapi/linux/bpf.h). Each is
//! passed with its own size: the kernel zero-extends shorter attrs and
//! checks that bytes past what it knows are zero.

/// BPF_MAP_CREATE.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; 16],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// BPF_MAP_*_ELEM and BPF_MAP_GET_NEXT_KEY.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct MapElemAttr {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    /// `value` or `next_key`.
    pub value: u64,
    pub flags: u64,
}

/// BPF_MAP_*_BATCH.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct MapBatchAttr {
    pub in_batch: u64,
    pub out_batch: u64,
    pub keys: u64,
    pub values: u64,
    pub count: u32,
    pub map_fd: u32,
    pub elem_flags: u64,
    pub flags: u64,
}

/// BPF_PROG_LOAD.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; 16],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// `attach_prog_fd` or `attach_btf_obj_fd`.
    pub attach_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    pub log_true_size: u32,
}

/// BPF_OBJ_PIN / BPF_OBJ_GET.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct ObjAttr {
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
}

/// BPF_PROG_TEST_RUN.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct TestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub _pad: u32,
}

/// BPF_OBJ_GET_INFO_BY_FD.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct InfoAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// BPF_*_GET_FD_BY_ID and BPF_*_GET_NEXT_ID.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct IdAttr {
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
}

/// BPF_MAP_FREEZE.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct FdAttr {
    pub fd: u32,
}

/// BPF_BTF_LOAD.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
}

/// `struct bpf_map_info` (the prefix this crate reads).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct MapInfoRaw {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_id: u32,
    pub map_extra: u64,
}

/// `struct bpf_prog_info` (the prefix this crate reads).
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct ProgInfoRaw {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; 16],
    /// The device a device-bound program was loaded for (`prog_ifindex`).
    pub ifindex: u32,
    /// `gpl_compatible:1` and padding.
    pub flags: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    /// The program's own BTF (0: none).
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    /// Linux 6.0+: the BTF object (vmlinux, a module or a program's) and
    /// the type id the program was loaded against.
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad: u32,
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default, Clone, Copy, Debug)]
pub struct BtfInfoRaw {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

// Offsets checked against include/uapi/linux/bpf.h.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(offset_of!(MapCreateAttr, map_name) == 28);
    assert!(offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(size_of::<MapCreateAttr>() == 72);
    assert!(offset_of!(MapElemAttr, flags) == 24);
    assert!(offset_of!(MapBatchAttr, count) == 32);
    assert!(offset_of!(MapBatchAttr, flags) == 48);
    assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
    assert!(offset_of!(ProgLoadAttr, func_info) == 80);
    assert!(offset_of!(ProgLoadAttr, attach_btf_id) == 108);
    assert!(offset_of!(ProgLoadAttr, fd_array) == 120);
    assert!(offset_of!(ProgLoadAttr, log_true_size) == 140);
    assert!(offset_of!(TestRunAttr, ctx_out) == 56);
    assert!(offset_of!(TestRunAttr, batch_size) == 72);
    assert!(offset_of!(BtfLoadAttr, btf_log_true_size) == 28);
    assert!(offset_of!(MapInfoRaw, name) == 24);
    assert!(offset_of!(MapInfoRaw, btf_id) == 64);
    assert!(offset_of!(MapInfoRaw, map_extra) == 80);
    assert!(offset_of!(ProgInfoRaw, name) == 64);
    assert!(offset_of!(ProgInfoRaw, ifindex) == 80);
    assert!(offset_of!(ProgInfoRaw, btf_id) == 128);
    assert!(offset_of!(ProgInfoRaw, verified_insns) == 216);
    assert!(offset_of!(ProgInfoRaw, attach_btf_id) == 224);
    assert!(size_of::<ProgInfoRaw>() == 232);
    assert!(size_of::<BtfInfoRaw>() == 32);
};
