//! Argument handling of `cargo bpf2rs`, separate from `main` so tests can
//! run commands in-process.
//!
//! In: the arguments after `bpf2rs`. Out: text on the writer, or a
//! [`CliError`] whose exit code says whether the input or the usage was bad.

use std::io::Write;

use bpf2rs_reader::obj::{ObjError, ObjectSpec};

use crate::types::{self, Selection};
use crate::{features, inspect};

const USAGE: &str = "usage: cargo bpf2rs <command> [args]   (--version: the version)

commands:
  inspect OBJ [--json]   show the maps, globals, programs and struct_ops of a compiled
                         BPF object
  types BTF_OR_OBJ [--type NAME]... [--all] [--rename-duplicates] [--base BTF] [-o FILE]
                         Rust types with the kernel's layout for an object's map keys,
                         values and globals (default), named types, or every type;
                         raw BTF files work too (/sys/kernel/btf/vmlinux; module BTF
                         under /sys/kernel/btf is read on top of vmlinux or --base)
  gen OBJ [-o FILE] [--ringbuf-event MAP=TYPE]... [--perf-event MAP=TYPE]...
      [--map-types MAP=KEY,VALUE]... [--map-rust-types MAP=KEY,VALUE]...
                         the typed skeleton of an object (types + open/load API);
                         event records and size-only maps typed by C type names,
                         any map's key/value by Rust paths (empty: keep)
  build [DIR]            compile every DIR/*.bpf.c (default src/bpf) with clang and
                         write DIR/NAME.skel.rs next to each
  load OBJ [--pin-root DIR] [--max-entries MAP=N]... [--keep-pins]
                         create every map and load every program of an object on this
                         kernel and report; exit status 1 with the verifier log on failure.
                         Pins it makes (LIBBPF_PIN_BY_NAME) are removed at exit unless
                         --keep-pins
  header [BTF_OR_OBJ] [--base BTF] [-o FILE]
                         a C header (vmlinux.h) of every type of a BTF source (default
                         /sys/kernel/btf/vmlinux; an object's .BTF; module BTF under
                         /sys/kernel/btf is read on top of vmlinux or --base)
  new NAME [--template tracepoint|xdp|uprobe] [--bpf2rs-path DIR]
                         a project in ./NAME that builds and runs with `cargo run` as root:
                         Cargo.toml, build.rs, src/main.rs, src/bpf/NAME.bpf.c. Templates:
                         tracepoint (default; exec events through a typed ring buffer),
                         xdp (packets by IP protocol), uprobe (a command's malloc calls).
                         The bpf2rs crates are path dependencies on DIR, by default on the
                         checkout this cargo-bpf2rs was built from (else crates.io)
  features [--json]      what this kernel supports: program types, map types, helpers per
                         program type and loader features, each yes, no or 'could not
                         probe' (no privilege); --json has bpftool's keys
  compat OBJ [--kernel X.Y] [--json]
                         what an object needs (program and map types, helpers, kfuncs,
                         features, attach targets, CO-RE), the first mainline kernel of
                         each, its minimum kernel, and whether it would load on the running
                         kernel (default) or on mainline X.Y; exit status 1 if it would not
  usdt BINARY            list the USDT probes of an executable or library, with their
                         decoded arguments (for usdt/BINARY:PROVIDER:NAME sections)
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
        source: bpf2rs_reader::btf::BtfError,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Skel(#[from] crate::skel::SkelError),
    #[error(transparent)]
    Build(#[from] crate::BuildError),
    #[error(transparent)]
    Load(#[from] bpf2rs::load::LoadError),
    #[error(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),
    /// `compat`: the object would not load (the report was written).
    #[error("{0}")]
    WouldNotLoad(String),
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
    // `cargo bpf2rs types --help` and the like: the usage, which covers every command.
    if rest.iter().any(|a| a == "-h" || a == "--help") {
        out.write_all(USAGE.as_bytes())?;
        return Ok(());
    }
    match cmd.as_str() {
        "inspect" => inspect_cmd(rest, out),
        "types" => types_cmd(rest, out),
        "gen" => gen_cmd(rest, out),
        "build" => build_cmd(rest, out),
        "load" => load_cmd(rest, out),
        "usdt" => usdt_cmd(rest, out),
        "features" => features_cmd(rest, out),
        "header" => header_cmd(rest, out),
        "new" => new_cmd(rest, out),
        "compat" => compat_cmd(rest, out),
        "-h" | "--help" | "help" => {
            out.write_all(USAGE.as_bytes())?;
            Ok(())
        }
        "-V" | "--version" | "version" => {
            writeln!(out, "cargo-bpf2rs {}", env!("CARGO_PKG_VERSION"))?;
            Ok(())
        }
        other => Err(CliError::Usage(format!("unknown command `{other}`"))),
    }
}

fn new_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    use crate::scaffold::{checkout, Crates, NewProject, Template};
    let mut name = None;
    let mut template = Template::default();
    let mut crates = None;
    let mut args = Args::new("new", args);
    while let Some(arg) = args.next() {
        match arg {
            "--template" => {
                let t = args.value("--template")?;
                template = Template::from_name(&t).ok_or_else(|| {
                    let known: Vec<&str> = Template::ALL.iter().map(|t| t.name()).collect();
                    CliError::Usage(format!(
                        "new: no template `{t}`; there are {}",
                        known.join(", ")
                    ))
                })?;
            }
            "--bpf2rs-path" => {
                let dir = args.value("--bpf2rs-path")?;
                let root = checkout(std::path::Path::new(&dir))
                    .map_err(|message| CliError::Usage(format!("new: --bpf2rs-path {message}")))?;
                crates = Some(Crates::Checkout(root));
            }
            other => args.positional(other, &mut name)?,
        }
    }
    let name = name.ok_or_else(|| CliError::Usage("new: missing NAME".into()))?;
    let project = NewProject {
        name,
        template,
        crates: crates.unwrap_or_else(Crates::default_for_this_build),
    };
    let dir = project.create_in(std::path::Path::new("."))?;
    let deps = match &project.crates {
        Crates::Checkout(root) => format!("path dependencies on {}", root.display()),
        Crates::Registry => format!("bpf2rs {} from crates.io", env!("CARGO_PKG_VERSION")),
    };
    writeln!(
        out,
        "created {} project `{}` in {} ({deps})\nrun it as root: cd {} && {}",
        template.name(),
        project.name,
        dir.display(),
        dir.display(),
        template.run_hint()
    )?;
    Ok(())
}

fn inspect_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut json = false;
    let mut path = None;
    let mut args = Args::new("inspect", args);
    while let Some(arg) = args.next() {
        match arg {
            "--json" => json = true,
            other => args.positional(other, &mut path)?,
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

fn features_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut json = false;
    for a in args {
        match a.as_str() {
            "--json" => json = true,
            other => {
                return Err(CliError::Usage(format!(
                    "features: unexpected argument `{other}`"
                )))
            }
        }
    }
    let report = features::probe();
    if json {
        let text = serde_json::to_string_pretty(&features::to_json(&report))
            .map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(features::to_text(&report).as_bytes())?;
    }
    Ok(())
}

fn usdt_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let path = match args {
        [] => return Err(CliError::Usage("usdt: missing BINARY".into())),
        [flag, ..] if flag.starts_with('-') => {
            return Err(CliError::Usage(format!("usdt: unknown option `{flag}`")))
        }
        [p] => p,
        [_, extra, ..] => {
            return Err(CliError::Usage(format!(
                "usdt: unexpected argument `{extra}`"
            )))
        }
    };
    let file_err = |message: String| CliError::File {
        path: path.clone(),
        message,
    };
    let notes = bpf2rs::link::usdt_notes(std::path::Path::new(path)).map_err(file_err)?;
    if notes.is_empty() {
        writeln!(out, "{path}: no USDT probes")?;
        return Ok(());
    }
    let width = notes
        .iter()
        .map(|n| n.provider.len() + n.name.len() + 1)
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:<width$}  {:>10}  {:>10}  arguments",
        "probe", "offset", "semaphore"
    )?;
    for n in &notes {
        let probe = format!("{}:{}", n.provider, n.name);
        let sem = match n.semaphore_offset {
            0 => "-".to_owned(),
            s => format!("{s:#x}"),
        };
        // Decoded, or the reason it cannot be (then attach fails the same way).
        let args = match bpf2rs::link::parse_usdt_args(&n.args) {
            Ok(_) => n.args.clone(),
            Err(why) => format!("{}  (unsupported: {why})", n.args),
        };
        writeln!(
            out,
            "{probe:<width$}  {:>10}  {sem:>10}  {args}",
            format!("{:#x}", n.file_offset)
        )?;
    }
    Ok(())
}

fn types_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut sel = Selection::default();
    let mut path = None;
    let mut output = None;
    let mut base = None;
    let mut args = Args::new("types", args);
    while let Some(arg) = args.next() {
        match arg {
            "--all" => sel.all = true,
            "--rename-duplicates" => sel.rename_duplicates = true,
            "--type" => sel.names.push(args.value("--type")?),
            "-o" | "--output" => output = Some(args.value("-o")?),
            "--base" => base = Some(args.value("--base")?),
            other => args.positional(other, &mut path)?,
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
        let btf = crate::c_header::parse_raw(
            std::path::Path::new(&path),
            &bytes,
            base.as_deref().map(std::path::Path::new),
        )
        .map_err(|(p, source)| CliError::Btf {
            path: p.display().to_string(),
            source,
        })?;
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
    write_output(output.as_deref(), generated.code.as_bytes(), out)
}

fn split_pair<'a>(flag: &str, v: &'a str, sep: char) -> Result<(&'a str, &'a str), CliError> {
    v.split_once(sep)
        .ok_or_else(|| CliError::Usage(format!("{flag} takes NAME{sep}VALUE, got `{v}`")))
}

fn gen_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut path = None;
    let mut output = None;
    let mut builder_opts = crate::skel::SkelOptions::default();
    let mut args = Args::new("gen", args);
    while let Some(arg) = args.next() {
        match arg {
            "-o" | "--output" => output = Some(args.value("-o")?),
            "--ringbuf-event" => {
                let v = args.value("--ringbuf-event")?;
                let (m, t) = split_pair("--ringbuf-event", &v, '=')?;
                builder_opts
                    .ringbuf_events
                    .push((m.to_owned(), t.to_owned()));
            }
            "--perf-event" => {
                let v = args.value("--perf-event")?;
                let (m, t) = split_pair("--perf-event", &v, '=')?;
                builder_opts.perf_events.push((m.to_owned(), t.to_owned()));
            }
            flag @ ("--map-types" | "--map-rust-types") => {
                let v = args.value(flag)?;
                let (m, kv) = split_pair(flag, &v, '=')?;
                let (k, val) = split_pair(flag, kv, ',')?;
                let list = if flag == "--map-types" {
                    &mut builder_opts.map_types
                } else {
                    &mut builder_opts.rust_map_types
                };
                list.push((m.to_owned(), k.to_owned(), val.to_owned()));
            }
            "--rename-duplicates" => builder_opts.rename_duplicates = true,
            other => args.positional(other, &mut path)?,
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("gen: missing OBJ".into()))?;
    if path.ends_with(".c") {
        return Err(CliError::Usage(format!(
            "gen: {path} is C source; gen reads a compiled object. `cargo bpf2rs build {}` \
             compiles every .bpf.c of a directory and writes their skeletons",
            std::path::Path::new(&path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| ".".into(), |d| d.display().to_string())
        )));
    }
    let spec = ObjectSpec::from_file(&path)?;
    builder_opts.object_path = std::fs::canonicalize(&path).map_err(|e| CliError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let code = crate::skel::generate(&spec, &builder_opts)?;
    write_output(output.as_deref(), code.as_bytes(), out)
}

fn build_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let dir = match args {
        [] => std::path::PathBuf::from("src/bpf"),
        [d] if !d.starts_with('-') => std::path::PathBuf::from(d),
        _ => return Err(CliError::Usage("build: takes at most one directory".into())),
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| CliError::File {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut sources: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.c"))
        .collect();
    sources.sort();
    if sources.is_empty() {
        return Err(CliError::Usage(format!(
            "build: no *.bpf.c in {}",
            dir.display()
        )));
    }
    for src in sources {
        let stem = src
            .file_name()
            .map(|f| f.to_string_lossy().trim_end_matches(".bpf.c").to_owned())
            .unwrap_or_default();
        let skel = dir.join(format!("{stem}.skel.rs"));
        crate::Builder::new(&src)
            .object_out(dir.join(format!("{stem}.bpf.o")))
            .generate_to(&skel)?;
        writeln!(out, "{} -> {}", src.display(), skel.display())?;
    }
    Ok(())
}

fn load_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut path = None;
    let mut pin_root = None;
    let mut sizes: Vec<(String, u32)> = Vec::new();
    let mut keep_pins = false;
    let mut args = Args::new("load", args);
    while let Some(arg) = args.next() {
        match arg {
            "--pin-root" => pin_root = Some(args.value("--pin-root")?),
            "--keep-pins" => keep_pins = true,
            "--max-entries" => {
                let bad = || CliError::Usage("load: --max-entries needs MAP=N".into());
                let v = args.next().ok_or_else(bad)?;
                let (map, n) = v.split_once('=').ok_or_else(bad)?;
                let n = n.parse().map_err(|_| {
                    CliError::Usage(format!("load: --max-entries {v}: `{n}` is not a number"))
                })?;
                sizes.push((map.to_owned(), n));
            }
            other => args.positional(other, &mut path)?,
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("load: missing OBJ".into()))?;
    let mut open = bpf2rs::load::OpenObject::open_file(&path)?;
    if let Some(root) = pin_root {
        open.set_pin_root(root);
    }
    for (map, n) in sizes {
        open.map_mut(&map)
            .ok_or_else(|| {
                CliError::Usage(format!("load: --max-entries: no map `{map}` in {path}"))
            })?
            .set_max_entries(n);
    }
    let obj = open.load()?;
    report_loaded(&obj, out)?;
    // Pins by name outlive the process: a report should leave none behind.
    for pin in obj.new_pins() {
        if keep_pins {
            writeln!(out, "  pinned {} (kept: --keep-pins)", pin.display())?;
        } else {
            bpf2rs::map::unpin(pin).map_err(|e| CliError::File {
                path: pin.display().to_string(),
                message: format!("removing the pin this load made: {e}"),
            })?;
            writeln!(
                out,
                "  unpinned {} (made by this load; --keep-pins keeps it)",
                pin.display()
            )?;
        }
    }
    Ok(())
}

/// What `load` created and loaded: maps, data and struct_ops maps,
/// programs with their CO-RE relocations, and the loader's notes.
fn report_loaded(obj: &bpf2rs::load::Object, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "loaded {}", obj.name())?;
    // One name column for maps, data and programs ("map " is one byte
    // shorter than "data " and "prog ").
    let longest = (obj.maps().iter().map(|m| m.name().len()))
        .chain(obj.data_maps().iter().map(|d| d.section.len()))
        .chain(obj.programs().iter().map(|p| p.name().len()))
        .chain(obj.struct_ops_maps().iter().map(|o| o.name().len()))
        .max()
        .unwrap_or(0);
    let w = longest.max(19);
    for m in obj.maps() {
        let i = m.info();
        writeln!(
            out,
            "  map {:<w1$} {:<16} id {:<6} key {} value {} max {}",
            m.name(),
            // Display of the kind enums ignores width: pad the text.
            i.map_type.to_string(),
            i.id,
            i.key_size,
            i.value_size,
            i.max_entries,
            w1 = w + 1,
        )?;
    }
    for d in obj.data_maps() {
        let i = d.map.info();
        writeln!(
            out,
            "  data {:<w$} {:<16} id {:<6} {} bytes",
            d.section,
            i.map_type.to_string(),
            i.id,
            i.value_size
        )?;
    }
    // struct_ops maps are created, not registered: `load` leaves nothing
    // behind.
    for o in obj.struct_ops_maps() {
        let i = o.map().info();
        writeln!(
            out,
            "  ops  {:<w$} {:<16} id {:<6} struct {}, {}",
            o.name(),
            i.map_type.to_string(),
            i.id,
            o.type_name(),
            if o.is_link() {
                "registers through a link"
            } else {
                "registers by map update"
            }
        )?;
    }
    for p in obj.programs() {
        let id = p.id().map(|i| i.to_string()).unwrap_or_else(|_| "-".into());
        writeln!(
            out,
            "  prog {:<w$} {:<16} id {}",
            p.name(),
            p.prog_type().to_string(),
            id
        )?;
        for c in obj.core_relocations(p.name()) {
            let r = &c.resolution;
            let result = if r.poison || r.fail_memsz_adjust {
                "poisoned".to_owned()
            } else {
                format!("{} -> {}", r.orig_val, r.new_val)
            };
            writeln!(
                out,
                "    core insn {:<5} {:<60} {} {}",
                c.insn,
                r.description,
                result,
                r.target.as_deref().unwrap_or("")
            )?;
        }
    }
    for n in obj.notes() {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// `header [BTF_OR_OBJ] [--base BTF] [-o FILE]`: the C header of every type.
fn header_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    let mut path = None;
    let mut output = None;
    let mut base = None;
    let mut args = Args::new("header", args);
    while let Some(arg) = args.next() {
        match arg {
            "-o" | "--output" => output = Some(args.value("-o")?),
            "--base" => base = Some(args.value("--base")?),
            other => args.positional(other, &mut path)?,
        }
    }
    let path = path.unwrap_or_else(|| "/sys/kernel/btf/vmlinux".to_owned());
    let btf = crate::c_header::read_btf_source(
        std::path::Path::new(&path),
        base.as_deref().map(std::path::Path::new),
    )
    .map_err(|e| CliError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let text = crate::c_header::generate(&btf).map_err(|e| CliError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_output(output.as_deref(), text.as_bytes(), out)
}

/// `compat OBJ [--kernel X.Y] [--json]`: the report; exit status 1 when the
/// object would not load.
fn compat_cmd(args: &[String], out: &mut dyn Write) -> Result<(), CliError> {
    use crate::compat::{self, KernelVersion};
    let mut path = None;
    let mut kernel = None;
    let mut json = false;
    let mut args = Args::new("compat", args);
    while let Some(arg) = args.next() {
        match arg {
            "--json" => json = true,
            "--kernel" => {
                let v = args.value("--kernel")?;
                let version = KernelVersion::parse(&v).ok_or_else(|| {
                    CliError::Usage(format!("compat: --kernel takes X.Y, got `{v}`"))
                })?;
                kernel = Some(version);
            }
            other => args.positional(other, &mut path)?,
        }
    }
    let path = path.ok_or_else(|| CliError::Usage("compat: missing OBJ".into()))?;
    let spec = ObjectSpec::from_file(&path)?;
    let report = match kernel {
        Some(v) => compat::check(&spec, &compat::VersionFacts::new(v)),
        None => compat::check(&spec, &compat::RunningKernel::new()),
    };
    if json {
        let text = serde_json::to_string_pretty(&compat::to_json(&report))
            .map_err(std::io::Error::other)?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(compat::to_text(&report).as_bytes())?;
    }
    if report.loads {
        Ok(())
    } else {
        Err(CliError::WouldNotLoad(format!(
            "{path} would not load on {}",
            report.kernel
        )))
    }
}

/// Writes a command's result to `-o FILE`, or else to `out`.
fn write_output(output: Option<&str>, bytes: &[u8], out: &mut dyn Write) -> Result<(), CliError> {
    match output {
        Some(o) => std::fs::write(o, bytes).map_err(|e| CliError::File {
            path: o.to_owned(),
            message: e.to_string(),
        })?,
        None => out.write_all(bytes)?,
    }
    Ok(())
}

/// One command's arguments, read in order; its errors name the command.
struct Args<'a> {
    cmd: &'static str,
    rest: std::slice::Iter<'a, String>,
}

impl<'a> Args<'a> {
    fn new(cmd: &'static str, args: &'a [String]) -> Args<'a> {
        Args {
            cmd,
            rest: args.iter(),
        }
    }

    /// The value after `flag`.
    fn value(&mut self, flag: &str) -> Result<String, CliError> {
        self.rest
            .next()
            .cloned()
            .ok_or_else(|| CliError::Usage(format!("{}: {flag} needs a value", self.cmd)))
    }

    /// `arg`, which no option took: the command's positional argument if
    /// `slot` is still empty; else an error.
    fn positional(&self, arg: &str, slot: &mut Option<String>) -> Result<(), CliError> {
        let cmd = self.cmd;
        if arg.starts_with('-') {
            return Err(CliError::Usage(format!("{cmd}: unknown option `{arg}`")));
        }
        if slot.is_some() {
            return Err(CliError::Usage(format!(
                "{cmd}: unexpected argument `{arg}`"
            )));
        }
        *slot = Some(arg.to_owned());
        Ok(())
    }
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.rest.next().map(String::as_str)
    }
}
