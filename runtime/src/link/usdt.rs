//! Attaching `usdt` programs.
//!
//! In: a loaded program written with libbpf's `<bpf/usdt.bpf.h>` (section
//! `usdt` or `usdt/PATH:PROVIDER:NAME`), and the ELF file that holds the
//! probe. Out: one [`Link`] covering every site of the probe: a single
//! `uprobe_multi` link (Linux 6.6+), or one uprobe per site where the
//! program was loaded without `uprobe_multi` (older kernels, or
//! `ProgSettings::set_uprobe_multi(false)`), as libbpf does. The sites and
//! the spec protocol are [`crate::usdt`]'s; without BPF cookies
//! [`super::usdt_by_ip`] finds each site's address. A probe with a
//! semaphore gets it counted up by the kernel (the uprobe's reference
//! counter) while the link lives.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::target_path::resolve_target;
use super::uprobe::{perf_pid, UprobeMultiSites, Uprobes};
use super::usdt_by_ip::SiteAddresses;
use super::{Ctx, Link, LinkError};
use crate::map::{Map, MapFlags};
use crate::obj::{AttachType, ProgType};
use crate::prog::Program;
use crate::usdt::notes::{parse_notes, parse_usdt_args, UsdtNote};
use crate::usdt::spec::{SpecSlots, IP_MAP, SPEC_MAP};

/// Options of [`Program::attach_usdt`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsdtOpts {
    /// Only this process; `None` for every process that maps the file.
    pub pid: Option<u32>,
    /// Value of `bpf_usdt_cookie()` in the program.
    pub cookie: u64,
}

/// Where the uprobe PMU says it can count a USDT semaphore (Linux 4.20+);
/// libbpf checks the same file.
const REF_CTR_FORMAT: &str = "/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset";

