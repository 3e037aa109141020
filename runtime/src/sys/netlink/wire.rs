//! The netlink wire format of tc and link requests and replies: building
//! `nlmsghdr` + `tcmsg` (or `ifinfomsg`) + attributes, and reading replies back with
//! checked lengths (a short or inconsistent reply is `None`, never a panic).
//!
//! In: request fields, or the bytes of one datagram. Out: request bytes;
//! headers, acks, errors with the kernel's message, filter dump entries.

use super::*;

/// `tcm_info` of a filter: the priority in the upper 16 bits, the protocol
/// (network byte order) in the lower (`TC_H_MAKE(prio << 16, htons(proto))`).
pub(super) fn filter_info(priority: u16) -> u32 {
    (u32::from(priority) << 16) | u32::from(ETH_P_ALL.to_be())
}

/// `struct tcmsg` (include/uapi/linux/rtnetlink.h), family AF_UNSPEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TcMsg {
    pub(super) ifindex: u32,
    pub(super) handle: u32,
    pub(super) parent: u32,
    pub(super) info: u32,
}

impl TcMsg {
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0, 0, 0]); // family, pad1, pad2
        out.extend_from_slice(&self.ifindex.to_ne_bytes());
        out.extend_from_slice(&self.handle.to_ne_bytes());
        out.extend_from_slice(&self.parent.to_ne_bytes());
        out.extend_from_slice(&self.info.to_ne_bytes());
    }

    pub(super) fn parse(b: &[u8]) -> Option<TcMsg> {
        Some(TcMsg {
            ifindex: read_u32(b, 4)?,
            handle: read_u32(b, 8)?,
            parent: read_u32(b, 12)?,
            info: read_u32(b, 16)?,
        })
    }
}

/// A request being built: `nlmsghdr`, `tcmsg`, attributes.
pub(super) struct Msg {
    buf: Vec<u8>,
    pub(super) seq: u32,
    /// An attribute longer than an `nla_len` can say.
    too_long: bool,
}

impl Msg {
    pub(super) fn new(msg_type: u16, flags: u16, seq: u32, tc: &TcMsg) -> Msg {
        let mut m = Msg::header(msg_type, flags, seq);
        tc.write(&mut m.buf);
        m
    }

    /// A request about a link (interface): `nlmsghdr`, `ifinfomsg`.
    pub(super) fn link(msg_type: u16, flags: u16, seq: u32, ifindex: u32) -> Msg {
        let mut m = Msg::header(msg_type, flags, seq);
        // struct ifinfomsg: family AF_UNSPEC, pad, type, index, flags, change.
        m.buf.extend_from_slice(&[0, 0, 0, 0]);
        m.buf.extend_from_slice(&ifindex.to_ne_bytes());
        m.buf.extend_from_slice(&0u32.to_ne_bytes());
        m.buf.extend_from_slice(&0u32.to_ne_bytes());
        m
    }

    fn header(msg_type: u16, flags: u16, seq: u32) -> Msg {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set by finish
        buf.extend_from_slice(&msg_type.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel
        Msg {
            buf,
            seq,
            too_long: false,
        }
    }

    fn attr(&mut self, ty: u16, data: &[u8]) {
        let Ok(len) = u16::try_from(4 + data.len()) else {
            self.too_long = true;
            return;
        };
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.pad();
    }

    pub(super) fn attr_u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_ne_bytes());
    }

    /// A NUL-terminated string attribute.
    pub(super) fn attr_str(&mut self, ty: u16, s: &str) {
        let mut data = Vec::with_capacity(s.len() + 1);
        data.extend_from_slice(s.as_bytes());
        data.push(0);
        self.attr(ty, &data);
    }

    pub(super) fn nest_begin(&mut self, ty: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        start
    }

    pub(super) fn nest_end(&mut self, start: usize) {
        match u16::try_from(self.buf.len() - start) {
            Ok(len) => self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes()),
            Err(_) => self.too_long = true,
        }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    pub(super) fn finish(mut self, op: &'static str) -> Result<Vec<u8>> {
        let len = u32::try_from(self.buf.len())
            .ok()
            .filter(|_| !self.too_long);
        let Some(len) = len else {
            return Err(SysError::invalid(
                op,
                "a netlink attribute is too long".into(),
            ));
        };
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        Ok(self.buf)
    }
}

