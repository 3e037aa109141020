//! Where a uprobe or USDT target named without a directory is: a library
//! name such as `libc.so.6` is looked up like the dynamic linker would find
//! it, a program name such as `python3` on `PATH`.
//!
//! In: the path as the user or the section wrote it. Out: the file to open.
//! A path with a `/` is used as it is. A bare name is always searched (as
//! libbpf does), so `uprobe/libc.so.6:getpid` means the system's libc even
//! where the current directory has a file of that name.
//!
//! Libraries (a name ending in `.so` or containing `.so.`) are searched in
//! `LD_LIBRARY_PATH`, then the dynamic linker's cache `/etc/ld.so.cache`
//! (entries for this machine's architecture), then the standard library
//! directories. Programs are searched in `PATH`, then `/usr/bin` and
//! `/usr/sbin`. libbpf searches the same directories except the cache.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The dynamic linker's cache, glibc 2.32+ format.
const LD_SO_CACHE: &str = "/etc/ld.so.cache";
const CACHE_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
/// Magic, then nlibs, len_strings, flags + padding, extension offset and
/// three unused words.
const CACHE_HEADER: usize = CACHE_MAGIC.len() + 4 * 7;
/// flags, key, value, osversion (u32 each), hwcap (u64).
const CACHE_ENTRY: usize = 24;
/// `FLAG_ELF_LIBC6`: a glibc shared library.
const FLAG_ELF_LIBC6: u32 = 0x0003;

/// The file a uprobe or USDT target `path` names (see the module docs).
pub fn resolve_target(path: &Path) -> Result<PathBuf, String> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err("empty target path".into());
    }
    if bytes.contains(&b'/') {
        return Ok(path.to_path_buf());
    }
    let name = path.as_os_str();
    let found = if is_library(bytes) {
        find_library(name)
    } else {
        find_program(name)
    };
    found.ok_or_else(|| {
        let (what, place) = if is_library(bytes) {
            (
                "library",
                "LD_LIBRARY_PATH, /etc/ld.so.cache or the standard library directories",
            )
        } else {
            ("program", "PATH, /usr/bin or /usr/sbin")
        };
        format!(
            "no {what} {} in {place}; give its full path",
            path.display()
        )
    })
}

/// `.so` at the end or `.so.` inside: `libc.so.6`, `libfoo.so`.
fn is_library(name: &[u8]) -> bool {
    name.ends_with(b".so") || name.windows(4).any(|w| w == b".so.")
}

fn find_library(name: &OsStr) -> Option<PathBuf> {
    let env = std::env::var_os("LD_LIBRARY_PATH").unwrap_or_default();
    if let Some(p) = search(std::env::split_paths(&env), name) {
        return Some(p);
    }
    if let Some(p) = std::fs::read(LD_SO_CACHE)
        .ok()
        .and_then(|cache| cache_lookup(&cache, name.as_bytes(), arch_flag()))
        .filter(|p| p.is_file())
    {
        return Some(p);
    }
    let arch = multiarch();
    let dirs = [
        format!("/lib/{arch}"),
        format!("/usr/lib/{arch}"),
        "/lib64".to_owned(),
        "/usr/lib64".to_owned(),
        "/lib".to_owned(),
        "/usr/lib".to_owned(),
    ];
    search(dirs.iter().map(PathBuf::from), name)
}

fn find_program(name: &OsStr) -> Option<PathBuf> {
    let env = std::env::var_os("PATH").unwrap_or_default();
    search(
        std::env::split_paths(&env).chain(["/usr/bin", "/usr/sbin"].map(PathBuf::from)),
        name,
    )
}

/// The first `dir/name` that is a file.
fn search(dirs: impl Iterator<Item = PathBuf>, name: &OsStr) -> Option<PathBuf> {
    dirs.filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The Debian/Ubuntu multiarch directory name of this machine.
fn multiarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "powerpc64" => "powerpc64le-linux-gnu",
        "loongarch64" => "loongarch64-linux-gnu",
        "x86" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        other => other,
    }
}

/// The ld.so.cache flags of a library for this machine (glibc's
/// `_DL_CACHE_DEFAULT_ID`), or `None` to accept any glibc library.
fn arch_flag() -> Option<u32> {
    match std::env::consts::ARCH {
        "x86_64" => Some(0x0303),
        "aarch64" => Some(0x0a03),
        "riscv64" => Some(0x1003),
        "s390x" => Some(0x0403),
        "powerpc64" => Some(0x0503),
        "x86" | "arm" => Some(FLAG_ELF_LIBC6),
        _ => None,
    }
}

