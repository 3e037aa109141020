//! bpftool's view of a BTF file, and the comparison of a generated
//! `layouts::LAYOUTS` table with it. Shared by the fixture test here and by
//! `tests/vmlinux` (included there with `#[path]`).
//!
//! In: a BTF or object path (read with `bpftool btf dump file PATH -j`) and
//! a `LAYOUTS` table (BTF id, `size_of`, named members' bit offsets, all
//! computed by rustc from the generated types). Out: every disagreement
//! with bpftool, collected rather than first-error-wins, and how much was
//! compared.

#![allow(dead_code)] // reason: each test binary uses part of this module

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The shape of `layouts::LAYOUTS` in generated code.
pub type Layouts = [(u32, usize, &'static [(&'static str, usize)])];

/// What bpftool says about one member of a struct or union.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub type_id: u32,
    /// The member's bit offset, with a legacy (kind_flag 0) INT bitfield's
    /// own bit offset added, as the kernel's `btf_int_check_member` does.
    pub bit_offset: u64,
}

/// One type from `bpftool btf dump -j`.
#[derive(Clone, Debug)]
pub struct BtfType {
    pub id: u32,
    pub kind: String,
    /// `None` for bpftool's `(anon)`.
    pub name: Option<String>,
    pub size: Option<u64>,
    /// `type_id` of PTR, TYPEDEF, VAR, modifiers and ARRAY (the element).
    pub type_id: Option<u32>,
    pub bits_offset: u64,
    pub members: Vec<Member>,
    /// DATASEC variables (VAR ids).
    pub vars: Vec<u32>,
}

/// All types of one BTF blob as bpftool decodes them.
#[derive(Debug)]
pub struct Dump {
    pub what: String,
    pub types: HashMap<u32, BtfType>,
}

/// Runs `bpftool btf dump file PATH -j`. Fails the test (with the install
/// command) when bpftool is missing: a skipped comparison would pass silently.
pub fn dump(path: &Path) -> Dump {
    let out = match Command::new("bpftool")
        .args(["btf", "dump", "file"])
        .arg(path)
        .arg("-j")
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("bpftool not found: install it (apt-get install bpftool)")
        }
        Err(e) => panic!("running bpftool: {e}"),
    };
    assert!(
        out.status.success(),
        "bpftool btf dump file {} -j failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bpftool's JSON for {}: {e}", path.display()));
    let mut types = HashMap::new();
    for t in json["types"].as_array().expect("bpftool JSON has `types`") {
        let ty = parse_type(t);
        types.insert(ty.id, ty);
    }
    // A legacy bitfield (no kind_flag) keeps part of its offset in the INT.
    let int_offsets: HashMap<u32, u64> = types
        .values()
        .filter(|t| t.kind == "INT" && t.bits_offset != 0)
        .map(|t| (t.id, t.bits_offset))
        .collect();
    if !int_offsets.is_empty() {
        let resolved: HashMap<u32, u64> = types
            .keys()
            .filter_map(|&id| {
                let r = skip_mods_and_typedefs(&types, id);
                int_offsets.get(&r).map(|off| (id, *off))
            })
            .collect();
        for t in types.values_mut() {
            for m in &mut t.members {
                m.bit_offset += resolved.get(&m.type_id).copied().unwrap_or(0);
            }
        }
    }
    Dump {
        what: path.display().to_string(),
        types,
    }
}

fn parse_type(t: &Value) -> BtfType {
    let num = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64);
    let name = |v: &Value| {
        v["name"]
            .as_str()
            .filter(|n| *n != "(anon)")
            .map(str::to_owned)
    };
    let members = t
        .get("members")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| Member {
                    name: name(m).unwrap_or_default(),
                    type_id: num(m, "type_id").unwrap_or(0) as u32,
                    bit_offset: num(m, "bits_offset").unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    let vars = t
        .get("vars")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .map(|v| num(v, "type_id").unwrap_or(0) as u32)
                .collect()
        })
        .unwrap_or_default();
    BtfType {
        id: num(t, "id").expect("type id") as u32,
        kind: t["kind"].as_str().unwrap_or("").to_owned(),
        name: name(t),
        size: num(t, "size"),
        type_id: num(t, "type_id").map(|v| v as u32),
        bits_offset: num(t, "bits_offset").unwrap_or(0),
        members,
        vars,
    }
}

fn skip_mods_and_typedefs(types: &HashMap<u32, BtfType>, mut id: u32) -> u32 {
    for _ in 0..32 {
        match types.get(&id) {
            Some(t)
                if matches!(
                    t.kind.as_str(),
                    "TYPEDEF" | "CONST" | "VOLATILE" | "RESTRICT" | "TYPE_TAG"
                ) =>
            {
                id = t.type_id.unwrap_or(0);
            }
            _ => return id,
        }
    }
    id
}

impl Dump {
    fn get(&self, id: u32) -> Option<&BtfType> {
        self.types.get(&id)
    }

    /// Id of the named STRUCT or UNION `name` (the first, by id).
    pub fn composite_id(&self, name: &str) -> Option<u32> {
        self.types
            .values()
            .filter(|t| is_composite(t) && t.name.as_deref() == Some(name))
            .map(|t| t.id)
            .min()
    }

