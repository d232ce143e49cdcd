//! Cell encoders for test data: each returns a value's bytes in CQL v4 wire encoding
//! (`native_protocol_v4.spec` §6; duration from v5 §5.8; vector from Cassandra 5's
//! `VectorType`), without the [bytes] length prefix.

use std::net::IpAddr;

pub fn cell_int(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// bigint and counter.
pub fn cell_bigint(v: i64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// text, varchar and ascii.
pub fn cell_text(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}

pub fn cell_blob(v: &[u8]) -> Vec<u8> {
    v.to_vec()
}

pub fn cell_boolean(v: bool) -> Vec<u8> {
    vec![v as u8]
}

pub fn cell_double(v: f64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub fn cell_float(v: f32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub fn cell_smallint(v: i16) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

pub fn cell_tinyint(v: i8) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// uuid and timeuuid.
pub fn cell_uuid(v: [u8; 16]) -> Vec<u8> {
    v.to_vec()
}

/// Milliseconds since the Unix epoch.
pub fn cell_timestamp(ms: i64) -> Vec<u8> {
    ms.to_be_bytes().to_vec()
}

/// Days since the Unix epoch, stored as an unsigned int with the epoch at 2^31.
pub fn cell_date(days: i32) -> Vec<u8> {
    ((days as i64 + (1i64 << 31)) as u32).to_be_bytes().to_vec()
}

/// Nanoseconds since midnight.
pub fn cell_time(ns: i64) -> Vec<u8> {
    ns.to_be_bytes().to_vec()
}

/// 4 bytes for IPv4, 16 for IPv6.
pub fn cell_inet(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// The minimal big-endian two's complement encoding.
pub fn cell_varint(v: i128) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (lead, next) = (b[start], b[start + 1]);
        if (lead == 0x00 && next & 0x80 == 0) || (lead == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    b[start..].to_vec()
}

/// `unscaled × 10^-scale`: an [int] scale followed by the varint.
pub fn cell_decimal(scale: i32, unscaled: i128) -> Vec<u8> {
    let mut out = scale.to_be_bytes().to_vec();
    out.extend(cell_varint(unscaled));
    out
}

/// Three zig-zag encoded signed vints: months, days, nanoseconds.
pub fn cell_duration(months: i32, days: i32, nanos: i64) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [months as i64, days as i64, nanos] {
        put_unsigned_vint(&mut out, ((v << 1) ^ (v >> 63)) as u64);
    }
    out
}

/// Cassandra's unsigned vint (`VIntCoding`): the count of leading one bits of the first byte
/// is the count of extra bytes; the value is big-endian in the remaining bits.
pub fn put_unsigned_vint(out: &mut Vec<u8>, v: u64) {
    let size = (1..=8usize).find(|n| v < 1u64 << (7 * n)).unwrap_or(9);
    if size == 9 {
        out.push(0xFF);
        out.extend_from_slice(&v.to_be_bytes());
        return;
    }
    let extra = size - 1;
    let be = v.to_be_bytes();
    let mut bytes = be[8 - size..].to_vec();
    bytes[0] |= !(0xFFu8 >> extra);
    out.extend(bytes);
}

fn collection<I: IntoIterator<Item = Vec<u8>>>(n: usize, items: I) -> Vec<u8> {
    let mut out = (n as i32).to_be_bytes().to_vec();
    for item in items {
        out.extend((item.len() as i32).to_be_bytes());
        out.extend(item);
    }
    out
}

/// A list of encoded elements (elements cannot be null).
pub fn cell_list(items: Vec<Vec<u8>>) -> Vec<u8> {
    collection(items.len(), items)
}

/// A set of encoded elements; give them in the server's (sorted) order.
pub fn cell_set(items: Vec<Vec<u8>>) -> Vec<u8> {
    collection(items.len(), items)
}

/// A map of encoded (key, value) pairs.
pub fn cell_map(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    let n = entries.len();
    collection(n, entries.into_iter().flat_map(|(k, v)| [k, v]))
}

/// A tuple: each component as [bytes] (null allowed), no count prefix.
pub fn cell_tuple(items: Vec<Option<Vec<u8>>>) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        match item {
            None => out.extend((-1i32).to_be_bytes()),
            Some(b) => {
                out.extend((b.len() as i32).to_be_bytes());
                out.extend(b);
            }
        }
    }
    out
}

/// A UDT value: its fields like a tuple.
pub fn cell_udt(fields: Vec<Option<Vec<u8>>>) -> Vec<u8> {
    cell_tuple(fields)
}

/// `vector<float, n>`: fixed-size elements concatenated, no length prefixes.
pub fn cell_vector_f32(items: &[f32]) -> Vec<u8> {
    items.iter().flat_map(|f| f.to_be_bytes()).collect()
}
