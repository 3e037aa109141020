//! Real-kernel checks of the maps whose values are kernel objects:
//! ProgArray, ArrayOfMaps, HashOfMaps, DevMap, DevMapHash, CpuMap, XskMap,
//! SockMap, SockHash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

mod common;
mod kernel_maps_util;

use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use bpf2rs::map::{
    Array, ArrayOfMaps, CpuMap, CpuMapValue, CreateFlags, DevMap, DevMapHash, DevMapValue, HashMap,
    HashOfMaps, Map, MapFlags, ProgArray, SockHash, SockMap, XskMap,
};
use bpf2rs::obj::MapType;
use common::{require_root, unique};
use kernel_maps_util::trivial_prog;

#[test]
fn prog_array_set_get_remove() {
    require_root();
    let name = unique("jumps");
    let jumps = ProgArray::create(&name, 4, CreateFlags::NONE).unwrap();
    let prog = trivial_prog();
    let id = bpf2rs::sys::prog_info(prog.as_fd()).unwrap().id;
    assert_eq!(jumps.get(1).unwrap(), None);
    jumps.set(1, prog.as_fd()).unwrap();
    assert_eq!(jumps.get(1).unwrap(), Some(id));
    drop(prog);
    assert_eq!(
        jumps.get(1).unwrap(),
        Some(id),
        "the map holds its own reference"
    );
    assert!(jumps.remove(1).unwrap());
    assert!(!jumps.remove(1).unwrap());
    let e = jumps.set(4, std::io::stdin().as_fd()).unwrap_err();
    assert!(e.to_string().contains("index 4 is out of bounds"), "{e}");
    let not_a_prog = jumps.set(0, std::io::stdin().as_fd()).unwrap_err();
    assert!(not_a_prog.errno().is_some(), "{not_a_prog}");
    assert_eq!(jumps.len(), 4);
}

#[test]
fn array_of_maps_gives_inner_maps_back_typed() {
    require_root();
    let inner = HashMap::<u32, u64>::create(&unique("inner"), 8, CreateFlags::NONE).unwrap();
    inner.insert(&1, &11, MapFlags::ANY).unwrap();
    let outer =
        ArrayOfMaps::<HashMap<u32, u64>>::create(&unique("outer"), 2, &inner, CreateFlags::NONE)
            .unwrap();
    assert!(outer.get(0).unwrap().is_none());
    outer.set(0, &inner).unwrap();
    assert_eq!(outer.get_id(0).unwrap(), Some(inner.info().id));
    let back = outer.get(0).unwrap().unwrap();
    assert_eq!(back.info().id, inner.info().id);
    assert_eq!(back.get(&1).unwrap(), Some(11));
    assert_eq!(
        back.name(),
        inner.info().name,
        "named as the kernel names it"
    );

    // Untyped view, and a typed view of the wrong shape.
    let untyped = ArrayOfMaps::<Map>::from_map(Map::from_id(outer.info().id).unwrap()).unwrap();
    assert_eq!(untyped.get(0).unwrap().unwrap().info().key_size, 4);
    let wrong =
        ArrayOfMaps::<HashMap<u32, u32>>::from_fd(outer.as_fd().try_clone_to_owned().unwrap())
            .unwrap()
            .get(0)
            .unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("value: Rust type is 4 bytes, the map's is 8 bytes"),
        "{wrong}"
    );
    let other_shape = Array::<u64>::create(&unique("arr"), 8, CreateFlags::NONE).unwrap();
    let e = outer.set(1, &other_shape).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL), "{e}");
    assert!(outer.remove(0).unwrap());
    assert!(!outer.remove(0).unwrap());
    assert!(outer.get(1).unwrap().is_none());
    assert!(outer.get(2).is_err());
}

#[test]
fn hash_of_maps_insert_get_keys() {
    require_root();
    let name = unique("hom");
    let a = Array::<u32>::create(&unique("t_a"), 4, CreateFlags::NONE).unwrap();
    let b = Array::<u32>::create(&unique("t_b"), 4, CreateFlags::NONE).unwrap();
    b.set(2, &22).unwrap();
    let outer = HashOfMaps::<u64, Array<u32>>::create(&name, 8, &a, CreateFlags::NONE).unwrap();
    outer.insert(&100, &a, MapFlags::NOEXIST).unwrap();
    outer.insert(&200, &b, MapFlags::NOEXIST).unwrap();
    let dup = outer.insert(&200, &a, MapFlags::NOEXIST).unwrap_err();
    assert_eq!(dup.errno(), Some(libc::EEXIST));
    assert_eq!(outer.get(&200).unwrap().unwrap().get(2).unwrap(), 22);
    assert_eq!(outer.get_id(&100).unwrap(), Some(a.info().id));
    assert!(outer.get(&300).unwrap().is_none());
    let mut keys: Vec<u64> = outer.keys().collect::<Result<_, _>>().unwrap();
    keys.sort_unstable();
    assert_eq!(keys, [100, 200]);
    assert!(outer.remove(&100).unwrap());
    assert!(!outer.remove(&100).unwrap());
    let e = HashOfMaps::<u32>::from_map(outer.into_map()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: key: Rust type is 4 bytes, the map's is 8 bytes")
    );
}

