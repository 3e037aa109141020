//! USDT probes: the statically defined tracepoints `<sys/sdt.h>` (and
//! languages that copy its format) compile into executables and libraries.
//!
//! In: a loaded program written with libbpf's `<bpf/usdt.bpf.h>` (section
//! `usdt` or `usdt/PATH:PROVIDER:NAME`), and the ELF file that holds the
//! probe. Out: one [`Link`] covering every site of the probe: a single
//! `uprobe_multi` link (Linux 6.6+), or one uprobe per site where the
//! program was loaded without `uprobe_multi` (older kernels, or
//! `ProgSettings::set_uprobe_multi(false)`), as libbpf does.
//!
//! The protocol is libbpf's: each probe site's argument locations, decoded
//! from the `.note.stapsdt` argument string (`-4@%eax 8@-16(%rbp) 4@$5`),
//! become a spec written into the object's `__bpf_usdt_specs` array, and
//! the uprobe's BPF cookie is the spec's index, which `bpf_usdt_arg()`
//! and friends read. Without BPF cookies (before Linux 5.15) the program
//! looks the index up by the site's address in `__bpf_usdt_ip_to_spec_id`
//! instead, which [`super::usdt_by_ip`] fills. Spec slots are shared
//! between links with identical specs and freed when the last such link is
//! dropped. The spec's layout is read from the object's own BTF, so any
//! header version with the same field names works. A probe with a
//! semaphore gets it counted up by the kernel (the uprobe's reference
//! counter) while the link lives.
//!
//! Argument decoding covers x86-64 (constants, registers, register plus
//! offset); other architectures and index-register addressing give an
//! error naming the argument.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use object::{Object, ObjectSection, ObjectSegment};

use super::uprobe::{perf_pid, UprobeMultiSites, Uprobes};
use super::usdt_by_ip::SiteAddresses;
use super::{Ctx, Link, LinkError};
use crate::btf::{Btf, Type, TypeId};
use crate::map::{Map, MapFlags};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;

/// Name of the spec array `<bpf/usdt.bpf.h>` declares.
pub(crate) const SPEC_MAP: &str = "__bpf_usdt_specs";
/// Name of the address -> spec index map `<bpf/usdt.bpf.h>` declares for
/// kernels without BPF cookies.
pub(crate) const IP_MAP: &str = "__bpf_usdt_ip_to_spec_id";

/// One probe site from an ELF file's `.note.stapsdt` notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtNote {
    pub provider: String,
    pub name: String,
    /// Virtual address of the probe's instruction (after the
    /// `.stapsdt.base` adjustment prelinked files need).
    pub address: u64,
    /// File offset of that instruction: where the uprobe goes.
    pub file_offset: u64,
    /// File offset of the probe's semaphore; 0 when it has none.
    pub semaphore_offset: u64,
    /// The argument string, e.g. `-4@%eax 8@-16(%rbp)`.
    pub args: String,
}

/// Where a USDT argument lives when the probe fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsdtLocation {
    /// A constant (`$5`).
    Const(i64),
    /// A register, as its byte offset in `struct pt_regs` (`%rax`).
    Reg(u16),
    /// Memory at a register plus an offset (`-16(%rbp)`).
    Deref { reg: u16, offset: i64 },
}

/// One decoded USDT argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsdtArg {
    /// 1, 2, 4 or 8 bytes.
    pub size: u8,
    pub signed: bool,
    pub location: UsdtLocation,
}

/// Options of [`Program::attach_usdt`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsdtOpts {
    /// Only this process; `None` for every process that maps the file.
    pub pid: Option<u32>,
    /// Value of `bpf_usdt_cookie()` in the program.
    pub cookie: u64,
}

/// Every USDT probe site of the ELF file at `path`.
pub fn usdt_notes(path: &Path) -> Result<Vec<UsdtNote>, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    usdt_notes_in(&data)
}

/// Every USDT probe site of the ELF file `data`.
pub fn usdt_notes_in(data: &[u8]) -> Result<Vec<UsdtNote>, String> {
    parse_notes(data).map(|(notes, _)| notes)
}

