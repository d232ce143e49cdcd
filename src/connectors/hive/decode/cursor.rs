//! A bounds-checked cursor over raw TBinaryProtocol bytes.
//!
//! Every read checks the bytes left first and fails with [`HiveError::Truncated`]; nothing
//! here indexes, panics or allocates. Lengths from the wire are checked against the bytes
//! that remain before anyone reserves memory for them, so a 20-byte message cannot ask for
//! gigabytes. There is no frame or message cap besides the input's own length (the thrift
//! crate's 16 MB frame limit is what the notes warn about, §3.2).
//!
//! Wire format (strict binary protocol, notes `hiveserver2.md` §2.1): big-endian integers,
//! `binary`/`string` = i32 length + bytes, field = type byte + i16 id (type 0 = stop),
//! `list`/`set` = element type byte + i32 count, `map` = key type + value type + i32 count,
//! message = `0x8001` version word with the message type in the low byte, name, i32 seq id.

use crate::connectors::hive::HiveError;

/// Binary-protocol type codes.
pub mod wire {
    /// End of a struct.
    pub const STOP: u8 = 0;
    /// `bool`, one byte.
    pub const BOOL: u8 = 2;
    /// `byte`, one byte.
    pub const BYTE: u8 = 3;
    /// `double`, 8 bytes.
    pub const DOUBLE: u8 = 4;
    /// `i16`.
    pub const I16: u8 = 6;
    /// `i32`.
    pub const I32: u8 = 8;
    /// `i64`.
    pub const I64: u8 = 10;
    /// `string` and `binary`.
    pub const STRING: u8 = 11;
    /// `struct`.
    pub const STRUCT: u8 = 12;
    /// `map`.
    pub const MAP: u8 = 13;
    /// `set`.
    pub const SET: u8 = 14;
    /// `list`.
    pub const LIST: u8 = 15;
    /// `uuid`, 16 bytes.
    pub const UUID: u8 = 16;

    /// Message type CALL.
    pub const CALL: u8 = 1;
    /// Message type REPLY.
    pub const REPLY: u8 = 2;
    /// Message type EXCEPTION.
    pub const EXCEPTION: u8 = 3;
    /// Message type ONEWAY.
    pub const ONEWAY: u8 = 4;

    /// The IDL name of a type code.
    pub fn name(code: u8) -> &'static str {
        match code {
            STOP => "stop",
            BOOL => "bool",
            BYTE => "byte",
            DOUBLE => "double",
            I16 => "i16",
            I32 => "i32",
            I64 => "i64",
            STRING => "string",
            STRUCT => "struct",
            MAP => "map",
            SET => "set",
            LIST => "list",
            UUID => "uuid",
            _ => "an unknown type",
        }
    }

    /// The encoded size of a fixed-width type, `None` for variable-width ones.
    pub fn fixed_width(code: u8) -> Option<usize> {
        match code {
            BOOL | BYTE => Some(1),
            I16 => Some(2),
            I32 => Some(4),
            DOUBLE | I64 => Some(8),
            UUID => Some(16),
            _ => None,
        }
    }

    /// The smallest encoding of any value of a type (a struct is at least its stop byte).
    pub fn min_width(code: u8) -> usize {
        match code {
            STRING => 4,
            LIST | SET => 5,
            MAP => 6,
            _ => fixed_width(code).unwrap_or(1),
        }
    }

    /// The name of a message type.
    pub fn message_type_name(code: u8) -> &'static str {
        match code {
            CALL => "Call",
            REPLY => "Reply",
            EXCEPTION => "Exception",
            ONEWAY => "OneWay",
            _ => "unknown message type",
        }
    }
}

/// How deep [`Cursor::skip`] follows nested containers and structs.
pub const MAX_SKIP_DEPTH: u32 = 64;

/// A message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader<'a> {
    /// The method name, as sent.
    pub name: &'a [u8],
    /// The message type ([`wire::REPLY`], [`wire::EXCEPTION`], …).
    pub message_type: u8,
    /// The sequence id.
    pub seq_id: i32,
}