#[test]
fn dev_maps_by_ifindex() {
    require_root();
    let lo = 1;
    let d = DevMap::create(&unique("devs"), 4, CreateFlags::NONE).unwrap();
    assert_eq!(d.get(0).unwrap(), None);
    d.set(0, lo, None, MapFlags::ANY).unwrap();
    assert_eq!(
        d.get(0).unwrap(),
        Some(DevMapValue {
            ifindex: lo,
            prog_id: None
        })
    );
    let bad = d.set(1, 999_999, None, MapFlags::ANY).unwrap_err();
    assert_eq!(bad.errno(), Some(libc::EINVAL), "{bad}");
    assert_eq!(d.keys().count(), 4, "a devmap's keys are its indices");
    assert!(d.remove(0).unwrap());
    assert_eq!(d.get(0).unwrap(), None);

    let h = DevMapHash::create(&unique("devh"), 4, CreateFlags::NONE).unwrap();
    h.set(77, lo, None, MapFlags::NOEXIST).unwrap();
    assert_eq!(h.get(77).unwrap().map(|v| v.ifindex), Some(lo));
    assert_eq!(h.keys().collect::<Result<Vec<_>, _>>().unwrap(), vec![77]);
    assert!(h.remove(77).unwrap());
    assert!(!h.remove(77).unwrap());

    // 4-byte devmaps: ifindex only.
    let name = unique("dev4");
    let raw = Map::create_simple(&name, MapType::DEVMAP, 4, 4, 2, CreateFlags::NONE).unwrap();
    let d4 = DevMap::from_map(raw).unwrap();
    d4.set(1, lo, None, MapFlags::ANY).unwrap();
    assert_eq!(
        d4.get(1).unwrap(),
        Some(DevMapValue {
            ifindex: lo,
            prog_id: None
        })
    );
    let prog = trivial_prog();
    let e = d4
        .set(1, lo, Some(prog.as_fd()), MapFlags::ANY)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: set: the map's values are 4 bytes: no room for a program")
    );
    assert!(DevMapHash::from_map(d4.into_map()).is_err());
}

#[test]
fn cpu_map_queue_sizes() {
    require_root();
    let cpus = bpf2rs::sys::possible_cpus().unwrap() as u32;
    let c = CpuMap::create(&unique("cpus"), cpus, CreateFlags::NONE).unwrap();
    assert_eq!(c.get(0).unwrap(), None);
    c.set(0, 192, None, MapFlags::ANY).unwrap();
    assert_eq!(
        c.get(0).unwrap(),
        Some(CpuMapValue {
            queue_size: 192,
            prog_id: None
        })
    );
    let e = c.set(cpus, 192, None, MapFlags::ANY).unwrap_err();
    assert!(e.errno().is_some(), "{e}");
    assert!(c.remove(0).unwrap());
    assert_eq!(c.get(0).unwrap(), None);
    assert_eq!(c.keys().count(), cpus as usize);
}

