//! `cargo bpf2rs compat` against what the kernel does: for every fixture
//! object (tests/bpf and runtime/tests/bpf), and for every object in the
//! directory named by BPF2RS_COMPAT_OBJECTS when set (scripts/compat-matrix
//! builds bcc's libbpf-tools there), the running-kernel verdict is compared
//! with a real load.
//!
//! Outcomes: both load or both refuse (agreement); the verdict said
//! "loads" but the verifier refused a program (a static look cannot know
//! that: counted apart); the verdict said "loads, if it has X" with X
//! unknown here (trampolines: no version says whether a kernel has them)
//! and the kernel refused that program (counted apart); anything else is a
//! disagreement, and the test fails listing them. The counts are printed
//! so that they appear in target/vmtest/<kernel>.log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::path::{Path, PathBuf};

use bpf2rs::load::{LoadError, OpenObject};
use bpf2rs_codegen::compat::{self, KernelFacts, RunningKernel, Stage, Status};
use bpf2rs_reader::obj::ObjectSpec;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Agree,
    /// Requirements met; the verifier refused a program.
    VerifierRefused(String),
    /// The program refused has a requirement unknown here.
    UnknownRefused(String),
    Disagree(String),
}

fn objects_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "o"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Loads the object and removes any pin the load made.
fn load(path: &Path) -> Result<(), LoadError> {
    let obj = OpenObject::open_file(path)?.load()?;
    for pin in obj.new_pins() {
        let _ = bpf2rs::map::unpin(pin);
    }
    Ok(())
}

fn compare(path: &Path, facts: &RunningKernel) -> Outcome {
    let spec = match ObjectSpec::from_file(path) {
        Ok(s) => s,
        // Unreadable: `compat` refuses it as bad input, and so does the loader.
        Err(e) => {
            return match load(path) {
                Err(_) => Outcome::Agree,
                Ok(()) => Outcome::Disagree(format!("unreadable for compat ({e}) but loads")),
            }
        }
    };
    let report = compat::check(&spec, facts);
    let loaded = load(path);
    match (report.loads, loaded) {
        (true, Ok(())) | (false, Err(_)) => Outcome::Agree,
        (false, Ok(())) => {
            let missing: Vec<String> = report
                .with(Status::Missing, Stage::Load)
                .map(|e| e.label())
                .collect();
            Outcome::Disagree(format!(
                "verdict: would not load ({}), but it loads",
                missing.join("; ")
            ))
        }
        (true, Err(e)) => {
            let (program, log) = match &e {
                LoadError::Verifier(v) => (Some(v.program.clone()), v.log.clone()),
                _ => (None, String::new()),
            };
            let first_line = e.to_string().lines().next().unwrap_or_default().to_owned();
            let unknown = program.as_ref().and_then(|p| {
                report
                    .with(Status::Unknown, Stage::Load)
                    .find(|en| &en.requirement.owner == p)
                    .map(|en| en.label())
            });
            if let Some(unknown) = unknown {
                Outcome::UnknownRefused(format!("{first_line} (unknown here: {unknown})"))
            } else if log.contains("processed ") {
                Outcome::VerifierRefused(first_line)
            } else {
                Outcome::Disagree(format!("verdict: would load, but: {first_line}"))
            }
        }
    }
}

/// A line on stderr that libtest does not capture (its capture takes only
/// `eprintln!`), so the counts reach target/vmtest/<kernel>.log of a
/// passing run too.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Compares every object; returns the disagreements, after printing counts.
fn run(label: &str, objects: &[PathBuf]) -> Vec<String> {
    let facts = RunningKernel::new();
    let mut agree = 0;
    let mut verifier = Vec::new();
    let mut unknown = Vec::new();
    let mut disagree = Vec::new();
    for p in objects {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match compare(p, &facts) {
            Outcome::Agree => agree += 1,
            Outcome::VerifierRefused(why) => verifier.push(format!("{name}: {why}")),
            Outcome::UnknownRefused(why) => unknown.push(format!("{name}: {why}")),
            Outcome::Disagree(why) => disagree.push(format!("{name}: {why}")),
        }
    }
    say(&format!(
        "compat {label} on {}: {} objects, {agree} agree, {} verifier refused (requirements met), \
         {} refused with a requirement unknown here, {} disagree",
        facts.describe(),
        objects.len(),
        verifier.len(),
        unknown.len(),
        disagree.len()
    ));
    for v in &verifier {
        say(&format!("compat {label}:   verifier refused: {v}"));
    }
    for u in &unknown {
        say(&format!("compat {label}:   unknown here, refused: {u}"));
    }
    for d in &disagree {
        say(&format!("compat {label}:   DISAGREE: {d}"));
    }
    disagree
}

#[test]
fn fixture_verdicts_match_loading() {
    common::require_root();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut objects = objects_in(&root.join("tests/bpf"));
    objects.extend(objects_in(&root.join("runtime/tests/bpf")));
    assert!(objects.len() > 20, "fixtures not found: {objects:?}");
    let disagree = run("fixtures", &objects);
    assert!(
        disagree.is_empty(),
        "disagreements:\n{}",
        disagree.join("\n")
    );
}

/// The objects of `scripts/compat-matrix` (bcc's libbpf-tools), when
/// BPF2RS_COMPAT_OBJECTS names their directory.
#[test]
fn compat_objects_verdicts_match_loading() {
    let Some(dir) = std::env::var_os("BPF2RS_COMPAT_OBJECTS") else {
        say("NOT RUN on this kernel: BPF2RS_COMPAT_OBJECTS is not set (scripts/compat-matrix sets it)");
        return;
    };
    common::require_root();
    let objects = objects_in(Path::new(&dir));
    assert!(
        !objects.is_empty(),
        "no *.o in {}",
        Path::new(&dir).display()
    );
    let disagree = run("objects", &objects);
    assert!(
        disagree.is_empty(),
        "disagreements:\n{}",
        disagree.join("\n")
    );
}
