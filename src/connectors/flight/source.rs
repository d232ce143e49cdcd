//! `ArrowFlightSource`: a Flight SQL query (or a dataset's path or command descriptor) read
//! through GetFlightInfo and one DoGet per endpoint.
//!
//! ```text
//!   schema():  GetSchema(descriptor)  (Unimplemented? GetFlightInfo(descriptor).schema)
//!   plan():    GetFlightInfo(descriptor) ─▶ endpoint 0 … n ─▶ Partition i =
//!                 FlightEndpoint { ticket (base64), locations }
//!   open(i):   connect to the first location (none, or arrow-flight-reuse-connection://?:
//!              the configured server) ─▶ DoGet(ticket) ─▶ FlightData ─▶ RecordBatch
//!              (sliced to batch_size, projected, stamped with the source schema)
//! ```
//!
//! Field metadata: a field that already carries quiver's [`SOURCE_TYPE_KEY`] and
//! [`INTERIM_TYPE_KEY`] (another quiver's `serve`) keeps them; any other gets the Arrow type
//! as its source type and, where the Arrow type is exactly an interim type's representation
//! (see [`crate::types::interim_for`]), that interim type. Values are never converted.
//!
//! A FlightInfo without endpoints plans one [`PartitionDescriptor::Whole`] partition, which
//! yields no rows. Tickets go into the partitions, so a checkpoint resumes only while the
//! server issues the same tickets for the same descriptor (otherwise the resumed run is
//! refused as a changed plan).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::sql::{Any, CommandStatementQuery, ProstMessageExt};
use arrow_flight::{FlightDescriptor, Ticket};
use async_trait::async_trait;
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tonic::Code;

use super::SYSTEM;
use super::client::{EndpointConfig, FlightConnection, FlightError, describe};
use crate::connectors::{
    Partition, PartitionDescriptor, PartitionProgress, PartitionStream, ScanRequest, Source,
    SourceError, SourceSpec, project_schema,
};
use crate::types::{SOURCE_SYSTEM_KEY, with_arrow_types};

/// The location that means "the server that issued the ticket" (Flight 15+).
pub const REUSE_CONNECTION: &str = "arrow-flight-reuse-connection://?";

/// What a Flight source reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ReadTarget {
    /// A Flight SQL query, sent as `CommandStatementQuery` in a CMD descriptor.
    Query {
        /// The SQL.
        sql: String,
    },
    /// A PATH descriptor.
    Path {
        /// Its elements.
        path: Vec<String>,
    },
    /// A CMD descriptor holding these UTF-8 bytes.
    Command {
        /// The command.
        command: String,
    },
}

impl ReadTarget {
    /// The descriptor sent in GetFlightInfo and GetSchema.
    pub fn descriptor(&self) -> FlightDescriptor {
        match self {
            ReadTarget::Query { sql } => {
                let command = CommandStatementQuery {
                    query: sql.clone(),
                    transaction_id: None,
                };
                FlightDescriptor::new_cmd(command.as_any().encode_to_vec())
            }
            ReadTarget::Path { path } => FlightDescriptor::new_path(path.clone()),
            ReadTarget::Command { command } => FlightDescriptor::new_cmd(command.clone()),
        }
    }
}

/// The query of a CMD descriptor holding a Flight SQL `CommandStatementQuery`.
pub fn statement_query(descriptor: &FlightDescriptor) -> Option<String> {
    let any = Any::decode(descriptor.cmd.clone()).ok()?;
    if any.type_url != CommandStatementQuery::type_url() {
        return None;
    }
    Some(CommandStatementQuery::decode(any.value).ok()?.query)
}

/// A Flight source's configuration: plain data, its [`SourceSpec`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlightSourceConfig {
    /// The server.
    pub endpoint: EndpointConfig,
    /// What to read.
    pub target: ReadTarget,
}

