//! The Flight SQL metadata commands: catalogs, schemas, tables (with and without their
//! schemas), table types and SQL info.
//!
//! quiver serves one catalog, `quiver`, with one schema, `factory`, holding a table per
//! readable dataset (see [`crate::engine::catalog`]). Listing does no I/O; `GetTables` with
//! `include_schema` fetches the schema of each table it lists (its source is contacted once,
//! then cached), and fails naming the table whose schema cannot be had.

use arrow::array::RecordBatch;
use arrow_flight::sql::metadata::{
    GetCatalogsBuilder, GetDbSchemasBuilder, GetTablesBuilder, SqlInfoData, SqlInfoDataBuilder,
};
use arrow_flight::sql::{
    CommandGetCatalogs, CommandGetDbSchemas, CommandGetTableTypes, CommandGetTables, SqlInfo,
    SqlNullOrdering, SqlSupportedTransaction,
};
use tonic::Status;

use super::stream::engine_status;
use crate::engine::{CATALOG, SCHEMA, SqlEngine};

/// The only table type.
pub const TABLE_TYPE: &str = "TABLE";

/// The server's SQL info, answered by `GetSqlInfo`.
pub fn sql_info() -> SqlInfoData {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "quiver");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, arrow::ARROW_VERSION);
    b.append(SqlInfo::FlightSqlServerReadOnly, true);
    b.append(SqlInfo::FlightSqlServerSql, true);
    b.append(SqlInfo::FlightSqlServerSubstrait, false);
    b.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    b.append(SqlInfo::FlightSqlServerCancel, false);
    b.append(SqlInfo::SqlDdlCatalog, false);
    b.append(SqlInfo::SqlDdlSchema, false);
    b.append(SqlInfo::SqlDdlTable, false);
    b.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    b.append(SqlInfo::SqlAllTablesAreSelectable, true);
    b.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedHigh as i32,
    );
    b.build().expect("a fixed list of valid SQL info values")
}

fn arrow_status(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("building the metadata result: {e}"))
}

/// `GetCatalogs`.
pub fn catalogs(cmd: CommandGetCatalogs) -> Result<RecordBatch, Status> {
    let mut b: GetCatalogsBuilder = cmd.into_builder();
    b.append(CATALOG);
    b.build().map_err(arrow_status)
}

/// `GetDbSchemas` (the builder applies the filters).
pub fn db_schemas(cmd: CommandGetDbSchemas) -> Result<RecordBatch, Status> {
    let mut b: GetDbSchemasBuilder = cmd.into_builder();
    b.append(CATALOG, SCHEMA);
    b.build().map_err(arrow_status)
}

/// `GetTableTypes`.
pub fn table_types(cmd: CommandGetTableTypes) -> Result<RecordBatch, Status> {
    let mut b = cmd.into_builder();
    b.append(TABLE_TYPE);
    b.build().map_err(arrow_status)
}

/// `GetTables`: the tables the filters keep, with their schemas if asked.
pub async fn tables(engine: &SqlEngine, cmd: CommandGetTables) -> Result<RecordBatch, Status> {
    let keep_catalog = cmd.catalog.as_deref().is_none_or(|c| c == CATALOG);
    let keep_schema = cmd
        .db_schema_filter_pattern
        .as_deref()
        .is_none_or(|p| like(p, SCHEMA));
    let keep_type = cmd.table_types.is_empty() || cmd.table_types.iter().any(|t| t == TABLE_TYPE);
    let pattern = cmd.table_name_filter_pattern.clone();
    let include_schema = cmd.include_schema;
    let mut b: GetTablesBuilder = cmd.into_builder();
    if keep_catalog && keep_schema && keep_type {
        let mut names = engine.table_names();
        names.sort();
        for name in names
            .into_iter()
            .filter(|n| pattern.as_deref().is_none_or(|p| like(p, n)))
        {
            let schema = if include_schema {
                engine
                    .table_schema(&format!("\"{}\"", name.replace('"', "\"\"")))
                    .await
                    .map_err(|e| engine_status(&e))?
            } else {
                std::sync::Arc::new(arrow::datatypes::Schema::empty())
            };
            b.append(CATALOG, SCHEMA, &name, TABLE_TYPE, &schema)
                .map_err(arrow_status)?;
        }
    }
    b.build().map_err(arrow_status)
}

/// SQL `LIKE` as Flight SQL's filter patterns use it: `%` any run, `_` any one character,
/// case-sensitive.
pub fn like(pattern: &str, s: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some(('_', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    go(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("%", ""));
        assert!(like("fact%", "factory"));
        assert!(like("f_ctory", "factory"));
        assert!(!like("f_ctory", "fctory"));
        assert!(like("%Orders%", "SalesOrders2"));
        assert!(!like("orders", "Orders"));
        assert!(like("Orders", "Orders"));
    }

    #[test]
    fn sql_info_names_the_server() {
        let info = sql_info();
        let batch = info
            .record_batch([SqlInfo::FlightSqlServerName as u32])
            .unwrap();
        assert_eq!(batch.num_rows(), 1);
    }
}
