//! The Rust bpf2rs generates for every fixture, compiled under
//! `deny(warnings)`: building this crate checks that the output compiles,
//! is warning-free and passes its own compile-time layout assertions.

#![deny(warnings)]
// Generated code: its `unsafe impl Pod` carries no comment (prettyplease
// drops comments); the layout checks next to each impl are what make it sound.
#![allow(clippy::undocumented_unsafe_blocks)]

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
