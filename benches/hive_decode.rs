//! The HiveServer2 FetchResults decoder on replies recorded from a real Spark Thrift Server
//! (`benches/data/hive/`, see its README), in wire bytes per second.
//! `cargo bench --bench hive_decode`
//!
//! * `hive_decode/wire`: `decode::decode_fetch_results_reply` alone, raw reply bytes →
//!   one Arrow array per column in its wire type (Int64, Int32, Float64, Boolean, and Utf8
//!   for DECIMAL, STRING, TIMESTAMP and DATE, which Spark sends as text).
//! * `hive_decode/arrow`: the same, then `columns::convert_column` on each column into the
//!   planned Arrow type (Decimal128(18,3), Timestamp(µs), Date/DateTime parsed from text), as
//!   the Spark source does for every row set.
//!
//! The column plans come from the recorded GetResultSetMetadata reply, planned as the Spark
//! 1.0 connector does (`columns::plan_columns`).

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quiver::connectors::hive::columns::{self, ColumnPlan};
use quiver::connectors::hive::decode::{self, ColumnSpec, Cursor};
use quiver::connectors::hive::options::Flavor;
use quiver::connectors::hive::tcli::{TGetResultSetMetadataReq, decode_reply};
use quiver::types::ConnectorVersion;

struct Recorded {
    plans: Vec<ColumnPlan>,
    specs: Vec<ColumnSpec>,
    /// (sequence id, reply bytes, rows)
    replies: Vec<(i32, Vec<u8>, usize)>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/hive")
}

fn seq_of(bytes: &[u8]) -> i32 {
    Cursor::new(bytes)
        .message_header()
        .expect("a recorded reply starts with a message header")
        .seq_id
}

fn load() -> Recorded {
    let dir = data_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let metadata = read("metadata.bin");
    let schema = decode_reply::<TGetResultSetMetadataReq>(&metadata, seq_of(&metadata))
        .expect("GetResultSetMetadata reply")
        .schema
        .expect("a result schema");
    let plans = columns::plan_columns(Flavor::Spark, ConnectorVersion::V1, &schema, None)
        .expect("planned columns");
    let specs = columns::wire_specs(&plans);
    let mut replies = Vec::new();
    for i in 0.. {
        let Ok(bytes) = std::fs::read(dir.join(format!("fetch-{i}.bin"))) else {
            break;
        };
        let seq = seq_of(&bytes);
        let rows = decode::decode_fetch_results_reply(&bytes, seq, &specs)
            .expect("a recorded reply decodes")
            .results
            .expect("rows")
            .num_rows;
        replies.push((seq, bytes, rows));
    }
    assert!(!replies.is_empty(), "no fetch-*.bin in {}", dir.display());
    Recorded {
        plans,
        specs,
        replies,
    }
}

fn hive_decode(c: &mut Criterion) {
    let rec = load();
    let bytes: usize = rec.replies.iter().map(|(_, b, _)| b.len()).sum();
    let rows: usize = rec.replies.iter().map(|(_, _, r)| r).sum();
    eprintln!(
        "hive_decode: {} replies, {rows} rows, {bytes} wire bytes, columns: {}",
        rec.replies.len(),
        rec.plans
            .iter()
            .map(|p| format!("{} {} → {}", p.name, p.source_type(), p.data_type()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut group = c.benchmark_group("hive_decode");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("wire", |b| {
        b.iter(|| {
            for (seq, reply, _) in &rec.replies {
                let fetched =
                    decode::decode_fetch_results_reply(reply, *seq, &rec.specs).expect("decodes");
                std::hint::black_box(fetched);
            }
        })
    });
    group.bench_function("arrow", |b| {
        b.iter(|| {
            for (seq, reply, _) in &rec.replies {
                let set = decode::decode_fetch_results_reply(reply, *seq, &rec.specs)
                    .expect("decodes")
                    .results
                    .expect("rows");
                for (plan, wire) in rec.plans.iter().zip(&set.columns) {
                    std::hint::black_box(columns::convert_column(plan, wire).expect("converts"));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, hive_decode);
criterion_main!(benches);
