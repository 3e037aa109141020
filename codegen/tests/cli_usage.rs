//! Usage errors of every command: exit status 2 and a first line naming
//! the command and what was wrong, then the usage text.
#![allow(clippy::unwrap_used)] // reason: tests

mod common;

use common::cli;

fn usage(args: &[&str], want: &str) {
    let out = cli(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some(format!("error: {want}").as_str()),
        "{args:?}"
    );
    assert_eq!(lines.next(), Some(""));
    assert_eq!(
        lines.next(),
        Some("usage: cargo bpf2rs <command> [args]   (--version: the version)")
    );
}

#[test]
fn each_command_names_itself_in_its_usage_errors() {
    let obj = common::fixture("maps.bpf.o");
    let obj = obj.to_str().unwrap();
    for cmd in ["inspect", "types", "gen", "load", "header", "new"] {
        usage(
            &[cmd, "--frobnicate"],
            &format!("{cmd}: unknown option `--frobnicate`"),
        );
    }
    for cmd in ["inspect", "types", "gen", "load", "header"] {
        usage(
            &[cmd, obj, "extra"],
            &format!("{cmd}: unexpected argument `extra`"),
        );
    }
    usage(&["inspect"], "inspect: missing OBJ");
    usage(&["types"], "types: missing BTF_OR_OBJ");
    usage(&["gen"], "gen: missing OBJ");
    usage(&["load"], "load: missing OBJ");
    for (cmd, flag) in [
        ("types", "--type"),
        ("types", "-o"),
        ("types", "--base"),
        ("gen", "-o"),
        ("gen", "--ringbuf-event"),
        ("gen", "--map-types"),
        ("load", "--pin-root"),
        ("header", "--base"),
        ("new", "--template"),
        ("new", "--bpf2rs-path"),
    ] {
        usage(&[cmd, flag], &format!("{cmd}: {flag} needs a value"));
    }
    usage(
        &["load", obj, "--max-entries"],
        "load: --max-entries needs MAP=N",
    );
    usage(
        &["gen", obj, "--map-types", "m"],
        "--map-types takes NAME=VALUE, got `m`",
    );
    usage(&["build", "a", "b"], "build: takes at most one directory");
    usage(&["frob"], "unknown command `frob`");
}
