//! Faults during a scan: a node dropping its connection mid-page, ReadTimeout, Overloaded and
//! Unavailable, a slow node, and a fault that does not pass. Every completed scan is checked
//! whole against the cluster's rows: nothing lost, nothing read twice.

use std::time::Duration;

use super::{data_requests, digest, expected_digest, orders, read_all, settings, table_source};
use crate::cql::{ClusterOptions, CqlCluster, ErrorCode, Fault};

async fn three_nodes(keyspace: &str, rows: i32) -> CqlCluster {
    let c = CqlCluster::start(ClusterOptions {
        nodes: 3,
        ..Default::default()
    })
    .await;
    c.add_table(orders(keyspace, "t", rows));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_dropping_its_connection_mid_page_loses_and_repeats_nothing() {
    let c = three_nodes("drop", 12_000).await;
    c.inject(1, Fault::DropConnectionAfterPages(3));
    c.inject(2, Fault::DropConnectionAfterPages(7));
    let source = table_source(&settings(&c, None), "drop", "t", |cfg| cfg.page_size = 250);
    let batches = read_all(&source, 2, 300).await.unwrap();
    assert_eq!(digest(&batches), expected_digest(12_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_timeout_overloaded_and_unavailable_are_asked_again() {
    let c = three_nodes("retry", 6_000).await;
    c.inject(
        0,
        Fault::Error {
            code: ErrorCode::ReadTimeout,
            times: 2,
        },
    );
    c.inject(
        1,
        Fault::Error {
            code: ErrorCode::Overloaded,
            times: 2,
        },
    );
    c.inject(
        2,
        Fault::Error {
            code: ErrorCode::Unavailable,
            times: 2,
        },
    );
    let source = table_source(&settings(&c, None), "retry", "t", |cfg| cfg.page_size = 400);
    let batches = read_all(&source, 2, 1000).await.unwrap();
    assert_eq!(digest(&batches), expected_digest(6_000));
    // The failed pages were asked again: six more data requests than pages served.
    let data = data_requests(&c.requests(), "retry");
    let first_pages = data.iter().filter(|r| r.paging_state.is_none()).count();
    assert!(first_pages >= 6, "{first_pages} first-page requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_that_does_not_pass_fails_transiently_naming_the_range() {
    let c = CqlCluster::start(ClusterOptions::default()).await;
    c.add_table(orders("hard", "t", 100));
    c.inject(
        0,
        Fault::Error {
            code: ErrorCode::ReadTimeout,
            times: 1000,
        },
    );
    let source = table_source(&settings(&c, None), "hard", "t", |_| {});
    let e = read_all(&source, 1, 100).await.unwrap_err();
    assert!(e.is_transient(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("token range (") && text.contains("4 attempt"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_node_slows_its_ranges_and_loses_nothing() {
    let c = three_nodes("slow", 4_000).await;
    c.inject(2, Fault::Delay(Duration::from_millis(40)));
    let source = table_source(&settings(&c, None), "slow", "t", |cfg| cfg.page_size = 300);
    let batches = read_all(&source, 2, 1000).await.unwrap();
    assert_eq!(digest(&batches), expected_digest(4_000));
    let slow = data_requests(&c.requests(), "slow")
        .iter()
        .filter(|r| r.node == 2)
        .count();
    assert!(slow > 0, "the slow node served its ranges");
}
