//! `cargo bpf2rs new`: the files of each template, the errors, and each
//! template's project built with cargo (path dependencies on this
//! checkout) and run against the kernel, its output checked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bpf2rs_codegen::scaffold::{Crates, NewProject, Template};
use common::{cli, require_root};

fn checkout() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).unwrap()
}

/// A fresh directory for one test, outside this workspace (cargo would take
/// a project under it for a member that is not listed); removed when
/// dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("bpf2rs-new-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn each_template_writes_a_project_with_the_names_filled_in() {
    let parent = scratch("files");
    let root = checkout();
    for template in Template::ALL {
        let name = format!("my-{}-tool", template.name());
        let obj = name.replace('-', "_");
        let project = NewProject {
            name: name.clone(),
            template,
            crates: Crates::Checkout(root.clone()),
        };
        let dir = project.create_in(&parent).unwrap();
        assert_eq!(dir, parent.join(&name));
        let mut files: Vec<String> = walk(&dir)
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                ".gitignore".to_owned(),
                "Cargo.toml".to_owned(),
                "build.rs".to_owned(),
                format!("src/bpf/{obj}.bpf.c"),
                "src/main.rs".to_owned(),
            ]
        );
        assert_eq!(
            read(&dir.join("Cargo.toml")),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
                 publish = false\n\n[dependencies]\nbpf2rs = {{ path = \"{r}/runtime\" }}\n\n\
                 [build-dependencies]\nbpf2rs-codegen = {{ path = \"{r}/codegen\" }}\n",
                r = root.display()
            )
        );
        let main = read(&dir.join("src/main.rs"));
        assert!(main.contains(&format!(
            "include!(concat!(env!(\"OUT_DIR\"), \"/{obj}.skel.rs\"));"
        )));
        let skel = format!(
            "My{}ToolSkel",
            template.name()[..1].to_uppercase() + &template.name()[1..]
        );
        assert!(main.contains(&skel), "{skel} in\n{main}");
        let build = read(&dir.join("build.rs"));
        assert!(build.contains(&format!("Builder::new(\"src/bpf/{obj}.bpf.c\")")));
        assert!(build.contains(&format!("out.join(\"{obj}.skel.rs\")")));
        for file in walk(&dir) {
            let text = read(&file);
            assert!(
                !text.contains("{{"),
                "{}: a placeholder left",
                file.display()
            );
        }
        // The Rust files are as rustfmt writes them.
        let fmt = Command::new("rustfmt")
            .args(["--edition", "2021", "--check"])
            .arg(dir.join("src/main.rs"))
            .arg(dir.join("build.rs"))
            .output()
            .expect("rustfmt (rustup component add rustfmt)");
        assert!(
            fmt.status.success(),
            "{}",
            String::from_utf8_lossy(&fmt.stdout)
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn crates_default_to_the_checkout_this_was_built_from() {
    assert_eq!(
        Crates::default_for_this_build(),
        Crates::Checkout(checkout())
    );
    let dir = scratch("default");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-bpf2rs"))
        .args(["new", "tool"])
        .current_dir(&*dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "created tracepoint project `tool` in ./tool (path dependencies on {})\n\
             run it as root: cd ./tool && cargo run -- --timeout 10\n",
            checkout().display()
        )
    );
    assert!(read(&dir.join("tool/src/bpf/tool.bpf.c")).contains("sched_process_exec"));
}

#[test]
fn bad_names_paths_and_templates_are_refused_before_anything_is_written() {
    let dir = scratch("errors");
    let project = |name: &str| NewProject {
        name: name.to_owned(),
        template: Template::Tracepoint,
        crates: Crates::Registry,
    };
    for (name, why) in [
        ("", "`` cannot name a package: it is empty"),
        ("1st", "`1st` cannot name a package: it must start with a letter"),
        (
            "my tool",
            "`my tool` cannot name a package: ` ` is not allowed (letters, digits, `-` and `_` are)",
        ),
        (
            "../x",
            "`../x` cannot name a package: it must start with a letter",
        ),
        (
            "fn",
            "`fn` cannot name a package: it is a Rust keyword or a name cargo reserves",
        ),
        (
            "test",
            "`test` cannot name a package: it is a Rust keyword or a name cargo reserves",
        ),
    ] {
        let err = project(name).create_in(&dir).unwrap_err();
        assert_eq!(err.to_string(), why);
    }
    assert_eq!(walk(&dir), Vec::<PathBuf>::new(), "nothing written");

    std::fs::create_dir(dir.join("taken")).unwrap();
    let err = project("taken").create_in(&dir).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: already exists", dir.join("taken").display())
    );
    assert_eq!(std::fs::read_dir(dir.join("taken")).unwrap().count(), 0);

    let usage = |args: &[&str], want: &str| {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(&format!("error: {want}\n")), "{err}");
    };
    usage(&["new"], "new: missing NAME");
    usage(
        &["new", "x", "--template", "kprobe"],
        "new: no template `kprobe`; there are tracepoint, xdp, uprobe",
    );
    usage(
        &["new", "x", "--bpf2rs-path", "/"],
        "new: --bpf2rs-path /: not a bpf2rs checkout (no runtime/Cargo.toml)",
    );
    usage(
        &["new", "x", "--bpf2rs-path", "/nonexistent-bpf2rs"],
        "new: --bpf2rs-path /nonexistent-bpf2rs: No such file or directory (os error 2)",
    );
    usage(&["new", "x", "y"], "new: unexpected argument `y`");
    usage(
        &["new", "x", "--tempate", "xdp"],
        "new: unknown option `--tempate`",
    );
}

