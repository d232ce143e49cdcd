//! Streaming and limits: messages under the size cap, a departed client cancelling its query,
//! a full queue refused, many clients at once, and graceful shutdown.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use arrow_flight::Ticket;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::utils::flight_data_to_batches;
use futures::TryStreamExt;
use serde_json::Value;

use super::harness::{self, Served, client, client_command, synthetic_factory};

/// Rows in the "endless" table: far more than any test reads.
const HUGE: u64 = 2_000_000_000;

fn error_of(uri: &str, ticket: &str) -> Option<String> {
    harness::error_of(uri, ticket, &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_split_into_messages_under_the_cap() {
    let factory = synthetic_factory("serve-cap", 30_000, &[]);
    let served = Served::start(&factory, &["--max-message-bytes", "65536"]);
    let endpoint = served.uri.replace("grpc://", "http://");
    let channel = tonic::transport::Endpoint::from_shared(endpoint)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = FlightServiceClient::new(channel);
    let data: Vec<_> = client
        .do_get(Ticket::new("Orders"))
        .await
        .unwrap()
        .into_inner()
        .try_collect()
        .await
        .unwrap();
    let largest = data.iter().map(|d| d.data_body.len()).max().unwrap();
    assert!(largest <= 65536, "a message of {largest} bytes");
    // 30,000 rows of 8 columns are several MB: many messages.
    assert!(data.len() > 20, "{} messages", data.len());
    let batches = flight_data_to_batches(&data).unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 30_000);
}

#[test]
fn a_client_that_goes_away_cancels_its_query_and_frees_its_slot() {
    let factory = synthetic_factory("serve-cancel", HUGE, &[]);
    let served = Served::start(
        &factory,
        &["--max-concurrent-queries", "1", "--max-queued-queries", "0"],
    );
    let out = client("pa-read-one-then-quit", &served.uri, &["Orders"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The slot is free again once the server saw the client go: a new query is admitted.
    let start = Instant::now();
    loop {
        match error_of(&served.uri, "SELECT 1 AS one") {
            None => break,
            Some(e) if e.contains("busy") && start.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(200))
            }
            Some(e) => panic!("the departed client's query still holds its slot: {e}"),
        }
    }
    let rows = cancelled_rows(&served);
    assert!(rows < HUGE / 100, "the source kept reading: {rows} rows");
}

#[test]
fn a_query_beyond_the_queue_is_refused_as_busy() {
    let factory = synthetic_factory("serve-busy", HUGE, &[]);
    let served = Served::start(
        &factory,
        &["--max-concurrent-queries", "1", "--max-queued-queries", "0"],
    );
    let mut holder = client_command("pa-wait-then-read", &served.uri, &["Orders"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "started");
    let busy = error_of(&served.uri, "SELECT 1 AS one").expect("the second query is refused");
    assert!(
        busy.contains("the server is busy: 1 queries are running and 0 are queued"),
        "{busy}"
    );
    // A client that reads nothing holds the source back: after two seconds, the query has
    // produced no more than the transport's windows and the engine's channels hold.
    std::thread::sleep(Duration::from_secs(2));
    holder.kill().unwrap();
    holder.wait().unwrap();
    let rows = cancelled_rows(&served);
    assert!(
        rows < 2_000_000,
        "the source ran ahead of its client: {rows} rows"
    );
}

/// The rows the sources produced for the query the log shows as cancelled by its client,
/// once that line appears.
fn cancelled_rows(served: &Served) -> u64 {
    let start = Instant::now();
    loop {
        let log = served.stderr();
        if let Some(line) = log
            .lines()
            .find(|l| l.contains("cancelled: the client went away"))
        {
            return line
                .split(" source_rows=")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|r| r.parse().ok())
                .unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no cancelled query in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn thirty_two_clients_run_fifty_queries_each_without_an_error() {
    let factory = synthetic_factory("serve-load", 20_000, &[]);
    let served = Served::start(&factory, &[]);
    let sql = "SELECT c_boolean, count(*) AS n, sum(c_int) AS s FROM Orders GROUP BY c_boolean";
    let started = Instant::now();
    let out = client("load", &served.uri, &["32", "50", sql], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error_count"], 0, "{report}");
    assert_eq!(report["queries"], 32 * 50);
    // true, false and null.
    assert_eq!(report["distinct_rows"], serde_json::json!([3]));
    assert!(started.elapsed() < Duration::from_secs(600), "{report}");
    println!(
        "load: 1600 queries in {:.1} s; server peak RSS {} MiB",
        report["seconds"].as_f64().unwrap(),
        served.peak_rss_kib() / 1024
    );
}

#[test]
fn sigterm_lets_short_queries_finish_cancels_long_ones_after_the_grace_and_exits_0() {
    let factory = synthetic_factory("serve-shutdown", HUGE, &[]);
    let served = Served::start(&factory, &["--shutdown-grace", "1"]);
    assert_eq!(error_of(&served.uri, "SELECT count(*) FROM Kinds"), None);
    let mut holder = client_command("pa-wait-then-read", &served.uri, &["Orders"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "started");
    let pid = served.pid().to_string();
    let term = std::thread::spawn(move || served.terminate());
    std::thread::sleep(Duration::from_millis(1500));
    holder.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    let mut result = String::new();
    stdout.read_line(&mut result).unwrap();
    holder.wait().unwrap();
    let result: Value = serde_json::from_str(result.trim()).unwrap();
    let error = result["error"].as_str().unwrap_or_else(|| {
        panic!("a cut-short result must end with an error, not cleanly: {result}")
    });
    assert!(error.contains("shutting down"), "{error}");
    let (status, log) = term.join().unwrap();
    assert!(
        status.success(),
        "quiver serve (pid {pid}) exited with {status}:\n{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("outcome=\"cancelled: server shutdown\""),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_query_over_its_memory_limit_fails_naming_the_limit_and_others_go_on() {
    let factory = synthetic_factory("serve-memory", 300_000, &[]);
    let served = Served::start(&factory, &["--query-memory-mib", "1"]);
    // array_agg holds every value it aggregates and cannot spill.
    let error = error_of(
        &served.uri,
        "SELECT array_agg(c_string) AS all_strings FROM Orders",
    )
    .expect("the query is over its 1 MiB limit");
    assert!(
        error.contains("1048576-byte limit") && error.contains("raise the per-query memory limit"),
        "{error}"
    );
    assert_eq!(error_of(&served.uri, "SELECT count(*) FROM Orders"), None);
}
