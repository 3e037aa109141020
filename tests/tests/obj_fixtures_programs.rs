//! The object reader on programs.bpf.o: section name -> program type,
//! expected attach type and attach target for 36 programs, two programs in
//! one section, `.text` subprograms, bpf-to-bpf call relocations and the
//! per-program `.BTF.ext` records, compared with programs.bpf.c and
//! tests/bpf/README.md (symbol values from `llvm-objdump-19 -t -r`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::btf::{FuncLinkage, Kind, Type};
use bpf2rs::obj::{AttachType, ProgType, ProgramSpec, RelocTarget, Relocation, INSN_SIZE};
use bpf2rs_tests::{btf, elf_section, fixture_bytes, open};

// ------------------------------------------------------------ programs.bpf.o

#[test]
fn programs_section_names_give_types() {
    let spec = open("programs.bpf.o");
    use AttachType as A;
    use ProgType as P;
    // (program, section, prog type, expected attach type, attach target)
    type Row = (
        &'static str,
        &'static str,
        ProgType,
        Option<AttachType>,
        Option<&'static str>,
    );
    #[rustfmt::skip]
    let want: [Row; 36] = [
        ("xdp_first", "xdp", P::XDP, Some(A::XDP), None),
        ("xdp_second", "xdp", P::XDP, Some(A::XDP), None),
        ("xdp_frags_prog", "xdp.frags", P::XDP, Some(A::XDP), None),
        ("tc_prog", "tc", P::SCHED_CLS, None, None),
        ("tcx_ingress", "tcx/ingress", P::SCHED_CLS, Some(A::TCX_INGRESS), None),
        ("classifier_prog", "classifier", P::SCHED_CLS, None, None),
        ("kprobe_prog", "kprobe/do_unlinkat", P::KPROBE, None, Some("do_unlinkat")),
        ("kretprobe_prog", "kretprobe/do_unlinkat", P::KPROBE, None, Some("do_unlinkat")),
        ("uprobe_prog", "uprobe", P::KPROBE, None, None),
        ("uretprobe_prog", "uretprobe", P::KPROBE, None, None),
        ("kprobe_multi", "kprobe.multi/do_*", P::KPROBE, Some(A::TRACE_KPROBE_MULTI), Some("do_*")),
        ("tp_execve", "tracepoint/syscalls/sys_enter_execve", P::TRACEPOINT, None, Some("syscalls/sys_enter_execve")),
        ("tp_exec", "tp/sched/sched_process_exec", P::TRACEPOINT, None, Some("sched/sched_process_exec")),
        ("raw_tp_switch", "raw_tp/sched_switch", P::RAW_TRACEPOINT, None, Some("sched_switch")),
        ("raw_tracepoint_switch", "raw_tracepoint/sched_switch", P::RAW_TRACEPOINT, None, Some("sched_switch")),
        ("tp_btf_switch", "tp_btf/sched_switch", P::TRACING, Some(A::TRACE_RAW_TP), Some("sched_switch")),
        ("fentry_unlinkat", "fentry/do_unlinkat", P::TRACING, Some(A::TRACE_FENTRY), Some("do_unlinkat")),
        ("fexit_unlinkat", "fexit/do_unlinkat", P::TRACING, Some(A::TRACE_FEXIT), Some("do_unlinkat")),
        ("fmod_ret_test", "fmod_ret/bpf_modify_return_test", P::TRACING, Some(A::MODIFY_RETURN), Some("bpf_modify_return_test")),
        ("lsm_file_open", "lsm/file_open", P::LSM, Some(A::LSM_MAC), Some("file_open")),
        ("iter_task", "iter/task", P::TRACING, Some(A::TRACE_ITER), Some("task")),
        ("cgroup_skb_ingress", "cgroup_skb/ingress", P::CGROUP_SKB, Some(A::CGROUP_INET_INGRESS), None),
        ("cgroup_skb_prog", "cgroup/skb", P::CGROUP_SKB, None, None),
        ("sock_create", "cgroup/sock_create", P::CGROUP_SOCK, Some(A::CGROUP_INET_SOCK_CREATE), None),
        ("connect4", "cgroup/connect4", P::CGROUP_SOCK_ADDR, Some(A::CGROUP_INET4_CONNECT), None),
        ("sysctl_prog", "cgroup/sysctl", P::CGROUP_SYSCTL, Some(A::CGROUP_SYSCTL), None),
        ("dev_prog", "cgroup/dev", P::CGROUP_DEVICE, Some(A::CGROUP_DEVICE), None),
        ("sockops_prog", "sockops", P::SOCK_OPS, Some(A::CGROUP_SOCK_OPS), None),
        ("skb_parser", "sk_skb/stream_parser", P::SK_SKB, Some(A::SK_SKB_STREAM_PARSER), None),
        ("skb_verdict", "sk_skb/stream_verdict", P::SK_SKB, Some(A::SK_SKB_STREAM_VERDICT), None),
        ("msg_prog", "sk_msg", P::SK_MSG, Some(A::SK_MSG_VERDICT), None),
        ("socket_prog", "socket", P::SOCKET_FILTER, None, None),
        ("perf_event_prog", "perf_event", P::PERF_EVENT, None, None),
        ("syscall_prog", "syscall", P::SYSCALL, None, None),
        ("sk_lookup_prog", "sk_lookup", P::SK_LOOKUP, Some(A::SK_LOOKUP), None),
        ("flow_dissector_prog", "flow_dissector", P::FLOW_DISSECTOR, Some(A::FLOW_DISSECTOR), None),
    ];
    let got: Vec<Row> = spec
        .programs
        .iter()
        .map(|p| {
            let w = want
                .iter()
                .find(|w| w.0 == p.name)
                .unwrap_or_else(|| panic!("unexpected program {}", p.name));
            // Compare strings here, then through the row's &'static strs.
            let target = p.def.as_ref().unwrap().attach_target.as_deref();
            assert_eq!((p.section.as_str(), target), (w.1, w.4), "{}", p.name);
            (w.0, w.1, p.prog_type(), p.expected_attach_type(), w.4)
        })
        .collect();
    assert_eq!(got, want);
    // The kernel's numbers for a few of them (include/uapi/linux/bpf.h).
    let n = |name: &str| {
        let p = spec.program(name).unwrap();
        (p.prog_type().0, p.expected_attach_type().map(|a| a.0))
    };
    assert_eq!(n("xdp_first"), (6, Some(37)));
    assert_eq!(n("tcx_ingress"), (3, Some(46)));
    assert_eq!(n("kprobe_multi"), (2, Some(42)));
    assert_eq!(n("tp_btf_switch"), (26, Some(23)));
    assert_eq!(n("lsm_file_open"), (29, Some(27)));
    assert_eq!(n("cgroup_skb_ingress"), (8, Some(0)));
    assert_eq!(n("sk_lookup_prog"), (30, Some(36)));
    assert_eq!(n("flow_dissector_prog"), (22, Some(17)));
    // Flags that the section name carries.
    let def = |name: &str| spec.program(name).unwrap().def.clone().unwrap();
    assert!(def("xdp_frags_prog").xdp_frags && !def("xdp_first").xdp_frags);
    assert!(def("syscall_prog").sleepable && !def("fentry_unlinkat").sleepable);
    let sections: std::collections::BTreeSet<&str> =
        spec.programs.iter().map(|p| p.section.as_str()).collect();
    assert_eq!(sections.len(), 35, "36 programs in 35 sections");
    assert_eq!(spec.license.as_deref(), Some("GPL"));
}

