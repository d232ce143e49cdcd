//! ADF's date and time functions: `utcNow`, `formatDateTime`, `addDays`, `addHours`,
//! `addMinutes`, `addSeconds`, `addToTime`, `subtractFromTime`, `getFutureTime`,
//! `getPastTime`, `startOfDay`, `startOfHour`, `startOfMonth`, `dayOfMonth`, `dayOfWeek`,
//! `dayOfYear`, `ticks`, `convertFromUtc`, `convertToUtc` and `convertTimeZone`.
//!
//! Timestamps are strings. Each function parses its timestamp with .NET-compatible rules
//! ([`dotnet_format::parse`]), works on 100-ns ticks, and prints the result with a .NET format
//! string, `o` (`yyyy-MM-ddTHH:mm:ss.fffffffK`) by default.
//!
//! Decisions (EXPR = learn.microsoft.com/azure/data-factory/control-flow-expression-language-functions,
//! LAFN = learn.microsoft.com/azure/logic-apps/workflow-definition-language-functions-reference,
//! whose engine ADF shares):
//! - Input with `Z` or an offset is a UTC value (an offset is applied), printed with `Z` by
//!   `o`/`K` (EXPR `addSeconds`: `2018-03-15T00:00:10.0000000Z` from a `Z` input). Input
//!   without a zone (`2018-03-15T12:00:00`, `03/15/2018 12:00:00`, `2018-03-15`) keeps its
//!   clock time, is treated as UTC by arithmetic, and prints without a suffix (.NET's
//!   `DateTimeKind.Unspecified`).
//! - Converted local times carry no zone: `convertFromUtc` and `convertTimeZone` to a zone
//!   other than UTC print without `Z`, following EXPR `convertTimeZone` example 1
//!   (`2018-01-01T00:00:00.0000000`) and LAFN `convertFromUtc` example 1 (same text, "without
//!   the timezone UTC offset"). EXPR's `convertFromUtc` example (`2018-01-01T00:00:00Z`, with
//!   no fraction either) is not `o` output and is taken as a typo. Conversions to UTC
//!   (`convertToUtc`, or `UTC` as the target) print `Z` (EXPR `convertToUtc`:
//!   `2018-01-01T08:00:00.0000000Z`).
//! - `convertToUtc` and `convertTimeZone` read the timestamp as a local time of the source
//!   zone. A timestamp that already has `Z` or an offset is refused unless the source zone
//!   is UTC, as .NET's `TimeZoneInfo.ConvertTime` refuses a UTC `DateTime` with a non-UTC
//!   source zone (inference: the engine is .NET).
//! - A local time skipped by a daylight saving change is an error; an ambiguous one is read
//!   as standard time (.NET `TimeZoneInfo` rules).
//! - `ticks` counts 100-ns intervals from 0001-01-01T00:00:00 (.NET `DateTime.Ticks`; LAFN
//!   `ticks('2018-01-01T08:00:00.000Z')` = 636503904000000000).
//! - `dayOfWeek` is 0 for Sunday (EXPR text; EXPR's example value 3 for a Thursday is an
//!   erratum, LAFN gives 4).
//! - Month and year arithmetic clamps the day to the month's end (.NET `AddMonths`).
//! - An empty or null format means `o` (inference).
//! - Time units are `Second`, `Minute`, `Hour`, `Day`, `Week`, `Month`, `Year`,
//!   case-insensitive, singular or plural.
//! - Counts must be integers (EXPR types them Integer); a float with no fraction is accepted.
//!   Results outside 0001-01-01..9999-12-31 are errors, never a panic.

use serde_json::Value;

use super::ExprErrorKind;
use super::functions::type_phrase;

#[path = "dotnet_format.rs"]
mod dotnet_format;
#[path = "timezones.rs"]
mod timezones;

#[cfg(test)]
#[path = "dates_tests.rs"]
mod tests;

use dotnet_format::{
    ACCEPTED_FORMS, DateTime, Kind, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE,
    TICKS_PER_SECOND, UNIX_EPOCH_TICKS,
};
use timezones::Zone;

/// One date function: lower-case name, canonical name, argument counts, and the phrase for
/// arity errors.
struct Spec {
    lower: &'static str,
    canonical: &'static str,
    min: usize,
    max: usize,
    expected: &'static str,
}

/// Builds a [`Spec`] (keeps the table short).
const fn spec(
    lower: &'static str,
    canonical: &'static str,
    min: usize,
    max: usize,
    expected: &'static str,
) -> Spec {
    Spec {
        lower,
        canonical,
        min,
        max,
        expected,
    }
}

