//! The tables a SQL text names, found by parsing it with DataFusion's parser (no catalog, no
//! I/O). The planner uses it to route a source's query: a source whose query may be SQL over
//! its own tables ([`crate::connectors::entries::SourceEntry::sql_table`]) gets the names.

use datafusion::common::TableReference;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::resolve::resolve_table_references;

use crate::connectors::entries::SqlTableName;

/// The tables `sql` reads, in name order, or `None` when it is not one SQL query
/// (it does not parse, holds several statements, or is not a `SELECT`-like query). Unquoted
/// names are in lower case, as DataFusion resolves them; common table expressions are not
/// tables.
pub fn tables_named(sql: &str) -> Option<Vec<SqlTableName>> {
    let mut statements = DFParser::parse_sql(sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let statement = statements.pop_front()?;
    let Statement::Statement(inner) = &statement else {
        return None;
    };
    if !matches!(
        **inner,
        datafusion::sql::sqlparser::ast::Statement::Query(_)
    ) {
        return None;
    }
    let (tables, _ctes) = resolve_table_references(&statement, true).ok()?;
    tables
        .into_iter()
        .map(|t| match t {
            TableReference::Bare { table } => Some(SqlTableName {
                schema: None,
                table: table.to_string(),
            }),
            TableReference::Partial { schema, table } => Some(SqlTableName {
                schema: Some(schema.to_string()),
                table: table.to_string(),
            }),
            // catalog.schema.table names nothing a source has.
            TableReference::Full { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(schema: Option<&str>, table: &str) -> SqlTableName {
        SqlTableName {
            schema: schema.map(str::to_string),
            table: table.to_string(),
        }
    }

    #[test]
    fn names_of_one_query() {
        assert_eq!(
            tables_named("SELECT a FROM Shop.Orders WHERE id = 3").unwrap(),
            vec![name(Some("shop"), "orders")]
        );
        assert_eq!(
            tables_named(r#"select * from "Shop"."Big ""T""""#).unwrap(),
            vec![name(Some("Shop"), "Big \"T\"")]
        );
        let mut join = tables_named("SELECT * FROM ks.a JOIN ks.b ON a.k = b.k").unwrap();
        join.sort_by(|x, y| x.table.cmp(&y.table));
        assert_eq!(join, vec![name(Some("ks"), "a"), name(Some("ks"), "b")]);
        assert_eq!(
            tables_named("WITH x AS (SELECT * FROM t) SELECT * FROM x").unwrap(),
            vec![name(None, "t")]
        );
        assert_eq!(tables_named("SELECT 1").unwrap(), vec![]);
    }

    #[test]
    fn not_one_query() {
        for sql in [
            "SELECT * FROM ks.t WHERE a = 1 ALLOW FILTERING",
            "SELECT 1; SELECT 2",
            "INSERT INTO ks.t VALUES (1)",
            "CREATE TABLE t (a int)",
            "SELECT * FROM c.s.t",
            "SELECT",
        ] {
            assert_eq!(tables_named(sql), None, "{sql}");
        }
    }

    #[test]
    fn a_name_prints_as_the_sql_that_names_it() {
        for original in [name(Some("Ks"), "a\"b"), name(None, "t")] {
            let sql = format!("SELECT * FROM {original}");
            assert_eq!(tables_named(&sql).unwrap(), vec![original]);
        }
    }
}
