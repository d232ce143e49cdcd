//! Describing a read: the session it runs in, its columns, and how it must run (see
//! "Describing a read" in [`super::source`]).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use serde::{Deserialize, Serialize};

use super::HiveError;
use super::client::Session;
use super::columns::{self, ColumnPlan};
use super::decode::{ColumnKind, ColumnSpec};
use super::options::{Flavor, HiveSourceConfig, ReadTarget};
use super::sql;
use crate::connectors::cleanup::CleanupTracker;

/// Spark's session time zone, set on every session so TIMESTAMP text is UTC (notes §2.4).
/// Sent with OpenSession: the Spark Thrift Server applies `set:hiveconf:` entries to the new
/// session's SQL conf, which saves a SET statement per session.
pub(super) const SPARK_TIME_ZONE: (&str, &str) = ("set:hiveconf:spark.sql.session.timeZone", "UTC");

/// What [`HiveSource::schema`] learned from the server.
#[derive(Debug, Clone)]
pub(super) struct Described {
    pub(super) plans: Vec<ColumnPlan>,
    pub(super) schema: SchemaRef,
    pub(super) read: ReadStatement,
}

/// How a read runs the target, as the description found it must.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ReadStatement {
    /// The statement read instead of the target's `SELECT * FROM t`: every column by name,
    /// for an Impala whose `SELECT *` leaves complex columns out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) select: Option<String>,
    /// The query runs exactly as written, never wrapped: nothing is pushed into it
    /// (projection, filters, ranges and limits are applied by quiver), because the server
    /// cannot take it as a derived table, or two of its columns share a name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) as_written: bool,
}

impl ReadStatement {
    pub(super) fn is_default(&self) -> bool {
        *self == ReadStatement::default()
    }

    /// The statement that reads everything.
    pub(super) fn base(&self, target: &ReadTarget) -> String {
        self.select
            .clone()
            .unwrap_or_else(|| sql::base_select(target))
    }
}

/// Ends a session whose work is done; a failure to close only leaves server-side state
/// behind, which the server's idle timeout reclaims, so it is logged, not returned.
pub(super) async fn close_quietly(session: Session) {
    let address = session.address().to_string();
    if let Err(e) = session.close().await {
        tracing::warn!(%address, error = %e, "HiveServer2: CloseSession failed");
    }
}

/// Impala's query option that makes `SELECT *` include ARRAY, MAP and STRUCT columns (added
/// in Impala 4.2 by IMPALA-9499; default false until Impala 5.0 made it true, IMPALA-15054).
/// Impala's OpenSession takes any key of its `configuration` that is not `impala.doas.user`
/// or `use:database` as a query option, and ignores (logs) one it does not know, so older
/// servers open the session all the same (apache/impala
/// `be/src/service/impala-hs2-server.cc`, `ImpalaServer::OpenSession`).
pub const IMPALA_EXPAND_COMPLEX_TYPES: (&str, &str) = ("EXPAND_COMPLEX_TYPES", "true");

pub(super) async fn open_session(
    config: &HiveSourceConfig,
    cleanup: &CleanupTracker,
) -> Result<Session, HiveError> {
    let mut connect = config.connect.clone();
    let (key, value) = match (config.connect.flavor, &config.target) {
        (Flavor::Spark, _) => SPARK_TIME_ZONE,
        // A table is read with every column DESCRIBE lists. A user query keeps the server's
        // own meaning of `*`: it runs as written.
        (Flavor::Impala, ReadTarget::Table { .. }) => IMPALA_EXPAND_COMPLEX_TYPES,
        (Flavor::Impala, ReadTarget::Query(_)) => return Session::open(&connect, cleanup).await,
    };
    connect
        .session_configuration
        .entry(key.to_string())
        .or_insert_with(|| value.to_string());
    Session::open(&connect, cleanup).await
}

/// The result columns of `statement` from its own metadata: ExecuteStatement, then
/// GetResultSetMetadata, then CloseOperation, which stops it; no row is fetched.
pub(super) async fn statement_schema(
    session: &mut Session,
    statement: &str,
) -> Result<super::tcli::TTableSchema, HiveError> {
    let mut op = session.execute(statement).await?;
    let metadata = session.result_schema(&mut op).await;
    session.close_operation(op).await?;
    metadata
}