impl Program {
    /// Attaches a `usdt` program to every site of probe `provider:name` in
    /// the ELF file at `path` (an executable or a shared library). The
    /// program reads the probe's arguments with `<bpf/usdt.bpf.h>`'s
    /// `BPF_USDT()`/`bpf_usdt_arg()`.
    ///
    /// One `uprobe_multi` link covers every site (Linux 6.6+). Where the
    /// program was loaded without it (older kernels, or
    /// [`ProgSettings::set_uprobe_multi`](crate::load::ProgSettings::set_uprobe_multi)
    /// off), each site gets a uprobe of its own, all owned by the returned
    /// [`Link`], as libbpf does. Without BPF cookies too (before Linux
    /// 5.15), a probe in a shared library or a position-independent
    /// executable needs `opts.pid`: its sites' addresses differ per process.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::link::LinkError> {
    /// use bpf2rs::link::UsdtOpts;
    /// let _link = prog.attach_usdt("/usr/bin/python3", "python", "function__entry", UsdtOpts::default())?;
    /// # Ok(()) }
    /// ```
    pub fn attach_usdt(
        &self,
        path: impl AsRef<Path>,
        provider: &str,
        name: &str,
        opts: UsdtOpts,
    ) -> Result<Link, LinkError> {
        let path = path.as_ref();
        let desc = format!("{}:{provider}:{name}", path.display());
        let ctx = Ctx {
            program: self.name(),
            kind: "usdt",
            target: &desc,
        };
        if self.prog_type() != ProgType::KPROBE {
            return Err(ctx.target(format!("the program is {}, not kprobe", self.prog_type())));
        }
        let path = &resolve_target(path).map_err(|r| ctx.target(r))?;
        let specs = self.usdt_specs().ok_or_else(|| {
            ctx.target(format!(
                "not a `usdt` program of an object with a {SPEC_MAP} map (include <bpf/usdt.bpf.h>)"
            ))
        })?;
        let layout = specs.layout.as_ref().map_err(|e| ctx.target(e.clone()))?;
        let data = std::fs::read(path).map_err(|e| ctx.target(e.to_string()))?;
        let (notes, dynamic) = parse_notes(&data).map_err(|r| ctx.target(r))?;
        let sites: Vec<&UsdtNote> = notes
            .iter()
            .filter(|n| n.provider == provider && n.name == name)
            .collect();
        if sites.is_empty() {
            return Err(ctx.target(format!(
                "no such probe ({} USDT probe sites in the file)",
                notes.len()
            )));
        }
        // Without BPF cookies: the address map, and where the sites are.
        let by_ip = match &specs.by_ip {
            None => None,
            Some(Ok(map)) => {
                let addresses =
                    SiteAddresses::new(path, dynamic, opts.pid).map_err(|r| ctx.target(r))?;
                Some((map, addresses))
            }
            Some(Err(why)) => return Err(ctx.target(why.clone())),
        };
        let uprobes = self.per_site_uprobes(ctx, path, &sites, opts.pid)?;
        // Declared before the kernel links, so dropped after them on error.
        let mut slots = SpecSlots {
            specs: Arc::clone(specs),
            ids: Vec::with_capacity(sites.len()),
            addresses: Vec::new(),
            kept: AtomicBool::new(false),
        };
        let mut per_site = Vec::new();
        let mut offsets = Vec::with_capacity(sites.len());
        let mut ref_ctrs = Vec::with_capacity(sites.len());
        let mut cookies = Vec::with_capacity(sites.len());
        for site in &sites {
            let site_desc = format!("{desc} (site at {:#x})", site.address);
            let site_ctx = Ctx {
                target: &site_desc,
                ..ctx
            };
            let at = |r: String| site_ctx.target(r);
            let args = parse_usdt_args(&site.args).map_err(at)?;
            let spec = layout.encode(&args, opts.cookie).map_err(at)?;
            let id = specs.acquire(spec).map_err(at)?;
            slots.ids.push(id);
            if let Some((map, addresses)) = &by_ip {
                let ip = addresses.of(site).map_err(at)?;
                add_site_address(map, ip, id).map_err(at)?;
                slots.addresses.push(ip);
            }
            let cookie = if by_ip.is_some() { 0 } else { u64::from(id) };
            match &uprobes {
                Some(uprobes) => per_site.push(uprobes.attach(
                    site_ctx,
                    site.file_offset,
                    site.semaphore_offset,
                    cookie,
                )?),
                None => {
                    offsets.push(site.file_offset);
                    ref_ctrs.push(site.semaphore_offset);
                    cookies.push(cookie);
                }
            }
        }
        let what = format!("usdt {} on {} sites of {desc}", self.name(), sites.len());
        let mut link = if uprobes.is_some() {
            Link::group(per_site, what).ok_or_else(|| ctx.target("no such probe"))?
        } else {
            let has_semaphore = ref_ctrs.iter().any(|&r| r != 0);
            let fd = self.uprobe_multi_link(
                &ctx,
                path,
                UprobeMultiSites {
                    offsets: &offsets,
                    ref_ctr_offsets: has_semaphore.then_some(&ref_ctrs[..]),
                    cookies: Some(&cookies),
                },
                0,
                opts.pid,
            )?;
            Link::new(fd, what)
        };
        link.usdt = Some(slots);
        Ok(link)
    }

    /// The kind of link the program was loaded for (crate::load's
    /// expected_attach_type): `None` for one uprobe_multi link, else the
    /// uprobes to attach one per site.
    fn per_site_uprobes(
        &self,
        ctx: Ctx<'_>,
        path: &Path,
        sites: &[&UsdtNote],
        pid: Option<u32>,
    ) -> Result<Option<Uprobes<'_>>, LinkError> {
        if self.expected_attach_type() == Some(AttachType::TRACE_UPROBE_MULTI) {
            return Ok(None);
        }
        if sites.iter().any(|s| s.semaphore_offset != 0) && !Path::new(REF_CTR_FORMAT).exists() {
            return Err(ctx.target(format!(
                "the probe has a semaphore, and this kernel's uprobes cannot count one \
                 (no {REF_CTR_FORMAT}: Linux 4.20+)"
            )));
        }
        Ok(Some(Uprobes::new(
            self,
            ctx,
            path,
            false,
            perf_pid(ctx, pid)?,
        )?))
    }
}

/// Without BPF cookies: maps the site's address `ip` to spec slot `id` in
/// the object's address map (the program reads a `long` key and a `__u32`
/// value).
fn add_site_address(map: &Map, ip: u64, id: u32) -> Result<(), String> {
    match map.update(&ip.to_ne_bytes(), &id.to_ne_bytes(), MapFlags::NOEXIST) {
        Ok(()) => Ok(()),
        Err(e) if e.errno() == Some(libc::EEXIST) => Err(format!(
            "address {ip:#x} is in {IP_MAP} already: without BPF cookies a site takes one \
             USDT link at a time"
        )),
        Err(e) => Err(e.to_string()),
    }
}
