//! USDT probes against the kernel, through the generated skeleton: this
//! test binary defines probes the way `<sys/sdt.h>` does (a `nop` plus a
//! `.note.stapsdt` note, with a semaphore), and tests/bpf/usdt.bpf.c reads
//! their arguments through libbpf's `<bpf/usdt.bpf.h>`. Each probe test
//! runs the way this kernel attaches (one uprobe_multi link on 6.6+, a
//! uprobe per site before), and the per-site way forced on any kernel,
//! with and without BPF cookies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests
#![cfg(target_arch = "x86_64")]

use std::sync::{Mutex, MutexGuard};

use bpf2rs::link::{self, UsdtLocation, UsdtOpts};
use bpf2rs_tests::require_root;
use bpf2rs_tests::skel::usdt::{types, OpenUsdtSkel, UsdtSkel};

/// Held by the tests that attach to `bpf2rs_test:probe`: a program
/// attached there counts every firing in this process, whichever test fires.
static PROBE: Mutex<()> = Mutex::new(());

fn probe_lock() -> MutexGuard<'static, ()> {
    let guard = PROBE.lock().unwrap_or_else(|p| p.into_inner());
    // The previous test's uprobes may still be going away.
    semaphore_settles_at(0);
    guard
}

/// The semaphore of probe `bpf2rs_test:probe`: the kernel counts it up
/// while a uprobe is attached to the probe.
#[no_mangle]
#[used]
#[link_section = ".probes"]
static mut BPF2RS_TEST_PROBE_SEMAPHORE: u16 = 0;

fn semaphore() -> u16 {
    // SAFETY: a plain read of a static the kernel may change behind us;
    // volatile so that every call reads memory.
    unsafe { std::ptr::read_volatile(&raw const BPF2RS_TEST_PROBE_SEMAPHORE) }
}