#[test]
fn programs_two_in_one_section() {
    let spec = open("programs.bpf.o");
    let first = spec.program("xdp_first").unwrap();
    let second = spec.program("xdp_second").unwrap();
    // xdp_first: st_value 0, st_size 0x68; xdp_second: st_value 0x68, st_size 0x28.
    assert_eq!(
        (first.section_insn_offset, first.insns.len()),
        (0, 0x68 / 8)
    );
    assert_eq!(
        (second.section_insn_offset, second.insns.len()),
        (0x68 / 8, 0x28 / 8)
    );
    let bytes = fixture_bytes("programs.bpf.o");
    assert_eq!(
        elf_section(&bytes, "xdp").size,
        0x68 + 0x28,
        "they fill the section"
    );
    // Both end with `exit` (0x95): nothing of one leaks into the other.
    assert_eq!(first.insns.last().unwrap().code, 0x95);
    assert_eq!(second.insns.last().unwrap().code, 0x95);
    assert!(first.global && second.global);
    // Their .BTF.ext records are split and rebased: programs.bpf.c:86 is
    // the first line of xdp_second, 76..=81 are xdp_first's.
    assert_eq!(second.func_info.len(), 1);
    assert_eq!(second.func_info[0].insn_off, 0);
    assert_eq!(second.line_info[0].insn_off, 0);
    assert_eq!(second.line_info[0].line_num(), 86);
    assert!(first
        .line_info
        .iter()
        .all(|l| (76..=81).contains(&l.line_num())));
}