/// The probe sites of the ELF file `data`, and whether it is
/// position-independent (a shared library or PIE executable: ET_DYN).
fn parse_notes(data: &[u8]) -> Result<(Vec<UsdtNote>, bool), String> {
    let file = object::File::parse(data).map_err(|e| format!("not an ELF file: {e}"))?;
    if !file.is_64() {
        return Err("32-bit ELF files are not supported for USDT".into());
    }
    let dynamic = file.kind() == object::ObjectKind::Dynamic;
    let Some(notes) = file.section_by_name(".note.stapsdt") else {
        return Ok((Vec::new(), dynamic));
    };
    let raw = notes
        .data()
        .map_err(|e| format!("section .note.stapsdt: {e}"))?;
    // Prelinking moves the file but not the notes: `.stapsdt.base`'s
    // address now, against the one recorded in each note.
    let base_now = file.section_by_name(".stapsdt.base").map(|s| s.address());
    let segments: Vec<(u64, u64, u64)> = file
        .segments()
        .map(|s| {
            let (offset, _) = s.file_range();
            (s.address(), s.size(), offset)
        })
        .collect();
    let file_offset = |addr: u64, what: &str| -> Result<u64, String> {
        segments
            .iter()
            .find(|(va, size, _)| addr >= *va && addr - va < *size)
            .and_then(|(va, _, off)| (addr - va).checked_add(*off))
            .ok_or_else(|| format!("{what} address {addr:#x} is in no loadable segment"))
    };
    let little = file.is_little_endian();
    let word = |b: &[u8]| -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let quad = |b: &[u8]| -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if little {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < raw.len() {
        let bad = |why: &str| format!("section .note.stapsdt: note at offset {pos}: {why}");
        let hdr = raw
            .get(pos..pos + 12)
            .ok_or_else(|| bad("truncated header"))?;
        let (namesz, descsz, kind) = (
            word(&hdr[0..4]) as usize,
            word(&hdr[4..8]) as usize,
            word(&hdr[8..12]),
        );
        let name_at = pos + 12;
        let desc_at = name_at
            .checked_add(namesz.next_multiple_of(4))
            .ok_or_else(|| bad("name size overflows"))?;
        let end = desc_at
            .checked_add(descsz)
            .ok_or_else(|| bad("descriptor size overflows"))?;
        let name = raw
            .get(name_at..name_at + namesz)
            .ok_or_else(|| bad("truncated name"))?;
        let desc = raw
            .get(desc_at..end)
            .ok_or_else(|| bad("truncated descriptor"))?;
        let next = end.next_multiple_of(4);
        if kind == 3 && name == b"stapsdt\0" {
            if desc.len() < 24 {
                return Err(bad("descriptor shorter than its three addresses"));
            }
            let (mut address, note_base, mut semaphore) =
                (quad(&desc[0..8]), quad(&desc[8..16]), quad(&desc[16..24]));
            if let Some(now) = base_now {
                address = address.wrapping_add(now).wrapping_sub(note_base);
                if semaphore != 0 {
                    semaphore = semaphore.wrapping_add(now).wrapping_sub(note_base);
                }
            }
            let mut strings = desc[24..].split(|&b| b == 0);
            let mut text = |what: &str| -> Result<String, String> {
                let s = strings.next().ok_or_else(|| bad(&format!("no {what}")))?;
                String::from_utf8(s.to_vec()).map_err(|_| bad(&format!("{what} is not UTF-8")))
            };
            let (provider, probe, args) = (text("provider")?, text("name")?, text("arguments")?);
            let what = format!("probe {provider}:{probe}");
            out.push(UsdtNote {
                file_offset: file_offset(address, &what)?,
                semaphore_offset: if semaphore == 0 {
                    0
                } else {
                    file_offset(semaphore, &format!("{what} semaphore"))?
                },
                provider,
                name: probe,
                address,
                args,
            });
        }
        pos = next;
    }
    Ok((out, dynamic))
}

/// Decodes an x86-64 USDT argument string (`-4@%eax 8@-16(%rbp) 4@$5`).
pub fn parse_usdt_args(args: &str) -> Result<Vec<UsdtArg>, String> {
    args.split_whitespace()
        .map(|a| parse_arg(a).map_err(|why| format!("argument `{a}`: {why}")))
        .collect()
}

fn parse_arg(arg: &str) -> Result<UsdtArg, String> {
    let (size, loc) = arg.split_once('@').ok_or("no `SIZE@` prefix")?;
    let (signed, digits) = match size.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, size),
    };
    let size: u8 = match digits {
        "1" => 1,
        "2" => 2,
        "4" => 4,
        "8" => 8,
        _ => return Err(format!("size {size} is not 1, 2, 4 or 8")),
    };
    let location = if let Some(c) = loc.strip_prefix('$') {
        UsdtLocation::Const(number(c)?)
    } else if let Some(r) = loc.strip_prefix('%') {
        UsdtLocation::Reg(register(r)?)
    } else if let Some((off, inner)) = loc.split_once('(') {
        let inner = inner.strip_suffix(')').ok_or("unbalanced parentheses")?;
        if inner.contains(',') {
            return Err("index-register addressing is not supported".into());
        }
        let reg = inner
            .strip_prefix('%')
            .ok_or("no register inside the parentheses")?;
        let offset = if off.is_empty() { 0 } else { number(off)? };
        UsdtLocation::Deref {
            reg: register(reg)?,
            offset,
        }
    } else {
        return Err("not a constant, register or memory operand".into());
    };
    Ok(UsdtArg {
        size,
        signed,
        location,
    })
}

