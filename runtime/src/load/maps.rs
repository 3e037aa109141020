//! Map creation for the loader: definitions (with inner templates, BTF ids
//! and LIBBPF_PIN_BY_NAME pinning, and the user's flags, NUMA node and
//! initial contents), global data maps, and static slots.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use super::settings::BPF_F_NUMA_NODE;
use super::{DataMap, LoadError, MapSettings};
use crate::map::{Map, MapFlags};
use crate::mmap::Mmap;
use crate::obj::{DataKind, DataSection, MapSpec, MapType, ObjectSpec, Pinning, SlotTarget};
use crate::prog::Program;
use crate::sys;

const BPF_F_RDONLY_PROG: u32 = 1 << 7;
const BPF_F_MMAPABLE: u32 = 1 << 10;

pub(crate) struct MapCx<'a> {
    pub(crate) object: &'a str,
    pub(crate) btf_fd: Option<BorrowedFd<'a>>,
    /// Whether global data maps get BTF: their value type is a DATASEC,
    /// which kernels before 5.2 lack (and the loaded BTF then too).
    pub(crate) data_btf: bool,
    /// Whether global data maps are made mmapable (and mapped).
    pub(crate) mmap_data: bool,
    pub(crate) pin_root: &'a Path,
    /// Pins this load made (not ones it reused), removed if the load fails.
    pub(crate) new_pins: &'a NewPins,
}

/// The pins a load made. Dropped while armed (the load failed on the way),
/// it removes them, so a failed load leaves nothing behind in bpffs.
#[derive(Debug, Default)]
pub(crate) struct NewPins {
    paths: std::cell::RefCell<Vec<PathBuf>>,
    kept: std::cell::Cell<bool>,
}

impl NewPins {
    fn add(&self, path: &Path) {
        self.paths.borrow_mut().push(path.to_path_buf());
    }

    /// The load succeeded: the pins stay; their paths go to the Object.
    pub(crate) fn keep(&self) -> Vec<PathBuf> {
        self.kept.set(true);
        self.paths.take()
    }
}

