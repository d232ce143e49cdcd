//! A factory as a DataFusion catalog: listing without I/O, lazy cached schemas, SQL across
//! datasets, per-session tuning, and errors naming the dataset.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use async_trait::async_trait;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use quiver::config::Factory;
use quiver::connectors::{
    Partition, PartitionProgress, PartitionStream, ScanRequest, Source, SourceError, SourceSpec,
};
use quiver::engine::{CATALOG, EngineOptions, ResolveError, SCHEMA, SourceTables, TableResolver};
use quiver::plan::catalog::FactoryTables;
use serde_json::{Value, json};

// ---- factories -------------------------------------------------------------------------------

fn linked(name: &str, properties: Value) -> Value {
    json!({"name": name, "properties": properties})
}

fn generator() -> Value {
    linked("Gen", json!({"type": "QuiverSynthetic"}))
}

fn synthetic_dataset(name: &str, rows: u64, partitions: usize) -> Value {
    json!({"name": name, "properties": {"type": "QuiverSyntheticTable",
        "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
        "typeProperties": {"rows": rows, "partitions": partitions, "seed": 7,
            "profile": "hiveBench"}}})
}

/// An Impala linked service `name` at `127.0.0.1:port`.
fn impala(name: &str, port: u16) -> Value {
    linked(
        name,
        json!({"type": "Impala", "version": "2.0", "typeProperties": {
            "host": "127.0.0.1", "port": port, "enableSsl": false,
            "authenticationType": "UsernameAndPassword", "username": "etl",
            "password": {"type": "SecureString", "value": "catalog-test-pw"}}}),
    )
}

fn impala_dataset(name: &str, service: &str) -> Value {
    json!({"name": name, "properties": {"type": "ImpalaObject",
        "linkedServiceName": {"referenceName": service, "type": "LinkedServiceReference"},
        "typeProperties": {"schema": "functional", "table": "alltypes"}}})
}

fn parquet_dataset(name: &str) -> Value {
    json!({"name": name, "properties": {"type": "Parquet",
        "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
        "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"}}}})
}

fn disk() -> Value {
    let dir = std::env::temp_dir().join("quiver-it-catalog-never-written");
    linked(
        "Disk",
        json!({"type": "FileServer", "typeProperties": {"host": dir.to_string_lossy()}}),
    )
}

/// A validated factory from its linked services and datasets (a bundle, no pipelines).
fn factory(test: &str, linked_services: Vec<Value>, datasets: Vec<Value>) -> Factory {
    let bundle = json!({"linkedServices": linked_services, "datasets": datasets});
    let file = std::path::PathBuf::from(format!("{test}.json"));
    quiver::plan::parse_bundle(&bundle.to_string(), &file).expect("valid factory")
}

fn options(batch_size: usize) -> EngineOptions {
    EngineOptions {
        batch_size,
        max_parallel_partitions: 3,
        ..EngineOptions::default()
    }
}

// ---- reading results ---------------------------------------------------------------------------

async fn collect(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("planning {sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("running {sql}: {e}"))
}

/// Every value of column `column` as text.
fn strings(batches: &[RecordBatch], column: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let col = b.column_by_name(column).expect("column");
            let text = arrow::compute::cast(col, &DataType::Utf8).expect("cast to text");
            let text = text.as_string::<i32>();
            (0..text.len())
                .map(|i| text.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The single row of an all-Int64 result.
fn int_row(batches: &[RecordBatch]) -> Vec<i64> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 1, "one row expected");
    let b = batches.iter().find(|b| b.num_rows() == 1).expect("the row");
    b.columns()
        .iter()
        .map(|c| {
            let c = arrow::compute::cast(c, &DataType::Int64).expect("integer column");
            c.as_primitive::<Int64Type>().value(0)
        })
        .collect()
}

/// The [`ResolveError`] inside a DataFusion error.
fn resolve_error(e: &DataFusionError) -> Option<&ResolveError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<ResolveError>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

fn assert_never_connected(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(e) => panic!("accept failed: {e}"),
        Ok((_, peer)) => panic!("something connected to the Impala port from {peer}"),
    }
}

/// Sum of `lo..hi`.
fn sum_range(lo: i64, hi: i64) -> i64 {
    (lo..hi).sum()
}

// ---- a source that counts schema() calls -------------------------------------------------------

#[derive(Debug)]
struct CountingSource {
    inner: Arc<dyn Source>,
    schema_calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Source for CountingSource {
    fn system(&self) -> &'static str {
        self.inner.system()
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        self.inner.spec()
    }

    fn resumable(&self) -> bool {
        self.inner.resumable()
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
        self.schema_calls.fetch_add(1, Ordering::SeqCst);
        // Slow enough that concurrent first uses overlap.
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        self.inner.schema().await
    }

    async fn plan(&self, request: &ScanRequest) -> Result<Vec<Partition>, SourceError> {
        self.inner.plan(request).await
    }

