//! `cargo bpf2rs features`: what the running kernel supports, as text or
//! as JSON shaped like `bpftool feature probe kernel -j`.
//!
//! In: [`bpf2rs::probe`]'s answers, gathered by [`probe()`]. Out: a
//! [`Report`] as a `serde_json::Value` or a text listing grouped by
//! program types, map types, helpers per program type and loader features,
//! with what could not be probed named.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bpf2rs::obj::{MapType, ProgType};
use bpf2rs::probe::{self, Features, HelperSet, Support};
use serde_json::{json, Map, Value};

/// Everything `features` reports.
#[derive(Debug)]
pub struct Report {
    /// `uname -r`.
    pub kernel: String,
    pub prog_types: Vec<(ProgType, Support)>,
    pub map_types: Vec<(MapType, Support)>,
    /// One per program type, in `prog_types` order.
    pub helpers: Vec<HelperSet>,
    pub features: Features,
    /// How long the probes took.
    pub elapsed: Duration,
}

/// Runs every probe: each program type, map type, each helper for each
/// program type, and the loader features.
pub fn probe() -> Report {
    let start = Instant::now();
    let prog_types: Vec<(ProgType, Support)> = (1..)
        .map(ProgType)
        .take_while(|t| t.name().is_some())
        .map(|t| (t, probe::prog_type_supported(t)))
        .collect();
    let map_types = (1..)
        .map(MapType)
        .take_while(|t| t.name().is_some())
        .map(|t| (t, probe::map_type_supported(t)))
        .collect();
    let helpers = prog_types
        .iter()
        .map(|&(t, _)| probe::supported_helpers(t))
        .collect();
    let features = probe::features().clone();
    Report {
        kernel: kernel_release(),
        prog_types,
        map_types,
        helpers,
        features,
        elapsed: start.elapsed(),
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The answer as JSON: `true`, `false`, or `null` for "could not probe".
fn answer(s: Support) -> Value {
    s.as_option().map_or(Value::Null, Value::Bool)
}

/// A helper set's summary: `None` when no helper of it could be probed.
fn helper_names(set: &HelperSet) -> Option<Vec<&'static str>> {
    let probed = set
        .iter()
        .any(|(id, a)| a != Support::Unknown && !probe::HELPERS_PROBED_ON_REQUEST.contains(&id));
    let yes = set.ids(Support::Yes).filter_map(probe::helper_name);
    // A set of an unsupported type is all "no" (bpftool's empty list).
    probed.then(|| yes.collect())
}

/// What could not be probed, as "program type tracing", ...
pub fn could_not_probe(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (t, s) in &r.prog_types {
        if *s == Support::Unknown {
            out.push(format!("program type {t}"));
        }
    }
    for (t, s) in &r.map_types {
        if *s == Support::Unknown {
            out.push(format!("map type {t}"));
        }
    }
    for set in &r.helpers {
        if helper_names(set).is_none() {
            out.push(format!("helpers of {}", set.prog_type()));
        }
    }
    for (name, s) in r.features.iter() {
        if s == Support::Unknown {
            out.push(format!("loader feature {name}"));
        }
    }
    out
}

/// The report as JSON. `program_types`, `map_types` and `helpers` have
/// bpftool's keys (`have_xdp_prog_type`, `have_hash_map_type`,
/// `xdp_available_helpers`) with `null` where the probe could not run;
/// `loader_features` has [`Features::iter`]'s names; `helpers_not_probed`
/// names the helpers left to on-request probes; `could_not_probe` lists
/// what could not be probed.
pub fn to_json(r: &Report) -> Value {
    let mut prog_types = Map::new();
    for (t, s) in &r.prog_types {
        prog_types.insert(format!("have_{t}_prog_type"), answer(*s));
    }
    let mut map_types = Map::new();
    for (t, s) in &r.map_types {
        map_types.insert(format!("have_{t}_map_type"), answer(*s));
    }
    let mut helpers = Map::new();
    for set in &r.helpers {
        let names = helper_names(set).map_or(Value::Null, |n| json!(n));
        helpers.insert(format!("{}_available_helpers", set.prog_type()), names);
    }
    let mut features = Map::new();
    for (name, s) in r.features.iter() {
        features.insert(name.to_owned(), answer(s));
    }
    let not_probed: Vec<&str> = probe::HELPERS_PROBED_ON_REQUEST
        .iter()
        .filter_map(|&id| probe::helper_name(id))
        .collect();
    json!({
        "kernel": r.kernel,
        "program_types": prog_types,
        "map_types": map_types,
        "helpers": helpers,
        "helpers_not_probed": not_probed,
        "loader_features": features,
        "could_not_probe": could_not_probe(r),
    })
}

/// The report as text: one section per group, answers grouped by yes, no
/// and could not probe; helpers as those every probed type has and, per
/// type, the rest.
pub fn to_text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "kernel {}\n", r.kernel);
    section(&mut s, "program types", &r.prog_types);
    section(&mut s, "map types", &r.map_types);
    helpers_text(&mut s, &r.helpers);
    let _ = writeln!(s, "loader features:");
    let width = r.features.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, a) in r.features.iter() {
        let _ = writeln!(s, "  {name:width$}  {a}");
    }
    let missing = could_not_probe(r);
    if missing.is_empty() {
        let _ = writeln!(s, "\nevery probe ran");
    } else {
        let _ = writeln!(
            s,
            "\ncould not probe (no privilege, or a kind this version cannot probe):"
        );
        wrap(&mut s, "  ", missing.iter().map(String::as_str), ", ");
    }
    let _ = writeln!(s, "\nprobed in {} ms", r.elapsed.as_millis());
    s
}

