//! What generated code calls. Not a public API: paths and signatures may
//! change with any release (generated code is regenerated with the crate).

/// Reads `bits` bits starting `bit_offset` bits into `storage` (the kernel's
/// little-endian bitfield layout), sign-extending when `signed`.
#[inline]
pub fn bitfield_get(storage: &[u8], bit_offset: u32, bits: u32, signed: bool) -> u64 {
    let mut raw: u128 = 0;
    for (i, b) in storage.iter().take(16).enumerate() {
        raw |= u128::from(*b) << (8 * i);
    }
    let v = (raw >> bit_offset) as u64;
    if bits >= 64 {
        return v;
    }
    let v = v & ((1u64 << bits) - 1);
    if signed && bits > 0 && v >> (bits - 1) & 1 == 1 {
        v | !((1u64 << bits) - 1)
    } else {
        v
    }
}

/// Writes the low `bits` bits of `value` at `bit_offset` into `storage`,
/// leaving the other bits as they are.
#[inline]
pub fn bitfield_set(storage: &mut [u8], bit_offset: u32, bits: u32, value: u64) {
    let mask: u128 = if bits >= 64 {
        u64::MAX as u128
    } else {
        (1u128 << bits) - 1
    };
    let mut raw: u128 = 0;
    for (i, b) in storage.iter().take(16).enumerate() {
        raw |= u128::from(*b) << (8 * i);
    }
    raw = (raw & !(mask << bit_offset)) | ((u128::from(value) & mask) << bit_offset);
    for (i, b) in storage.iter_mut().take(16).enumerate() {
        *b = (raw >> (8 * i)) as u8;
    }
}

/// Formats a union as its bytes (reading a member would need `unsafe`).
pub fn fmt_union(name: &str, bytes: &[u8], f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    write!(f, "{name} {{ bytes: {bytes:02x?} }}")
}

/// Formats an enum newtype: the enumerator's name when the value has one.
pub fn fmt_enum(
    name: &str,
    known: Option<&str>,
    value: &dyn core::fmt::Debug,
    f: &mut core::fmt::Formatter<'_>,
) -> core::fmt::Result {
    match known {
        Some(k) => f.write_str(k),
        None => write!(f, "{name}({value:?})"),
    }
}

/// Compile-time layout check used by generated code, one line per type:
///
/// ```
/// # #![allow(non_camel_case_types)]
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// pub struct flow {
///     pub saddr: u32,
///     pub sport: u16,
///     pub proto: u8,
///     pub __pad_7: [u8; 1],
/// }
/// #[repr(transparent)]
/// pub struct kind(pub u32);
///
/// ::bpf2rs::__private::check_layout!(flow, size(8), align(4), saddr(0), sport(4), proto(6), __pad_7(7));
/// ::bpf2rs::__private::check_layout!(kind, size(4)); // an enum: size only
/// ```
///
/// Expands to a `const _` item comparing `size_of`, `align_of` and the
/// `offset_of!` of every listed field with the BTF numbers; a mismatch fails
/// the build with a message naming the type, the field and the BTF value.
#[doc(hidden)]
#[macro_export]
macro_rules! __bpf2rs_check_layout {
    ($t:ident, size($size:literal) $(, align($align:literal) $(, $f:ident($off:literal))*)? $(,)?) => {
        const _: () = {
            ::core::assert!(
                ::core::mem::size_of::<$t>() == $size,
                ::core::concat!("bpf2rs: size of ", ::core::stringify!($t), " differs from BTF (", $size, ")")
            );
            $(
                ::core::assert!(
                    ::core::mem::align_of::<$t>() == $align,
                    ::core::concat!("bpf2rs: alignment of ", ::core::stringify!($t), " differs from BTF (", $align, ")")
                );
                $(
                    ::core::assert!(
                        ::core::mem::offset_of!($t, $f) == $off,
                        ::core::concat!(
                            "bpf2rs: offset of ", ::core::stringify!($t), ".", ::core::stringify!($f),
                            " differs from BTF (", $off, ")"
                        )
                    );
                )*
            )?
        };
    };
}

#[doc(hidden)]
pub use crate::__bpf2rs_check_layout as check_layout;

