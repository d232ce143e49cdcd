//! The Flight SQL service: statements, prepared statements with parameters, and the metadata
//! commands, over the factory's catalog; plus the plain-Flight reads [`super::gate`] routes
//! here.
//!
//! Statement tickets carry the SQL itself, so a `DoGet` needs no server-side state and a
//! ticket can be read again. Prepared statements live in a bounded map until closed; their
//! parameters are bound by `DoPut` (one row, a column per placeholder) and kept with them.
//! Every query is admitted by [`Admission`] before it is planned, since planning may contact
//! the source.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::SqlInfoData;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementIngest, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use futures::TryStreamExt;
use prost::Message;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::Limits;
use super::admission::Admission;
use super::auth::Caller;
use super::metadata;
use super::stream::{
    CancelSignal, FlightDataStream, QueryLog, engine_status, log_failed, query_stream,
};
use crate::engine::SqlEngine;

/// A prepared statement: its SQL, the parameters last bound to it, and when it was last used
/// (when the map is full, the least recently used statement is closed for a new one).
#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    params: Option<RecordBatch>,
    used: Instant,
}

/// A plain-Flight ticket, as JSON: `{"dataset": "Name"}` or `{"query": "SELECT …"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PlainTicket {
    /// Read a whole dataset.
    Dataset(String),
    /// Run a query over the catalog.
    Query(String),
}

/// Quiver's Flight SQL service.
pub struct SqlService {
    engine: SqlEngine,
    admission: Admission,
    limits: Limits,
    prepared: Mutex<HashMap<Vec<u8>, Prepared>>,
    sql_info: SqlInfoData,
    next_query: AtomicU64,
    cancel: watch::Receiver<bool>,
}

impl std::fmt::Debug for SqlService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlService")
            .field("engine", &self.engine)
            .field("admission", &self.admission)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SqlService {
    /// A service over `engine`; queries stop when `cancel` turns true.
    pub fn new(engine: SqlEngine, limits: Limits, cancel: watch::Receiver<bool>) -> Self {
        SqlService {
            admission: Admission::new(limits.max_concurrent_queries, limits.max_queued_queries),
            engine,
            limits,
            prepared: Mutex::new(HashMap::new()),
            sql_info: metadata::sql_info(),
            next_query: AtomicU64::new(1),
            cancel,
        }
    }

    /// The catalog's table names (no I/O).
    pub fn table_names(&self) -> Vec<String> {
        self.engine.table_names()
    }

    fn cancel_signal(&self) -> CancelSignal {
        let mut rx = self.cancel.clone();
        Box::pin(async move {
            if rx.wait_for(|stop| *stop).await.is_err() {
                // The server is gone without asking queries to stop: nothing will.
                std::future::pending::<()>().await;
            }
        })
    }

    /// Admits, plans and streams `sql`.
    async fn run<T>(
        &self,
        sql: &str,
        params: Option<&RecordBatch>,
        request: &Request<T>,
    ) -> Result<Response<FlightDataStream>, Status> {
        let log = QueryLog {
            id: self.next_query.fetch_add(1, Ordering::Relaxed),
            user: request
                .extensions()
                .get::<Caller>()
                .map(|c| c.user.clone())
                .unwrap_or_else(|| "anonymous".to_string()),
            peer: request.remote_addr(),
            what: sql.to_string(),
        };
        let started = Instant::now();
        let failed = |status: Status| {
            log_failed(&log, started, &status);
            status
        };
        let slot = self.admission.admit().await.map_err(failed)?;
        let plan = self
            .engine
            .plan(sql, params)
            .await
            .map_err(|e| failed(engine_status(&e)))?;
        let stream = query_stream(
            plan,
            slot,
            log,
            self.limits.max_message_bytes,
            self.cancel_signal(),
        )?;
        Ok(Response::new(stream))
    }

    fn prepared(&self, handle: &[u8]) -> Result<Prepared, Status> {
        let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        prepared
            .get_mut(handle)
            .map(|p| {
                p.used = Instant::now();
                p.clone()
            })
            .ok_or_else(|| {
                Status::not_found(
                    "no such prepared statement: it was closed, evicted as the least recently \
                     used of too many, or the server restarted; prepare it again",
                )
            })
    }

    /// A FlightInfo for a plain-Flight descriptor: a path naming a dataset, or a command
    /// holding SQL as UTF-8.
    pub async fn plain_flight_info(
        &self,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo, Status> {
        let ticket = match descriptor.r#type() {
            DescriptorType::Path => match descriptor.path.as_slice() {
                [name] => PlainTicket::Dataset(self.dataset_name(name)?),
                _ => {
                    return Err(Status::invalid_argument(format!(
                        "a path descriptor names one dataset, e.g. [\"Orders\"]; got {:?}",
                        descriptor.path
                    )));
                }
            },
            _ => PlainTicket::Query(utf8(&descriptor.cmd, "the descriptor's command")?),
        };
        let sql = ticket_sql(&ticket);
        let described = self
            .engine
            .describe(&sql, None)
            .await
            .map_err(|e| engine_status(&e))?;
        let bytes = serde_json::to_vec(&ticket).expect("a ticket serialises");
        flight_info(&described.schema, Ticket::new(bytes), descriptor)
    }

    /// A plain-Flight `DoGet`: the ticket is JSON ([`PlainTicket`]), a dataset's name, or
    /// SQL.
    pub async fn plain_do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<FlightDataStream>, Status> {
        let bytes = request.get_ref().ticket.clone();
        let ticket = match serde_json::from_slice::<PlainTicket>(&bytes) {
            Ok(t) => t,
            Err(_) => {
                let text = utf8(&bytes, "the ticket")?;
                match self.dataset_name(text.trim()) {
                    Ok(name) => PlainTicket::Dataset(name),
                    Err(_) => PlainTicket::Query(text),
                }
            }
        };
        self.run(&ticket_sql(&ticket), None, &request).await
    }

    /// The dataset called `name`: exactly, or the one matching it ignoring case.
    fn dataset_name(&self, name: &str) -> Result<String, Status> {
        let names = self.engine.table_names();
        if names.iter().any(|n| n == name) {
            return Ok(name.to_string());
        }
        let matches: Vec<&String> = names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case(name))
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Status::not_found(format!(
                "no dataset named '{name}'; the factory serves {names:?}"
            ))),
            _ => Err(Status::invalid_argument(format!(
                "'{name}' matches {matches:?}, which differ only in case; use the exact name"
            ))),
        }
    }

    fn metadata_stream(&self, batch: RecordBatch) -> Response<FlightDataStream> {
        let schema = batch.schema();
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .with_max_flight_data_size(self.limits.max_message_bytes)
            .build(futures::stream::iter([Ok::<_, FlightError>(batch)]))
            .map_err(Status::from);
        Response::new(Box::pin(stream))
    }
}

