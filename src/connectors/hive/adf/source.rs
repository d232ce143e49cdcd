//! `ImpalaSource` and `SparkSource`: a Copy or Lookup activity's source settings for the
//! HiveServer2 connectors.
//!
//! ADF documents only `query` (which overrides the dataset's table). quiver adds parallel
//! range reads shaped like ADF's SQL sources (Azure SQL, SQL Server, ...):
//!
//! ```json
//! "source": {
//!     "type": "SparkSource",
//!     "partitionOption": "DynamicRange",
//!     "partitionSettings": {
//!         "partitionColumnName": "id",
//!         "partitionLowerBound": 1,
//!         "partitionUpperBound": "1000000"
//!     }
//! }
//! ```
//!
//! `partitionOption` is `None` (the default) or `DynamicRange`; `DynamicRange` needs
//! `partitionColumnName`, and takes the bounds when given (the source asks the server for
//! `min`/`max` otherwise). The number of ranges follows the activity's `parallelCopies`.
//!
//! Bounds end up inside SQL, so they are checked and rendered here: a JSON number, or a
//! string holding a number (`-12`, `3.5`, `1e6`) or a date (`yyyy-MM-dd`, optionally with
//! ` HH:mm:ss` and up to 9 fractional digits). Numbers are rendered as written, dates as
//! quoted string literals (`'2024-01-31 12:00:00'`). Anything else is rejected, so a bound
//! can never inject SQL.

use chrono::{NaiveDate, NaiveDateTime};

use crate::config::{ConfigError, CopySource, Node};
use crate::connectors::hive::options::RangePartitioning;

/// The accepted `partitionOption` values.
pub const PARTITION_OPTIONS: &[&str] = &["None", "DynamicRange"];

/// A validated `ImpalaSource` / `SparkSource`.
#[derive(Debug, Clone, PartialEq)]
pub struct HiveCopySource {
    /// `query`, which overrides the dataset's table.
    pub query: Option<String>,
    /// `partitionOption: DynamicRange` with its `partitionSettings`.
    pub partitioning: Option<RangePartitioning>,
}

/// Reads and checks an `ImpalaSource`/`SparkSource` (its `type` was checked against the
/// dataset when the factory was checked, which also warns once about properties quiver
/// ignores; this function is quiet so that planning does not repeat those warnings).
pub fn parse_hive_source(source: &CopySource) -> Result<HiveCopySource, ConfigError> {
    let node = source.raw.node();
    let query = match node.field("query") {
        None => None,
        Some(q) => {
            let text = q.as_str()?;
            if text.trim().is_empty() {
                return Err(q.invalid(
                    text,
                    "the query is empty; write a query, or remove query to read the dataset's table",
                    &[],
                ));
            }
            Some(text.to_string())
        }
    };
    let partitioning = parse_partitioning(&node)?;
    Ok(HiveCopySource {
        query,
        partitioning,
    })
}

/// Warns about the properties of an `ImpalaSource`/`SparkSource` that quiver ignores (called
/// once, when the factory is checked).
pub(crate) fn warn_ignored_hive_source_keys(source: &CopySource) {
    let node = source.raw.node();
    node.warn_unknown_keys(&["type", "query", "partitionOption", "partitionSettings"]);
    let dynamic = node
        .field("partitionOption")
        .and_then(|n| n.value.as_str().map(str::to_string));
    if let Some(settings) = node.field("partitionSettings") {
        if dynamic.as_deref() == Some("DynamicRange") {
            settings.warn_unknown_keys(&[
                "partitionColumnName",
                "partitionLowerBound",
                "partitionUpperBound",
            ]);
        } else {
            tracing::warn!(
                "{}: {} is ignored because partitionOption is not DynamicRange",
                node.file.display(),
                node.key_path("partitionSettings")
            );
        }
    }
}

