//! .NET-compatible date-time values for ADF expressions: a `DateTime` of 100-ns ticks since
//! 0001-01-01 with a UTC/unspecified kind, .NET's standard and custom format strings
//! (en-US patterns), and parsing of the timestamp forms that ADF accepts.
//!
//! Sources: learn.microsoft.com/dotnet/standard/base-types/standard-date-and-time-format-strings
//! ("Standard date and time format strings") and
//! learn.microsoft.com/dotnet/standard/base-types/custom-date-and-time-format-strings
//! ("Custom date and time format strings"). Standard specifiers expand to the en-US patterns,
//! because the ADF docs print `D` as `Monday, January 1, 2018` (en-US; the invariant culture
//! would print `Monday, 01 January 2018`).
//!
//! A value keeps its precision of 100 ns (7 fraction digits) everywhere. Nothing here panics:
//! arithmetic is checked and every malformed input is reported as an error.

/// Ticks (100 ns) in one second.
pub(super) const TICKS_PER_SECOND: i64 = 10_000_000;
/// Ticks in one minute.
pub(super) const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
/// Ticks in one hour.
pub(super) const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
/// Ticks in one day.
pub(super) const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;
/// The largest valid tick count: 9999-12-31T23:59:59.9999999.
pub(super) const MAX_TICKS: i64 = 3_155_378_975_999_999_999;
/// Ticks at 1970-01-01T00:00:00 (the Unix epoch).
pub(super) const UNIX_EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// Days in a 400-year Gregorian cycle.
const DAYS_PER_400_YEARS: i64 = 146_097;
/// Days in a century without a leap year at its end.
const DAYS_PER_100_YEARS: i64 = 36_524;
/// Days in four years with one leap year.
const DAYS_PER_4_YEARS: i64 = 1_461;

/// en-US day names, Sunday first (abbreviations are the first three letters).
const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
/// en-US month names (abbreviations are the first three letters).
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What the clock time of a [`DateTime`] refers to, as .NET's `DateTimeKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// UTC: the `K` specifier (and so the `o` format) prints `Z`.
    Utc,
    /// No zone: `K` prints nothing. Arithmetic treats the clock time as UTC.
    Unspecified,
}

/// A .NET-style date and time: ticks of 100 ns since 0001-01-01T00:00:00 (proleptic
/// Gregorian calendar), always within `0..=MAX_TICKS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DateTime {
    ticks: i64,
    kind: Kind,
}

/// The calendar fields of a [`DateTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fields {
    /// 1..=9999.
    pub(super) year: i64,
    /// 1..=12.
    pub(super) month: i64,
    /// 1..=31.
    pub(super) day: i64,
    /// 0..=23.
    pub(super) hour: i64,
    /// 0..=59.
    pub(super) minute: i64,
    /// 0..=59.
    pub(super) second: i64,
    /// Ticks within the second, 0..=9_999_999.
    pub(super) fraction: i64,
    /// 0 = Sunday .. 6 = Saturday.
    pub(super) day_of_week: i64,
    /// 1..=366.
    pub(super) day_of_year: i64,
}

/// Whether `year` is a Gregorian leap year.
pub(super) fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in `month` (1..=12) of `year`; 0 for an invalid month.
pub(super) fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days before the first of `month` (1..=12) in a year.
fn days_before_month(year: i64, month: i64) -> i64 {
    (1..month).map(|m| days_in_month(year, m)).sum()
}

/// Days from 0001-01-01 to the given date, or `None` if the date is not valid
/// (year outside 1..=9999, month outside 1..=12, day outside the month).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> Option<i64> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let y = year - 1;
    Some(y * 365 + y / 4 - y / 100 + y / 400 + days_before_month(year, month) + day - 1)
}

impl DateTime {
    /// A value from ticks, or `None` outside `0..=MAX_TICKS`.
    pub(super) fn from_ticks(ticks: i64, kind: Kind) -> Option<DateTime> {
        (0..=MAX_TICKS)
            .contains(&ticks)
            .then_some(DateTime { ticks, kind })
    }

