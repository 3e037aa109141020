//! Names as printed: the BTF name, or `name___N` for the N-th type (in
//! printing order) that carries a name already taken in its C namespace.
//!
//! In: type ids as the printer meets them. Out: text appended to the header.
//!
//! C has one namespace for struct/union/enum tags and one for ordinary
//! identifiers (typedefs and enumerators). BTF from several compilation
//! units can hold two different `struct foo`s; bpftool suffixes the later
//! ones with `___2`, `___3`, ..., which CO-RE ignores when it matches names
//! (the "flavor" convention), so the header stays usable. We do the same.

use bpf2rs_reader::btf::{Type, TypeId};

use super::Dumper;

/// Which C namespace a name lives in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Space {
    Tags,
    Idents,
}

impl<'a> Dumper<'a> {
    /// Appends the (de-duplicated) name of `id`.
    pub(super) fn push_name(&mut self, id: TypeId, space: Space) {
        let Ok(ty) = self.ty(id) else {
            return;
        };
        let name = self.name_of(ty);
        if name.is_empty() {
            return;
        }
        let mut dup = self.st(id).dup;
        if dup == 0 {
            // Forward declarations and enum forwards name a type defined
            // elsewhere: they never take a number of their own.
            let forward = match ty {
                Type::Fwd(_) => true,
                Type::Enum(e) => e.values.is_empty(),
                _ => false,
            };
            dup = if forward { 1 } else { self.count(name, space) };
            self.st(id).dup = dup;
        }
        self.out.push_str(name);
        self.push_suffix(dup);
    }

    /// Counts one more use of `name` in `space`; returns the new count.
    pub(super) fn count(&mut self, name: &'a str, space: Space) -> u32 {
        let map = match space {
            Space::Tags => &mut self.type_names,
            Space::Idents => &mut self.ident_names,
        };
        let n = map.entry(name).or_insert(0);
        *n += 1;
        *n
    }

    pub(super) fn push_suffix(&mut self, dup: u32) {
        if dup > 1 {
            self.out.push_str("___");
            self.push_u64(u64::from(dup));
        }
    }

    /// Appends a decimal number without going through `fmt`.
    pub(super) fn push_u64(&mut self, mut v: u64) {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        // Only ASCII digits were written.
        self.out
            .push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
    }

    pub(super) fn push_i64(&mut self, v: i64) {
        if v < 0 {
            self.out.push('-');
        }
        self.push_u64(v.unsigned_abs());
    }
}
