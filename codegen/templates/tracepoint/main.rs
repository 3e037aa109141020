//! {{name}}: prints every program started on this machine, from the
//! tracepoint `sched/sched_process_exec` through a BPF ring buffer. Needs
//! root.
//!
//! `{{name}} [--count N] [--timeout SECS]`

/// The typed skeleton `build.rs` generated from `src/bpf/{{obj}}.bpf.c`.
mod skel {
    include!(concat!(env!("OUT_DIR"), "/{{obj}}.skel.rs"));
}

/// The program's name, for its messages.
const NAME: &str = env!("CARGO_PKG_NAME");

use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpf2rs::ctypes::c_str_lossy;
use skel::{types, {{Skel}}};

/// When to stop: after `count` events or `timeout`, whichever comes first.
struct Limits {
    count: Option<u64>,
    timeout: Option<Duration>,
}

fn parse_args() -> Result<Limits, String> {
    let mut limits = Limits {
        count: None,
        timeout: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut number = || -> Result<u64, String> {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            value
                .parse()
                .map_err(|_| format!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--count" => limits.count = Some(number()?),
            "--timeout" => limits.timeout = Some(Duration::from_secs(number()?)),
            _ => return Err(format!("usage: {NAME} [--count N] [--timeout SECS]")),
        }
    }
    Ok(limits)
}

fn run(limits: &Limits) -> Result<(), Box<dyn std::error::Error>> {
    // The object build.rs embedded, parsed; nothing is in the kernel yet.
    let open = {{Skel}}::open()?;
    // Maps created, the program checked by the verifier and loaded.
    let mut skel = open.load()?;
    // Attached where its section says: tracepoint sched/sched_process_exec.
    skel.attach()?;
    eprintln!("{NAME}: attached on_exec to tracepoint sched/sched_process_exec");

    println!("{:<8} {:<8} {:<16} FILE", "PID", "PPID", "COMM");
    let started = Instant::now();
    let done = |printed: u64| {
        limits.count.is_some_and(|n| printed >= n)
            || limits.timeout.is_some_and(|t| started.elapsed() >= t)
    };
    let mut printed = 0;
    while !done(printed) {
        // Waits up to 100 ms (epoll), then hands over each record, typed.
        skel.maps
            .events
            .poll(Duration::from_millis(100), |e: &types::event| {
                println!(
                    "{:<8} {:<8} {:<16} {}",
                    e.pid,
                    e.ppid,
                    c_str_lossy(&e.comm),
                    c_str_lossy(&e.filename)
                );
                printed += 1;
                if done(printed) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })?;
    }
    let dropped = skel.bss()?.dropped;
    if dropped > 0 {
        eprintln!("{NAME}: {dropped} events dropped (the ring buffer was full)");
    }
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args()
        .map_err(Into::into)
        .and_then(|limits| run(&limits));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}
