//! Splitting one read into value ranges over a numeric or date column, for parallel range
//! queries (like ADF's dynamic-range partitioning of SQL sources).
//!
//! Bounds arrive as text: from the copy source's `partitionSettings` or from
//! `CAST(MIN(c) AS STRING)` / `CAST(MAX(c) AS STRING)` on the server. The interior boundaries
//! are spread evenly between them; the first range has no lower end and the last no upper
//! end, so rows outside the bounds are still read exactly once, and the first range also
//! takes the NULLs.

use chrono::{NaiveDate, NaiveDateTime};

/// A bound's kind, which decides how the interval is divided and how boundaries are written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Integer(i128),
    Real(f64),
    /// Days since 1970-01-01.
    Date(i64),
    /// Microseconds since 1970-01-01 00:00:00.
    Timestamp(i64),
}

/// Why a pair of bounds cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "partition bounds '{lower}' and '{upper}' of column '{column}' {problem}; use two numbers or two dates (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss)"
)]
pub struct RangeError {
    /// The partition column.
    pub column: String,
    /// The lower bound as given.
    pub lower: String,
    /// The upper bound as given.
    pub upper: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// One range: `lower <= c < upper` as SQL literals, open ends unbounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRange {
    /// Inclusive lower bound.
    pub lower: Option<String>,
    /// Exclusive upper bound.
    pub upper: Option<String>,
}

fn unquote(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(t)
}

fn parse(text: &str) -> Option<Bound> {
    let t = unquote(text);
    if let Ok(i) = t.parse::<i128>() {
        return Some(Bound::Integer(i));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
        return Some(Bound::Date((d - epoch).num_days()));
    }
    if let Ok(ts) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f") {
        return Some(Bound::Timestamp(ts.and_utc().timestamp_micros()));
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => Some(Bound::Real(f)),
        _ => None,
    }
}

fn literal(b: Bound) -> String {
    match b {
        Bound::Integer(i) => i.to_string(),
        Bound::Real(f) => format!("{f:?}"),
        Bound::Date(days) => {
            let d = chrono::DateTime::from_timestamp(days * 86_400, 0)
                .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            format!("CAST('{d}' AS DATE)")
        }
        Bound::Timestamp(us) => {
            let t = chrono::DateTime::from_timestamp_micros(us)
                .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
                .unwrap_or_default();
            format!("CAST('{t}' AS TIMESTAMP)")
        }
    }
}

/// Splits `[lower, upper]` of `column` into at most `n` ranges (fewer when the interval holds
/// fewer distinct integers or days). `n == 0` is treated as 1.
pub fn split(
    column: &str,
    lower: &str,
    upper: &str,
    n: usize,
) -> Result<Vec<ValueRange>, RangeError> {
    let err = |problem| RangeError {
        column: column.to_string(),
        lower: lower.to_string(),
        upper: upper.to_string(),
        problem,
    };
    let (lo, hi) = match (parse(lower), parse(upper)) {
        (Some(l), Some(h)) => (l, h),
        _ => return Err(err("are not numbers or dates")),
    };
    let n = n.max(1);
    let boundaries: Vec<Bound> = match (lo, hi) {
        (Bound::Integer(l), Bound::Integer(h)) => wide_int_steps(l, h, n)
            .into_iter()
            .map(Bound::Integer)
            .collect(),
        (Bound::Date(l), Bound::Date(h)) => wide_int_steps(l.into(), h.into(), n)
            .into_iter()
            .map(|d| Bound::Date(d as i64))
            .collect(),
        (Bound::Timestamp(l), Bound::Timestamp(h)) => wide_int_steps(l.into(), h.into(), n)
            .into_iter()
            .map(|t| Bound::Timestamp(t as i64))
            .collect(),
        (Bound::Date(l), Bound::Timestamp(h)) => {
            wide_int_steps(i128::from(l) * 86_400_000_000, h.into(), n)
                .into_iter()
                .map(|t| Bound::Timestamp(t as i64))
                .collect()
        }
        (Bound::Timestamp(l), Bound::Date(h)) => {
            wide_int_steps(l.into(), i128::from(h) * 86_400_000_000, n)
                .into_iter()
                .map(|t| Bound::Timestamp(t as i64))
                .collect()
        }
        (l, h) => match (as_real(l), as_real(h)) {
            (Some(l), Some(h)) => real_steps(l, h, n).map(Bound::Real).collect(),
            _ => return Err(err("mix a number and a date")),
        },
    };
    let mut cuts: Vec<String> = boundaries.into_iter().map(literal).collect();
    cuts.dedup();
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut lower = None;
    for c in cuts {
        ranges.push(ValueRange {
            lower: lower.take(),
            upper: Some(c.clone()),
        });
        lower = Some(c);
    }
    ranges.push(ValueRange { lower, upper: None });
    Ok(ranges)
}

