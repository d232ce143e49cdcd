//! Parsers for Kusto's text encodings of values (datetime, timespan, guid, decimal), used by
//! the column decoders. Each returns `None` for text it cannot read; the caller names the
//! column and row.

/// Ticks (100 ns) in one microsecond.
const TICKS_PER_MICRO: i64 = 10;
const TICKS_PER_SECOND: i64 = 10_000_000;

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian; any year).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0i64, |acc, d| {
        acc.checked_mul(10)?.checked_add((d - b'0') as i64)
    })
}

/// A fraction of a second (`.f`, 1 to 7 digits) in ticks; more digits are read and truncated.
#[inline]
fn fraction_ticks(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let mut ticks = 0i64;
    for i in 0..7 {
        ticks = ticks * 10 + b.get(i).map_or(0, |d| d.wrapping_sub(b'0') as i64);
    }
    // One check for all: a byte that is not a digit.
    b.iter().all(u8::is_ascii_digit).then_some(ticks)
}

/// A Kusto datetime, `YYYY-MM-DDTHH:MM:SS[.fffffff][Z]` (also with a space for `T`), as
/// microseconds since the Unix epoch; the tick below a microsecond is dropped (toward the past).
pub fn datetime_micros(text: &str) -> Option<i64> {
    datetime_ticks(text).map(|t| t.div_euclid(TICKS_PER_MICRO))
}

/// A Kusto datetime as 100 ns ticks since the Unix epoch.
pub fn datetime_ticks(text: &str) -> Option<i64> {
    datetime_ticks_of(text.trim().as_bytes())
}

/// [`datetime_micros`] of raw text.
pub fn datetime_micros_of(b: &[u8]) -> Option<i64> {
    datetime_ticks_of(b).map(|t| t.div_euclid(TICKS_PER_MICRO))
}

/// Two ASCII digits at `b[at..at + 2]` as a number.
#[inline]
fn two_digits(b: &[u8], at: usize) -> Option<i64> {
    let (hi, lo) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
    (hi <= 9 && lo <= 9).then_some(hi as i64 * 10 + lo as i64)
}

