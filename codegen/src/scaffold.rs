//! `cargo bpf2rs new`: a project that builds and runs with `cargo run`.
//!
//! In: a project name, a [`Template`] and where the bpf2rs crates come
//! from. Out: a directory holding Cargo.toml, build.rs, src/main.rs and
//! src/bpf/NAME.bpf.c (the templates under `codegen/templates/`, with the
//! names filled in; build.rs is one for all), or a [`ScaffoldError`] before anything is written.

use std::path::{Path, PathBuf};

use crate::naming::SkelNames;

/// What the new project does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Template {
    /// Every program started on the machine, from the tracepoint
    /// sched/sched_process_exec through a typed ring buffer (CO-RE, with
    /// a generated vmlinux.h).
    #[default]
    Tracepoint,
    /// Packets arriving on an interface, counted by IP protocol with XDP.
    Xdp,
    /// A command's calls of libc's malloc(), with a uprobe and a uretprobe.
    Uprobe,
}

impl Template {
    /// Every template, the default first.
    pub const ALL: [Template; 3] = [Template::Tracepoint, Template::Xdp, Template::Uprobe];

    /// The name `--template` takes.
    pub fn name(self) -> &'static str {
        match self {
            Template::Tracepoint => "tracepoint",
            Template::Xdp => "xdp",
            Template::Uprobe => "uprobe",
        }
    }

    /// The template called `name`.
    pub fn from_name(name: &str) -> Option<Template> {
        Template::ALL.into_iter().find(|t| t.name() == name)
    }

    /// How to run the project once made, as its README says.
    pub fn run_hint(self) -> &'static str {
        match self {
            Template::Tracepoint => "cargo run -- --timeout 10",
            Template::Xdp => "cargo run -- --iface lo --seconds 5",
            Template::Uprobe => "cargo run -- ls /",
        }
    }

    /// src/main.rs and the BPF C source, with placeholders.
    fn files(self) -> [&'static str; 2] {
        match self {
            Template::Tracepoint => [
                include_str!("../templates/tracepoint/main.rs"),
                include_str!("../templates/tracepoint/prog.bpf.c"),
            ],
            Template::Xdp => [
                include_str!("../templates/xdp/main.rs"),
                include_str!("../templates/xdp/prog.bpf.c"),
            ],
            Template::Uprobe => [
                include_str!("../templates/uprobe/main.rs"),
                include_str!("../templates/uprobe/prog.bpf.c"),
            ],
        }
    }

    /// Builder calls of build.rs beyond the ones every template makes.
    fn builder_calls(self) -> &'static str {
        match self {
            Template::Tracepoint => {
                "\n        // The ring buffer's records as the generated `types::event`.\
                 \n        .ringbuf_event(\"events\", \"struct event\")"
            }
            Template::Xdp | Template::Uprobe => "",
        }
    }
}

/// Where the new project's bpf2rs and bpf2rs-codegen come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crates {
    /// Path dependencies on a checkout of bpf2rs (its `runtime/` and
    /// `codegen/`).
    Checkout(PathBuf),
    /// crates.io, at this version of cargo-bpf2rs.
    Registry,
}

impl Crates {
    /// The checkout this cargo-bpf2rs was built from, if it still exists;
    /// else crates.io. (Installed from crates.io, the build directory holds
    /// the codegen crate alone, so it is not taken for a checkout.)
    pub fn default_for_this_build() -> Crates {
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
        match built_from.map(checkout) {
            Some(Ok(dir)) => Crates::Checkout(dir),
            _ => Crates::Registry,
        }
    }

