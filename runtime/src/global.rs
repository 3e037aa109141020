//! Typed global data after load: [`Global`] and [`GlobalMut`].
//!
//! In: a loaded object's global data map ([`DataMap`]). Out: a view of
//! its value as the section's type. Where the kernel maps arrays into
//! memory (`BPF_F_MMAPABLE`, Linux 5.5) the view is the memory the
//! programs use, read and written in place. Elsewhere (older kernels, or
//! [`OpenObject::set_mmapable_data(false)`](crate::load::OpenObject::set_mmapable_data))
//! the map is an ordinary array: [`Global`] holds a copy read with
//! `BPF_MAP_LOOKUP_ELEM` when it was made, and [`GlobalMut`] writes its
//! copy back with `BPF_MAP_UPDATE_ELEM` if it changed, when it is
//! committed or dropped.

use core::ops::{Deref, DerefMut};

use crate::load::DataMap;
use crate::map::{Map, MapError, MapFlags};
use crate::Pod;

/// Global data of type `T`, readable: [`DataMap::get`] or a skeleton's
/// `bss()`, `data()`, `rodata()`.
///
/// With a memory-mapped section it reads the programs' memory, so two
/// reads of a field may differ; without one it is a copy taken when it
/// was made: make another to see newer values.
pub struct Global<'a, T: Pod> {
    inner: Ref<'a, T>,
}

enum Ref<'a, T> {
    Mapped(&'a T),
    Copy(Box<T>),
}

impl<T: Pod> Deref for Global<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.inner {
            Ref::Mapped(v) => v,
            Ref::Copy(v) => v,
        }
    }
}

impl<T: Pod + core::fmt::Debug> core::fmt::Debug for Global<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

/// Global data of type `T`, writable: [`DataMap::get_mut`] or a
/// skeleton's `bss_mut()`, `data_mut()`.
///
/// With a memory-mapped section writes reach the programs at once.
/// Without one it is a copy read when it was made; if the copy changed,
/// [`GlobalMut::commit`] or the drop writes it back as a whole, replacing
/// what the programs wrote in between. A drop cannot report an error, so
/// call `commit` where a failed write must be seen (it only fails when
/// the kernel cannot allocate the value's copy).
pub struct GlobalMut<'a, T: Pod> {
    inner: Mut<'a, T>,
}

enum Mut<'a, T> {
    Mapped(&'a mut T),
    Copy {
        map: &'a Map,
        /// The section's size: the type may be longer by its tail padding.
        len: usize,
        /// The value as last read or written: a write happens when
        /// `value` differs from it.
        read: Box<T>,
        value: Box<T>,
    },
}

impl<T: Pod> GlobalMut<'_, T> {
    /// Writes the value back now (a copy that changed), reporting the
    /// kernel's error; with a memory-mapped section there is nothing to
    /// write. The drop does not try again after a failed commit.
    pub fn commit(mut self) -> Result<(), MapError> {
        self.write_back()
    }

    fn write_back(&mut self) -> Result<(), MapError> {
        let Mut::Copy {
            map,
            len,
            read,
            value,
        } = &mut self.inner
        else {
            return Ok(());
        };
        let new = &value.as_bytes()[..*len];
        if read.as_bytes()[..*len] == *new {
            return Ok(());
        }
        let written = map.update(&0u32.to_ne_bytes(), new, MapFlags::ANY);
        **read = **value;
        written
    }
}

impl<T: Pod> Drop for GlobalMut<'_, T> {
    fn drop(&mut self) {
        // Documented: `commit` is the way to see this error.
        let _ = self.write_back();
    }
}

impl<T: Pod> Deref for GlobalMut<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.inner {
            Mut::Mapped(v) => v,
            Mut::Copy { value, .. } => value,
        }
    }
}

impl<T: Pod> DerefMut for GlobalMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.inner {
            Mut::Mapped(v) => v,
            Mut::Copy { value, .. } => value,
        }
    }
}

impl<T: Pod + core::fmt::Debug> core::fmt::Debug for GlobalMut<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