fn section<T: Copy + std::fmt::Display>(s: &mut String, title: &str, answers: &[(T, Support)]) {
    let _ = writeln!(s, "{title}:");
    for want in [Support::Yes, Support::No, Support::Unknown] {
        let names: Vec<String> = answers
            .iter()
            .filter(|(_, a)| *a == want)
            .map(|(t, _)| t.to_string())
            .collect();
        if names.is_empty() {
            continue;
        }
        let _ = writeln!(s, "  {} ({}):", want, names.len());
        wrap(s, "    ", names.iter().map(String::as_str), " ");
    }
    s.push('\n');
}

fn helpers_text(s: &mut String, sets: &[HelperSet]) {
    let probed: Vec<(&HelperSet, Vec<&str>)> = sets
        .iter()
        .filter_map(|set| helper_names(set).map(|n| (set, n)))
        .filter(|(_, n)| !n.is_empty())
        .collect();
    let _ = writeln!(s, "helpers per program type:");
    let Some((_, first)) = probed.first() else {
        let _ = writeln!(s, "  none could be probed\n");
        return;
    };
    let common: Vec<&str> = first
        .iter()
        .copied()
        .filter(|h| probed.iter().all(|(_, n)| n.contains(h)))
        .collect();
    let _ = writeln!(s, "  every type below ({}):", common.len());
    wrap(s, "    ", common.iter().copied(), " ");
    for (set, names) in &probed {
        let extra: Vec<&str> = names
            .iter()
            .copied()
            .filter(|h| !common.contains(h))
            .collect();
        let _ = writeln!(
            s,
            "  {} ({}, {} more):",
            set.prog_type(),
            names.len(),
            extra.len()
        );
        wrap(s, "    ", extra.iter().copied(), " ");
    }
    let none: Vec<String> = sets
        .iter()
        .filter(|set| helper_names(set).is_some_and(|n| n.is_empty()))
        .map(|set| set.prog_type().to_string())
        .collect();
    if !none.is_empty() {
        let _ = writeln!(s, "  none (type not supported): {}", none.join(" "));
    }
    let not_probed: Vec<&str> = probe::HELPERS_PROBED_ON_REQUEST
        .iter()
        .filter_map(|&id| probe::helper_name(id))
        .collect();
    let _ = writeln!(
        s,
        "  not probed (they write to the kernel log; bpf2rs::probe::helper_supported asks): {}\n",
        not_probed.join(" ")
    );
}

/// Writes `items` separated by `sep` in lines of at most 100 columns.
fn wrap<'a>(s: &mut String, indent: &str, items: impl Iterator<Item = &'a str>, sep: &str) {
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && indent.len() + line.len() + sep.len() + item.len() > 100 {
            let _ = writeln!(s, "{indent}{line}{}", sep.trim_end());
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(sep);
        }
        line.push_str(item);
    }
    if !line.is_empty() {
        let _ = writeln!(s, "{indent}{line}");
    }
}
