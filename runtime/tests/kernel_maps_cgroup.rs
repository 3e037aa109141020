//! Real-kernel checks of CgroupArray (`BPF_MAP_TYPE_CGROUP_ARRAY`): a
//! cgroup stored from its path or an open directory is what
//! `bpf_current_task_under_cgroup` sees (tests/bpf/cgroup_array.bpf.c,
//! attached to raw_tp/sys_enter, counts its answers per watched process),
//! a cleared slot is empty to the helper, and bad input is a clear error.
//!
//! Each test makes its own cgroup v2 directory (a unique name under the
//! cgroup2 mount, removed at the end even on failure) and moves a child
//! shell into it: the test process itself never changes cgroup.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use bpf2rs::load::{Object, OpenObject};
use bpf2rs::map::{CgroupArray, CreateFlags, HashMap, MapError, MapFlags};
use common::{require_root, unique};

/// `struct seen` of cgroup_array.bpf.c: per slot, how often the watched
/// process was in the slot's cgroup, not in it, or the helper failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bpf2rs::Pod)]
#[repr(C)]
struct Seen {
    inside: [u64; 2],
    outside: [u64; 2],
    err: [u64; 2],
    last_err: [i64; 2],
}

/// Where cgroup v2 is mounted: /sys/fs/cgroup on unified systems, often
/// /sys/fs/cgroup/unified on hybrid ones; mounted here if nowhere.
struct Cgroup2 {
    root: PathBuf,
    /// Set when this test mounted it (unmounted on drop).
    mounted: bool,
}

impl Cgroup2 {
    fn find_or_mount() -> Cgroup2 {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let mut roots: Vec<PathBuf> = info
            .lines()
            .filter_map(|line| {
                let (left, right) = line.split_once(" - ")?;
                let mount_point = left.split_whitespace().nth(4)?;
                (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(mount_point))
            })
            .collect();
        roots.sort_by_key(|r| r != Path::new("/sys/fs/cgroup"));
        if let Some(root) = roots.into_iter().next() {
            return Cgroup2 {
                root,
                mounted: false,
            };
        }
        let root = std::env::temp_dir().join(unique("bpf2rs_cgroup2"));
        std::fs::create_dir(&root).unwrap();
        let status = Command::new("mount")
            .args(["-t", "cgroup2", "none"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t cgroup2 on {}", root.display());
        Cgroup2 {
            root,
            mounted: true,
        }
    }
}

impl Drop for Cgroup2 {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.root).status();
            let _ = std::fs::remove_dir(&self.root);
        }
    }
}

/// A cgroup made for one test, removed when dropped (also on failure).
struct TestCgroup {
    path: PathBuf,
}

impl TestCgroup {
    fn new(parent: &Path) -> TestCgroup {
        let path = parent.join(unique("bpf2rs_test"));
        std::fs::create_dir(&path).unwrap();
        TestCgroup { path }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // A process that just exited may keep the cgroup populated for a
        // moment (EBUSY); the children were reaped before this runs.
        for _ in 0..200 {
            match std::fs::remove_dir(&self.path) {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => return,
            }
        }
    }
}

fn load() -> Object {
    require_root();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bpf/cgroup_array.bpf.o");
    OpenObject::open_file(path).unwrap().load().unwrap()
}

fn watched(obj: &Object) -> HashMap<u32, Seen> {
    let fd = obj.map("watched").unwrap().as_fd().try_clone_to_owned();
    HashMap::from_fd(fd.unwrap()).unwrap()
}

