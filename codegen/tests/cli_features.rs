//! `cargo-bpf2rs features` as a user runs it: the text report's sections,
//! the JSON report's keys (bpftool's for types and helpers) and its
//! agreement with the text, and usage errors. Probing needs root.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::collections::BTreeSet;

use common::{cli, require_root};
use serde_json::Value;

fn run_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_text_report_has_every_section() {
    require_root();
    let text = run_ok(&["features"]);
    let sections: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && l.ends_with(':'))
        .collect();
    assert_eq!(
        sections[..4],
        [
            "program types:",
            "map types:",
            "helpers per program type:",
            "loader features:"
        ],
        "{text}"
    );
    assert!(text.starts_with("kernel "), "{text}");
    assert!(text.contains("\n  yes ("), "{text}");
    assert!(text.contains("\n    socket_filter "), "{text}");
    assert!(text.contains("\n  xdp ("), "{text}");
    assert!(text.contains("\n  ringbuf "), "{text}");
    assert!(
        text.contains("not probed (they write to the kernel log"),
        "{text}"
    );
    assert!(text
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("probed in "));
    // Either every probe ran, or the ones that could not are named.
    assert!(
        text.contains("\nevery probe ran\n") || text.contains("\ncould not probe ("),
        "{text}"
    );
}

#[test]
fn the_json_report_has_bpftools_keys() {
    require_root();
    let v: Value = serde_json::from_str(&run_ok(&["features", "--json"])).unwrap();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "kernel",
            "program_types",
            "map_types",
            "helpers",
            "helpers_not_probed",
            "loader_features",
            "could_not_probe"
        ])
    );
    let progs = v["program_types"].as_object().unwrap();
    assert_eq!(progs["have_socket_filter_prog_type"], true);
    assert!(progs.contains_key("have_netfilter_prog_type"));
    assert!(progs.values().all(|a| a.is_boolean() || a.is_null()));
    let maps = v["map_types"].as_object().unwrap();
    assert_eq!(maps["have_hash_map_type"], true);
    assert_eq!(maps["have_ringbuf_map_type"], true);
    assert!(maps.values().all(|a| a.is_boolean() || a.is_null()));
    // One list per program type, of helper names; null where the type's
    // helpers could not be probed, empty where the type is unsupported.
    let helpers = v["helpers"].as_object().unwrap();
    assert_eq!(helpers.len(), progs.len());
    let sf: Vec<&str> = helpers["socket_filter_available_helpers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(sf.contains(&"bpf_map_lookup_elem"), "{sf:?}");
    assert!(!sf.contains(&"bpf_override_return"), "{sf:?}");
    for (key, list) in helpers {
        let prog = key.strip_suffix("_available_helpers").unwrap();
        let supported = &progs[&format!("have_{prog}_prog_type")];
        if supported == false {
            assert_eq!(list.as_array().map(Vec::len), Some(0), "{key}");
        }
        if supported.is_null() {
            assert!(list.is_null(), "{key}");
        }
    }
    assert_eq!(
        v["helpers_not_probed"],
        serde_json::json!([
            "bpf_trace_printk",
            "bpf_probe_write_user",
            "bpf_trace_vprintk"
        ])
    );
    let features = v["loader_features"].as_object().unwrap();
    for name in [
        "btf",
        "btf_enum64",
        "ringbuf",
        "tcx",
        "trampolines",
        "kprobe_pmu",
    ] {
        assert!(features.contains_key(name), "{name}");
    }
    // Every null is named in could_not_probe.
    let missing: BTreeSet<&str> = v["could_not_probe"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for (name, a) in features {
        assert_eq!(
            a.is_null(),
            missing.contains(format!("loader feature {name}").as_str()),
            "{name}"
        );
    }
    for (key, a) in progs {
        let name = key
            .strip_prefix("have_")
            .unwrap()
            .strip_suffix("_prog_type")
            .unwrap();
        assert_eq!(
            a.is_null(),
            missing.contains(format!("program type {name}").as_str()),
            "{name}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for (args, first) in [
        (
            &["features", "--yaml"][..],
            "error: features: unexpected argument `--yaml`",
        ),
        (
            &["features", "x"][..],
            "error: features: unexpected argument `x`",
        ),
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.starts_with(&format!("{first}\n")), "{stderr}");
        assert!(stderr.contains("features [--json]"), "{stderr}");
    }
}