#[test]
fn programs_text_subprograms() {
    let spec = open("programs.bpf.o");
    let got: Vec<_> = spec
        .subprograms
        .iter()
        .map(|p| {
            let at = (p.section_insn_offset, p.insns.len());
            (
                p.name.as_str(),
                p.section.as_str(),
                at,
                p.global,
                p.prog_type(),
            )
        })
        .collect();
    // .text: global_helper st_value 0 size 0x18 GLOBAL;
    // shared_subprog st_value 0x18 size 0x20 LOCAL.
    assert_eq!(
        got,
        [
            ("global_helper", ".text", (0, 3), true, ProgType::UNSPEC),
            ("shared_subprog", ".text", (3, 4), false, ProgType::UNSPEC),
        ]
    );
    assert!(spec.subprograms.iter().all(|p| p.def.is_none()));
    let b = btf(&spec);
    let linkage = |name: &str| {
        let id = b.find_by_name(name, Kind::Func).unwrap();
        let Type::Func(f) = b.type_by_id(id).unwrap() else {
            unreachable!()
        };
        f.linkage
    };
    assert_eq!(linkage("global_helper"), FuncLinkage::Global);
    assert_eq!(linkage("shared_subprog"), FuncLinkage::Static);
}

#[test]
fn programs_bpf_to_bpf_call_relocations() {
    let spec = open("programs.bpf.o");
    // The callee of a relocated call is `st_value / 8 + imm + 1`: a call to
    // a static function is relocated against `.text` with the target in
    // imm; one to a global function against its own symbol with imm = -1.
    let callee = |p: &ProgramSpec, r: &Relocation| -> String {
        let RelocTarget::Function { section, offset } = &r.target else {
            panic!("{}: relocation {r:?} is not a function", p.name);
        };
        assert_eq!(section, ".text");
        let insn = p.insns[r.insn];
        assert!(insn.is_call(), "{}: insn {} is a call", p.name, r.insn);
        let idx = *offset as i64 / INSN_SIZE as i64 + i64::from(insn.imm) + 1;
        spec.subprograms
            .iter()
            .find(|s| s.section_insn_offset as i64 == idx)
            .unwrap_or_else(|| panic!("no subprogram at insn {idx}"))
            .name
            .clone()
    };
    // From `llvm-objdump-19 -r`: .relxdp 0x10 .text, 0x28 global_helper,
    // 0x70 .text (= xdp_second + 8); .reltc 0x8 .text;
    // .relkprobe/do_unlinkat 0x8 global_helper; .relsocket 0x10 .text,
    // 0x28 global_helper.
    #[rustfmt::skip]
    let want: [(&str, usize, &str, i32, &str); 7] = [
        ("xdp_first",   2, ".text",          2, "shared_subprog"),
        ("xdp_first",   5, "global_helper", -1, "global_helper"),
        ("xdp_second",  1, ".text",          2, "shared_subprog"),
        ("tc_prog",     1, ".text",          2, "shared_subprog"),
        ("kprobe_prog", 1, "global_helper", -1, "global_helper"),
        ("socket_prog", 2, ".text",          2, "shared_subprog"),
        ("socket_prog", 5, "global_helper", -1, "global_helper"),
    ];
    let mut got = Vec::new();
    for p in spec.programs.iter().chain(&spec.subprograms) {
        for r in &p.relocations {
            let RelocTarget::Function { offset, .. } = r.target else {
                panic!("{}: unexpected relocation {r:?}", p.name);
            };
            // Both callees start at st_value 0 of their symbol: `.text`
            // itself and global_helper.
            assert_eq!(offset, 0);
            let row = (p.insns[r.insn].imm, callee(p, r));
            got.push((p.name.as_str(), r.insn, r.symbol.as_str(), row));
        }
    }
    let want: Vec<_> = want
        .iter()
        .map(|&(p, i, s, imm, c)| (p, i, s, (imm, c.to_owned())))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn programs_func_info_of_every_program() {
    let spec = open("programs.bpf.o");
    let b = btf(&spec);
    for p in spec.programs.iter().chain(&spec.subprograms) {
        assert_eq!(p.func_info.len(), 1, "{}", p.name);
        assert_eq!(p.func_info[0].insn_off, 0, "{}", p.name);
        let Type::Func(f) = b.type_by_id(p.func_info[0].type_id).unwrap() else {
            panic!("{}: func_info is not a FUNC", p.name);
        };
        assert_eq!(b.name(f.name), p.name);
        assert!(!p.line_info.is_empty(), "{}", p.name);
        assert_eq!(p.line_info[0].insn_off, 0, "{}", p.name);
        let len = p.insns.len();
        assert!(p.line_info.iter().all(|l| (l.insn_off as usize) < len));
    }
}

// ---------------------------------------------------------- struct_ops.bpf.o

#[test]
fn struct_ops_variables_name_their_programs() {
    let spec = open("struct_ops.bpf.o");
    let btf = spec.btf.as_deref().unwrap();
    /// (member, offset, program)
    type Slot<'a> = (&'a str, u32, &'a str);
    let got: Vec<(&str, &str, bool, &str, Vec<Slot>)> = spec
        .struct_ops
        .iter()
        .map(|o| {
            (
                o.name.as_str(),
                o.section.as_str(),
                o.link,
                o.type_name.as_str(),
                o.programs
                    .iter()
                    .map(|s| (s.member.as_str(), s.offset, s.program.as_str()))
                    .collect(),
            )
        })
        .collect();
    // Offsets of the function pointers in this kernel's tcp_congestion_ops.
    let Type::Struct(ops) = btf.type_by_id(spec.struct_ops[0].btf_type).unwrap() else {
        panic!("not a struct");
    };
    let offset = |member: &str| {
        ops.members
            .iter()
            .find(|m| btf.name(m.name) == member)
            .map(|m| m.bit_offset / 8)
            .unwrap()
    };
    let slots = |names: &[(&'static str, &'static str)]| -> Vec<Slot<'static>> {
        names.iter().map(|&(m, p)| (m, offset(m), p)).collect()
    };
    assert_eq!(
        got,
        [
            (
                "reno_like",
                ".struct_ops.link",
                true,
                "tcp_congestion_ops",
                slots(&[
                    ("ssthresh", "cc_ssthresh"),
                    ("cong_avoid", "cc_cong_avoid"),
                    ("undo_cwnd", "cc_undo_cwnd"),
                    ("init", "cc_init"),
                ])
            ),
            (
                "plain_ops",
                ".struct_ops",
                false,
                "tcp_congestion_ops",
                slots(&[
                    ("ssthresh", "cc_ssthresh"),
                    ("cong_avoid", "cc_cong_avoid"),
                    ("undo_cwnd", "cc_undo_cwnd"),
                ])
            ),
        ]
    );
    // The initial bytes: `name` as the C initialiser wrote it, function
    // pointers zero (they are relocations).
    for (o, want) in spec.struct_ops.iter().zip(["bpf2rs_cc", "bpf2rs_cc2"]) {
        assert_eq!(o.data.len(), btf.size_of(o.btf_type).unwrap() as usize);
        let at = offset("name") as usize;
        assert_eq!(
            &o.data[at..at + want.len() + 1],
            format!("{want}\0").as_bytes()
        );
        for s in &o.programs {
            let p = s.offset as usize;
            assert_eq!(o.data[p..p + 8], [0; 8], "{}.{}", o.name, s.member);
        }
    }
    for p in &spec.programs {
        assert_eq!(p.prog_type(), ProgType::STRUCT_OPS, "{}", p.name);
    }
}

// ------------------------------------------------------------ usdt.bpf.o

#[test]
fn hidden_global_functions_are_marked() {
    // <bpf/usdt.bpf.h>'s helpers are `__weak __hidden`; the programs are
    // plain globals, and static functions are neither.
    let spec = open("usdt.bpf.o");
    let sub = |n: &str| spec.subprograms.iter().find(|p| p.name == n).unwrap();
    for n in ["bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie"] {
        assert!(sub(n).global && sub(n).hidden, "{n}");
    }
    for p in &spec.programs {
        assert!(p.global && !p.hidden, "{}", p.name);
        assert_eq!(
            p.expected_attach_type(),
            Some(AttachType::TRACE_UPROBE_MULTI)
        );
    }
    assert_eq!(spec.programs.len(), 3);
}