/// Whether `e` is the server refusing or failing a statement (not the connection failing).
pub(super) fn refused(e: &HiveError) -> bool {
    matches!(
        e,
        HiveError::Query { .. } | HiveError::OperationState { .. }
    )
}

/// The server's own words for a refused statement.
pub(super) fn server_words(e: &HiveError) -> String {
    match e {
        HiveError::Query { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Describes the read: its columns and how the read must run (see the module docs).
///
/// 1. Declared types: Spark's `DESCRIBE QUERY` (a server without it — Spark before 3.0,
///    SharkServer, Hive — refuses it; the read goes on with the result metadata, and
///    TIMESTAMP columns carry a note that their kind is unknown); Impala's `DESCRIBE` of a
///    table (ARRAY, MAP and STRUCT, which the metadata calls STRING).
/// 2. The result metadata: of the schema probe `SELECT * FROM (q) q LIMIT 0`, or, when the
///    query cannot be wrapped ([`sql::can_wrap`]) or the server refuses the probe, of the
///    query itself, which the read then runs as written.
/// 3. Impala tables: the columns of the result must be those DESCRIBE lists. Complex columns
///    left out of `SELECT *` are then selected by name; what still cannot be read is an
///    error naming the columns.
/// 4. Duplicate column names are renamed ([`columns::rename_duplicates`]) and the query
///    runs as written.
pub(super) async fn describe_with(
    session: &mut Session,
    config: &HiveSourceConfig,
) -> Result<Described, HiveError> {
    let base = sql::base_select(&config.target);
    let flavor = config.connect.flavor;
    let wrappable = match &config.target {
        ReadTarget::Table { .. } => true,
        ReadTarget::Query(q) => sql::can_wrap(q),
    };
    let mut read = ReadStatement::default();
    // Why Spark's TIMESTAMP kinds are unknown, when they are.
    let mut undeclared = None;
    let declared = match (flavor, &config.target) {
        (Flavor::Spark, _) if !wrappable => {
            undeclared = Some("DESCRIBE QUERY does not apply to this statement".to_string());
            None
        }
        (Flavor::Spark, _) => {
            match declared_types(session, &format!("DESCRIBE QUERY {base}")).await {
                Ok(types) => Some(types),
                // Spark before 3.0, SharkServer and plain Hive have no DESCRIBE QUERY.
                Err(e) if refused(&e) => {
                    tracing::info!(
                        address = %session.address(),
                        server_message = %server_words(&e),
                        "HiveServer2: DESCRIBE QUERY failed (Spark before 3.0, SharkServer and \
                         Hive do not have it); the schema comes from the result metadata, \
                         and TIMESTAMP columns are read as TimestampType"
                    );
                    undeclared = Some("DESCRIBE QUERY unavailable".to_string());
                    None
                }
                Err(e) => return Err(e),
            }
        }
        // Impala reports ARRAY, MAP and STRUCT as STRING in the result metadata; its DESCRIBE
        // of a table names them. A query has no DESCRIBE, and its complex columns stay STRING.
        (Flavor::Impala, ReadTarget::Table { schema, table }) => {
            let describe = format!("DESCRIBE {}", sql::quote_table(schema.as_deref(), table));
            match declared_types(session, &describe).await {
                Ok(types) => Some(types),
                // The server refused the DESCRIBE (missing privileges): the result metadata
                // alone still plans every column it returns.
                Err(e) if refused(&e) => {
                    tracing::warn!(
                        address = %session.address(),
                        server_message = %server_words(&e),
                        "Impala: DESCRIBE failed; the schema comes from the result metadata \
                         alone, so ARRAY, MAP and STRUCT columns read as STRING and columns \
                         SELECT * leaves out cannot be noticed"
                    );
                    None
                }
                Err(e) => return Err(e),
            }
        }
        (Flavor::Impala, ReadTarget::Query(_)) => None,
    };
    let mut metadata = if wrappable {
        match statement_schema(session, &sql::schema_probe_sql(&base)).await {
            Ok(m) => m,
            // A query the server will not take as a derived table: it runs as written.
            Err(e) if refused(&e) && matches!(config.target, ReadTarget::Query(_)) => {
                tracing::info!(
                    address = %session.address(),
                    server_message = %server_words(&e),
                    "HiveServer2: the server refused the query as a derived table; its schema \
                     comes from running it as written, and it is read as written"
                );
                read.as_written = true;
                statement_schema(session, &base).await?
            }
            Err(e) => return Err(e),
        }
    } else {
        read.as_written = true;
        statement_schema(session, &base).await?
    };
    if let (Some(described), ReadTarget::Table { schema, table }) = (&declared, &config.target)
        && flavor == Flavor::Impala
    {
        let table_sql = sql::quote_table(schema.as_deref(), table);
        match check_impala_columns(described, &metadata) {
            Ok(()) => {}
            Err(ImpalaColumns::LeftOut(left_out)) => {
                let names: Vec<&str> = described.iter().map(|(n, _)| n.as_str()).collect();
                let select = sql::select_columns_sql(schema.as_deref(), table, &names);
                let list = column_list(&left_out);
                tracing::info!(
                    address = %session.address(),
                    columns = %list,
                    "Impala: SELECT * leaves complex columns out (EXPAND_COMPLEX_TYPES is not \
                     honoured: Impala before 4.2); selecting every column by name"
                );
                let probe = format!("{select} LIMIT 0");
                metadata = match statement_schema(session, &probe).await {
                    Ok(m) => m,
                    Err(e) if refused(&e) => {
                        return Err(HiveError::ComplexColumns {
                            address: session.address().to_string(),
                            table: table_sql,
                            columns: list,
                            message: server_words(&e),
                        });
                    }
                    Err(e) => return Err(e),
                };
                if let Err(e) = check_impala_columns(described, &metadata) {
                    return Err(HiveError::DescribeMismatch {
                        address: session.address().to_string(),
                        table: table_sql,
                        detail: e.detail(),
                    });
                }
                read.select = Some(select);
            }
            Err(other) => {
                return Err(HiveError::DescribeMismatch {
                    address: session.address().to_string(),
                    table: table_sql,
                    detail: other.detail(),
                });
            }
        }
    }
    let declared: Option<Vec<String>> = declared.map(|d| d.into_iter().map(|(_, t)| t).collect());
    let mut plans = columns::plan_columns(flavor, config.version, &metadata, declared.as_deref())?;
    if let Some(why) = &undeclared {
        let noted = columns::note_unknown_timestamp_kind(&mut plans, why);
        if !noted.is_empty() {
            tracing::info!(
                columns = %noted.join(", "),
                "HiveServer2: timestamp kind unknown ({why}): TIMESTAMP columns are mapped as \
                 TimestampType"
            );
        }
    }
    if columns::has_duplicate_names(&metadata) {
        let renames = columns::rename_duplicates(&mut plans);
        let list: Vec<String> = renames
            .iter()
            .map(|(from, to)| format!("{from} -> {to}"))
            .collect();
        tracing::warn!(
            renames = %list.join(", "),
            "HiveServer2: the result has several columns of one name; later ones are renamed \
             (name_2, name_3, …; see quiver.renamed_from), and the query runs as written"
        );
        read.as_written = true;
    }
    let schema = Arc::new(columns::arrow_schema(
        config.connect.flavor,
        config.version,
        &plans,
    ));
    Ok(Described {
        plans,
        schema,
        read,
    })
}

/// How an Impala result's columns differ from its table's DESCRIBE.
#[derive(Debug, PartialEq)]
pub(super) enum ImpalaColumns {
    /// Only complex columns are missing, every other one is there in order: `SELECT *` left
    /// them out. `(name, declared type)`.
    LeftOut(Vec<(String, String)>),
    /// Anything else.
    Other {
        missing: Vec<String>,
        unexpected: Vec<String>,
    },
}

impl ImpalaColumns {
    pub(super) fn detail(&self) -> String {
        match self {
            ImpalaColumns::LeftOut(cols) => {
                format!("the read lacks {}", column_list(cols))
            }
            ImpalaColumns::Other {
                missing,
                unexpected,
            } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!(
                        "DESCRIBE lists {} that the read lacks",
                        missing.join(", ")
                    ));
                }
                if !unexpected.is_empty() {
                    parts.push(format!(
                        "the read has {} that DESCRIBE does not list",
                        unexpected.join(", ")
                    ));
                }
                if parts.is_empty() {
                    parts.push("the columns come in another order".to_string());
                }
                parts.join("; ")
            }
        }
    }
}