    fn dependency(&self, dir: &str) -> String {
        match self {
            Crates::Checkout(root) => {
                let path = root.join(dir).display().to_string();
                format!("{{ path = {} }}", toml_string(&path))
            }
            Crates::Registry => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// `root` as a bpf2rs checkout: absolute, with `runtime/Cargo.toml` and
/// `codegen/Cargo.toml`.
pub fn checkout(root: &Path) -> Result<PathBuf, String> {
    let root = std::fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
    for crate_dir in ["runtime", "codegen"] {
        if !root.join(crate_dir).join("Cargo.toml").is_file() {
            return Err(format!(
                "{}: not a bpf2rs checkout (no {crate_dir}/Cargo.toml)",
                root.display()
            ));
        }
    }
    Ok(root)
}

/// Why no project was made.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{name}` cannot name a package: {why}")]
    BadName { name: String, why: String },
    #[error("{path}: already exists")]
    Exists { path: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

/// A project to make.
#[derive(Clone, Debug)]
pub struct NewProject {
    /// The package name, also the directory's.
    pub name: String,
    pub template: Template,
    /// Where the bpf2rs crates come from.
    pub crates: Crates,
}

impl NewProject {
    /// The project's files, relative to its directory.
    pub fn files(&self) -> Result<Vec<(PathBuf, String)>, ScaffoldError> {
        check_name(&self.name)?;
        // The C file and the skeleton are named in snake case, so the
        // skeleton's types are `MyToolSkel` for `my-tool`.
        let obj = self.name.replace('-', "_");
        let skel = SkelNames::new(&obj).skel;
        let fill = |text: &str| {
            text.replace("{{builder}}", self.template.builder_calls())
                .replace("{{name}}", &self.name)
                .replace("{{obj}}", &obj)
                .replace("{{Skel}}", &skel)
        };
        let build = include_str!("../templates/build.rs");
        let [main, bpf] = self.template.files();
        Ok(vec![
            (PathBuf::from("Cargo.toml"), self.manifest()),
            (PathBuf::from(".gitignore"), "/target\n".to_owned()),
            (PathBuf::from("build.rs"), fill(build)),
            (PathBuf::from("src/main.rs"), fill(main)),
            (PathBuf::from(format!("src/bpf/{obj}.bpf.c")), fill(bpf)),
        ])
    }

    fn manifest(&self) -> String {
        format!(
            "[package]\n\
             name = \"{name}\"\n\
             version = \"0.1.0\"\n\
             edition = \"2021\"\n\
             publish = false\n\
             \n\
             [dependencies]\n\
             bpf2rs = {runtime}\n\
             \n\
             [build-dependencies]\n\
             bpf2rs-codegen = {codegen}\n",
            name = self.name,
            runtime = self.crates.dependency("runtime"),
            codegen = self.crates.dependency("codegen"),
        )
    }

    /// Writes the project into `parent/NAME`, which must not exist yet;
    /// returns that directory. Nothing is left behind on failure.
    pub fn create_in(&self, parent: &Path) -> Result<PathBuf, ScaffoldError> {
        let files = self.files()?;
        let dir = parent.join(&self.name);
        if dir.symlink_metadata().is_ok() {
            return Err(ScaffoldError::Exists {
                path: dir.display().to_string(),
            });
        }
        let written = files.iter().try_for_each(|(rel, text)| {
            let path = dir.join(rel);
            let io = |e: std::io::Error| ScaffoldError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            };
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p).map_err(io)?;
            }
            std::fs::write(&path, text).map_err(io)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(dir)
    }
}

/// The rules cargo applies to a new package's name, and a directory name.
fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let bad = |why: &str| {
        Err(ScaffoldError::BadName {
            name: name.to_owned(),
            why: why.to_owned(),
        })
    };
    let Some(first) = name.chars().next() else {
        return bad("it is empty");
    };
    if !first.is_ascii_alphabetic() {
        return bad("it must start with a letter");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "`{c}` is not allowed (letters, digits, `-` and `_` are)"
        ));
    }
    if RESERVED.contains(&name) {
        return bad("it is a Rust keyword or a name cargo reserves");
    }
    Ok(())
}

/// Rust keywords and the names cargo refuses for packages.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "core",
    "std",
    "alloc",
    "proc_macro",
    "proc-macro",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
];

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
