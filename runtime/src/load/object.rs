//! A loaded object and its global data maps.
//!
//! In: what [`OpenObject::load`](super::OpenObject::load) created. Out:
//! [`Object`], which owns every fd (maps, global data, programs, struct_ops
//! maps, BTF) and hands them out by name.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::CoreApplied;
use crate::map::{Map, MapError};
use crate::mmap::Mmap;
use crate::obj::DataKind;
use crate::prog::Program;
use crate::struct_ops::StructOpsMap;

/// A global data section's map and its memory mapping.
#[derive(Debug)]
pub struct DataMap {
    /// `.rodata`, `.data`, `.bss`, `.data.custom`...
    pub section: String,
    pub kind: DataKind,
    pub map: Map,
    /// The section's bytes shared with the programs (read-only for
    /// `.rodata`); `None` when the map is not mmapable (`.kconfig`, or
    /// kernels before 5.5): then [`DataMap::get`] reads it from the kernel.
    pub mmap: Option<Mmap>,
}

/// A section a skeleton asked for that the loaded object lacks: only when
/// the skeleton's object was swapped for another.
fn no_section(object: &str, section: &str) -> MapError {
    MapError::Invalid {
        map: object.to_owned(),
        op: "global data",
        message: format!("the loaded object has no section {section}"),
    }
}

/// A loaded object: its maps, global data and programs. Owns every fd.
#[derive(Debug)]
pub struct Object {
    pub(super) name: String,
    pub(super) maps: Vec<Map>,
    /// Maps left out with `MapSettings::set_autocreate(false)`.
    pub(super) not_created: Vec<String>,
    pub(super) data: Vec<DataMap>,
    pub(super) programs: Vec<Program>,
    pub(super) struct_ops: Vec<StructOpsMap>,
    pub(super) _btf_fd: Option<OwnedFd>,
    pub(super) notes: Vec<String>,
    /// CO-RE relocations applied, per loaded program.
    pub(super) core: Vec<(String, Vec<CoreApplied>)>,
    /// Pins the load made (LIBBPF_PIN_BY_NAME or a pin path), not reused ones.
    pub(super) new_pins: Vec<PathBuf>,
}

impl Object {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pins this load made in bpffs (maps with `LIBBPF_PIN_BY_NAME` or
    /// a pin path whose pin did not exist yet); pins it reused are not
    /// listed. They outlive the process: remove them with
    /// [`bpf2rs::map::unpin`](crate::map::unpin) when they are no longer
    /// wanted. A load that fails removes the pins it made.
    pub fn new_pins(&self) -> &[PathBuf] {
        &self.new_pins
    }

    /// Map `name` (not global data; see [`Object::data`]).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name() == name)
    }

    /// Every map, in the object's order.
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// Takes map `name` out of the object (typed handles own their map).
    pub fn take_map(&mut self, name: &str) -> Option<Map> {
        let i = self.maps.iter().position(|m| m.name() == name)?;
        Some(self.maps.remove(i))
    }

    /// Whether map `name` was left out at load
    /// ([`MapSettings::set_autocreate`](super::MapSettings::set_autocreate)).
    pub fn map_not_created(&self, name: &str) -> bool {
        self.not_created.iter().any(|n| n == name)
    }

    /// Program `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.name() == name)
    }

    /// Every loaded program.
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// Takes program `name` out of the object.
    pub fn take_program(&mut self, name: &str) -> Option<Program> {
        let i = self.programs.iter().position(|p| p.name() == name)?;
        Some(self.programs.remove(i))
    }

    /// The struct_ops map of variable `name` (None if the object has no
    /// such variable, or its autocreate was off).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let obj = bpf2rs::load::OpenObject::open_file("my_cc.bpf.o")?.load()?;
    /// let registration = obj.struct_ops("my_cc").unwrap().register()?;
    /// # Ok(()) }
    /// ```
    pub fn struct_ops(&self, name: &str) -> Option<&StructOpsMap> {
        self.struct_ops.iter().find(|o| o.name() == name)
    }

    /// Every struct_ops map created, in the object's order.
    pub fn struct_ops_maps(&self) -> &[StructOpsMap] {
        &self.struct_ops
    }

    /// Takes struct_ops map `name` out of the object.
    pub fn take_struct_ops(&mut self, name: &str) -> Option<StructOpsMap> {
        let i = self.struct_ops.iter().position(|o| o.name() == name)?;
        Some(self.struct_ops.remove(i))
    }

    /// Global data section `section`.
    pub fn data(&self, section: &str) -> Option<&DataMap> {
        self.data.iter().find(|d| d.section == section)
    }

    /// Global data section `section`, writable.
    pub fn data_mut(&mut self, section: &str) -> Option<&mut DataMap> {
        self.data.iter_mut().find(|d| d.section == section)
    }

    /// Global data section `section`, or an error naming it.
    pub(crate) fn data_section(&self, section: &str) -> Result<&DataMap, MapError> {
        match self.data.iter().position(|d| d.section == section) {
            Some(i) => Ok(&self.data[i]),
            None => Err(no_section(&self.name, section)),
        }
    }

    /// Global data section `section`, writable, or an error naming it.
    pub(crate) fn data_section_mut(&mut self, section: &str) -> Result<&mut DataMap, MapError> {
        match self.data.iter().position(|d| d.section == section) {
            Some(i) => Ok(&mut self.data[i]),
            None => Err(no_section(&self.name, section)),
        }
    }

    /// Every global data map.
    pub fn data_maps(&self) -> &[DataMap] {
        &self.data
    }

    /// The CO-RE relocations applied to program `name` (empty when it had
    /// none or was not loaded).
    pub fn core_relocations(&self, name: &str) -> &[CoreApplied] {
        self.core
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, c)| c.as_slice())
    }

    /// What the loader did differently from the object's request, e.g. maps
    /// created without BTF because the kernel refused it.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}
