//! The SQL text a HiveServer2 source sends: identifier quoting, the base `SELECT` for a
//! table or query, and the scan statement for one partition (projection, value range, limit).
//!
//! Impala and Spark both quote identifiers with backticks. Spark escapes a backtick inside
//! by doubling it (`` `a``b` `` is the column ``a`b``); Impala's scanner has no doubling (a
//! quoted identifier is `` `(\\.|[^\\`])*` ``, apache/impala `sql-scanner.flex`), so
//! [`check_impala_identifier`] refuses backticks and backslashes in Impala names rather than
//! guess at an escape. A user query is wrapped as a derived table, `(<query>) q`, only when something
//! has to be added to it; otherwise it runs exactly as written. The wrapper puts the query
//! on lines of its own, so a trailing `-- comment` stays a comment.
//!
//! # Queries that cannot be wrapped
//! Not every statement can be a derived table. [`can_wrap`] decides up front from the first
//! keyword (after comments): a query starting with `SELECT`, `WITH`, `FROM` (Hive's and
//! Spark's FROM-first form), `TABLE` (Spark) or `(` is tried wrapped; anything else — `SHOW`,
//! `DESCRIBE`/`DESC`, `EXPLAIN`, `SET`, `VALUES`, `USE`, … — never is. `VALUES` is never
//! wrapped because servers disagree on `(VALUES …) q`; a `WITH` is tried, because Spark and
//! Impala take a CTE inside a derived table although Hive does not. A query that is tried
//! and refused (a trailing `ORDER BY … LIMIT` on some servers, a `WITH` on Hive, a join
//! selecting two columns of one name on Impala and Hive) falls back to running as written;
//! see [`crate::connectors::hive::source`].

use super::options::ReadTarget;
use crate::connectors::{CompareOp, Literal, Predicate};

/// Quotes one identifier: `` `name` ``, with backticks inside doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Why `name` cannot be quoted for Impala, if it cannot: a backtick or backslash in it
/// would end or escape the quoted identifier.
pub fn check_impala_identifier(name: &str) -> Result<(), &'static str> {
    if name.contains(['`', '\\']) {
        Err("contains a backtick or a backslash, which Impala cannot quote")
    } else {
        Ok(())
    }
}

/// `schema.table` (or `table`) quoted part by part.
pub fn quote_table(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(table)),
        None => quote_ident(table),
    }
}

/// The statement that reads everything the target names.
pub fn base_select(target: &ReadTarget) -> String {
    match target {
        ReadTarget::Table { schema, table } => {
            format!("SELECT * FROM {}", quote_table(schema.as_deref(), table))
        }
        ReadTarget::Query(q) => strip_terminator(q).to_string(),
    }
}

