//! Argument handling of `cargo bpf2rs`, separate from `main` so tests can
//! run commands in-process.
//!
//! In: the arguments after `bpf2rs`. Out: text on the writer, or a
//! [`CliError`] whose exit code says whether the input or the usage was bad.

use std::io::Write;

use bpf2rs::obj::{ObjError, ObjectSpec};

use crate::inspect;

const USAGE: &str = "usage: cargo bpf2rs <command> [args]

commands:
  inspect OBJ [--json]   show the maps, globals and programs of a compiled BPF object
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
            extra => return Err(CliError::Usage(format!("inspect: unexpected argument `{extra}`"))),
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("inspect: missing OBJ".into()))?;
    let spec = ObjectSpec::from_file(path)?;
    if json {
        let text = serde_json::to_string_pretty(&inspect::to_json(&spec)).map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(inspect::to_text(&spec).as_bytes())?;
    }
    Ok(())
}
