//! opensnoop with tokio: the same events, read by an `AsyncRingBuf` in a
//! task (the `tokio` feature of bpf2rs), with a timer beside it. Needs root.
//!
//! `opensnoop-async [--pid PID] [--name TEXT] [--count N] [--timeout SECS]`

use std::process::ExitCode;
use std::time::Duration;

use bpf2rs::ringbuf::AsyncRingBuf;
use opensnoop::{load_and_attach, summary, Options, Printer};

async fn run(opts: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let skel = load_and_attach(opts)?;
    // A handle of our own on the skeleton's ring buffer, for AsyncFd.
    let mut events = AsyncRingBuf::new(skel.maps.events.try_clone()?)?;
    let mut printer = Printer::new(opts);
    while !printer.done() {
        // Either records arrive or 100 ms pass (to check the timeout).
        let poll = events.poll(|e| printer.event(e));
        if let Ok(result) = tokio::time::timeout(Duration::from_millis(100), poll).await {
            result?;
        }
    }
    summary(&skel)
}

fn main() -> ExitCode {
    let result = Options::from_args().map_err(Into::into).and_then(|opts| {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?
            .block_on(run(&opts))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opensnoop-async: {e}");
            ExitCode::FAILURE
        }
    }
}