impl Drop for NewPins {
    fn drop(&mut self) {
        if !self.kept.get() {
            for p in self.paths.get_mut().iter() {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

impl MapCx<'_> {
    fn setup(&self, map: &str, message: String) -> LoadError {
        LoadError::MapSetup {
            object: self.object.to_owned(),
            map: map.to_owned(),
            message,
        }
    }

    fn map_err(&self) -> impl Fn(crate::map::MapError) -> LoadError + '_ {
        move |source| LoadError::Map {
            object: self.object.to_owned(),
            source,
        }
    }
}

/// Creates (or reuses) the map of one definition.
pub(crate) fn create(
    cx: &MapCx<'_>,
    m: &MapSpec,
    settings: &mut MapSettings,
    notes: &mut Vec<String>,
) -> Result<Map, LoadError> {
    if let Some(fd) = settings.reuse_fd.take() {
        let map = Map::from_fd(&m.name, fd).map_err(cx.map_err())?;
        check_compatible(cx, m, settings, &map, "the reused map")?;
        keep_contents_note(m, settings, "a reused map", notes);
        return Ok(map);
    }
    let pin = match (&settings.pin_path, m.pinning) {
        (Some(p), _) => Some(p.clone()),
        (None, Pinning::ByName) => Some(cx.pin_root.join(&m.name)),
        (None, Pinning::Other(n)) => {
            notes.push(format!(
                "map {}: pinning {n} (iproute2 namespaces) is not supported; not pinned",
                m.name
            ));
            None
        }
        (None, Pinning::None) => None,
    };
    if let Some(path) = &pin {
        if path.exists() {
            let map = open_pinned(cx, &m.name, path)?;
            check_compatible(
                cx,
                m,
                settings,
                &map,
                &format!("the map pinned at {}", path.display()),
            )?;
            keep_contents_note(m, settings, "a pinned map it reused", notes);
            return Ok(map);
        }
    }
    // The inner template: the one given in the settings, else the definition's.
    let inner = match settings.inner.as_ref().or(m.inner.as_deref()) {
        Some(inner) => Some(create_plain(cx, inner, Shape::of(inner), None, notes)?),
        None => None,
    };
    let shape = Shape {
        max_entries: settings.max_entries.unwrap_or(m.max_entries),
        map_flags: map_flags(m, settings),
        numa_node: settings.numa_node.unwrap_or(m.numa_node),
    };
    let initial = initial_value(cx, m, settings, shape.max_entries)?;
    let map = create_plain(cx, m, shape, inner.as_ref().map(|i| i.as_fd()), notes)?;
    if let Some(values) = initial {
        write_initial_value(cx, m, &map, values)?;
    }
    if let Some(path) = &pin {
        map.pin(path).map_err(cx.map_err())?;
        cx.new_pins.add(path);
    }
    Ok(map)
}

/// The map flags a definition is created (or checked) with: the
/// settings' or the definition's, with BPF_F_NUMA_NODE when a node is set.
fn map_flags(m: &MapSpec, settings: &MapSettings) -> u32 {
    let flags = settings.map_flags.unwrap_or(m.map_flags);
    if settings.numa_node.is_some() {
        flags | BPF_F_NUMA_NODE
    } else {
        flags
    }
}

/// What BPF_MAP_CREATE gets besides the definition's type and sizes.
#[derive(Clone, Copy)]
struct Shape {
    max_entries: u32,
    map_flags: u32,
    numa_node: u32,
}

impl Shape {
    fn of(m: &MapSpec) -> Shape {
        Shape {
            max_entries: m.max_entries,
            map_flags: m.map_flags,
            numa_node: m.numa_node,
        }
    }
}

/// The settings' initial value of an array map, checked against the
/// size it will have; `None` when there is none.
fn initial_value<'s>(
    cx: &MapCx<'_>,
    m: &MapSpec,
    settings: &'s MapSettings,
    max_entries: u32,
) -> Result<Option<&'s [u8]>, LoadError> {
    let Some(bytes) = settings.initial_value.as_deref() else {
        return Ok(None);
    };
    if m.map_type != MapType::ARRAY {
        return Err(cx.setup(
            &m.name,
            format!(
                "an initial value is for array maps, and this is a {} map \
                 (global data takes one with OpenObject::set_initial_value)",
                m.map_type
            ),
        ));
    }
    let want = u64::from(max_entries) * u64::from(m.value_size);
    if bytes.len() as u64 != want {
        return Err(cx.setup(
            &m.name,
            format!(
                "the initial value is {} bytes, the map holds {want} \
                 ({max_entries} entries of {} bytes)",
                bytes.len(),
                m.value_size
            ),
        ));
    }
    Ok(Some(bytes))
}

/// Writes an array map's initial value, one index per value.
fn write_initial_value(
    cx: &MapCx<'_>,
    m: &MapSpec,
    map: &Map,
    values: &[u8],
) -> Result<(), LoadError> {
    let size = m.value_size as usize;
    for (i, value) in values.chunks_exact(size.max(1)).enumerate() {
        map.update(&(i as u32).to_ne_bytes(), value, MapFlags::ANY)
            .map_err(cx.map_err())?;
    }
    Ok(())
}

/// A map the load did not create keeps its contents: say so when an
/// initial value was set for it.
fn keep_contents_note(m: &MapSpec, settings: &MapSettings, what: &str, notes: &mut Vec<String>) {
    if settings.initial_value.is_some() {
        notes.push(format!(
            "map {}: initial value not written: {what} keeps its contents",
            m.name
        ));
    }
}

