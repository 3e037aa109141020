//! `cargo bpf2rs compat`: what a compiled BPF object needs from a kernel,
//! since which mainline release, and whether it would load on a given
//! kernel.
//!
//! In: an [`ObjectSpec`](bpf2rs_reader::obj::ObjectSpec) and one kernel's
//! [`KernelFacts`]. Out: a [`Report`]: every [`Requirement`] with its first
//! mainline kernel ([`table`]) and its status on that kernel (ok, missing,
//! fallback when the loader works around it, unknown), the object's
//! minimum kernel, and the verdict.
//!
//! Pipeline: [`requirements`] (object -> requirements, no kernel) ->
//! [`check`] (requirements x facts -> report) -> `render` (text, JSON).
//!
//! Two kinds of facts: [`VersionFacts`] for `--kernel X.Y`, from the
//! version table alone; [`RunningKernel`] for the kernel this runs on,
//! which also reads its BTF (kfuncs, attach targets, CO-RE), its config
//! and the runtime's cached probes. Only the running kernel's verdict is
//! authoritative: distributions backport (a 4.18 RHEL kernel has ring
//! buffers), and a new kernel may still lack a feature (trampolines in some
//! virtual machines). The verdict is about requirements: a program the
//! verifier refuses for its own reasons is beyond a static look.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bpf2rs_codegen::compat::{check, to_text, RunningKernel};
//! let spec = bpf2rs_reader::obj::ObjectSpec::from_file("events.bpf.o")?;
//! let report = check(&spec, &RunningKernel::new());
//! print!("{}", to_text(&report));
//! # Ok(()) }
//! ```

mod check;
mod facts;
mod render;
mod requirements;
mod rows;
pub mod table;

pub use check::{check, Entry, Report, Status};
pub use facts::{KernelFacts, RunningKernel, VersionFacts};
pub use render::{to_json, to_text, verdict_line};
pub use requirements::{requirements, Group, Need, Requirement, Stage, TargetKind};
pub use table::{helper_name, Cite, Feature, KernelVersion, Since};
