//! The object BTF the reader fixed (DATASEC sizes and offsets) is accepted
//! by the kernel's BTF verifier once written back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::obj::ObjectSpec;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name)
}

#[test]
fn fixed_object_btf_loads_into_the_kernel() {
    for name in [
        "maps.bpf.o",
        "globals.bpf.o",
        "layout.bpf.o",
        "programs.bpf.o",
    ] {
        let spec = ObjectSpec::from_file(fixture(name)).unwrap();
        let btf = spec.btf.as_ref().unwrap();
        let bytes = btf.to_bytes().unwrap();
        // Round trip: what we write reads back as the same model.
        let again = bpf2rs::btf::Btf::parse(&bytes).unwrap();
        assert_eq!(again.len(), btf.len(), "{name}");
        for (id, ty) in btf.iter() {
            assert_eq!(again.type_by_id(id).unwrap(), ty, "{name}: type {id}");
        }
        let mut log = vec![0u8; 1 << 16];
        let sanitized = btf.sanitized_for_kernel().unwrap().to_bytes().unwrap();
        match bpf2rs::sys::btf_load(&sanitized, &mut log) {
            Ok(_fd) => {}
            Err(e) => panic!("{name}: {e}\n{}", bpf2rs::ctypes::c_str_lossy(&log)),
        }
    }
}

/// Every fixture's BTF, rewritten as for a kernel without each newer kind
/// in turn (and without all of them), is still BTF this kernel loads: the
/// replacements are valid older kinds with the same ids.
#[test]
fn downgraded_object_btf_loads_into_the_kernel() {
    use bpf2rs::btf::{BtfSupport, Kind};
    let all = BtfSupport::ALL;
    let cases = [
        ("no FUNC", BtfSupport { func: false, ..all }),
        (
            "no global FUNC",
            BtfSupport {
                global_func: false,
                ..all
            },
        ),
        (
            "no DATASEC",
            BtfSupport {
                datasec: false,
                ..all
            },
        ),
        (
            "no FLOAT",
            BtfSupport {
                float: false,
                ..all
            },
        ),
        (
            "no DECL_TAG",
            BtfSupport {
                decl_tag: false,
                ..all
            },
        ),
        (
            "no TYPE_TAG",
            BtfSupport {
                type_tag: false,
                ..all
            },
        ),
        (
            "no ENUM64",
            BtfSupport {
                enum64: false,
                ..all
            },
        ),
        ("none", BtfSupport::NONE),
    ];
    let mut dir: Vec<_> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    dir.sort();
    let (mut loaded, mut refused) = (0, Vec::new());
    for path in &dir {
        let name = path.file_name().unwrap().to_string_lossy();
        let Ok(spec) = ObjectSpec::from_file(path) else {
            continue; // the bad_* fixtures are refused by the reader
        };
        let Some(btf) = spec.btf.as_ref() else {
            continue;
        };
        let btf = btf.sanitized_for_kernel().unwrap();
        // Only BTF this kernel takes as it is (extern_unresolved's plain
        // `extern` VAR is refused by any kernel, and by our loader).
        if bpf2rs::sys::btf_load(&btf.to_bytes().unwrap(), &mut []).is_err() {
            refused.push(name.to_string());
            continue;
        }
        for (what, support) in cases {
            let old = btf.downgraded(support);
            let gone: Vec<Kind> = old
                .iter()
                .map(|(_, t)| t.kind())
                .filter(|k| match k {
                    Kind::Func | Kind::FuncProto => !support.func,
                    Kind::Var | Kind::Datasec => !support.datasec,
                    Kind::Float => !support.float,
                    Kind::DeclTag => !support.decl_tag,
                    Kind::TypeTag => !support.type_tag,
                    Kind::Enum64 => !support.enum64,
                    _ => false,
                })
                .collect();
            assert_eq!(gone, [], "{name}, {what}: kinds left");
            let bytes = old.to_bytes().unwrap();
            if let Err(e) = bpf2rs::sys::btf_load(&bytes, &mut []) {
                // Again with a log (the kernel logs every type: make room).
                let mut log = vec![0u8; 1 << 24];
                let _ = bpf2rs::sys::btf_load(&bytes, &mut log);
                panic!("{name}, {what}: {e}\n{}", bpf2rs::ctypes::c_str_lossy(&log));
            }
            loaded += 1;
        }
    }
    assert_eq!(refused, ["extern_unresolved.bpf.o"], "refused as they are");
    assert!(loaded >= 8 * 20, "only {loaded} loads");
}

/// The loader's fallback for kernels without newer BTF kinds, forced with
/// `set_btf_support`: objects load with their BTF rewritten (maps keep a
/// BTF id), say so in a note, and their programs run as before.
#[test]
fn objects_load_with_btf_for_a_kernel_without_newer_kinds() {
    use bpf2rs::btf::BtfSupport;
    use bpf2rs::load::OpenObject;
    use bpf2rs::prog::TestRunInput;
    let run = |support: Option<BtfSupport>| {
        let mut open = OpenObject::open_file(fixture("globals.bpf.o")).unwrap();
        if let Some(s) = support {
            open.set_btf_support(s);
        }
        let obj = open.load().unwrap_or_else(|e| panic!("{support:?}: {e}"));
        // Global data maps have a DATASEC as their BTF value type: without
        // DATASEC they are made without BTF (an ARRAY with BTF and no key
        // type must have one), other maps keep theirs.
        let data = obj.data(".data").unwrap().map.info();
        let datasec = support.is_none_or(|s| s.datasec);
        assert_eq!(data.btf_id != 0, datasec, "{support:?}: {:?}", obj.notes());
        assert!(obj
            .notes()
            .iter()
            .all(|n| !n.contains("created without BTF")));
        let out = obj
            .program("glob_xdp")
            .unwrap()
            .test_run(&TestRunInput {
                data: &[0u8; 64],
                ..Default::default()
            })
            .unwrap();
        (out.retval, obj.notes().to_vec())
    };
    let (want, notes) = run(None);
    assert!(notes.iter().all(|n| !n.contains("BTF")), "{notes:?}");
    let all = BtfSupport::ALL;
    for (support, note) in [
        (
            BtfSupport::NONE,
            "BTF loaded without the kinds this kernel lacks (FUNC, global FUNC, DATASEC, FLOAT, \
             DECL_TAG, TYPE_TAG, ENUM64): rewritten into older kinds; programs loaded without \
             func_info and line_info",
        ),
        (
            BtfSupport {
                datasec: false,
                ..all
            },
            "BTF loaded without the kinds this kernel lacks (DATASEC): rewritten into older kinds",
        ),
    ] {
        let (got, notes) = run(Some(support));
        assert_eq!(got, want, "{support:?}: the program returns the same");
        assert!(notes.iter().any(|n| n == note), "{notes:?}");
    }
    // Other fixtures load with no kind newer than FUNC too. (Without FUNC,
    // core_tools' programs would lose the func_info this kernel requires of
    // programs with global functions: "missing btf func_info". A kernel
    // without FUNC has no global functions either.)
    let func_only = BtfSupport {
        func: true,
        ..BtfSupport::NONE
    };
    for name in [
        "kitchen.bpf.o",
        "layout.bpf.o",
        "maps.bpf.o",
        "core_tools.bpf.o",
    ] {
        let mut open = OpenObject::open_file(fixture(name)).unwrap();
        open.set_btf_support(func_only);
        if let Err(e) = open.load() {
            panic!("{name}: {e}");
        }
    }
}