/// `'tags' (array<string>), 'm' (map<string,int>)`.
pub(super) fn column_list(cols: &[(String, String)]) -> String {
    cols.iter()
        .map(|(n, t)| format!("'{n}' ({})", t.split_whitespace().collect::<String>()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether Impala's `DESCRIBE` type is ARRAY, MAP or STRUCT.
pub(super) fn is_complex(declared: &str) -> bool {
    let t = declared.trim_start().to_ascii_lowercase();
    ["array<", "map<", "struct<"]
        .iter()
        .any(|p| t.starts_with(p))
}

/// Checks that the result has exactly the columns DESCRIBE lists (names compared as Impala
/// does, case-insensitively), in order.
pub(super) fn check_impala_columns(
    described: &[(String, String)],
    metadata: &super::tcli::TTableSchema,
) -> Result<(), ImpalaColumns> {
    let key = |n: &str| n.to_lowercase();
    let got: Vec<String> = metadata
        .columns
        .iter()
        .map(|c| key(&c.column_name))
        .collect();
    let want: Vec<String> = described.iter().map(|(n, _)| key(n)).collect();
    if got == want {
        return Ok(());
    }
    let kept: Vec<&(String, String)> = described
        .iter()
        .filter(|(n, _)| got.contains(&key(n)))
        .collect();
    let left_out: Vec<(String, String)> = described
        .iter()
        .filter(|(n, _)| !got.contains(&key(n)))
        .cloned()
        .collect();
    let in_order = kept.iter().map(|(n, _)| key(n)).collect::<Vec<_>>() == got;
    if in_order && left_out.iter().all(|(_, t)| is_complex(t)) {
        return Err(ImpalaColumns::LeftOut(left_out));
    }
    Err(ImpalaColumns::Other {
        missing: left_out.into_iter().map(|(n, _)| n).collect(),
        unexpected: metadata
            .columns
            .iter()
            .filter(|c| !want.contains(&key(&c.column_name)))
            .map(|c| c.column_name.clone())
            .collect(),
    })
}

/// The server's own name and type of each result column, from the first two columns of a
/// `DESCRIBE` (Spark's `DESCRIBE QUERY`: `col_name`, `data_type`, `comment`; Impala's
/// `DESCRIBE` of a table: `name`, `type`, `comment`). They tell what HS2 metadata cannot:
/// Spark sends TIMESTAMP_NTZ as TIMESTAMP_TYPE, Impala complex types as STRING_TYPE.
pub(super) async fn declared_types(
    session: &mut Session,
    describe: &str,
) -> Result<Vec<(String, String)>, HiveError> {
    let mut op = session.execute(describe).await?;
    let read = async {
        // Every column of a DESCRIBE is text; Impala's has more than three for some storage
        // engines (Kudu), so the specs follow the result's own metadata.
        let metadata = session.result_schema(&mut op).await?;
        let specs: Vec<ColumnSpec> = metadata
            .columns
            .iter()
            .map(|c| ColumnSpec::new(c.column_name.clone(), ColumnKind::Utf8))
            .collect();
        let mut types = Vec::new();
        while let Some(set) = session.fetch(&mut op, 10_000, &specs).await? {
            let text = |i: usize| {
                set.columns
                    .get(i)
                    .and_then(|c| c.as_any().downcast_ref::<arrow::array::StringArray>())
            };
            if let (Some(names), Some(kinds)) = (text(0), text(1)) {
                types.extend(names.iter().zip(kinds.iter()).map(|(n, t)| {
                    (
                        n.unwrap_or_default().trim().to_string(),
                        t.unwrap_or_default().to_string(),
                    )
                }));
            }
        }
        Ok::<_, HiveError>(types)
    }
    .await;
    let closed = session.close_operation(op).await;
    let types = read?;
    closed?;
    Ok(types)
}
