//! Where the BTF of a header comes from.
//!
//! In: a path (raw BTF such as `/sys/kernel/btf/vmlinux`, module BTF, or a
//! compiled BPF object) and an optional base. Out: the [`Btf`] to print.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpf2rs_reader::btf::{Btf, BtfError};
use bpf2rs_reader::obj::ObjectSpec;

use super::HeaderError;

/// Kernel BTF lives here; every file but `vmlinux` is a module's, split on
/// top of vmlinux.
const SYS_BTF: &str = "/sys/kernel/btf";

/// Reads the BTF at `path`: an ELF object's `.BTF`, or raw BTF. Raw BTF is
/// split BTF on top of `base` when one is given, and on top of
/// `/sys/kernel/btf/vmlinux` for the other files of `/sys/kernel/btf`.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::path::{Path, PathBuf};
/// let module = bpf2rs_codegen::c_header::read_btf_source(Path::new("/sys/kernel/btf/nf_conntrack"), None)?;
/// let header = bpf2rs_codegen::c_header::generate(&module)?;
/// # Ok(()) }
/// ```
pub fn read_btf_source(path: &Path, base: Option<&Path>) -> Result<Btf, HeaderError> {
    let err = |p: &Path, message: String| HeaderError::Source {
        path: p.display().to_string(),
        message,
    };
    if is_elf(path) {
        let bytes = std::fs::read(path).map_err(|e| err(path, e.to_string()))?;
        let spec = ObjectSpec::parse(&bytes, &path.display().to_string())
            .map_err(|e| err(path, e.to_string()))?;
        let btf = spec
            .btf
            .ok_or_else(|| err(path, "the object has no BTF (compile with clang -g)".into()))?;
        return Ok(Arc::unwrap_or_clone(btf));
    }
    let bytes = std::fs::read(path).map_err(|e| err(path, e.to_string()))?;
    parse_raw(path, &bytes, base).map_err(|(p, e)| err(&p, e.to_string()))
}

/// Raw BTF `bytes` read from `path`: split BTF on top of `base` when one is
/// given, and on top of `/sys/kernel/btf/vmlinux` for the other files of
/// `/sys/kernel/btf`; standalone BTF otherwise, its type graph checked. An
/// error names the file at fault (the base or `path`).
pub(crate) fn parse_raw(
    path: &Path,
    bytes: &[u8],
    base: Option<&Path>,
) -> Result<Btf, (PathBuf, BtfError)> {
    let auto_base = Path::new(SYS_BTF).join("vmlinux");
    let base = match base {
        Some(b) => Some(b),
        None if path.starts_with(SYS_BTF) && path != auto_base => Some(auto_base.as_path()),
        None => None,
    };
    match base {
        Some(b) => {
            let base_btf = Btf::from_file(b).map_err(|e| (b.to_path_buf(), e))?;
            Btf::parse_split(bytes, Arc::new(base_btf)).map_err(|e| (path.to_path_buf(), e))
        }
        None => {
            let btf = Btf::parse(bytes).map_err(|e| (path.to_path_buf(), e))?;
            btf.check_graph().map_err(|e| (path.to_path_buf(), e))?;
            Ok(btf)
        }
    }
}

fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == *b"\x7fELF")
}