/// Rebuilds a Flight source from its spec (a resumed run, another executor).
pub fn source_from_spec(
    spec: &serde_json::Value,
    _cleanup: crate::connectors::CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let config = FlightSourceConfig::deserialize(spec).map_err(|source| SourceError::Spec {
        system: SYSTEM.to_string(),
        source,
    })?;
    Ok(Arc::new(FlightSource::new(config)))
}

impl From<FlightError> for SourceError {
    fn from(e: FlightError) -> Self {
        SourceError::connector(SYSTEM, e.is_transient(), e)
    }
}

/// The server's schema with quiver's metadata on every field (see the module docs).
pub fn annotate(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| with_arrow_types(f))
        .collect();
    let mut metadata = schema.metadata().clone();
    metadata
        .entry(SOURCE_SYSTEM_KEY.to_string())
        .or_insert_with(|| SYSTEM.to_string());
    Schema::new_with_metadata(fields, metadata)
}

/// Reads a Flight endpoint.
#[derive(Debug)]
pub struct FlightSource {
    config: FlightSourceConfig,
    schema: tokio::sync::OnceCell<SchemaRef>,
}

impl FlightSource {
    /// A source for `config`; nothing connects until it is asked for its schema or plan.
    pub fn new(config: FlightSourceConfig) -> Self {
        FlightSource {
            config,
            schema: tokio::sync::OnceCell::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FlightSourceConfig {
        &self.config
    }

    async fn fetch_schema(&self) -> Result<SchemaRef, FlightError> {
        let mut conn = FlightConnection::connect(&self.config.endpoint).await?;
        let descriptor = self.config.target.descriptor();
        let described = describe(&descriptor);
        let schema_error = |what, source| FlightError::Schema {
            endpoint: self.config.endpoint.uri.to_string(),
            what,
            descriptor: described.clone(),
            source,
        };
        let request = conn.request(descriptor.clone());
        let schema = match conn.client.get_schema(request).await {
            Ok(result) => Schema::try_from(&result.into_inner())
                .map_err(|e| schema_error("decoding GetSchema's schema", e))?,
            Err(status) if status.code() == Code::Unimplemented => {
                let info = conn.flight_info(descriptor, &described).await?;
                info.try_decode_schema()
                    .map_err(|e| schema_error("decoding GetFlightInfo's schema", e))?
            }
            Err(status) => return Err(conn.call_error("GetSchema", &described, status)),
        };
        Ok(Arc::new(annotate(&schema)))
    }
}

/// The first location of an endpoint quiver connects to: the configured server for none
/// or the reuse-connection marker.
fn location_config(
    base: &EndpointConfig,
    locations: &[String],
) -> Result<EndpointConfig, FlightError> {
    match locations.first() {
        None => Ok(base.clone()),
        Some(_) if locations.iter().any(|l| l == REUSE_CONNECTION) => Ok(base.clone()),
        Some(first) => base.at(first),
    }
}

#[async_trait]
impl Source for FlightSource {
    fn system(&self) -> &'static str {
        SYSTEM
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        SourceSpec::of(SYSTEM, &self.config)
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        Ok(self
            .schema
            .get_or_try_init(|| self.fetch_schema())
            .await?
            .clone())
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        let schema = self.schema().await?;
        project_schema(SYSTEM, &schema, request.projection.as_ref())?;
        let mut conn = FlightConnection::connect(&self.config.endpoint).await?;
        let descriptor = self.config.target.descriptor();
        let described = describe(&descriptor);
        let info = conn.flight_info(descriptor, &described).await?;
        if info.endpoint.is_empty() {
            return Ok(vec![Partition::whole()]);
        }
        Ok(info
            .endpoint
            .iter()
            .enumerate()
            .map(|(index, e)| Partition {
                index,
                descriptor: PartitionDescriptor::FlightEndpoint {
                    ticket: base64::engine::general_purpose::STANDARD
                        .encode(e.ticket.as_ref().map(|t| t.ticket.as_ref()).unwrap_or(&[])),
                    locations: e.location.iter().map(|l| l.uri.clone()).collect(),
                },
                resume_from: None,
            })
            .collect())
    }

    fn open(
        &self,
        partition: &Partition,
        request: &ScanRequest,
        progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError> {
        let (ticket, locations) = match &partition.descriptor {
            PartitionDescriptor::Whole => return Ok(futures::stream::empty().boxed()),
            PartitionDescriptor::FlightEndpoint { ticket, locations } => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(ticket)
                    .map_err(|_| SourceError::foreign_partition(SYSTEM, partition))?;
                (bytes, locations.clone())
            }
            _ => return Err(SourceError::foreign_partition(SYSTEM, partition)),
        };
        let Some(schema) = self.schema.get().cloned() else {
            // plan() reads the schema first; a partition from elsewhere gets it here.
            let source = FlightSource::new(self.config.clone());
            let partition = partition.clone();
            let request = request.clone();
            return Ok(futures::stream::once(async move {
                source.schema().await?;
                source.open(&partition, &request, progress)
            })
            .try_flatten()
            .boxed());
        };
        let projected = project_schema(SYSTEM, &schema, request.projection.as_ref())?;
        let projection = request.projection.clone();
        let batch_size = request.batch_size.max(1);
        let base = self.config.endpoint.clone();
        let index = partition.index;
        let stream = futures::stream::once(async move {
            let config = location_config(&base, &locations)?;
            let mut conn = FlightConnection::connect(&config).await?;
            let endpoint = conn.endpoint();
            let described = format!("ticket of partition {index}");
            let request = conn.request(Ticket {
                ticket: ticket.into(),
            });
            let data = conn
                .client
                .do_get(request)
                .await
                .map_err(|s| conn.call_error("DoGet", &described, s))?
                .into_inner();
            let counted = {
                let conn = conn.clone();
                data.inspect_ok(move |fd| {
                    progress.add_bytes((fd.data_header.len() + fd.data_body.len()) as u64)
                })
                .map_err(move |s| arrow_flight::error::FlightError::Tonic(Box::new(conn.scrub(s))))
            };
            let batches = FlightRecordBatchStream::new_from_flight_data(counted);
            let decode_error = {
                let endpoint = endpoint.clone();
                let described = described.clone();
                move |source: arrow_flight::error::FlightError| -> SourceError {
                    match source {
                        arrow_flight::error::FlightError::Tonic(status) => FlightError::Call {
                            endpoint: endpoint.clone(),
                            call: "DoGet",
                            descriptor: described.clone(),
                            source: *status,
                        },
                        source => FlightError::Decode {
                            endpoint: endpoint.clone(),
                            call: "DoGet",
                            descriptor: described.clone(),
                            source,
                        },
                    }
                    .into()
                }
            };
            let conform = move |batch: RecordBatch| -> Result<Vec<RecordBatch>, SourceError> {
                let columns = match &projection {
                    Some(p) => p.iter().map(|i| batch.column(*i).clone()).collect(),
                    None => batch.columns().to_vec(),
                };
                let batch = RecordBatch::try_new(projected.clone(), columns).map_err(|source| {
                    FlightError::Schema {
                        endpoint: endpoint.clone(),
                        what: "a DoGet batch does not match the schema GetFlightInfo gave",
                        descriptor: described.clone(),
                        source,
                    }
                })?;
                let rows = batch.num_rows();
                Ok((0..rows)
                    .step_by(batch_size)
                    .map(|at| batch.slice(at, batch_size.min(rows - at)))
                    .collect())
            };
            Ok::<_, SourceError>(
                batches
                    .map_err(decode_error)
                    .and_then(move |b| futures::future::ready(conform(b)))
                    .map_ok(|parts| {
                        futures::stream::iter(parts.into_iter().map(Ok::<_, SourceError>))
                    })
                    .try_flatten(),
            )
        })
        .try_flatten();
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ColumnType, INTERIM_TYPE_KEY, InterimType, SOURCE_TYPE_KEY, interim_for};
    use arrow::datatypes::{DataType, TimeUnit};
    use std::collections::HashMap;

    #[test]
    fn statement_queries_round_trip_through_the_descriptor() {
        let target = ReadTarget::Query {
            sql: "SELECT * FROM \"t\"".into(),
        };
        let d = target.descriptor();
        assert_eq!(statement_query(&d).as_deref(), Some("SELECT * FROM \"t\""));
        assert_eq!(describe(&d), "query \"SELECT * FROM \\\"t\\\"\"");
        let d = ReadTarget::Command {
            command: "tables/x".into(),
        }
        .descriptor();
        assert_eq!(statement_query(&d), None);
        assert_eq!(&d.cmd[..], b"tables/x");
        let d = ReadTarget::Path {
            path: vec!["a".into(), "b".into()],
        }
        .descriptor();
        assert_eq!(describe(&d), "path \"a/b\"");
    }

    #[test]
    fn arrow_types_map_to_interim_types_only_where_exact() {
        let f = |t: DataType| Field::new("c", t, true);
        assert_eq!(interim_for(&f(DataType::Int64)), Some(InterimType::Int64));
        assert_eq!(
            interim_for(&f(DataType::Decimal128(18, 3))),
            Some(InterimType::Decimal {
                precision: 18,
                scale: 3
            })
        );
        // Decimal256 of a precision Decimal128 holds is not the interim representation.
        assert_eq!(interim_for(&f(DataType::Decimal256(18, 3))), None);
        assert_eq!(
            interim_for(&f(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            ))),
            Some(InterimType::DateTimeOffset)
        );
        assert_eq!(
            interim_for(&f(DataType::Timestamp(TimeUnit::Nanosecond, None))),
            None
        );
        assert_eq!(interim_for(&f(DataType::LargeUtf8)), None);
        assert_eq!(interim_for(&f(DataType::FixedSizeBinary(16))), None);
        assert_eq!(
            interim_for(&InterimType::Guid.arrow_field("g")),
            Some(InterimType::Guid)
        );
    }