// ---- Skeleton support -------------------------------------------------
// Generated skeletons call these; every lookup by name here refers to a map,
// program or section the skeleton was generated from, and `check_shape`
// verifies that when another build of the object is opened.

use crate::load::{LoadError, Object, OpenObject};
use crate::map::{Map, MapHandle};
use crate::prog::Program;
use crate::Pod;

fn missing(object: &str, what: String) -> LoadError {
    LoadError::Other {
        object: object.to_owned(),
        message: format!(
            "{what} is not in the loaded object (was the skeleton generated from another object?)"
        ),
    }
}

/// Compile-time check that a Rust type a build named for a map's key or
/// value (`map_rust_types`) has the map's size: `const _: () =
/// check_size::<T>(8, "...")` fails the build with `message` otherwise.
pub const fn check_size<T>(size: usize, message: &str) {
    if core::mem::size_of::<T>() != size {
        panic!("{}", message);
    }
}

/// Takes an untyped map out of the loaded object.
pub fn take_map(object: &mut Object, name: &str) -> Result<Map, LoadError> {
    let obj = object.name().to_owned();
    if object.map_not_created(name) {
        return Err(LoadError::MapSetup {
            object: obj,
            map: name.to_owned(),
            message: "not created (autocreate is off), but a skeleton gives every map a \
                      handle: leave autocreate on, or load with OpenObject"
                .into(),
        });
    }
    object
        .take_map(name)
        .ok_or_else(|| missing(&obj, format!("map {name}")))
}

/// Takes a map out of the loaded object as a typed handle (its type and
/// sizes checked against the Rust types).
pub fn take_typed_map<T: MapHandle>(object: &mut Object, name: &str) -> Result<T, LoadError> {
    let obj = object.name().to_owned();
    let map = take_map(object, name)?;
    T::from_map(map).map_err(|source| LoadError::Map {
        object: obj,
        source,
    })
}

/// Takes a program out of the loaded object.
pub fn take_program(object: &mut Object, name: &str) -> Result<Program, LoadError> {
    let obj = object.name().to_owned();
    object
        .take_program(name)
        .ok_or_else(|| missing(&obj, format!("program {name}")))
}

/// Checks that an object opened from a file has the maps, programs and
/// global data sections that the skeleton was made for. `data` holds each
/// section's Rust type's size and alignment: the type is the section's size
/// rounded up to the alignment (see [`section_size_fits`]).
pub fn check_shape(
    object: &OpenObject,
    maps: &[&str],
    programs: &[&str],
    data: &[(&str, usize, usize)],
) -> Result<(), LoadError> {
    let spec = object.spec();
    let err = |message: String| LoadError::Other {
        object: spec.name.clone(),
        message: format!("differs from the object the skeleton was generated from: {message}"),
    };
    let have_maps: Vec<&str> = spec.maps.iter().map(|m| m.name.as_str()).collect();
    if have_maps != maps {
        return Err(err(format!(
            "maps are {have_maps:?}, the skeleton has {maps:?}"
        )));
    }
    let have_progs: Vec<&str> = spec.programs.iter().map(|p| p.name.as_str()).collect();
    if have_progs != programs {
        return Err(err(format!(
            "programs are {have_progs:?}, the skeleton has {programs:?}"
        )));
    }
    for (section, size, align) in data {
        match spec.data_section(section) {
            Some(d) if section_size_fits(d.size as usize, *size, *align) => {}
            Some(d) => {
                return Err(err(format!(
                    "section {section} is {} bytes, the skeleton's is {size}",
                    d.size
                )))
            }
            None => return Err(err(format!("section {section} is missing"))),
        }
    }
    Ok(())
}

/// Whether a section of `section` bytes is what a Rust type of `size`
/// bytes and alignment `align` describes. clang does not round a data
/// section's size up to its alignment (a `u64` then a `u32` make 12
/// bytes); the generated type is rounded, so that it need not be packed,
/// and its tail padding lies past the section.
pub fn section_size_fits(section: usize, size: usize, align: usize) -> bool {
    size == section || (size > section && align > 0 && section.next_multiple_of(align) == size)
}