fn create_plain(
    cx: &MapCx<'_>,
    m: &MapSpec,
    shape: Shape,
    inner: Option<BorrowedFd<'_>>,
    notes: &mut Vec<String>,
) -> Result<Map, LoadError> {
    let max_entries = shape.max_entries;
    let max_entries = if max_entries == 0 && m.map_type == MapType::PERF_EVENT_ARRAY {
        sys::possible_cpus().map_err(|e| cx.setup(&m.name, format!("counting CPUs: {e}")))? as u32
    } else {
        max_entries
    };
    if max_entries == 0 && !m.map_type.is_storage() {
        // Tools such as libbpf-tools' cpudist leave the size to user space;
        // the kernel would only say EINVAL.
        return Err(cx.setup(
            &m.name,
            "max_entries is 0: the object leaves the size to user space; set it before \
             load (`OpenObject::map_mut(name).set_max_entries(n)`, or `--max-entries MAP=N` \
             with `cargo bpf2rs load`)"
                .into(),
        ));
    }
    let mut create = sys::MapCreate {
        name: &m.name,
        map_type: m.map_type.0,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries,
        map_flags: shape.map_flags,
        inner_map_fd: inner,
        numa_node: shape.numa_node,
        map_extra: m.map_extra,
        ..Default::default()
    };
    let with_btf = cx.btf_fd.is_some() && m.value_type.is_some() && !m.map_type.refuses_btf();
    if with_btf {
        create.btf_fd = cx.btf_fd;
        create.btf_key_type_id = m.key_type.map(|t| t.0).unwrap_or(0);
        create.btf_value_type_id = m.value_type.map(|t| t.0).unwrap_or(0);
        match Map::create(&create) {
            Ok(map) => return Ok(map),
            Err(e) => notes.push(format!("map {}: created without BTF ({e})", m.name)),
        }
        create.btf_fd = None;
        create.btf_key_type_id = 0;
        create.btf_value_type_id = 0;
    }
    Map::create(&create).map_err(cx.map_err())
}

/// The map pinned at `path`, named after the definition.
fn open_pinned(cx: &MapCx<'_>, name: &str, path: &Path) -> Result<Map, LoadError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        cx.setup(
            name,
            format!("pin path {} contains a NUL byte", path.display()),
        )
    })?;
    let fd = sys::obj_get(&c)
        .map_err(|e| cx.setup(name, format!("opening the pin {}: {e}", path.display())))?;
    Map::from_fd(name, fd).map_err(cx.map_err())
}

/// A pinned or reused map must be what the definition asks for.
fn check_compatible(
    cx: &MapCx<'_>,
    m: &MapSpec,
    settings: &MapSettings,
    map: &Map,
    what: &str,
) -> Result<(), LoadError> {
    let info = map.info();
    let want_max = settings.max_entries.unwrap_or(m.max_entries);
    let checks: [(&str, u64, u64); 6] = [
        ("type", u64::from(m.map_type.0), u64::from(info.map_type.0)),
        ("key_size", u64::from(m.key_size), u64::from(info.key_size)),
        (
            "value_size",
            u64::from(m.value_size),
            u64::from(info.value_size),
        ),
        (
            "max_entries",
            u64::from(want_max),
            u64::from(info.max_entries),
        ),
        (
            "map_flags",
            u64::from(map_flags(m, settings)),
            u64::from(info.map_flags),
        ),
        ("map_extra", m.map_extra, info.map_extra),
    ];
    for (field, want, have) in checks {
        if want != have && !(field == "max_entries" && want == 0) {
            let show = |v: u64| {
                if field == "type" {
                    MapType(v as u32).to_string()
                } else {
                    v.to_string()
                }
            };
            return Err(cx.setup(
                &m.name,
                format!(
                    "{what} has {field} {}, the definition wants {}",
                    show(have),
                    show(want)
                ),
            ));
        }
    }
    Ok(())
}

/// The kernel's name of a data map: as much of the object's name as fits
/// before the section name, like libbpf (`kitchen.rodata`).
fn data_map_name(object: &str, section: &str) -> String {
    let keep = 15usize.saturating_sub(section.len().min(15));
    let prefix: String = object
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(keep)
        .collect();
    format!("{prefix}{section}")
}

