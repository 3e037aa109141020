//! Fuzzes the USDT note reader (`.note.stapsdt` of an ELF executable or
//! library) and the argument-string decoder on every note it returns, plus
//! the decoder alone on the raw input as text.
#![no_main]

use bpf2rs::link::{parse_usdt_args, usdt_notes_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(notes) = usdt_notes_in(data) {
        for n in &notes {
            let _ = parse_usdt_args(&n.args);
            let _ = format!("{n:?}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_usdt_args(text);
    }
});
