//! Typed perf buffers: [`PerfEventArray<E>`] over a
//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
//!
//! In: the map. Out: one perf buffer per online CPU (`perf_event_open` of a
//! `PERF_COUNT_SW_BPF_OUTPUT` event, `1 + 2^n` pages mapped, its fd stored
//! in the map at the CPU's index), read under one epoll. Samples reach the
//! handler as `(cpu, &E)`; counts of samples the kernel dropped for lack
//! of room (`PERF_RECORD_LOST`) come back in [`Received`].
//!
//! The kernel places a sample's data 4 bytes past an 8-aligned record
//! start, and records wrap around the end of the buffer: a sample is read
//! in place when it is contiguous and aligned for `E`, and otherwise
//! copied into a per-CPU scratch buffer aligned to max(8, `align_of::<E>()`)
//! and made once (no allocation per event either way). So `E` may have
//! any alignment; types aligned to more than 4 are always copied.
//!
//! ```no_run
//! use std::time::Duration;
//! use bpf2rs::perf::PerfEventArray;
//! # fn f(map: bpf2rs::map::Map) -> Result<(), Box<dyn std::error::Error>> {
//! let mut perf = PerfEventArray::<[u64; 4]>::from_map(map)?;
//! let got = perf.poll(Duration::from_millis(100), |cpu, e: &[u64; 4]| {
//!     println!("cpu {cpu}: {}", e[0]);
//! })?;
//! if got.lost > 0 {
//!     eprintln!("{} samples lost", got.lost);
//! }
//! # Ok(()) }
//! ```

#[cfg(feature = "tokio")]
mod tokio;
mod view;

use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

pub use crate::ringbuf::{EventError, Flow, Record};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use tokio::AsyncPerfEventArray;

use crate::map::{map_handle, Map, MapError};
use crate::obj::MapType;
use crate::ringbuf::{setup_error, timeout_ms};
use crate::sys::events::{self, Epoll, EpollEvent, EPOLLIN};
use crate::sys::{self, MapFd};
use view::{PerfNext, PerfReader};

/// How the per-CPU buffers are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerfOptions {
    /// Data pages per CPU (a power of two; one more page holds the header).
    pub pages: usize,
    /// Wake pollers after this many samples (1: every sample).
    pub wakeup_events: u32,
}

impl Default for PerfOptions {
    /// 64 pages per CPU, a wake-up per sample (libbpf's choice).
    fn default() -> PerfOptions {
        PerfOptions {
            pages: 64,
            wakeup_events: 1,
        }
    }
}

/// What one `poll` or `consume` got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Samples handed to the handler.
    pub events: usize,
    /// Samples the kernel dropped because a buffer was full.
    pub lost: u64,
}

impl Received {
    fn add(&mut self, other: Received) {
        self.events += other.events;
        self.lost += other.lost;
    }
}

struct CpuBuffer {
    cpu: u32,
    fd: OwnedFd,
    reader: PerfReader,
    commit_every: usize,
}

/// The map entries this handle stored, removed when it goes away (as
/// libbpf's `perf_buffer__free` does).
struct Entries {
    map: MapFd,
    cpus: Vec<u32>,
}

impl Drop for Entries {
    fn drop(&mut self) {
        for cpu in &self.cpus {
            let _ = self.map.delete(&cpu.to_ne_bytes());
        }
    }
}

/// Perf buffers of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`, samples read as `E`
/// (any [`Pod`](crate::Pod) type, or `[u8]` for raw samples).
///
/// Any alignment of `E` works. Zero-copy whenever the sample is contiguous
/// and its place is aligned for `E`; otherwise (it wraps around the end of
/// the buffer, or it is misaligned: the kernel puts sample data 4 bytes
/// past an 8-aligned record, so types aligned to more than 4 always are)
/// it is copied once into a per-CPU buffer aligned for `E`, made with the
/// handle and reused: no allocation per sample either way.
pub struct PerfEventArray<E: ?Sized = [u8]> {
    map: Map,
    buffers: Vec<CpuBuffer>,
    epoll: Epoll,
    events: Vec<EpollEvent>,
    _entries: Entries,
    lost: u64,
    _event: PhantomData<fn(&E)>,
}