    /// Every struct and union (named or not) an object's generated types
    /// must contain: the by-value closure of its map keys and values (inner
    /// maps' too) and of its `.data*`/`.rodata*`/`.bss*` variables, the same
    /// roots `types::object_roots` starts from, computed here from bpftool's
    /// JSON alone.
    pub fn object_closure(&self) -> BTreeSet<u32> {
        let mut roots = Vec::new();
        for sec in self.types.values().filter(|t| t.kind == "DATASEC") {
            let sec_name = sec.name.as_deref().unwrap_or("");
            let is_data = [".data", ".rodata", ".bss"]
                .iter()
                .any(|b| sec_name == *b || sec_name.starts_with(&format!("{b}.")));
            for &var in &sec.vars {
                let Some(var_ty) = self.get(var).and_then(|v| v.type_id) else {
                    continue;
                };
                if is_data {
                    roots.push(var_ty);
                } else if sec_name == ".maps" {
                    self.map_roots(var_ty, &mut roots, true);
                }
            }
        }
        let mut out = BTreeSet::new();
        let mut seen = BTreeSet::new();
        while let Some(id) = roots.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(t) = self.get(id) else { continue };
            match t.kind.as_str() {
                "STRUCT" | "UNION" => {
                    out.insert(id);
                    roots.extend(t.members.iter().map(|m| m.type_id));
                }
                "TYPEDEF" | "CONST" | "VOLATILE" | "RESTRICT" | "TYPE_TAG" | "ARRAY" => {
                    roots.extend(t.type_id);
                }
                _ => {}
            }
        }
        out
    }

    /// Key and value types of a BTF map definition (`key`/`value` members
    /// are pointers to them); `values` of a map-in-map points to the inner
    /// definition.
    fn map_roots(&self, def: u32, roots: &mut Vec<u32>, outer: bool) {
        let Some(def) = self.get(skip_mods_and_typedefs(&self.types, def)) else {
            return;
        };
        for m in &def.members {
            let pointee = |id: u32| {
                self.get(id)
                    .filter(|p| p.kind == "PTR")
                    .and_then(|p| p.type_id)
            };
            match m.name.as_str() {
                "key" | "value" => roots.extend(pointee(m.type_id)),
                "values" if outer => {
                    let elem = self.get(m.type_id).and_then(|a| a.type_id);
                    if let Some(inner) = elem.and_then(pointee) {
                        if self.get(inner).is_some_and(is_composite) {
                            self.map_roots(inner, roots, false);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn is_composite(t: &BtfType) -> bool {
    t.kind == "STRUCT" || t.kind == "UNION"
}

/// How much a comparison covered.
#[derive(Clone, Copy, Debug, Default)]
pub struct Compared {
    pub types: usize,
    pub named_types: usize,
    pub members: usize,
}

/// Compares every row of `layouts` with bpftool: the id is a STRUCT or
/// UNION, the sizes agree, and the named members are the same set with the
/// same bit offsets. Returns what was compared, or every disagreement.
pub fn compare(dump: &Dump, layouts: &Layouts) -> Result<Compared, Vec<String>> {
    let mut errors = Vec::new();
    let mut compared = Compared::default();
    let mut rows_by_id: BTreeMap<u32, usize> = BTreeMap::new();
    for &(id, size, members) in layouts {
        *rows_by_id.entry(id).or_default() += 1;
        let Some(t) = dump.get(id).filter(|t| is_composite(t)) else {
            errors.push(format!(
                "LAYOUTS row for BTF id {id}: not a struct or union"
            ));
            continue;
        };
        let what = format!(
            "{} {} (BTF id {id})",
            t.kind.to_lowercase(),
            t.name.as_deref().unwrap_or("(anon)")
        );
        compared.types += 1;
        compared.named_types += usize::from(t.name.is_some());
        if t.size != Some(size as u64) {
            errors.push(format!(
                "{what}: size_of is {size}, bpftool says {:?}",
                t.size
            ));
        }
        let expected: BTreeMap<&str, u64> = t
            .members
            .iter()
            .filter(|m| !m.name.is_empty())
            .map(|m| (m.name.as_str(), m.bit_offset))
            .collect();
        let mut generated: BTreeMap<&str, usize> = BTreeMap::new();
        for &(name, bit_offset) in members {
            if generated.insert(name, bit_offset).is_some() {
                errors.push(format!("{what}: member `{name}` listed twice"));
            }
        }
        for (name, want) in &expected {
            match generated.get(name) {
                Some(&got) if got as u64 == *want => compared.members += 1,
                Some(&got) => errors.push(format!(
                    "{what}: member `{name}` at bit {got}, bpftool says {want}"
                )),
                None => errors.push(format!(
                    "{what}: member `{name}` (bit {want}) missing from LAYOUTS"
                )),
            }
        }
        for name in generated.keys().filter(|n| !expected.contains_key(*n)) {
            errors.push(format!(
                "{what}: LAYOUTS has member `{name}` bpftool does not"
            ));
        }
    }
    for (id, n) in rows_by_id.into_iter().filter(|(_, n)| *n > 1) {
        errors.push(format!("BTF id {id}: {n} LAYOUTS rows"));
    }
    if errors.is_empty() {
        Ok(compared)
    } else {
        Err(errors)
    }
}

/// Panics with the first `limit` errors (and how many there were).
pub fn fail(what: &str, errors: &[String], limit: usize) -> ! {
    let shown: Vec<&str> = errors.iter().take(limit).map(String::as_str).collect();
    panic!(
        "{what}: {} layout disagreement(s) with bpftool:\n  {}{}",
        errors.len(),
        shown.join("\n  "),
        if errors.len() > limit { "\n  ..." } else { "" }
    );
}
