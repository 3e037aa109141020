//! What the running kernel supports, found by trying it: a tiny program is
//! loaded or a small map created (and sometimes attached where it must
//! fail in a telling way), as libbpf does (tools/lib/bpf/libbpf_probes.c
//! and features.c) and bpftool's `feature probe` reports. Each probe runs
//! once per process; its answer is cached.
//!
//! In: nothing but the running kernel. Out: a [`Support`] per program
//! type, map type, helper per program type and loader feature, or a
//! `bool` for the probes the loader asks. Nothing a probe creates outlives
//! the call.
//!
//! A probe that cannot run (no privilege to load a program or create a
//! map: EPERM) answers [`Support::Unknown`], never "no": an unprivileged
//! report says which probes could not run. The `bool` probes the loader
//! asks ([`has_uprobe_multi_link`], [`has_bpf_cookie`]) answer `false`
//! then, like libbpf's.
//!
//! The loader and the attach functions ask these, so that an object written
//! for a new kernel still loads and attaches on an older one where libbpf's
//! would: `usdt` programs get per-site uprobes instead of one `uprobe_multi`
//! link before Linux 6.6, and `<bpf/usdt.bpf.h>` finds its spec by
//! instruction pointer instead of BPF cookie before Linux 5.15.
//!
//! ```no_run
//! use bpf2rs::obj::{MapType, ProgType};
//! use bpf2rs::probe::{self, Support};
//!
//! if probe::map_type_supported(MapType::RINGBUF) == Support::Yes {
//!     println!("ring buffers");
//! }
//! if !probe::prog_type_supported(ProgType::XDP).is_yes() {
//!     println!("no XDP here (or not allowed to ask)");
//! }
//! println!("BTF: {}", probe::features().btf);
//! ```

mod btf;
mod features;
mod helper_names;
mod helpers;
mod links;
mod map_types;
mod prog;
mod prog_types;

use std::fmt;
use std::sync::OnceLock;

use crate::sys::SysError;

pub use features::{btf_support, features, has_mmapable_arrays, Features};
pub use helper_names::{helper_id, helper_name, HELPER_ID_MAX};
pub use helpers::{helper_supported, supported_helpers, HelperSet, HELPERS_PROBED_ON_REQUEST};
pub use links::{has_bpf_cookie, has_perf_link, has_tcx_link, has_uprobe_multi_link};
pub use map_types::map_type_supported;
pub use prog_types::prog_type_supported;

/// A probe's answer: the kernel has it, has not, or the probe could not
/// run (no privilege, or a kind this crate cannot probe).
///
/// ```
/// use bpf2rs::probe::Support;
///
/// assert_eq!(Support::Unknown.as_option(), None);
/// assert_eq!(Support::from(true), Support::Yes);
/// assert_eq!(Support::No.to_string(), "no");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Support {
    /// The kernel has it.
    Yes,
    /// The kernel refused it in the way a kernel without it does.
    No,
    /// The probe could not run: no privilege (EPERM), or a program or map
    /// type this crate does not know how to probe.
    Unknown,
}

impl Support {
    /// Whether the answer is [`Support::Yes`].
    pub fn is_yes(self) -> bool {
        self == Support::Yes
    }

    /// `Some(answer)`, or `None` when the probe could not run.
    pub fn as_option(self) -> Option<bool> {
        match self {
            Support::Yes => Some(true),
            Support::No => Some(false),
            Support::Unknown => None,
        }
    }

    /// `"yes"`, `"no"` or `"could not probe"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Support::Yes => "yes",
            Support::No => "no",
            Support::Unknown => "could not probe",
        }
    }

    /// The answer to a probe whose `Ok` is yes or no and whose error is
    /// either "no privilege" ([`Support::Unknown`]) or a refusal.
    fn of(r: Result<bool, SysError>) -> Support {
        match r {
            Ok(b) => Support::from(b),
            Err(e) if lacks_privilege(&e) => Support::Unknown,
            Err(_) => Support::No,
        }
    }
}

impl From<bool> for Support {
    fn from(b: bool) -> Support {
        if b {
            Support::Yes
        } else {
            Support::No
        }
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the kernel refused a probe for want of privilege rather than
/// of the feature: EPERM from the capability checks of BPF_PROG_LOAD and
/// BPF_MAP_CREATE (kernel/bpf/syscall.c), EACCES from an LSM's. Neither
/// says anything about the feature.
fn lacks_privilege(e: &SysError) -> bool {
    matches!(e.errno(), Some(libc::EPERM | libc::EACCES))
}

/// `cell`'s answer, or `probe`'s, kept when it is one (an error, meaning
/// the probe could not tell, is returned and asked again next time).
fn cached(
    cell: &OnceLock<bool>,
    probe: impl FnOnce() -> Result<bool, SysError>,
) -> Result<bool, SysError> {
    if let Some(&known) = cell.get() {
        return Ok(known);
    }
    let answer = probe()?;
    Ok(*cell.get_or_init(|| answer))
}

/// `cell`'s answer, or `probe`'s, kept unless it is [`Support::Unknown`]
/// (a probe that could not run may run later, e.g. after the process got
/// the capability).
fn cached_support(cell: &OnceLock<Support>, probe: impl FnOnce() -> Support) -> Support {
    if let Some(&known) = cell.get() {
        return known;
    }
    match probe() {
        Support::Unknown => Support::Unknown,
        answer => *cell.get_or_init(|| answer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_privilege_is_unknown_and_other_refusals_are_no() {
        let err = |errno| SysError {
            op: "BPF_PROG_LOAD",
            source: std::io::Error::from_raw_os_error(errno),
        };
        assert_eq!(Support::of(Err(err(libc::EPERM))), Support::Unknown);
        assert_eq!(Support::of(Err(err(libc::EACCES))), Support::Unknown);
        assert_eq!(Support::of(Err(err(libc::EINVAL))), Support::No);
        assert_eq!(Support::of(Ok(true)), Support::Yes);
    }

    #[test]
    fn an_unknown_answer_is_not_cached() {
        let cell = OnceLock::new();
        assert_eq!(cached_support(&cell, || Support::Unknown), Support::Unknown);
        assert_eq!(cached_support(&cell, || Support::No), Support::No);
        assert_eq!(cached_support(&cell, || Support::Yes), Support::No);
    }
}
