//! Shared by the kernel_attach* tests: the root check with their
//! capabilities (built on `common`), loading a fixture with `target_tgid`
//! set to this process, reading its `hits[]` counters, and triggers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // reason: tests; each binary uses a subset

use std::time::{Duration, Instant};

use bpf2rs::load::{Object, OpenObject};

/// The root check, naming what the attach tests need.
pub fn require_root() {
    crate::common::require_root_for("kernel attach test", "CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN");
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name)
}

/// Opens fixture `name`, sets `target_tgid` (the only .rodata variable)
/// to this process, and loads it.
pub fn load(name: &str) -> Object {
    load_only(name, None)
}

/// [`load`], loading only program `only` when given (autoload off for
/// the others).
pub fn load_only(name: &str, only: Option<&str>) -> Object {
    match try_load_only(name, only) {
        Ok(o) => o,
        Err(e) => panic!("loading {name}: {e}"),
    }
}

/// [`load_only`], returning the loader's error.
pub fn try_load_only(name: &str, only: Option<&str>) -> Result<Object, bpf2rs::load::LoadError> {
    try_load_configured(name, |open| {
        if let Some(only) = only {
            crate::common::autoload_only(open, |n| n == only);
        }
    })
}

/// [`load`], with settings changed by `configure` first.
pub fn load_configured(name: &str, configure: impl FnOnce(&mut OpenObject)) -> Object {
    match try_load_configured(name, configure) {
        Ok(o) => o,
        Err(e) => panic!("loading {name}: {e}"),
    }
}

/// [`load_configured`], returning the loader's error.
pub fn try_load_configured(
    name: &str,
    configure: impl FnOnce(&mut OpenObject),
) -> Result<Object, bpf2rs::load::LoadError> {
    require_root();
    let mut open = OpenObject::open_file(fixture(name)).unwrap();
    configure(&mut open);
    let rodata = open.data_mut(".rodata").expect("fixture has .rodata");
    rodata[..4].copy_from_slice(&std::process::id().to_ne_bytes());
    open.load()
}

/// Loads one program that needs BPF trampolines or another feature some
/// kernels refuse (fentry, fexit, lsm, map iterators). `None` when this
/// kernel refused it at BPF_PROG_LOAD: the error must then name the object,
/// program and section, carry the kernel's errno (EPERM or ENOTSUPP) and the
/// verifier log, and the refusal is printed, so the test is not skipped
/// silently.
pub fn load_or_refused(name: &str, program: &str, section: &str) -> Option<Object> {
    match try_load_only(name, Some(program)) {
        Ok(o) => Some(o),
        Err(e) => {
            assert_refused(name, program, section, &e);
            None
        }
    }
}

/// The checks of [`load_or_refused`] on the loader's error `e`, and the
/// NOT RUN note.
pub fn assert_refused(name: &str, program: &str, section: &str, e: &bpf2rs::load::LoadError) {
    let text = e.to_string();
    let object = name.trim_end_matches(".bpf.o");
    let head = format!(
        "{object}: program {program} (section {section}): the kernel rejected it: BPF_PROG_LOAD: "
    );
    assert!(text.starts_with(&head), "{text}");
    assert!(text.contains("\n--- verifier log ---\n"), "{text}");
    assert!(e.verifier_log().is_some(), "{text}");
    let errno = match e {
        bpf2rs::load::LoadError::Verifier(v) => v.source.errno(),
        _ => None,
    };
    const ENOTSUPP: i32 = 524;
    assert!(
        matches!(errno, Some(libc::EPERM | ENOTSUPP)),
        "refused for another reason: {text}"
    );
    // When the kernel gave no verifier output, the log says what the errno means.
    let log = e.verifier_log().unwrap_or_default();
    assert!(!log.is_empty(), "{text}");
    if errno == Some(libc::EPERM) && log.starts_with("(no verifier output") {
        assert!(log.contains("EPERM means missing privileges"), "{log}");
        assert!(log.contains("need BPF trampolines"), "{log}");
    }
    not_run(program, &text);
}