/// An AF_XDP socket with a UMEM, fill/completion/rx rings, bound to `lo`
/// queue 0 in copy mode: what an xskmap accepts.
fn xdp_socket() -> (OwnedFd, *mut libc::c_void, usize) {
    const FRAMES: usize = 16;
    const FRAME: usize = 4096;
    let len = FRAMES * FRAME;
    // SAFETY: plain syscalls on fds and memory this function owns; every
    // pointer passed points at a live local of the size given.
    unsafe {
        let fd = libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
        assert!(
            fd >= 0,
            "socket(AF_XDP): {}",
            std::io::Error::last_os_error()
        );
        let fd = OwnedFd::from_raw_fd(fd);
        let area = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(area, libc::MAP_FAILED);
        let reg = libc::xdp_umem_reg {
            addr: area as u64,
            len: len as u64,
            chunk_size: FRAME as u32,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        let set = |opt: libc::c_int, val: *const libc::c_void, size: usize| {
            let r = libc::setsockopt(fd.as_raw_fd(), libc::SOL_XDP, opt, val, size as u32);
            assert_eq!(
                r,
                0,
                "setsockopt {opt}: {}",
                std::io::Error::last_os_error()
            );
        };
        set(
            libc::XDP_UMEM_REG,
            (&raw const reg).cast(),
            size_of_val(&reg),
        );
        let n: libc::c_int = FRAMES as libc::c_int;
        for opt in [
            libc::XDP_UMEM_FILL_RING,
            libc::XDP_UMEM_COMPLETION_RING,
            libc::XDP_RX_RING,
        ] {
            set(opt, (&raw const n).cast(), size_of_val(&n));
        }
        let sa = libc::sockaddr_xdp {
            sxdp_family: libc::AF_XDP as u16,
            sxdp_flags: libc::XDP_COPY,
            sxdp_ifindex: 1,
            sxdp_queue_id: 0,
            sxdp_shared_umem_fd: 0,
        };
        let r = libc::bind(
            fd.as_raw_fd(),
            (&raw const sa).cast(),
            size_of_val(&sa) as u32,
        );
        assert_eq!(
            r,
            0,
            "bind AF_XDP to lo: {}",
            std::io::Error::last_os_error()
        );
        (fd, area, len)
    }
}

#[test]
fn xsk_map_takes_bound_af_xdp_sockets() {
    require_root();
    let name = unique("xsks");
    let m = XskMap::create(&name, 2, CreateFlags::NONE).unwrap();
    let (xsk, area, len) = xdp_socket();
    m.set(0, xsk.as_fd()).unwrap();
    m.set(1, xsk.as_fd()).unwrap();
    m.remove(0).unwrap();
    m.remove(0).unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let e = m.set(1, tcp.as_fd()).unwrap_err();
    assert_eq!(
        e.errno(),
        Some(libc::EOPNOTSUPP),
        "not an AF_XDP socket: {e}"
    );
    let e = m.set(2, xsk.as_fd()).unwrap_err();
    assert!(e.to_string().contains("index 2 is out of bounds"), "{e}");
    drop(m);
    drop(xsk);
    // SAFETY: the mapping made by xdp_socket, unmapped once, after the socket closed.
    assert_eq!(unsafe { libc::munmap(area, len) }, 0);
}

/// SO_COOKIE (asm-generic/socket.h): the id sockmaps report for a socket.
const SO_COOKIE: libc::c_int = 57;

fn cookie(s: &impl AsRawFd) -> u64 {
    let mut c = 0u64;
    let mut len = size_of::<u64>() as libc::socklen_t;
    // SAFETY: `c` and `len` are live locals of the sizes passed.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_COOKIE,
            (&raw mut c).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0);
    c
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    (c, s)
}

#[test]
fn sock_map_and_sock_hash_hold_sockets() {
    require_root();
    let (client, server) = tcp_pair();
    let m = SockMap::create(&unique("socks"), 4, CreateFlags::NONE).unwrap();
    m.set(0, client.as_fd(), MapFlags::ANY).unwrap();
    m.set(1, server.as_fd(), MapFlags::NOEXIST).unwrap();
    assert_eq!(m.get(0).unwrap(), Some(cookie(&client)));
    assert_eq!(m.get(1).unwrap(), Some(cookie(&server)));
    assert_eq!(m.get(2).unwrap(), None);
    let e = m.set(1, client.as_fd(), MapFlags::NOEXIST).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    m.set(2, listener.as_fd(), MapFlags::ANY).unwrap();
    assert!(m.remove(0).unwrap());
    assert!(!m.remove(0).unwrap());

    let h = SockHash::<[u8; 12]>::create(&unique("sockh"), 8, CreateFlags::NONE).unwrap();
    h.insert(b"client......", client.as_fd(), MapFlags::ANY)
        .unwrap();
    assert_eq!(h.get(b"client......").unwrap(), Some(cookie(&client)));
    assert_eq!(h.keys().count(), 1);
    assert!(h.remove(b"client......").unwrap());
    assert_eq!(h.get(b"client......").unwrap(), None);

    // 4-byte sockmaps take sockets but cannot report cookies.
    let name = unique("sock4");
    let raw = Map::create_simple(&name, MapType::SOCKMAP, 4, 4, 2, CreateFlags::NONE).unwrap();
    let m4 = SockMap::from_map(raw).unwrap();
    m4.set(0, client.as_fd(), MapFlags::ANY).unwrap();
    let e = m4.get(0).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("map {name}: get: socket cookies can only be read from maps with 8-byte values")
    );
}