/// Every date function with its argument counts.
const SPECS: &[Spec] = &[
    spec("utcnow", "utcNow", 0, 1, "0 or 1"),
    spec("formatdatetime", "formatDateTime", 1, 2, "1 or 2"),
    spec("adddays", "addDays", 2, 3, "2 or 3"),
    spec("addhours", "addHours", 2, 3, "2 or 3"),
    spec("addminutes", "addMinutes", 2, 3, "2 or 3"),
    spec("addseconds", "addSeconds", 2, 3, "2 or 3"),
    spec("addtotime", "addToTime", 3, 4, "3 or 4"),
    spec("subtractfromtime", "subtractFromTime", 3, 4, "3 or 4"),
    spec("getfuturetime", "getFutureTime", 2, 3, "2 or 3"),
    spec("getpasttime", "getPastTime", 2, 3, "2 or 3"),
    spec("startofday", "startOfDay", 1, 2, "1 or 2"),
    spec("startofhour", "startOfHour", 1, 2, "1 or 2"),
    spec("startofmonth", "startOfMonth", 1, 2, "1 or 2"),
    spec("dayofmonth", "dayOfMonth", 1, 1, "1"),
    spec("dayofweek", "dayOfWeek", 1, 1, "1"),
    spec("dayofyear", "dayOfYear", 1, 1, "1"),
    spec("ticks", "ticks", 1, 1, "1"),
    spec("convertfromutc", "convertFromUtc", 2, 3, "2 or 3"),
    spec("converttoutc", "convertToUtc", 2, 3, "2 or 3"),
    spec("converttimezone", "convertTimeZone", 3, 4, "3 or 4"),
];

/// Lower-case names of all date functions implemented here.
pub(super) const NAMES: &[&str] = &[
    "utcnow",
    "formatdatetime",
    "adddays",
    "addhours",
    "addminutes",
    "addseconds",
    "addtotime",
    "subtractfromtime",
    "getfuturetime",
    "getpasttime",
    "startofday",
    "startofhour",
    "startofmonth",
    "dayofmonth",
    "dayofweek",
    "dayofyear",
    "ticks",
    "convertfromutc",
    "converttoutc",
    "converttimezone",
];

/// The spec of a date function by lower-case name.
fn find(name_lower: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.lower == name_lower)
}

/// `(min, max)` argument counts of a date function; `None` if `name_lower` is not one.
pub(super) fn arity(name_lower: &str) -> Option<(usize, usize)> {
    find(name_lower).map(|s| (s.min, s.max))
}

/// Calls a date function with evaluated arguments; `now` is the current time (for `utcNow`,
/// `getFutureTime`, `getPastTime`). `None` if `name_lower` is not a date function.
pub(super) fn call(
    name_lower: &str,
    args: &[Value],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Result<Value, ExprErrorKind>> {
    let spec = find(name_lower)?;
    Some(run(spec, args, now))
}

/// A unit of `addToTime` and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Unit {
    /// Reads a unit name: case-insensitive, singular or plural.
    fn parse(text: &str) -> Option<Unit> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_suffix('s').unwrap_or(&t);
        Some(match t {
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "year" => Unit::Year,
            _ => return None,
        })
    }

    /// The unit's name for messages.
    fn name(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    /// Adds `n` units; `None` when the result leaves the valid range.
    fn add(self, value: DateTime, n: i64) -> Option<DateTime> {
        let per = match self {
            Unit::Second => TICKS_PER_SECOND,
            Unit::Minute => TICKS_PER_MINUTE,
            Unit::Hour => TICKS_PER_HOUR,
            Unit::Day => TICKS_PER_DAY,
            Unit::Week => 7 * TICKS_PER_DAY,
            Unit::Month => return value.add_months(n),
            Unit::Year => return value.add_months(n.checked_mul(12)?),
        };
        value.add_ticks(n.checked_mul(per)?)
    }
}

/// A user value shortened for messages.
fn shown(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() > MAX {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    } else {
        text.to_string()
    }
}

/// An `InvalidArgument` error.
fn invalid(function: &'static str, reason: String) -> ExprErrorKind {
    ExprErrorKind::InvalidArgument { function, reason }
}

/// An `ArgumentType` error for argument `index` (0-based).
fn wrong_type(
    function: &'static str,
    index: usize,
    expected: &'static str,
    value: &Value,
) -> ExprErrorKind {
    ExprErrorKind::ArgumentType {
        function,
        position: index + 1,
        expected,
        found: type_phrase(value),
    }
}