/// The fields of `struct nlmsghdr` a reply is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NlHdr {
    pub(super) msg_type: u16,
    pub(super) flags: u16,
    pub(super) seq: u32,
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The first message of `b`: its header, its payload and what follows it.
/// `None` when the header or its length does not fit.
pub(super) fn split_msg(b: &[u8]) -> Option<(NlHdr, &[u8], &[u8])> {
    let len = read_u32(b, 0)? as usize;
    if len < NLMSG_HDR_LEN || len > b.len() {
        return None;
    }
    let hdr = NlHdr {
        msg_type: read_u16(b, 4)?,
        flags: read_u16(b, 6)?,
        seq: read_u32(b, 8)?,
    };
    let next = b.get(align4(len)..).unwrap_or_default();
    Some((hdr, &b[NLMSG_HDR_LEN..len], next))
}

/// An NLMSG_ERROR: an ack, or an errno with the kernel's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ack {
    Ok,
    Err(KernelMessage),
}

/// `struct nlmsgerr` (the errno, negative, and the request's header; its
/// payload too unless NLM_F_CAPPED), then extended-ack attributes when
/// NLM_F_ACK_TLVS is set.
pub(super) fn parse_error(flags: u16, payload: &[u8]) -> Option<Ack> {
    let error = read_i32(payload, 0)?;
    if error == 0 {
        return Some(Ack::Ok);
    }
    let mut message = String::new();
    if flags & NLM_F_ACK_TLVS != 0 {
        let orig_len = read_u32(payload, 4)? as usize;
        let tlv_start = if flags & NLM_F_CAPPED != 0 {
            4 + NLMSG_HDR_LEN
        } else {
            4 + align4(orig_len)
        };
        if let Some(tlvs) = payload.get(tlv_start..) {
            for (ty, data) in Attrs(tlvs) {
                if ty == NLMSGERR_ATTR_MSG {
                    message = c_string(data);
                }
            }
        }
    }
    Some(Ack::Err(KernelMessage {
        errno: error.checked_neg().unwrap_or(libc::EINVAL),
        message,
    }))
}

/// One RTM_NEWTFILTER of a dump: `tcmsg`, then TCA_KIND and TCA_OPTIONS.
pub(super) fn parse_filter(payload: &[u8]) -> Option<FilterInfo> {
    let t = TcMsg::parse(payload)?;
    let mut f = FilterInfo {
        priority: (t.info >> 16) as u16,
        protocol: u16::from_be(t.info as u16),
        handle: t.handle,
        ..Default::default()
    };
    let attrs = payload.get(TCMSG_LEN..).unwrap_or_default();
    let mut options = None;
    for (ty, data) in Attrs(attrs) {
        match ty {
            TCA_KIND => f.kind = c_string(data),
            TCA_OPTIONS => options = Some(data),
            _ => {}
        }
    }
    if let (Some(options), "bpf") = (options, f.kind.as_str()) {
        for (ty, data) in Attrs(options) {
            match ty {
                TCA_BPF_NAME => f.name = Some(c_string(data)),
                TCA_BPF_ID => f.prog_id = read_u32(data, 0),
                TCA_BPF_FLAGS => {
                    f.direct_action =
                        read_u32(data, 0).is_some_and(|v| v & TCA_BPF_FLAG_ACT_DIRECT != 0)
                }
                _ => {}
            }
        }
    }
    Some(f)
}

/// The XDP program of a link (interface) from an RTM_NEWLINK reply:
/// `(IFLA_XDP_ATTACHED, IFLA_XDP_PROG_ID)`; `None` if the reply is cut
/// short. A link without IFLA_XDP reads as nothing attached.
pub(super) fn parse_link_xdp(payload: &[u8]) -> Option<(u8, u32)> {
    const IFINFOMSG_LEN: usize = 16;
    const IFLA_XDP: u16 = 43;
    const IFLA_XDP_ATTACHED: u16 = 2;
    const IFLA_XDP_PROG_ID: u16 = 4;
    let attrs = payload.get(IFINFOMSG_LEN..)?;
    let Some((_, xdp)) = Attrs(attrs).find(|(ty, _)| *ty == IFLA_XDP) else {
        return Some((0, 0));
    };
    let (mut attached, mut prog_id) = (0, 0);
    for (ty, data) in Attrs(xdp) {
        match ty {
            IFLA_XDP_ATTACHED => attached = *data.first()?,
            IFLA_XDP_PROG_ID => prog_id = read_u32(data, 0)?,
            _ => {}
        }
    }
    Some((attached, prog_id))
}