    fn open(
        &self,
        partition: &Partition,
        request: &ScanRequest,
        progress: PartitionProgress,
    ) -> Result<PartitionStream, SourceError> {
        self.inner.open(partition, request, progress)
    }
}

/// A factory's tables whose sources count their `schema()` calls.
#[derive(Debug)]
struct Counted {
    inner: FactoryTables,
    schema_calls: Arc<AtomicUsize>,
    resolves: AtomicUsize,
}

impl TableResolver for Counted {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    fn resolve(&self, name: &str) -> Result<Option<Arc<dyn Source>>, ResolveError> {
        self.resolves.fetch_add(1, Ordering::SeqCst);
        Ok(self.inner.resolve(name)?.map(|inner| {
            Arc::new(CountingSource {
                inner,
                schema_calls: self.schema_calls.clone(),
            }) as Arc<dyn Source>
        }))
    }
}

// ---- tests -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_factory_is_listed_without_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // 50 datasets: two synthetic, 47 Impala tables behind the listener, one Parquet sink.
    let orders: Vec<String> = (0..47).map(|i| format!("ListOrders{i:02}")).collect();
    let mut datasets = vec![
        synthetic_dataset("ListAlpha", 1000, 2),
        synthetic_dataset("ListBeta", 10, 1),
        parquet_dataset("ListSink"),
    ];
    datasets.extend(orders.iter().map(|n| impala_dataset(n, "ListImp")));
    let f = factory(
        "catalog-listing",
        vec![generator(), impala("ListImp", port), disk()],
        datasets,
    );
    let ctx = quiver::plan::catalog::session(f, &options(1000));
    let mut readable = vec!["ListAlpha".to_string(), "ListBeta".to_string()];
    readable.extend(orders);
    readable.sort();

    let shown = collect(&ctx, "SHOW TABLES").await;
    let mut listed: Vec<(String, String, String, String)> = strings(&shown, "table_catalog")
        .into_iter()
        .zip(strings(&shown, "table_schema"))
        .zip(strings(&shown, "table_name"))
        .zip(strings(&shown, "table_type"))
        .map(|(((c, s), n), t)| (c, s, n, t))
        .filter(|(_, s, _, _)| s == SCHEMA)
        .collect();
    listed.sort();
    let expected: Vec<(String, String, String, String)> = readable
        .iter()
        .map(|n| {
            (
                CATALOG.into(),
                SCHEMA.into(),
                n.clone(),
                "BASE TABLE".into(),
            )
        })
        .collect();
    assert_eq!(
        listed, expected,
        "every readable dataset; Parquet sinks are not listed"
    );

    let tables = collect(
        &ctx,
        "SELECT table_name FROM information_schema.tables \
         WHERE table_catalog = 'quiver' AND table_schema = 'factory' ORDER BY table_name",
    )
    .await;
    assert_eq!(strings(&tables, "table_name"), readable);
    assert_never_connected(&listener);

    // Reading one dataset, by any spelling, resolves that dataset only.
    for sql in [
        "SELECT count(*) FROM ListAlpha",
        "SELECT count(*) FROM factory.\"ListAlpha\"",
        "SELECT count(*) FROM quiver.factory.\"ListAlpha\"",
    ] {
        assert_eq!(int_row(&collect(&ctx, sql).await), [1000], "{sql}");
    }
    assert_never_connected(&listener);
}

#[tokio::test]
async fn concurrent_queries_take_their_session_batch_size() {
    const ROWS: i64 = 50_000;
    let f = Arc::new(factory(
        "catalog-concurrent",
        vec![generator()],
        vec![synthetic_dataset("ConcNumbers", ROWS as u64, 4)],
    ));
    // Two sessions over the same (shared) tables, with different batch sizes.
    let tables = Arc::new(SourceTables::new(Arc::new(FactoryTables::new(f))));
    let small = options(1000).catalog_session(tables.clone());
    let large = options(4096).catalog_session(tables);

    let aggregate = "SELECT count(*) AS n, sum(id) AS s, min(id) AS lo, max(id) AS hi \
                     FROM ConcNumbers WHERE id >= 1234";
    let ids = "SELECT id FROM ConcNumbers";
    let (small_sum, large_sum, small_ids, large_ids) = tokio::join!(
        collect(&small, aggregate),
        collect(&large, aggregate),
        collect(&small, ids),
        collect(&large, ids),
    );
    let expected = [ROWS - 1234, sum_range(1234, ROWS), 1234, ROWS - 1];
    assert_eq!(int_row(&small_sum), expected);
    assert_eq!(int_row(&large_sum), expected);

    for (batches, batch_size) in [(&small_ids, 1000), (&large_ids, 4096)] {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows as i64, ROWS);
        let largest = batches.iter().map(|b| b.num_rows()).max().unwrap_or(0);
        assert_eq!(
            largest, batch_size,
            "batches follow the session's batch size"
        );
        let sum: i64 = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .sum();
        assert_eq!(sum, sum_range(0, ROWS));
    }
}

