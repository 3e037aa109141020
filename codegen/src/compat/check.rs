//! Requirements checked against [`KernelFacts`]: a status for each, the
//! object's minimum kernel, and the verdict.
//!
//! In: an object, its requirements and the facts of one kernel. Out: a
//! [`Report`].

use bpf2rs::load::co_re;
use bpf2rs_reader::btf::ext::CoreReloKind;
use bpf2rs_reader::obj::ObjectSpec;

use super::facts::KernelFacts;
use super::requirements::{self, Need, Requirement, Stage, TargetKind};
use super::table::{self, Feature, KernelVersion, Since};

/// How a requirement fares on the kernel checked against.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// The kernel has it.
    Ok,
    /// The kernel lacks it and nothing works around it.
    Missing,
    /// The kernel lacks it and the loader works around it.
    Fallback,
    /// Cannot tell from these facts.
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Fallback => "fallback",
            Status::Unknown => "unknown",
        }
    }
}

/// One requirement and its status.
#[derive(Clone, Debug)]
pub struct Entry {
    pub requirement: Requirement,
    /// What it is, for people: `helper ringbuf_reserve (131)`.
    pub what: String,
    /// The first mainline kernel with it, when the table knows.
    pub since: Option<Since>,
    pub status: Status,
    /// Why the status is what it is, when that is not obvious.
    pub note: Option<String>,
}

impl Entry {
    /// `map events: map type ringbuf`.
    pub fn label(&self) -> String {
        let r = &self.requirement;
        let owner = match r.group {
            super::Group::Programs => format!("program {}", r.owner),
            super::Group::Maps => format!("map {}", r.owner),
            super::Group::Data => format!("data {}", r.owner),
            super::Group::Btf => "BTF".to_owned(),
            super::Group::Externs => format!("extern {}", r.owner),
        };
        format!("{owner}: {}", self.what)
    }
}

/// The result of checking an object against one kernel.
#[derive(Clone, Debug)]
pub struct Report {
    pub object: String,
    /// [`KernelFacts::describe`].
    pub kernel: String,
    pub authoritative: bool,
    pub entries: Vec<Entry>,
    /// The newest `since` among requirements without a fallback, and the
    /// entries (indexes) that have it.
    pub minimum: Option<(KernelVersion, Vec<usize>)>,
    /// Whether the object would load: no load requirement is missing.
    pub loads: bool,
}

impl Report {
    /// Entries with this status and stage.
    pub fn with(&self, status: Status, stage: Stage) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| e.status == status && e.requirement.stage == stage)
    }
}

/// Checks `spec` against `facts`.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bpf2rs_codegen::compat::{check, KernelVersion, VersionFacts};
/// let spec = bpf2rs_reader::obj::ObjectSpec::from_file("events.bpf.o")?;
/// let report = check(&spec, &VersionFacts::new(KernelVersion::new(5, 4)));
/// println!("loads on 5.4: {}", report.loads);
/// # Ok(()) }
/// ```
pub fn check(spec: &ObjectSpec, facts: &dyn KernelFacts) -> Report {
    let entries: Vec<Entry> = requirements::requirements(spec)
        .into_iter()
        .map(|r| entry(spec, facts, r))
        .collect();
    let newest = entries
        .iter()
        .filter(|e| e.requirement.fallback.is_none())
        .filter_map(|e| e.since.map(|s| s.version))
        .max();
    let minimum = newest.map(|v| {
        let because = (entries.iter().enumerate())
            .filter(|(_, e)| {
                e.requirement.fallback.is_none() && e.since.map(|s| s.version) == Some(v)
            })
            .map(|(i, _)| i)
            .collect();
        (v, because)
    });
    let loads = !entries
        .iter()
        .any(|e| e.status == Status::Missing && e.requirement.stage == Stage::Load);
    Report {
        object: spec.name.clone(),
        kernel: facts.describe(),
        authoritative: facts.authoritative(),
        entries,
        minimum,
        loads,
    }
}

