//! Synthetic source throughput: generating batches, one partition and all partitions through
//! the engine's scan. `cargo bench --bench synthetic`

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use quiver::bench::measure;
use quiver::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
use quiver::engine::EngineOptions;
use quiver::engine::query::QueryPlan;

const ROWS: u64 = 1_000_000;

fn source(profile: Profile, partitions: usize) -> SyntheticSource {
    SyntheticSource::new(SyntheticConfig {
        rows: ROWS,
        partitions,
        seed: 42,
        profile,
    })
    .expect("valid config")
}

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("synthetic_generate");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    for profile in [Profile::HiveBench, Profile::AllTypes] {
        let s = source(profile, 1);
        group.bench_with_input(
            BenchmarkId::new(format!("{profile:?}"), ROWS),
            &s,
            |b, s| {
                b.iter(|| {
                    let mut at = 0;
                    while at < ROWS {
                        let end = (at + 8192).min(ROWS);
                        std::hint::black_box(s.generate(None, at..end).expect("batch"));
                        at = end;
                    }
                })
            },
        );
    }
    group.finish();
}

fn scan(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("synthetic_scan");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    for profile in [Profile::HiveBench, Profile::AllTypes] {
        let s: Arc<dyn quiver::connectors::Source> = Arc::new(source(profile, cores));
        group.bench_function(BenchmarkId::new(format!("{profile:?}"), cores), |b| {
            b.to_async(&rt).iter(|| async {
                let options = EngineOptions::default();
                let plan = QueryPlan::build(s.clone(), "t", None, &options)
                    .await
                    .expect("plan");
                let report = measure(&plan, cores).await.expect("scan");
                assert_eq!(report.rows, ROWS);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, generate, scan);
criterion_main!(benches);
