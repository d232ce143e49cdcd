//! The Impala connector (ADF `"type": "Impala"`): Apache Impala over HiveServer2.
//!
//! The protocol work (transports, sessions, FetchResults decoding, column conversion) lives
//! in [`crate::connectors::hive`] and is shared with Spark; this module holds what is Impala's
//! own, starting with the type table ([`type_map`]).

pub mod type_map;
