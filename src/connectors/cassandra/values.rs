//! Single CQL values from their wire bytes (protocol v4 §6): the helpers the column decoders
//! and the JSON writer share. Every reader checks lengths and returns `None` on malformed
//! bytes; nothing here panics on bytes from the network.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use arrow::datatypes::i256;

/// `date`'s epoch: day 2^31 is 1970-01-01.
pub const DATE_EPOCH: u32 = 1 << 31;

/// A big-endian fixed-width value.
pub fn be<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.try_into().ok()
}

/// A `date` as days since 1970-01-01.
pub fn date_days(b: &[u8]) -> Option<i32> {
    be::<4>(b).map(|a| u32::from_be_bytes(a).wrapping_sub(DATE_EPOCH) as i32)
}

/// An `inet` as text (`1.2.3.4`, `::1`).
pub fn inet(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => be::<4>(b).map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        16 => be::<16>(b).map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    }
}

/// A `varint` (two's complement, big-endian, any length ≥ 1) as an `i256`, if it fits.
pub fn varint_i256(b: &[u8]) -> Option<i256> {
    if b.is_empty() || b.len() > 32 {
        return None;
    }
    let fill = if b[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut buf = [fill; 32];
    buf[32 - b.len()..].copy_from_slice(b);
    Some(i256::from_be_bytes(buf))
}

/// A `varint` of any length as decimal digits, with a leading `-` when negative.
pub fn varint_text(b: &[u8], out: &mut String) -> Option<()> {
    // Most values fit 128 bits, whose formatting is native (i256's goes through a bignum).
    if !b.is_empty() && b.len() <= 16 {
        let fill = if b[0] & 0x80 != 0 { 0xff } else { 0 };
        let mut buf = [fill; 16];
        buf[16 - b.len()..].copy_from_slice(b);
        push_i128(out, i128::from_be_bytes(buf));
        return Some(());
    }
    if let Some(v) = varint_i256(b) {
        let _ = write!(out, "{v}");
        return Some(());
    }
    if b.is_empty() {
        return None;
    }
    // Longer than 256 bits: magnitude in base 10^9 by repeated division.
    let negative = b[0] & 0x80 != 0;
    let mut mag: Vec<u8> = b.to_vec();
    if negative {
        // Two's complement negation: invert, then add one.
        for x in mag.iter_mut() {
            *x = !*x;
        }
        for x in mag.iter_mut().rev() {
            let (v, carry) = x.overflowing_add(1);
            *x = v;
            if !carry {
                break;
            }
        }
    }
    let mut chunks = Vec::new();
    while mag.iter().any(|x| *x != 0) {
        let mut rem: u64 = 0;
        for x in mag.iter_mut() {
            let cur = (rem << 8) | u64::from(*x);
            *x = (cur / 1_000_000_000) as u8;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem as u32);
    }
    if negative {
        out.push('-');
    }
    let mut first = true;
    for c in chunks.iter().rev() {
        if first {
            let _ = write!(out, "{c}");
            first = false;
        } else {
            let _ = write!(out, "{c:09}");
        }
    }
    if first {
        out.push('0');
    }
    Some(())
}

/// A `decimal` (`[int scale][varint unscaled]`) split into its scale and unscaled bytes.
pub fn decimal_parts(b: &[u8]) -> Option<(i32, &[u8])> {
    if b.len() < 5 {
        return None;
    }
    let scale = i32::from_be_bytes(be::<4>(&b[..4])?);
    Some((scale, &b[4..]))
}

/// A `decimal` as plain decimal text (no exponent): unscaled 12345 with scale 2 is `123.45`,
/// with scale -2 `1234500`.
pub fn decimal_text(b: &[u8], out: &mut String) -> Option<()> {
    let (scale, unscaled) = decimal_parts(b)?;
    // The unscaled digits go straight into `out`, then the point (or zeros) is placed.
    let start = out.len();
    if varint_text(unscaled, out).is_none() {
        out.truncate(start);
        return None;
    }
    let first_digit = start + usize::from(out.as_bytes().get(start) == Some(&b'-'));
    let digits = out.len() - first_digit;
    if scale <= 0 {
        if &out[first_digit..] != "0" {
            // A scale as large as i32 allows would be gigabytes of zeros: refuse it.
            if scale < -100_000 {
                out.truncate(start);
                return None;
            }
            out.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
        }
        return Some(());
    }
    let scale = scale as usize;
    if scale > 100_000 {
        out.truncate(start);
        return None;
    }
    if digits > scale {
        out.insert(out.len() - scale, '.');
    } else {
        let mut zeros = String::with_capacity(2 + scale - digits);
        zeros.push_str("0.");
        zeros.extend(std::iter::repeat_n('0', scale - digits));
        out.insert_str(first_digit, &zeros);
    }
    Some(())
}

/// Appends `v` in decimal, without the formatting machinery (this runs once per cell): two
/// digits per step from a table, then one copy into `out`.
pub fn push_u64(out: &mut String, mut v: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
                                2021222324252627282930313233343536373839\
                                4041424344454647484950515253545556575859\
                                6061626364656667686970717273747576777879\
                                8081828384858687888990919293949596979899";
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + v as u8;
    }
    // Only ASCII digits were written, so this always holds.
    if let Ok(digits) = std::str::from_utf8(&buf[at..]) {
        out.push_str(digits);
    }
}

