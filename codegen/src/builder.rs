//! `Builder`: skeleton generation from build.rs.
//!
//! In: a `.bpf.c` (compiled with clang here) or a `.bpf.o`, and options.
//! Out: the skeleton file, plus `cargo:rerun-if-changed` lines for the
//! source, every header it included (from clang's depfile) and the object
//! (`$OUT_DIR/NAME.bpf.o` unless `object_out` says otherwise; that is the
//! path `#[bpf2rs(btf = "$OUT_DIR/NAME.bpf.o")]` checks a type against).
//!
//! ```no_run
//! // build.rs
//! let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
//! bpf2rs_codegen::Builder::new("src/bpf/counter.bpf.c")
//!     .generate_to(out.join("counter.skel.rs"))
//!     .unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;

use bpf2rs_reader::obj::ObjectSpec;

use crate::skel::{self, SkelError, SkelOptions};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(
        "{source_file}: no clang found (tried {tried}); install clang-19 or set Builder::clang"
    )]
    NoClang { source_file: String, tried: String },
    #[error("{source_file}: clang failed ({status}):\n{stderr}")]
    Clang {
        source_file: String,
        status: String,
        stderr: String,
    },
    #[error(transparent)]
    Object(#[from] bpf2rs_reader::obj::ObjError),
    #[error(transparent)]
    Skeleton(#[from] SkelError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("generating vmlinux.h: {0}")]
    Header(#[from] crate::c_header::HeaderError),
}

/// Generates a typed skeleton from build.rs (or anywhere).
#[derive(Debug, Clone)]
pub struct Builder {
    source: PathBuf,
    clang: Option<PathBuf>,
    clang_args: Vec<String>,
    object_out: Option<PathBuf>,
    opts: SkelOptions,
    print_cargo: bool,
    /// BTF to generate vmlinux.h from, if any.
    vmlinux_btf: Option<PathBuf>,
}

impl Builder {
    /// From a `.bpf.c` source (compiled with clang) or a compiled `.bpf.o`.
    pub fn new(source: impl Into<PathBuf>) -> Builder {
        Builder {
            source: source.into(),
            clang: None,
            clang_args: Vec::new(),
            object_out: None,
            opts: SkelOptions::default(),
            print_cargo: std::env::var_os("OUT_DIR").is_some(),
            vmlinux_btf: None,
        }
    }

    /// The clang to use (default: `clang-19`, then `clang`, on PATH).
    pub fn clang(mut self, clang: impl Into<PathBuf>) -> Builder {
        self.clang = Some(clang.into());
        self
    }

    /// Extra clang arguments (include paths, defines).
    pub fn clang_args<I, S>(mut self, args: I) -> Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clang_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Where the compiled object goes (default: OUT_DIR, or beside the output).
    pub fn object_out(mut self, path: impl Into<PathBuf>) -> Builder {
        self.object_out = Some(path.into());
        self
    }

    /// Types ring buffer `map`'s records as C type `c_type`.
    pub fn ringbuf_event(mut self, map: &str, c_type: &str) -> Builder {
        self.opts
            .ringbuf_events
            .push((map.to_owned(), c_type.to_owned()));
        self
    }

    /// Types perf event array `map`'s records as C type `c_type`
    /// (`skel.maps.<map>` becomes `PerfEventArray<types::c_type>`; without
    /// it, the raw `PerfEventArray` hands out byte slices).
    pub fn perf_event(mut self, map: &str, c_type: &str) -> Builder {
        self.opts
            .perf_events
            .push((map.to_owned(), c_type.to_owned()));
        self
    }

    /// Names the key and value C types of a map that has only sizes.
    pub fn map_types(mut self, map: &str, key: &str, value: &str) -> Builder {
        self.opts
            .map_types
            .push((map.to_owned(), key.to_owned(), value.to_owned()));
        self
    }

    /// Uses your own Rust types for a map's key and value (paths as written
    /// in the crate that includes the skeleton, e.g. `crate::FlowKey`; an
    /// empty string keeps the generated type). The types must be
    /// [`bpf2rs::Pod`]; their sizes are checked against the map's when the
    /// skeleton compiles.
    ///
    /// ```no_run
    /// bpf2rs_codegen::Builder::new("src/bpf/flows.bpf.c")
    ///     .map_rust_types("pairs", "", "crate::Pair")
    ///     .generate_to("flows.skel.rs")
    ///     .unwrap();
    /// ```
    pub fn map_rust_types(mut self, map: &str, key: &str, value: &str) -> Builder {
        self.opts
            .rust_map_types
            .push((map.to_owned(), key.to_owned(), value.to_owned()));
        self
    }

    /// Suffix duplicate type names with their BTF id instead of failing.
    pub fn rename_duplicates(mut self, yes: bool) -> Builder {
        self.opts.rename_duplicates = yes;
        self
    }

    /// Compiles (if needed) and writes the skeleton to `out`.
    pub fn generate_to(mut self, out: impl AsRef<Path>) -> Result<(), BuildError> {
        let out = out.as_ref();
        let object = if self.source.extension().is_some_and(|e| e == "c") {
            self.compile(out)?
        } else {
            self.cargo_rerun(&self.source);
            self.source.clone()
        };
        let spec = ObjectSpec::from_file(&object)?;
        self.opts.object_path = std::fs::canonicalize(&object).map_err(|e| io_err(&object, e))?;
        let code = skel::generate(&spec, &self.opts)?;
        // Rewrite only when the text changes, so dependants do not rebuild.
        if std::fs::read(out).ok().as_deref() != Some(code.as_bytes()) {
            std::fs::write(out, code).map_err(|e| io_err(out, e))?;
        }
        Ok(())
    }

    fn cargo_rerun(&self, path: &Path) {
        if self.print_cargo {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    fn compile(&self, out: &Path) -> Result<PathBuf, BuildError> {
        let src = &self.source;
        let stem = src
            .file_name()
            .map(|f| {
                f.to_string_lossy()
                    .trim_end_matches(".c")
                    .trim_end_matches(".bpf")
                    .to_owned()
            })
            .unwrap_or_else(|| "object".into());
        let object = match &self.object_out {
            Some(p) => p.clone(),
            None => match std::env::var_os("OUT_DIR") {
                Some(d) => PathBuf::from(d).join(format!("{stem}.bpf.o")),
                None => out.with_file_name(format!("{stem}.bpf.o")),
            },
        };
        let depfile = object.with_extension("d");
        let clang = self.find_clang()?;
        let mut cmd = Command::new(&clang);
        cmd.args(["-target", "bpf", "-O2", "-g"]);
        let arch_inc = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
        if Path::new(&arch_inc).is_dir() {
            cmd.arg(format!("-I{arch_inc}"));
        }
        cmd.args(&self.clang_args)
            .args(self.implicit_args(out)?)
            .arg("-MD")
            .arg("-MF")
            .arg(&depfile)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(&object);
        let output = cmd.output().map_err(|e| io_err(&clang, e))?;
        if !output.status.success() {
            return Err(BuildError::Clang {
                source_file: src.display().to_string(),
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        // The depfile lists the source first, then every header it read.
        let deps = read_depfile(&depfile);
        self.cargo_rerun(src);
        for dep in deps.iter().filter(|d| *d != src) {
            self.cargo_rerun(dep);
        }
        // Watch the object too, so that deleting it reruns build.rs. Cargo
        // reruns when a watched file is newer than the start of the last
        // run, so the object gets its newest input's time, not now.
        let newest = std::iter::once(src)
            .chain(&deps)
            .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .max();
        if let Some(t) = newest {
            std::fs::File::options()
                .write(true)
                .open(&object)
                .and_then(|f| f.set_modified(t))
                .map_err(|e| io_err(&object, e))?;
        }
        self.cargo_rerun(&object);
        Ok(object)
    }

    fn find_clang(&self) -> Result<PathBuf, BuildError> {
        if let Some(c) = &self.clang {
            return Ok(c.clone());
        }
        let candidates = ["clang-19", "clang"];
        for c in candidates {
            if Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return Ok(PathBuf::from(c));
            }
        }
        Err(BuildError::NoClang {
            source_file: self.source.display().to_string(),
            tried: candidates.join(", "),
        })
    }
}

impl Builder {
    /// Generates `vmlinux.h` from the running kernel's BTF
    /// (`/sys/kernel/btf/vmlinux`) into OUT_DIR (or beside the output) and
    /// puts it on clang's include path, so `#include "vmlinux.h"` needs no
    /// bpftool step. It is rewritten only when the BTF changes, and cargo
    /// is told to rerun when it does.
    ///
    /// ```no_run
    /// // build.rs
    /// let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    /// bpf2rs_codegen::Builder::new("src/bpf/tracer.bpf.c")
    ///     .vmlinux_header(true)
    ///     .generate_to(out.join("tracer.skel.rs"))
    ///     .unwrap();
    /// ```
    pub fn vmlinux_header(mut self, yes: bool) -> Builder {
        self.vmlinux_btf = yes.then(|| PathBuf::from("/sys/kernel/btf/vmlinux"));
        self
    }

    /// [`Builder::vmlinux_header`] from a given BTF file instead (raw BTF
    /// such as a saved vmlinux, or a compiled object's `.BTF`).
    ///
    /// ```no_run
    /// bpf2rs_codegen::Builder::new("src/bpf/tracer.bpf.c")
    ///     .vmlinux_header_from("btf/vmlinux-6.1")
    ///     .generate_to("tracer.skel.rs")
    ///     .unwrap();
    /// ```
    pub fn vmlinux_header_from(mut self, btf: impl Into<PathBuf>) -> Builder {
        self.vmlinux_btf = Some(btf.into());
        self
    }

    /// Arguments clang gets without being asked: the target architecture
    /// for `bpf_tracing.h` and the generated vmlinux.h's directory.
    fn implicit_args(&self, out: &Path) -> Result<Vec<String>, BuildError> {
        let mut args: Vec<String> = crate::builder_header::arch_define(&self.clang_args)
            .into_iter()
            .collect();
        if let Some(btf) = &self.vmlinux_btf {
            let dir = match std::env::var_os("OUT_DIR") {
                Some(d) => PathBuf::from(d).join("bpf2rs-vmlinux"),
                None => out.with_file_name("bpf2rs-vmlinux"),
            };
            self.cargo_rerun(btf);
            let dir = crate::builder_header::ensure_vmlinux_h(btf, &dir)?;
            args.push(format!("-I{}", dir.display()));
        }
        Ok(args)
    }
}

/// The prerequisites listed in a make-style depfile.
fn read_depfile(path: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let joined = text.replace("\\\n", " ");
    let Some((_, deps)) = joined.split_once(": ") else {
        return Vec::new();
    };
    deps.split_whitespace().map(PathBuf::from).collect()
}

fn io_err(path: &Path, e: std::io::Error) -> BuildError {
    BuildError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
