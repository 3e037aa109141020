//! {{name}}: runs a command with probes on libc's `malloc()` and reports, when
//! it ends, how often it called malloc, for how many bytes and how long
//! malloc took. Needs root.
//!
//! `{{name}} COMMAND [ARGS...]`

/// The typed skeleton `build.rs` generated from `src/bpf/{{obj}}.bpf.c`.
mod skel {
    include!(concat!(env!("OUT_DIR"), "/{{obj}}.skel.rs"));
}

/// The program's name, for its messages.
const NAME: &str = env!("CARGO_PKG_NAME");

use std::process::{Command, ExitCode};

use skel::{{Skel}};

fn run(command: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [program, args @ ..] = command else {
        return Err(format!("usage: {NAME} COMMAND [ARGS...]").into());
    };
    let mut skel = {{Skel}}::open()?.load()?;
    // Both programs, where their sections say: libc.so.6's malloc, in every
    // process (the map tells them apart).
    skel.attach()?;
    eprintln!("{NAME}: attached malloc_enter and malloc_exit to libc's malloc");

    let mut child = Command::new(program).args(args).spawn()?;
    let pid = child.id();
    let status = child.wait()?;
    match skel.maps.totals.get(&pid)? {
        None => eprintln!("{NAME}: {program} (pid {pid}, {status}): no malloc calls"),
        Some(t) => eprintln!(
            "{NAME}: {program} (pid {pid}, {status}): {} malloc calls for {} bytes, \
             {} us in malloc, the slowest call {} ns",
            t.calls,
            t.bytes,
            t.nanos / 1000,
            t.slowest
        ),
    }
    Ok(())
}

fn main() -> ExitCode {
    let command: Vec<String> = std::env::args().skip(1).collect();
    match run(&command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}
