//! The Rust bpf2rs generates for every fixture, compiled under
//! `deny(warnings)`: building this crate checks that the output compiles,
//! is warning-free and passes its own compile-time layout assertions.

#![deny(warnings)]
// Generated code: its `unsafe impl Pod` carries no comment (prettyplease
// drops comments) and `layouts::LAYOUTS` has a complex type and `x * 8 + 0`.
#![allow(
    clippy::undocumented_unsafe_blocks,
    clippy::type_complexity,
    clippy::identity_op
)]

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