/// The semaphore once it reads `want`, or after 2 s. Releasing a link can
/// finish in the kernel after close() returns (under load the uprobes of a
/// per-site link were seen going a moment later), so counts down are
/// waited for, not sampled once.
fn semaphore_settles_at(want: u16) -> u16 {
    let start = std::time::Instant::now();
    loop {
        let v = semaphore();
        if v == want || start.elapsed() > std::time::Duration::from_secs(2) {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// One probe site: a `nop` and its `.note.stapsdt` entry, as `<sys/sdt.h>`
/// emits them. `$args` is the argument string, with the operands' registers
/// filled in by the assembler template.
macro_rules! usdt_site {
    ($provider:literal, $name:literal, $sem:literal, $args:literal, $($operands:tt)*) => {
        // SAFETY: a nop in .text plus note data in sections of their own;
        // nothing is read or written.
        unsafe {
            core::arch::asm!(
                "990: nop",
                ".pushsection .note.stapsdt,\"?\",\"note\"",
                ".balign 4",
                ".4byte 992f-991f, 994f-993f, 3",
                "991: .asciz \"stapsdt\"",
                "992: .balign 4",
                "993: .8byte 990b",
                ".8byte _.stapsdt.base",
                $sem,
                concat!(".asciz \"", $provider, "\""),
                concat!(".asciz \"", $name, "\""),
                concat!(".asciz \"", $args, "\""),
                "994: .balign 4",
                ".popsection",
                ".ifndef _.stapsdt.base",
                ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat",
                ".weak _.stapsdt.base",
                ".hidden _.stapsdt.base",
                "_.stapsdt.base: .space 1",
                ".size _.stapsdt.base, 1",
                ".popsection",
                ".endif",
                $($operands)*
                options(att_syntax, nostack, readonly, preserves_flags),
            )
        }
    };
}

/// First site of `bpf2rs_test:probe`: a signed int in a register, a u64
/// 8 bytes past a pointer, a u16 in a register, the constant -7.
#[inline(never)]
fn fire_first(a: i32, b: &[u64; 2], c: u16) {
    usdt_site!(
        "bpf2rs_test", "probe", ".8byte {sem}", "-4@{a:e} 8@8({b}) 2@{c:x} -1@$-7",
        a = in(reg) a, b = in(reg) b.as_ptr(), c = in(reg) c, sem = sym BPF2RS_TEST_PROBE_SEMAPHORE,
    );
}

/// Second site of the same probe (a probe may sit in several places).
#[inline(never)]
fn fire_second(a: i32, b: &[u64; 2], c: u16) {
    usdt_site!(
        "bpf2rs_test", "probe", ".8byte {sem}", "-4@{a:e} 8@8({b}) 2@{c:x} -1@$-7",
        a = in(reg) a, b = in(reg) b.as_ptr(), c = in(reg) c, sem = sym BPF2RS_TEST_PROBE_SEMAPHORE,
    );
}

/// `bpf2rs_test:auto`, without a semaphore: one 8-byte argument.
#[inline(never)]
fn fire_auto(x: i64) {
    usdt_site!("bpf2rs_test", "auto", ".8byte 0", "-8@{x}", x = in(reg) x,);
}

fn exe() -> std::path::PathBuf {
    std::env::current_exe().unwrap()
}

/// `prog` attached to every site of `bpf2rs_test:probe` in this binary.
fn attach_probe(prog: &bpf2rs::prog::Program, pid: Option<u32>, cookie: u64) -> link::Link {
    prog.attach_usdt(exe(), "bpf2rs_test", "probe", UsdtOpts { pid, cookie })
        .unwrap()
}

/// The fixture loaded, counting only this process.
fn load() -> UsdtSkel {
    load_with(|_| {})
}

/// [`load`], with settings changed by `configure` first.
fn load_with(configure: impl FnOnce(&mut OpenUsdtSkel)) -> UsdtSkel {
    require_root();
    let mut open = UsdtSkel::open().unwrap();
    open.rodata_mut().target_tgid = std::process::id();
    configure(&mut open);
    open.load().unwrap()
}

/// The kernel links of `link`: one uprobe_multi link (type 12), or one
/// perf_event link (type 7) per site of `bpf2rs_test:probe`.
fn assert_link_kind(link: &link::Link, per_site: bool) {
    let types: Vec<u32> = link
        .fds()
        .map(|fd| {
            let l = link::Link::from_fd(fd.try_clone_to_owned().unwrap());
            let t = l.info().unwrap().link_type;
            // from_fd owns a dup: closing it leaves the link attached.
            drop(l);
            t
        })
        .collect();
    if per_site {
        assert_eq!(types, [7, 7], "one perf_event link per site");
    } else {
        assert_eq!(types, [12], "one uprobe_multi link");
    }
}

/// `seen[i]`: (args, cookie, arg_cnt, err).
fn seen(skel: &UsdtSkel, i: u32) -> ([i64; 4], i64, i32, i32) {
    let s = skel.maps.seen.get(i).unwrap();
    (s.args, s.cookie, s.arg_cnt, s.err)
}

#[test]
fn notes_of_this_binary() {
    let notes = link::usdt_notes(&exe()).unwrap();
    let probe: Vec<_> = notes.iter().filter(|n| n.name == "probe").collect();
    assert_eq!(probe.len(), 2, "{notes:?}");
    assert_ne!(probe[0].file_offset, probe[1].file_offset);
    assert_ne!(probe[0].semaphore_offset, 0);
    assert_eq!(probe[0].semaphore_offset, probe[1].semaphore_offset);
    for p in &probe {
        assert_eq!(p.provider, "bpf2rs_test");
        let args = link::parse_usdt_args(&p.args).unwrap();
        assert_eq!(args.len(), 4, "{}", p.args);
        assert_eq!((args[0].size, args[0].signed), (4, true));
        assert!(matches!(args[0].location, UsdtLocation::Reg(_)));
        assert!(matches!(
            args[1].location,
            UsdtLocation::Deref { offset: 8, .. }
        ));
        assert_eq!((args[2].size, args[2].signed), (2, false));
        assert_eq!(args[3].location, UsdtLocation::Const(-7));
    }
    let auto: Vec<_> = notes.iter().filter(|n| n.name == "auto").collect();
    assert_eq!(auto.len(), 1);
    assert_eq!(auto[0].semaphore_offset, 0);
    // The site's file offset holds the probe's nop (0x90).
    let bytes = std::fs::read(exe()).unwrap();
    for n in probe.iter().chain(&auto) {
        assert_eq!(bytes[n.file_offset as usize], 0x90, "{n:?}");
    }
}

#[test]
fn arguments_cookie_and_semaphore_reach_the_program_and_end_with_the_link() {
    let _probe = probe_lock();
    let skel = load();
    // uprobe_multi where the kernel has it (6.6+), else a uprobe per site.
    let per_site = !bpf2rs::probe::has_uprobe_multi_link();
    arguments_cookie_and_semaphore(&skel, per_site);
}

#[test]
fn per_site_uprobes_carry_the_same_arguments_cookie_and_semaphore() {
    // What kernels before 6.6 get, forced on this one.
    let _probe = probe_lock();
    let skel = load_with(|open| open.progs.on_probe.set_uprobe_multi(false));
    assert_eq!(skel.progs.on_probe.expected_attach_type(), None);
    arguments_cookie_and_semaphore(&skel, true);
}

/// `on_probe` attached to both sites of `bpf2rs_test:probe`, twice: the
/// arguments, cookie and semaphore reach the program while a link lives,
/// and nothing does after.
fn arguments_cookie_and_semaphore(skel: &UsdtSkel, per_site: bool) {
    let prog = &skel.progs.on_probe;
    assert_eq!(semaphore(), 0);
    let link = attach_probe(prog, Some(std::process::id()), 0xfeed_f00d);
    assert_link_kind(&link, per_site);
    // Both sites share the semaphore: each site's uprobe counts it up.
    assert_eq!(semaphore(), 2, "the kernel counts the semaphore up");
    let mem = [0, 0x1122_3344_5566_7788];
    fire_first(-5, &mem, 0xbeef);
    fire_second(i32::MIN, &[0, u64::MAX], 7);
    assert_eq!(skel.bss().unwrap().fired, 2, "one run per firing");
    assert_eq!(
        seen(skel, 0),
        ([-5, 0x1122_3344_5566_7788, 0xbeef, -7], 0xfeed_f00d, 4, 0)
    );
    assert_eq!(
        seen(skel, 1),
        ([i32::MIN as i64, -1, 7, -7], 0xfeed_f00d, 4, 0)
    );
    // The spec the program read, as the generated type sees it.
    let spec: types::__bpf_usdt_spec = skel.maps.__bpf_usdt_specs.get(0).unwrap();
    assert_eq!((spec.arg_cnt, spec.usdt_cookie), (4, 0xfeed_f00d));
    let konst = spec.args[3];
    assert_eq!(
        konst.arg_type,
        types::__bpf_usdt_arg_type::BPF_USDT_ARG_CONST
    );
    assert_eq!(
        (
            konst.val_off as i64,
            konst.arg_signed.get(),
            konst.arg_bitshift
        ),
        (-7, true, 56)
    );
    let deref = spec.args[1];
    assert_eq!(
        deref.arg_type,
        types::__bpf_usdt_arg_type::BPF_USDT_ARG_REG_DEREF
    );
    assert_eq!(
        (deref.val_off, deref.arg_signed.get(), deref.arg_bitshift),
        (8, false, 0)
    );

    // A second link with another cookie: each firing now runs twice, once
    // per link, each with its own spec.
    let second = attach_probe(prog, None, 2);
    // Counted per installed breakpoint, not per link.
    assert_eq!(semaphore(), 2);
    fire_first(1, &mem, 1);
    assert_eq!(skel.bss().unwrap().fired, 4);
    let mut cookies = [seen(skel, 2).1, seen(skel, 3).1];
    cookies.sort_unstable();
    assert_eq!(cookies, [2, 0xfeed_f00d]);

    drop(link);
    assert_eq!(semaphore(), 2, "the second link still holds the sites");
    drop(second);
    assert_eq!(semaphore_settles_at(0), 0, "counted down when the links go");
    fire_first(1, &mem, 1);
    fire_second(1, &mem, 1);
    assert_eq!(
        skel.bss().unwrap().fired,
        4,
        "nothing runs after the links are dropped"
    );

    // Dropped links free their spec slots: the next link reuses slot 0.
    let third = attach_probe(prog, None, 3);
    assert_eq!(skel.maps.__bpf_usdt_specs.get(0).unwrap().usdt_cookie, 3);
    drop(third);
}

#[test]
fn without_bpf_cookies_sites_are_found_by_address() {
    // What kernels before 5.15 get, forced on this one: the program's
    // LINUX_HAS_BPF_COOKIE is false and <bpf/usdt.bpf.h> looks each site's
    // spec up by address in __bpf_usdt_ip_to_spec_id.
    let _probe = probe_lock();
    let skel = load_with(|open| {
        open.object_mut().set_bpf_cookie(false);
        open.progs.on_probe.set_uprobe_multi(false);
    });
    let prog = &skel.progs.on_probe;
    let ips = || skel.maps.__bpf_usdt_ip_to_spec_id.iter().count();
    assert_eq!(ips(), 0);

    // This test binary is position-independent: its sites' addresses
    // depend on the process, so a pid is needed.
    let e = prog
        .attach_usdt(exe(), "bpf2rs_test", "probe", UsdtOpts::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs a pid"), "{e}");
    assert_eq!(ips(), 0, "a failed attach leaves no address behind");

    let link = attach_probe(prog, Some(std::process::id()), 0xfeed_f00d);
    assert_link_kind(&link, true);
    assert_eq!(ips(), 2, "one address per site");
    assert_eq!(semaphore(), 2);
    let mem = [0, 0x1122_3344_5566_7788];
    fire_first(-5, &mem, 0xbeef);
    fire_second(9, &mem, 7);
    assert_eq!(skel.bss().unwrap().fired, 2);
    assert_eq!(
        seen(&skel, 0),
        ([-5, 0x1122_3344_5566_7788, 0xbeef, -7], 0xfeed_f00d, 4, 0)
    );
    assert_eq!(
        seen(&skel, 1),
        ([9, 0x1122_3344_5566_7788, 7, -7], 0xfeed_f00d, 4, 0)
    );

    // An address takes one link at a time, as with libbpf.
    let e = prog
        .attach_usdt(
            exe(),
            "bpf2rs_test",
            "probe",
            UsdtOpts {
                pid: Some(std::process::id()),
                cookie: 2,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("__bpf_usdt_ip_to_spec_id already"), "{e}");

    drop(link);
    assert_eq!(semaphore_settles_at(0), 0);
    assert_eq!(ips(), 0, "the link's addresses go with it");
    fire_first(1, &mem, 1);
    assert_eq!(
        skel.bss().unwrap().fired,
        2,
        "nothing runs after the link is dropped"
    );
}

#[test]
fn skeleton_attach_follows_the_section() {
    let mut skel = load();
    // on_auto: usdt//proc/self/exe:bpf2rs_test:auto; on_probe names no probe.
    skel.attach().unwrap();
    assert!(skel.links.on_auto.is_some());
    assert!(skel.links.on_probe.is_none());
    fire_auto(40);
    fire_auto(2);
    let b = skel.bss().unwrap();
    assert_eq!((b.fired, b.auto_fired, b.auto_sum), (0, 2, 42));
    skel.links.on_auto = None;
    fire_auto(1);
    assert_eq!(
        skel.bss().unwrap().auto_sum,
        42,
        "nothing runs after the link is dropped"
    );
}

#[test]
fn errors_name_the_probe_and_the_reason() {
    let skel = load();
    let prog = &skel.progs.on_probe;
    let e = prog
        .attach_usdt(exe(), "bpf2rs_test", "missing", UsdtOpts::default())
        .unwrap_err()
        .to_string();
    let head = format!(
        "program on_probe: attach usdt to {}:bpf2rs_test:missing: no such probe (",
        exe().display()
    );
    assert!(e.starts_with(&head), "{e}");

    // A program of an object without <bpf/usdt.bpf.h>'s spec map.
    let mut open = bpf2rs_tests::skel::attach::AttachSkel::open().unwrap();
    for p in [
        &mut open.progs.kp_unlinkat,
        &mut open.progs.kp_multi,
        &mut open.progs.kretp_unlinkat,
    ] {
        p.set_autoload(false); // no kprobes on some kernels
    }
    let other = open.load().unwrap();
    let e = other
        .progs
        .on_uprobe
        .attach_usdt(exe(), "bpf2rs_test", "probe", UsdtOpts::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "not a `usdt` program of an object with a __bpf_usdt_specs map (include <bpf/usdt.bpf.h>)"
        ),
        "{e}"
    );

    // A file that is not ELF.
    let e = prog
        .attach_usdt("/proc/self/status", "p", "n", UsdtOpts::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an ELF file"), "{e}");
}

/// The C string at the start of `bytes`.
fn c_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    std::str::from_utf8(&bytes[..end]).unwrap()
}

#[test]
fn python_audit_probe_fires_through_its_semaphore() {
    // A real-world probe: CPython's python:audit(event, args) fires only
    // while its semaphore is non-zero, which the kernel sets in the python
    // process started after the attach.
    let skel = load();
    let python = std::fs::canonicalize("/usr/bin/python3")
        .expect("python3 is needed for this test (scripts/setup installs it)");
    let run = |script: &str| {
        let status = std::process::Command::new(&python)
            .args(["-c", script])
            .status()
            .unwrap();
        assert!(status.success(), "{script}");
    };
    let script = "import sys\nsys.audit('bpf2rs.first', 1)\nsys.audit('bpf2rs.probe', 2)\n";
    run(script);
    assert_eq!(skel.bss().unwrap().py_last.hits, 0, "not attached yet");

    let link = skel
        .progs
        .on_python_audit
        .attach_usdt(&python, "python", "audit", UsdtOpts::default())
        .unwrap();
    run(script);
    let last = skel.bss().unwrap().py_last;
    assert_eq!(c_str(&last.event), "bpf2rs.probe");
    assert_eq!(last.hits, 2, "two events, two probe hits");

    drop(link);
    run(script);
    assert_eq!(skel.bss().unwrap().py_last.hits, 2, "nothing after detach");
}

#[test]
fn padded_bss_type_round_trips_through_open_and_load() {
    // .bss is 52 bytes; its Rust type is 56 (tail padding, not packed).
    require_root();
    assert_eq!(std::mem::size_of::<types::SectionBss>(), 56);
    let mut open = UsdtSkel::open().unwrap();
    open.bss_mut().auto_sum = -7;
    open.bss_mut().py_last.hits = 9;
    let mut skel = open.load().unwrap();
    assert_eq!(
        (
            skel.bss().unwrap().auto_sum,
            skel.bss().unwrap().py_last.hits
        ),
        (-7, 9)
    );
    skel.bss_mut().unwrap().py_last.hits = 10;
    let raw = skel.object().data(".bss").unwrap();
    let mut v = [0u8; 52];
    assert!(raw.map.lookup(&0u32.to_ne_bytes(), &mut v).unwrap());
    assert_eq!(i32::from_ne_bytes(v[48..52].try_into().unwrap()), 10);
}