map_handle!(impl[E: Record + ?Sized] PerfEventArray<E>);

/// The epoll fd over all CPUs (readable when some buffer is).
impl<E: Record + ?Sized> AsRawFd for PerfEventArray<E> {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.as_raw_fd()
    }
}

// The epoll fd is owned by `epoll` and never replaced.
#[cfg(feature = "tokio")]
impl<E: Record + ?Sized> crate::sys::events::StableFd for PerfEventArray<E> {}

impl<E: Record + ?Sized> PerfEventArray<E> {
    /// Creates a perf event array with a slot per possible CPU and opens
    /// its buffers with `options`.
    pub fn create(name: &str, options: &PerfOptions) -> Result<Self, MapError> {
        let cpus = sys::possible_cpus().map_err(setup_error(name, "counting CPUs"))?;
        let map = Map::create_simple(
            name,
            MapType::PERF_EVENT_ARRAY,
            4,
            4,
            cpus as u32,
            Default::default(),
        )?;
        Self::with_options(map, options)
    }

    /// Wraps `map` with [`PerfOptions::default`] buffers.
    ///
    /// ```no_run
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let perf = bpf2rs::perf::PerfEventArray::<u64>::from_map(map)?;
    /// # Ok(()) }
    /// ```
    pub fn from_map(map: Map) -> Result<Self, MapError> {
        Self::with_options(map, &PerfOptions::default())
    }

    /// Wraps `map` after checking its type, and opens one buffer per online
    /// CPU below its max_entries, storing each fd in the map.
    ///
    /// ```no_run
    /// use bpf2rs::perf::{PerfEventArray, PerfOptions};
    /// # fn f(map: bpf2rs::map::Map) -> Result<(), bpf2rs::map::MapError> {
    /// let opts = PerfOptions { pages: 256, ..Default::default() };
    /// let perf = PerfEventArray::<[u8]>::with_options(map, &opts)?;
    /// # Ok(()) }
    /// ```
    pub fn with_options(map: Map, options: &PerfOptions) -> Result<Self, MapError> {
        map.check(&[MapType::PERF_EVENT_ARRAY], 4, 4)?;
        let name = map.name();
        let online = events::online_cpus().map_err(setup_error(name, "reading online CPUs"))?;
        let dup = map
            .as_fd()
            .try_clone_to_owned()
            .map_err(setup_error(name, "dup"))?;
        let mut entries = Entries {
            map: MapFd::new(dup, 4, 4),
            cpus: Vec::new(),
        };
        let epoll = Epoll::new().map_err(setup_error(name, "epoll_create"))?;
        let mut buffers = Vec::new();
        for cpu in online.into_iter().filter(|&c| c < map.info().max_entries) {
            let fd = events::perf_event_open_bpf_output(cpu, options.wakeup_events)
                .map_err(setup_error(name, "perf_event_open"))?;
            let reader = PerfReader::new(fd.as_fd(), options.pages, E::ALIGN)
                .map_err(setup_error(name, "mmap"))?;
            events::perf_event_enable(fd.as_fd(), true)
                .map_err(setup_error(name, "PERF_EVENT_IOC_ENABLE"))?;
            map.update(
                &cpu.to_ne_bytes(),
                &(fd.as_raw_fd() as u32).to_ne_bytes(),
                Default::default(),
            )?;
            entries.cpus.push(cpu);
            epoll
                .add(fd.as_fd(), EPOLLIN, buffers.len() as u64)
                .map_err(setup_error(name, "epoll_ctl"))?;
            buffers.push(CpuBuffer {
                cpu,
                commit_every: (reader.size() / 4).clamp(256, 64 << 10),
                fd,
                reader,
            });
        }
        Ok(PerfEventArray {
            events: vec![EpollEvent::EMPTY; buffers.len().max(1)],
            map,
            buffers,
            epoll,
            _entries: entries,
            lost: 0,
            _event: PhantomData,
        })
    }