/// The first keyword of `query`, upper-cased, after whitespace and `--` / `/* */`
/// comments; `"("` when it starts with a parenthesis; empty when there is none.
pub fn first_keyword(query: &str) -> String {
    let mut rest = query;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    if rest.starts_with('(') {
        return "(".to_string();
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Whether a user query may be tried as a derived table (module docs): it starts with
/// `SELECT`, `WITH`, `FROM`, `TABLE` or `(`.
pub fn can_wrap(query: &str) -> bool {
    matches!(
        first_keyword(query).as_str(),
        "SELECT" | "WITH" | "FROM" | "TABLE" | "("
    )
}

/// `SELECT `a`, `b`, … FROM <table>`: every column by name (Impala before 4.2 leaves
/// complex columns out of `SELECT *`).
pub fn select_columns_sql(schema: Option<&str>, table: &str, columns: &[&str]) -> String {
    let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    format!(
        "SELECT {} FROM {}",
        list.join(", "),
        quote_table(schema, table)
    )
}

/// A query without trailing whitespace and `;`, so it can be wrapped.
fn strip_terminator(query: &str) -> &str {
    query.trim().trim_end_matches(';').trim_end()
}

/// `base` as a derived table `q`. The line breaks keep a trailing `--` comment in a user's
/// query from swallowing the closing parenthesis.
fn derived(base: &str) -> String {
    format!("(\n{base}\n) q")
}

/// One value range of a partitioned read: `lower <= column < upper`, open ends unbounded,
/// plus the NULLs of `column` when `with_nulls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeFilter<'a> {
    /// Column.
    pub column: &'a str,
    /// Inclusive lower bound, a SQL literal.
    pub lower: Option<&'a str>,
    /// Exclusive upper bound, a SQL literal.
    pub upper: Option<&'a str>,
    /// Also read the NULLs.
    pub with_nulls: bool,
}

impl RangeFilter<'_> {
    /// The `WHERE` condition, or `None` when the range is unbounded and takes NULLs.
    fn condition(&self) -> Option<String> {
        let c = quote_ident(self.column);
        let mut parts = Vec::new();
        if let Some(l) = self.lower {
            parts.push(format!("{c} >= {l}"));
        }
        match (self.lower, self.upper) {
            // The first range takes whatever no other range does: values below the first
            // cut, and values no comparison holds for (Impala's NaN compares false with
            // everything; Spark sorts it last, into the last range).
            (None, Some(u)) => parts.push(format!("NOT ({c} >= {u})")),
            (Some(_), Some(u)) => parts.push(format!("{c} < {u}")),
            _ => {}
        }
        match (parts.is_empty(), self.with_nulls) {
            (true, true) => None,
            (true, false) => Some(format!("{c} IS NOT NULL")),
            (false, false) => Some(parts.join(" AND ")),
            (false, true) => Some(format!("({}) OR {c} IS NULL", parts.join(" AND "))),
        }
    }
}