/// A decimal or `0x` hexadecimal number, possibly negative.
fn number(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .map_err(|_| format!("`{s}` is not a number"))? as i64;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The byte offset in x86-64's `struct pt_regs` (the ptrace register
/// order) of register `name`, in any of its widths.
fn register(name: &str) -> Result<u16, String> {
    const REGS: [(u16, &[&str]); 18] = [
        (0, &["r15", "r15d", "r15w", "r15b"]),
        (8, &["r14", "r14d", "r14w", "r14b"]),
        (16, &["r13", "r13d", "r13w", "r13b"]),
        (24, &["r12", "r12d", "r12w", "r12b"]),
        (32, &["rbp", "ebp", "bp", "bpl"]),
        (40, &["rbx", "ebx", "bx", "bl"]),
        (48, &["r11", "r11d", "r11w", "r11b"]),
        (56, &["r10", "r10d", "r10w", "r10b"]),
        (64, &["r9", "r9d", "r9w", "r9b"]),
        (72, &["r8", "r8d", "r8w", "r8b"]),
        (80, &["rax", "eax", "ax", "al"]),
        (88, &["rcx", "ecx", "cx", "cl"]),
        (96, &["rdx", "edx", "dx", "dl"]),
        (104, &["rsi", "esi", "si", "sil"]),
        (112, &["rdi", "edi", "di", "dil"]),
        (128, &["rip", "eip", "ip"]),
        (144, &["eflags"]),
        (152, &["rsp", "esp", "sp", "spl"]),
    ];
    REGS.iter()
        .find(|(_, names)| names.contains(&name))
        .map(|r| r.0)
        .ok_or_else(|| format!("unknown register %{name}"))
}

/// A field of the spec struct: byte offset and size.
#[derive(Debug, Clone, Copy)]
struct Field {
    offset: usize,
    size: usize,
}

/// Where `<bpf/usdt.bpf.h>`'s `struct __bpf_usdt_spec` keeps what, read
/// from the object's BTF.
#[derive(Debug)]
struct SpecLayout {
    size: usize,
    args: Field,
    max_args: usize,
    arg_stride: usize,
    val_off: Field,
    arg_type: Field,
    reg_off: Field,
    arg_signed: Field,
    arg_bitshift: Field,
    usdt_cookie: Field,
    arg_cnt: Field,
    /// BPF_USDT_ARG_CONST, _REG, _REG_DEREF.
    kinds: [u64; 3],
}

impl SpecLayout {
    fn from_btf(btf: &Btf, value: TypeId) -> Result<SpecLayout, String> {
        let e = |e: crate::btf::BtfError| e.to_string();
        let spec_id = btf.skip_mods_and_typedefs(value).map_err(e)?;
        let fields = |id: TypeId, want: &[&str]| -> Result<Vec<(Field, TypeId)>, String> {
            let Type::Struct(s) = btf.type_by_id(id).map_err(e)? else {
                return Err(format!(
                    "{} is not a struct",
                    btf.c_type_name(id).map_err(e)?
                ));
            };
            want.iter()
                .map(|w| {
                    let m = s
                        .members
                        .iter()
                        .find(|m| btf.name(m.name) == *w)
                        .ok_or_else(|| format!("struct has no member `{w}`"))?;
                    let bits = btf.member_bits(m).map_err(e)?;
                    if bits.bit_offset % 8 != 0 || bits.bitfield_size.is_some() {
                        return Err(format!("member `{w}` is a bitfield"));
                    }
                    let size = btf.size_of(m.ty).map_err(e)? as usize;
                    Ok((
                        Field {
                            offset: (bits.bit_offset / 8) as usize,
                            size,
                        },
                        m.ty,
                    ))
                })
                .collect()
        };
        let top = fields(spec_id, &["args", "usdt_cookie", "arg_cnt"])?;
        let Type::Array(arr) = btf
            .type_by_id(btf.skip_mods_and_typedefs(top[0].1).map_err(e)?)
            .map_err(e)?
        else {
            return Err("member `args` is not an array".into());
        };
        let arg_id = btf.skip_mods_and_typedefs(arr.elem).map_err(e)?;
        let arg = fields(
            arg_id,
            &[
                "val_off",
                "arg_type",
                "reg_off",
                "arg_signed",
                "arg_bitshift",
            ],
        )?;
        let enum_id = btf.skip_mods_and_typedefs(arg[1].1).map_err(e)?;
        let Type::Enum(en) = btf.type_by_id(enum_id).map_err(e)? else {
            return Err("member `arg_type` is not an enum".into());
        };
        let kind = |name: &str| {
            en.values
                .iter()
                .find(|v| btf.name(v.name) == name)
                .map(|v| v.value)
                .ok_or_else(|| format!("enum has no {name}"))
        };
        Ok(SpecLayout {
            size: btf.size_of(spec_id).map_err(e)? as usize,
            args: top[0].0,
            max_args: arr.len as usize,
            arg_stride: btf.size_of(arg_id).map_err(e)? as usize,
            val_off: arg[0].0,
            arg_type: arg[1].0,
            reg_off: arg[2].0,
            arg_signed: arg[3].0,
            arg_bitshift: arg[4].0,
            usdt_cookie: top[1].0,
            arg_cnt: top[2].0,
            kinds: [
                kind("BPF_USDT_ARG_CONST")?,
                kind("BPF_USDT_ARG_REG")?,
                kind("BPF_USDT_ARG_REG_DEREF")?,
            ],
        })
    }

    /// The spec value for `args` and `cookie`.
    fn encode(&self, args: &[UsdtArg], cookie: u64) -> Result<Vec<u8>, String> {
        if args.len() > self.max_args {
            return Err(format!(
                "{} arguments, the object's usdt.bpf.h takes at most {}",
                args.len(),
                self.max_args
            ));
        }
        let mut v = vec![0u8; self.size];
        for (i, a) in args.iter().enumerate() {
            let base = self.args.offset + i * self.arg_stride;
            let (kind, val, reg) = match a.location {
                UsdtLocation::Const(c) => (self.kinds[0], c as u64, 0),
                UsdtLocation::Reg(r) => (self.kinds[1], 0, r),
                UsdtLocation::Deref { reg, offset } => (self.kinds[2], offset as u64, reg),
            };
            put(&mut v, base, self.val_off, val)?;
            put(&mut v, base, self.arg_type, kind)?;
            put(&mut v, base, self.reg_off, u64::from(reg))?;
            put(&mut v, base, self.arg_signed, u64::from(a.signed))?;
            put(&mut v, base, self.arg_bitshift, 64 - 8 * u64::from(a.size))?;
        }
        put(&mut v, 0, self.usdt_cookie, cookie)?;
        put(&mut v, 0, self.arg_cnt, args.len() as u64)?;
        Ok(v)
    }
}

/// Writes the low `field.size` bytes of `value` (native byte order) at
/// `base + field.offset`.
fn put(buf: &mut [u8], base: usize, field: Field, value: u64) -> Result<(), String> {
    let at = base + field.offset;
    let dst = buf
        .get_mut(at..at + field.size)
        .filter(|_| field.size <= 8)
        .ok_or("the spec struct's layout does not fit its size")?;
    let bytes = value.to_ne_bytes();
    if cfg!(target_endian = "little") {
        dst.copy_from_slice(&bytes[..field.size]);
    } else {
        dst.copy_from_slice(&bytes[8 - field.size..]);
    }
    Ok(())
}

/// An object's USDT spec array and which of its slots are in use, shared by
/// its `usdt` programs and their links.
#[derive(Debug)]
pub(crate) struct UsdtSpecs {
    map: Map,
    layout: Result<SpecLayout, String>,
    /// Per slot: the spec written there and how many links use it.
    slots: Mutex<Vec<Option<Slot>>>,
    /// Where the programs find a site's spec index: `None` in the uprobe's
    /// BPF cookie, else by the site's address in this map (the object's
    /// `LINUX_HAS_BPF_COOKIE` is false), or an error saying why it can't.
    by_ip: Option<Result<Map, String>>,
}

/// A spec slot in use.
#[derive(Debug, Clone)]
struct Slot {
    spec: Vec<u8>,
    users: usize,
}

impl UsdtSpecs {
    /// The spec array `map`, whose BTF value type is `value` in `btf`.
    /// `by_ip`: the object's address map when its programs find specs by
    /// address (no BPF cookies); `Some(None)` when they would but the
    /// object has no such map.
    pub(crate) fn new(
        map: Map,
        btf: Option<&Btf>,
        value: Option<TypeId>,
        by_ip: Option<Option<Map>>,
    ) -> UsdtSpecs {
        let layout = match (btf, value) {
            (Some(btf), Some(v)) => {
                SpecLayout::from_btf(btf, v).map_err(|e| format!("map {SPEC_MAP}: value type: {e}"))
            }
            _ => Err(format!("map {SPEC_MAP} has no BTF value type")),
        };
        let slots = Mutex::new(vec![None; map.info().max_entries as usize]);
        let by_ip = by_ip.map(|m| {
            m.ok_or_else(|| {
                format!("without BPF cookies the spec is found by address, and the object has no {IP_MAP} map")
            })
        });
        UsdtSpecs {
            map,
            layout,
            slots,
            by_ip,
        }
    }

    /// A slot holding `spec`: an existing identical one, or a free one,
    /// written now.
    fn acquire(&self, spec: Vec<u8>) -> Result<u32, String> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.spec == spec))
        {
            if let Some(s) = &mut slots[i] {
                s.users += 1;
            }
            return Ok(i as u32);
        }
        let free = slots.iter().position(Option::is_none).ok_or_else(|| {
            format!(
                "all {} slots of {SPEC_MAP} are in use (raise BPF_USDT_MAX_SPEC_CNT)",
                slots.len()
            )
        })?;
        let key = (free as u32).to_ne_bytes();
        self.map
            .update(&key, &spec, MapFlags::ANY)
            .map_err(|e| e.to_string())?;
        slots[free] = Some(Slot { spec, users: 1 });
        Ok(free as u32)
    }

    fn release(&self, ids: &[u32]) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for &id in ids {
            if let Some(slot) = slots.get_mut(id as usize) {
                if let Some(s) = slot {
                    s.users -= 1;
                    if s.users == 0 {
                        *slot = None;
                    }
                }
            }
        }
    }
}