/// Says that `what` could not run on this kernel, and why. Straight to
/// stderr, past the test harness's capture of `eprintln!`, so that every run
/// shows what this kernel did not let us test.
pub fn not_run(what: &str, why: &str) {
    let first_line = why.lines().next().unwrap_or_default();
    let line = format!("note: {what} NOT RUN on this kernel: {first_line}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// `hits[i]` of the fixture's .bss.
pub fn hits(obj: &Object, i: usize) -> u64 {
    let bss = obj.data(".bss").expect("fixture has .bss");
    let size = bss.map.info().value_size as usize;
    let mut buf = vec![0u8; size];
    assert!(bss.map.lookup(&0u32.to_ne_bytes(), &mut buf).unwrap());
    u64::from_ne_bytes(buf[i * 8..i * 8 + 8].try_into().unwrap())
}

/// After the link is gone the program must not run: the count stays put.
///
/// Checked over up to 2 s rather than once: a test running in parallel may
/// fork (to run `tc`, a shell...) while the link's fd is open, and the child
/// holds the fd, so the link outlives our close until the child execs
/// (the fd is close-on-exec).
pub fn assert_detached(obj: &Object, i: usize, mut trigger: impl FnMut()) {
    let start = Instant::now();
    loop {
        let before = hits(obj, i);
        for _ in 0..3 {
            trigger();
        }
        std::thread::sleep(Duration::from_millis(20));
        let after = hits(obj, i);
        if after == before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "hits[{i}] still moving 2 s after detach: {before} -> {after}"
        );
    }
}

/// Calls `trigger` until `hits[i]` moves (up to 2 s); returns the count.
pub fn wait_hits(obj: &Object, i: usize, mut trigger: impl FnMut()) -> u64 {
    let start = Instant::now();
    loop {
        trigger();
        let n = hits(obj, i);
        if n > 0 || start.elapsed() > Duration::from_secs(2) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A few getpid(2) calls (glibc does not cache the pid).
pub fn getpid_syscalls() {
    for _ in 0..5 {
        std::hint::black_box(std::process::id());
    }
}

/// Creates and unlinks a temp file (unlinkat(2) -> do_unlinkat).
pub fn unlink_temp() {
    let p = std::env::temp_dir().join(format!("bpf2rs_attach_{}", std::process::id()));
    std::fs::write(&p, b"x").unwrap();
    std::fs::remove_file(&p).unwrap();
}

/// Sends a UDP datagram to a socket bound on 127.0.0.1 and receives it.
pub fn udp_roundtrip() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"bpf2rs", rx.local_addr().unwrap()).unwrap();
    let mut buf = [0u8; 16];
    let _ = rx.recv_from(&mut buf);
}

/// Whether the kernel has the dynamic PMU `name` (`kprobe`, `uprobe`).
pub fn has_pmu(name: &str) -> bool {
    std::path::Path::new("/sys/bus/event_source/devices")
        .join(name)
        .join("type")
        .exists()
}

/// The running kernel's (major, minor), from /proc/sys/kernel/osrelease.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// After its last fd closes, link `id` is gone: BPF_LINK_GET_FD_BY_ID
/// answers ENOENT (within 2 s; the kernel may free it from a work item).
pub fn assert_link_gone(id: u32) {
    let start = Instant::now();
    loop {
        match bpf2rs::link::Link::from_id(id) {
            Err(e) if e.errno() == Some(libc::ENOENT) => return,
            Err(e) => panic!("link {id}: {e}"),
            Ok(_) if start.elapsed() > Duration::from_secs(2) => {
                panic!("link {id} still exists after its last fd closed")
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// XDP on `lo`. Another test process may hold lo's XDP slot for a moment:
/// retry on EBUSY.
pub fn attach_xdp_lo(
    prog: &bpf2rs::prog::Program,
    opts: bpf2rs::link::XdpOpts,
) -> bpf2rs::link::Link {
    let start = Instant::now();
    loop {
        match prog.attach_xdp_with(1, opts) {
            Ok(l) => return l,
            Err(e)
                if e.errno() == Some(libc::EBUSY) && start.elapsed() < Duration::from_secs(20) =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("{e}"),
        }
    }
}