impl DataMap {
    /// The section's value as `T`: a view of the mapped memory, or a copy
    /// read from the kernel. An error if `T` is not the section's shape
    /// (its size, or its size rounded up to its alignment) or the read
    /// fails.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let obj = bpf2rs::load::OpenObject::open_file("counter.bpf.o")?.load()?;
    /// let packets: bpf2rs::Global<'_, u64> = obj.data(".bss").unwrap().get()?;
    /// println!("{}", *packets);
    /// # Ok(()) }
    /// ```
    pub fn get<T: Pod>(&self) -> Result<Global<'_, T>, MapError> {
        self.check_shape::<T>()?;
        let inner = match self.mmap.as_ref().and_then(|m| m.get::<T>()) {
            Some(v) => Ref::Mapped(v),
            None => Ref::Copy(self.read_copy()?),
        };
        Ok(Global { inner })
    }

    /// The section's value as writable `T` (see [`GlobalMut`] for when
    /// writes reach the kernel). An error for a read-only section
    /// (`.rodata`, `.kconfig`), a `T` of another shape, or a failed read.
    pub fn get_mut<T: Pod>(&mut self) -> Result<GlobalMut<'_, T>, MapError> {
        self.check_shape::<T>()?;
        if !self.writable() {
            return Err(invalid(&self.map, &self.section, "read-only after load"));
        }
        if self.mmap.is_none() {
            let read = self.read_copy::<T>()?;
            let value = read.clone();
            let inner = Mut::Copy {
                map: &self.map,
                len: self.len(),
                read,
                value,
            };
            return Ok(GlobalMut { inner });
        }
        let DataMap {
            map, section, mmap, ..
        } = self;
        match mmap.as_mut().and_then(|m| m.get_mut::<T>()) {
            Some(v) => Ok(GlobalMut {
                inner: Mut::Mapped(v),
            }),
            None => Err(invalid(map, section, "mapping shorter than the type")),
        }
    }

    /// The section's bytes, as the programs see them now (a copy).
    pub fn to_vec(&self) -> Result<Vec<u8>, MapError> {
        if let Some(m) = &self.mmap {
            return Ok(m.as_slice().to_vec());
        }
        let mut bytes = vec![0u8; self.len()];
        self.lookup_into(&mut bytes)?;
        Ok(bytes)
    }

    /// Whether the section is shared through a memory mapping (else reads
    /// and writes are map lookups and updates).
    pub fn is_mapped(&self) -> bool {
        self.mmap.is_some()
    }

    /// Whether user space may write the section after load (`.data`,
    /// `.bss` and custom data sections; not `.rodata` or `.kconfig`,
    /// which are frozen).
    pub fn writable(&self) -> bool {
        self.kind != crate::obj::DataKind::Rodata
    }

    /// The section's size in bytes (the map's value size).
    pub fn len(&self) -> usize {
        self.map.info().value_size as usize
    }

    /// Whether the section is empty (never for a created map).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check_shape<T: Pod>(&self) -> Result<(), MapError> {
        let (size, align) = (core::mem::size_of::<T>(), core::mem::align_of::<T>());
        match crate::__private::section_size_fits(self.len(), size, align) {
            true => Ok(()),
            false => Err(MapError::SizeMismatch {
                map: self.map.name().to_owned(),
                what: "global data",
                rust: size,
                kernel: self.len(),
            }),
        }
    }

    fn read_copy<T: Pod>(&self) -> Result<Box<T>, MapError> {
        // Zeroed on the heap: a section may be larger than a stack.
        // SAFETY: every bit pattern, zero included, is a valid `T: Pod`.
        let mut value = unsafe { Box::<T>::new_zeroed().assume_init() };
        let len = self.len();
        self.lookup_into(&mut value.as_bytes_mut()[..len])?;
        Ok(value)
    }

    fn lookup_into(&self, bytes: &mut [u8]) -> Result<(), MapError> {
        match self.map.lookup(&0u32.to_ne_bytes(), bytes)? {
            true => Ok(()),
            false => Err(invalid(&self.map, &self.section, "slot 0 missing")),
        }
    }
}

fn invalid(map: &Map, section: &str, message: &str) -> MapError {
    MapError::Invalid {
        map: map.name().to_owned(),
        op: "global data",
        message: format!("{section}: {message}"),
    }
}
