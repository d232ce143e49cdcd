//! Version 1.0's SQL-92 queries: run by DataFusion over token-range reads of the table they
//! name, with partition-key equality pushed down; CQL (2.0, or a 1.0 query with CQL's own
//! constructs) runs on the cluster as written. Driven through `quiver lookup` and `quiver copy`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{data_requests, orders};
use crate::cql::{ClusterOptions, CqlCluster, LoggedRequest};
use crate::support::{factory_folder, quiver, unique_dir};

const ROWS: i32 = 3_000;

/// A factory over `c`: linked service `Cassandra` (`version`, or none for 1.0), a dataset
/// `Any` with no keyspace or table, and a Lookup activity `Look` per query (`Look0`, …).
fn factory(c: &CqlCluster, test: &str, version: Option<&str>, queries: &[&str]) -> PathBuf {
    let dir = unique_dir(test);
    let (factory, write) = factory_folder(&dir, "factory");
    let mut ls = json!({"name": "Cassandra", "properties": {"type": "Cassandra",
        "typeProperties": {"host": c.hosts().join(","), "port": c.port(),
            "authenticationType": "Anonymous"}}});
    if let Some(v) = version {
        ls["properties"]["version"] = v.into();
    }
    write("linkedService/Cassandra.json", ls);
    write(
        "dataset/Any.json",
        json!({"name": "Any", "properties": {"type": "CassandraTable",
            "linkedServiceName": {"referenceName": "Cassandra", "type": "LinkedServiceReference"},
            "typeProperties": {}}}),
    );
    let activities: Vec<Value> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({"name": format!("Look{i}"), "type": "Lookup", "typeProperties": {
                "dataset": {"referenceName": "Any", "type": "DatasetReference"},
                "firstRowOnly": false,
                "source": {"type": "CassandraSource", "query": q}}})
        })
        .collect();
    write(
        "pipeline/P.json",
        json!({"name": "P", "properties": {"activities": activities}}),
    );
    factory
}

/// Runs Lookup activity `i`: its rows, or its stderr.
fn lookup(factory: &PathBuf, i: usize) -> Result<Vec<Value>, String> {
    let out = quiver()
        .args(["lookup", "--activity", &format!("Look{i}")])
        .arg(factory)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(v["value"].as_array().unwrap().clone())
}

fn texts(requests: &[LoggedRequest]) -> Vec<String> {
    requests.iter().filter_map(|r| r.query.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_sql92_query_runs_in_datafusion_over_token_ranges_with_the_key_pushed_down() {
    let c = CqlCluster::start(ClusterOptions {
        nodes: 2,
        ..Default::default()
    })
    .await;
    c.add_table(orders("sq", "t", ROWS));
    let by_key = "SELECT seq, amount, label FROM sq.t WHERE id = 7 ORDER BY seq DESC";
    let grouped = "SELECT flag, COUNT(*) AS n, SUM(amount) AS total FROM Sq.T \
                   WHERE amount >= 700 GROUP BY flag ORDER BY flag";
    let f = factory(&c, "cassandra-sql92", None, &[by_key, grouped]);

    // Partition-key equality: one partition read on the cluster, the rest in DataFusion.
    c.clear_requests();
    let rows = lookup(&f, 0).unwrap();
    assert_eq!(
        rows,
        vec![
            json!({"seq": 1, "amount": 50, "label": "order-7-1"}),
            json!({"seq": 0, "amount": 49, "label": "order-7-0"}),
        ]
    );
    let sent = texts(&data_requests(&c.requests(), "sq"));
    assert!(!sent.is_empty());
    for q in &sent {
        assert!(q.contains("\"id\" = ?") && !q.contains("token("), "{q}");
        assert_ne!(q, by_key, "the SQL-92 text went to the cluster");
    }

    // An aggregate: token ranges on both nodes, grouped and filtered in DataFusion.
    c.clear_requests();
    let rows = lookup(&f, 1).unwrap();
    let mut expected: BTreeMap<bool, (i64, i64)> = BTreeMap::new();
    for i in 0..ROWS {
        let (id, seq) = (i64::from(i / 2), i64::from(i % 2));
        let amount = id * 7 + seq;
        if amount >= 700 {
            let e = expected.entry(id % 3 == 0).or_default();
            e.0 += 1;
            e.1 += amount;
        }
    }
    let expected: Vec<Value> = expected
        .into_iter()
        .map(|(flag, (n, total))| json!({"flag": flag, "n": n, "total": total}))
        .collect();
    assert_eq!(rows, expected);
    let requests = data_requests(&c.requests(), "sq");
    assert!(
        texts(&requests).iter().all(|q| q.contains("token(")),
        "{:?}",
        texts(&requests)
    );
    let nodes: std::collections::BTreeSet<usize> = requests.iter().map(|r| r.node).collect();
    assert_eq!(nodes.len(), 2, "ranges went to nodes {nodes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cql_runs_on_the_cluster_as_written() {
    let c = CqlCluster::start(ClusterOptions::default()).await;
    c.add_table(orders("cq", "t", 200));
    let plain = "SELECT id, seq, label FROM cq.t WHERE id = 5";
    let filtering = "SELECT id, seq, label FROM cq.t WHERE id = 5 ALLOW FILTERING";
    // 2.0 takes CQL only; 1.0 runs a query with CQL's own constructs as CQL.
    for (version, query) in [(Some("2.0"), plain), (None, filtering)] {
        let f = factory(&c, "cassandra-cql", version, &[query]);
        c.clear_requests();
        let rows = lookup(&f, 0).unwrap();
        assert_eq!(rows.len(), 2, "{version:?}: {rows:?}");
        assert_eq!(rows[1], json!({"id": 5, "seq": 1, "label": "order-5-1"}));
        let sent = texts(&data_requests(&c.requests(), "cq"));
        assert!(sent.iter().any(|q| q == query), "{version:?}: {sent:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_sql92_query_over_two_tables_is_refused_before_any_read() {
    let c = CqlCluster::start(ClusterOptions::default()).await;
    c.add_table(orders("two", "a", 10));
    c.add_table(orders("two", "b", 10));
    let join = "SELECT a.id FROM two.a JOIN two.b ON a.id = b.id";
    let f = factory(&c, "cassandra-sql92-join", None, &[join]);
    c.clear_requests();
    let e = lookup(&f, 0).unwrap_err();
    assert!(
        e.contains("P.json")
            && e.contains("source.query")
            && e.contains("\"two\".\"a\", \"two\".\"b\""),
        "{e}"
    );
    assert!(data_requests(&c.requests(), "two").is_empty());
}
