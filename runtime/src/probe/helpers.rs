//! Helpers per program type: `call <helper>; exit` loaded as the type, the
//! verifier's log read for its "no such helper here" messages, as libbpf's
//! `libbpf_probe_bpf_helper` (tools/lib/bpf/libbpf_probes.c).
//!
//! In: a program type (and a helper id). Out: a [`HelperSet`] with an
//! answer for every helper, probed all at once the first time a type is
//! asked about and cached for the process.

use std::sync::OnceLock;

use super::helper_names::HELPER_ID_MAX;
use super::prog::{call, exit, load_with, log_text, LoadAttrs, LOG_SIZE};
use super::prog_types::{prog_type_supported, type_probe, PROG_TYPE_MAX};
use super::{lacks_privilege, Support};
use crate::btf::{Btf, Kind};
use crate::obj::{AttachType, ProgType};

/// What the verifier says of a helper it will not let a program call: an
/// id it does not know ("invalid func unknown#212"), or one the program's
/// type may not use ("unknown func bpf_sys_bpf#166" before Linux 6.10,
/// "program of this type cannot use helper bpf_sys_bpf#166" since;
/// kernel/bpf/verifier.c `check_helper_call`). Any other outcome (loaded,
/// or refused over the call's arguments) means the helper is there.
const REFUSALS: [&str; 3] = [
    "invalid func ",
    "unknown func ",
    "program of this type cannot use helper ",
];

/// Helpers whose lookup by the verifier writes to the kernel log: the
/// trace_printk pair sets up the trace_printk buffers with a banner, and
/// probe_write_user warns. A type's set leaves them unprobed (like
/// bpftool without `full`); [`helper_supported`] probes them one at a
/// time when asked, which a program that calls them does anyway.
pub const HELPERS_PROBED_ON_REQUEST: [u32; 3] = [
    6,   // bpf_trace_printk
    36,  // bpf_probe_write_user
    177, // bpf_trace_vprintk
];

/// The answer for every helper for one program type.
///
/// ```no_run
/// use bpf2rs::obj::ProgType;
///
/// let xdp = bpf2rs::probe::supported_helpers(ProgType::XDP);
/// for id in xdp.ids(bpf2rs::probe::Support::Yes) {
///     println!("{}", bpf2rs::probe::helper_name(id).unwrap_or("?"));
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelperSet {
    prog_type: ProgType,
    /// By helper id; index 0 (no helper) is [`Support::No`].
    answers: Vec<Support>,
}

impl HelperSet {
    fn all(prog_type: ProgType, answer: Support) -> HelperSet {
        let mut answers = vec![answer; HELPER_ID_MAX as usize + 1];
        answers[0] = Support::No;
        HelperSet { prog_type, answers }
    }

    /// The program type the answers are for.
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// The answer for helper `id` ([`Support::Unknown`] past
    /// [`super::HELPER_ID_MAX`]).
    pub fn get(&self, id: u32) -> Support {
        self.answers
            .get(id as usize)
            .copied()
            .unwrap_or(Support::Unknown)
    }

    /// Every helper id (from 1) with its answer.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Support)> + '_ {
        (1..self.answers.len()).map(|i| (i as u32, self.answers[i]))
    }

    /// The ids whose answer is `answer`, in order.
    pub fn ids(&self, answer: Support) -> impl Iterator<Item = u32> + '_ {
        self.iter()
            .filter(move |&(_, a)| a == answer)
            .map(|(i, _)| i)
    }
}

/// Every helper's answer for `prog_type`: each helper id is called from a
/// program of the type; the ones the verifier refuses as unknown to the
/// type are [`Support::No`]. The whole type is probed on the first call
/// (one program load per helper, about 200) and cached.
///
/// All [`Support::No`] when the type itself is not supported; all
/// [`Support::Unknown`] when it could not be probed, and for `ext` and
/// `struct_ops` programs, which cannot load without a target program or
/// struct (libbpf does not probe them either). `tracing` and `lsm`
/// programs are probed as fentry on `bpf_fentry_test1` and as an lsm hook
/// on `file_open`, found in the kernel's BTF. The helpers that write to the
/// kernel log when looked up (`bpf_trace_printk`, `bpf_trace_vprintk`,
/// `bpf_probe_write_user`) are [`Support::Unknown`] here;
/// [`helper_supported`] probes them on request.
///
/// ```no_run
/// use bpf2rs::obj::ProgType;
/// use bpf2rs::probe::Support;
///
/// let set = bpf2rs::probe::supported_helpers(ProgType::KPROBE);
/// println!("{} helpers for kprobes", set.ids(Support::Yes).count());
/// ```
pub fn supported_helpers(prog_type: ProgType) -> HelperSet {
    match cached_set(prog_type) {
        Ok(set) => set.clone(),
        Err(answer) => HelperSet::all(prog_type, answer),
    }
}

/// Whether programs of `prog_type` may call helper `helper_id` (an `enum
/// bpf_func_id` value; [`super::helper_id`] finds it by name), like
/// libbpf's `libbpf_probe_bpf_helper`. The first question about a type
/// probes all its helpers ([`supported_helpers`]); later ones are lookups.
///
/// ```no_run
/// use bpf2rs::obj::ProgType;
/// use bpf2rs::probe;
///
/// let id = probe::helper_id("bpf_xdp_adjust_tail").unwrap();
/// println!("{}", probe::helper_supported(ProgType::XDP, id));
/// ```
pub fn helper_supported(prog_type: ProgType, helper_id: u32) -> Support {
    if helper_id == 0 || helper_id > HELPER_ID_MAX {
        return if helper_id == 0 {
            Support::No
        } else {
            Support::Unknown
        };
    }
    let set = match cached_set(prog_type) {
        Ok(set) => set,
        Err(answer) => return answer,
    };
    match HELPERS_PROBED_ON_REQUEST
        .iter()
        .position(|&n| n == helper_id)
    {
        Some(slot) => noisy(prog_type, slot),
        None => set.get(helper_id),
    }
}

