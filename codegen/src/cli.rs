//! Argument handling of `cargo bpf2rs`, separate from `main` so tests can
//! run commands in-process.
//!
//! In: the arguments after `bpf2rs`. Out: text on the writer, or a
//! [`CliError`] whose exit code says whether the input or the usage was bad.

use std::io::Write;

use std::sync::Arc;

use bpf2rs::btf::Btf;
use bpf2rs::obj::{ObjError, ObjectSpec};

use crate::inspect;
use crate::types::{self, Selection};

const USAGE: &str = "usage: cargo bpf2rs <command> [args]

commands:
  inspect OBJ [--json]   show the maps, globals and programs of a compiled BPF object
  types BTF_OR_OBJ [--type NAME]... [--all] [--rename-duplicates] [--base BTF] [-o FILE]
                         Rust types with the kernel's layout for an object's map keys,
                         values and globals (default), named types, or every type;
                         raw BTF files work too (/sys/kernel/btf/vmlinux; module BTF
                         under /sys/kernel/btf is read on top of vmlinux or --base)
";

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    #[error(transparent)]
    Object(#[from] ObjError),
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("{path}: {source}")]
    Types {
        path: String,
        #[source]
        source: crate::ir::TypesError,
    },
    #[error("{path}: {source}")]
    Btf {
        path: String,
        #[source]
        source: bpf2rs::btf::BtfError,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl CliError {
    /// 2 for usage errors, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Runs one command.
pub fn run(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(CliError::Usage("no command given".into()));
    };
    match cmd.as_str() {
        "inspect" => inspect_cmd(rest, out),
        "types" => types_cmd(rest, out),
        "-h" | "--help" | "help" => {
            out.write_all(USAGE.as_bytes())?;
            Ok(())
        }
        other => Err(CliError::Usage(format!("unknown command `{other}`"))),
    }
}

fn inspect_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut json = false;
    let mut path = None;
    for a in args {
        match a.as_str() {
            "--json" => json = true,
            flag if flag.starts_with('-') => {
                return Err(CliError::Usage(format!("inspect: unknown option `{flag}`")))
            }
            p if path.is_none() => path = Some(p),
            extra => {
                return Err(CliError::Usage(format!(
                    "inspect: unexpected argument `{extra}`"
                )))
            }
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("inspect: missing OBJ".into()))?;
    let spec = ObjectSpec::from_file(path)?;
    if json {
        let text = serde_json::to_string_pretty(&inspect::to_json(&spec))
            .map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(inspect::to_text(&spec).as_bytes())?;
    }
    Ok(())
}

fn types_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut sel = Selection::default();
    let mut path = None;
    let mut output = None;
    let mut base = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| CliError::Usage(format!("types: {flag} needs a value")))
        };
        match a.as_str() {
            "--all" => sel.all = true,
            "--rename-duplicates" => sel.rename_duplicates = true,
            "--type" => sel.names.push(value("--type")?),
            "-o" | "--output" => output = Some(value("-o")?),
            "--base" => base = Some(value("--base")?),
            flag if flag.starts_with('-') => {
                return Err(CliError::Usage(format!("types: unknown option `{flag}`")))
            }
            p if path.is_none() => path = Some(p.to_owned()),
            extra => {
                return Err(CliError::Usage(format!(
                    "types: unexpected argument `{extra}`"
                )))
            }
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("types: missing BTF_OR_OBJ".into()))?;
    let bytes = std::fs::read(&path).map_err(|e| CliError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let types_err = |source| CliError::Types {
        path: path.clone(),
        source,
    };
    let generated = if bytes.starts_with(b"\x7fELF") {
        let spec = ObjectSpec::parse(&bytes, &path)?;
        let btf = spec.btf.clone().ok_or_else(|| CliError::File {
            path: path.clone(),
            message: "the object has no BTF (compile with clang -g)".into(),
        })?;
        let roots = if sel.all || !sel.names.is_empty() {
            Vec::new()
        } else {
            types::object_roots(&spec)
        };
        let roots = types::select(&btf, roots, &sel).map_err(types_err)?;
        types::generate(&btf, &roots, &sel).map_err(types_err)?
    } else {
        let btf = read_raw_btf(&path, &bytes, base.as_deref())?;
        if !sel.all && sel.names.is_empty() {
            return Err(CliError::Usage(
                "types: raw BTF has no maps or globals; pass --all or --type NAME".into(),
            ));
        }
        let roots = types::select(&btf, Vec::new(), &sel).map_err(types_err)?;
        types::generate(&btf, &roots, &sel).map_err(types_err)?
    };
    for (c, rust) in &generated.renamed {
        eprintln!("note: {c} renamed to `{rust}`: another type has its name");
    }
    match output {
        Some(o) => std::fs::write(&o, generated.code.as_bytes()).map_err(|e| CliError::File {
            path: o.clone(),
            message: e.to_string(),
        })?,
        None => out.write_all(generated.code.as_bytes())?,
    }
    Ok(())
}

/// Raw BTF, read on top of a base when it is split BTF: `--base`, or vmlinux
/// for module BTF under /sys/kernel/btf.
fn read_raw_btf(path: &str, bytes: &[u8], base: Option<&str>) -> Result<Btf, CliError> {
    let btf_err = |p: &str, source| CliError::Btf {
        path: p.to_owned(),
        source,
    };
    let base = match base {
        Some(b) => Some(b.to_owned()),
        None if path.starts_with("/sys/kernel/btf/") && !path.ends_with("/vmlinux") => {
            Some("/sys/kernel/btf/vmlinux".to_owned())
        }
        None => None,
    };
    match base {
        Some(b) => {
            let base_btf = Btf::from_file(&b).map_err(|e| btf_err(&b, e))?;
            Btf::parse_split(bytes, Arc::new(base_btf)).map_err(|e| btf_err(path, e))
        }
        None => {
            let btf = Btf::parse(bytes).map_err(|e| btf_err(path, e))?;
            btf.check_graph().map_err(|e| btf_err(path, e))?;
            Ok(btf)
        }
    }
}