/// Appends `v` in decimal, with a leading `-` when negative.
pub fn push_i128(out: &mut String, v: i128) {
    if v < 0 {
        out.push('-');
    }
    match u64::try_from(v.unsigned_abs()) {
        Ok(small) => push_u64(out, small),
        Err(_) => {
            let _ = write!(out, "{}", v.unsigned_abs());
        }
    }
}

/// Appends an `inet` as text: `1.2.3.4`, or IPv6 in its RFC 5952 form (`::1`).
pub fn inet_text(b: &[u8], out: &mut String) -> Option<()> {
    match inet(b)? {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
    Some(())
}

/// A `decimal` as an `i256` unscaled value at `target` scale, if it is exact and fits.
pub fn decimal_rescaled(b: &[u8], target: i8) -> Option<i256> {
    let (scale, unscaled) = decimal_parts(b)?;
    let v = varint_i256(unscaled)?;
    rescale(v, scale, target)
}

/// `v × 10^-scale` at `target` scale, only if no digit is lost.
pub fn rescale(v: i256, scale: i32, target: i8) -> Option<i256> {
    let diff = i64::from(target) - i64::from(scale);
    if diff >= 0 {
        let f = i256::from_i128(10).checked_pow(u32::try_from(diff).ok()?)?;
        v.checked_mul(f)
    } else {
        let f = i256::from_i128(10).checked_pow(u32::try_from(-diff).ok()?)?;
        if v.checked_rem(f)? != i256::ZERO {
            return None;
        }
        v.checked_div(f)
    }
}

/// Reads one unsigned vint (protocol v5 §3: the count of leading 1 bits of the first byte is
/// the number of extra bytes), advancing `b`.
pub fn read_unsigned_vint(b: &mut &[u8]) -> Option<u64> {
    let first = *b.first()?;
    let extra = first.leading_ones() as usize;
    if b.len() < 1 + extra {
        return None;
    }
    let mut v: u64 = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xff >> extra))
    };
    for x in &b[1..=extra] {
        v = (v << 8) | u64::from(*x);
    }
    *b = &b[1 + extra..];
    Some(v)
}

/// Reads one signed (zig-zag) vint.
pub fn read_vint(b: &mut &[u8]) -> Option<i64> {
    let u = read_unsigned_vint(b)?;
    Some(((u >> 1) as i64) ^ -((u & 1) as i64))
}

/// A `duration`: months, days, nanoseconds.
pub fn duration(mut b: &[u8]) -> Option<(i32, i32, i64)> {
    let months = i32::try_from(read_vint(&mut b)?).ok()?;
    let days = i32::try_from(read_vint(&mut b)?).ok()?;
    let nanos = read_vint(&mut b)?;
    b.is_empty().then_some((months, days, nanos))
}

/// A duration as Cassandra writes it: `1y2mo3d4h5m6s7ms8us9ns`, `-` first when negative, and
/// `0s` for zero.
pub fn duration_text(months: i32, days: i32, nanos: i64, out: &mut String) {
    if months < 0 || days < 0 || nanos < 0 {
        out.push('-');
    }
    let start = out.len();
    let mut unit = |v: u64, suffix: &str| {
        if v > 0 {
            let _ = write!(out, "{v}{suffix}");
        }
    };
    let m = u64::from(months.unsigned_abs());
    unit(m / 12, "y");
    unit(m % 12, "mo");
    unit(u64::from(days.unsigned_abs()), "d");
    let mut n = nanos.unsigned_abs();
    for (size, suffix) in [
        (3_600_000_000_000u64, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ] {
        unit(n / size, suffix);
        n %= size;
    }
    if out.len() == start {
        out.push_str("0s");
    }
}

/// A `time` (nanoseconds since midnight) as `hh:mm:ss.nnnnnnnnn`.
pub fn time_text(nanos: i64, out: &mut String) {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:09}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        frac
    );
}

