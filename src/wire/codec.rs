//! Byte-level reading and writing shared by every encoder and decoder in
//! `wire`: a [`Reader`] over a borrowed slice and a [`Writer`] that backfills
//! length prefixes.
//!
//! The `Reader` never panics: every read is checked against what remains and
//! returns `None` when it does not fit, so a length taken from the wire can
//! never index past the buffer. Decoders turn that `None` into a named
//! [`WireError::Truncated`] with [`Need::need`]. Nothing here does I/O.

use super::{EncodeError, WireError};

/// A cursor over untrusted bytes. All reads are bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// The next `n` bytes, or `None` (consuming nothing) if fewer remain.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    pub fn u24(&mut self) -> Option<u32> {
        self.array::<3>()
            .map(|[a, b, c]| u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.array::<4>().map(u32::from_be_bytes)
    }

    /// A reader over the next `len` bytes, so a nested structure cannot read
    /// past the length its parent gave it.
    pub fn sub(&mut self, len: usize) -> Option<Reader<'a>> {
        self.take(len).map(Reader::new)
    }

    /// A nested section whose length is given by a one-byte prefix.
    pub fn sub_u8(&mut self) -> Option<Reader<'a>> {
        let len = self.u8()?;
        self.sub(usize::from(len))
    }

    /// A nested section whose length is given by a two-byte prefix.
    pub fn sub_u16(&mut self) -> Option<Reader<'a>> {
        let len = self.u16()?;
        self.sub(usize::from(len))
    }

    /// A nested section whose length is given by a three-byte prefix.
    pub fn sub_u24(&mut self) -> Option<Reader<'a>> {
        let len = self.u24()?;
        self.sub(usize::try_from(len).ok()?)
    }

    /// Everything not yet read; the reader is empty afterwards.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// How many bytes remain.
    pub fn left(&self) -> usize {
        self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails with [`WireError::TrailingBytes`] naming `what` unless every byte
    /// was consumed: a structure that is shorter than its length prefix says
    /// is as malformed as one that is longer.
    pub fn expect_empty(&self, what: &'static str) -> Result<(), WireError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes(what))
        }
    }
}