    /// A value from calendar fields, or `None` if they are not a valid date and time.
    pub(super) fn from_parts(
        year: i64,
        month: i64,
        day: i64,
        time_ticks: i64,
        kind: Kind,
    ) -> Option<DateTime> {
        if !(0..TICKS_PER_DAY).contains(&time_ticks) {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        DateTime::from_ticks(
            days.checked_mul(TICKS_PER_DAY)?.checked_add(time_ticks)?,
            kind,
        )
    }

    /// Ticks since 0001-01-01T00:00:00 of the clock time.
    pub(super) fn ticks(self) -> i64 {
        self.ticks
    }

    /// The kind (UTC or unspecified).
    pub(super) fn kind(self) -> Kind {
        self.kind
    }

    /// The same clock time with another kind.
    pub(super) fn with_kind(self, kind: Kind) -> DateTime {
        DateTime { kind, ..self }
    }

    /// Ticks within the day.
    pub(super) fn time_of_day(self) -> i64 {
        self.ticks.rem_euclid(TICKS_PER_DAY)
    }

    /// Adds `delta` ticks; `None` if the result leaves 0001-01-01..9999-12-31.
    pub(super) fn add_ticks(self, delta: i64) -> Option<DateTime> {
        DateTime::from_ticks(self.ticks.checked_add(delta)?, self.kind)
    }

    /// Adds calendar months as .NET's `AddMonths` does: the day is clamped to the last day
    /// of the resulting month. `None` if the result leaves the valid range.
    pub(super) fn add_months(self, months: i64) -> Option<DateTime> {
        let f = self.fields();
        let total = (f.year.checked_mul(12)?)
            .checked_add(f.month - 1)?
            .checked_add(months)?;
        let year = total.div_euclid(12);
        let month = total.rem_euclid(12) + 1;
        if !(1..=9999).contains(&year) {
            return None;
        }
        let day = f.day.min(days_in_month(year, month));
        DateTime::from_parts(year, month, day, self.time_of_day(), self.kind)
    }

    /// The calendar fields (the algorithm .NET uses to split ticks into a date).
    pub(super) fn fields(self) -> Fields {
        let days = self.ticks.div_euclid(TICKS_PER_DAY);
        let time = self.ticks.rem_euclid(TICKS_PER_DAY);
        let mut n = days;
        let y400 = n / DAYS_PER_400_YEARS;
        n -= y400 * DAYS_PER_400_YEARS;
        let y100 = (n / DAYS_PER_100_YEARS).min(3);
        n -= y100 * DAYS_PER_100_YEARS;
        let y4 = n / DAYS_PER_4_YEARS;
        n -= y4 * DAYS_PER_4_YEARS;
        let y1 = (n / 365).min(3);
        n -= y1 * 365;
        let year = y400 * 400 + y100 * 100 + y4 * 4 + y1 + 1;
        let mut month = 1;
        let mut rest = n;
        while month < 12 && rest >= days_in_month(year, month) {
            rest -= days_in_month(year, month);
            month += 1;
        }
        Fields {
            year,
            month,
            day: rest + 1,
            hour: time / TICKS_PER_HOUR,
            minute: time / TICKS_PER_MINUTE % 60,
            second: time / TICKS_PER_SECOND % 60,
            fraction: time % TICKS_PER_SECOND,
            // 0001-01-01 was a Monday.
            day_of_week: (days + 1) % 7,
            day_of_year: n + 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// The en-US pattern a standard (single-character) format specifier stands for, or `None`
/// for a character that is not a standard specifier (.NET then throws a `FormatException`).
fn standard_pattern(spec: char) -> Option<&'static str> {
    Some(match spec {
        'd' => "M/d/yyyy",
        'D' => "dddd, MMMM d, yyyy",
        'f' => "dddd, MMMM d, yyyy h:mm tt",
        'F' | 'U' => "dddd, MMMM d, yyyy h:mm:ss tt",
        'g' => "M/d/yyyy h:mm tt",
        'G' => "M/d/yyyy h:mm:ss tt",
        'M' | 'm' => "MMMM d",
        'O' | 'o' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
        'R' | 'r' => "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
        's' => "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
        't' => "h:mm tt",
        'T' => "h:mm:ss tt",
        'u' => "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
        'Y' | 'y' => "MMMM yyyy",
        _ => return None,
    })
}

/// Formats `value` with a .NET format string: one character is a standard specifier,
/// anything longer a custom pattern. `Err` carries a reason for the user.
///
/// `U` converts to UTC first; values here are UTC or unspecified (treated as UTC), so the
/// clock time is kept and only the kind becomes UTC.
pub(super) fn format(value: DateTime, fmt: &str) -> Result<String, String> {
    let mut chars = fmt.chars();
    if let (Some(spec), None) = (chars.next(), chars.next()) {
        return match standard_pattern(spec) {
            Some(pattern) => {
                let value = if spec == 'U' {
                    value.with_kind(Kind::Utc)
                } else {
                    value
                };
                format_custom(value, pattern)
            }
            None => Err(format!(
                "'{spec}' is not a standard date and time format specifier (use one of d, D, f, F, \
                 g, G, M, O, R, s, t, T, u, U, Y; for the single custom specifier write '%{spec}')"
            )),
        };
    }
    format_custom(value, fmt)
}

/// Appends `value` with at least `width` digits (zero-padded).
fn push_padded(out: &mut String, value: i64, width: usize) {
    out.push_str(&format!("{value:0width$}"));
}

/// Formats with a custom pattern (the format string is at least two characters, or an
/// expansion of a standard specifier).
fn format_custom(value: DateTime, pattern: &str) -> Result<String, String> {
    let f = value.fields();
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(chars.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    let q = chars[i];
                    if q == c {
                        closed = true;
                        i += 1;
                        break;
                    }
                    if q == '\\' {
                        match chars.get(i + 1) {
                            Some(&next) => {
                                out.push(next);
                                i += 2;
                            }
                            None => {
                                return Err(format!(
                                    "the format '{pattern}' ends with a lone backslash inside a quoted literal"
                                ));
                            }
                        }
                        continue;
                    }
                    out.push(q);
                    i += 1;
                }
                if !closed {
                    return Err(format!(
                        "the format '{pattern}' has an unterminated quoted literal (close it with {c})"
                    ));
                }
            }
            '\\' => match chars.get(i + 1) {
                Some(&next) => {
                    out.push(next);
                    i += 2;
                }
                None => {
                    return Err(format!(
                        "the format '{pattern}' ends with a lone backslash; write '\\\\' for a backslash"
                    ));
                }
            },
            '%' => match chars.get(i + 1) {
                Some(&'%') | None => {
                    return Err(format!(
                        "the format '{pattern}' has a '%' that is not followed by a format specifier"
                    ));
                }
                Some(&next) => {
                    format_token(value, &f, next, 1, pattern, &mut out)?;
                    i += 2;
                }
            },
            _ => {
                let mut len = 1;
                while i + len < chars.len() && chars[i + len] == c {
                    len += 1;
                }
                if is_token_char(c) {
                    format_token(value, &f, c, len, pattern, &mut out)?;
                } else {
                    for _ in 0..len {
                        out.push(c);
                    }
                }
                i += len;
            }
        }
    }
    Ok(out)
}