/// Netlink attributes (`struct nlattr`): (type without flag bits, data).
/// Stops at the first attribute whose length does not fit.
struct Attrs<'a>(&'a [u8]);

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let len = read_u16(self.0, 0)? as usize;
        let ty = read_u16(self.0, 2)? & NLA_TYPE_MASK;
        if len < 4 || len > self.0.len() {
            self.0 = &[];
            return None;
        }
        let data = &self.0[4..len];
        self.0 = self.0.get(align4(len)..).unwrap_or_default();
        Some((ty, data))
    }
}

/// A string attribute up to its NUL (lossy UTF-8).
fn c_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(super) fn read_i32(b: &[u8], at: usize) -> Option<i32> {
    read_u32(b, at).map(|v| v as i32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // reason: tests
mod tests {
    use super::*;

    /// A netlink message of `msg_type` with `flags` and `seq` around `payload`.
    fn message(msg_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDR_LEN + payload.len()) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&len.to_ne_bytes());
        b.extend_from_slice(&msg_type.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(payload);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    fn attr(ty: u16, data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(data);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    /// An nlmsgerr payload: errno, the request's header (capped), TLVs.
    fn nlmsgerr(errno: i32, request: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut p = (-errno).to_ne_bytes().to_vec();
        p.extend_from_slice(request);
        p.extend_from_slice(tlvs);
        p
    }

    #[test]
    fn request_layout_is_header_tcmsg_and_padded_attributes() {
        let mut m = Msg::new(
            RTM_NEWTFILTER,
            NLM_F_REQUEST,
            7,
            &TcMsg {
                ifindex: 1,
                handle: 0,
                parent: TC_PARENT_INGRESS,
                info: filter_info(49152),
            },
        );
        m.attr_str(TCA_KIND, "bpf");
        let nest = m.nest_begin(TCA_OPTIONS);
        m.attr_u32(TCA_BPF_FD, 9);
        m.nest_end(nest);
        let b = m.finish("test").unwrap();
        assert_eq!(b.len(), 16 + 20 + 8 + 4 + 8);
        assert_eq!(read_u32(&b, 0).unwrap() as usize, b.len());
        assert_eq!(read_u16(&b, 4).unwrap(), RTM_NEWTFILTER);
        assert_eq!(read_u32(&b, 8).unwrap(), 7);
        let tc = TcMsg::parse(&b[16..]).unwrap();
        assert_eq!(tc.parent, 0xFFFF_FFF2);
        // prio 49152 in the high half, htons(ETH_P_ALL) in the low half.
        assert_eq!(tc.info >> 16, 49152);
        assert_eq!(u16::from_be(tc.info as u16), ETH_P_ALL);
        let attrs: Vec<_> = Attrs(&b[36..]).collect();
        assert_eq!(attrs[0], (TCA_KIND, &b"bpf\0"[..]));
        assert_eq!(attrs[1].0, TCA_OPTIONS, "NLA_F_NESTED is masked off");
        assert_eq!(
            Attrs(attrs[1].1).collect::<Vec<_>>(),
            vec![(TCA_BPF_FD, &9u32.to_ne_bytes()[..])]
        );
    }

    #[test]
    fn an_oversized_attribute_is_an_error_not_a_panic() {
        let mut m = Msg::new(
            RTM_NEWTFILTER,
            0,
            1,
            &TcMsg {
                ifindex: 1,
                handle: 0,
                parent: 0,
                info: 0,
            },
        );
        m.attr_str(TCA_BPF_NAME, &"x".repeat(70_000));
        let e = m.finish("RTM_NEWTFILTER").unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
    }

    #[test]
    fn acks_and_errors_with_and_without_the_kernels_message() {
        let request = message(RTM_NEWTFILTER, NLM_F_REQUEST, 3, &[0; 20]);
        assert_eq!(
            parse_error(0, &nlmsgerr(0, &request[..16], &[])),
            Some(Ack::Ok)
        );
        // Capped, with NLMSGERR_ATTR_MSG.
        let tlvs = attr(NLMSGERR_ATTR_MSG, b"Filter already exists\0");
        let p = nlmsgerr(libc::EEXIST, &request[..16], &tlvs);
        let Some(Ack::Err(k)) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p) else {
            panic!("an error")
        };
        assert_eq!(k.errno, libc::EEXIST);
        assert_eq!(k.message, "Filter already exists");
        let e = kernel_error("RTM_NEWTFILTER bpf", k);
        assert_eq!(e.errno(), Some(libc::EEXIST));
        assert!(
            e.to_string()
                .starts_with("RTM_NEWTFILTER bpf: File exists (os error 17): ")
                && e.to_string().ends_with(": Filter already exists"),
            "{e}"
        );
        // Not capped: the whole request comes back before the TLVs.
        let p = nlmsgerr(libc::EINVAL, &request, &attr(NLMSGERR_ATTR_MSG, b"bad\0"));
        assert_eq!(
            parse_error(NLM_F_ACK_TLVS, &p),
            Some(Ack::Err(KernelMessage {
                errno: libc::EINVAL,
                message: "bad".into()
            }))
        );
        // No TLVs: the errno alone, which SysError reports as usual.
        let p = nlmsgerr(libc::ENODEV, &request[..16], &[]);
        let Some(Ack::Err(k)) = parse_error(NLM_F_CAPPED, &p) else {
            panic!("an error")
        };
        assert_eq!(kernel_error("op", k).errno(), Some(libc::ENODEV));
    }

    #[test]
    fn truncated_replies_are_refused() {
        assert_eq!(parse_error(0, &[1, 2]), None);
        // The TLVs claim more than there is: no message, still the errno.
        let mut p = nlmsgerr(libc::EINVAL, &[0; 16], &[]);
        p.extend_from_slice(&[200, 0, 1, 0, b'x']);
        let Some(Ack::Err(k)) = parse_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &p) else {
            panic!("an error")
        };
        assert_eq!((k.errno, k.message.as_str()), (libc::EINVAL, ""));
        // A header whose length runs past the datagram, or under a header.
        let mut m = message(NLMSG_DONE, 0, 1, &[0; 4]);
        m[0] = 200;
        assert!(split_msg(&m).is_none());
        m[0] = 8;
        assert!(split_msg(&m).is_none());
        assert!(split_msg(&m[..10]).is_none());
        assert_eq!(parse_filter(&[0; 12]), None);
        assert_eq!(Attrs(&[3, 0, 1, 0]).count(), 0, "nla_len under 4");
    }

    #[test]
    fn a_dump_entry_of_a_bpf_filter() {
        let mut p = Vec::new();
        TcMsg {
            ifindex: 1,
            handle: 1,
            parent: TC_PARENT_INGRESS,
            info: filter_info(49152),
        }
        .write(&mut p);
        p.extend(attr(TCA_KIND, b"bpf\0"));
        let mut opts = attr(TCA_BPF_NAME, b"tcx_count:[42]\0");
        opts.extend(attr(TCA_BPF_ID, &42u32.to_ne_bytes()));
        opts.extend(attr(TCA_BPF_FLAGS, &1u32.to_ne_bytes()));
        p.extend(attr(TCA_OPTIONS | NLA_F_NESTED, &opts));
        let msgs = [
            message(RTM_NEWTFILTER, 2, 5, &p),
            message(NLMSG_DONE, 2, 5, &0i32.to_ne_bytes()),
        ]
        .concat();
        let (h, payload, rest) = split_msg(&msgs).unwrap();
        assert_eq!((h.msg_type, h.seq), (RTM_NEWTFILTER, 5));
        assert_eq!(
            parse_filter(payload).unwrap(),
            FilterInfo {
                priority: 49152,
                protocol: ETH_P_ALL,
                handle: 1,
                kind: "bpf".into(),
                name: Some("tcx_count:[42]".into()),
                prog_id: Some(42),
                direct_action: true,
            }
        );
        let (h, _, rest) = split_msg(rest).unwrap();
        assert_eq!(h.msg_type, NLMSG_DONE);
        assert!(rest.is_empty());
    }
}