    /// The CPUs with a buffer, in buffer order.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.buffers.iter().map(|b| b.cpu)
    }

    /// The perf event fd of buffer `index` (see [`cpus`](Self::cpus)).
    pub fn buffer_fd(&self, index: usize) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.buffers.get(index).map(|b| b.fd.as_fd())
    }

    /// Samples lost so far, over all calls and CPUs.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Drains every buffer without waiting.
    ///
    /// ```no_run
    /// # fn f(p: &mut bpf2rs::perf::PerfEventArray<u32>) -> Result<(), bpf2rs::ringbuf::EventError> {
    /// let got = p.consume(|cpu, v: &u32| println!("{cpu} {v}"))?;
    /// # Ok(()) }
    /// ```
    pub fn consume<F, R>(&mut self, mut handler: F) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        let mut got = Received::default();
        for i in 0..self.buffers.len() {
            let (r, stop) = self.drain(i, &mut handler)?;
            got.add(r);
            if stop {
                break;
            }
        }
        Ok(got)
    }

    /// Drains buffer `index` only.
    pub fn consume_buffer<F, R>(
        &mut self,
        index: usize,
        mut handler: F,
    ) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        self.drain(index, &mut handler).map(|(r, _)| r)
    }

    /// Waits up to `timeout` for samples on any CPU (epoll), then drains
    /// the buffers that have some. Samples already waiting are handled
    /// first, without a system call. `Duration::MAX` waits without limit.
    pub fn poll<F, R>(&mut self, timeout: Duration, mut handler: F) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        let got = self.consume(&mut handler)?;
        if got != Received::default() || timeout.is_zero() {
            return Ok(got);
        }
        let start = Instant::now();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            let got = self.wait_and_drain(timeout_ms(left), &mut handler)?;
            if got != Received::default() || start.elapsed() >= timeout {
                return Ok(got);
            }
        }
    }

    /// One epoll wait, then a drain of what it reported.
    fn wait_and_drain<F, R>(
        &mut self,
        timeout_ms: i32,
        handler: &mut F,
    ) -> Result<Received, EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        let ready = self
            .epoll
            .wait(&mut self.events, timeout_ms)
            .map_err(EventError::io(self.map.name(), "epoll_wait"))?;
        let mut got = Received::default();
        for k in 0..ready {
            let (r, stop) = self.drain(self.events[k].data() as usize, handler)?;
            got.add(r);
            if stop {
                break;
            }
        }
        Ok(got)
    }

    /// Drains buffer `index`; also says whether the handler asked to stop.
    fn drain<F, R>(&mut self, index: usize, handler: &mut F) -> Result<(Received, bool), EventError>
    where
        F: FnMut(u32, &E) -> R,
        R: Flow,
    {
        let mut got = Received::default();
        let Some(buf) = self.buffers.get_mut(index) else {
            return Ok((got, false));
        };
        let result = drain_buffer(self.map.name(), buf, handler, &mut got);
        self.lost += got.lost;
        result.map(|stop| (got, stop))
    }
}

fn drain_buffer<E, F, R>(
    map: &str,
    buf: &mut CpuBuffer,
    handler: &mut F,
    got: &mut Received,
) -> Result<bool, EventError>
where
    E: Record + ?Sized,
    F: FnMut(u32, &E) -> R,
    R: Flow,
{
    buf.reader.begin();
    buf.reader.refresh();
    loop {
        match buf.reader.next(E::ALIGN) {
            PerfNext::Empty => {
                buf.reader.commit();
                if !buf.reader.refresh() {
                    return Ok(false);
                }
            }
            PerfNext::Sample(s) => {
                let bytes = buf.reader.bytes(s);
                let Some(event) = E::from_record(bytes) else {
                    let len = bytes.len();
                    buf.reader.commit();
                    return Err(EventError::ShortRecord {
                        map: format!("{map} (cpu {})", buf.cpu),
                        len,
                        expected: E::MIN_LEN,
                    });
                };
                got.events += 1;
                if handler(buf.cpu, event).is_break() {
                    buf.reader.commit();
                    return Ok(true);
                }
            }
            PerfNext::Lost(n) => got.lost += n,
            PerfNext::Other => {}
            PerfNext::Corrupt { position, size } => {
                return Err(EventError::Corrupt {
                    map: format!("{map} (cpu {})", buf.cpu),
                    position,
                    message: format!("record size {size} does not fit"),
                })
            }
        }
        if buf.reader.pending() >= buf.commit_every {
            buf.reader.commit();
        }
    }
}
