//! Times quiver's Kusto v2 parse: a recorded response body, fed in 64 KiB chunks (as the
//! network delivers it) to the response reader, decoded into Arrow batches of 8,192 rows.
//! Prints one JSON line per run, `{"seconds", "bytes", "rows"}`; used by
//! `benches/kusto_parse_vs_sdk.py`, which runs azure-kusto-data on the same body.
//!
//! ```text
//! cargo build --release --features bench-bins --bin kusto-parse
//! target/release/kusto-parse BODY.json [RUNS]
//! ```

use std::time::Instant;

use quiver::connectors::kusto::response::ResponseReader;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: kusto_parse BODY.json [RUNS]");
    let runs: usize = args
        .next()
        .map_or(1, |r| r.parse().expect("RUNS is a number"));
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    for _ in 0..runs {
        let start = Instant::now();
        let mut reader = ResponseReader::new(8192);
        let mut rows = 0usize;
        for chunk in body.chunks(64 << 10) {
            reader.push(chunk).expect("a valid response");
            while let Some(b) = reader.pop() {
                rows += b.batch.num_rows();
            }
        }
        reader.finish().expect("a complete response");
        while let Some(b) = reader.pop() {
            rows += b.batch.num_rows();
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{{\"seconds\": {seconds}, \"bytes\": {}, \"rows\": {rows}}}",
            body.len()
        );
    }
}
