//! The Cassandra page decoder: one page of 5,000 rows × 25 columns of mixed types, in CQL v4
//! wire bytes (`[int len][bytes]` per cell, row after row), into Arrow.
//! `cargo bench --bench cassandra_decode`
//!
//! * `cassandra_decode/cells`: the walk over the page that finds each cell
//!   (`decode::split_page`, as the source runs it), into column-major slices.
//! * `cassandra_decode/page`: the walk, then `decode::decode` on every column in ADF 2.0 mode
//!   (the source's whole per-page work after the driver hands it the rows).
//!
//! Throughput is in rows; the goal is at least 2M rows/s on one core for this table.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quiver::connectors::cassandra::decode::{self, PageCells};
use quiver::connectors::cassandra::types::{self, CqlType, EmptyValues, TypeOptions};
use quiver::types::ConnectorVersion;

const ROWS: usize = 5_000;

fn columns() -> Vec<CqlType> {
    use CqlType as T;
    vec![
        T::Int,
        T::Int,
        T::Int,
        T::BigInt,
        T::BigInt,
        T::BigInt,
        T::Text,
        T::Text,
        T::Text,
        T::Double,
        T::Double,
        T::Float,
        T::Boolean,
        T::Boolean,
        T::Timestamp,
        T::Timestamp,
        T::Date,
        T::Uuid,
        T::TimeUuid,
        T::Decimal,
        T::Varint,
        T::SmallInt,
        T::TinyInt,
        T::Blob,
        T::Inet,
    ]
}

/// One value of `t` for row `r`, in wire bytes.
fn value(t: &CqlType, r: usize, c: usize) -> Vec<u8> {
    let x = (r * 31 + c * 7) as i64;
    match t {
        CqlType::Int => (x as i32).to_be_bytes().to_vec(),
        CqlType::BigInt | CqlType::Timestamp => (x * 1_000_003).to_be_bytes().to_vec(),
        CqlType::Text => format!("value-{r}-{c}-{}", "x".repeat(r % 17)).into_bytes(),
        CqlType::Double => (x as f64 * 0.25).to_be_bytes().to_vec(),
        CqlType::Float => (x as f32 * 0.5).to_be_bytes().to_vec(),
        CqlType::Boolean => vec![(r % 2) as u8],
        CqlType::Date => ((1u32 << 31) + (r as u32 % 20_000)).to_be_bytes().to_vec(),
        CqlType::Uuid | CqlType::TimeUuid => {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(x as u64).to_be_bytes());
            b[8..].copy_from_slice(&(r as u64).to_be_bytes());
            b.to_vec()
        }
        CqlType::Decimal => {
            let mut b = 2i32.to_be_bytes().to_vec();
            b.extend(((x * 12_345) as i32).to_be_bytes());
            b
        }
        CqlType::Varint => (x * 99_991).to_be_bytes().to_vec(),
        CqlType::SmallInt => ((x % 30_000) as i16).to_be_bytes().to_vec(),
        CqlType::TinyInt => vec![(r % 100) as u8],
        CqlType::Blob => vec![(r % 251) as u8; 12],
        CqlType::Inet => vec![10, 0, (r / 256 % 256) as u8, (r % 256) as u8],
        _ => Vec::new(),
    }
}

/// The page's rows section: every cell as `[int len][bytes]`, a NULL every 13th cell.
fn page(types: &[CqlType]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in 0..ROWS {
        for (c, t) in types.iter().enumerate() {
            if (r + c) % 13 == 0 {
                out.extend((-1i32).to_be_bytes());
            } else {
                let v = value(t, r, c);
                out.extend((v.len() as i32).to_be_bytes());
                out.extend(v);
            }
        }
    }
    out
}

/// Finds each cell of the page, column-major, as the source does.
fn cells(bytes: &[u8], columns: usize) -> PageCells<'_> {
    decode::split_page(bytes, ROWS, columns).expect("a well-formed page")
}

fn bench(c: &mut Criterion) {
    let types = columns();
    let bytes = page(&types);
    let options = TypeOptions {
        version: ConnectorVersion::V2,
        ..TypeOptions::default()
    };
    let targets: Vec<_> = types
        .iter()
        .map(|t| types::field("c", t, &options).data_type().clone())
        .collect();
    let mut g = c.benchmark_group("cassandra_decode");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("cells", |b| b.iter(|| cells(&bytes, types.len())));
    g.bench_function("page", |b| {
        b.iter(|| {
            let cells = cells(&bytes, types.len());
            types
                .iter()
                .zip(&targets)
                .zip(&cells)
                .map(|((t, target), cells)| {
                    decode::decode(t, target, cells, EmptyValues::Null).expect("decodes")
                })
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