fn entry(spec: &ObjectSpec, facts: &dyn KernelFacts, requirement: Requirement) -> Entry {
    let mut note = None;
    let (what, since, available) = match &requirement.need {
        Need::ProgType(t) => (
            format!("program type {t}"),
            table::prog_type_since(*t),
            facts.prog_type(*t),
        ),
        Need::MapType(t) => (
            format!("map type {t}"),
            table::map_type_since(*t),
            facts.map_type(*t),
        ),
        Need::Helper { prog_type, id } => (
            match table::helper_name(*id) {
                Some(n) => format!("helper {n} ({id})"),
                None => format!("helper {id} (unknown to this table)"),
            },
            table::helper_since(*id),
            facts.helper(*prog_type, *id),
        ),
        Need::Feature(f) => (f.describe().to_owned(), Some(f.since()), facts.feature(*f)),
        Need::Kfunc { name, weak } => {
            let has = facts.kfunc(name);
            if has == Some(false) && *weak {
                note =
                    Some("__weak: the call is poisoned; fails if the verifier reaches it".into());
            }
            (
                format!("kfunc {name}"),
                Some(Feature::Kfuncs.since()),
                weak_ok(has, *weak),
            )
        }
        Need::Ksym { name, weak, typed } => {
            let has = facts.ksym(name, *typed);
            let what = if *typed {
                "variable in the kernel BTF"
            } else {
                "symbol in /proc/kallsyms"
            };
            (format!("ksym {name} ({what})"), None, weak_ok(has, *weak))
        }
        Need::Kconfig { name, weak } => (
            format!("kconfig {name}"),
            None,
            weak_ok(facts.kconfig(name), *weak),
        ),
        Need::AttachTarget { name, kind } => (
            match kind {
                TargetKind::Func => format!("attach target function {name}"),
                TargetKind::Typedef => format!("attach target tracepoint {name}"),
            },
            None,
            facts.attach_target(name, *kind),
        ),
        Need::CoreRelocations { program, count } => {
            let (available, why) = core_relocations(spec, facts, program);
            note = why;
            (
                format!("CO-RE relocations ({count}) against the kernel BTF"),
                Some(Feature::KernelBtf.since()),
                available,
            )
        }
        Need::Unloadable(why) => (why.clone(), None, Some(false)),
    };
    let status = match (available, requirement.fallback) {
        (Some(true), _) => Status::Ok,
        (Some(false), Some(_)) => Status::Fallback,
        (Some(false), None) => Status::Missing,
        (None, _) => Status::Unknown,
    };
    if status == Status::Fallback && note.is_none() {
        note = requirement.fallback.map(str::to_owned);
    }
    Entry {
        requirement,
        what,
        since,
        status,
        note,
    }
}

/// A weak extern is satisfied either way (it reads as zero when missing).
fn weak_ok(has: Option<bool>, weak: bool) -> Option<bool> {
    if weak && has == Some(false) {
        Some(true)
    } else {
        has
    }
}

fn is_guard(kind: CoreReloKind) -> bool {
    matches!(
        kind,
        CoreReloKind::FIELD_EXISTS
            | CoreReloKind::TYPE_EXISTS
            | CoreReloKind::ENUMVAL_EXISTS
            | CoreReloKind::TYPE_MATCHES
    )
}

/// Resolves the CO-RE relocations of `program` (and the subprograms it
/// calls) against the kernel BTF, as the loader would. A poisoned
/// relocation fails the load only if the verifier reaches it; programs
/// guard such reads with `bpf_core_field_exists` and friends, which no
/// static look can follow, so a poisoned relocation in a program with
/// existence checks is "unknown" (assumed guarded), and without any is
/// "missing".
fn core_relocations(
    spec: &ObjectSpec,
    facts: &dyn KernelFacts,
    program: &str,
) -> (Option<bool>, Option<String>) {
    let Some(target) = facts.core_target() else {
        return (facts.feature(Feature::KernelBtf), None);
    };
    let (Some(local), Some(p)) = (spec.btf.as_deref(), spec.program(program)) else {
        return (Some(false), Some("the object has no BTF".into()));
    };
    let mut poisoned = Vec::new();
    let mut guarded = false;
    for f in requirements::reachable(spec, p) {
        for relo in &f.core_relos {
            guarded |= is_guard(relo.kind);
            // A size change poisons only a direct memory access, not the
            // offset a bpf_probe_read-style read adds (as in `co_re::patch`).
            let memory = f
                .insns
                .get(relo.insn_off as usize)
                .is_some_and(|i| matches!(i.code & 0x07, 0x01..=0x03));
            match co_re::resolve(local, relo, target) {
                Ok(r) if r.poison || (r.fail_memsz_adjust && memory) => {
                    poisoned.push(r.description)
                }
                Ok(_) => {}
                Err(e) => return (Some(false), Some(e.to_string())),
            }
        }
    }
    if poisoned.is_empty() {
        return (Some(true), None);
    }
    poisoned.sort();
    poisoned.dedup();
    let list = poisoned.join(", ");
    if guarded {
        (
            None,
            Some(format!(
                "unresolved: {list}; assumed guarded by the program's bpf_core_*_exists checks"
            )),
        )
    } else {
        (
            Some(false),
            Some(format!("unresolved and unguarded: {list}")),
        )
    }
}