/// Creates the array map of a global data section, writes its initial
/// contents, freezes `.rodata` and maps the value into memory (unless the
/// kernel cannot: then user space reads and writes it through the map).
pub(crate) fn create_data(
    cx: &MapCx<'_>,
    d: &DataSection,
    bytes: &[u8],
    notes: &mut Vec<String>,
) -> Result<DataMap, LoadError> {
    let name = data_map_name(cx.object, &d.name);
    let mmap_flag = if cx.mmap_data { BPF_F_MMAPABLE } else { 0 };
    let flags = match d.kind {
        DataKind::Rodata => mmap_flag | BPF_F_RDONLY_PROG,
        _ => mmap_flag,
    };
    let mut create = sys::MapCreate {
        name: &name,
        map_type: MapType::ARRAY.0,
        key_size: 4,
        value_size: d.size,
        max_entries: 1,
        map_flags: flags,
        ..Default::default()
    };
    let map = match (cx.btf_fd, d.btf_type) {
        (Some(btf), Some(ty)) if cx.data_btf => {
            create.btf_fd = Some(btf);
            create.btf_value_type_id = ty.0;
            match Map::create(&create) {
                Ok(m) => m,
                Err(e) => {
                    notes.push(format!("global data {}: created without BTF ({e})", d.name));
                    create.btf_fd = None;
                    create.btf_value_type_id = 0;
                    Map::create(&create).map_err(cx.map_err())?
                }
            }
        }
        _ => Map::create(&create).map_err(cx.map_err())?,
    };
    map.update(&0u32.to_ne_bytes(), bytes, MapFlags::ANY)
        .map_err(cx.map_err())?;
    let writable = d.kind != DataKind::Rodata;
    if !writable {
        map.freeze().map_err(cx.map_err())?;
    }
    let mmap = match cx.mmap_data {
        true => Some(
            Mmap::map(map.as_fd(), d.size as usize, writable)
                .map_err(|e| cx.setup(&d.name, format!("mmap of the global data map: {e}")))?,
        ),
        false => None,
    };
    Ok(DataMap {
        section: d.name.clone(),
        kind: d.kind,
        map,
        mmap,
    })
}

/// Map-in-map slots from the definitions' static `values`.
pub(crate) fn fill_map_slots(
    object: &str,
    spec: &ObjectSpec,
    maps: &[Option<Map>],
) -> Result<(), LoadError> {
    for (m, map) in spec.maps.iter().zip(maps) {
        let Some(map) = map else { continue };
        for slot in &m.values {
            let SlotTarget::Map(target) = &slot.target else {
                continue;
            };
            let inner = maps
                .iter()
                .flatten()
                .find(|x| x.name() == target)
                .ok_or_else(|| LoadError::MapSetup {
                    object: object.to_owned(),
                    map: m.name.clone(),
                    message: format!(
                        "slot {} names map {target}, which was not created \
                             (its autocreate is off)",
                        slot.index
                    ),
                })?;
            set_slot(object, map, slot.index, inner.as_fd().as_raw_fd_u32())?;
        }
    }
    Ok(())
}

/// Prog-array slots from the definitions' static `values`.
pub(crate) fn fill_prog_slots(
    object: &str,
    spec: &ObjectSpec,
    maps: &[Option<Map>],
    progs: &[Program],
) -> Result<(), LoadError> {
    for (m, map) in spec.maps.iter().zip(maps) {
        let Some(map) = map else { continue };
        for slot in &m.values {
            let SlotTarget::Program(target) = &slot.target else {
                continue;
            };
            // Not loaded (autoload off): the slot stays empty, as in libbpf.
            let Some(fd) = progs
                .iter()
                .find(|p| p.name() == target)
                .and_then(|p| p.fd().ok())
            else {
                continue;
            };
            set_slot(object, map, slot.index, fd.as_raw_fd_u32())?;
        }
    }
    Ok(())
}

/// Writes fd `fd` (a map or a program) at `index` of a map-in-map or prog array.
fn set_slot(object: &str, map: &Map, index: u32, fd: u32) -> Result<(), LoadError> {
    map.update(&index.to_ne_bytes(), &fd.to_ne_bytes(), MapFlags::ANY)
        .map_err(|source| LoadError::Map {
            object: object.to_owned(),
            source,
        })
}

trait RawFdU32 {
    fn as_raw_fd_u32(&self) -> u32;
}

impl RawFdU32 for BorrowedFd<'_> {
    fn as_raw_fd_u32(&self) -> u32 {
        use std::os::fd::AsRawFd;
        self.as_raw_fd() as u32
    }
}
