//! The system tables the drivers read, materialised per request from the cluster's schema
//! and the answering node's point of view: `system.local`, `system.peers` (the other nodes),
//! and `system_schema.{keyspaces, tables, columns, types}`, plus empty `views`, `indexes`,
//! `triggers`, `functions` and `aggregates`. Anything else in a system keyspace (e.g.
//! `system.peers_v2`, `system_schema.scylla_tables`, `system_virtual_schema.*`) is
//! "unconfigured", which both drivers tolerate.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::cells::*;
use super::store::TableData;
use super::types::{Column, ColumnKind, CqlType, UdtDef};

/// Keyspaces that belong to the server, not to tests.
pub const SYSTEM_KEYSPACES: &[&str] = &[
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
    "system_views",
    "system_virtual_schema",
];

pub const RELEASE_VERSION: &str = "4.1.3";
pub const CLUSTER_NAME: &str = "quiver test cluster";
pub const DATACENTER: &str = "datacenter1";
pub const RACK: &str = "rack1";

/// A system table's columns and rows.
type SysTable = (Vec<Column>, Vec<Vec<Option<Vec<u8>>>>);

/// The user schema: keyspaces, tables and types.
#[derive(Default)]
pub struct Schema {
    pub keyspaces: BTreeMap<String, ()>,
    pub tables: BTreeMap<(String, String), Arc<TableData>>,
    pub udts: BTreeMap<(String, String), UdtDef>,
    /// Bumped on every change; `schema_version` derives from it.
    pub version: u64,
}

/// What a node knows about the cluster when it answers.
pub struct NodeView<'a> {
    pub node: usize,
    pub hosts: &'a [IpAddr],
    pub port: u16,
    pub ring: &'a [(i64, usize)],
    pub schema: &'a Schema,
}

/// A stable host id per node.
pub fn host_id(node: usize) -> [u8; 16] {
    let mut id = *b"\xc0\xff\xee\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x00";
    id[15] = node as u8;
    id
}

fn schema_uuid(version: u64) -> [u8; 16] {
    let mut id = *b"\x5c\x4e\x3a\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x00";
    id[8..].copy_from_slice(&(version | 0x8000_0000_0000_0000).to_be_bytes());
    id
}

fn table_uuid(id: u64) -> [u8; 16] {
    let mut u = *b"\x7a\xb1\xe0\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\x00";
    u[8..].copy_from_slice(&(id | 0x8000_0000_0000_0000).to_be_bytes());
    u
}

fn pk(name: &str, t: CqlType) -> Column {
    Column::pk(name, t)
}
fn ck(name: &str, t: CqlType) -> Column {
    Column::ck(name, t)
}
fn reg(name: &str, t: CqlType) -> Column {
    Column::regular(name, t)
}
fn text(s: &str) -> Option<Vec<u8>> {
    Some(cell_text(s))
}
fn text_map(entries: &[(&str, &str)]) -> Option<Vec<u8>> {
    Some(cell_map(
        entries
            .iter()
            .map(|(k, v)| (cell_text(k), cell_text(v)))
            .collect(),
    ))
}
fn text_list(items: &[String]) -> Option<Vec<u8>> {
    Some(cell_list(items.iter().map(|s| cell_text(s)).collect()))
}

fn node_tokens(view: &NodeView, node: usize) -> Option<Vec<u8>> {
    let mut tokens: Vec<String> = view
        .ring
        .iter()
        .filter(|(_, n)| *n == node)
        .map(|(t, _)| t.to_string())
        .collect();
    tokens.sort();
    Some(cell_set(tokens.iter().map(|t| cell_text(t)).collect()))
}

fn text_t() -> CqlType {
    CqlType::Text
}
fn text_map_t() -> CqlType {
    CqlType::map(CqlType::Text, CqlType::Text)
}
fn text_list_t() -> CqlType {
    CqlType::list(CqlType::Text)
}

