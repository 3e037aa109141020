//! Loaded programs: their fd, what they are, and BPF_PROG_TEST_RUN.
//!
//! In: an fd from the loader (or a pin, or an id). Out: [`Program`] with
//! `test_run`, `pin`, `info`.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::obj::{AttachType, ProgType};
use crate::sys::{self, SysError};

/// A program operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("program {program}: {op}: {source}")]
pub struct ProgError {
    pub program: String,
    pub op: &'static str,
    #[source]
    pub source: SysError,
}

/// A program loaded in the kernel.
#[derive(Debug)]
pub struct Program {
    name: String,
    section: String,
    prog_type: ProgType,
    expected_attach_type: Option<AttachType>,
    /// `None` when the program was not loaded (autoload off).
    fd: Option<OwnedFd>,
    /// The object's USDT spec array, for `usdt` programs.
    usdt: Option<std::sync::Arc<crate::usdt::spec::UsdtSpecs>>,
    /// The verifier's log of a load that asked for one (a log level).
    verifier_log: Option<String>,
}

/// Input of [`Program::test_run`].
#[derive(Debug, Default, Clone)]
pub struct TestRunInput<'a> {
    /// Packet (XDP, tc, socket) or other data the program sees.
    pub data: &'a [u8],
    /// Context (`struct xdp_md`, `__sk_buff`, raw tracepoint args), if any.
    pub ctx: &'a [u8],
    /// How many times to run (0 and 1 both run once).
    pub repeat: u32,
    /// Room for the data the program leaves (for packet rewriting); 0 to skip.
    pub data_out_len: usize,
    /// BPF_F_TEST_RUN_ON_CPU etc.
    pub flags: u32,
    pub cpu: u32,
}

/// Output of [`Program::test_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value (e.g. XDP_PASS = 2).
    pub retval: u32,
    /// Mean nanoseconds per run, as the kernel measured.
    pub duration_ns: u32,
    /// The data after the run (only with `data_out_len` > 0).
    pub data: Vec<u8>,
}

impl Program {
    pub(crate) fn new(
        name: String,
        section: String,
        prog_type: ProgType,
        expected_attach_type: Option<AttachType>,
        fd: Option<OwnedFd>,
    ) -> Program {
        Program {
            name,
            section,
            prog_type,
            expected_attach_type,
            fd,
            usdt: None,
            verifier_log: None,
        }
    }

    pub(crate) fn set_verifier_log(&mut self, log: String) {
        self.verifier_log = Some(log);
    }

    /// The verifier's log of this program's load, when a log level was set
    /// before load (`ProgSettings::set_log_level`); `None` otherwise.
    pub fn verifier_log(&self) -> Option<&str> {
        self.verifier_log.as_deref()
    }

    pub(crate) fn set_usdt_specs(&mut self, specs: std::sync::Arc<crate::usdt::spec::UsdtSpecs>) {
        self.usdt = Some(specs);
    }

    pub(crate) fn usdt_specs(&self) -> Option<&std::sync::Arc<crate::usdt::spec::UsdtSpecs>> {
        self.usdt.as_ref()
    }

    /// Whether the program is in the kernel (false when autoload was off).
    pub fn is_loaded(&self) -> bool {
        self.fd.is_some()
    }

