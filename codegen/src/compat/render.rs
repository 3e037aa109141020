//! A [`Report`] as text for people and as JSON for programs.
//!
//! In: a report. Out: text grouped by programs, maps, data, BTF and
//! externs, ending with the minimum kernel and the verdict; or one JSON
//! value whose shape is stable (fields are only ever added).

use std::fmt::Write;

use serde_json::{json, Value};

use super::check::{Entry, Report, Status};
use super::requirements::{Group, Stage};

const GROUPS: [Group; 5] = [
    Group::Programs,
    Group::Maps,
    Group::Data,
    Group::Btf,
    Group::Externs,
];

/// The report as text (see `cargo bpf2rs compat`).
pub fn to_text(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{} on {}", report.object, report.kernel);
    let width = report
        .entries
        .iter()
        .map(|e| e.what.len())
        .max()
        .unwrap_or(0)
        .min(56);
    for group in GROUPS {
        let entries: Vec<&Entry> = report
            .entries
            .iter()
            .filter(|e| e.requirement.group == group)
            .collect();
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{}", group.as_str());
        let mut owners: Vec<&str> = Vec::new();
        for e in &entries {
            if !owners.contains(&e.requirement.owner.as_str()) {
                owners.push(&e.requirement.owner);
            }
        }
        for owner in owners {
            let _ = writeln!(s, "  {owner}");
            for e in entries.iter().filter(|e| e.requirement.owner == owner) {
                line(&mut s, e, width);
            }
        }
    }
    match &report.minimum {
        Some((v, because)) => {
            let _ = writeln!(s, "minimum kernel: {v}, set by");
            for why in minimum_reasons(report, because) {
                let _ = writeln!(s, "  {why}");
            }
        }
        None => {
            let _ = writeln!(s, "minimum kernel: unknown (no requirement has a version)");
        }
    }
    verdict_text(&mut s, report);
    if !report.authoritative {
        let _ = writeln!(
            s,
            "note: from mainline versions; distribution kernels backport features and may \
             lack some (BTF, trampolines): run `cargo bpf2rs compat` on the target for its own answer"
        );
    }
    s
}

/// The entries that set the minimum, one line per requirement with every
/// owner that has it: `atomic ... (programs a, b; commit ...)`.
fn minimum_reasons(report: &Report, because: &[usize]) -> Vec<String> {
    let mut seen: Vec<(String, Vec<String>, String)> = Vec::new();
    for &i in because {
        let e = &report.entries[i];
        let cite = e.since.map(|s| s.cite.to_string()).unwrap_or_default();
        let owner = e.label();
        let owner = owner
            .strip_suffix(&format!(": {}", e.what))
            .unwrap_or(&owner);
        match seen.iter_mut().find(|(w, _, _)| *w == e.what) {
            Some((_, owners, _)) => owners.push(owner.to_owned()),
            None => seen.push((e.what.clone(), vec![owner.to_owned()], cite)),
        }
    }
    seen.into_iter()
        .map(|(what, owners, cite)| format!("{what}: {}  [{cite}]", owners.join(", ")))
        .collect()
}

/// The verdict with one line per missing requirement, for people (the
/// one-line [`verdict_line`] is for JSON).
fn verdict_text(s: &mut String, report: &Report) {
    let list = |s: &mut String, status: Status, stage: Stage| {
        for e in report.with(status, stage) {
            let _ = writeln!(s, "  {}", e.label());
        }
    };
    let unknown = report.with(Status::Unknown, Stage::Load).count();
    match (report.loads, unknown) {
        (true, 0) => {
            let _ = writeln!(s, "verdict: would load on {}", report.kernel);
        }
        (true, _) => {
            let _ = writeln!(s, "verdict: would load on {}, if it has", report.kernel);
            list(s, Status::Unknown, Stage::Load);
        }
        (false, _) => {
            let _ = writeln!(s, "verdict: would not load on {}, missing", report.kernel);
            list(s, Status::Missing, Stage::Load);
        }
    }
    if report.with(Status::Missing, Stage::Attach).next().is_some() {
        let _ = writeln!(s, "attaching would fail, missing");
        list(s, Status::Missing, Stage::Attach);
    }
}

fn line(s: &mut String, e: &Entry, width: usize) {
    let since = e.since.map_or("-".to_owned(), |v| v.version.to_string());
    let stage = match e.requirement.stage {
        Stage::Load => "",
        Stage::Attach => " (attach)",
    };
    let cite = e
        .since
        .map(|v| format!("  [{}]", v.cite))
        .unwrap_or_default();
    let _ = write!(
        s,
        "    {:<width$}  {:>5}  {}{stage}{cite}",
        e.what,
        since,
        e.status.as_str()
    );
    if let Some(note) = &e.note {
        let _ = write!(s, "  ({note})");
    }
    s.push('\n');
}

/// `verdict: would load on ...` or `verdict: would not load on ...: why`.
pub fn verdict_line(report: &Report) -> String {
    let labels = |status: Status, stage: Stage| -> Vec<String> {
        report.with(status, stage).map(Entry::label).collect()
    };
    let mut s = if report.loads {
        format!("verdict: would load on {}", report.kernel)
    } else {
        format!(
            "verdict: would not load on {}: missing {}",
            report.kernel,
            labels(Status::Missing, Stage::Load).join("; ")
        )
    };
    let unknown = labels(Status::Unknown, Stage::Load);
    if report.loads && !unknown.is_empty() {
        let _ = write!(s, ", if it has {}", unknown.join("; "));
    }
    let attach = labels(Status::Missing, Stage::Attach);
    if !attach.is_empty() {
        let _ = write!(s, "; attaching would fail: {}", attach.join("; "));
    }
    s
}

/// The report as JSON.
///
/// ```json
/// {"object": "events", "kernel": "...", "authoritative": true,
///  "requirements": [{"group": "maps", "owner": "events", "what": "map type ringbuf",
///    "stage": "load", "min_kernel": "5.8", "citation": "commit 457f44363a88",
///    "status": "ok", "fallback": null, "note": null}],
///  "minimum_kernel": {"version": "5.8", "because": ["map events: map type ringbuf"]},
///  "loads": true, "missing": [], "unknown": [], "attach_missing": [], "verdict": "..."}
/// ```
pub fn to_json(report: &Report) -> Value {
    let requirements: Vec<Value> = report
        .entries
        .iter()
        .map(|e| {
            json!({
                "group": e.requirement.group.as_str(),
                "owner": e.requirement.owner,
                "what": e.what,
                "stage": match e.requirement.stage { Stage::Load => "load", Stage::Attach => "attach" },
                "min_kernel": e.since.map(|s| s.version.to_string()),
                "citation": e.since.map(|s| s.cite.to_string()),
                "status": e.status.as_str(),
                "fallback": e.requirement.fallback,
                "note": e.note,
            })
        })
        .collect();
    let minimum = report.minimum.as_ref().map(|(v, because)| {
        json!({
            "version": v.to_string(),
            "because": because.iter().map(|&i| report.entries[i].label()).collect::<Vec<_>>(),
        })
    });
    let labels = |status, stage| {
        report
            .with(status, stage)
            .map(Entry::label)
            .collect::<Vec<_>>()
    };
    json!({
        "object": report.object,
        "kernel": report.kernel,
        "authoritative": report.authoritative,
        "requirements": requirements,
        "minimum_kernel": minimum,
        "loads": report.loads,
        "missing": labels(Status::Missing, Stage::Load),
        "unknown": labels(Status::Unknown, Stage::Load),
        "attach_missing": labels(Status::Missing, Stage::Attach),
        "verdict": verdict_line(report),
    })
}