fn local(view: &NodeView) -> SysTable {
    let me = view.hosts[view.node];
    let cols = vec![
        pk("key", text_t()),
        reg("bootstrapped", text_t()),
        reg("broadcast_address", CqlType::Inet),
        reg("broadcast_port", CqlType::Int),
        reg("cluster_name", text_t()),
        reg("cql_version", text_t()),
        reg("data_center", text_t()),
        reg("gossip_generation", CqlType::Int),
        reg("host_id", CqlType::Uuid),
        reg("listen_address", CqlType::Inet),
        reg("listen_port", CqlType::Int),
        reg("native_protocol_version", text_t()),
        reg("partitioner", text_t()),
        reg("rack", text_t()),
        reg("release_version", text_t()),
        reg("rpc_address", CqlType::Inet),
        reg("rpc_port", CqlType::Int),
        reg("schema_version", CqlType::Uuid),
        reg("tokens", CqlType::set(CqlType::Text)),
    ];
    let row = vec![
        text("local"),
        text("COMPLETED"),
        Some(cell_inet(me)),
        Some(cell_int(7000)),
        text(CLUSTER_NAME),
        text("3.4.5"),
        text(DATACENTER),
        Some(cell_int(1_700_000_000)),
        Some(cell_uuid(host_id(view.node))),
        Some(cell_inet(me)),
        Some(cell_int(7000)),
        text("4"),
        text("org.apache.cassandra.dht.Murmur3Partitioner"),
        text(RACK),
        text(RELEASE_VERSION),
        Some(cell_inet(me)),
        Some(cell_int(view.port as i32)),
        Some(cell_uuid(schema_uuid(view.schema.version))),
        node_tokens(view, view.node),
    ];
    (cols, vec![row])
}

fn peers(view: &NodeView) -> SysTable {
    let cols = vec![
        pk("peer", CqlType::Inet),
        reg("data_center", text_t()),
        reg("host_id", CqlType::Uuid),
        reg("preferred_ip", CqlType::Inet),
        reg("rack", text_t()),
        reg("release_version", text_t()),
        reg("rpc_address", CqlType::Inet),
        reg("schema_version", CqlType::Uuid),
        reg("tokens", CqlType::set(CqlType::Text)),
    ];
    let rows = (0..view.hosts.len())
        .filter(|&n| n != view.node)
        .map(|n| {
            let ip = view.hosts[n];
            vec![
                Some(cell_inet(ip)),
                text(DATACENTER),
                Some(cell_uuid(host_id(n))),
                None,
                text(RACK),
                text(RELEASE_VERSION),
                Some(cell_inet(ip)),
                Some(cell_uuid(schema_uuid(view.schema.version))),
                node_tokens(view, n),
            ]
        })
        .collect();
    (cols, rows)
}

fn keyspaces(view: &NodeView) -> SysTable {
    let cols = vec![
        pk("keyspace_name", text_t()),
        reg("durable_writes", CqlType::Boolean),
        reg("replication", text_map_t()),
    ];
    let local = [("class", "org.apache.cassandra.locator.LocalStrategy")];
    let simple = [
        ("class", "org.apache.cassandra.locator.SimpleStrategy"),
        ("replication_factor", "1"),
    ];
    let mut rows = vec![
        vec![text("system"), Some(cell_boolean(true)), text_map(&local)],
        vec![
            text("system_schema"),
            Some(cell_boolean(true)),
            text_map(&local),
        ],
    ];
    for ks in view.schema.keyspaces.keys() {
        rows.push(vec![text(ks), Some(cell_boolean(true)), text_map(&simple)]);
    }
    (cols, rows)
}

fn tables(view: &NodeView) -> SysTable {
    let cols = vec![
        pk("keyspace_name", text_t()),
        ck("table_name", text_t()),
        reg("bloom_filter_fp_chance", CqlType::Double),
        reg("caching", text_map_t()),
        reg("comment", text_t()),
        reg("compaction", text_map_t()),
        reg("compression", text_map_t()),
        reg("crc_check_chance", CqlType::Double),
        reg("dclocal_read_repair_chance", CqlType::Double),
        reg("default_time_to_live", CqlType::Int),
        reg("extensions", CqlType::map(CqlType::Text, CqlType::Blob)),
        reg("flags", CqlType::set(CqlType::Text)),
        reg("gc_grace_seconds", CqlType::Int),
        reg("id", CqlType::Uuid),
        reg("max_index_interval", CqlType::Int),
        reg("memtable_flush_period_in_ms", CqlType::Int),
        reg("min_index_interval", CqlType::Int),
        reg("read_repair_chance", CqlType::Double),
        reg("speculative_retry", text_t()),
    ];
    let rows = view
        .schema
        .tables
        .values()
        .map(|t| {
            vec![
                text(&t.keyspace),
                text(&t.name),
                Some(cell_double(0.01)),
                text_map(&[("keys", "ALL"), ("rows_per_partition", "NONE")]),
                text(""),
                text_map(&[
                    (
                        "class",
                        "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
                    ),
                    ("max_threshold", "32"),
                    ("min_threshold", "4"),
                ]),
                text_map(&[
                    ("chunk_length_in_kb", "16"),
                    ("class", "org.apache.cassandra.io.compress.LZ4Compressor"),
                ]),
                Some(cell_double(1.0)),
                Some(cell_double(0.0)),
                Some(cell_int(0)),
                Some(cell_map(vec![])),
                Some(cell_set(vec![cell_text("compound")])),
                Some(cell_int(864000)),
                Some(cell_uuid(table_uuid(t.id))),
                Some(cell_int(2048)),
                Some(cell_int(0)),
                Some(cell_int(128)),
                Some(cell_double(0.0)),
                text("99p"),
            ]
        })
        .collect();
    (cols, rows)
}

