//! Procedural macros of bpf2rs. `#[derive(Pod)]` lands with the typed-maps work.
