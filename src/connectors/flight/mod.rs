//! Arrow Flight: a remote Flight endpoint as a Copy sink (DoPut) and as a source (a Flight
//! SQL query, or a path or command descriptor, through GetFlightInfo and DoGet).
//!
//! ADF has no Flight connector, so the JSON is quiver's own, shaped like ADF's:
//!
//! ```json
//! {"name": "Flight", "properties": {"type": "ArrowFlight", "typeProperties": {
//!   "uri": "grpc+tls://flight.example.com:443", "authenticationType": "Basic",
//!   "username": "etl", "password": {"type": "EnvironmentVariable", "name": "FLIGHT_PASSWORD"}}}}
//! {"name": "Sales", "properties": {"type": "ArrowFlightDataset",
//!   "linkedServiceName": {"referenceName": "Flight"},
//!   "typeProperties": {"path": ["warehouse", "sales"]}}}
//! "source": {"type": "ArrowFlightSource", "query": "SELECT * FROM sales"}
//! "sink":   {"type": "ArrowFlightSink", "maxMessageBytes": 2097152}
//! ```
//!
//! The properties are listed in [`adf::linked_service`] and [`adf::dataset`].
//!
//! # Data flow
//!
//! ```text
//!  source                                             sink
//!  ──────                                             ────
//!  GetSchema / GetFlightInfo ─▶ schema (+ quiver      engine merges every partition into
//!    metadata, no rows read)                          one writer (max_partitions = 1)
//!  GetFlightInfo(descriptor) ─▶ endpoint 0 … n             │ write(batch)
//!    = Partition 0 … n (ticket + locations)                ▼
//!  open(i): DoGet(ticket) at the endpoint's     bounded channel ─▶ FlightDataEncoder
//!    location ─▶ FlightData ─▶ RecordBatch        (descriptor first, maxMessageBytes)
//!    (one connection per partition, in                     ▼
//!     parallel)                                 DoPut request body ─▶ HTTP/2 flow control
//!                                                PutResult stream read concurrently
//!                                               commit: clean end of stream, server's OK
//!                                               failure / abort: RST_STREAM(CANCEL)
//! ```
//!
//! # Sink semantics
//!
//! A DoPut that ends cleanly is delivered and cannot be taken back, so the whole copy is
//! **one** DoPut stream ([`sink::FlightCopySink`] takes one partition; the engine reads the
//! source's partitions in parallel and merges them into it) and the stream is ended cleanly
//! only by [`CopySink::commit`](crate::connectors::CopySink::commit), after every partition
//! succeeded ([`CommitMode::AtEnd`](crate::connectors::sink::CommitMode::AtEnd)). Any failure
//! before that (a source error, a server error, Ctrl-C, the writer dropped) cancels the
//! stream with RST_STREAM(CANCEL), so the server never sees a complete upload of a failed
//! copy. From the client's side the copy is all or nothing; whether batches received
//! before a cancel are kept is the server's choice. An error the server returns mid-stream
//! fails the copy with the endpoint, the descriptor and the server's status message. A
//! transient failure (Unavailable, a reset connection) retries the copy on a fresh stream
//! when the activity's `policy.retry` allows; there is no checkpoint to resume from.
//!
//! # Source semantics
//!
//! Each FlightInfo endpoint is one partition, read with DoGet at its first location (none,
//! or `arrow-flight-reuse-connection://?`, means the configured server; a plain location
//! that is not loopback needs `allowInsecure`). Errors are transient for Unavailable,
//! DeadlineExceeded, ResourceExhausted, Aborted and reset connections, permanent for
//! InvalidArgument, Unauthenticated, PermissionDenied, NotFound and certificate problems.
//!
//! # Authentication
//!
//! `Basic` runs Flight's Handshake with an HTTP Basic `authorization` header and then sends
//! the `authorization` header the server answers (a bearer token) on every call, as pyarrow
//! and ADBC do; a server that answers none (or has no Handshake) gets Basic on every call.
//! `Bearer` sends `authorization: Bearer <token>`; `Header` sends a header of your choice.

pub mod adf;
pub mod client;
pub mod sink;
pub mod source;

pub use client::{EndpointConfig, FlightAuth, FlightError, FlightTls, FlightUri};
pub use sink::{FlightCopySink, FlightSinkOptions, PutTarget};
pub use source::{FlightSource, FlightSourceConfig, ReadTarget};

/// The system name in messages, specs and schema metadata.
pub const SYSTEM: &str = "ArrowFlight";