/// A UUID as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn uuid_text(b: &[u8; 16], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 0xf)]));
    }
}

/// Splits `n` length-prefixed (`[int]`) values off `b`, as collections, tuples and UDTs hold
/// them; a negative length is NULL. Returns the rest.
pub fn split_values<'a>(
    mut b: &'a [u8],
    n: usize,
    out: &mut Vec<Option<&'a [u8]>>,
) -> Option<&'a [u8]> {
    for _ in 0..n {
        let len = i32::from_be_bytes(be::<4>(b.get(..4)?)?);
        b = &b[4..];
        if len < 0 {
            out.push(None);
        } else {
            let len = len as usize;
            out.push(Some(b.get(..len)?));
            b = &b[len..];
        }
    }
    Some(b)
}

/// A collection's element count (`[int n]`), and the bytes after it.
pub fn collection_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let n = i32::from_be_bytes(be::<4>(b.get(..4)?)?);
    // Each element takes at least 4 bytes: a count beyond that is malformed, not a reason
    // to reserve gigabytes.
    let n = usize::try_from(n).ok().filter(|n| *n <= b.len() / 4)?;
    Some((n, &b[4..]))
}

/// The fixed size of one `vector` element of type `t` on the wire, if it is fixed.
pub fn fixed_width(t: &super::types::CqlType) -> Option<usize> {
    use super::types::CqlType as T;
    Some(match t {
        T::Boolean | T::TinyInt => 1,
        T::SmallInt => 2,
        T::Int | T::Float | T::Date => 4,
        T::BigInt | T::Counter | T::Double | T::Timestamp | T::Time => 8,
        T::Uuid | T::TimeUuid => 16,
        _ => return None,
    })
}