/// The cached set of a type the probe could run for, or the one answer
/// for all its helpers (not cached when it is [`Support::Unknown`]).
fn cached_set(prog_type: ProgType) -> Result<&'static HelperSet, Support> {
    static SETS: [OnceLock<HelperSet>; PROG_TYPE_MAX as usize + 1] =
        [const { OnceLock::new() }; PROG_TYPE_MAX as usize + 1];
    let cell = SETS.get(prog_type.0 as usize).ok_or(Support::Unknown)?;
    if let Some(set) = cell.get() {
        return Ok(set);
    }
    let attrs = helper_load_attrs(prog_type)?;
    let set = probe_all(prog_type, &attrs)?;
    Ok(cell.get_or_init(|| set))
}

/// How programs of `prog_type` that call helpers are loaded, or the answer
/// for all helpers when they cannot be.
fn helper_load_attrs(prog_type: ProgType) -> Result<LoadAttrs, Support> {
    match prog_type_supported(prog_type) {
        Support::Yes => {}
        other => return Err(other),
    }
    match prog_type {
        ProgType::EXT | ProgType::STRUCT_OPS => Err(Support::Unknown),
        ProgType::TRACING => btf_target(prog_type, AttachType::TRACE_FENTRY, "bpf_fentry_test1"),
        ProgType::LSM => btf_target(prog_type, AttachType::LSM_MAC, "bpf_lsm_file_open"),
        _ => type_probe(prog_type)
            .map(|p| p.attrs)
            .ok_or(Support::Unknown),
    }
}

/// Load attributes for a program attached by BTF id to kernel function
/// `function`.
fn btf_target(
    prog_type: ProgType,
    attach: AttachType,
    function: &str,
) -> Result<LoadAttrs, Support> {
    let vmlinux = Btf::from_sys_fs().map_err(|_| Support::Unknown)?;
    let id = vmlinux
        .find_by_name(function, Kind::Func)
        .map_err(|_| Support::Unknown)?;
    Ok(LoadAttrs {
        attach_btf_id: id.0,
        ..LoadAttrs::of(prog_type).attach(attach)
    })
}

/// Probes every helper but the noisy ones.
fn probe_all(prog_type: ProgType, attrs: &LoadAttrs) -> Result<HelperSet, Support> {
    let mut set = HelperSet::all(prog_type, Support::Unknown);
    let mut log = vec![0u8; LOG_SIZE];
    for id in 1..=HELPER_ID_MAX {
        if HELPERS_PROBED_ON_REQUEST.contains(&id) {
            continue;
        }
        let answer = probe_one(attrs, id, &mut log);
        if answer == Support::Unknown {
            // Not allowed after all: nothing to cache.
            return Err(Support::Unknown);
        }
        set.answers[id as usize] = answer;
    }
    Ok(set)
}

/// Loads `call <id>; exit` and reads the verdict.
fn probe_one(attrs: &LoadAttrs, id: u32, log: &mut [u8]) -> Support {
    let insns = [call(id as i32), exit()];
    match load_with(attrs, "", &insns, log) {
        Ok(_prog) => Support::Yes,
        Err(_) if REFUSALS.iter().any(|r| log_text(log).contains(r)) => Support::No,
        // Refused before the verifier ran (no log): no privilege.
        Err(e) if lacks_privilege(&e) && log_text(log).is_empty() => Support::Unknown,
        // Refused over the call's arguments or return value: the
        // verifier knows the helper for this type.
        Err(_) => Support::Yes,
    }
}

/// The answer for noisy helper `HELPERS_PROBED_ON_REQUEST[slot]`, probed alone.
fn noisy(prog_type: ProgType, slot: usize) -> Support {
    static CACHE: [[OnceLock<Support>; HELPERS_PROBED_ON_REQUEST.len()];
        PROG_TYPE_MAX as usize + 1] =
        [const { [const { OnceLock::new() }; HELPERS_PROBED_ON_REQUEST.len()] };
            PROG_TYPE_MAX as usize + 1];
    let Some(cell) = CACHE.get(prog_type.0 as usize).map(|c| &c[slot]) else {
        return Support::Unknown;
    };
    super::cached_support(cell, || match helper_load_attrs(prog_type) {
        Ok(attrs) => probe_one(
            &attrs,
            HELPERS_PROBED_ON_REQUEST[slot],
            &mut vec![0u8; LOG_SIZE],
        ),
        Err(answer) => answer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{helper_id, helper_name};

    #[test]
    fn the_noisy_helpers_are_the_ones_named() {
        let names: Vec<_> = HELPERS_PROBED_ON_REQUEST
            .iter()
            .filter_map(|&id| helper_name(id))
            .collect();
        assert_eq!(
            names,
            [
                "bpf_trace_printk",
                "bpf_probe_write_user",
                "bpf_trace_vprintk"
            ]
        );
        assert_eq!(helper_id("bpf_trace_vprintk"), Some(177));
    }

    #[test]
    fn a_set_answers_unknown_past_its_ids() {
        let set = HelperSet::all(ProgType::XDP, Support::Yes);
        assert_eq!(set.get(0), Support::No);
        assert_eq!(set.get(1), Support::Yes);
        assert_eq!(set.get(HELPER_ID_MAX + 1), Support::Unknown);
        assert_eq!(set.ids(Support::Yes).count(), HELPER_ID_MAX as usize);
    }
}