fn read_only() -> Status {
    Status::unimplemented(
        "quiver serve is read-only: it takes no data or updates (DoPut only binds the \
         parameters of a prepared statement); write to a sink with `quiver copy` instead",
    )
}

fn ticket_sql(ticket: &PlainTicket) -> String {
    match ticket {
        PlainTicket::Dataset(name) => format!("SELECT * FROM \"{}\"", name.replace('"', "\"\"")),
        PlainTicket::Query(sql) => sql.clone(),
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, Status> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Status::invalid_argument(format!("{what} is not UTF-8 text")))
}

fn flight_info(
    schema: &Schema,
    ticket: Ticket,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("encoding the schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
        .with_descriptor(descriptor))
}

fn any_ticket(message: &impl ProstMessageExt) -> Ticket {
    Ticket::new(message.as_any().encode_to_vec())
}

fn ipc_schema(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let message: Result<IpcMessage, _> =
        SchemaAsIpc::new(schema, &IpcWriteOptions::default()).try_into();
    message
        .map(|IpcMessage(bytes)| bytes)
        .map_err(|e| Status::internal(format!("encoding the schema: {e}")))
}

#[tonic::async_trait]
impl FlightSqlService for SqlService {
    type FlightService = SqlService;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let described = self
            .engine
            .describe(&query.query, None)
            .await
            .map_err(|e| engine_status(&e))?;
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        let info = flight_info(&described.schema, any_ticket(&ticket), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let sql = utf8(&ticket.statement_handle, "the statement handle")?;
        self.run(&sql, None, &request).await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let prepared = self.prepared(&cmd.prepared_statement_handle)?;
        let described = self
            .engine
            .describe(&prepared.sql, prepared.params.as_ref())
            .await
            .map_err(|e| engine_status(&e))?;
        let info = flight_info(&described.schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let prepared = self.prepared(&cmd.prepared_statement_handle)?;
        self.run(&prepared.sql, prepared.params.as_ref(), &request)
            .await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _request: Request<arrow_flight::Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let described = self
            .engine
            .describe(&query.query, None)
            .await
            .map_err(|e| engine_status(&e))?;
        let handle = uuid::Uuid::new_v4().as_bytes().to_vec();
        {
            let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
            if prepared.len() >= self.limits.max_prepared_statements {
                // Clients that die leave statements open: close the least recently used.
                let oldest = prepared
                    .iter()
                    .min_by_key(|(_, p)| p.used)
                    .map(|(h, _)| h.clone());
                if let Some(oldest) = oldest {
                    prepared.remove(&oldest);
                }
            }
            prepared.insert(
                handle.clone(),
                Prepared {
                    sql: query.query,
                    params: None,
                    used: Instant::now(),
                },
            );
        }
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into(),
            dataset_schema: ipc_schema(&described.schema)?,
            parameter_schema: ipc_schema(&described.parameters)?,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        _request: Request<arrow_flight::Action>,
    ) -> Result<(), Status> {
        self.prepared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(query.prepared_statement_handle.as_ref());
        Ok(())
    }

    async fn do_put_prepared_statement_query(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let handle = cmd.prepared_statement_handle.to_vec();
        self.prepared(&handle)?;
        let data = request.into_inner().map_err(FlightError::from);
        let mut stream = FlightRecordBatchStream::new_from_flight_data(data);
        // One row binds a query's parameters: stop reading past it, so a client cannot make
        // the server hold an unbounded upload.
        let mut params: Option<RecordBatch> = None;
        while let Some(batch) = stream
            .try_next()
            .await
            .map_err(|e| Status::invalid_argument(format!("reading the bound parameters: {e}")))?
        {
            let rows = params.as_ref().map_or(0, RecordBatch::num_rows) + batch.num_rows();
            if rows > 1 {
                return Err(Status::invalid_argument(
                    "bind exactly one row of parameters (one column per placeholder); \
                     executing a query once per row is not supported",
                ));
            }
            if batch.num_rows() == 1 || params.is_none() {
                params = Some(batch);
            }
        }
        let mut prepared = self.prepared.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = prepared.get_mut(&handle).ok_or_else(|| {
            Status::not_found("the prepared statement was closed while parameters were bound")
        })?;
        entry.params = params;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle.into()),
        })
    }

    async fn get_flight_info_catalogs(
        &self,
        cmd: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = cmd.into_builder().schema();
        let info = flight_info(&schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_catalogs(
        &self,
        cmd: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Ok(self.metadata_stream(metadata::catalogs(cmd)?))
    }

    async fn get_flight_info_schemas(
        &self,
        cmd: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = cmd.clone().into_builder().schema();
        let info = flight_info(&schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_schemas(
        &self,
        cmd: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Ok(self.metadata_stream(metadata::db_schemas(cmd)?))
    }

    async fn get_flight_info_tables(
        &self,
        cmd: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = cmd.clone().into_builder().schema();
        let info = flight_info(&schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_tables(
        &self,
        cmd: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Ok(self.metadata_stream(metadata::tables(&self.engine, cmd).await?))
    }

    async fn get_flight_info_table_types(
        &self,
        cmd: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = cmd.into_builder().schema();
        let info = flight_info(&schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_table_types(
        &self,
        cmd: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Ok(self.metadata_stream(metadata::table_types(cmd)?))
    }

    async fn get_flight_info_sql_info(
        &self,
        cmd: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = cmd.clone().into_builder(&self.sql_info).schema();
        let info = flight_info(&schema, any_ticket(&cmd), request.into_inner())?;
        Ok(Response::new(info))
    }

    async fn do_get_sql_info(
        &self,
        cmd: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let batch = cmd
            .into_builder(&self.sql_info)
            .build()
            .map_err(|e| Status::internal(format!("building the SQL info: {e}")))?;
        Ok(self.metadata_stream(batch))
    }

    async fn do_put_fallback(
        &self,
        _request: Request<PeekableFlightDataStream>,
        _message: Any,
    ) -> Result<Response<<Self as FlightService>::DoPutStream>, Status> {
        Err(read_only())
    }

    async fn do_put_statement_update(
        &self,
        _cmd: CommandStatementUpdate,
        _request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        Err(read_only())
    }

    async fn do_put_statement_ingest(
        &self,
        _cmd: CommandStatementIngest,
        _request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        Err(read_only())
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