/// Makes the project of `template` with path dependencies on this
/// checkout and builds it with cargo; returns its binary. The projects
/// share a target directory, so the bpf2rs crates build once.
fn build(template: Template) -> PathBuf {
    let parent = scratch(&format!("run-{}", template.name()));
    let name = format!("{}-demo", template.name());
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-bpf2rs"))
        .args(["new", &name, "--template", template.name(), "--bpf2rs-path"])
        .arg(checkout())
        .current_dir(&*parent)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = parent.join(&name);
    // The checkout's lock file: the same dependency versions as the
    // workspace, all already downloaded, so the build works offline.
    std::fs::copy(checkout().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "cargo build of the {} template:\n{}",
        template.name(),
        String::from_utf8_lossy(&built.stderr)
    );
    target.join("debug").join(name)
}

/// Lines of `child`'s stdout as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for `child`'s first line on stderr, which says it attached.
fn attached(child: &mut Child, what: &str) -> BufReader<std::process::ChildStderr> {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(&format!("attached {what}")), "{line}");
    stderr
}

#[test]
fn tracepoint_template_reports_an_exec_with_its_pid_and_parent() {
    require_root();
    let exe = build(Template::Tracepoint);
    let mut child = Command::new(&exe)
        .args(["--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stderr = attached(&mut child, "on_exec");
    let lines = lines_of(&mut child);
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(10)).unwrap(),
        "PID      PPID     COMM             FILE"
    );

    // A program with a name no other exec has.
    let dir = scratch("exec");
    let program = dir.join(format!("bpf2rs-exec-{}", std::process::id()));
    std::fs::copy("/bin/true", &program).unwrap();
    let ran = Command::new(&program).spawn().unwrap();
    let pid = ran.id();
    let status = { ran }.wait().unwrap();
    assert!(status.success());

    let found = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("no event for the exec within 20 s");
        if line.ends_with(&program.display().to_string()) {
            break line;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let fields: Vec<&str> = found.split_whitespace().collect();
    let comm: String = program
        .file_name()
        .unwrap()
        .to_string_lossy()
        .chars()
        .take(15)
        .collect();
    assert_eq!(
        fields,
        [
            pid.to_string().as_str(),
            std::process::id().to_string().as_str(),
            comm.as_str(),
            program.to_str().unwrap(),
        ],
        "{found}"
    );
}

#[test]
fn xdp_template_counts_udp_on_lo() {
    require_root();
    let exe = build(Template::Xdp);
    let mut child = Command::new(&exe)
        .args(["--iface", "lo", "--seconds", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = attached(&mut child, "count_packets to lo (ifindex 1)");
    // 25 datagrams of 100 bytes to a socket of ours: 142 bytes a frame
    // with the UDP, IPv4 and Ethernet headers.
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..25 {
        tx.send_to(&[7u8; 100], rx.local_addr().unwrap()).unwrap();
    }
    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    assert!(status.success(), "{status}\n{out}\n{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("PROTOCOL      PACKETS        BYTES"),
        "{out}"
    );
    let udp: Vec<u64> = out
        .lines()
        .find(|l| l.starts_with("udp "))
        .unwrap_or_else(|| panic!("no udp row:\n{out}"))
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    // Other tests may send UDP on lo at the same time: at least ours.
    assert!(udp[0] >= 25 && udp[1] >= 25 * 142, "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("not IPv4 "),
        "{out}"
    );
}

#[test]
fn uprobe_template_counts_a_commands_malloc_calls() {
    require_root();
    let exe = build(Template::Uprobe);
    let out = Command::new(&exe).args(["ls", "/"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("proc\n"));
    let mut lines = err.lines();
    assert_eq!(
        lines.next(),
        Some("uprobe-demo: attached malloc_enter and malloc_exit to libc's malloc")
    );
    let report = lines.next().unwrap();
    // uprobe-demo: ls (pid N, exit status: 0): C malloc calls for B bytes, ...
    let (head, counts) = report.split_once("): ").unwrap();
    assert!(
        head.starts_with("uprobe-demo: ls (pid ") && head.ends_with(", exit status: 0"),
        "{report}"
    );
    let words: Vec<&str> = counts.split_whitespace().collect();
    let calls: u64 = words[0].parse().unwrap();
    let bytes: u64 = words[4].parse().unwrap();
    assert_eq!(words[1..4], ["malloc", "calls", "for"], "{report}");
    assert!(calls > 0 && bytes > 0, "{report}");
}
