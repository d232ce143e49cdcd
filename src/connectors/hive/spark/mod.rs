//! The Spark connector (ADF `"type": "Spark"`): the Spark Thrift Server over HiveServer2.
//!
//! The protocol work (transports, sessions, FetchResults decoding, column conversion) lives
//! in [`crate::connectors::hive`] and is shared with Impala; this module holds what is Spark's
//! own, starting with the type table ([`type_map`]).

pub mod type_map;