/// Spec slots a USDT link uses, released when the link is dropped (after
/// its kernel links: see [`Link`]'s field order).
#[derive(Debug)]
pub(crate) struct SpecSlots {
    specs: Arc<UsdtSpecs>,
    ids: Vec<u32>,
    /// Keys of the address map this link added (no BPF cookies).
    addresses: Vec<u64>,
    /// Set once the link is pinned: it may outlive this process's handle.
    kept: AtomicBool,
}

impl SpecSlots {
    /// Keeps the slots taken for the rest of the process.
    pub(crate) fn keep(&self) {
        self.kept.store(true, Ordering::Relaxed);
    }
}

impl Drop for SpecSlots {
    fn drop(&mut self) {
        if self.kept.load(Ordering::Relaxed) {
            return;
        }
        // The next link on these sites adds them again (libbpf deletes them
        // on detach too, or they would collide).
        if let Some(Ok(map)) = &self.specs.by_ip {
            for ip in &self.addresses {
                let _ = map.delete(&ip.to_ne_bytes());
            }
        }
        self.specs.release(&self.ids);
    }
}

/// Where the uprobe PMU says it can count a USDT semaphore (Linux 4.20+);
/// libbpf checks the same file.
const REF_CTR_FORMAT: &str = "/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset";

impl Program {
    /// Attaches a `usdt` program to every site of probe `provider:name` in
    /// the ELF file at `path` (an executable or a shared library). The
    /// program reads the probe's arguments with `<bpf/usdt.bpf.h>`'s
    /// `BPF_USDT()`/`bpf_usdt_arg()`.
    ///
    /// One `uprobe_multi` link covers every site (Linux 6.6+). Where the
    /// program was loaded without it (older kernels, or
    /// [`ProgSettings::set_uprobe_multi`](crate::load::ProgSettings::set_uprobe_multi)
    /// off), each site gets a uprobe of its own, all owned by the returned
    /// [`Link`], as libbpf does. Without BPF cookies too (before Linux
    /// 5.15), a probe in a shared library or a position-independent
    /// executable needs `opts.pid`: its sites' addresses differ per process.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::UsdtOpts;
    /// let _link = prog.attach_usdt("/usr/bin/python3", "python", "function__entry", UsdtOpts::default())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_usdt(
        &self,
        path: impl AsRef<Path>,
        provider: &str,
        name: &str,
        opts: UsdtOpts,
    ) -> Result<Link, LinkError> {
        let path = path.as_ref();
        let desc = format!("{}:{provider}:{name}", path.display());
        let ctx = Ctx {
            program: self.name(),
            kind: "usdt",
            target: &desc,
        };
        if self.prog_type() != ProgType::KPROBE {
            return Err(ctx.target(format!("the program is {}, not kprobe", self.prog_type())));
        }
        let specs = self.usdt_specs().ok_or_else(|| {
            ctx.target(format!(
                "not a `usdt` program of an object with a {SPEC_MAP} map (include <bpf/usdt.bpf.h>)"
            ))
        })?;
        let layout = specs.layout.as_ref().map_err(|e| ctx.target(e.clone()))?;
        let data = std::fs::read(path).map_err(|e| ctx.target(e.to_string()))?;
        let (notes, dynamic) = parse_notes(&data).map_err(|r| ctx.target(r))?;
        let sites: Vec<&UsdtNote> = notes
            .iter()
            .filter(|n| n.provider == provider && n.name == name)
            .collect();
        if sites.is_empty() {
            return Err(ctx.target(format!(
                "no such probe ({} USDT probe sites in the file)",
                notes.len()
            )));
        }
        // Without BPF cookies: the address map, and where the sites are.
        let by_ip = match &specs.by_ip {
            None => None,
            Some(Ok(map)) => {
                let addresses =
                    SiteAddresses::new(path, dynamic, opts.pid).map_err(|r| ctx.target(r))?;
                Some((map, addresses))
            }
            Some(Err(why)) => return Err(ctx.target(why.clone())),
        };
        // The kind of link the program was loaded for (crate::load's
        // expected_attach_type): one uprobe_multi link, or a uprobe per site.
        let uprobes = if self.expected_attach_type() == Some(AttachType::TRACE_UPROBE_MULTI) {
            None
        } else {
            if sites.iter().any(|s| s.semaphore_offset != 0) && !Path::new(REF_CTR_FORMAT).exists()
            {
                return Err(ctx.target(format!(
                    "the probe has a semaphore, and this kernel's uprobes cannot count one \
                     (no {REF_CTR_FORMAT}: Linux 4.20+)"
                )));
            }
            Some(Uprobes::new(
                self,
                ctx,
                path,
                false,
                perf_pid(ctx, opts.pid)?,
            )?)
        };
        // Declared before the kernel links, so dropped after them on error.
        let mut slots = SpecSlots {
            specs: Arc::clone(specs),
            ids: Vec::with_capacity(sites.len()),
            addresses: Vec::new(),
            kept: AtomicBool::new(false),
        };
        let mut per_site = Vec::new();
        let mut offsets = Vec::with_capacity(sites.len());
        let mut ref_ctrs = Vec::with_capacity(sites.len());
        let mut cookies = Vec::with_capacity(sites.len());
        for site in &sites {
            let site_desc = format!("{desc} (site at {:#x})", site.address);
            let site_ctx = Ctx {
                target: &site_desc,
                ..ctx
            };
            let at = |r: String| site_ctx.target(r);
            let args = parse_usdt_args(&site.args).map_err(at)?;
            let spec = layout.encode(&args, opts.cookie).map_err(at)?;
            let id = specs.acquire(spec).map_err(at)?;
            slots.ids.push(id);
            if let Some((map, addresses)) = &by_ip {
                let ip = addresses.of(site).map_err(at)?;
                // The program reads a `long` key and a `__u32` value.
                match map.update(&ip.to_ne_bytes(), &id.to_ne_bytes(), MapFlags::NOEXIST) {
                    Ok(()) => slots.addresses.push(ip),
                    Err(e) if e.errno() == Some(libc::EEXIST) => {
                        return Err(at(format!(
                            "address {ip:#x} is in {IP_MAP} already: without BPF cookies a \
                             site takes one USDT link at a time"
                        )))
                    }
                    Err(e) => return Err(at(e.to_string())),
                }
            }
            let cookie = if by_ip.is_some() { 0 } else { u64::from(id) };
            match &uprobes {
                Some(uprobes) => per_site.push(uprobes.attach(
                    site_ctx,
                    site.file_offset,
                    site.semaphore_offset,
                    cookie,
                )?),
                None => {
                    offsets.push(site.file_offset);
                    ref_ctrs.push(site.semaphore_offset);
                    cookies.push(cookie);
                }
            }
        }
        let what = format!("usdt {} on {} sites of {desc}", self.name(), sites.len());
        let mut link = if uprobes.is_some() {
            Link::group(per_site, what).ok_or_else(|| ctx.target("no such probe"))?
        } else {
            let has_semaphore = ref_ctrs.iter().any(|&r| r != 0);
            let fd = self.uprobe_multi_link(
                &ctx,
                path,
                UprobeMultiSites {
                    offsets: &offsets,
                    ref_ctr_offsets: has_semaphore.then_some(&ref_ctrs[..]),
                    cookies: Some(&cookies),
                },
                0,
                opts.pid,
            )?;
            Link::new(fd, what)
        };
        link.usdt = Some(slots);
        Ok(link)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    fn arg(size: u8, signed: bool, location: UsdtLocation) -> UsdtArg {
        UsdtArg {
            size,
            signed,
            location,
        }
    }

    #[test]
    fn argument_strings() {
        assert_eq!(
            parse_usdt_args("-4@%eax 8@-16(%rbp) 2@$0x10 -1@$-7 8@(%rsi) 4@%r12d 1@%sil").unwrap(),
            vec![
                arg(4, true, UsdtLocation::Reg(80)),
                arg(
                    8,
                    false,
                    UsdtLocation::Deref {
                        reg: 32,
                        offset: -16
                    }
                ),
                arg(2, false, UsdtLocation::Const(16)),
                arg(1, true, UsdtLocation::Const(-7)),
                arg(
                    8,
                    false,
                    UsdtLocation::Deref {
                        reg: 104,
                        offset: 0
                    }
                ),
                arg(4, false, UsdtLocation::Reg(24)),
                arg(1, false, UsdtLocation::Reg(104)),
            ]
        );
        assert_eq!(parse_usdt_args("").unwrap(), vec![]);
    }

    #[test]
    fn bad_argument_strings_name_the_argument() {
        for (s, why) in [
            (
                "4@%eax 3@%ebx",
                "argument `3@%ebx`: size 3 is not 1, 2, 4 or 8",
            ),
            ("8@%xmm0", "argument `8@%xmm0`: unknown register %xmm0"),
            ("%eax", "argument `%eax`: no `SIZE@` prefix"),
            (
                "8@-4(%rbp,%rax,8)",
                "argument `8@-4(%rbp,%rax,8)`: index-register addressing is not supported",
            ),
            (
                "8@foo(%rip)",
                "argument `8@foo(%rip)`: `foo` is not a number",
            ),
            ("4@$x", "argument `4@$x`: `x` is not a number"),
            ("4@-8(%rbp", "argument `4@-8(%rbp`: unbalanced parentheses"),
        ] {
            assert_eq!(parse_usdt_args(s).unwrap_err(), why, "{s}");
        }
    }
}