fn as_real(b: Bound) -> Option<f64> {
    match b {
        Bound::Integer(i) => Some(i as f64),
        Bound::Real(f) => Some(f),
        _ => None,
    }
}

/// The `n - 1` interior boundaries of `[l, h]`, strictly increasing (none when `h <= l`);
/// `None` when the arithmetic would overflow (bounds near ±10^38 of a DECIMAL(38,0)).
fn int_steps(l: i128, h: i128, n: usize) -> Option<Vec<i128>> {
    let span = h.checked_sub(l)?.max(0);
    let n = i128::try_from(n).ok()?;
    span.checked_mul(n)?.checked_add(n)?;
    let mut last = l;
    Some(
        (1..n)
            .filter_map(|i| {
                // Rounded up, so a narrow interval still gets a cut at each distinct value.
                let b = l + (span * i + n - 1) / n;
                (b > last && b <= h).then(|| {
                    last = b;
                    b
                })
            })
            .collect(),
    )
}

/// [`int_steps`], or evenly spaced through `f64` and rounded when integer arithmetic would
/// overflow; rounding may merge cuts, never reorder them.
fn wide_int_steps(l: i128, h: i128, n: usize) -> Vec<i128> {
    int_steps(l, h, n).unwrap_or_else(|| {
        real_steps(l as f64, h as f64, n)
            .map(|b| (b as i128).clamp(l, h))
            .collect()
    })
}

fn real_steps(l: f64, h: f64, n: usize) -> impl Iterator<Item = f64> {
    let span = if h > l { h - l } else { 0.0 };
    let mut last = l;
    (1..n).filter_map(move |i| {
        let b = l + span * i as f64 / n as f64;
        (b > last && b <= h).then(|| {
            last = b;
            b
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(r: &[ValueRange]) -> Vec<(Option<&str>, Option<&str>)> {
        r.iter()
            .map(|v| (v.lower.as_deref(), v.upper.as_deref()))
            .collect()
    }

    #[test]
    fn integers_split_evenly_with_open_ends() {
        let r = split("id", "0", "100", 4).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (None, Some("25")),
                (Some("25"), Some("50")),
                (Some("50"), Some("75")),
                (Some("75"), None)
            ]
        );
    }

    #[test]
    fn a_narrow_interval_gives_fewer_ranges() {
        let r = split("id", "1", "3", 8).unwrap();
        assert_eq!(
            bounds(&r),
            vec![(None, Some("2")), (Some("2"), Some("3")), (Some("3"), None)]
        );
        assert_eq!(split("id", "5", "5", 4).unwrap().len(), 1);
        assert_eq!(split("id", "9", "1", 4).unwrap().len(), 1);
        assert_eq!(split("id", "0", "100", 0).unwrap().len(), 1);
    }

    #[test]
    fn extreme_integers_do_not_overflow() {
        let r = split("id", &i64::MIN.to_string(), &i64::MAX.to_string(), 3).unwrap();
        assert_eq!(r.len(), 3);
        let mid: i128 = r[1].upper.as_deref().unwrap().parse().unwrap();
        assert!(mid > 0 && mid < i64::MAX as i128);
    }

    #[test]
    fn dates_and_timestamps_are_cast_literals() {
        let r = split("d", "'2020-01-01'", "2020-01-05", 2).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (None, Some("CAST('2020-01-03' AS DATE)")),
                (Some("CAST('2020-01-03' AS DATE)"), None)
            ]
        );
        let r = split("t", "2020-01-01 00:00:00", "2020-01-01 00:00:01", 2).unwrap();
        assert_eq!(
            r[0].upper.as_deref(),
            Some("CAST('2020-01-01 00:00:00.500000' AS TIMESTAMP)")
        );
    }

    #[test]
    fn reals_and_mixed_numbers() {
        let r = split("x", "0", "1.5", 3).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (None, Some("0.5")),
                (Some("0.5"), Some("1.0")),
                (Some("1.0"), None)
            ]
        );
    }

    #[test]
    fn bad_bounds_name_the_column() {
        let e = split("c", "abc", "1", 2).unwrap_err();
        assert!(e.to_string().contains("column 'c'"), "{e}");
        let e = split("c", "1", "2020-01-01", 2).unwrap_err();
        assert_eq!(e.problem, "mix a number and a date");
        assert!(split("c", "1; drop table t", "2", 2).is_err());
    }

    #[test]
    fn decimal_38_bounds_do_not_overflow() {
        let max = "9".repeat(38);
        let r = split("d", &format!("-{max}"), &max, 32).unwrap();
        assert!(r.len() > 1 && r.len() <= 32, "{}", r.len());
        let cuts: Vec<i128> = r[..r.len() - 1]
            .iter()
            .map(|v| v.upper.as_deref().unwrap().parse().unwrap())
            .collect();
        assert!(cuts.windows(2).all(|w| w[0] < w[1]), "increasing: {cuts:?}");
    }
}
