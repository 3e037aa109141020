//! opensnoop: prints every openat(2) on the machine (or of one process)
//! from a BPF ring buffer, waiting with epoll. Needs root.
//!
//! `opensnoop [--pid PID] [--name TEXT] [--count N] [--timeout SECS]`

use std::process::ExitCode;
use std::time::Duration;

use opensnoop::{load_and_attach, summary, Options, Printer};

fn run(opts: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let mut skel = load_and_attach(opts)?;
    let mut printer = Printer::new(opts);
    while !printer.done() {
        // Wakes at least every 100 ms to check the timeout.
        skel.maps
            .events
            .poll(Duration::from_millis(100), |e| printer.event(e))?;
    }
    summary(&skel)
}

fn main() -> ExitCode {
    let result = Options::from_args()
        .map_err(Into::into)
        .and_then(|opts| run(&opts));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opensnoop: {e}");
            ExitCode::FAILURE
        }
    }
}
