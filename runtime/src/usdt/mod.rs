//! USDT probes: the statically defined tracepoints `<sys/sdt.h>` (and
//! languages that copy its format) compile into executables and libraries.
//!
//! The protocol is libbpf's: each probe site's argument locations, decoded
//! from the `.note.stapsdt` argument string (`-4@%eax 8@-16(%rbp) 4@$5`),
//! become a spec written into the object's `__bpf_usdt_specs` array, and
//! the uprobe's BPF cookie is the spec's index, which `bpf_usdt_arg()`
//! and friends read. Without BPF cookies (before Linux 5.15) the program
//! looks the index up by the site's address in `__bpf_usdt_ip_to_spec_id`
//! instead. Spec slots are shared between links with identical specs and
//! freed when the last such link is dropped. The spec's layout is read from
//! the object's own BTF, so any header version with the same field names
//! works.
//!
//! - [`notes`]: the probe sites of an ELF file and their decoded arguments
//!   (x86-64: constants, registers, register plus offset; other
//!   architectures and index-register addressing give an error naming the
//!   argument).
//! - [`spec`]: the spec array of a loaded object, its layout and its slots,
//!   shared by the object's `usdt` programs and their links.
//!
//! Attaching is [`Program::attach_usdt`](crate::prog::Program::attach_usdt),
//! in `link/usdt.rs`.

pub(crate) mod notes;
pub(crate) mod spec;
