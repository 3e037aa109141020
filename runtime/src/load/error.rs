//! Errors of loading an object: which object, which map or program, what the
//! kernel said (with the verifier log for a rejected program).

use crate::map::MapError;
use crate::sys::SysError;

/// Why an object could not be brought into the kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The object could not be read (its message names the object).
    #[error(transparent)]
    Open(Box<crate::obj::ObjError>),
    #[error("{object}: {source}")]
    Map {
        object: String,
        #[source]
        source: MapError,
    },
    #[error("{object}: map {map}: {message}")]
    MapSetup {
        object: String,
        map: String,
        message: String,
    },
    /// A `.struct_ops` / `.struct_ops.link` variable that could not
    /// become a struct_ops map.
    #[error("{object}: struct_ops map {map}: {message}")]
    StructOps {
        object: String,
        map: String,
        message: String,
    },
    #[error("{object}: program {program}: {message}")]
    Link {
        object: String,
        program: String,
        message: String,
    },
    /// The kernel rejected a program; boxed to keep the error small.
    #[error(transparent)]
    Verifier(Box<VerifierError>),
    #[error("{object}: {message}")]
    Other { object: String, message: String },
}

/// A program the kernel refused to load, with the verifier's log.
#[derive(Debug, thiserror::Error)]
#[error("{object}: program {program} (section {section}): the kernel rejected it: {source}\n--- verifier log ---\n{log}")]
pub struct VerifierError {
    pub object: String,
    pub program: String,
    pub section: String,
    #[source]
    pub source: SysError,
    pub log: String,
}

impl LoadError {
    /// The verifier log of a rejected program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            LoadError::Verifier(v) => Some(&v.log),
            _ => None,
        }
    }
}
