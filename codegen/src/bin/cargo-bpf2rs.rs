//! `cargo bpf2rs`: the command-line front end.
//!
//! Cargo runs `cargo-bpf2rs bpf2rs <args>`; run directly, the leading
//! `bpf2rs` is optional.

use std::process::ExitCode;

use bpf2rs_codegen::cli;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bpf2rs") {
        args.remove(0);
    }
    match cli::run(&args, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