/// A read position in a byte slice.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not consumed yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.rest().len()
    }

    /// The error for an item of `needed` bytes that does not fit.
    pub fn truncated(&self, at: &'static str, needed: usize) -> HiveError {
        HiveError::Truncated {
            at,
            offset: self.pos,
            needed,
            available: self.remaining(),
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize, at: &'static str) -> Result<&'a [u8], HiveError> {
        let rest = self.rest();
        match rest.get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(self.truncated(at, n)),
        }
    }

    /// Skips `n` bytes.
    pub fn advance(&mut self, n: usize, at: &'static str) -> Result<(), HiveError> {
        self.take(n, at).map(|_| ())
    }

    fn array<const N: usize>(&mut self, at: &'static str) -> Result<[u8; N], HiveError> {
        match self.rest().first_chunk::<N>() {
            Some(bytes) => {
                self.pos += N;
                Ok(*bytes)
            }
            None => Err(self.truncated(at, N)),
        }
    }

    /// One byte.
    pub fn u8(&mut self, at: &'static str) -> Result<u8, HiveError> {
        self.array::<1>(at).map(|[b]| b)
    }

    /// A big-endian i16.
    pub fn i16(&mut self, at: &'static str) -> Result<i16, HiveError> {
        self.array(at).map(i16::from_be_bytes)
    }

    /// A big-endian i32.
    pub fn i32(&mut self, at: &'static str) -> Result<i32, HiveError> {
        self.array(at).map(i32::from_be_bytes)
    }

    /// A big-endian i64.
    pub fn i64(&mut self, at: &'static str) -> Result<i64, HiveError> {
        self.array(at).map(i64::from_be_bytes)
    }

    /// A big-endian IEEE 754 double.
    pub fn f64(&mut self, at: &'static str) -> Result<f64, HiveError> {
        self.array(at).map(f64::from_be_bytes)
    }

    /// An i32 length or count, which must not be negative.
    pub fn count(&mut self, at: &'static str) -> Result<usize, HiveError> {
        let n = self.i32(at)?;
        usize::try_from(n).map_err(|_| HiveError::Malformed {
            what: format!("negative length {n} at byte {}", self.pos - 4),
            at,
        })
    }

    /// A `binary` or `string`: length, then the bytes (borrowed, not copied).
    pub fn binary(&mut self, at: &'static str) -> Result<&'a [u8], HiveError> {
        let n = self.count(at)?;
        self.take(n, at)
    }

    /// A field header: `Some((type, id))`, or `None` at the stop byte.
    pub fn field(&mut self, at: &'static str) -> Result<Option<(u8, i16)>, HiveError> {
        let ty = self.u8(at)?;
        if ty == wire::STOP {
            return Ok(None);
        }
        Ok(Some((ty, self.i16(at)?)))
    }

    /// A list (or set) header: element type and count. The count is checked against the
    /// bytes left (each element needs at least [`wire::min_width`] bytes).
    pub fn list(&mut self, at: &'static str) -> Result<(u8, usize), HiveError> {
        let elem = self.u8(at)?;
        let n = self.count(at)?;
        self.check_elements(n, wire::min_width(elem), at)?;
        Ok((elem, n))
    }

    /// A list header whose elements must be structs named `element` (for the message); an
    /// empty list may declare any element type. Returns the element count.
    pub fn struct_list(&mut self, at: &'static str, element: &str) -> Result<usize, HiveError> {
        let (elem, n) = self.list(at)?;
        if n > 0 && elem != wire::STRUCT {
            return Err(HiveError::Malformed {
                what: format!(
                    "list of {}, expected list of {element} structs",
                    wire::name(elem)
                ),
                at,
            });
        }
        Ok(n)
    }

    /// Fails unless `n` elements of at least `width` bytes each can still follow.
    pub fn check_elements(
        &self,
        n: usize,
        width: usize,
        at: &'static str,
    ) -> Result<usize, HiveError> {
        let needed = n.checked_mul(width).ok_or(HiveError::TooLarge {
            what: at,
            len: u64::MAX,
            limit: usize::MAX as u64,
        })?;
        if needed > self.remaining() {
            return Err(self.truncated(at, needed));
        }
        Ok(needed)
    }

    /// A strict-protocol message header (notes §2.1: servers write strict headers).
    pub fn message_header(&mut self) -> Result<MessageHeader<'a>, HiveError> {
        const AT: &str = "message header";
        let version = self.i32(AT)?;
        if (version as u32) & 0xffff_0000 != 0x8001_0000 {
            return Err(HiveError::Malformed {
                what: format!(
                    "version word {version:#010x} is not a strict binary protocol header"
                ),
                at: AT,
            });
        }
        let message_type = (version & 0xff) as u8;
        let name = self.binary(AT)?;
        let seq_id = self.i32(AT)?;
        Ok(MessageHeader {
            name,
            message_type,
            seq_id,
        })
    }

    /// Skips one value of type `ty`, nested at most [`MAX_SKIP_DEPTH`] deep.
    pub fn skip(&mut self, ty: u8, at: &'static str) -> Result<(), HiveError> {
        self.skip_nested(ty, MAX_SKIP_DEPTH, at)
    }

    fn skip_nested(&mut self, ty: u8, depth: u32, at: &'static str) -> Result<(), HiveError> {
        if depth == 0 {
            return Err(HiveError::Malformed {
                what: format!("values nested deeper than {MAX_SKIP_DEPTH} levels"),
                at,
            });
        }
        if let Some(width) = wire::fixed_width(ty) {
            return self.advance(width, at);
        }
        match ty {
            wire::STRING => self.binary(at).map(|_| ()),
            wire::STRUCT => {
                while let Some((field_type, _)) = self.field(at)? {
                    self.skip_nested(field_type, depth - 1, at)?;
                }
                Ok(())
            }
            wire::LIST | wire::SET => {
                let (elem, n) = self.list(at)?;
                self.skip_elements(elem, n, depth - 1, at)
            }
            wire::MAP => {
                let key = self.u8(at)?;
                let value = self.u8(at)?;
                let n = self.count(at)?;
                self.check_elements(n, wire::min_width(key) + wire::min_width(value), at)?;
                for _ in 0..n {
                    self.skip_nested(key, depth - 1, at)?;
                    self.skip_nested(value, depth - 1, at)?;
                }
                Ok(())
            }
            other => Err(HiveError::Malformed {
                what: format!("unknown wire type {other} at byte {}", self.pos),
                at,
            }),
        }
    }

    fn skip_elements(
        &mut self,
        elem: u8,
        n: usize,
        depth: u32,
        at: &'static str,
    ) -> Result<(), HiveError> {
        if let Some(width) = wire::fixed_width(elem) {
            let bytes = self.check_elements(n, width, at)?;
            return self.advance(bytes, at);
        }
        for _ in 0..n {
            self.skip_nested(elem, depth, at)?;
        }
        Ok(())
    }
}

