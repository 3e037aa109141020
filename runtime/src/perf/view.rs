//! The mmap view of one perf buffer: [`PerfReader`]. The only code that
//! touches perf buffer memory.
//!
//! Layout (include/uapi/linux/perf_event.h): the first page is `struct
//! perf_event_mmap_page`, whose `data_head` (offset 1024) the kernel
//! advances and `data_tail` (1032) user space advances; `data_offset` and
//! `data_size` (1040, 1048) say where the data pages are. Records start
//! 8-aligned with `struct perf_event_header {u32 type; u16 misc; u16
//! size}` and wrap around the end of the data area (it is mapped once).
//! `data_head` is loaded with acquire and `data_tail` stored with release,
//! as the comments of `perf_event_mmap_page` ask.

use std::io;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ringbuf::AlignedScratch;
use crate::sys::events::{page_size, Mapping};

const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

/// `PERF_RECORD_LOST`: `{header; u64 id; u64 lost}`.
const RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE` with `PERF_SAMPLE_RAW` only: `{header; u32 size; u8 data[size]}`.
const RECORD_SAMPLE: u32 = 9;
const HEADER: usize = 8;

/// What [`PerfReader::next`] found at the tail.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PerfNext {
    /// Nothing past the tail (as of the last refresh).
    Empty,
    /// A sample, readable with [`PerfReader::bytes`].
    Sample(SampleRef),
    /// The kernel dropped this many samples (no room).
    Lost(u64),
    /// A record of another type; skipped.
    Other,
    /// A header the kernel could not have written.
    Corrupt { position: u64, size: usize },
}

/// A sample handed out by [`PerfReader::next`]; only the reader makes them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleRef {
    pos: u64,
    /// Offset of the first data byte in the data area, or `None` when the
    /// bytes were copied into the scratch buffer.
    in_place: Option<usize>,
    len: usize,
}

/// One mapped perf buffer.
#[derive(Debug)]
pub(crate) struct PerfReader {
    mapping: Mapping,
    data_offset: usize,
    size: usize,
    head: u64,
    tail: u64,
    committed: u64,
    /// Where records that wrap (or samples that need more alignment than
    /// their place gives) are copied: aligned to max(8, the event type's
    /// alignment), made once and reused for every record.
    scratch: AlignedScratch,
}

impl PerfReader {
    /// Maps 1 + `pages` pages of perf event `fd` (`pages` a power of two);
    /// samples will be read as a type aligned to `align`.
    pub(crate) fn new(fd: BorrowedFd<'_>, pages: usize, align: usize) -> io::Result<PerfReader> {
        if !pages.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("perf buffer pages {pages} is not a power of two"),
            ));
        }
        let page = page_size();
        let len = pages
            .checked_add(1)
            .and_then(|p| p.checked_mul(page))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "perf buffer too large"))?;
        let mapping = Mapping::map(fd, 0, len, true)?;
        let mut r = PerfReader {
            mapping,
            data_offset: page,
            size: pages * page,
            head: 0,
            tail: 0,
            committed: 0,
            // A sample is at most a record (u16 size) and at most the buffer.
            scratch: AlignedScratch::new((pages * page).min(1 << 16) + HEADER, align.max(8)),
        };
        // Kernels since 4.1 say where the data is; trust them when sane.
        let (off, size) = (
            r.word(DATA_OFFSET).load(Ordering::Relaxed),
            r.word(DATA_SIZE).load(Ordering::Relaxed),
        );
        if off as usize == page && size as usize == pages * page {
            r.data_offset = off as usize;
            r.size = size as usize;
        }
        r.tail = r.word(DATA_TAIL).load(Ordering::Relaxed);
        r.committed = r.tail;
        r.head = r.tail;
        Ok(r)
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: offsets 1024..1056 are aligned u64 fields of the mapped
        // control page (`perf_event_mmap_page`), shared with the kernel.
        unsafe { &*(self.mapping.as_ptr().add(offset) as *const AtomicU64) }
    }

    /// The data area size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Starts a drain at the published tail.
    #[inline]
    pub(crate) fn begin(&mut self) {
        if self.tail == self.committed {
            self.tail = self.word(DATA_TAIL).load(Ordering::Relaxed);
            self.committed = self.tail;
        }
    }

    /// Loads `data_head`; whether there is anything past the tail.
    #[inline]
    pub(crate) fn refresh(&mut self) -> bool {
        self.head = self.word(DATA_HEAD).load(Ordering::Acquire);
        self.tail < self.head
    }

    /// Copies `dst.len()` bytes starting at position `pos`, wrapping.
    fn copy_out(mapping: &Mapping, data_offset: usize, size: usize, pos: u64, dst: &mut [u8]) {
        let off = (pos as usize) & (size - 1);
        let first = dst.len().min(size - off);
        // SAFETY: both ranges lie inside the data area (off + first <= size,
        // and the rest is < size from its start: callers copy at most
        // `size` bytes), between tail and head, which the kernel does not
        // write until `data_tail` passes them (`&mut self` in `commit`).
        unsafe {
            let data = mapping.as_ptr().add(data_offset);
            std::ptr::copy_nonoverlapping(data.add(off), dst.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(data, dst.as_mut_ptr().add(first), dst.len() - first);
        }
    }

    /// Steps over the record at the tail (without publishing the tail).
    /// Samples whose data start is not `align`-aligned, or that wrap, are
    /// copied into the scratch buffer.
    #[inline]
    pub(crate) fn next(&mut self, align: usize) -> PerfNext {
        if self.tail >= self.head {
            return PerfNext::Empty;
        }
        let pos = self.tail;
        let off = (pos as usize) & (self.size - 1);
        let mut hdr = [0u8; HEADER];
        // Records are 8-aligned and the data area a multiple of 8: the
        // header itself never wraps.
        Self::copy_out(&self.mapping, self.data_offset, self.size, pos, &mut hdr);
        let kind = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let size = u16::from_ne_bytes([hdr[6], hdr[7]]) as usize;
        if size < HEADER || size as u64 > self.head - self.tail || size > self.size {
            return PerfNext::Corrupt {
                position: pos,
                size,
            };
        }
        self.tail += size as u64;
        let wraps = off + size > self.size;
        match kind {
            RECORD_SAMPLE => {
                let mut word = [0u8; 4];
                if size < HEADER + 4 {
                    return PerfNext::Corrupt {
                        position: pos,
                        size,
                    };
                }
                Self::copy_out(
                    &self.mapping,
                    self.data_offset,
                    self.size,
                    pos + HEADER as u64,
                    &mut word,
                );
                let len = u32::from_ne_bytes(word) as usize;
                if HEADER + 4 + len > size {
                    return PerfNext::Corrupt {
                        position: pos,
                        size,
                    };
                }
                let start = off + HEADER + 4;
                let addr = self.mapping.as_ptr() as usize + self.data_offset + start;
                let aligned = addr.is_multiple_of(align.max(1));
                if !wraps && aligned {
                    return PerfNext::Sample(SampleRef {
                        pos,
                        in_place: Some(start),
                        len,
                    });
                }
                let dst = &mut self.scratch.as_mut_slice()[..len];
                Self::copy_out(
                    &self.mapping,
                    self.data_offset,
                    self.size,
                    pos + (HEADER + 4) as u64,
                    dst,
                );
                PerfNext::Sample(SampleRef {
                    pos,
                    in_place: None,
                    len,
                })
            }
            RECORD_LOST if size >= HEADER + 16 => {
                let mut lost = [0u8; 8];
                Self::copy_out(
                    &self.mapping,
                    self.data_offset,
                    self.size,
                    pos + 16,
                    &mut lost,
                );
                PerfNext::Lost(u64::from_ne_bytes(lost))
            }
            _ => PerfNext::Other,
        }
    }

    /// The data of a sample [`next`](Self::next) returned.
    #[inline]
    pub(crate) fn bytes(&self, s: SampleRef) -> &[u8] {
        match s.in_place {
            None => self.scratch.as_slice().get(..s.len).unwrap_or(&[]),
            // A record whose tail was already published may be overwritten.
            Some(_) if s.pos < self.committed => &[],
            // SAFETY: the sample lies between the published tail and the
            // head loaded with acquire, so the kernel finished writing it
            // and will not write it again until `data_tail` passes it,
            // which takes `&mut self`. `next` checked that it does not wrap
            // (start + len <= size) and lies inside the data area.
            Some(start) => unsafe {
                std::slice::from_raw_parts(
                    self.mapping.as_ptr().add(self.data_offset + start),
                    s.len,
                )
            },
        }
    }

    /// Bytes read but not yet given back to the kernel.
    #[inline]
    pub(crate) fn pending(&self) -> usize {
        (self.tail - self.committed) as usize
    }

    /// Publishes the tail (release): the kernel may reuse what is before it.
    #[inline]
    pub(crate) fn commit(&mut self) {
        if self.tail != self.committed {
            self.word(DATA_TAIL).store(self.tail, Ordering::Release);
            self.committed = self.tail;
        }
    }
}