fn parse_partitioning(source: &Node<'_>) -> Result<Option<RangePartitioning>, ConfigError> {
    let dynamic = match source.field("partitionOption") {
        None => false,
        Some(node) => match node.as_str()?.trim().to_ascii_lowercase().as_str() {
            "none" => false,
            "dynamicrange" => true,
            "physicalpartitionsoftable" => {
                return Err(node.invalid(
                    "PhysicalPartitionsOfTable",
                    "Impala and Spark sources cannot read physical partitions; use DynamicRange over a numeric or date column",
                    PARTITION_OPTIONS,
                ));
            }
            other => {
                return Err(node.invalid(other, "unknown partition option", PARTITION_OPTIONS));
            }
        },
    };
    let settings = source.opt_object("partitionSettings")?;
    if !dynamic {
        return Ok(None);
    }
    let Some(settings) = settings else {
        return Err(source.missing(
            "partitionSettings",
            "an object with partitionColumnName (and optionally partitionLowerBound and partitionUpperBound) for DynamicRange",
        ));
    };
    let column = settings.req_str("partitionColumnName")?;
    if column.trim().is_empty() {
        let node = settings.req("partitionColumnName", "a column name")?;
        return Err(node.invalid(column, "must name a numeric or date column", &[]));
    }
    let lower = settings
        .field("partitionLowerBound")
        .map(|n| bound(&n))
        .transpose()?;
    let upper_node = settings.field("partitionUpperBound");
    let upper = upper_node.as_ref().map(bound).transpose()?;
    if let (Some(l), Some(u), Some(node)) = (&lower, &upper, &upper_node) {
        check_order(node, l, u)?;
    }
    Ok(Some(RangePartitioning {
        column: column.to_string(),
        partitions: None,
        lower: lower.map(|b| b.literal),
        upper: upper.map(|b| b.literal),
    }))
}

/// A checked bound: its SQL literal and a value to compare with the other bound.
#[derive(Debug, Clone, PartialEq)]
struct Bound {
    literal: String,
    value: BoundValue,
}

#[derive(Debug, Clone, PartialEq)]
enum BoundValue {
    Number(f64),
    Date(NaiveDateTime),
}

const BOUND_HELP: &str = "a partition bound must be a number (e.g. 100 or \"-3.5\") or a date \"yyyy-MM-dd\" or \"yyyy-MM-dd HH:mm:ss\"";

fn bound(node: &Node<'_>) -> Result<Bound, ConfigError> {
    match node.value {
        serde_json::Value::Number(n) => {
            let literal = n.to_string();
            let value = n.as_f64().unwrap_or(f64::NAN);
            Ok(Bound {
                literal,
                value: BoundValue::Number(value),
            })
        }
        serde_json::Value::String(_) => {
            let raw = node.as_str()?;
            let text = raw.trim();
            if is_number(text) {
                let value = text.parse::<f64>().unwrap_or(f64::NAN);
                return Ok(Bound {
                    literal: text.to_string(),
                    value: BoundValue::Number(value),
                });
            }
            if let Some(value) = parse_date(text) {
                // The accepted forms contain only digits, '-', ':', '.' and one blank, so
                // quoting cannot be escaped.
                return Ok(Bound {
                    literal: format!("'{text}'"),
                    value: BoundValue::Date(value),
                });
            }
            Err(node.invalid(raw, BOUND_HELP, &[]))
        }
        _ => Err(node.wrong_type("a number, or a string holding a number or a date")),
    }
}

