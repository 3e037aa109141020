//! `cargo-bpf2rs inspect` as a user runs it: the binary on the committed
//! fixtures (tests/bpf), its JSON keys as README.md documents them, the text
//! tables, and exit codes and messages on bad input and bad usage. An object
//! that reads but cannot load (unresolved externs) is shown, and `load`
//! refuses it; a map definition the reader refuses fails both commands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::fixture;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-bpf2rs");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("running cargo-bpf2rs");
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn inspect_json(name: &str) -> Value {
    let r = run(&["inspect", fixture(name).to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {}", r.stdout))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

const MAP_KEYS: &[&str] = &[
    "name",
    "type",
    "key_size",
    "value_size",
    "max_entries",
    "map_flags",
    "numa_node",
    "map_extra",
    "pinning",
    "key_type",
    "value_type",
    "inner",
    "values",
    "legacy",
];
const PROGRAM_KEYS: &[&str] = &[
    "name",
    "section",
    "type",
    "attach_type",
    "attach_target",
    "insns",
    "relocations",
];

#[test]
fn json_keys_are_the_documented_ones() {
    for f in [
        "maps.bpf.o",
        "globals.bpf.o",
        "programs.bpf.o",
        "legacy_iproute2.bpf.o",
        "struct_ops.bpf.o",
        "extern_unresolved.bpf.o",
    ] {
        let v = inspect_json(f);
        assert_eq!(
            keys(&v),
            set(&[
                "name",
                "license",
                "version",
                "maps",
                "globals",
                "externs",
                "programs",
                "subprograms",
                "struct_ops"
            ]),
            "{f}"
        );
        for o in v["struct_ops"].as_array().unwrap() {
            assert_eq!(
                keys(o),
                set(&["name", "section", "type", "link", "programs"]),
                "{f}"
            );
            for p in o["programs"].as_array().unwrap() {
                assert_eq!(keys(p), set(&["member", "offset", "program"]), "{f}");
            }
        }
        for m in v["maps"].as_array().unwrap() {
            assert_eq!(keys(m), set(MAP_KEYS), "{f}: map {}", m["name"]);
            if !m["inner"].is_null() {
                assert_eq!(
                    keys(&m["inner"]),
                    set(MAP_KEYS),
                    "{f}: inner of {}",
                    m["name"]
                );
            }
            for s in m["values"].as_array().unwrap() {
                assert_eq!(keys(s), set(&["index", "target", "kind"]));
            }
        }
        for g in v["globals"].as_array().unwrap() {
            assert_eq!(
                keys(g),
                set(&["section", "name", "type", "offset", "size"]),
                "{f}"
            );
        }
        for e in v["externs"].as_array().unwrap() {
            assert_eq!(
                keys(e),
                set(&["name", "kind", "type", "weak", "unresolved"]),
                "{f}"
            );
        }
        for p in v["programs"]
            .as_array()
            .unwrap()
            .iter()
            .chain(v["subprograms"].as_array().unwrap())
        {
            assert_eq!(keys(p), set(PROGRAM_KEYS), "{f}");
        }
    }
}

/// The maps of maps.bpf.o, in section order.
const MAPS_BPF_O_MAPS: [&str; 15] = [
    "inner_a",
    "outer_arr",
    "jmp_table",
    "flow_table",
    "icmpcnt",
    "raw_sizes",
    "noprealloc",
    "numa_map",
    "pinned_map",
    "bloom",
    "lru",
    "pcpu_arr",
    "events_rb",
    "perf_events",
    "outer_hash",
];

#[test]
fn json_of_maps_object() {
    let v = inspect_json("maps.bpf.o");
    assert_eq!(
        (&v["name"], &v["license"], &v["version"]),
        (&json!("maps"), &json!("GPL"), &Value::Null)
    );
    let names: Vec<&str> = v["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, MAPS_BPF_O_MAPS);
    let map = |name: &str| {
        v["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    let inner = json!({
        "name": "outer_arr.inner", "type": "array", "key_size": 4, "value_size": 8,
        "max_entries": 4, "map_flags": 0, "numa_node": 0, "map_extra": 0, "pinning": "none",
        "key_type": "__u32", "value_type": "__u64", "inner": null, "values": [], "legacy": false,
    });
    assert_eq!(
        map("outer_arr"),
        json!({
            "name": "outer_arr", "type": "array_of_maps", "key_size": 4, "value_size": 4,
            "max_entries": 8, "map_flags": 0, "numa_node": 0, "map_extra": 0, "pinning": "none",
            "key_type": "__u32", "value_type": null, "inner": inner,
            "values": [{"index": 1, "target": "inner_a", "kind": "map"}], "legacy": false,
        })
    );
    assert_eq!(map("outer_hash")["inner"]["name"], "outer_hash.inner");
    assert_eq!(map("outer_hash")["type"], "hash_of_maps");
    assert_eq!(map("outer_hash")["values"], json!([]));
    let jmp = map("jmp_table");
    assert_eq!(
        (&jmp["type"], &jmp["values"]),
        (
            &json!("prog_array"),
            &json!([{"index": 2, "target": "tail_prog", "kind": "program"}])
        )
    );
    assert_eq!(
        (&jmp["key_type"], &jmp["value_type"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        map("flow_table"),
        json!({
            "name": "flow_table", "type": "hash", "key_size": 16, "value_size": 24,
            "max_entries": 10240, "map_flags": 0, "numa_node": 0, "map_extra": 0, "pinning": "none",
            "key_type": "struct flow_key", "value_type": "struct flow_stats", "inner": null,
            "values": [], "legacy": false,
        })
    );
    assert_eq!(map("icmpcnt")["value_type"], "struct my_value");
    assert_eq!(map("icmpcnt")["value_size"], 12);
    assert_eq!(map("noprealloc")["map_flags"], 1);
    assert_eq!(map("numa_map")["map_flags"], 4);
    assert_eq!(map("pinned_map")["pinning"], "by_name");
    assert_eq!(
        (
            &map("bloom")["map_extra"],
            &map("bloom")["key_size"],
            &map("bloom")["key_type"]
        ),
        (&json!(3), &json!(0), &Value::Null)
    );
    assert_eq!(map("events_rb")["type"], "ringbuf");
    assert_eq!(map("events_rb")["max_entries"], 262_144);
    assert_eq!(map("perf_events")["max_entries"], 0);
    assert_eq!(map("raw_sizes")["key_type"], Value::Null);
    assert_eq!(
        v["programs"],
        json!([
            {"name": "tail_prog", "section": "xdp", "type": "xdp", "attach_type": "xdp", "attach_target": null, "insns": 2, "relocations": 0},
            {"name": "entry", "section": "xdp", "type": "xdp", "attach_type": "xdp", "attach_target": null, "insns": 159, "relocations": 17},
        ])
    );
    assert_eq!(
        (&v["globals"], &v["externs"], &v["subprograms"]),
        (&json!([]), &json!([]), &json!([]))
    );
}

#[test]
fn json_of_globals_object() {
    let v = inspect_json("globals.bpf.o");
    assert_eq!(
        (&v["license"], &v["version"]),
        (&json!("GPL"), &json!(396_288))
    );
    let g = |section: &str, name: &str, ty: &str, offset: u32, size: u32| json!({"section": section, "name": name, "type": ty, "offset": offset, "size": size});
    assert_eq!(
        v["globals"],
        json!([
            g(".data", "g_counter", "int", 0, 4),
            g(".data", "g_big", "__u64", 8, 8),
            g(".data", "g_pair", "struct pair", 16, 8),
            g(".rodata", "cfg_mode", "const volatile __u32", 0, 4),
            g(".rodata", "cfg_limit", "const volatile __u64", 8, 8),
            g(".rodata", "cfg_name", "const volatile char[8]", 16, 8),
            g(".data.custom", "custom_data", "__u32", 0, 4),
            g(".rodata.custom", "custom_ro", "const volatile __u32", 0, 4),
            g(".bss", "bss_hits", "__u64", 0, 8),
            g(".bss", "bss_arr", "__u32[16]", 8, 64),
        ])
    );
    let e = |name: &str, kind: &str, ty: &str, weak: bool| json!({"name": name, "kind": kind, "type": ty, "weak": weak, "unresolved": false});
    assert_eq!(
        v["externs"],
        json!([
            e("CONFIG_BPF_JIT", "kconfig", "enum libbpf_tristate", true),
            e("CONFIG_BPF_SYSCALL", "kconfig", "_Bool", true),
            e("CONFIG_HZ", "kconfig", "int", true),
            e("LINUX_KERNEL_VERSION", "kconfig", "unsigned int", false),
            e("bpf_cast_to_kern_ctx", "ksym", "function", true),
            e("do_unlinkat", "ksym", "const void", false),
        ])
    );
    assert_eq!(v["programs"][0]["name"], "glob_xdp");
    assert_eq!(v["programs"][0]["insns"], 94);
    assert_eq!(v["programs"][0]["relocations"], 21);
}

#[test]
fn json_of_programs_and_legacy_objects() {
    let v = inspect_json("programs.bpf.o");
    let programs = v["programs"].as_array().unwrap();
    assert_eq!(programs.len(), 36);
    let p = |name: &str| programs.iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(
        p("kprobe_multi"),
        json!({"name": "kprobe_multi", "section": "kprobe.multi/do_*", "type": "kprobe",
               "attach_type": "trace_kprobe_multi", "attach_target": "do_*", "insns": 2, "relocations": 0})
    );
    assert_eq!(
        p("xdp_first"),
        json!({"name": "xdp_first", "section": "xdp", "type": "xdp", "attach_type": "xdp",
               "attach_target": null, "insns": 13, "relocations": 2})
    );
    assert_eq!(
        (&p("xdp_second")["insns"], &p("xdp_second")["relocations"]),
        (&json!(5), &json!(1))
    );
    assert_eq!(p("tcx_ingress")["attach_type"], "tcx_ingress");
    assert_eq!(p("tp_execve")["attach_target"], "syscalls/sys_enter_execve");
    assert_eq!(
        v["subprograms"],
        json!([
            {"name": "global_helper", "section": ".text", "type": "unspec", "attach_type": null, "attach_target": null, "insns": 3, "relocations": 0},
            {"name": "shared_subprog", "section": ".text", "type": "unspec", "attach_type": null, "attach_target": null, "insns": 4, "relocations": 0},
        ])
    );

    let v = inspect_json("legacy_iproute2.bpf.o");
    let maps = v["maps"].as_array().unwrap();
    let summary: Vec<(&str, &str, &Value, bool)> = maps
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap(),
                m["type"].as_str().unwrap(),
                &m["pinning"],
                m["legacy"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("tc_inner", "array", &json!("none"), true),
            ("tc_outer", "array_of_maps", &json!("2"), true)
        ]
    );
    let v = inspect_json("legacy_ext.bpf.o");
    assert_eq!(v["maps"][0]["pinning"], "by_name");
}

#[test]
fn runs_as_a_cargo_subcommand() {
    // Cargo runs `cargo-bpf2rs bpf2rs inspect ...`.
    let path = fixture("maps.bpf.o");
    let direct = run(&["inspect", path.to_str().unwrap(), "--json"]);
    let via_cargo = run(&["bpf2rs", "inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!((direct.code, via_cargo.code), (0, 0));
    assert_eq!(direct.stdout, via_cargo.stdout);
    let text = run(&["bpf2rs", "inspect", path.to_str().unwrap()]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout
            .starts_with("object maps  license GPL  version -\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn text_tables_of_maps_and_programs() {
    let r = run(&["inspect", fixture("maps.bpf.o").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "object maps  license GPL  version -");
    let header = lines
        .iter()
        .position(|l| l.starts_with("map "))
        .expect("a header row for maps");
    let words: Vec<&str> = lines[header].split_whitespace().collect();
    assert_eq!(
        words,
        ["map", "type", "key", "value", "max", "flags", "pin", "extra"]
    );
    // One row per map, in section order, right after the header.
    let rows: Vec<&str> = lines[header + 1..header + 1 + MAPS_BPF_O_MAPS.len()]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(rows, MAPS_BPF_O_MAPS);
    let row = |name: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap()
            .split_whitespace()
            .collect()
    };
    assert_eq!(
        row("flow_table"),
        [
            "flow_table",
            "hash",
            "16",
            "(struct",
            "flow_key)",
            "24",
            "(struct",
            "flow_stats)",
            "10240",
            "0x0",
            "none"
        ]
    );
    assert_eq!(
        row("outer_arr"),
        [
            "outer_arr",
            "array_of_maps",
            "4",
            "(__u32)",
            "4",
            "8",
            "0x0",
            "none",
            "inner=array",
            "4->8",
            "[1]=inner_a"
        ]
    );
    assert_eq!(
        row("jmp_table"),
        [
            "jmp_table",
            "prog_array",
            "4",
            "4",
            "4",
            "0x0",
            "none",
            "[2]=tail_prog"
        ]
    );
    assert_eq!(
        row("pinned_map"),
        [
            "pinned_map",
            "array",
            "4",
            "(__u32)",
            "8",
            "(__u64)",
            "16",
            "0x0",
            "by_name"
        ]
    );
    assert!(r.stdout.contains("\nglobals: none\n"), "{}", r.stdout);
    let prog_header = lines
        .iter()
        .position(|l| l.starts_with("program "))
        .unwrap();
    assert_eq!(
        lines[prog_header].split_whitespace().collect::<Vec<_>>(),
        ["program", "section", "type", "attach", "insns"]
    );
    assert_eq!(row("entry"), ["entry", "xdp", "xdp", "xdp", "159"]);
}

#[test]
fn text_table_of_globals() {
    let r = run(&["inspect", fixture("globals.bpf.o").to_str().unwrap()]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("section "))
        .unwrap();
    assert_eq!(
        lines[header].split_whitespace().collect::<Vec<_>>(),
        ["section", "variable", "type", "offset", "size"]
    );
    assert!(r.stdout.contains("\nmaps: none\n"));
    let cfg = lines.iter().find(|l| l.contains("cfg_name")).unwrap();
    assert_eq!(
        cfg.split_whitespace().collect::<Vec<_>>(),
        [".rodata", "cfg_name", "const", "volatile", "char[8]", "16", "8"]
    );
    let hz = lines.iter().find(|l| l.contains("CONFIG_HZ")).unwrap();
    assert_eq!(
        hz.split_whitespace().collect::<Vec<_>>(),
        [".kconfig", "CONFIG_HZ", "int", "-", "weak"]
    );
}

// --------------------------------------- readable, but refused by `load`

const FWD_WHY: &str = "extern function fwd is not defined in the object (a static linker step, or a kfunc declared __ksym, is needed)";
const SOME_VAR_WHY: &str = "extern variable some_var is neither __kconfig nor __ksym (a static linker step, or a declaration with __kconfig or __ksym, is needed)";

#[test]
fn unresolved_externs_are_shown() {
    let v = inspect_json("extern_unresolved.bpf.o");
    assert_eq!(
        v["externs"],
        json!([
            {"name": "fwd", "kind": null, "type": "function", "weak": false, "unresolved": true},
            {"name": "some_var", "kind": null, "type": "int", "weak": false, "unresolved": true},
        ])
    );
    assert_eq!(v["programs"][0]["name"], "uses_externs");
    assert_eq!(v["programs"][0]["relocations"], 3);

    let r = run(&[
        "inspect",
        fixture("extern_unresolved.bpf.o").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let row = |name: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {}", r.stdout))
            .split_whitespace()
            .collect()
    };
    assert_eq!(row("fwd"), ["-", "fwd", "function", "-", "unresolved"]);
    assert_eq!(row("some_var"), ["-", "some_var", "int", "-", "unresolved"]);
    assert_eq!(row("got"), [".bss", "got", "__u64", "0", "8"]);
    // The tables end with what `load` will say.
    assert!(
        r.stdout.ends_with(&format!(
            "\nunresolved: {FWD_WHY}\nunresolved: {SOME_VAR_WHY}\n"
        )),
        "{}",
        r.stdout
    );
    // An object without unresolved externs has no such lines.
    let r = run(&["inspect", fixture("globals.bpf.o").to_str().unwrap()]);
    assert!(!r.stdout.contains("unresolved"), "{}", r.stdout);
}

#[test]
fn load_refuses_unresolved_externs() {
    // Refused before anything is created: no root needed.
    let r = run(&["load", fixture("extern_unresolved.bpf.o").to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(
        r.stderr,
        format!("error: extern_unresolved: {FWD_WHY}; {SOME_VAR_WHY}\n")
    );
}

// ------------------------------------------------------------- bad input

#[test]
fn missing_file_fails_naming_it() {
    let path = fixture("no_such_object.bpf.o");
    let r = run(&["inspect", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .starts_with(&format!("error: {}: reading: ", path.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn random_bytes_fail_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("bpf2rs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("random.bpf.o");
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let bytes: Vec<u8> = (0..1000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let r = run(&["inspect", path.to_str().unwrap(), "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .starts_with(&format!("error: {}: not an ELF file: ", path.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn rejected_map_definition() {
    let path = fixture("bad_key_both.bpf.o");
    let r = run(&["inspect", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: section .maps: map bad_map: both `key` and `key_size` given; use one\n",
            path.display()
        )
    );
    let path = fixture("bad_unknown_field.bpf.o");
    let r = run(&["bpf2rs", "inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        format!(
            "error: {}: section .maps: map odd_map: unknown field `frobnicate`\n",
            path.display()
        )
    );
}

/// Definitions libbpf or cilium/ebpf refuse: `inspect` and `load` both fail
/// with the reader's message, naming the map and the field.
#[test]
fn rejected_initialised_definitions() {
    let legacy = fixture("bad_legacy_extra.bpf.o");
    let legacy_msg = format!(
        "error: {}: section maps: map odd_tail: legacy definition has non-zero bytes past the \
         fields bpf2rs reads (offset 20..24: a 24-byte definition is read as the 5 fields of \
         struct bpf_map_def)\n",
        legacy.display()
    );
    let btf = fixture("bad_maps_init.bpf.o");
    let btf_msg = format!(
        "error: {}: section .maps: map init_key: field key: non-zero initial value (bytes \
         16..24 of the definition); a BTF map definition is read from its BTF, and only \
         `values` may be initialised\n",
        btf.display()
    );
    for (path, msg) in [(&legacy, &legacy_msg), (&btf, &btf_msg)] {
        let path = path.to_str().unwrap();
        for args in [
            vec!["inspect", path],
            vec!["inspect", path, "--json"],
            vec!["load", path],
        ] {
            let r = run(&args);
            assert_eq!(r.code, 1, "{args:?}");
            assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
            assert_eq!(&r.stderr, msg, "{args:?}");
        }
    }
}

// ------------------------------------------------------------- bad usage

fn assert_usage(r: &Run, first_line: &str) {
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with(&format!("error: {first_line}\n")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("usage: cargo bpf2rs <command> [args]"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("inspect OBJ [--json]"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let none: [&str; 0] = [];
    assert_usage(&run(&none), "no command given");
    assert_usage(&run(&["bpf2rs"]), "no command given");
    assert_usage(&run(&["frobnicate"]), "unknown command `frobnicate`");
    assert_usage(
        &run(&["bpf2rs", "frobnicate"]),
        "unknown command `frobnicate`",
    );
    assert_usage(&run(&["inspect"]), "inspect: missing OBJ");
    assert_usage(
        &run(&["inspect", "a.o", "--yaml"]),
        "inspect: unknown option `--yaml`",
    );
    assert_usage(
        &run(&["inspect", "a.o", "b.o"]),
        "inspect: unexpected argument `b.o`",
    );
}

#[test]
fn help_exits_0() {
    let after_command = |cmd: &'static str, flag: &'static str| [cmd, flag];
    let cases: Vec<Vec<&str>> = ["--help", "-h", "help"]
        .into_iter()
        .map(|f| vec![f])
        .chain(
            ["inspect", "types", "gen", "build", "load", "usdt"]
                .map(|c| after_command(c, "--help").to_vec()),
        )
        .chain([vec!["types", "x.o", "-h"]])
        .collect();
    for args in cases {
        let flag = args.join(" ");
        let r = run(&args);
        assert_eq!(r.code, 0, "{flag}");
        assert!(
            r.stdout.starts_with("usage: cargo bpf2rs <command> [args]"),
            "{flag}: {}",
            r.stdout
        );
        assert!(r.stderr.is_empty());
    }
}
