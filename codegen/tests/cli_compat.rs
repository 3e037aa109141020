//! `cargo bpf2rs compat --kernel X.Y`: the version-table verdict, which
//! needs no kernel, checked as exact text; `--json`; exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use bpf2rs_codegen::cli::{self, CliError};
use common::{cli as run_bin, fixture};

/// Runs `compat` in-process: its text and whether it said "would load".
fn compat(args: &[&str]) -> (String, Result<(), CliError>) {
    let mut argv = vec!["compat".to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut out = Vec::new();
    let r = cli::run(&argv, &mut out);
    (String::from_utf8(out).unwrap(), r)
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len() - n..].join("\n")
}

#[test]
fn ringbuf_fixture_needs_5_8_because_of_the_ring_buffer() {
    let typed = fixture("typed.bpf.o");
    let (text, r) = compat(&[typed.to_str().unwrap(), "--kernel", "5.7"]);
    assert!(matches!(r, Err(CliError::WouldNotLoad(_))), "{r:?}");
    assert_eq!(
        tail(&text, 7),
        "minimum kernel: 5.8, set by\n  \
         helper ringbuf_output (130): program on_getpid  [commit 457f44363a88]\n  \
         map type ringbuf: map events  [commit 457f44363a88]\n\
         verdict: would not load on Linux 5.7 (mainline, from the version table), missing\n  \
         program on_getpid: helper ringbuf_output (130)\n  \
         map events: map type ringbuf\n\
         note: from mainline versions; distribution kernels backport features and may lack \
         some (BTF, trampolines): run `cargo bpf2rs compat` on the target for its own answer"
    );
    assert!(text.starts_with(
        "typed on Linux 5.7 (mainline, from the version table)\nprograms\n  on_getpid\n"
    ));
    assert!(text.contains(
        "    map type ringbuf                                  5.8  missing  [commit 457f44363a88]\n"
    ), "{text}");
    // The perf link has a fallback: it does not raise the minimum.
    assert!(
        text.contains("perf event links                                 5.15  fallback (attach)"),
        "{text}"
    );

    let (text, r) = compat(&[typed.to_str().unwrap(), "--kernel", "5.8"]);
    assert!(r.is_ok(), "{r:?}");
    assert!(
        text.contains("\nverdict: would load on Linux 5.8 (mainline, from the version table)\n"),
        "{text}"
    );
}

#[test]
fn tracing_fixture_names_every_requirement_newer_than_the_kernel() {
    let (text, r) = compat(&[
        fixture("attach_tracing.bpf.o").to_str().unwrap(),
        "--kernel",
        "5.4",
    ]);
    assert!(r.is_err());
    let verdict = text.split("\nverdict: ").nth(1).unwrap();
    for want in [
        "program fentry_unlinkat: program type tracing",
        "program fentry_unlinkat: BPF trampoline (fentry/fexit/fmod_ret)",
        "program lsm_file_open: BPF LSM",
        "program dump_task: BPF iterators",
    ] {
        let line = format!("\n  {want}\n");
        assert!(verdict.contains(&line), "{want} not in {verdict}");
    }
    assert!(
        text.contains(
            "\nminimum kernel: 5.8, set by\n  \
             BPF iterators: program dump_task, program dump_values  [commit 180139dca8b3]\n\
             verdict: would not load"
        ),
        "{text}"
    );
}

#[test]
fn json_is_one_stable_value() {
    let (text, r) = compat(&[
        fixture("typed.bpf.o").to_str().unwrap(),
        "--kernel",
        "6.1",
        "--json",
    ]);
    assert!(r.is_ok());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["object"], "typed");
    assert_eq!(v["loads"], true);
    assert_eq!(v["minimum_kernel"]["version"], "5.8");
    assert_eq!(v["missing"], serde_json::json!([]));
    let ringbuf = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["owner"] == "events" && r["group"] == "maps")
        .unwrap();
    assert_eq!(
        ringbuf,
        &serde_json::json!({
            "group": "maps", "owner": "events", "what": "map type ringbuf", "stage": "load",
            "min_kernel": "5.8", "citation": "commit 457f44363a88", "status": "ok",
            "fallback": null, "note": null,
        })
    );
}

#[test]
fn exit_status_is_0_1_or_2() {
    let typed = fixture("typed.bpf.o");
    let code = |args: &[&str]| run_bin(args).status.code();
    assert_eq!(
        code(&[
            "bpf2rs",
            "compat",
            typed.to_str().unwrap(),
            "--kernel",
            "5.8"
        ]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "bpf2rs",
            "compat",
            typed.to_str().unwrap(),
            "--kernel",
            "5.7"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "bpf2rs",
            "compat",
            typed.to_str().unwrap(),
            "--kernel",
            "five"
        ]),
        Some(2)
    );
    assert_eq!(code(&["bpf2rs", "compat"]), Some(2));
    assert_eq!(
        code(&["bpf2rs", "compat", typed.to_str().unwrap(), "--frob"]),
        Some(2)
    );
}
