//! Version 1.0's SQL-92 queries. ADF's legacy Cassandra connector took a `query` in SQL-92 as
//! well as CQL ("specify keyspace name.table name to represent the table you want to query").
//! quiver runs such a query in DataFusion over a token-range read of the table, with
//! partition-key equality pushed down to the cluster; CQL still runs on the cluster as written.
//!
//! The planner parses the query ([`crate::engine::names`]); a 1.0 query that parses as SQL and
//! has none of CQL's own constructs is SQL-92. Those constructs are [`CQL_ONLY`]: a query
//! using one is CQL even where SQL would parse it, since DataFusion could not run it.

/// Words and calls (lower case, blanks collapsed) that only CQL has.
pub const CQL_ONLY: &[&str] = &[
    "token(",
    "writetime(",
    "maxwritetime(",
    "ttl(",
    "allow filtering",
    "per partition limit",
    "select json",
];

/// Whether `query` uses a construct of CQL's own ([`CQL_ONLY`]), outside string literals.
pub fn is_cql_only(query: &str) -> bool {
    let mut text = String::with_capacity(query.len());
    let mut in_string = false;
    let mut last_blank = true;
    for c in query.chars() {
        if c == '\'' {
            in_string = !in_string;
            continue;
        }
        if in_string {
            continue;
        }
        if c.is_whitespace() {
            if !last_blank {
                text.push(' ');
            }
            last_blank = true;
        } else {
            text.extend(c.to_lowercase());
            last_blank = false;
        }
    }
    // `token (`, `ttl (`: a call may have blanks before its parenthesis.
    let text = text.replace(" (", "(");
    CQL_ONLY.iter().any(|word| text.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cql_constructs_are_found_outside_strings() {
        for q in [
            "SELECT * FROM ks.t WHERE TOKEN (id) > 0",
            "select writetime(v) from ks.t",
            "SELECT * FROM ks.t WHERE v = 1 ALLOW\n  FILTERING",
            "SELECT JSON * FROM ks.t",
            "SELECT * FROM ks.t PER PARTITION LIMIT 1",
        ] {
            assert!(is_cql_only(q), "{q}");
        }
        for q in [
            "SELECT id, v FROM ks.t WHERE id = 3",
            "SELECT * FROM ks.t WHERE name = 'token(x) allow filtering'",
            "SELECT count(*) AS tokens FROM ks.t GROUP BY v",
            // DISTINCT is SQL too, and DataFusion takes it on any column (CQL: key only).
            "SELECT DISTINCT region FROM ks.t",
        ] {
            assert!(!is_cql_only(q), "{q}");
        }
    }
}
