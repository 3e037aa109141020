//! tracefs and PMU lookups: where tracefs is (mounting it when nothing
//! did), tracepoint ids, traceable kernel functions, and the dynamic PMUs
//! (`kprobe`, `uprobe`) with their `retprobe` config bit.
//!
//! In: names. Out: ids, symbol lists, PMU types, or a readable reason.

use std::path::PathBuf;

use crate::sys::perf_event::mount_tracefs;

/// The tracefs root: /sys/kernel/tracing, else the debugfs copy; mounts
/// tracefs at /sys/kernel/tracing when neither is there.
pub(super) fn root() -> Result<PathBuf, String> {
    for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let p = PathBuf::from(dir);
        if p.join("events").is_dir() {
            return Ok(p);
        }
    }
    mount_tracefs().map_err(|e| {
        format!("tracefs is not mounted and mounting it at /sys/kernel/tracing failed: {e}")
    })?;
    Ok(PathBuf::from("/sys/kernel/tracing"))
}

/// The id of tracepoint `category/name` (`events/<cat>/<name>/id`).
pub(super) fn tracepoint_id(category: &str, name: &str) -> Result<u64, String> {
    if [category, name]
        .iter()
        .any(|s| s.is_empty() || s.contains('/') || s.contains(".."))
    {
        return Err("not a tracepoint name (expected category and name)".into());
    }
    let path = root()?.join("events").join(category).join(name).join("id");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("no such tracepoint ({}: {e})", path.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a number: {text:?}", path.display()))
}

/// Every function kprobes can attach to: `available_filter_functions`
/// (`name [module]` per line), or, when tracefs refuses to list them
/// (some sandboxes answer EPERM), the text symbols of /proc/kallsyms.
pub(super) fn available_filter_functions() -> Result<Vec<String>, String> {
    let path = root()?.join("available_filter_functions");
    let first = match std::fs::read_to_string(&path) {
        Ok(text) => {
            return Ok(text
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_owned)
                .collect())
        }
        Err(e) => format!("{}: {e}", path.display()),
    };
    let kallsyms = std::fs::read_to_string("/proc/kallsyms")
        .map_err(|e| format!("{first}; /proc/kallsyms: {e}"))?;
    Ok(kallsyms_text_symbols(&kallsyms))
}

/// `ffffffff816f08a0 T do_unlinkat [module]` -> the names of `t`/`T` lines.
fn kallsyms_text_symbols(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _addr = f.next()?;
            let kind = f.next()?;
            let name = f.next()?;
            matches!(kind, "t" | "T").then(|| name.to_owned())
        })
        .collect()
}

/// A dynamic PMU's type and the bit of `config` that makes a return probe.
pub(super) fn pmu(name: &str) -> Result<(u32, u32), String> {
    let dir = PathBuf::from("/sys/bus/event_source/devices").join(name);
    let ty = std::fs::read_to_string(dir.join("type")).map_err(|e| {
        format!(
            "the kernel has no {name} PMU ({}: {e}); is CONFIG_{}S enabled?",
            dir.display(),
            name.to_ascii_uppercase()
        )
    })?;
    let ty = ty
        .trim()
        .parse()
        .map_err(|_| format!("{}/type: not a number: {ty:?}", dir.display()))?;
    let fmt = std::fs::read_to_string(dir.join("format/retprobe"))
        .map_err(|e| format!("{}/format/retprobe: {e}", dir.display()))?;
    let bit = parse_config_bit(&fmt)
        .ok_or_else(|| format!("{}/format/retprobe: cannot parse {fmt:?}", dir.display()))?;
    Ok((ty, bit))
}

/// `config:9` -> 9.
fn parse_config_bit(text: &str) -> Option<u32> {
    let bit: u32 = text.trim().strip_prefix("config:")?.parse().ok()?;
    (bit < 64).then_some(bit)
}

/// Shell-style glob with `*` and `?` (what libbpf accepts in
/// `kprobe.multi/` sections).
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("do_*", "do_unlinkat"));
        assert!(glob_match("*unlink*", "do_unlinkat"));
        assert!(glob_match("do_?nlinkat", "do_unlinkat"));
        assert!(glob_match("do_unlinkat", "do_unlinkat"));
        assert!(!glob_match("do_*", "vfs_unlink"));
        assert!(!glob_match("do_unlink", "do_unlinkat"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn kallsyms_lines() {
        let text = "ffffffff816f08a0 T do_unlinkat\nffffffff81000000 D some_data\nffffffffc0000000 t mod_fn\t[ext4]\n";
        assert_eq!(kallsyms_text_symbols(text), vec!["do_unlinkat", "mod_fn"]);
    }

    #[test]
    fn config_bits() {
        assert_eq!(parse_config_bit("config:0\n"), Some(0));
        assert_eq!(parse_config_bit("config:9"), Some(9));
        assert_eq!(parse_config_bit("config:32-63"), None);
    }
}