/// Argument `index` as a string, or an `ArgumentType` error naming `expected`.
fn string_arg<'a>(
    function: &'static str,
    args: &'a [Value],
    index: usize,
    expected: &'static str,
) -> Result<&'a str, ExprErrorKind> {
    match args.get(index) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type(function, index, expected, other)),
        None => Err(wrong_type(function, index, expected, &Value::Null)),
    }
}

/// Argument `index` parsed as a timestamp.
fn timestamp_arg(
    function: &'static str,
    args: &[Value],
    index: usize,
) -> Result<(DateTime, String), ExprErrorKind> {
    let text = string_arg(function, args, index, "a timestamp string")?;
    match dotnet_format::parse(text) {
        Some(value) => Ok((value, text.to_string())),
        None => Err(invalid(
            function,
            format!(
                "'{}' is not a timestamp; accepted forms are {ACCEPTED_FORMS}",
                shown(text)
            ),
        )),
    }
}

/// Argument `index` as an integer (a float without a fraction is accepted).
fn integer_arg(function: &'static str, args: &[Value], index: usize) -> Result<i64, ExprErrorKind> {
    let value = args.get(index).unwrap_or(&Value::Null);
    let Value::Number(n) = value else {
        return Err(wrong_type(function, index, "an integer", value));
    };
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    if n.is_u64() {
        return Err(invalid(
            function,
            format!("the count {n} is too large; the result would leave 0001-01-01..9999-12-31"),
        ));
    }
    match n.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => Ok(x as i64),
        Some(x) if x.fract() == 0.0 => Err(invalid(
            function,
            format!("the count {n} is too large; the result would leave 0001-01-01..9999-12-31"),
        )),
        _ => Err(wrong_type(function, index, "an integer", value)),
    }
}

/// Argument `index` as a time unit.
fn unit_arg(function: &'static str, args: &[Value], index: usize) -> Result<Unit, ExprErrorKind> {
    let text = string_arg(function, args, index, "a time unit string")?;
    Unit::parse(text).ok_or_else(|| {
        invalid(
            function,
            format!(
                "unknown time unit '{}'; use one of Second, Minute, Hour, Day, Week, Month, Year",
                shown(text)
            ),
        )
    })
}

/// Argument `index` as a Windows time zone id.
fn zone_arg(
    function: &'static str,
    args: &[Value],
    index: usize,
) -> Result<(Zone, String), ExprErrorKind> {
    let text = string_arg(function, args, index, "a time zone id string")?;
    timezones::resolve(text)
        .map(|z| (z, text.to_string()))
        .map_err(|reason| invalid(function, reason))
}

/// Formats the result with the optional format argument at `index` (absent, null or empty
/// means `o`).
fn output(
    function: &'static str,
    value: DateTime,
    args: &[Value],
    index: usize,
) -> Result<Value, ExprErrorKind> {
    let fmt = match args.get(index) {
        None | Some(Value::Null) => "o",
        Some(Value::String(s)) if s.is_empty() => "o",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(wrong_type(function, index, "a format string", other)),
    };
    dotnet_format::format(value, fmt)
        .map(Value::String)
        .map_err(|reason| invalid(function, format!("bad format string: {reason}")))
}

/// The current time as a UTC value.
fn now_value(
    function: &'static str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DateTime, ExprErrorKind> {
    let nanos = i64::from(now.timestamp_subsec_nanos().min(999_999_999));
    now.timestamp()
        .checked_mul(TICKS_PER_SECOND)
        .and_then(|t| t.checked_add(UNIX_EPOCH_TICKS))
        .and_then(|t| t.checked_add(nanos / 100))
        .and_then(|t| DateTime::from_ticks(t, Kind::Utc))
        .ok_or_else(|| {
            invalid(
                function,
                format!("the current time {now} is outside 0001-01-01..9999-12-31"),
            )
        })
}

/// Adds `n` units, or reports the range error.
fn shift(
    function: &'static str,
    value: DateTime,
    text: &str,
    n: i64,
    unit: Unit,
) -> Result<DateTime, ExprErrorKind> {
    unit.add(value, n).ok_or_else(|| {
        invalid(
            function,
            format!(
                "adding {n} {}(s) to '{}' gives a time outside 0001-01-01..9999-12-31",
                unit.name(),
                shown(text)
            ),
        )
    })
}

/// Negates a count for the subtracting functions.
fn negate(function: &'static str, n: i64) -> Result<i64, ExprErrorKind> {
    n.checked_neg()
        .ok_or_else(|| invalid(function, format!("the count {n} is too large")))
}

