//! The Flight SQL metadata commands: catalogs, schemas, tables (with and without their
//! schemas), table types and SQL info.
//!
//! quiver serves one catalog, `quiver`, with one schema, `factory`, holding a table per
//! readable dataset (see [`crate::engine::catalog`]). Listing does no I/O; `GetTables` with
//! `include_schema` fetches the schema of each table it lists (its source is contacted once,
//! then cached), and fails naming the table whose schema cannot be had.

use arrow::array::{RecordBatch, StringArray};
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
    let keep_schema = match cmd.db_schema_filter_pattern.as_deref() {
        None => true,
        Some(p) => like(p, &[SCHEMA.to_string()])?.first().copied() == Some(true),
    };
    let keep_type = cmd.table_types.is_empty() || cmd.table_types.iter().any(|t| t == TABLE_TYPE);
    let pattern = cmd.table_name_filter_pattern.clone();
    let include_schema = cmd.include_schema;
    let mut b: GetTablesBuilder = cmd.into_builder();
    if keep_catalog && keep_schema && keep_type {
        let mut names = engine.table_names();
        names.sort();
        // Filtered before any schema is fetched, so only the tables listed contact sources.
        if let Some(p) = pattern.as_deref() {
            let keep = like(p, &names)?;
            names = names
                .into_iter()
                .zip(keep)
                .filter_map(|(n, k)| k.then_some(n))
                .collect();
        }
        for name in names {
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

/// Which of `names` match the SQL `LIKE` `pattern` (`%`, `_`, `\` escapes), with Arrow's
/// kernel, as Flight SQL's filter patterns mean.
pub fn like(pattern: &str, names: &[String]) -> Result<Vec<bool>, Status> {
    let values = StringArray::from_iter_values(names);
    let pattern = StringArray::new_scalar(pattern);
    let matched = arrow::compute::kernels::comparison::like(&values, &pattern)
        .map_err(|e| Status::invalid_argument(format!("the filter pattern: {e}")))?;
    Ok(matched.iter().map(|m| m == Some(true)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let names: Vec<String> = [
            "factory",
            "fctory",
            "SalesOrders2",
            "Orders",
            "my_t",
            "myxt",
        ]
        .map(String::from)
        .to_vec();
        let m = |p: &str| {
            like(p, &names)
                .unwrap()
                .into_iter()
                .zip(&names)
                .filter_map(|(k, n)| k.then_some(n.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(m("%").len(), names.len());
        assert_eq!(m("fact%"), ["factory"]);
        assert_eq!(m("f_ctory"), ["factory"]);
        assert_eq!(m("%Orders%"), ["SalesOrders2", "Orders"]);
        assert_eq!(m("orders"), Vec::<&str>::new());
        assert_eq!(m("my\\_t"), ["my_t"]);
        assert_eq!(m("my_t"), ["my_t", "myxt"]);
        // A pathological pattern is answered at once (matching nothing, or refused as too
        // large), not with a stack overflow or hours of backtracking.
        let evil = format!("{}x", "%".repeat(20_000));
        match like(&evil, &names) {
            Ok(matched) => assert!(matched.iter().all(|m| !m)),
            Err(status) => assert_eq!(status.code(), tonic::Code::InvalidArgument),
        }
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
