//! The Rust bpf2rs generates for every fixture, compiled under
//! `deny(warnings)`: building this crate checks that the output compiles,
//! is warning-free and passes its own compile-time layout assertions.

#![deny(warnings)]

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
