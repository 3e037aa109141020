//! {{name}}: counts the packets arriving on a network interface, by IP
//! protocol, with an XDP program, and prints the counts when the time is
//! up. Needs root.
//!
//! `{{name}} [--iface NAME] [--seconds N]` (default: lo for 5 seconds)

/// The typed skeleton `build.rs` generated from `src/bpf/{{obj}}.bpf.c`.
mod skel {
    include!(concat!(env!("OUT_DIR"), "/{{obj}}.skel.rs"));
}

/// The program's name, for its messages.
const NAME: &str = env!("CARGO_PKG_NAME");

use std::process::ExitCode;
use std::time::Duration;

use bpf2rs::link::{interface_index, XdpFlags};
use skel::{{Skel}};

fn parse_args() -> Result<(String, u64), String> {
    let (mut iface, mut seconds) = ("lo".to_owned(), 5);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--iface" => iface = value()?,
            "--seconds" => {
                let v = value()?;
                seconds = v
                    .parse()
                    .map_err(|_| format!("--seconds: not a number: {v}"))?;
            }
            _ => return Err(format!("usage: {NAME} [--iface NAME] [--seconds N]")),
        }
    }
    Ok((iface, seconds))
}

fn protocol_name(number: usize) -> String {
    match number {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        n => n.to_string(),
    }
}

fn run(iface: &str, seconds: u64) -> Result<(), Box<dyn std::error::Error>> {
    // Open the embedded object, then create its maps and load the program.
    let skel = {{Skel}}::open()?.load()?;
    // XDP needs an interface, so it is attached by hand. AUTO: the driver's
    // own XDP mode where it has one, else generic mode (lo has none).
    let ifindex = interface_index(iface)?;
    let link = skel
        .progs
        .count_packets
        .attach_xdp(ifindex, XdpFlags::AUTO)?;
    eprintln!("{NAME}: attached count_packets to {iface} (ifindex {ifindex}) for {seconds} s");
    std::thread::sleep(Duration::from_secs(seconds));
    // Dropping the link detaches the program.
    drop(link);

    println!("{:<10} {:>10} {:>12}", "PROTOCOL", "PACKETS", "BYTES");
    for (number, counters) in skel.maps.protocols.iter().enumerate() {
        let c = counters?;
        if c.packets > 0 {
            println!(
                "{:<10} {:>10} {:>12}",
                protocol_name(number),
                c.packets,
                c.bytes
            );
        }
    }
    println!("{:<10} {:>10}", "not IPv4", skel.bss()?.other_frames);
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args()
        .map_err(Into::into)
        .and_then(|(iface, seconds)| run(&iface, seconds));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}