/// Runs a shell that, once it is being watched, joins `cgroup` and makes
/// a few more syscalls there; returns what the program saw of it.
fn child_in(cgroup: &Path, watched: &HashMap<u32, Seen>) -> Seen {
    let mut child = Command::new("/bin/sh")
        .args([
            "-c",
            r#"set -e; read go; echo $$ > "$1"; read done || true"#,
            "sh",
        ])
        .arg(cgroup.join("cgroup.procs"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    watched
        .insert(&pid, &Seen::default(), MapFlags::ANY)
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    drop(stdin); // the second read sees end of file, in the cgroup
    assert!(
        child.wait().unwrap().success(),
        "the child joined the cgroup"
    );
    let seen = watched.get(&pid).unwrap().unwrap();
    watched.remove(&pid).unwrap();
    seen
}

#[test]
fn the_kernel_sees_the_cgroups_stored_and_not_the_cleared_ones() {
    let cgroup2 = Cgroup2::find_or_mount();
    let cg = TestCgroup::new(&cgroup2.root);
    let mut obj = load();
    let cgroups = CgroupArray::from_map(obj.take_map("cgroups").unwrap()).unwrap();
    assert_eq!(cgroups.len(), 4);
    let watched = watched(&obj);
    // Slot 0 by path: the test's cgroup. Slot 1 by fd: the hierarchy's
    // root, which every process is under.
    cgroups.set_path(0, &cg.path).unwrap();
    cgroups.set(1, File::open(&cgroup2.root).unwrap()).unwrap();
    let _link = obj
        .program("under_cgroup")
        .unwrap()
        .attach_raw_tracepoint("sys_enter")
        .unwrap();

    // This process is watched too: it stays outside the test's cgroup.
    let me = std::process::id();
    watched
        .insert(&me, &Seen::default(), MapFlags::ANY)
        .unwrap();

    let child = child_in(&cg.path, &watched);
    assert!(child.outside[0] > 0, "before joining: {child:?}");
    assert!(child.inside[0] > 0, "after joining: {child:?}");
    assert!(child.inside[1] > 0 && child.outside[1] == 0, "{child:?}");
    assert_eq!(child.err, [0, 0], "{child:?}");

    let mine = watched.get(&me).unwrap().unwrap();
    assert!(mine.outside[0] > 0 && mine.inside[0] == 0, "{mine:?}");
    assert!(mine.inside[1] > 0 && mine.outside[1] == 0, "{mine:?}");

    // Cleared: the helper finds the slot empty (-EAGAIN), even for a
    // process in the cgroup; slot 1 is untouched.
    assert!(cgroups.clear(0).unwrap(), "slot 0 was set");
    assert!(!cgroups.clear(0).unwrap(), "and is empty now");
    let child = child_in(&cg.path, &watched);
    assert_eq!((child.inside[0], child.outside[0]), (0, 0), "{child:?}");
    assert!(child.err[0] > 0, "{child:?}");
    assert_eq!(child.last_err[0], -i64::from(libc::EAGAIN), "{child:?}");
    assert!(child.inside[1] > 0, "{child:?}");

    // Stored again, by fd: seen again.
    cgroups.set(0, File::open(&cg.path).unwrap()).unwrap();
    let child = child_in(&cg.path, &watched);
    assert!(child.inside[0] > 0 && child.err[0] == 0, "{child:?}");
    watched.remove(&me).unwrap();
}

#[test]
fn bad_indexes_and_paths_are_errors_naming_the_map_slot_and_errno() {
    let cgroup2 = Cgroup2::find_or_mount();
    let cg = TestCgroup::new(&cgroup2.root);
    let name = unique("cgroups");
    let cgroups = CgroupArray::create(&name, 2, CreateFlags::NONE).unwrap();

    // Out of range: refused before asking the kernel, whose E2BIG would
    // read as "map is full".
    let e = cgroups.set_path(2, &cg.path).unwrap_err();
    assert!(matches!(e, MapError::Invalid { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("map {name}: set_path: index 2 is out of bounds: the map has 2 entries")
    );
    let e = cgroups.set(7, File::open(&cg.path).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: set: index 7 is out of bounds: the map has 2 entries")
    );
    let e = cgroups.clear(u32::MAX).unwrap_err();
    assert!(e
        .to_string()
        .contains("clear: index 4294967295 is out of bounds"));

    // A directory that is not a cgroup v2 one: the kernel says EBADF.
    let e = cgroups.set_path(1, "/proc").unwrap_err();
    assert_eq!(e.errno(), Some(libc::EBADF), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "map {name} (index 1, path /proc): set_path: BPF_MAP_UPDATE_ELEM: "
        )),
        "{text}"
    );
    let e = cgroups.set(0, File::open("/proc").unwrap()).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EBADF), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("map {name} (index 0): set: BPF_MAP_UPDATE_ELEM: ")),
        "{e}"
    );
    // Not a directory, or nothing at all: open says why.
    let e = cgroups.set_path(0, "/proc/self/status").unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOTDIR), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "map {name} (index 0, path /proc/self/status): set_path: open: "
        )),
        "{e}"
    );
    let missing = cg.path.join("no_such_cgroup");
    let e = cgroups.set_path(0, &missing).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");

    // Nothing was stored by the failures; a real cgroup still goes in.
    assert!(!cgroups.clear(0).unwrap());
    assert!(!cgroups.clear(1).unwrap());
    cgroups.set_path(1, &cg.path).unwrap();
    assert!(cgroups.clear(1).unwrap());
}
