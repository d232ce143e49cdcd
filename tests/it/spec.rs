//! Serialisable sources: a synthetic source's spec and partitions, through JSON and the
//! registry, read exactly the rows of the original. (Impala's and Spark's round trips are in
//! `impala.rs` and `spark.rs`, against their servers.)

use futures::StreamExt;
use quiver::connectors::synthetic::Profile;
use quiver::connectors::{
    CleanupTracker, Partition, PartitionProgress, ScanRequest, Source, SourceSpec, registry,
};

use crate::support::synthetic;

async fn read(source: &dyn Source, partitions: &[Partition], request: &ScanRequest) -> Vec<String> {
    let mut rows = Vec::new();
    for p in partitions {
        let mut stream = source
            .open(p, request, PartitionProgress::new(p.index))
            .unwrap();
        while let Some(batch) = stream.next().await {
            let batch = batch.unwrap();
            let text = arrow::util::pretty::pretty_format_batches(&[batch]).unwrap();
            rows.extend(text.to_string().lines().map(str::to_string));
        }
    }
    rows
}

#[tokio::test]
async fn a_synthetic_spec_round_trips_and_reads_the_same_rows() {
    let original = synthetic(10_007, 3, Profile::AllTypes);
    let request = ScanRequest {
        projection: Some(vec![0, 3, 9, 15]),
        batch_size: 1000,
        ..ScanRequest::default()
    };
    let partitions = original.plan(&request).await.unwrap();
    assert_eq!(partitions.len(), 3);
    let text = serde_json::to_string(&(original.spec().unwrap(), &partitions)).unwrap();
    let (spec, back): (SourceSpec, Vec<Partition>) = serde_json::from_str(&text).unwrap();
    assert_eq!(back, partitions);
    let rebuilt = registry::source_from_spec(&spec, CleanupTracker::new()).unwrap();
    assert_eq!(
        rebuilt.schema().await.unwrap(),
        original.schema().await.unwrap()
    );
    let expected = read(&original, &partitions, &request).await;
    assert!(expected.len() > 10_007);
    assert_eq!(read(rebuilt.as_ref(), &back, &request).await, expected);
}

#[test]
fn an_unknown_system_is_refused_naming_the_known_ones() {
    let spec = SourceSpec {
        system: "Oracle".into(),
        spec: serde_json::json!({}),
    };
    let e = registry::source_from_spec(&spec, CleanupTracker::new())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("Oracle") && e.contains("Synthetic") && e.contains("Spark"),
        "{e}"
    );
}