fn columns(view: &NodeView) -> SysTable {
    let cols = vec![
        pk("keyspace_name", text_t()),
        ck("table_name", text_t()),
        ck("column_name", text_t()),
        reg("clustering_order", text_t()),
        reg("column_name_bytes", CqlType::Blob),
        reg("kind", text_t()),
        reg("position", CqlType::Int),
        reg("type", text_t()),
    ];
    let mut rows = Vec::new();
    for t in view.schema.tables.values() {
        let (mut npk, mut nck) = (0, 0);
        for c in &t.columns {
            let (kind, order, position) = match c.kind {
                ColumnKind::PartitionKey => {
                    npk += 1;
                    ("partition_key", "none", npk - 1)
                }
                ColumnKind::Clustering => {
                    nck += 1;
                    ("clustering", "asc", nck - 1)
                }
                ColumnKind::Regular => ("regular", "none", -1),
            };
            rows.push(vec![
                text(&t.keyspace),
                text(&t.name),
                text(&c.name),
                text(order),
                Some(cell_blob(c.name.as_bytes())),
                text(kind),
                Some(cell_int(position)),
                text(&c.typ.cql_name()),
            ]);
        }
    }
    (cols, rows)
}

fn types(view: &NodeView) -> SysTable {
    let cols = vec![
        pk("keyspace_name", text_t()),
        ck("type_name", text_t()),
        reg("field_names", text_list_t()),
        reg("field_types", text_list_t()),
    ];
    let rows = view
        .schema
        .udts
        .values()
        .map(|u| {
            let names: Vec<String> = u.fields.iter().map(|(n, _)| n.clone()).collect();
            let types: Vec<String> = u.fields.iter().map(|(_, t)| t.cql_name()).collect();
            vec![
                text(&u.keyspace),
                text(&u.name),
                text_list(&names),
                text_list(&types),
            ]
        })
        .collect();
    (cols, rows)
}

fn empty(table: &str) -> Option<Vec<Column>> {
    let ks = || pk("keyspace_name", text_t());
    Some(match table {
        "views" => vec![
            ks(),
            ck("view_name", text_t()),
            reg("base_table_id", CqlType::Uuid),
            reg("base_table_name", text_t()),
            reg("include_all_columns", CqlType::Boolean),
            reg("where_clause", text_t()),
        ],
        "indexes" => vec![
            ks(),
            ck("table_name", text_t()),
            ck("index_name", text_t()),
            reg("kind", text_t()),
            reg("options", text_map_t()),
        ],
        "triggers" => vec![
            ks(),
            ck("table_name", text_t()),
            ck("trigger_name", text_t()),
            reg("options", text_map_t()),
        ],
        "functions" => vec![
            ks(),
            ck("function_name", text_t()),
            ck("argument_types", CqlType::frozen(text_list_t())),
            reg("argument_names", CqlType::frozen(text_list_t())),
            reg("body", text_t()),
            reg("called_on_null_input", CqlType::Boolean),
            reg("language", text_t()),
            reg("return_type", text_t()),
        ],
        "aggregates" => vec![
            ks(),
            ck("aggregate_name", text_t()),
            ck("argument_types", CqlType::frozen(text_list_t())),
            reg("final_func", text_t()),
            reg("initcond", text_t()),
            reg("return_type", text_t()),
            reg("state_func", text_t()),
            reg("state_type", text_t()),
        ],
        _ => return None,
    })
}

/// Materialises `keyspace.table` if it is a system table this server has.
pub fn system_table(view: &NodeView, keyspace: &str, table: &str) -> Option<TableData> {
    let (cols, rows) = match (keyspace, table) {
        ("system", "local") => local(view),
        ("system", "peers") => peers(view),
        ("system_schema", "keyspaces") => keyspaces(view),
        ("system_schema", "tables") => tables(view),
        ("system_schema", "columns") => columns(view),
        ("system_schema", "types") => types(view),
        ("system_schema", t) => (empty(t)?, Vec::new()),
        _ => return None,
    };
    let mut data = TableData::build(keyspace, table, cols, rows, false);
    // A stable id, so paging states stay valid across re-materialisations.
    data.id = format!("{keyspace}.{table}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
        | 1 << 63;
    Some(data)
}