/// Splits a `vector` of `n` elements into its element values: fixed-width elements are
/// packed, others carry an unsigned vint length each.
pub fn split_vector<'a>(
    t: &super::types::CqlType,
    mut b: &'a [u8],
    n: usize,
    out: &mut Vec<Option<&'a [u8]>>,
) -> Option<()> {
    match fixed_width(t) {
        Some(w) => {
            if b.len() != w.checked_mul(n)? {
                return None;
            }
            out.extend(b.chunks_exact(w).map(Some));
        }
        None => {
            for _ in 0..n {
                let len = usize::try_from(read_unsigned_vint(&mut b)?).ok()?;
                out.push(Some(b.get(..len)?));
                b = &b[len..];
            }
            if !b.is_empty() {
                return None;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut String) -> Option<()>) -> Option<String> {
        let mut s = String::new();
        f(&mut s).map(|_| s)
    }

    #[test]
    fn integers_inets_and_uuids_are_written_without_fmt_as_fmt_writes_them() {
        let powers = (0..20).flat_map(|e| {
            let p = 10u64.pow(e);
            [p - 1, p, p + 1]
        });
        for v in (0..20_000u64).chain(powers).chain([u64::MAX]) {
            let mut out = String::new();
            push_u64(&mut out, v);
            assert_eq!(out, v.to_string());
        }
        for v in [
            0,
            7,
            -1,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
            i128::from(u64::MAX),
            -i128::from(u64::MAX),
            i128::from(u64::MAX) + 1,
            i128::MIN,
            i128::MAX,
        ] {
            assert_eq!(
                text(|s| {
                    push_i128(s, v);
                    Some(())
                })
                .unwrap(),
                v.to_string()
            );
        }
        for b in [
            &[10u8, 0, 255, 7][..],
            &[0; 4],
            &[0; 16],
            &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            let want = inet(b).unwrap().to_string();
            assert_eq!(text(|s| inet_text(b, s)).unwrap(), want);
        }
        assert_eq!(text(|s| inet_text(&[1, 2, 3], s)), None);
        let id = [
            0x12, 0x3e, 0x27, 0xde, 0x1e, 0x4e, 0x49, 0xd9, 0xb5, 0x79, 0xfe, 0x0b, 0x33, 0x1d,
            0x36, 0x42,
        ];
        assert_eq!(
            text(|s| {
                uuid_text(&id, s);
                Some(())
            })
            .unwrap(),
            "123e27de-1e4e-49d9-b579-fe0b331d3642"
        );
    }

    #[test]
    fn varints_of_any_length_become_exact_digits() {
        assert_eq!(text(|s| varint_text(&[0x00], s)).unwrap(), "0");
        assert_eq!(text(|s| varint_text(&[0xff], s)).unwrap(), "-1");
        assert_eq!(text(|s| varint_text(&[0x00, 0x80], s)).unwrap(), "128");
        // 2^320, longer than i256.
        let mut big = vec![0x01];
        big.extend([0u8; 40]);
        assert_eq!(
            text(|s| varint_text(&big, s)).unwrap(),
            "2135987035920910082395021706169552114602704522356652769947041607822219725780640550022962086936576"
        );
        let mut neg = vec![0xfe];
        neg.extend([0xffu8; 39]);
        neg.push(0xff);
        // -(2^321) + (2^320 - 1)... checked against the positive form's negation instead:
        let mut s = String::new();
        varint_text(&neg, &mut s).unwrap();
        assert!(s.starts_with('-'));
        assert!(varint_text(&[], &mut String::new()).is_none());
    }

    #[test]
    fn decimals_keep_their_scale_exactly() {
        let d = |scale: i32, unscaled: &[u8]| {
            let mut b = scale.to_be_bytes().to_vec();
            b.extend(unscaled);
            text(|s| decimal_text(&b, s)).unwrap()
        };
        assert_eq!(d(2, &[0x30, 0x39]), "123.45");
        assert_eq!(d(6, &[0x30, 0x39]), "0.012345");
        assert_eq!(d(-2, &[0x30, 0x39]), "1234500");
        assert_eq!(d(1, &[0xcf, 0xc7]), "-1234.5");
        assert_eq!(d(0, &[0x00]), "0");
        assert_eq!(d(-3, &[0x00]), "0");
        assert_eq!(d(5, &[0x30, 0x39]), "0.12345");
        // -12345 at scale 6, written after what the buffer already holds.
        let mut b = 6i32.to_be_bytes().to_vec();
        b.extend([0xcf, 0xc7]);
        let mut out = String::from("x,");
        decimal_text(&b, &mut out).unwrap();
        assert_eq!(out, "x,-0.012345");
        // A refused value leaves the buffer as it was.
        let mut huge = 200_000i32.to_be_bytes().to_vec();
        huge.push(1);
        assert_eq!(decimal_text(&huge, &mut out), None);
        assert_eq!(out, "x,-0.012345");
        let mut b = 2i32.to_be_bytes().to_vec();
        b.extend([0x30, 0x39]);
        assert_eq!(decimal_rescaled(&b, 4), Some(i256::from_i128(1_234_500)));
        assert_eq!(decimal_rescaled(&b, 1), None, "a lost digit is refused");
    }

    #[test]
    fn durations_read_zigzag_vints() {
        // months 1, days 2, nanos 3 → zig-zag 2, 4, 6.
        assert_eq!(duration(&[2, 4, 6]), Some((1, 2, 3)));
        // nanos -1 → zig-zag 1.
        assert_eq!(duration(&[0, 0, 1]), Some((0, 0, -1)));
        // A two-byte vint: 0x81 0x00 = 256 → 128.
        assert_eq!(duration(&[0, 0, 0x81, 0x00]), Some((0, 0, 128)));
        assert_eq!(duration(&[2, 4]), None);
        let mut s = String::new();
        duration_text(14, 3, 3_723_004_005_006, &mut s);
        assert_eq!(s, "1y2mo3d1h2m3s4ms5us6ns");
    }

    #[test]
    fn malformed_collections_are_refused_not_trusted() {
        let mut out = Vec::new();
        assert!(split_values(&[0, 0, 0, 9, 1], 1, &mut out).is_none());
        assert!(collection_len(&[0x7f, 0xff, 0xff, 0xff]).is_none());
        let mut out = Vec::new();
        assert!(split_vector(&super::super::types::CqlType::Float, &[0; 7], 2, &mut out).is_none());
    }
}