/// Global data before load, typed. The section's buffer is 16-byte
/// aligned and padded to 16 bytes, which holds the type's tail padding.
pub fn open_data_mut<'a, T: Pod>(object: &'a mut OpenObject, section: &str) -> &'a mut T {
    let view = object
        .data_padded_mut(section)
        .and_then(|b| b.get_mut(..core::mem::size_of::<T>()))
        .and_then(T::mut_from_bytes);
    match view {
        Some(v) => v,
        // check_shape (or generation from this very object) guarantees the
        // section exists with T's size; the buffer is 16-byte aligned.
        None => unreachable!("section {section} checked when the skeleton was opened"),
    }
}

/// Global data after load, typed: the mapped value or a copy read from
/// the kernel.
pub fn data<'a, T: Pod>(
    object: &'a Object,
    section: &str,
) -> Result<crate::Global<'a, T>, crate::map::MapError> {
    object.data_section(section)?.get()
}

/// Global data after load, writable.
pub fn data_mut<'a, T: Pod>(
    object: &'a mut Object,
    section: &str,
) -> Result<crate::GlobalMut<'a, T>, crate::map::MapError> {
    object.data_section_mut(section)?.get_mut()
}

/// A struct_ops variable's typed value before load; an error if the
/// object has no such variable or its struct is not `T`'s size.
pub fn open_struct_ops<T: Pod>(
    object: &OpenObject,
    name: &str,
) -> Result<crate::struct_ops::OpenStructOps<T>, LoadError> {
    let obj = &object.spec().name;
    let settings = object
        .struct_ops(name)
        .ok_or_else(|| missing(obj, format!("struct_ops variable {name}")))?;
    let bytes = Some(settings.value()).filter(|v| v.len() == core::mem::size_of::<T>());
    let value = bytes
        .and_then(T::from_bytes)
        .ok_or_else(|| LoadError::Other {
            object: obj.clone(),
            message: format!(
                "differs from the object the skeleton was generated from: struct_ops variable \
             {name} is {} bytes, the skeleton's type {}",
                settings.value().len(),
                core::mem::size_of::<T>()
            ),
        })?;
    Ok(crate::struct_ops::OpenStructOps {
        value,
        autocreate: settings.autocreate,
    })
}

/// Writes a typed struct_ops value and its autocreate back before load.
pub fn set_struct_ops<T: Pod>(
    object: &mut OpenObject,
    name: &str,
    ops: &crate::struct_ops::OpenStructOps<T>,
) -> Result<(), LoadError> {
    let obj = object.spec().name.clone();
    let settings = object
        .struct_ops_mut(name)
        .ok_or_else(|| missing(&obj, format!("struct_ops variable {name}")))?;
    settings.set_autocreate(ops.autocreate);
    match settings.value_mut() {
        v if v.len() == core::mem::size_of::<T>() => v.copy_from_slice(ops.value.as_bytes()),
        v => {
            return Err(missing(
                &obj,
                format!("struct_ops variable {name} of {} bytes", v.len()),
            ))
        }
    }
    Ok(())
}

/// Takes a struct_ops map out of the loaded object (None when its
/// autocreate was off).
pub fn take_struct_ops(object: &mut Object, name: &str) -> Option<crate::struct_ops::StructOpsMap> {
    object.take_struct_ops(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_sizes_fit_their_rounded_types() {
        assert!(section_size_fits(52, 52, 4));
        assert!(section_size_fits(52, 56, 8));
        assert!(section_size_fits(12, 16, 8));
        assert!(!section_size_fits(52, 64, 8), "more than the tail padding");
        assert!(!section_size_fits(52, 48, 8), "smaller than the section");
        assert!(!section_size_fits(52, 56, 4));
    }

    #[test]
    fn signed_bitfield_round_trips_across_bytes() {
        let mut s = [0u8; 3];
        bitfield_set(&mut s, 6, 5, (-3i64) as u64);
        assert_eq!(bitfield_get(&s, 6, 5, true) as i64, -3);
        assert_eq!(bitfield_get(&s, 6, 5, false), 0b11101);
        assert_eq!(s, [0b0100_0000, 0b0000_0111, 0]);
    }
}