/// Turns a short read into an error that names the field.
pub trait Need<T> {
    fn need(self, what: &'static str) -> Result<T, WireError>;
}

impl<T> Need<T> for Option<T> {
    fn need(self, what: &'static str) -> Result<T, WireError> {
        self.ok_or(WireError::Truncated(what))
    }
}

/// An append-only byte buffer with nested, length-prefixed sections.
///
/// Prefixes are reserved before the section is written and filled in after,
/// so the encoder makes one pass and lengths cannot disagree with content.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
    /// The first field that did not fit; [`Writer::finish`] returns it.
    overflow: Option<EncodeError>,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes the low 24 bits of `v`; a larger `v` is an overflow that
    /// [`Writer::finish`] reports (no TLS field can carry it).
    pub fn u24(&mut self, v: u32) -> &mut Self {
        if v > 0x00ff_ffff {
            self.overflow.get_or_insert(EncodeError::Over24Bits(v));
        }
        let [_, a, b, c] = v.to_be_bytes();
        self.buf.extend_from_slice(&[a, b, c]);
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Writes whatever `f` writes, preceded by its length in one byte. A
    /// section longer than 255 bytes cannot be expressed on the wire: it is
    /// an overflow that [`Writer::finish`] reports.
    pub fn u8_prefixed(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(1, f)
    }

    /// As [`Writer::u8_prefixed`], with a two-byte length (at most 65535).
    pub fn u16_prefixed(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(2, f)
    }

    /// As [`Writer::u8_prefixed`], with a three-byte length (at most 2^24 - 1).
    pub fn u24_prefixed(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.prefixed(3, f)
    }

    fn prefixed(&mut self, width: usize, f: impl FnOnce(&mut Writer)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend(std::iter::repeat_n(0, width));
        f(self);
        let len = self.buf.len() - at - width;
        let max = (1usize << (8 * width)) - 1;
        if len > max {
            self.overflow
                .get_or_insert(EncodeError::TooLong { width, len });
        }
        let be = u32::try_from(len.min(max))
            .unwrap_or(u32::MAX)
            .to_be_bytes();
        self.buf[at..at + width].copy_from_slice(&be[4 - width..]);
        self
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes, or the first field that did not fit.
    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.overflow {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }

    /// The bytes, for builders whose fields cannot overflow (fixed-size
    /// messages, tests). An overflow is a bug there: debug builds stop.
    pub fn into_inner(self) -> Vec<u8> {
        debug_assert!(self.overflow.is_none(), "{:?}", self.overflow);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_both_ways() {
        let u8s: &[(u8, &[u8])] = &[(0, &[0]), (0x7f, &[0x7f]), (0xff, &[0xff])];
        for &(v, bytes) in u8s {
            assert_eq!(Writer::new().u8(v).as_slice(), bytes);
            let mut r = Reader::new(bytes);
            assert_eq!(r.u8(), Some(v));
            r.expect_empty("u8").unwrap();
        }
        let u16s: &[(u16, &[u8])] = &[(0, &[0, 0]), (0x0303, &[3, 3]), (0xffff, &[0xff, 0xff])];
        for &(v, bytes) in u16s {
            assert_eq!(Writer::new().u16(v).as_slice(), bytes);
            let mut r = Reader::new(bytes);
            assert_eq!(r.u16(), Some(v));
            assert!(r.is_empty());
        }
        let u24s: &[(u32, &[u8])] = &[
            (0, &[0, 0, 0]),
            (0x01_02_03, &[1, 2, 3]),
            (0xff_ffff, &[0xff, 0xff, 0xff]),
        ];
        for &(v, bytes) in u24s {
            assert_eq!(Writer::new().u24(v).as_slice(), bytes);
            let mut r = Reader::new(bytes);
            assert_eq!(r.u24(), Some(v));
            assert!(r.is_empty());
        }
        let u32s: &[(u32, &[u8])] = &[(0, &[0, 0, 0, 0]), (0xdead_beef, &[0xde, 0xad, 0xbe, 0xef])];
        for &(v, bytes) in u32s {
            assert_eq!(Writer::new().u32(v).as_slice(), bytes);
            let mut r = Reader::new(bytes);
            assert_eq!(r.u32(), Some(v));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn short_reads_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32(), None);
        assert_eq!(r.left(), 3);
        assert_eq!(r.take(4), None);
        assert!(r.sub(usize::MAX).is_none());
        assert_eq!(r.u24(), Some(0x010203));
        assert_eq!(r.u8(), None);
        assert_eq!(
            Reader::new(&[]).u16().need("x"),
            Err(WireError::Truncated("x"))
        );
    }

    #[test]
    fn sub_is_confined_and_trailing_bytes_are_reported() {
        let mut r = Reader::new(&[2, 0xaa, 0xbb, 0xcc]);
        let mut s = r.sub_u8().unwrap();
        assert_eq!(s.u16(), Some(0xaabb));
        assert_eq!(s.u8(), None, "a sub-reader must not see its parent's bytes");
        s.expect_empty("sub").unwrap();
        assert_eq!(
            r.expect_empty("outer"),
            Err(WireError::TrailingBytes("outer"))
        );
        assert_eq!(r.rest(), &[0xcc]);
        assert!(r.is_empty());
    }

    #[test]
    fn prefixes_are_backfilled_when_nested() {
        let mut w = Writer::new();
        w.u24_prefixed(|w| {
            w.u16_prefixed(|w| {
                w.u8_prefixed(|w| {
                    w.bytes(b"abc");
                });
            });
        });
        assert_eq!(w.as_slice(), &[0, 0, 6, 0, 4, 3, b'a', b'b', b'c']);
        let mut r = Reader::new(w.as_slice());
        let mut a = r.sub_u24().unwrap();
        let mut b = a.sub_u16().unwrap();
        let mut c = b.sub_u8().unwrap();
        assert_eq!(c.rest(), b"abc");
        assert!(a.is_empty() && b.is_empty() && r.is_empty());
    }

    /// An over-long section or 24-bit value is an error from `finish`,
    /// never a panic (the review's `--sni` of 70 000 bytes once was).
    #[test]
    fn overflows_are_errors_not_panics() {
        let mut w = Writer::new();
        w.u8_prefixed(|w| {
            w.bytes(&[0; 300]);
        });
        assert_eq!(w.finish(), Err(EncodeError::TooLong { width: 1, len: 300 }));
        let mut w = Writer::new();
        w.u24(0x0100_0000);
        assert_eq!(w.finish(), Err(EncodeError::Over24Bits(0x0100_0000)));
        let mut w = Writer::new();
        w.u16_prefixed(|w| {
            w.bytes(&[1, 2]);
        });
        assert_eq!(w.finish(), Ok(vec![0, 2, 1, 2]));
    }
}