#[tokio::test]
async fn a_join_across_two_datasets() {
    let f = factory(
        "catalog-join",
        vec![generator()],
        vec![
            synthetic_dataset("JoinLeft", 1000, 3),
            synthetic_dataset("JoinRight", 500, 2),
        ],
    );
    let ctx = quiver::plan::catalog::session(f, &options(256));
    // Right ids 0..500 shifted by 700 meet left ids 700..1000.
    let joined = collect(
        &ctx,
        "SELECT count(*), sum(l.id), sum(r.id) FROM JoinLeft l \
         JOIN joinright r ON l.id = r.id + 700",
    )
    .await;
    assert_eq!(
        int_row(&joined),
        [300, sum_range(700, 1000), sum_range(0, 300)]
    );
}

#[tokio::test]
async fn the_schema_is_fetched_once_on_first_use() {
    let f = factory(
        "catalog-once",
        vec![generator()],
        vec![
            synthetic_dataset("OnceCounted", 2000, 2),
            synthetic_dataset("OnceOther", 10, 1),
        ],
    );
    let resolver = Arc::new(Counted {
        inner: FactoryTables::new(f),
        schema_calls: Arc::new(AtomicUsize::new(0)),
        resolves: AtomicUsize::new(0),
    });
    let tables = Arc::new(SourceTables::new(resolver.clone()));
    let first = options(500).catalog_session(tables.clone());
    let second = options(700).catalog_session(tables.clone());

    // Listing and checking names is not a use.
    collect(&first, "SHOW TABLES").await;
    assert!(tables.contains("oncecounted"));
    assert_eq!(resolver.schema_calls.load(Ordering::SeqCst), 0);
    assert_eq!(resolver.resolves.load(Ordering::SeqCst), 0);

    // Many plannings, the first ones concurrent, from two sessions.
    let plan = |ctx: SessionContext, n: i64| async move {
        let sql = format!("SELECT count(*) FROM OnceCounted WHERE id < {n}");
        ctx.sql(&sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap()
    };
    let concurrent: Vec<_> = (0..8)
        .map(|n| {
            let ctx = if n % 2 == 0 { &first } else { &second };
            tokio::spawn(plan(ctx.clone(), n))
        })
        .collect();
    for task in concurrent {
        task.await.unwrap();
    }
    for n in 0..20 {
        plan(first.clone(), n).await;
    }
    assert_eq!(
        int_row(&collect(&second, "SELECT count(*) FROM oncecounted WHERE id < 1500").await),
        [1500]
    );
    assert_eq!(resolver.schema_calls.load(Ordering::SeqCst), 1);
    assert_eq!(resolver.resolves.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_and_unreadable_tables_fail_naming_them() {
    // A port nothing listens on: the Impala dataset resolves, its schema cannot be fetched.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let f = factory(
        "catalog-errors",
        vec![generator(), impala("ErrImp", closed), disk()],
        vec![
            synthetic_dataset("ErrFine", 10, 1),
            impala_dataset("ErrDeadImpala", "ErrImp"),
            parquet_dataset("ErrSink"),
        ],
    );
    let ctx = quiver::plan::catalog::session(f, &options(100));

    let err = ctx.sql("SELECT * FROM no_such_dataset").await.unwrap_err();
    assert!(
        matches!(err.find_root(), DataFusionError::Plan(m) if m.contains("not found")),
        "{err:?}"
    );
    assert!(err.to_string().contains("no_such_dataset"), "{err}");

    let err = ctx.sql("SELECT * FROM \"ErrSink\"").await.unwrap_err();
    let resolve = resolve_error(&err).unwrap_or_else(|| panic!("not a ResolveError: {err:?}"));
    assert!(
        matches!(resolve, ResolveError::Source { .. }),
        "{resolve:?}"
    );
    assert_eq!(resolve.table(), "ErrSink");
    let text = err.to_string();
    assert!(
        text.contains("ErrSink") && text.contains("Parquet"),
        "{text}"
    );

    let err = ctx.sql("SELECT * FROM ErrDeadImpala").await.unwrap_err();
    let resolve = resolve_error(&err).unwrap_or_else(|| panic!("not a ResolveError: {err:?}"));
    assert!(
        matches!(resolve, ResolveError::Schema { .. }),
        "{resolve:?}"
    );
    assert_eq!(resolve.table(), "ErrDeadImpala");
    let text = err.to_string();
    assert!(
        text.contains("ErrDeadImpala") && text.contains(&closed.to_string()),
        "{text}"
    );
    assert!(!text.contains("catalog-test-pw"), "{text}");

    // The failures leave the other datasets usable.
    assert_eq!(
        int_row(&collect(&ctx, "SELECT count(*) FROM ErrFine").await),
        [10]
    );
}