/// The length of the first complete message in `bytes`, or `Ok(None)` if the bytes end
/// before it does, so more must be read.
///
/// For transports without framing (NOSASL sends raw TBinaryProtocol over TCP, §2.1): append
/// what the socket gives and call again. A message that would be longer than `limit`
/// (including one whose declared lengths alone say so) is [`HiveError::TooLarge`]; malformed
/// bytes are an error rather than a wait.
pub fn complete_message_len(bytes: &[u8], limit: usize) -> Result<Option<usize>, HiveError> {
    let mut cursor = Cursor::new(bytes);
    let scanned = cursor
        .message_header()
        .and_then(|_| cursor.skip(wire::STRUCT, "message body"));
    let too_large = |len: usize| HiveError::TooLarge {
        what: "Thrift message",
        len: len as u64,
        limit: limit as u64,
    };
    match scanned {
        Ok(()) if cursor.position() > limit => Err(too_large(cursor.position())),
        Ok(()) => Ok(Some(cursor.position())),
        Err(HiveError::Truncated { offset, needed, .. }) => {
            let end = offset.saturating_add(needed);
            if end > limit {
                Err(too_large(end))
            } else {
                Ok(None)
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_are_big_endian_and_bounded() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x05];
        let mut c = Cursor::new(&bytes);
        assert_eq!(c.i16("t").unwrap(), 0x0102);
        assert_eq!(c.i16("t").unwrap(), 0x0304);
        assert!(matches!(
            c.i16("t"),
            Err(HiveError::Truncated {
                offset: 4,
                needed: 2,
                available: 1,
                ..
            })
        ));
        assert_eq!(c.u8("t").unwrap(), 5);
        assert!(c.u8("t").is_err());
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn lengths_are_checked_before_use() {
        let mut bytes = vec![wire::I64];
        bytes.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            Cursor::new(&bytes).list("t"),
            Err(HiveError::Truncated { .. })
        ));
        let bytes = (-5i32).to_be_bytes();
        assert!(matches!(
            Cursor::new(&bytes).binary("t"),
            Err(HiveError::Malformed { .. })
        ));
        let mut bytes = 10i32.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"short");
        assert!(matches!(
            Cursor::new(&bytes).binary("t"),
            Err(HiveError::Truncated { needed: 10, .. })
        ));
    }

    #[test]
    fn skip_handles_every_type_and_depth() {
        // struct { 1: list<map<string, i32>> = [{"a": 1}], 2: set<uuid> = [], 3: double }
        let mut b = vec![wire::LIST, 0, 1, wire::MAP, 0, 0, 0, 1];
        b.extend_from_slice(&[wire::STRING, wire::I32, 0, 0, 0, 1]);
        b.extend_from_slice(&[0, 0, 0, 1, b'a', 0, 0, 0, 1]);
        b.extend_from_slice(&[wire::SET, 0, 2, wire::UUID, 0, 0, 0, 0]);
        b.extend_from_slice(&[wire::DOUBLE, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.push(wire::STOP);
        let mut c = Cursor::new(&b);
        c.skip(wire::STRUCT, "t").unwrap();
        assert_eq!(c.remaining(), 0);
        for len in 0..b.len() {
            assert!(Cursor::new(&b[..len]).skip(wire::STRUCT, "t").is_err());
        }

        // 100 nested structs: over the depth limit.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[wire::STRUCT, 0, 1]);
        }
        deep.extend(std::iter::repeat_n(wire::STOP, 101));
        assert!(matches!(
            Cursor::new(&deep).skip(wire::STRUCT, "t"),
            Err(HiveError::Malformed { .. })
        ));

        // A list of 2^31-1 empty structs in 10 bytes fails fast.
        let mut b = vec![wire::STRUCT];
        b.extend_from_slice(&i32::MAX.to_be_bytes());
        b.extend_from_slice(&[0; 5]);
        assert!(matches!(
            Cursor::new(&b).skip(wire::LIST, "t"),
            Err(HiveError::Truncated { .. })
        ));

        assert!(matches!(
            Cursor::new(&[1]).skip(99, "t"),
            Err(HiveError::Malformed { .. })
        ));
    }

    fn message(body: &[u8]) -> Vec<u8> {
        let mut m = vec![0x80, 0x01, 0x00, wire::REPLY, 0, 0, 0, 1, b'X', 0, 0, 0, 9];
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn message_header() {
        let m = message(&[0]);
        let mut c = Cursor::new(&m);
        let h = c.message_header().unwrap();
        assert_eq!(h.name, b"X");
        assert_eq!(h.message_type, wire::REPLY);
        assert_eq!(h.seq_id, 9);
        // non-strict (name first) is refused
        let mut c = Cursor::new(&[0, 0, 0, 1, b'X', 2, 0, 0, 0, 9, 0]);
        assert!(matches!(
            c.message_header(),
            Err(HiveError::Malformed { .. })
        ));
    }

    #[test]
    fn complete_message_len_waits_and_limits() {
        let body = [wire::STRING, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c', wire::STOP];
        let m = message(&body);
        let mut stream = m.clone();
        stream.extend_from_slice(&m[..5]);
        assert_eq!(
            complete_message_len(&stream, 1 << 20).unwrap(),
            Some(m.len())
        );
        for len in 0..m.len() {
            assert_eq!(complete_message_len(&m[..len], 1 << 20).unwrap(), None);
        }
        assert!(matches!(
            complete_message_len(&m, 10),
            Err(HiveError::TooLarge { .. })
        ));
        // A declared 2 GiB string is too large long before it arrives.
        let mut huge = message(&[wire::STRING, 0, 0]);
        huge.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            complete_message_len(&huge, 1 << 30),
            Err(HiveError::TooLarge { .. })
        ));
        assert!(complete_message_len(&[0, 0, 0, 0, 0], 100).is_err());
    }
}