/// Refuses a zoned timestamp as the local time of a non-UTC source zone.
fn check_source(
    function: &'static str,
    value: DateTime,
    text: &str,
    zone: Zone,
    zone_id: &str,
) -> Result<(), ExprErrorKind> {
    if value.kind() == Kind::Utc && zone != Zone::Utc {
        return Err(invalid(
            function,
            format!(
                "the timestamp '{}' has a zone designator ('Z' or an offset), so it cannot be \
                 read as a local time of '{zone_id}'; remove the designator (e.g. \
                 '2018-01-01T00:00:00') or use 'UTC' as the source time zone",
                shown(text)
            ),
        ));
    }
    Ok(())
}

/// Checks the argument count and runs the function.
fn run(
    spec: &Spec,
    args: &[Value],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ExprErrorKind> {
    let f = spec.canonical;
    if args.len() < spec.min || args.len() > spec.max {
        return Err(ExprErrorKind::Arity {
            function: f,
            expected: spec.expected,
            found: args.len(),
        });
    }
    match spec.lower {
        "utcnow" => output(f, now_value(f, now)?, args, 0),
        "formatdatetime" => {
            let (t, _) = timestamp_arg(f, args, 0)?;
            output(f, t, args, 1)
        }
        "adddays" | "addhours" | "addminutes" | "addseconds" => {
            let unit = match spec.lower {
                "adddays" => Unit::Day,
                "addhours" => Unit::Hour,
                "addminutes" => Unit::Minute,
                _ => Unit::Second,
            };
            let (t, text) = timestamp_arg(f, args, 0)?;
            let n = integer_arg(f, args, 1)?;
            output(f, shift(f, t, &text, n, unit)?, args, 2)
        }
        "addtotime" | "subtractfromtime" => {
            let (t, text) = timestamp_arg(f, args, 0)?;
            let mut n = integer_arg(f, args, 1)?;
            let unit = unit_arg(f, args, 2)?;
            if spec.lower == "subtractfromtime" {
                n = negate(f, n)?;
            }
            output(f, shift(f, t, &text, n, unit)?, args, 3)
        }
        "getfuturetime" | "getpasttime" => {
            let mut n = integer_arg(f, args, 0)?;
            let unit = unit_arg(f, args, 1)?;
            if spec.lower == "getpasttime" {
                n = negate(f, n)?;
            }
            let t = now_value(f, now)?;
            output(f, shift(f, t, "now", n, unit)?, args, 2)
        }
        "startofday" | "startofhour" | "startofmonth" => {
            let (t, _) = timestamp_arg(f, args, 0)?;
            let ticks = t.ticks();
            let start = match spec.lower {
                "startofday" => ticks - ticks.rem_euclid(TICKS_PER_DAY),
                "startofhour" => ticks - ticks.rem_euclid(TICKS_PER_HOUR),
                _ => {
                    let day = t.fields().day;
                    ticks - ticks.rem_euclid(TICKS_PER_DAY) - (day - 1) * TICKS_PER_DAY
                }
            };
            let start = DateTime::from_ticks(start, t.kind())
                .ok_or_else(|| invalid(f, "the start of the period is out of range".into()))?;
            output(f, start, args, 1)
        }
        "dayofmonth" | "dayofweek" | "dayofyear" | "ticks" => {
            let (t, _) = timestamp_arg(f, args, 0)?;
            let fields = t.fields();
            Ok(Value::from(match spec.lower {
                "dayofmonth" => fields.day,
                "dayofweek" => fields.day_of_week,
                "dayofyear" => fields.day_of_year,
                _ => t.ticks(),
            }))
        }
        "convertfromutc" => {
            let (t, _) = timestamp_arg(f, args, 0)?;
            let (zone, _) = zone_arg(f, args, 1)?;
            let local = timezones::from_utc(t, zone).map_err(|r| invalid(f, r))?;
            output(f, local, args, 2)
        }
        "converttoutc" => {
            let (t, text) = timestamp_arg(f, args, 0)?;
            let (zone, zone_id) = zone_arg(f, args, 1)?;
            check_source(f, t, &text, zone, &zone_id)?;
            let utc = timezones::to_utc(t, zone, &zone_id).map_err(|r| invalid(f, r))?;
            output(f, utc, args, 2)
        }
        _ => {
            // converttimezone
            let (t, text) = timestamp_arg(f, args, 0)?;
            let (from, from_id) = zone_arg(f, args, 1)?;
            let (to, _) = zone_arg(f, args, 2)?;
            check_source(f, t, &text, from, &from_id)?;
            let utc = timezones::to_utc(t, from, &from_id).map_err(|r| invalid(f, r))?;
            let local = timezones::from_utc(utc, to).map_err(|r| invalid(f, r))?;
            output(f, local, args, 3)
        }
    }
}
