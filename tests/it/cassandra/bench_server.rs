//! Not a test: a standalone test cluster serving a wide table, for
//! `benches/cassandra_vs_python.py`. Run with `--ignored --exact
//! cassandra::bench_server::serve_wide_table_for_benchmarks --nocapture`; it prints
//! `PORT <port>` and serves until its stdin closes. Rows are pre-encoded once, so serving a
//! page is a copy and the server is not what is measured.

use std::io::{BufRead, Write};

use crate::cql::*;

/// The benchmark table's 25 columns (the page decoder bench's mix).
pub fn wide_columns() -> Vec<Column> {
    use CqlType as T;
    let regular = [
        T::Int,
        T::Int,
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
        T::Timeuuid,
        T::Decimal,
        T::Varint,
        T::SmallInt,
        T::TinyInt,
        T::Blob,
        T::Inet,
    ];
    let mut columns = vec![Column::pk("id", T::BigInt), Column::ck("seq", T::Int)];
    columns.extend(
        regular
            .into_iter()
            .enumerate()
            .map(|(i, t)| Column::regular(&format!("c{i:02}"), t)),
    );
    columns
}

fn cell(t: &CqlType, r: i64, c: usize) -> Option<Vec<u8>> {
    if (r as usize + c).is_multiple_of(13) {
        return None;
    }
    let x = r * 31 + c as i64 * 7;
    Some(match t {
        CqlType::Int => cell_int(x as i32),
        CqlType::BigInt => cell_bigint(x * 1_000_003),
        CqlType::Text => cell_text(&format!("value-{r}-{c}-{}", "x".repeat(r as usize % 17))),
        CqlType::Double => cell_double(x as f64 * 0.25),
        CqlType::Float => cell_float(x as f32 * 0.5),
        CqlType::Boolean => cell_boolean(r % 2 == 0),
        CqlType::Timestamp => cell_timestamp(1_600_000_000_000 + x),
        CqlType::Date => cell_date((r % 20_000) as i32),
        CqlType::Uuid | CqlType::Timeuuid => {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(x as u64).to_be_bytes());
            b[8..].copy_from_slice(&(r as u64).to_be_bytes());
            b[6] = 0x10 | (b[6] & 0x0f);
            b[8] = 0x80 | (b[8] & 0x3f);
            cell_uuid(b)
        }
        CqlType::Decimal => cell_decimal(2, i128::from(x) * 12_345),
        CqlType::Varint => cell_varint(i128::from(x) * 99_991),
        CqlType::SmallInt => cell_smallint((x % 30_000) as i16),
        CqlType::TinyInt => cell_tinyint((r % 100) as i8),
        CqlType::Blob => cell_blob(&[(r % 251) as u8; 12]),
        CqlType::Inet => cell_inet(std::net::IpAddr::from([
            10,
            0,
            (r / 256 % 256) as u8,
            (r % 256) as u8,
        ])),
        _ => return None,
    })
}

/// `bench.wide` with `rows` rows, 10 per partition.
pub fn wide_table(rows: i64) -> Table {
    let columns = wide_columns();
    let rows = (0..rows)
        .map(|r| {
            let mut row = vec![Some(cell_bigint(r / 10)), Some(cell_int((r % 10) as i32))];
            row.extend(
                columns[2..]
                    .iter()
                    .enumerate()
                    .map(|(c, col)| cell(&col.typ, r, c)),
            );
            row
        })
        .collect();
    Table {
        keyspace: "bench".into(),
        name: "wide".into(),
        columns,
        rows,
    }
}

#[test]
#[ignore = "a server for benches/cassandra_vs_python.py, not a test"]
fn serve_wide_table_for_benchmarks() {
    let rows: i64 = std::env::var("QUIVER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = rt.block_on(CqlCluster::start(ClusterOptions::default()));
    cluster.add_table(wide_table(rows));
    println!("PORT {}", cluster.port());
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    while std::io::stdin().lock().read_line(&mut line).unwrap_or(0) > 0 {
        line.clear();
    }
    drop(cluster);
}
