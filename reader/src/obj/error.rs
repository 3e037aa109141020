//! Errors of the object reader. Every message starts with the object's name
//! and reads as a path to the offending part: `x.bpf.o: section .maps: map
//! flows: key: both key and key_size given`.

use crate::btf::BtfError;

/// A compiled BPF object that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjError {
    #[error("{object}: {message}")]
    Io { object: String, message: String },
    #[error("{object}: not an ELF file: {message}")]
    NotElf { object: String, message: String },
    #[error("{object}: not a BPF object: {message}")]
    NotBpf { object: String, message: String },
    #[error("{object}: section {section}: {source}")]
    Btf {
        object: String,
        section: String,
        #[source]
        source: BtfError,
    },
    #[error(
        "{object}: {what} needs BTF, but the object has no .BTF section (compile with clang -g)"
    )]
    NoBtf { object: String, what: String },
    #[error("{object}: section {section}: map {map}: {message}")]
    Map {
        object: String,
        section: String,
        map: String,
        message: String,
    },
    #[error("{object}: section {section}: {message}")]
    Section {
        object: String,
        section: String,
        message: String,
    },
    #[error("{object}: section {section}: relocation {index}: {message}")]
    Relocation {
        object: String,
        section: String,
        index: usize,
        message: String,
    },
}

/// Builds errors with the object's name already filled in.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) object: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn section(&self, section: &str, message: impl Into<String>) -> ObjError {
        ObjError::Section {
            object: self.object.to_owned(),
            section: section.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn map(&self, section: &str, map: &str, message: impl Into<String>) -> ObjError {
        ObjError::Map {
            object: self.object.to_owned(),
            section: section.to_owned(),
            map: map.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn reloc(
        &self,
        section: &str,
        index: usize,
        message: impl Into<String>,
    ) -> ObjError {
        ObjError::Relocation {
            object: self.object.to_owned(),
            section: section.to_owned(),
            index,
            message: message.into(),
        }
    }

    pub(crate) fn btf(&self, section: &str, source: BtfError) -> ObjError {
        ObjError::Btf {
            object: self.object.to_owned(),
            section: section.to_owned(),
            source,
        }
    }

    pub(crate) fn no_btf(&self, what: impl Into<String>) -> ObjError {
        ObjError::NoBtf {
            object: self.object.to_owned(),
            what: what.into(),
        }
    }
}
