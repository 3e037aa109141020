//! The running kernel's configuration for `__kconfig` externs: read from
//! /boot/config-$(uname -r) or /proc/config.gz, and one value encoded into
//! the extern's C type (libbpf's set_kcfg_value_*).
//!
//! In: config text (`CONFIG_X=y`, `=m`, `=123`, `="str"`). Out: bytes.

mod inflate;

use std::collections::HashMap;

use crate::btf::{Btf, Type, TypeId};

/// The running kernel's configuration: `CONFIG_*` name -> raw value text.
///
/// ```no_run
/// let config = bpf2rs::load::KernelConfig::read()?;
/// println!("CONFIG_BPF_LSM={:?}", config.get("CONFIG_BPF_LSM"));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Default)]
pub struct KernelConfig {
    values: HashMap<String, String>,
}

impl KernelConfig {
    /// The config of the running kernel (/boot/config-$(uname -r), else
    /// /proc/config.gz).
    pub fn read() -> Result<KernelConfig, String> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let boot = format!("/boot/config-{}", release.trim());
        if let Ok(text) = std::fs::read_to_string(&boot) {
            return Ok(KernelConfig::parse(&text));
        }
        let gz = std::fs::read("/proc/config.gz")
            .map_err(|e| format!("neither {boot} nor /proc/config.gz: {e}"))?;
        let raw = inflate::gunzip(&gz).map_err(|e| format!("/proc/config.gz: {e}"))?;
        Ok(KernelConfig::parse(&String::from_utf8_lossy(&raw)))
    }

    /// Parses `.config` text; `# CONFIG_X is not set` lines mean `n`.
    pub fn parse(text: &str) -> KernelConfig {
        let mut values = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("# ") {
                if let Some(name) = rest.strip_suffix(" is not set") {
                    values.insert(name.to_owned(), "n".to_owned());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                if k.starts_with("CONFIG_") {
                    values.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        KernelConfig { values }
    }

    /// The raw value of `name` (`y`, `m`, `n` for `# ... is not set`, a
    /// number or a quoted string), `None` when the config does not mention it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Writes `value` into `slot` as the C type `ty` (bool, tristate enum,
/// char, integers, char arrays).
pub(crate) fn encode(btf: &Btf, ty: TypeId, value: &str, slot: &mut [u8]) -> Result<(), String> {
    let id = btf.skip_mods_and_typedefs(ty).map_err(|e| e.to_string())?;
    let t = btf.type_by_id(id).map_err(|e| e.to_string())?;
    let tristate = match value {
        "y" => Some(1u64),
        "m" => Some(2),
        "n" => Some(0),
        _ => None,
    };
    let int_value = |signed: bool| -> Result<u64, String> {
        if let Some(v) = tristate {
            return Ok(v);
        }
        let (neg, digits) = match value.strip_prefix('-') {
            Some(d) if signed => (true, d),
            _ => (false, value),
        };
        let v = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => digits.parse::<u64>(),
        }
        .map_err(|_| format!("value `{value}` is not a number"))?;
        Ok(if neg { v.wrapping_neg() } else { v })
    };
    let put = |slot: &mut [u8], v: u64| {
        let bytes = v.to_ne_bytes();
        let n = slot.len().min(8);
        if cfg!(target_endian = "little") {
            slot[..n].copy_from_slice(&bytes[..n]);
        } else {
            slot[..n].copy_from_slice(&bytes[8 - n..]);
        }
    };
    match t {
        Type::Int(i) if i.encoding.bool => {
            let v = match value {
                "y" | "m" => 1,
                "n" => 0,
                _ => return Err(format!("value `{value}` is not a boolean")),
            };
            put(slot, v);
        }
        Type::Int(i) if i.encoding.char && i.byte_size == 1 => {
            let c = match value {
                "y" | "m" | "n" => value.as_bytes()[0],
                _ => return Err(format!("value `{value}` is not y, m or n")),
            };
            slot[0] = c;
        }
        Type::Int(i) => put(slot, int_value(i.encoding.signed)?),
        Type::Enum(e) => {
            if tristate.is_none() && !btf.name(e.name).contains("tristate") {
                put(slot, int_value(e.signed)?);
            } else {
                put(
                    slot,
                    tristate.ok_or_else(|| format!("value `{value}` is not y, m or n"))?,
                );
            }
        }
        Type::Array(_) => {
            let s = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| format!("value `{value}` is not a string"))?;
            let n = s.len().min(slot.len().saturating_sub(1));
            slot[..n].copy_from_slice(&s.as_bytes()[..n]);
        }
        _ => return Err("unsupported extern type".into()),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;
    use crate::btf::testing::{BtfBuilder, BOOL, CHAR, SIGNED, UNSIGNED};

    #[test]
    fn config_text_and_values_by_c_type() {
        let cfg = KernelConfig::parse(
            "# comment\nCONFIG_HZ=250\nCONFIG_BPF_JIT=y\nCONFIG_MOD=m\n# CONFIG_OFF is not set\nCONFIG_NAME=\"fc\"\nCONFIG_NEG=-3\nCONFIG_HEX=0x10\n",
        );
        assert_eq!(cfg.get("CONFIG_HZ"), Some("250"));
        assert_eq!(cfg.get("CONFIG_OFF"), Some("n"));
        assert_eq!(cfg.get("CONFIG_MISSING"), None);

        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, SIGNED);
        let u64_ = b.int("unsigned long long", 8, UNSIGNED);
        let bool_ = b.int("_Bool", 1, BOOL);
        let ch = b.int("char", 1, CHAR | SIGNED);
        let tri = b.enum_(
            "libbpf_tristate",
            4,
            false,
            &[("TRI_NO", 0), ("TRI_YES", 1), ("TRI_MODULE", 2)],
        );
        let arr = b.array(ch, int, 8);
        let btf = Btf::parse(&b.bytes()).unwrap();
        let enc = |ty, v: &str, n: usize| {
            let mut slot = vec![0xaau8; n];
            encode(&btf, ty, v, &mut slot).map(|()| slot)
        };
        assert_eq!(enc(int, "250", 4).unwrap(), 250i32.to_ne_bytes());
        assert_eq!(enc(int, "-3", 4).unwrap(), (-3i32).to_ne_bytes());
        assert_eq!(enc(u64_, "0x10", 8).unwrap(), 16u64.to_ne_bytes());
        assert_eq!(enc(bool_, "y", 1).unwrap(), [1]);
        assert_eq!(enc(bool_, "n", 1).unwrap(), [0]);
        assert_eq!(enc(ch, "m", 1).unwrap(), [b'm']);
        assert_eq!(enc(tri, "m", 4).unwrap(), 2u32.to_ne_bytes());
        assert_eq!(enc(tri, "y", 4).unwrap(), 1u32.to_ne_bytes());
        assert_eq!(&enc(arr, "\"fc\"", 8).unwrap()[..3], b"fc\xaa");
        assert!(enc(int, "abc", 4).is_err());
        assert!(enc(bool_, "7", 1).is_err());
        assert!(enc(arr, "unquoted", 8).is_err());
    }

    #[test]
    fn kernel_version_from_release() {
        use crate::load::externs::parse_kernel_version;
        assert_eq!(parse_kernel_version("6.18.44-fc-v782"), Some(0x06122c));
        assert_eq!(parse_kernel_version("5.4.300"), Some(0x0504ff));
        assert_eq!(parse_kernel_version("6.1"), Some(0x060100));
        assert_eq!(parse_kernel_version("garbage"), None);
    }
}