fn datetime_ticks_of(b: &[u8]) -> Option<i64> {
    let b = b.strip_suffix(b"Z").unwrap_or(b);
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
    let month = two_digits(b, 5)? as u32;
    let day = two_digits(b, 8)? as u32;
    let (h, mi, s) = (two_digits(b, 11)?, two_digits(b, 14)?, two_digits(b, 17)?);
    let frac = match &b[19..] {
        [] => 0,
        [b'.', rest @ ..] => fraction_ticks(rest)?,
        _ => return None,
    };
    let month_days = [
        31,
        if is_leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day == 0 || day > month_days[month as usize - 1] {
        return None;
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + h * 3_600 + mi * 60 + s;
    Some(seconds * TICKS_PER_SECOND + frac)
}

/// A Kusto timespan in .NET's "c" format, `[-][d.]hh:mm:ss[.fffffff]`, as microseconds.
pub fn timespan_micros(text: &str) -> Option<i64> {
    timespan_ticks(text).map(|t| t / TICKS_PER_MICRO)
}

/// [`timespan_micros`] of raw text (spaces around it allowed, as there).
pub fn timespan_micros_of(b: &[u8]) -> Option<i64> {
    timespan_ticks_of(b.trim_ascii()).map(|t| t / TICKS_PER_MICRO)
}

/// A Kusto timespan as 100 ns ticks.
pub fn timespan_ticks(text: &str) -> Option<i64> {
    timespan_ticks_of(text.trim().as_bytes())
}

fn timespan_ticks_of(b: &[u8]) -> Option<i64> {
    let (negative, b) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    // `hh:mm:ss` sits after the optional `d.`; its first colon finds it.
    let colon = b.iter().position(|&c| c == b':')?;
    let clock_start = colon.checked_sub(2)?;
    let days = match &b[..clock_start] {
        [] => 0,
        [d @ .., b'.'] => digits(d)?,
        _ => return None,
    };
    let clock = b.get(clock_start..clock_start + 8)?;
    if clock[5] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(&clock[0..2])?,
        digits(&clock[3..5])?,
        digits(&clock[6..8])?,
    );
    let frac = match &b[clock_start + 8..] {
        [] => 0,
        [b'.', rest @ ..] => fraction_ticks(rest)?,
        _ => return None,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let seconds = days
        .checked_mul(86_400)?
        .checked_add(h * 3_600 + m * 60 + s)?;
    let ticks = seconds.checked_mul(TICKS_PER_SECOND)?.checked_add(frac)?;
    Some(if negative { -ticks } else { ticks })
}

/// Formats ticks as a Kusto datetime literal, `datetime(2024-01-01T00:00:00.0000000Z)`'s text.
pub fn format_datetime_micros(micros: i64) -> String {
    let seconds = micros.div_euclid(1_000_000);
    let sub = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{sub:06}0Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (or 32 hex digits, or either in braces),
/// as its 16 bytes in text order (RFC 4122 big-endian, as `arrow.uuid` stores it).
pub fn guid_bytes(text: &str) -> Option<[u8; 16]> {
    guid_from_bytes(text.trim().as_bytes())
}

/// Each byte's value as a hex digit, or 0xFF.
static HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Where each byte's two hex digits start in the 36-character form.
const GUID_DIGITS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// [`guid_bytes`] of raw text.
pub fn guid_from_bytes(b: &[u8]) -> Option<[u8; 16]> {
    let b = b
        .strip_prefix(b"{")
        .and_then(|r| r.strip_suffix(b"}"))
        .unwrap_or(b);
    let mut out = [0u8; 16];
    // Any byte that is not a hex digit sets the high bits.
    let mut bad = 0u8;
    let mut pair = |n: usize, at: usize| {
        let (hi, lo) = (HEX[b[at] as usize], HEX[b[at + 1] as usize]);
        bad |= hi | lo;
        out[n] = hi << 4 | lo;
    };
    match b.len() {
        36 => {
            if b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
                return None;
            }
            for (n, &at) in GUID_DIGITS.iter().enumerate() {
                pair(n, at);
            }
        }
        32 => {
            for n in 0..16 {
                pair(n, 2 * n);
            }
        }
        _ => return None,
    }
    (bad & 0xF0 == 0).then_some(out)
}

/// Why a decimal did not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalProblem {
    /// Not a decimal number.
    Syntax,
    /// More integer digits than precision - scale.
    TooLarge,
    /// A non-zero digit beyond the scale.
    TooPrecise,
}

/// A decimal's text (`-12.5`, `1E-05`, `2.00000000000001`) as an unscaled i128 at `scale`,
/// within `precision` digits; never rounds.
pub fn decimal_unscaled(text: &str, precision: u8, scale: i8) -> Result<i128, DecimalProblem> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (
            &t[..i],
            t[i + 1..]
                .parse::<i32>()
                .map_err(|_| DecimalProblem::Syntax)?,
        ),
        None => (t, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(DecimalProblem::Syntax);
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|c| c.is_ascii_digit())
    {
        return Err(DecimalProblem::Syntax);
    }
    // value = digits × 10^(exponent - frac_len); we want value × 10^scale.
    let shift = exponent as i64 - frac_part.len() as i64 + scale as i64;
    let all = int_part.bytes().chain(frac_part.bytes());
    let mut kept: Vec<u8> = all.collect();
    if kept.iter().all(|&c| c == b'0') {
        return Ok(0);
    }
    if shift > precision as i64 {
        // Any non-zero digit shifted this far has more digits than the precision.
        return Err(DecimalProblem::TooLarge);
    }
    if shift < 0 {
        let drop = (-shift) as usize;
        let cut = kept.len().saturating_sub(drop);
        if kept[cut..].iter().any(|&c| c != b'0') {
            return Err(DecimalProblem::TooPrecise);
        }
        kept.truncate(cut);
    } else {
        kept.extend(std::iter::repeat_n(b'0', shift as usize));
    }
    let significant: Vec<u8> = kept.into_iter().skip_while(|&c| c == b'0').collect();
    if significant.len() > precision as usize {
        return Err(DecimalProblem::TooLarge);
    }
    let v = significant
        .iter()
        .fold(0i128, |acc, &c| acc * 10 + (c - b'0') as i128);
    Ok(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_keep_every_tick_then_drop_below_a_microsecond() {
        assert_eq!(datetime_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            datetime_ticks("2020-03-04T14:05:01.3109965Z"),
            Some(15_833_307_013_109_965)
        );
        assert_eq!(
            datetime_micros("2020-03-04T14:05:01.3109965Z"),
            Some(1_583_330_701_310_996)
        );
        assert_eq!(
            datetime_micros("2007-01-01T00:00:00.5Z"),
            Some(1_167_609_600_500_000)
        );
        assert_eq!(datetime_micros("1969-12-31T23:59:59.9999999Z"), Some(-1));
        assert_eq!(
            datetime_micros("9999-12-31T23:59:59Z"),
            Some(253_402_300_799_000_000)
        );
        assert_eq!(
            datetime_micros("0000-01-01T00:00:00Z"),
            Some(-62_167_219_200_000_000)
        );
        for bad in [
            "",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-01-01",
            "x",
            "2020-01-01T00:00:00.Z",
        ] {
            assert_eq!(datetime_micros(bad), None, "{bad}");
        }
        assert_eq!(
            datetime_micros("2024-02-29 10:00:00"),
            Some(1_709_200_800_000_000)
        );
    }

    #[test]
    fn formatting_round_trips() {
        for micros in [
            0,
            -1,
            1_583_330_701_310_996,
            253_402_300_799_999_999,
            -62_135_596_800_000_000,
        ] {
            assert_eq!(
                datetime_micros(&format_datetime_micros(micros)),
                Some(micros)
            );
        }
        assert_eq!(format_datetime_micros(0), "1970-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn timespans_in_c_format() {
        assert_eq!(timespan_ticks("00:00:00"), Some(0));
        assert_eq!(timespan_micros_of(b" 00:00:01 "), Some(1_000_000));
        assert_eq!(timespan_ticks("01:23:45.6789000"), Some(50_256_789_000));
        assert_eq!(timespan_ticks("1.00:00:01.0010001"), Some(864_010_010_001));
        assert_eq!(
            timespan_ticks("-2.00:00:02.0020002"),
            Some(-1_728_020_020_002)
        );
        // Fewer than seven fraction digits are ticks right-padded.
        assert_eq!(timespan_ticks("1.01:02:03.004"), Some(901_230_040_000));
        assert_eq!(timespan_micros("00:00:00.0000015"), Some(1));
        for bad in [
            "",
            "1:2:3",
            "24:00:00",
            "00:60:00",
            "a.00:00:00",
            "00:00",
            "00:00:00.",
            "00:00:00:00",
            "99999999999999999999.00:00:00",
            "18446744073709551617.00:00:00",
        ] {
            assert_eq!(timespan_ticks(bad), None, "{bad}");
        }
    }

    #[test]
    fn guids() {
        let g = guid_bytes("123e27de-1e4e-49d9-b579-fe0b331d3642").unwrap();
        assert_eq!(g[0], 0x12);
        assert_eq!(g[15], 0x42);
        assert_eq!(guid_bytes("123E27DE1E4E49D9B579FE0B331D3642"), Some(g));
        for bad in [
            "",
            "123e27de-1e4e-49d9-b579-fe0b331d364",
            "123e27de-1e4e-49d9-b579-fe0b331d364g",
            "123e27de1-e4e-49d9-b579-fe0b331d3642",
        ] {
            assert_eq!(guid_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals_never_round() {
        assert_eq!(
            decimal_unscaled("2.00000000000001", 38, 18),
            Ok(2_000_000_000_000_010_000)
        );
        assert_eq!(decimal_unscaled("-1.5", 38, 2), Ok(-150));
        assert_eq!(decimal_unscaled("1E-05", 38, 18), Ok(10_000_000_000_000));
        assert_eq!(decimal_unscaled("12", 38, 0), Ok(12));
        assert_eq!(decimal_unscaled("1.200", 38, 1), Ok(12));
        assert_eq!(
            decimal_unscaled("1.25", 38, 1),
            Err(DecimalProblem::TooPrecise)
        );
        assert_eq!(
            decimal_unscaled("123456789012345678901", 38, 18),
            Err(DecimalProblem::TooLarge)
        );
        assert_eq!(decimal_unscaled("1..2", 38, 2), Err(DecimalProblem::Syntax));
        assert_eq!(decimal_unscaled("", 38, 2), Err(DecimalProblem::Syntax));
        assert_eq!(decimal_unscaled("NaN", 38, 2), Err(DecimalProblem::Syntax));
        // Exponents that would need gigabytes of digits are answered at once.
        assert_eq!(
            decimal_unscaled("1E2147483647", 38, 18),
            Err(DecimalProblem::TooLarge)
        );
        assert_eq!(decimal_unscaled("0E999999999", 38, 18), Ok(0));
        assert_eq!(
            decimal_unscaled("1E-2147483648", 38, 18),
            Err(DecimalProblem::TooPrecise)
        );
    }
}
