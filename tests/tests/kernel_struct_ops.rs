//! struct_ops on the running kernel, through the Builder skeleton of
//! tests/bpf/struct_ops.bpf.o (a TCP congestion control written in BPF):
//! the skeleton creates the struct_ops maps, `attach()` registers them, a
//! loopback TCP connection selects the congestion control by name and its
//! callbacks run (counted in .bss); dropping the registration removes the
//! name from the kernel.
//!
//! - `reno_like` (`.struct_ops.link`, "bpf2rs_cc") registers through a BPF
//!   link (Linux 6.4 and later; on older kernels the test says NOT RUN).
//! - `plain_ops` (`.struct_ops`) registers by writing the map's value; the
//!   test renames it through the typed value before load.
//!
//! Kernels that refuse struct_ops for want of BPF trampolines (EPERM or
//! ENOTSUPP) make these tests say NOT RUN, never pass silently.

#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

use bpf2rs::ctypes::{c_str, c_str_array};
use bpf2rs::load::LoadError;
use bpf2rs::struct_ops::StructOpsMap;
use bpf2rs_tests::skel::struct_ops::{OpenStructOpsSkel, StructOpsSkel};
use bpf2rs_tests::{not_run, require_root};

/// The kernel-internal ENOTSUPP (524): no trampolines on this arch/config.
const ENOTSUPP: i32 = 524;
/// Bytes sent through the connection: many segments of `MSS` bytes, so the
/// sender is cwnd-limited and acks reach cong_avoid.
const SEND_BYTES: usize = 256 * 1024;
const MSS: libc::c_int = 1000;

/// Whether `errno` is a refusal of struct_ops for want of BPF trampolines.
fn trampoline_refusal(errno: Option<i32>) -> bool {
    matches!(errno, Some(libc::EPERM) | Some(ENOTSUPP))
}

/// Loads the skeleton; `None` (after a NOT RUN note) when the kernel
/// refuses struct_ops programs as a kernel without trampolines does, or
/// has no struct_ops links (before 6.4).
fn load(what: &str, open: OpenStructOpsSkel) -> Option<StructOpsSkel> {
    match open.load() {
        Ok(skel) => Some(skel),
        Err(LoadError::Verifier(v)) if trampoline_refusal(v.source.errno()) => {
            not_run(what, &format!("struct_ops programs refused: {v}"));
            None
        }
        Err(LoadError::StructOps { message, .. }) if message.contains("need Linux 6.4") => {
            not_run(what, &message);
            None
        }
        Err(e) => panic!("{what}: load: {e}"),
    }
}

/// `skel.attach()`; `false` (after a NOT RUN note) on a trampoline refusal.
fn attach(what: &str, skel: &mut StructOpsSkel) -> bool {
    match skel.attach() {
        Ok(()) => true,
        Err(e) if trampoline_refusal(e.errno()) => {
            not_run(what, &format!("struct_ops registration refused: {e}"));
            false
        }
        Err(e) => panic!("{what}: attach: {e}"),
    }
}

fn available() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control").unwrap()
}

fn is_available(name: &str) -> bool {
    available().split_whitespace().any(|n| n == name)
}

fn setsockopt(fd: RawFd, opt: libc::c_int, value: &[u8]) -> std::io::Result<()> {
    // SAFETY: `value` is valid for its length during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            opt,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn set_congestion(fd: RawFd, name: &str) -> std::io::Result<()> {
    setsockopt(fd, libc::TCP_CONGESTION, name.as_bytes())
}

fn congestion(fd: RawFd) -> String {
    let mut buf = [0u8; 16];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: `buf` and `len` are valid and describe each other.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    assert_eq!(
        rc,
        0,
        "getsockopt TCP_CONGESTION: {}",
        std::io::Error::last_os_error()
    );
    String::from_utf8_lossy(c_str(&buf[..len as usize])).into_owned()
}

/// A loopback connection whose sender uses congestion control `name`;
/// sends SEND_BYTES to a reader thread and returns what getsockopt said.
fn run_connection(name: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    // Small segments: the accepted socket advertises this MSS, so the
    // sender splits its data into many packets.
    setsockopt(listener.as_raw_fd(), libc::TCP_MAXSEG, &MSS.to_ne_bytes()).unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = conn.read(&mut buf).unwrap();
            if n == 0 {
                break got;
            }
            got += n;
        }
    });
    let mut client = TcpStream::connect(addr).unwrap();
    // On an established socket the kernel re-initialises congestion
    // control: the BPF `init` runs.
    set_congestion(client.as_raw_fd(), name)
        .unwrap_or_else(|e| panic!("setsockopt TCP_CONGESTION {name}: {e}"));
    let chosen = congestion(client.as_raw_fd());
    let chunk = vec![0x5au8; 4096];
    for _ in 0..SEND_BYTES / chunk.len() {
        client.write_all(&chunk).unwrap();
    }
    client.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(reader.join().unwrap(), SEND_BYTES);
    chosen
}

