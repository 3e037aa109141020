//! The spec array of a loaded object with `usdt` programs: where
//! `<bpf/usdt.bpf.h>`'s `struct __bpf_usdt_spec` keeps what (read from the
//! object's BTF), encoding a site's arguments into it, and the slots in use.
//!
//! In: the created `__bpf_usdt_specs` map (and `__bpf_usdt_ip_to_spec_id`
//! without BPF cookies) and the object's BTF. Out: [`UsdtSpecs`], shared by
//! the object's `usdt` programs, and per link the [`SpecSlots`] it holds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::notes::{UsdtArg, UsdtLocation};
use crate::btf::{Btf, BtfError, Type, TypeId};
use crate::map::{Map, MapFlags};

/// Name of the spec array `<bpf/usdt.bpf.h>` declares.
pub(crate) const SPEC_MAP: &str = "__bpf_usdt_specs";
/// Name of the address -> spec index map `<bpf/usdt.bpf.h>` declares for
/// kernels without BPF cookies.
pub(crate) const IP_MAP: &str = "__bpf_usdt_ip_to_spec_id";

/// A field of the spec struct: byte offset and size.
#[derive(Debug, Clone, Copy)]
struct Field {
    offset: usize,
    size: usize,
}

/// Where `<bpf/usdt.bpf.h>`'s `struct __bpf_usdt_spec` keeps what, read
/// from the object's BTF.
#[derive(Debug)]
pub(crate) struct SpecLayout {
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
        let e = |e: BtfError| e.to_string();
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
    pub(crate) fn encode(&self, args: &[UsdtArg], cookie: u64) -> Result<Vec<u8>, String> {
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
    pub(crate) map: Map,
    pub(crate) layout: Result<SpecLayout, String>,
    /// Per slot: the spec written there and how many links use it.
    slots: Mutex<Vec<Option<Slot>>>,
    /// Where the programs find a site's spec index: `None` in the uprobe's
    /// BPF cookie, else by the site's address in this map (the object's
    /// `LINUX_HAS_BPF_COOKIE` is false), or an error saying why it can't.
    pub(crate) by_ip: Option<Result<Map, String>>,
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
    pub(crate) fn acquire(&self, spec: Vec<u8>) -> Result<u32, String> {
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
    pub(crate) specs: Arc<UsdtSpecs>,
    pub(crate) ids: Vec<u32>,
    /// Keys of the address map this link added (no BPF cookies).
    pub(crate) addresses: Vec<u64>,
    /// Set once the link is pinned: it may outlive this process's handle.
    pub(crate) kept: AtomicBool,
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