/// `[+-]digits[.digits][e[+-]digits]` (or `.digits`), the forms both Impala and Spark SQL
/// read as numeric literals.
fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if int + frac == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `yyyy-MM-dd`, or `yyyy-MM-dd HH:mm:ss[.f{1,9}]`, a real calendar date and time.
fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let shape_ok = s.len() >= 10
        && s.bytes().enumerate().all(|(i, c)| match i {
            4 | 7 => c == b'-',
            10 => c == b' ',
            13 | 16 => c == b':',
            19 => c == b'.',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    match s.len() {
        10 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        19 => NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok(),
        21..=29 => NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok(),
        _ => None,
    }
}

/// Checks that `lower <= upper`; `upper_node` is where errors point.
fn check_order(upper_node: &Node<'_>, lower: &Bound, upper: &Bound) -> Result<(), ConfigError> {
    let in_order = match (&lower.value, &upper.value) {
        (BoundValue::Number(l), BoundValue::Number(u)) => l <= u,
        (BoundValue::Date(l), BoundValue::Date(u)) => l <= u,
        _ => {
            return Err(upper_node.invalid(
                &upper.literal,
                format!(
                    "partitionLowerBound ({}) and partitionUpperBound ({}) must both be numbers or both be dates",
                    lower.literal, upper.literal
                ),
                &[],
            ));
        }
    };
    if !in_order {
        return Err(upper_node.invalid(
            &upper.literal,
            format!(
                "partitionUpperBound is below partitionLowerBound ({}); swap them",
                lower.literal
            ),
            &[],
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawProperties;
    use serde_json::{Value, json};
    use std::path::Path;

    fn source(v: Value) -> Result<HiveCopySource, ConfigError> {
        let node = Node::at(&v, Path::new("p.json"), "$.source");
        let raw = RawProperties::from_node(Some(&node), node.origin());
        let src = CopySource {
            kind: "ImpalaSource".into(),
            query: node.opt_str("query")?.map(str::to_string),
            raw,
        };
        parse_hive_source(&src)
    }

    fn range(v: Value) -> Result<Option<RangePartitioning>, ConfigError> {
        source(json!({"type": "SparkSource", "partitionOption": "DynamicRange", "partitionSettings": v}))
            .map(|s| s.partitioning)
    }

    fn invalid_at(e: ConfigError, at: &str) -> String {
        match e {
            ConfigError::InvalidValue { path, reason, .. } => {
                assert_eq!(path, at, "{reason}");
                reason
            }
            other => panic!("expected InvalidValue at {at}, got {other:?}"),
        }
    }

    #[test]
    fn query_and_defaults() {
        let s = source(json!({"type": "ImpalaSource"})).unwrap();
        assert_eq!(
            s,
            HiveCopySource {
                query: None,
                partitioning: None
            }
        );
        let s =
            source(json!({"type": "ImpalaSource", "query": "select 1", "partitionOption": "None"}))
                .unwrap();
        assert_eq!(s.query.as_deref(), Some("select 1"));
        assert_eq!(s.partitioning, None);
        invalid_at(
            source(json!({"type": "ImpalaSource", "query": "  "})).unwrap_err(),
            "$.source.query",
        );
    }

    #[test]
    fn dynamic_range() {
        let p = range(json!({"partitionColumnName": "id"}))
            .unwrap()
            .unwrap();
        assert_eq!(
            p,
            RangePartitioning {
                column: "id".into(),
                partitions: None,
                lower: None,
                upper: None
            }
        );
        let p = range(json!({"partitionColumnName": "id", "partitionLowerBound": -5, "partitionUpperBound": "1e6"}))
            .unwrap()
            .unwrap();
        assert_eq!(p.lower.as_deref(), Some("-5"));
        assert_eq!(p.upper.as_deref(), Some("1e6"));
        let p = range(json!({"partitionColumnName": "x", "partitionLowerBound": 0.5, "partitionUpperBound": " 2.25 "}))
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.lower.as_deref(), p.upper.as_deref()),
            (Some("0.5"), Some("2.25"))
        );
        let p = range(
            json!({"partitionColumnName": "d", "partitionLowerBound": "2024-01-01",
            "partitionUpperBound": "2024-12-31 23:59:59.123456789"}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.lower.as_deref(), Some("'2024-01-01'"));
        assert_eq!(p.upper.as_deref(), Some("'2024-12-31 23:59:59.123456789'"));
        // One bound only: the other is fetched.
        let p = range(json!({"partitionColumnName": "d", "partitionUpperBound": "2024-02-29"}))
            .unwrap()
            .unwrap();
        assert_eq!((p.lower, p.upper.as_deref()), (None, Some("'2024-02-29'")));
    }

    #[test]
    fn dynamic_range_errors() {
        assert!(matches!(
            source(json!({"type": "SparkSource", "partitionOption": "DynamicRange"})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.source.partitionSettings"
        ));
        assert!(matches!(
            range(json!({"partitionLowerBound": 1})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.source.partitionSettings.partitionColumnName"
        ));
        let e =
            source(json!({"type": "SparkSource", "partitionOption": "PhysicalPartitionsOfTable"}))
                .unwrap_err();
        invalid_at(e, "$.source.partitionOption");
        // Case-insensitive, as in ADF's service.
        assert!(
            source(
                json!({"type": "SparkSource", "partitionOption": "dynamicrange",
                "partitionSettings": {"partitionColumnName": "id"}})
            )
            .is_ok()
        );
        match source(json!({"type": "SparkSource", "partitionOption": "Dynamic"})).unwrap_err() {
            ConfigError::InvalidValue { allowed, .. } => assert_eq!(allowed, PARTITION_OPTIONS),
            other => panic!("unexpected {other:?}"),
        }
        // Injection attempts and other non-literals.
        for bad in [
            "1; DROP TABLE t",
            "1 OR 1=1",
            "'2024-01-01'",
            "2024-01-01' OR '1'='1",
            "2024-02-30",
            "2024-1-1",
            "2024-01-01T00:00:00",
            "2024-01-01 25:00:00",
            "0x10",
            "1e",
            "",
            "NaN",
        ] {
            let e =
                range(json!({"partitionColumnName": "c", "partitionLowerBound": bad})).unwrap_err();
            let reason = invalid_at(e, "$.source.partitionSettings.partitionLowerBound");
            assert!(reason.contains("must be a number"), "{bad}: {reason}");
        }
        assert!(matches!(
            range(json!({"partitionColumnName": "c", "partitionUpperBound": true})),
            Err(ConfigError::WrongType { ref path, .. }) if path == "$.source.partitionSettings.partitionUpperBound"
        ));
        let e = range(json!({"partitionColumnName": "c", "partitionLowerBound": 10, "partitionUpperBound": 2})).unwrap_err();
        assert!(invalid_at(e, "$.source.partitionSettings.partitionUpperBound").contains("swap"));
        let e = range(
            json!({"partitionColumnName": "c", "partitionLowerBound": "2024-02-01",
            "partitionUpperBound": "2024-01-31 23:00:00"}),
        )
        .unwrap_err();
        invalid_at(e, "$.source.partitionSettings.partitionUpperBound");
        let e = range(json!({"partitionColumnName": "c", "partitionLowerBound": 1, "partitionUpperBound": "2024-01-01"})).unwrap_err();
        assert!(
            invalid_at(e, "$.source.partitionSettings.partitionUpperBound")
                .contains("both be numbers")
        );
        let e = range(json!({"partitionColumnName": " "})).unwrap_err();
        invalid_at(e, "$.source.partitionSettings.partitionColumnName");
    }

    #[test]
    fn number_and_date_shapes() {
        for ok in ["0", "-1", "+2", "3.", ".5", "1.5e-3", "12E+4", "007"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "-", ".", "1e", "1.2.3", "1,5", " 1", "inf", "1_000"] {
            assert!(!is_number(bad), "{bad}");
        }
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2024-01-01 00:00:00.5").is_some());
        assert!(parse_date("2024-01-01 00:00:00.").is_none());
        assert!(parse_date("2024-01-01 00:00:00.1234567890").is_none());
    }

    #[test]
    fn ignored_properties_are_warned_about_once() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let v = json!({"type": "ImpalaSource", "fetchSize": 5,
            "partitionSettings": {"partitionColumnName": "id"}});
        let node = Node::at(&v, Path::new("p.json"), "$.source");
        let src = CopySource {
            kind: "ImpalaSource".into(),
            query: None,
            raw: RawProperties::from_node(Some(&node), node.origin()),
        };
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(parse_hive_source(&src).unwrap().partitioning, None);
            assert!(capture.0.lock().unwrap().is_empty(), "parsing is quiet");
            warn_ignored_hive_source_keys(&src);
        });
        let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("$.source.fetchSize is ignored"), "{logs}");
        assert!(
            logs.contains(
                "$.source.partitionSettings is ignored because partitionOption is not DynamicRange"
            ),
            "{logs}"
        );
    }
}