/// After unregistering: the name is gone and sockets cannot select it.
fn assert_unregistered(name: &str) {
    assert!(
        !is_available(name),
        "{name} still registered: {}",
        available()
    );
    let s = TcpStream::connect(
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(),
    )
    .unwrap();
    let err = set_congestion(s.as_raw_fd(), name).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOENT), "{name}: {err}");
}

fn kernel_value_name(ops: &StructOpsMap) -> bool {
    ops.kernel_value().windows(10).any(|w| w == b"bpf2rs_cc\0")
}

#[test]
fn link_struct_ops_registers_a_congestion_control_until_dropped() {
    require_root();
    const WHAT: &str = "struct_ops through a link (reno_like)";
    const NAME: &str = "bpf2rs_cc";
    let mut open = StructOpsSkel::open().unwrap();
    assert_eq!(
        c_str(&open.struct_ops.reno_like.value.name),
        NAME.as_bytes()
    );
    // plain_ops is the other test's.
    open.struct_ops.plain_ops.set_autocreate(false);
    let Some(mut skel) = load(WHAT, open) else {
        return;
    };
    assert!(skel.struct_ops.plain_ops.is_none());
    let ops = skel.struct_ops.reno_like.as_ref().unwrap();
    assert!(ops.is_link());
    assert_eq!(ops.type_name(), "tcp_congestion_ops");
    assert!(
        kernel_value_name(ops),
        "the name is copied into the kernel value"
    );
    for p in [
        &skel.progs.cc_init,
        &skel.progs.cc_ssthresh,
        &skel.progs.cc_cong_avoid,
    ] {
        assert!(p.is_loaded(), "{} is used by reno_like", p.name());
    }
    assert!(!is_available(NAME), "{NAME} registered before attach()");
    if !attach(WHAT, &mut skel) {
        return;
    }
    let registration = skel.links.reno_like.as_ref().unwrap();
    assert!(registration.link().is_some());
    assert!(is_available(NAME), "{NAME} not registered: {}", available());

    assert_eq!(run_connection(NAME), NAME);
    let bss = skel.bss().unwrap();
    eprintln!(
        "reno_like calls: init {}, ssthresh {}, cong_avoid {}, undo_cwnd {}",
        bss.init_calls, bss.ssthresh_calls, bss.cong_avoid_calls, bss.undo_cwnd_calls
    );
    assert!(bss.init_calls > 0, "init never ran");
    assert!(bss.cong_avoid_calls > 0, "cong_avoid never ran");

    // Dropping the registration (the link) unregisters.
    skel.links.reno_like = None;
    assert_unregistered(NAME);
    // A link map registers again with a new link, and the skeleton's
    // drop unregisters it too.
    skel.attach().unwrap();
    assert!(is_available(NAME));
    drop(skel);
    assert_unregistered(NAME);
}

#[test]
fn plain_struct_ops_registers_with_a_name_set_before_load() {
    require_root();
    const WHAT: &str = "struct_ops without a link (plain_ops)";
    const NAME: &str = "bpf2rs_cc_plain";
    let mut open = StructOpsSkel::open().unwrap();
    assert_eq!(c_str(&open.struct_ops.plain_ops.value.name), b"bpf2rs_cc2");
    // The typed value is what the kernel gets.
    open.struct_ops.plain_ops.value.name = c_str_array(NAME).unwrap();
    // reno_like is the other test's (and needs Linux 6.4).
    open.struct_ops.reno_like.set_autocreate(false);
    let Some(mut skel) = load(WHAT, open) else {
        return;
    };
    assert!(skel.struct_ops.reno_like.is_none());
    assert!(
        !skel.progs.cc_init.is_loaded(),
        "cc_init is used only by reno_like, which was not created"
    );
    let ops = skel.struct_ops.plain_ops.as_ref().unwrap();
    assert!(!ops.is_link());
    assert!(!is_available(NAME), "{NAME} registered before attach()");
    if !attach(WHAT, &mut skel) {
        return;
    }
    assert!(skel.links.plain_ops.as_ref().unwrap().link().is_none());
    assert!(is_available(NAME), "{NAME} not registered: {}", available());

    let before = skel.bss().unwrap().cong_avoid_calls;
    assert_eq!(run_connection(NAME), NAME);
    let bss = skel.bss().unwrap();
    eprintln!(
        "plain_ops calls: init {} (no init member), ssthresh {}, cong_avoid {}, undo_cwnd {}",
        bss.init_calls, bss.ssthresh_calls, bss.cong_avoid_calls, bss.undo_cwnd_calls
    );
    assert!(bss.cong_avoid_calls > before, "cong_avoid never ran");

    // Unregistering deletes the map's value; such a map registers once.
    skel.links.plain_ops.take().unwrap().unregister().unwrap();
    assert_unregistered(NAME);
    let again = skel.struct_ops.plain_ops.as_ref().unwrap().register();
    assert_eq!(again.unwrap_err().errno(), Some(libc::EBUSY));
}
