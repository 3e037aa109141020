//! USDT sites by address, for kernels without BPF cookies (before Linux
//! 5.15). `<bpf/usdt.bpf.h>` then finds a site's spec by the instruction
//! pointer its uprobe fired at, in the object's `__bpf_usdt_ip_to_spec_id`
//! map, which the attach fills with each site's address in the traced
//! process (libbpf's `collect_usdt_targets`).
//!
//! In: the probed ELF file, whether it is position-independent (ET_DYN:
//! shared libraries, PIE executables), a process for those, and a site.
//! Out: the site's address in that process, or why it cannot be known.

use std::path::Path;

use crate::usdt::notes::UsdtNote;

/// Where the sites of one file are in memory.
#[derive(Debug)]
pub(super) struct SiteAddresses {
    /// `None`: a fixed-address executable (ET_EXEC), whose sites are where
    /// its notes say. Otherwise the file's executable mappings in the
    /// traced process.
    mappings: Option<Vec<Mapping>>,
}

/// One executable mapping of the file in /proc/PID/maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapping {
    start: u64,
    end: u64,
    /// File offset of `start`.
    offset: u64,
}

impl SiteAddresses {
    /// The addresses of the sites of the file at `path` in process `pid`.
    pub(super) fn new(path: &Path, dynamic: bool, pid: Option<u32>) -> Result<Self, String> {
        if !dynamic {
            return Ok(SiteAddresses { mappings: None });
        }
        // libbpf refuses the same: the address of a position-independent
        // file's site differs in every process, and one map holds one.
        let pid = pid.filter(|&p| p != 0).ok_or(
            "without BPF cookies (Linux 5.15+) a probe in a shared library or a \
             position-independent executable needs a pid (UsdtOpts::pid): its \
             address differs in every process",
        )?;
        let maps = format!("/proc/{pid}/maps");
        let text = std::fs::read_to_string(&maps).map_err(|e| format!("{maps}: {e}"))?;
        let name = maps_name(path, pid);
        let mappings = executable_mappings(&text, &name);
        if mappings.is_empty() {
            return Err(format!(
                "{name} has no executable mapping in process {pid} ({maps})"
            ));
        }
        Ok(SiteAddresses {
            mappings: Some(mappings),
        })
    }

    /// The address of `site` in the traced process: what the program reads
    /// as the instruction pointer when the site's uprobe fires.
    pub(super) fn of(&self, site: &UsdtNote) -> Result<u64, String> {
        let Some(mappings) = &self.mappings else {
            return Ok(site.address);
        };
        let at = site.file_offset;
        mappings
            .iter()
            .find(|m| m.offset <= at && at - m.offset < m.end - m.start)
            .map(|m| m.start - m.offset + at)
            .ok_or_else(|| {
                format!(
                    "file offset {at:#x} is in no executable mapping of the file in the process"
                )
            })
    }
}

/// How /proc/PID/maps names the file at `path`: a container's file seen
/// from outside (`/proc/PID/root/usr/bin/x`) by its path inside the
/// container, any other by its canonical path (as libbpf's
/// `parse_vma_segs` does).
fn maps_name(path: &Path, pid: u32) -> String {
    let text = path.to_string_lossy();
    if let Some(inside) = text.strip_prefix(&format!("/proc/{pid}/root/")) {
        return format!("/{inside}");
    }
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .to_string_lossy()
        .into_owned()
}

/// The executable mappings of file `name` in the text of /proc/PID/maps
/// (`start-end perms offset dev inode   path` per line).
fn executable_mappings(maps: &str, name: &str) -> Vec<Mapping> {
    /// The first whitespace-separated field of `s`, and the rest.
    fn field(s: &str) -> Option<(&str, &str)> {
        let s = s.trim_start();
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        (end > 0).then(|| s.split_at(end))
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    maps.lines()
        .filter_map(|line| {
            let (range, rest) = field(line)?;
            let (perms, rest) = field(rest)?;
            let (offset, rest) = field(rest)?;
            let (_dev, rest) = field(rest)?;
            let (_inode, rest) = field(rest)?;
            if rest.trim_start() != name || perms.as_bytes().get(2) != Some(&b'x') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some(Mapping {
                start: hex(start)?,
                end: hex(end)?,
                offset: hex(offset)?,
            })
        })
        .filter(|m| m.end > m.start)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0a00000-55d0c0a40000 r--p 00000000 08:01 1234                       /opt/my app/bin
55d0c0a40000-55d0c0b00000 r-xp 00040000 08:01 1234                       /opt/my app/bin
55d0c0b00000-55d0c0b10000 rw-p 00100000 08:01 1234                       /opt/my app/bin
7f00aa000000-7f00aa100000 r-xp 00002000 08:01 99                         /usr/lib/libc.so.6
7f00aa200000-7f00aa201000 rw-p 00000000 00:00 0 
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
";

    fn site(address: u64, file_offset: u64) -> UsdtNote {
        UsdtNote {
            provider: "p".into(),
            name: "n".into(),
            address,
            file_offset,
            semaphore_offset: 0,
            args: String::new(),
        }
    }

    #[test]
    fn executable_mappings_of_one_file() {
        assert_eq!(
            executable_mappings(MAPS, "/opt/my app/bin"),
            vec![Mapping {
                start: 0x55d0_c0a4_0000,
                end: 0x55d0_c0b0_0000,
                offset: 0x40000,
            }]
        );
        assert_eq!(executable_mappings(MAPS, "/usr/lib/libc.so").len(), 0);
        assert_eq!(
            executable_mappings(MAPS, "[stack]").len(),
            0,
            "not executable"
        );
    }

    #[test]
    fn site_addresses_in_a_process_and_in_a_fixed_executable() {
        let mapped = SiteAddresses {
            mappings: Some(executable_mappings(MAPS, "/opt/my app/bin")),
        };
        // File offset 0x41234 is 0x1234 into the mapping at 0x55d0c0a40000.
        assert_eq!(
            mapped.of(&site(0x41234, 0x41234)).unwrap(),
            0x55d0_c0a4_1234
        );
        let e = mapped.of(&site(0x10, 0x10)).unwrap_err();
        assert!(
            e.contains("file offset 0x10 is in no executable mapping"),
            "{e}"
        );
        let fixed = SiteAddresses { mappings: None };
        assert_eq!(fixed.of(&site(0x401000, 0x1000)).unwrap(), 0x401000);
    }

    #[test]
    fn a_position_independent_file_needs_a_pid() {
        let e = SiteAddresses::new(Path::new("/bin/sh"), true, None).unwrap_err();
        assert!(e.contains("needs a pid"), "{e}");
        assert!(SiteAddresses::new(Path::new("/bin/sh"), false, None).is_ok());
    }

    #[test]
    fn container_paths_are_named_as_inside() {
        assert_eq!(
            maps_name(Path::new("/proc/42/root/usr/bin/python3"), 42),
            "/usr/bin/python3"
        );
    }
}