    /// The program's fd; an error if it was not loaded.
    pub fn fd(&self) -> Result<BorrowedFd<'_>, ProgError> {
        self.fd
            .as_ref()
            .map(|f| f.as_fd())
            .ok_or_else(|| ProgError {
                program: self.name.clone(),
                op: "fd",
                source: SysError {
                    op: "not loaded",
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the program was not loaded (autoload is off)",
                    ),
                },
            })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section it came from.
    pub fn section(&self) -> &str {
        &self.section
    }

    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// The expected attach type it was loaded with: its section's, except
    /// for `usdt` and `uprobe.multi` programs loaded for one uprobe per site
    /// (`None`; see [`ProgSettings::set_uprobe_multi`](crate::load::ProgSettings::set_uprobe_multi)).
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.expected_attach_type
    }

    fn err(&self, op: &'static str) -> impl FnOnce(SysError) -> ProgError + '_ {
        move |source| ProgError {
            program: self.name.clone(),
            op,
            source,
        }
    }

    /// Runs the program once (or `repeat` times) on `input` with
    /// BPF_PROG_TEST_RUN.
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::prog::ProgError> {
    /// let out = prog.test_run(&bpf2rs::prog::TestRunInput { data: &[0u8; 64], ..Default::default() })?;
    /// assert_eq!(out.retval, 2); // XDP_PASS
    /// # Ok(()) }
    /// ```
    pub fn test_run(&self, input: &TestRunInput<'_>) -> Result<TestRunOutput, ProgError> {
        let mut out = vec![0u8; input.data_out_len];
        let mut t = sys::TestRun {
            data_in: input.data,
            data_out: if out.is_empty() {
                None
            } else {
                Some(&mut out[..])
            },
            ctx_in: input.ctx,
            ctx_out: None,
            repeat: input.repeat,
            flags: input.flags,
            cpu: input.cpu,
        };
        let r = sys::prog_test_run(self.fd()?, &mut t).map_err(self.err("test_run"))?;
        out.truncate(r.data_size_out as usize);
        Ok(TestRunOutput {
            retval: r.retval,
            duration_ns: r.duration_ns,
            data: out,
        })
    }

    /// Pins the program at `path` in bpffs.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), ProgError> {
        use std::os::unix::ffi::OsStrExt;
        let c = CString::new(path.as_ref().as_os_str().as_bytes()).map_err(|_| ProgError {
            program: self.name.clone(),
            op: "pin",
            source: SysError {
                op: "BPF_OBJ_PIN",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "path contains a NUL byte",
                ),
            },
        })?;
        sys::obj_pin(self.fd()?, &c).map_err(self.err("pin"))
    }

    /// The kernel's id of the program.
    pub fn id(&self) -> Result<u32, ProgError> {
        Ok(sys::prog_info(self.fd()?).map_err(self.err("info"))?.id)
    }

    /// What the kernel says of the loaded program (BPF_OBJ_GET_INFO_BY_FD).
    ///
    /// ```no_run
    /// # fn f(prog: &bpf2rs::prog::Program) -> Result<(), bpf2rs::prog::ProgError> {
    /// let info = prog.info()?;
    /// println!("{} (id {}): {} instructions verified", info.name, info.id, info.verified_insns);
    /// # Ok(()) }
    /// ```
    pub fn info(&self) -> Result<ProgInfo, ProgError> {
        let r = sys::prog_info(self.fd()?).map_err(self.err("info"))?;
        Ok(ProgInfo {
            prog_type: ProgType(r.prog_type),
            id: r.id,
            name: crate::ctypes::c_str_lossy(&r.name).into_owned(),
            ifindex: r.ifindex,
            btf_id: r.btf_id,
            verified_insns: r.verified_insns,
            attach_btf_obj_id: r.attach_btf_obj_id,
            attach_btf_id: r.attach_btf_id,
        })
    }
}

/// A loaded program as the kernel describes it (`struct bpf_prog_info`).
/// The kernel does not report prog_flags (sleepable, XDP frags).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgInfo {
    pub prog_type: ProgType,
    pub id: u32,
    pub name: String,
    /// The device a device-bound program was loaded for (0: none).
    pub ifindex: u32,
    /// The program's BTF object (0: loaded without BTF).
    pub btf_id: u32,
    /// Instructions the verifier processed (Linux 5.16+; 0 before).
    pub verified_insns: u32,
    /// The BTF object (vmlinux, a module, or a program's) of the attach
    /// target (Linux 6.0+; 0 before, or without a BTF target).
    pub attach_btf_obj_id: u32,
    /// The target's type id in that BTF (Linux 6.0+).
    pub attach_btf_id: u32,
}
