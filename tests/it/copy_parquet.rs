//! Copies from the synthetic source to local Parquet, read back and compared value for value.

use std::sync::Arc;

use arrow::array::{Array, Int64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use quiver::connectors::parquet::{ParquetCopySink, ParquetSinkOptions};
use quiver::connectors::store::Location;
use quiver::connectors::synthetic::Profile;
use quiver::engine::{CopyJob, CopyPlan, EngineOptions};
use quiver::types::{ColumnType, INTERIM_TYPE_KEY, InterimType};

use crate::support::{arc, read_folder_sorted, read_parquet, synthetic, unique_dir, visible_files};

fn job(
    source: quiver::connectors::synthetic::SyntheticSource,
    dir: &std::path::Path,
    options: ParquetSinkOptions,
    query: Option<&str>,
) -> CopyJob {
    CopyJob {
        source: arc(source),
        table: "synthetic".into(),
        query: query.map(str::to_string),
        sink: Arc::new(ParquetCopySink::new(
            Location::local_folder(dir).unwrap(),
            options,
            "test",
        )),
        options: EngineOptions {
            batch_size: 1000,
            max_parallel_partitions: 3,
            ..EngineOptions::default()
        },
        retry: Default::default(),
        checkpoint: None,
    }
}

#[tokio::test]
async fn every_interim_type_round_trips_value_for_value() {
    let dir = unique_dir("roundtrip");
    let source = synthetic(20_011, 3, Profile::AllTypes);
    let expected = source.generate(None, 0..20_011).unwrap();
    let report = CopyPlan::build(job(source, &dir, ParquetSinkOptions::default(), None))
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(report.rows_read, 20_011);
    assert_eq!(report.rows_copied, 20_011);
    assert_eq!(report.commit.rows_written, 20_011);
    assert_eq!(report.commit.files.len(), 3, "one file per partition");
    assert_eq!(report.partitions.len(), 3);

    let actual = read_folder_sorted(&dir);
    assert_eq!(actual.num_rows(), expected.num_rows());
    // The interim vocabulary is covered: every type appears in the schema.
    let interims: Vec<InterimType> = actual
        .schema()
        .fields()
        .iter()
        .map(|f| {
            ColumnType::from_field(f)
                .expect("mapping survives Parquet")
                .interim
        })
        .collect();
    for t in InterimType::ALL {
        assert!(
            interims.iter().any(|i| i.name() == t.name()),
            "{t} missing from the synthetic schema"
        );
    }
    for (i, field) in expected.schema().fields().iter().enumerate() {
        let got = actual.column(i);
        let want = expected.column(i);
        assert_eq!(
            got.data_type(),
            want.data_type(),
            "type of {}",
            field.name()
        );
        assert_eq!(
            got.null_count(),
            want.null_count(),
            "nulls of {}",
            field.name()
        );
        // ArrayData equality compares the value bytes, so NaN and -0.0 must survive bit for bit.
        assert_eq!(got.to_data(), want.to_data(), "values of {}", field.name());
        let got_field = actual.schema().field(i).clone();
        assert_eq!(
            got_field.metadata().get(INTERIM_TYPE_KEY),
            field.metadata().get(INTERIM_TYPE_KEY)
        );
        assert_eq!(got_field.extension_type_name(), field.extension_type_name());
    }
}

#[tokio::test]
async fn max_rows_per_file_and_prefix_name_the_files() {
    let dir = unique_dir("maxrows");
    let options = ParquetSinkOptions {
        max_rows_per_file: Some(3000),
        file_name_prefix: Some("part".into()),
        ..Default::default()
    };
    let report = CopyPlan::build(job(
        synthetic(10_000, 2, Profile::HiveBench),
        &dir,
        options,
        None,
    ))
    .await
    .unwrap()
    .run()
    .await
    .unwrap();
    let files = visible_files(&dir);
    // Two partitions of 5,000 rows: 3,000 + 2,000 each.
    assert_eq!(files.len(), 4, "{files:?}");
    let mut sizes = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("part_") && name.ends_with(".parquet"),
            "{name}"
        );
        sizes.push(read_parquet(f).iter().map(|b| b.num_rows()).sum::<usize>());
    }
    sizes.sort();
    assert_eq!(sizes, vec![2000, 2000, 3000, 3000]);
    assert_eq!(report.commit.files.len(), 4);
    assert_eq!(read_folder_sorted(&dir).num_rows(), 10_000);
}

#[tokio::test]
async fn a_named_file_merges_partitions_into_one() {
    let dir = unique_dir("single");
    let options = ParquetSinkOptions {
        file_name: Some("everything.parquet".into()),
        ..Default::default()
    };
    let report = CopyPlan::build(job(
        synthetic(5_000, 4, Profile::HiveBench),
        &dir,
        options,
        None,
    ))
    .await
    .unwrap()
    .run()
    .await
    .unwrap();
    let files = visible_files(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name().unwrap(), "everything.parquet");
    assert_eq!(report.rows_copied, 5_000);
    let batch = read_folder_sorted(&dir);
    let ids = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(ids.values().to_vec(), (0..5_000).collect::<Vec<i64>>());
}

#[tokio::test]
async fn each_codec_is_written_as_asked() {
    for codec in [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::GZIP(GzipLevel::default()),
        Compression::ZSTD(ZstdLevel::default()),
        Compression::LZ4_RAW,
        Compression::BROTLI(BrotliLevel::default()),
    ] {
        let dir = unique_dir("codec");
        let options = ParquetSinkOptions {
            compression: codec,
            ..Default::default()
        };
        CopyPlan::build(job(
            synthetic(2_000, 1, Profile::HiveBench),
            &dir,
            options,
            None,
        ))
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
        let file = &visible_files(&dir)[0];
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap()).unwrap();
        let column = reader.metadata().row_group(0).column(0).compression();
        assert_eq!(
            std::mem::discriminant(&column),
            std::mem::discriminant(&codec),
            "{codec:?}"
        );
        assert_eq!(read_folder_sorted(&dir).num_rows(), 2_000);
    }
}

#[tokio::test]
async fn a_filtering_query_keeps_partitions_and_a_sorting_one_merges_them() {
    let dir = unique_dir("filter");
    let plan = CopyPlan::build(job(
        synthetic(9_000, 3, Profile::HiveBench),
        &dir,
        ParquetSinkOptions::default(),
        Some("SELECT id, c_string FROM synthetic WHERE id % 3 = 0"),
    ))
    .await
    .unwrap();
    assert_eq!(
        plan.display().matches("DataSinkExec").count(),
        3,
        "{}",
        plan.display()
    );
    let report = plan.run().await.unwrap();
    assert_eq!(report.rows_copied, 3_000);
    let batch = read_folder_sorted(&dir);
    assert_eq!(batch.num_columns(), 2);
    let ids = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert!(ids.values().iter().all(|v| v % 3 == 0));

    let dir = unique_dir("sorted");
    let plan = CopyPlan::build(job(
        synthetic(9_000, 3, Profile::HiveBench),
        &dir,
        ParquetSinkOptions::default(),
        Some("SELECT id FROM synthetic ORDER BY id DESC LIMIT 10"),
    ))
    .await
    .unwrap();
    assert_eq!(
        plan.display().matches("DataSinkExec").count(),
        1,
        "{}",
        plan.display()
    );
    let report = plan.run().await.unwrap();
    assert_eq!(report.rows_copied, 10);
    let files = visible_files(&dir);
    assert_eq!(files.len(), 1);
    let batches = read_parquet(&files[0]);
    let ids = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(ids.value(0), 8_999);
}