/// The statement one partition runs: `base`, with only `columns` (all when `None`), only the
/// rows in `range` that also pass every condition in `filters` (from [`predicate_sql`]), and
/// at most `limit` rows.
pub fn scan_sql(
    base: &str,
    columns: Option<&[&str]>,
    range: Option<&RangeFilter<'_>>,
    filters: &[String],
    limit: Option<usize>,
) -> String {
    let mut conditions: Vec<String> = range.and_then(RangeFilter::condition).into_iter().collect();
    conditions.extend(filters.iter().cloned());
    if columns.is_none() && conditions.is_empty() && limit.is_none() {
        return base.to_string();
    }
    let list = match columns {
        Some(cols) if !cols.is_empty() => cols
            .iter()
            .map(|c| format!("q.{}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", "),
        // No columns wanted (e.g. `count(*)`): one constant keeps the row count.
        Some(_) => "1 AS `_quiver_row`".to_string(),
        None => "*".to_string(),
    };
    let mut sql = format!("SELECT {list} FROM {}", derived(base));
    if !conditions.is_empty() {
        let parenthesised: Vec<String> = conditions.iter().map(|c| format!("({c})")).collect();
        sql.push_str(" WHERE ");
        sql.push_str(&parenthesised.join(" AND "));
    }
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    sql
}

/// A filter DataFusion offers, as a condition Impala and Spark evaluate exactly as DataFusion
/// does, or `None` when it cannot be written safely. Strings with quotes or backslashes
/// (escaped differently by the two dialects), floats (Impala's NaN comparisons differ) and,
/// when `exact_timestamps` is false (Impala keeps nanoseconds quiver truncates), timestamps
/// are left to DataFusion.
pub fn predicate_sql(predicate: &Predicate, exact_timestamps: bool) -> Option<String> {
    match predicate {
        Predicate::IsNull(c) => Some(format!("{} IS NULL", quote_ident(c))),
        Predicate::IsNotNull(c) => Some(format!("{} IS NOT NULL", quote_ident(c))),
        Predicate::Compare { column, op, value } => {
            let literal = literal_sql(value, exact_timestamps)?;
            let op = match op {
                CompareOp::Eq => "=",
                CompareOp::NotEq => "<>",
                CompareOp::Lt => "<",
                CompareOp::LtEq => "<=",
                CompareOp::Gt => ">",
                CompareOp::GtEq => ">=",
            };
            Some(format!("{} {op} {literal}", quote_ident(column)))
        }
    }
}

fn literal_sql(value: &Literal, exact_timestamps: bool) -> Option<String> {
    match value {
        Literal::Boolean(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        Literal::Int64(i) => Some(i.to_string()),
        Literal::Float64(_) => None,
        Literal::Utf8(s) if !s.contains(['\'', '\\']) => Some(format!("'{s}'")),
        Literal::Utf8(_) => None,
        Literal::TimestampMicros(us, tz) => {
            let utc = tz
                .as_deref()
                .is_none_or(|z| matches!(z, "UTC" | "+00:00" | "Z"));
            if !exact_timestamps || !utc {
                return None;
            }
            let t = chrono::DateTime::from_timestamp_micros(*us)?;
            Some(format!(
                "CAST('{}' AS TIMESTAMP)",
                t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")
            ))
        }
        Literal::Date32(days) => {
            let d = chrono::DateTime::from_timestamp(i64::from(*days) * 86_400, 0)?;
            Some(format!(
                "CAST('{}' AS DATE)",
                d.date_naive().format("%Y-%m-%d")
            ))
        }
    }
}

/// A statement with the same result columns as `base` and no rows, to learn the schema.
pub fn schema_probe_sql(base: &str) -> String {
    format!("SELECT * FROM {} LIMIT 0", derived(base))
}

/// `min` and `max` of `column` over `base`, both cast to text.
pub fn bounds_sql(base: &str, column: &str) -> String {
    let c = quote_ident(column);
    format!(
        "SELECT CAST(MIN(q.{c}) AS STRING), CAST(MAX(q.{c}) AS STRING) FROM {}",
        derived(base)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_backticked_and_escaped() {
        assert_eq!(quote_ident("a"), "`a`");
        assert_eq!(quote_ident("we`ird"), "`we``ird`");
        assert_eq!(quote_table(Some("db"), "t x"), "`db`.`t x`");
        assert_eq!(quote_table(None, "t"), "`t`");
    }

    #[test]
    fn a_plain_read_runs_the_query_as_written() {
        let q = ReadTarget::Query("select a from t order by a;  ".into());
        let base = base_select(&q);
        assert_eq!(base, "select a from t order by a");
        assert_eq!(scan_sql(&base, None, None, &[], None), base);
        let t = ReadTarget::Table {
            schema: Some("s".into()),
            table: "t".into(),
        };
        assert_eq!(base_select(&t), "SELECT * FROM `s`.`t`");
    }

    #[test]
    fn projection_range_and_limit_wrap_the_base() {
        let range = RangeFilter {
            column: "id",
            lower: Some("10"),
            upper: Some("20"),
            with_nulls: false,
        };
        assert_eq!(
            scan_sql(
                "SELECT * FROM `t`",
                Some(&["id", "n`m"]),
                Some(&range),
                &[],
                Some(5)
            ),
            "SELECT q.`id`, q.`n``m` FROM (\nSELECT * FROM `t`\n) q WHERE (`id` >= 10 AND `id` < 20) LIMIT 5"
        );
        let first = RangeFilter {
            lower: None,
            with_nulls: true,
            ..range.clone()
        };
        assert_eq!(
            scan_sql("B", None, Some(&first), &[], None),
            "SELECT * FROM (\nB\n) q WHERE ((NOT (`id` >= 20)) OR `id` IS NULL)"
        );
        let all = RangeFilter {
            lower: None,
            upper: None,
            with_nulls: true,
            ..range.clone()
        };
        assert_eq!(scan_sql("B", None, Some(&all), &[], None), "B");
        assert_eq!(
            scan_sql("B", Some(&[]), None, &[], None),
            "SELECT 1 AS `_quiver_row` FROM (\nB\n) q"
        );
    }

    #[test]
    fn probes() {
        assert_eq!(schema_probe_sql("B"), "SELECT * FROM (\nB\n) q LIMIT 0");
        assert_eq!(
            bounds_sql("B", "d"),
            "SELECT CAST(MIN(q.`d`) AS STRING), CAST(MAX(q.`d`) AS STRING) FROM (\nB\n) q"
        );
    }

    #[test]
    fn filters_are_pushed_only_when_both_dialects_agree_with_datafusion() {
        let cmp = |op, value| Predicate::Compare {
            column: "c".into(),
            op,
            value,
        };
        assert_eq!(
            predicate_sql(&cmp(CompareOp::GtEq, Literal::Int64(-5)), true).as_deref(),
            Some("`c` >= -5")
        );
        assert_eq!(
            predicate_sql(&cmp(CompareOp::Eq, Literal::Utf8("ab c".into())), true).as_deref(),
            Some("`c` = 'ab c'")
        );
        assert_eq!(
            predicate_sql(&cmp(CompareOp::Eq, Literal::Utf8("it's".into())), true),
            None
        );
        assert_eq!(
            predicate_sql(&cmp(CompareOp::Eq, Literal::Utf8("a\\b".into())), true),
            None
        );
        assert_eq!(
            predicate_sql(&cmp(CompareOp::Lt, Literal::Float64(1.5)), true),
            None
        );
        let ts = cmp(
            CompareOp::Lt,
            Literal::TimestampMicros(1_500_000, Some("UTC".into())),
        );
        assert_eq!(
            predicate_sql(&ts, true).as_deref(),
            Some("`c` < CAST('1970-01-01 00:00:01.500000' AS TIMESTAMP)")
        );
        assert_eq!(predicate_sql(&ts, false), None, "Impala keeps nanoseconds");
        let other_zone = cmp(
            CompareOp::Lt,
            Literal::TimestampMicros(0, Some("+02:00".into())),
        );
        assert_eq!(predicate_sql(&other_zone, true), None);
        assert_eq!(
            predicate_sql(&cmp(CompareOp::NotEq, Literal::Date32(1)), true).as_deref(),
            Some("`c` <> CAST('1970-01-02' AS DATE)")
        );
        assert_eq!(
            predicate_sql(&Predicate::IsNull("n`x".into()), true).as_deref(),
            Some("`n``x` IS NULL")
        );
        assert_eq!(
            scan_sql(
                "B",
                None,
                None,
                &["`a` = 1".into(), "`b` IS NULL".into()],
                None
            ),
            "SELECT * FROM (\nB\n) q WHERE (`a` = 1) AND (`b` IS NULL)"
        );
    }

    #[test]
    fn statements_that_cannot_be_a_derived_table_are_known_up_front() {
        for q in [
            "SELECT 1",
            "  select * from t",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "-- note\nSELECT 1",
            "/* hint */ select 1",
            "(SELECT 1) UNION ALL (SELECT 2)",
            "FROM t SELECT a",
            "table t",
        ] {
            assert!(can_wrap(q), "{q}");
        }
        for q in [
            "SHOW TABLES",
            "show databases",
            "DESCRIBE t",
            "DESC t",
            "EXPLAIN SELECT 1",
            "SET",
            "VALUES (1, 2)",
            "-- c\n  values (1)",
            "USE db",
            "",
            "/* unterminated",
        ] {
            assert!(!can_wrap(q), "{q}");
        }
        assert_eq!(first_keyword("/* a */ -- b\n  show tables"), "SHOW");
        assert_eq!(
            select_columns_sql(Some("db"), "t", &["id", "c`x"]),
            "SELECT `id`, `c``x` FROM `db`.`t`"
        );
    }

    #[test]
    fn impala_names_with_backticks_or_backslashes_are_refused() {
        assert!(check_impala_identifier("sales_2024").is_ok());
        assert!(check_impala_identifier("with space").is_ok());
        assert!(check_impala_identifier("a`b").is_err());
        assert!(check_impala_identifier("a\\b").is_err());
    }
}