    #[test]
    fn annotation_keeps_quiver_metadata_and_fills_the_rest() {
        let theirs =
            ColumnType::new("decimal(10,2)", InterimType::decimal(10, 2).unwrap()).field("q");
        let schema = Schema::new(vec![
            theirs.clone(),
            Field::new("n", DataType::Int32, false),
            Field::new("d", DataType::Date32, true)
                .with_metadata(HashMap::from([("k".to_string(), "v".to_string())])),
        ]);
        let out = annotate(&schema);
        assert_eq!(out.field(0), &theirs);
        assert_eq!(out.field(1).metadata()[SOURCE_TYPE_KEY], "Int32");
        assert_eq!(out.field(1).metadata()[INTERIM_TYPE_KEY], "Int32");
        assert!(!out.field(1).is_nullable());
        assert_eq!(out.field(2).metadata()[SOURCE_TYPE_KEY], "Date32");
        assert!(!out.field(2).metadata().contains_key(INTERIM_TYPE_KEY));
        assert_eq!(out.field(2).metadata()["k"], "v");
        assert_eq!(out.metadata()[SOURCE_SYSTEM_KEY], SYSTEM);
    }

    #[test]
    fn specs_round_trip_without_showing_secrets() {
        use super::super::client::{FlightAuth, FlightTls, FlightUri};
        let config = FlightSourceConfig {
            endpoint: EndpointConfig {
                uri: FlightUri::parse("grpc://127.0.0.1:5").unwrap(),
                allow_insecure: false,
                auth: FlightAuth::Bearer {
                    token: crate::types::Secret::new("tok-SECRET"),
                },
                tls: FlightTls::default(),
            },
            target: ReadTarget::Path {
                path: vec!["x".into()],
            },
        };
        let source = FlightSource::new(config.clone());
        let spec = source.spec().unwrap();
        assert!(!format!("{spec:?}").contains("tok-SECRET"));
        let rebuilt = source_from_spec(&spec.spec, Default::default()).unwrap();
        assert_eq!(rebuilt.spec().unwrap(), spec);
    }
}
