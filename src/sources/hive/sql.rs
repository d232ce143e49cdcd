//! The SQL text a HiveServer2 source sends: identifier quoting, the base `SELECT` for a
//! table or query, and the scan statement for one partition (projection, value range, limit).
//!
//! Impala and Spark both quote identifiers with backticks and escape a backtick by doubling
//! it (Impala: "identifiers … enclosed in backticks"; Spark SQL: `` `a``b` `` is the column
//! ``a`b``). A user query is wrapped as a derived table, `(<query>) q`, only when something
//! has to be added to it; otherwise it runs exactly as written.

use super::options::ReadTarget;

/// Quotes one identifier: `` `name` ``, with backticks inside doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
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

/// A query without trailing whitespace and `;`, so it can be wrapped.
fn strip_terminator(query: &str) -> &str {
    query.trim().trim_end_matches(';').trim_end()
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
        if let Some(u) = self.upper {
            parts.push(format!("{c} < {u}"));
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
/// rows in `range`, and at most `limit` rows.
pub fn scan_sql(
    base: &str,
    columns: Option<&[&str]>,
    range: Option<&RangeFilter<'_>>,
    limit: Option<usize>,
) -> String {
    let condition = range.and_then(RangeFilter::condition);
    if columns.is_none() && condition.is_none() && limit.is_none() {
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
    let mut sql = format!("SELECT {list} FROM ({base}) q");
    if let Some(c) = condition {
        sql.push_str(" WHERE ");
        sql.push_str(&c);
    }
    if let Some(n) = limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    sql
}

/// A statement with the same result columns as `base` and no rows, to learn the schema.
pub fn schema_probe_sql(base: &str) -> String {
    format!("SELECT * FROM ({base}) q LIMIT 0")
}

/// `min` and `max` of `column` over `base`, both cast to text.
pub fn bounds_sql(base: &str, column: &str) -> String {
    let c = quote_ident(column);
    format!("SELECT CAST(MIN(q.{c}) AS STRING), CAST(MAX(q.{c}) AS STRING) FROM ({base}) q")
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
        assert_eq!(scan_sql(&base, None, None, None), base);
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
                Some(5)
            ),
            "SELECT q.`id`, q.`n``m` FROM (SELECT * FROM `t`) q WHERE `id` >= 10 AND `id` < 20 LIMIT 5"
        );
        let first = RangeFilter {
            lower: None,
            with_nulls: true,
            ..range.clone()
        };
        assert_eq!(
            scan_sql("B", None, Some(&first), None),
            "SELECT * FROM (B) q WHERE (`id` < 20) OR `id` IS NULL"
        );
        let all = RangeFilter {
            lower: None,
            upper: None,
            with_nulls: true,
            ..range.clone()
        };
        assert_eq!(scan_sql("B", None, Some(&all), None), "B");
        assert_eq!(
            scan_sql("B", Some(&[]), None, None),
            "SELECT 1 AS `_quiver_row` FROM (B) q"
        );
    }

    #[test]
    fn probes() {
        assert_eq!(schema_probe_sql("B"), "SELECT * FROM (B) q LIMIT 0");
        assert_eq!(
            bounds_sql("B", "d"),
            "SELECT CAST(MIN(q.`d`) AS STRING), CAST(MAX(q.`d`) AS STRING) FROM (B) q"
        );
    }
}
