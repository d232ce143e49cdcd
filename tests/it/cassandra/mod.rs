//! The Cassandra source against our CQL v4 test cluster ([`crate::cql`]): whole scans checked
//! against the rows the cluster holds (count and per-column checksums), every type in both
//! type modes and both connector versions, the wire (consistency, page size, routing), faults,
//! kill and resume, and the DataStax Python driver reading the same rows.

mod bench_server;
mod faults;
mod resume;
mod scan;
mod sql92;
mod tls;
mod types;

use arrow::array::RecordBatch;
use futures::TryStreamExt;
use quiver::connectors::cassandra::adf::linked_service::ClusterSettings;
use quiver::connectors::cassandra::types::TypeOptions;
use quiver::connectors::cassandra::{CassandraSource, CassandraSourceConfig, Consistency, Read};
use quiver::connectors::{PartitionProgress, ScanRequest, Source, SourceError};
use quiver::types::Secret;

use crate::cql::{
    Column, CqlCluster, CqlType, LoggedRequest, Table, cell_bigint, cell_boolean, cell_int,
    cell_text,
};

/// EXECUTE.
pub const EXECUTE: u8 = 0x0A;

/// The connection settings of `cluster`, logging in as `cassandra`/`cassandra` when it has
/// credentials.
pub fn settings(cluster: &CqlCluster, login: Option<(&str, &str)>) -> ClusterSettings {
    ClusterSettings {
        hosts: vec![cluster.hosts()[0].clone()],
        port: cluster.port(),
        credentials: login.map(|(u, p)| (u.to_string(), Secret::new(p))),
        tls: None,
    }
}

/// A source reading `keyspace.table` whole.
pub fn table_source(
    cluster: &ClusterSettings,
    keyspace: &str,
    table: &str,
    edit: impl FnOnce(&mut CassandraSourceConfig),
) -> CassandraSource {
    let mut config = CassandraSourceConfig {
        cluster: cluster.clone(),
        read: Read::Table {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
            columns: None,
        },
        consistency: Consistency::One,
        page_size: 500,
        splits: None,
        types: TypeOptions::default(),
        resolved: None,
    };
    edit(&mut config);
    CassandraSource::new(config)
}

/// Plans and reads every partition, in plan order, with batches of at most `batch` rows.
pub async fn read_all(
    source: &CassandraSource,
    partitions: usize,
    batch: usize,
) -> Result<Vec<RecordBatch>, SourceError> {
    let request = ScanRequest {
        target_partitions: partitions,
        batch_size: batch,
        ..ScanRequest::default()
    };
    let mut out = Vec::new();
    for p in source.plan(&request).await? {
        let mut stream = source.open(&p, &request, PartitionProgress::new(p.index))?;
        while let Some(b) = stream.try_next().await? {
            assert!(b.num_rows() <= batch, "a batch over batch_size");
            out.push(b);
        }
    }
    Ok(out)
}

/// A table `keyspace.name` of `rows` rows: `id int` (partition key), `seq int` (clustering),
/// `amount bigint` (= id × 7 + seq), `label text` (NULL every 11th id), `flag boolean`.
pub fn orders(keyspace: &str, name: &str, rows: i32) -> Table {
    Table {
        keyspace: keyspace.to_string(),
        name: name.to_string(),
        columns: vec![
            Column::pk("id", CqlType::Int),
            Column::ck("seq", CqlType::Int),
            Column::regular("amount", CqlType::BigInt),
            Column::regular("label", CqlType::Text),
            Column::regular("flag", CqlType::Boolean),
        ],
        rows: (0..rows)
            .map(|i| {
                let (id, seq) = (i / 2, i % 2);
                vec![
                    Some(cell_int(id)),
                    Some(cell_int(seq)),
                    Some(cell_bigint(i64::from(id) * 7 + i64::from(seq))),
                    (id % 11 != 0).then(|| cell_text(&format!("order-{id}-{seq}"))),
                    Some(cell_boolean(id % 3 == 0)),
                ]
            })
            .collect(),
    }
}

/// What a read of [`orders`] holds: rows, distinct `(id, seq)`, and checksums of every column.
#[derive(Debug, PartialEq, Eq)]
pub struct Digest {
    pub rows: usize,
    pub distinct_keys: usize,
    pub amount_sum: i64,
    pub label_nulls: usize,
    pub label_len_sum: usize,
    pub flags: usize,
}

/// The digest of [`orders`] with `rows` rows, computed from the generator.
pub fn expected_digest(rows: i32) -> Digest {
    let mut d = Digest {
        rows: rows as usize,
        distinct_keys: rows as usize,
        amount_sum: 0,
        label_nulls: 0,
        label_len_sum: 0,
        flags: 0,
    };
    for i in 0..rows {
        let (id, seq) = (i / 2, i % 2);
        d.amount_sum += i64::from(id) * 7 + i64::from(seq);
        if id % 11 == 0 {
            d.label_nulls += 1;
        } else {
            d.label_len_sum += format!("order-{id}-{seq}").len();
        }
        if id % 3 == 0 {
            d.flags += 1;
        }
    }
    d
}

/// A row of [`orders`]: id, seq, amount, label, flag.
pub type OrderRow = (i32, i32, i64, Option<String>, bool);

/// The rows of batches read from [`orders`], columns found by name.
pub fn order_rows(batches: &[RecordBatch]) -> Vec<OrderRow> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int32Type, Int64Type};
    let mut out = Vec::new();
    for b in batches {
        let column = |name: &str| b.column_by_name(name).unwrap().clone();
        let (id, seq, amount) = (column("id"), column("seq"), column("amount"));
        let (label, flag) = (column("label"), column("flag"));
        let (id, seq) = (
            id.as_primitive::<Int32Type>(),
            seq.as_primitive::<Int32Type>(),
        );
        let amount = amount.as_primitive::<Int64Type>();
        let (label, flag) = (label.as_string::<i32>(), flag.as_boolean());
        for r in 0..b.num_rows() {
            out.push((
                id.value(r),
                seq.value(r),
                amount.value(r),
                label.is_valid(r).then(|| label.value(r).to_string()),
                flag.value(r),
            ));
        }
    }
    out
}

/// The digest of batches read from [`orders`].
pub fn digest(batches: &[RecordBatch]) -> Digest {
    let rows = order_rows(batches);
    let keys: std::collections::HashSet<(i32, i32)> = rows.iter().map(|r| (r.0, r.1)).collect();
    Digest {
        rows: rows.len(),
        distinct_keys: keys.len(),
        amount_sum: rows.iter().map(|r| r.2).sum(),
        label_nulls: rows.iter().filter(|r| r.3.is_none()).count(),
        label_len_sum: rows
            .iter()
            .filter_map(|r| r.3.as_ref())
            .map(|l| l.len())
            .sum(),
        flags: rows.iter().filter(|r| r.4).count(),
    }
}

/// The data requests (EXECUTEs of SELECTs on test tables) in a request log.
pub fn data_requests(log: &[LoggedRequest], keyspace: &str) -> Vec<LoggedRequest> {
    log.iter()
        .filter(|r| {
            r.opcode == EXECUTE
                && r.query.as_deref().is_some_and(|q| {
                    q.contains(&format!("\"{keyspace}\".")) || q.contains(&format!(" {keyspace}."))
                })
        })
        .cloned()
        .collect()
}