/// Looks `name` up in the bytes of an ld.so.cache (glibc 2.32+ format,
/// possibly after an old-format part): the value of the first entry with
/// that key and the wanted flags. `None` for another format or no entry;
/// every offset is checked.
pub(crate) fn cache_lookup(cache: &[u8], name: &[u8], flags: Option<u32>) -> Option<PathBuf> {
    let start = cache
        .windows(CACHE_MAGIC.len())
        .position(|w| w == CACHE_MAGIC)?;
    let new = &cache[start..];
    let u32_at = |at: usize| -> Option<u32> {
        let b = new.get(at..at + 4)?;
        Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let nlibs = u32_at(CACHE_MAGIC.len())? as usize;
    // Strings are NUL-terminated, at offsets from the start of the new part.
    let string = |off: u32| -> Option<&[u8]> {
        let tail = new.get(off as usize..)?;
        Some(&tail[..tail.iter().position(|&b| b == 0)?])
    };
    (0..nlibs)
        .map(|i| CACHE_HEADER + i * CACHE_ENTRY)
        .map_while(|at| Some((u32_at(at)?, u32_at(at + 4)?, u32_at(at + 8)?)))
        .filter(|&(f, _, _)| match flags {
            Some(want) => f & 0xffff == want,
            None => f & 0xff == FLAG_ELF_LIBC6,
        })
        .find(|&(_, key, _)| string(key) == Some(name))
        .and_then(|(_, _, value)| string(value))
        .map(|v| PathBuf::from(OsStr::from_bytes(v)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    /// A cache in the glibc 2.32+ layout with the given (flags, key, value)
    /// entries, strings after the entries.
    fn cache(entries: &[(u32, &str, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let base = CACHE_HEADER + entries.len() * CACHE_ENTRY;
        let mut table = Vec::new();
        for (flags, key, value) in entries {
            let k = base + strings.len();
            strings.extend_from_slice(key.as_bytes());
            strings.push(0);
            let v = base + strings.len();
            strings.extend_from_slice(value.as_bytes());
            strings.push(0);
            for word in [*flags, k as u32, v as u32, 0] {
                table.extend_from_slice(&word.to_ne_bytes());
            }
            table.extend_from_slice(&0u64.to_ne_bytes());
        }
        let mut out = CACHE_MAGIC.to_vec();
        out.extend_from_slice(&(entries.len() as u32).to_ne_bytes());
        out.extend_from_slice(&(strings.len() as u32).to_ne_bytes());
        out.extend_from_slice(&[0u8; 4 * 5]);
        out.extend_from_slice(&table);
        out.extend_from_slice(&strings);
        out
    }

    #[test]
    fn cache_entries_are_found_by_name_and_architecture() {
        let c = cache(&[
            (0x0003, "libc.so.6", "/lib/i386-linux-gnu/libc.so.6"),
            (0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),
            (0x0303, "libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6"),
        ]);
        let find = |name: &str, flags| cache_lookup(&c, name.as_bytes(), flags);
        assert_eq!(
            find("libc.so.6", Some(0x0303)),
            Some(PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"))
        );
        assert_eq!(
            find("libc.so.6", None),
            Some(PathBuf::from("/lib/i386-linux-gnu/libc.so.6"))
        );
        assert_eq!(find("libm.so.6", Some(0x0a03)), None);
        assert_eq!(find("libz.so.1", Some(0x0303)), None);
    }

    #[test]
    fn truncated_or_foreign_caches_find_nothing() {
        let c = cache(&[(0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6")]);
        for len in 0..c.len() {
            // Any prefix: an answer only once the whole value string is there.
            if let Some(p) = cache_lookup(&c[..len], b"libc.so.6", Some(0x0303)) {
                assert_eq!(p, PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"));
            }
        }
        assert_eq!(
            cache_lookup(b"ld.so-1.7.0\0\0\0\0", b"libc.so.6", None),
            None
        );
    }

    #[test]
    fn names_are_searched_and_paths_kept() {
        assert_eq!(
            resolve_target(Path::new("./libc.so.6")).unwrap(),
            PathBuf::from("./libc.so.6")
        );
        assert!(is_library(b"libc.so.6") && is_library(b"libfoo.so"));
        assert!(!is_library(b"python3") && !is_library(b"libsomething"));
        let err = resolve_target(Path::new("libbpf2rs_no_such.so.1")).unwrap_err();
        assert_eq!(
            err,
            "no library libbpf2rs_no_such.so.1 in LD_LIBRARY_PATH, /etc/ld.so.cache or the \
             standard library directories; give its full path"
        );
        let err = resolve_target(Path::new("bpf2rs-no-such-program")).unwrap_err();
        assert_eq!(
            err,
            "no program bpf2rs-no-such-program in PATH, /usr/bin or /usr/sbin; give its full path"
        );
    }
}