/// Characters that are format specifiers in a custom pattern.
fn is_token_char(c: char) -> bool {
    matches!(
        c,
        'd' | 'f' | 'F' | 'g' | 'h' | 'H' | 'K' | 'm' | 'M' | 's' | 't' | 'y' | 'z' | ':' | '/'
    )
}

/// Formats one run of `len` identical specifier characters `c`.
fn format_token(
    value: DateTime,
    f: &Fields,
    c: char,
    len: usize,
    pattern: &str,
    out: &mut String,
) -> Result<(), String> {
    match c {
        'd' => match len {
            1 | 2 => push_padded(out, f.day, len),
            3 => out.push_str(&DAY_NAMES[f.day_of_week as usize][..3]),
            _ => out.push_str(DAY_NAMES[f.day_of_week as usize]),
        },
        'M' => match len {
            1 | 2 => push_padded(out, f.month, len),
            3 => out.push_str(&MONTH_NAMES[(f.month - 1) as usize][..3]),
            _ => out.push_str(MONTH_NAMES[(f.month - 1) as usize]),
        },
        'y' => {
            if len <= 2 {
                push_padded(out, f.year % 100, len);
            } else {
                push_padded(out, f.year, len);
            }
        }
        'h' => {
            let h12 = match f.hour % 12 {
                0 => 12,
                h => h,
            };
            push_padded(out, h12, len.min(2));
        }
        'H' => push_padded(out, f.hour, len.min(2)),
        'm' => push_padded(out, f.minute, len.min(2)),
        's' => push_padded(out, f.second, len.min(2)),
        'f' | 'F' => {
            if len > 7 {
                return Err(format!(
                    "the format '{pattern}' asks for more than 7 fraction digits ('{}')",
                    c.to_string().repeat(len)
                ));
            }
            let digits = format!("{:07}", f.fraction);
            let digits = &digits[..len];
            if c == 'f' {
                out.push_str(digits);
            } else {
                let trimmed = digits.trim_end_matches('0');
                if trimmed.is_empty() {
                    // .NET also drops a decimal point written just before an empty `F` run.
                    if out.ends_with('.') {
                        out.pop();
                    }
                } else {
                    out.push_str(trimmed);
                }
            }
        }
        't' => {
            let designator = if f.hour < 12 { "AM" } else { "PM" };
            if len == 1 {
                out.push_str(&designator[..1]);
            } else {
                out.push_str(designator);
            }
        }
        'g' => out.push_str("A.D."),
        'K' => {
            // Each `K` is its own token in .NET.
            for _ in 0..len {
                if value.kind() == Kind::Utc {
                    out.push('Z');
                }
            }
        }
        'z' => {
            // The offset of a UTC value is zero; an unspecified value is formatted with the
            // local offset of the machine, which is UTC on ADF's servers (inference).
            match len {
                1 => out.push_str("+0"),
                2 => out.push_str("+00"),
                _ => out.push_str("+00:00"),
            }
        }
        ':' => {
            for _ in 0..len {
                out.push(':');
            }
        }
        '/' => {
            for _ in 0..len {
                out.push('/');
            }
        }
        _ => {
            for _ in 0..len {
                out.push(c);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// A description of the timestamp forms [`parse`] accepts, for error messages.
pub(super) const ACCEPTED_FORMS: &str = "ISO 8601 such as '2018-03-15T13:00:00Z', \
'2018-03-15T13:00:00.1234567+02:00', '2018-03-15 13:00:00' or '2018-03-15' (a fraction of up \
to 7 digits, then 'Z', an offset, or nothing for an unzoned time), US 'M/d/yyyy' with an \
optional 'H:mm:ss' time and AM/PM such as '03/15/2018 12:00:00' or '3/15/2018 1:30 PM', or \
RFC 1123 such as 'Thu, 15 Mar 2018 13:00:00 GMT'";

/// A byte cursor over ASCII input.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// The next byte, if any.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Whether all input is consumed.
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// Consumes `b` if it is next.
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `b` (any ASCII case) if it is next.
    fn eat_ci(&mut self, b: u8) -> bool {
        match self.peek() {
            Some(c) if c.eq_ignore_ascii_case(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Skips spaces and tabs; returns how many.
    fn skip_spaces(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads `min..=max` decimal digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.pos;
        let mut value: i64 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    value = value * 10 + i64::from(d - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos - start >= min).then_some(value)
    }

    /// Reads a run of ASCII letters.
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }
}

/// Parses a timestamp the way ADF's engine does (see [`ACCEPTED_FORMS`]). An input with `Z`
/// or an offset becomes a UTC value (offsets are applied); an input without a zone keeps its
/// clock time with the unspecified kind. `None` if the text is not a valid timestamp.
pub(super) fn parse(text: &str) -> Option<DateTime> {
    let trimmed = text.trim();
    if !trimmed.is_ascii() || trimmed.is_empty() {
        return None;
    }
    let bytes = trimmed.as_bytes();
    let first_is_letter = bytes[0].is_ascii_alphabetic();
    if first_is_letter {
        return parse_rfc1123(bytes);
    }
    // `yyyy-` starts ISO; `M/` or `MM/` starts the US form.
    if bytes.len() > 4 && bytes[4] == b'-' {
        parse_iso(bytes)
    } else {
        parse_us(bytes)
    }
}

/// The digits after a decimal separator as ticks, rounded to 7 digits (so the result may be
/// 10_000_000, which carries into the next second).
fn parse_fraction(c: &mut Cursor) -> Option<i64> {
    let start = c.pos;
    let mut ticks: i64 = 0;
    let mut count = 0usize;
    let mut round_up = false;
    while let Some(d @ b'0'..=b'9') = c.peek() {
        if count < 7 {
            ticks = ticks * 10 + i64::from(d - b'0');
        } else if count == 7 {
            round_up = d >= b'5';
        }
        count += 1;
        c.pos += 1;
    }
    if c.pos == start {
        return None;
    }
    for _ in count..7 {
        ticks *= 10;
    }
    Some(ticks + i64::from(round_up))
}

/// `H:mm[:ss[.fffffff]]` → (hour, ticks of the rest); the caller checks the hour.
fn parse_clock(c: &mut Cursor, minute_min_digits: usize) -> Option<(i64, i64)> {
    let hour = c.digits(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(minute_min_digits, 2)?;
    let mut second = 0;
    let mut fraction = 0;
    if c.eat(b':') {
        second = c.digits(minute_min_digits, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            fraction = parse_fraction(c)?;
        }
    }
    if minute > 59 || second > 59 {
        return None;
    }
    Some((
        hour,
        minute * TICKS_PER_MINUTE + second * TICKS_PER_SECOND + fraction,
    ))
}

/// An optional zone designator: `Z`, `+hh:mm`, `+hhmm` or `+hh` (`-` likewise). Returns
/// `Some(None)` when there is none, `Some(Some(offset_ticks))` for a zone, `None` when
/// malformed.
fn parse_zone(c: &mut Cursor) -> Option<Option<i64>> {
    match c.peek() {
        Some(b'Z' | b'z') => {
            c.pos += 1;
            Some(Some(0))
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let hours = c.digits(2, 2)?;
            let minutes = if c.eat(b':') || c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.digits(2, 2)?
            } else {
                0
            };
            if hours > 14 || minutes > 59 || hours * 60 + minutes > 14 * 60 {
                return None;
            }
            let offset = hours * TICKS_PER_HOUR + minutes * TICKS_PER_MINUTE;
            Some(Some(if sign == b'-' { -offset } else { offset }))
        }
        _ => Some(None),
    }
}

/// Builds the value from a local clock time and an optional offset.
fn finish(year: i64, month: i64, day: i64, time: i64, zone: Option<i64>) -> Option<DateTime> {
    // A rounded fraction may carry into the next second (or day): build from midnight.
    let midnight = DateTime::from_parts(year, month, day, 0, Kind::Unspecified)?;
    let local = midnight.add_ticks(time)?;
    match zone {
        None => Some(local),
        Some(offset) => local.with_kind(Kind::Utc).add_ticks(offset.checked_neg()?),
    }
}

/// `yyyy-MM-dd[(T| )H:mm[:ss[.f…]]][zone]` or `yyyy-MM-dd(Z|+hh:mm)`.
fn parse_iso(bytes: &[u8]) -> Option<DateTime> {
    let mut c = Cursor::new(bytes);
    let year = c.digits(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(1, 2)?;
    let mut time = 0;
    let mut zone = None;
    if matches!(c.peek(), Some(b'Z' | b'z' | b'+' | b'-')) {
        // A zone right after the date: `2018-03-15Z`, `2018-03-15+02:00`.
        zone = parse_zone(&mut c)?;
    } else if !c.at_end() {
        if !(c.eat_ci(b'T') || c.skip_spaces() > 0) {
            return None;
        }
        let (hour, rest) = parse_clock(&mut c, 2)?;
        if hour > 23 {
            return None;
        }
        time = hour * TICKS_PER_HOUR + rest;
        c.skip_spaces();
        zone = parse_zone(&mut c)?;
    }
    if !c.at_end() {
        return None;
    }
    finish(year, month, day, time, zone)
}

/// `M/d/yyyy[ H:mm[:ss[.f…]][ AM|PM]][ zone]`.
fn parse_us(bytes: &[u8]) -> Option<DateTime> {
    let mut c = Cursor::new(bytes);
    let month = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let day = c.digits(1, 2)?;
    if !c.eat(b'/') {
        return None;
    }
    let year = c.digits(4, 4)?;
    let mut time = 0;
    let mut zone = None;
    if c.skip_spaces() > 0 && !c.at_end() {
        let (mut hour, rest) = parse_clock(&mut c, 1)?;
        c.skip_spaces();
        let before_word = c.pos;
        let word = c.word();
        if word.eq_ignore_ascii_case(b"AM") || word.eq_ignore_ascii_case(b"PM") {
            if hour > 12 {
                return None;
            }
            let pm = word.eq_ignore_ascii_case(b"PM");
            if pm && hour < 12 {
                hour += 12;
            } else if !pm && hour == 12 {
                hour = 0;
            }
            c.skip_spaces();
        } else {
            // Not a designator (perhaps a `Z`): leave it to the zone parser.
            c.pos = before_word;
        }
        if hour > 23 {
            return None;
        }
        time = hour * TICKS_PER_HOUR + rest;
        zone = parse_zone(&mut c)?;
    }
    if !c.at_end() {
        return None;
    }
    finish(year, month, day, time, zone)
}

/// `ddd, dd MMM yyyy HH:mm:ss GMT` (what the `R` format prints) → a UTC value.
fn parse_rfc1123(bytes: &[u8]) -> Option<DateTime> {
    let mut c = Cursor::new(bytes);
    let weekday = c.word();
    let dow = DAY_NAMES
        .iter()
        .position(|n| n.as_bytes()[..3].eq_ignore_ascii_case(weekday))?;
    if !c.eat(b',') {
        return None;
    }
    c.skip_spaces();
    let day = c.digits(1, 2)?;
    if c.skip_spaces() == 0 {
        return None;
    }
    let month_word = c.word();
    let month = MONTH_NAMES
        .iter()
        .position(|n| n.as_bytes()[..3].eq_ignore_ascii_case(month_word))?;
    if c.skip_spaces() == 0 {
        return None;
    }
    let year = c.digits(4, 4)?;
    if c.skip_spaces() == 0 {
        return None;
    }
    let (hour, rest) = parse_clock(&mut c, 2)?;
    if hour > 23 {
        return None;
    }
    c.skip_spaces();
    let zone = c.word();
    if !(zone.eq_ignore_ascii_case(b"GMT") || zone.eq_ignore_ascii_case(b"UTC")) || !c.at_end() {
        return None;
    }
    let value = finish(
        year,
        month as i64 + 1,
        day,
        hour * TICKS_PER_HOUR + rest,
        Some(0),
    )?;
    // .NET rejects a day name that does not match the date.
    (value.fields().day_of_week == dow as i64).then_some(value)
}
