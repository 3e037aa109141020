//! Loads the XDP counter, feeds it packets with BPF_PROG_TEST_RUN and prints
//! what it counted, through the typed skeleton generated at build time.
//! Needs root (or CAP_BPF + CAP_NET_ADMIN).

include!(concat!(env!("OUT_DIR"), "/counter.skel.rs"));

use std::process::ExitCode;

/// An Ethernet frame carrying IPv4 with `ip_proto`, `len` bytes long.
fn ipv4_frame(ip_proto: u8, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(34)];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes()); // EtherType IPv4
    f[14] = 0x45; // version 4, IHL 5
    f[23] = ip_proto;
    f
}

/// An Ethernet frame carrying ARP.
fn arp_frame() -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
    f
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut open = CounterSkel::open()?;
    // Frames shorter than 40 bytes are only counted as too short.
    open.rodata_mut().min_len = 40;
    let skel = open.load()?;

    let frames = [
        ipv4_frame(6, 64),   // TCP
        ipv4_frame(6, 1500), // TCP
        ipv4_frame(17, 128), // UDP
        ipv4_frame(1, 98),   // ICMP
        arp_frame(),
        ipv4_frame(17, 34), // too short
    ];
    for f in &frames {
        let out = skel.progs.count.test_run(&bpf2rs::prog::TestRunInput {
            data: f,
            ..Default::default()
        })?;
        assert_eq!(out.retval, 2, "XDP_PASS");
    }

    let mut rows: Vec<(types::pkt_key, types::counters)> =
        skel.maps.stats.iter().collect::<Result<_, _>>()?;
    rows.sort_by_key(|(k, _)| (k.eth_proto, k.ip_proto));
    println!(
        "{:<10} {:<8} {:>8} {:>8}",
        "ethertype", "ip proto", "packets", "bytes"
    );
    for (k, v) in &rows {
        println!(
            "{:<#10x} {:<8} {:>8} {:>8}",
            k.eth_proto, k.ip_proto, v.packets, v.bytes
        );
    }
    let bss = skel.bss();
    println!("total {} too_short {}", bss.total, bss.too_short);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
