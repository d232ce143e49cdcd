//! Real factories as ADF Studio exports them: Microsoft's bulk-copy tutorial and three
//! templates of ADF's template gallery, in the git layout (`pipeline/`, `dataset/`,
//! `linkedService/`) under `tests/fixtures/exports/`, with their SQL and cloud stores swapped
//! for the synthetic source and local Parquet (each folder's NOTICE.md says what changed).
//!
//! Each test copies its factory to a fresh folder, runs its pipelines with `quiver run
//! --json` (or a Lookup with `quiver lookup`), and checks ADF's run output (pipeline and
//! activity statuses, Lookup and Copy outputs) and the exact rows in every output folder. A
//! pipeline holding an activity quiver cannot run (Execute Pipeline, Stored Procedure) must
//! load and be refused before any I/O with exit code 3, naming the activity and its type.

use std::path::{Path, PathBuf};
use std::process::Output;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use serde_json::Value;

use crate::support::{quiver, read_folder_sorted, read_parquet, unique_dir, visible_files};

/// A copy of fixture `name` in a fresh folder: (factory folder, output root for `outputRoot`).
fn fixture(name: &str) -> (PathBuf, PathBuf) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exports")
        .join(name);
    let dir = unique_dir(&format!("exports-{name}"));
    let factory = dir.join("factory");
    copy_dir(&source, &factory);
    (factory, dir.join("out"))
}

/// Copies folder `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// `quiver run FACTORY --pipeline PIPELINE --json --param NAME=VALUE ...`.
fn run(factory: &Path, pipeline: &str, params: &[(&str, &str)]) -> Output {
    let mut cmd = quiver();
    cmd.arg("run")
        .arg(factory)
        .args(["--pipeline", pipeline, "--json"]);
    for (name, value) in params {
        cmd.arg("--param").arg(format!("{name}={value}"));
    }
    cmd.output().expect("quiver runs")
}

/// Process output as text.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON on stdout: the whole of it, or its last line.
fn stdout_json(out: &Output, what: &str) -> Value {
    let stdout = text(&out.stdout);
    serde_json::from_str(stdout.trim())
        .or_else(|_| serde_json::from_str(stdout.lines().last().unwrap_or_default()))
        .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e}):\n{stdout}"))
}

/// Checks that the run exited 0 with status Succeeded; returns the run's JSON.
fn succeeded(out: &Output, pipeline: &str) -> Value {
    assert!(
        out.status.success(),
        "{pipeline}: quiver run exited with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = stdout_json(out, pipeline);
    assert_eq!(report["status"], "Succeeded", "{pipeline}: {report:#}");
    assert_eq!(report["pipelineName"], pipeline, "{report:#}");
    report
}

/// Checks that `quiver run` refused the pipeline before running anything (exit code 3),
/// naming the activity and its type.
fn refused(out: &Output, activity: &str, activity_type: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a pipeline with a {activity_type} activity must be refused as a configuration error\nstdout:\n{}\nstderr:\n{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains(activity) && stderr.contains(activity_type),
        "the error names {activity:?} and {activity_type:?}:\n{stderr}"
    );
}

/// Checks that exactly these activities ran, each as often as given, all Succeeded; the
/// expected entries are (name, type, number of runs).
fn all_succeeded(report: &Value, expected: &[(&str, &str, usize)]) {
    let runs = report["value"]
        .as_array()
        .expect("`value` lists the activity runs");
    for r in runs {
        assert_eq!(
            r["status"], "Succeeded",
            "activity {} [{}]: {r:#}",
            r["activityName"], r["activityType"]
        );
        assert!(
            expected
                .iter()
                .any(|(name, _, _)| r["activityName"] == *name),
            "unexpected activity run {r:#}"
        );
    }
    for (name, activity_type, count) in expected {
        let of: Vec<&Value> = runs.iter().filter(|r| r["activityName"] == *name).collect();
        assert_eq!(of.len(), *count, "runs of {name}: {report:#}");
        for r in of {
            assert_eq!(r["activityType"], *activity_type, "{r:#}");
        }
    }
}

/// The runs of activity `name`, in ForEach iteration order.
fn runs_of<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    let mut runs: Vec<&Value> = report["value"]
        .as_array()
        .expect("activity runs")
        .iter()
        .filter(|r| r["activityName"] == name)
        .collect();
    runs.sort_by_key(|r| r["quiver"]["iteration"][0].as_u64());
    runs
}

/// The one run of a top-level activity.
fn only_run<'a>(report: &'a Value, name: &str) -> &'a Value {
    match runs_of(report, name).as_slice() {
        [one] => {
            assert!(
                one.get("quiver")
                    .is_none_or(|q| q.get("iteration").is_none()),
                "{name} is not inside a ForEach: {one:#}"
            );
            one
        }
        other => panic!("{name} ran {} times: {report:#}", other.len()),
    }
}

/// Checks that ForEach runs are iterations 0..n, in order.
fn assert_iterations(runs: &[&Value], name: &str) {
    let got: Vec<Value> = runs
        .iter()
        .map(|r| r["quiver"]["iteration"].clone())
        .collect();
    let want: Vec<Value> = (0..runs.len()).map(|i| serde_json::json!([i])).collect();
    assert_eq!(got, want, "iterations of {name}");
}

/// `object[name]`, the key matched without regard to ASCII case: DataFusion folds unquoted
/// column names to lower case where SQL Server keeps them, and ADF reads members
/// case-insensitively (`item().TABLE_NAME` finds `table_name`).
fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no member {name:?} in {object}"))
}

/// The `id` column (the synthetic profiles' first column) of `batch`.
fn ids(batch: &RecordBatch) -> Vec<i64> {
    batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("the first column is the synthetic id (bigint)")
        .values()
        .to_vec()
}

/// The rows of a Parquet folder: exactly ids `want` (each once), checked; returns the batch.
fn folder_with_ids(folder: &Path, want: std::ops::Range<i64>) -> RecordBatch {
    assert!(
        !visible_files(folder).is_empty(),
        "no Parquet files in {}",
        folder.display()
    );
    let batch = read_folder_sorted(folder);
    assert_eq!(
        batch.num_rows(),
        want.clone().count(),
        "rows in {}",
        folder.display()
    );
    assert_eq!(
        ids(&batch),
        want.collect::<Vec<_>>(),
        "ids in {}",
        folder.display()
    );
    batch
}

/// A string column as `String`s, whatever Arrow string type it was written with.
fn strings(batch: &RecordBatch, column: &str) -> Vec<String> {
    let col = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("column {column} in {:?}", batch.schema()));
    let col = arrow::compute::cast(col, &DataType::Utf8).expect("cast to Utf8");
    let col = col.as_any().downcast_ref::<StringArray>().expect("Utf8");
    (0..col.len()).map(|i| col.value(i).to_string()).collect()
}

/// The nine SalesLT tables of the tutorial's documented Lookup output, sorted.
const SALES_LT_TABLES: [&str; 9] = [
    "Address",
    "Customer",
    "CustomerAddress",
    "Product",
    "ProductCategory",
    "ProductDescription",
    "ProductModelProductDescription",
    "SalesOrderDetail",
    "SalesOrderHeader",
];

/// Microsoft's "Copy multiple tables in bulk" tutorial: the parent pipeline (Lookup →
/// Execute Pipeline) loads and is refused; its Lookup runs alone and lists the nine tables;
/// the child pipeline, given that list as its `tableList` array (as Execute Pipeline would),
/// copies each table in a parallel ForEach to a folder named by `[schema].[table]`.
#[test]
fn tutorial_bulk_copy() {
    let (factory, out) = fixture("tutorial-bulk-copy");

    let parent = run(&factory, "GetTableListAndTriggerCopyData", &[]);
    refused(&parent, "TriggerCopy", "ExecutePipeline");

    let lookup = quiver()
        .arg("lookup")
        .arg(&factory)
        .args([
            "--pipeline",
            "GetTableListAndTriggerCopyData",
            "--activity",
            "LookupTableList",
        ])
        .output()
        .expect("quiver runs");
    assert!(
        lookup.status.success(),
        "quiver lookup LookupTableList: {:?}\n{}",
        lookup.status.code(),
        text(&lookup.stderr)
    );
    let listed = stdout_json(&lookup, "LookupTableList");
    assert_eq!(listed["count"], 9, "the tutorial's nine tables: {listed:#}");
    let tables = listed["value"].as_array().expect("Lookup `value`");
    let mut names: Vec<&str> = tables
        .iter()
        .map(|t| {
            assert_eq!(field(t, "TABLE_SCHEMA"), "SalesLT", "{t}");
            field(t, "TABLE_NAME").as_str().expect("a table name")
        })
        .collect();
    names.sort_unstable();
    assert_eq!(
        names, SALES_LT_TABLES,
        "views, dbo tables and ProductModel are filtered out"
    );

    let table_list = listed["value"].to_string();
    let root = out.to_string_lossy().into_owned();
    let child = run(
        &factory,
        "IterateAndCopySQLTables",
        &[
            ("tableList", table_list.as_str()),
            ("outputRoot", root.as_str()),
        ],
    );
    let report = succeeded(&child, "IterateAndCopySQLTables");
    all_succeeded(
        &report,
        &[("IterateSQLTables", "ForEach", 1), ("CopyData", "Copy", 9)],
    );
    only_run(&report, "IterateSQLTables");
    let copies = runs_of(&report, "CopyData");
    assert_iterations(&copies, "CopyData");
    for copy in &copies {
        assert_eq!(
            copy["output"]["rowsCopied"], 300,
            "AzureSqlDatabaseDataset has 300 rows: {copy:#}"
        );
    }

    // One folder per table, named by the sink dataset's DWTableName, each with the whole
    // synthetic table and the table's name from the query's interpolation.
    for table in SALES_LT_TABLES {
        let name = format!("[SalesLT].[{table}]");
        let batch = folder_with_ids(&out.join(&name), 0..300);
        assert!(
            strings(&batch, "source_table").iter().all(|s| *s == name),
            "source_table in {name}"
        );
    }
    assert_eq!(
        visible_files(&out).len(),
        9,
        "only the nine table folders: {:?}",
        visible_files(&out)
    );
}

/// The "Bulk Copy from Database" template: a Lookup reads the control table's partition
/// list, a ForEach (batchCount 5) runs one Copy per partition with the partition's filter
/// query, and all partitions land in one folder.
#[test]
fn bulk_copy_from_database() {
    let (factory, out) = fixture("bulk-copy-from-database");
    let root = out.to_string_lossy().into_owned();
    let pipeline = "BulkCopyfromDB_with_ControlTable";
    let result = run(
        &factory,
        pipeline,
        &[
            ("Control_Table_Name", "ControlTableForTemplate"),
            ("Control_Table_Schema_PartitionID", "PartitionID"),
            ("Control_Table_Schema_SourceTableName", "SourceTableName"),
            ("Control_Table_Schema_FilterQuery", "FilterQuery"),
            ("Data_Destination_Folder_Path", "bulkcopy"),
            ("outputRoot", root.as_str()),
        ],
    );
    let report = succeeded(&result, pipeline);
    all_succeeded(
        &report,
        &[
            ("GetPartitionList", "Lookup", 1),
            ("ForEachPartition", "ForEach", 1),
            ("CopyOnePartition", "Copy", 4),
        ],
    );
    only_run(&report, "ForEachPartition");

    // The control table's partitions of DataSource (10,000 rows, ids 0 to 9999).
    let rows_of = |partition: i64| match partition {
        1 => 2500,
        2 => 3500,
        3 => 3000,
        4 => 1000,
        other => panic!("unexpected PartitionID {other}"),
    };
    let lookup = &only_run(&report, "GetPartitionList")["output"];
    assert_eq!(lookup["count"], 4, "{lookup:#}");
    let partitions = lookup["value"].as_array().expect("Lookup `value`");
    let mut ids_listed: Vec<i64> = partitions
        .iter()
        .map(|p| {
            assert_eq!(field(p, "SourceTableName"), "DataSource", "{p}");
            assert!(
                field(p, "FilterQuery")
                    .as_str()
                    .is_some_and(|q| q.starts_with("select * from DataSource")),
                "{p}"
            );
            field(p, "PartitionID")
                .as_i64()
                .expect("an integer PartitionID")
        })
        .collect();
    ids_listed.sort_unstable();
    assert_eq!(ids_listed, [1, 2, 3, 4]);

    // Iteration i copied the partition the Lookup listed at i.
    let copies = runs_of(&report, "CopyOnePartition");
    assert_iterations(&copies, "CopyOnePartition");
    for (copy, partition) in copies.iter().zip(partitions) {
        let id = field(partition, "PartitionID").as_i64().unwrap();
        assert_eq!(
            copy["output"]["rowsCopied"],
            rows_of(id),
            "partition {id}: {copy:#}"
        );
    }

    // The four partitions together are the source table, each row once.
    folder_with_ids(&out.join("bulkcopy"), 0..10_000);
    assert_eq!(visible_files(&out).len(), 1, "{:?}", visible_files(&out));
}

/// The "Delta copy from Database" template: two Lookups read the old and the new
/// high-watermark, the Copy reads the rows between them, and a stored procedure would store
/// the new watermark. The pipeline with the stored procedure is refused before any I/O; the
/// one where Studio's "Deactivate" marks it Succeeded runs.
#[test]
fn delta_copy_from_database() {
    let (factory, out) = fixture("delta-copy-from-database");
    let root = out.to_string_lossy().into_owned();
    let params = [
        ("Data_Source_Table_Name", "DataSource"),
        ("Data_Source_WaterMarkColumn", "id"),
        ("Data_Destination_Folder_Path", "delta"),
        ("Control_Table_Table_Name", "watermarktable"),
        ("Control_Table_Column_Name", "WatermarkValue"),
        ("outputRoot", root.as_str()),
    ];

    let original = run(&factory, "DeltaCopyfromDB_using_ControlTable", &params);
    refused(&original, "UpdateWaterMark", "SqlServerStoredProcedure");
    assert!(!out.exists(), "a refused pipeline writes nothing");

    let pipeline = "DeltaCopyfromDB_without_WatermarkUpdate";
    let report = succeeded(&run(&factory, pipeline, &params), pipeline);
    all_succeeded(
        &report,
        &[
            ("LookupLastWaterMark", "Lookup", 1),
            ("LookupCurrentWaterMark", "Lookup", 1),
            ("DeltaCopyfromDB", "Copy", 1),
            ("UpdateWaterMark", "SqlServerStoredProcedure", 1),
        ],
    );
    let last = &only_run(&report, "LookupLastWaterMark")["output"];
    assert_eq!(
        field(&last["firstRow"], "WatermarkValue"),
        2999,
        "the control table's watermark: {last:#}"
    );
    let current = &only_run(&report, "LookupCurrentWaterMark")["output"];
    assert_eq!(
        field(&current["firstRow"], "NewWatermarkValue"),
        4999,
        "MAX(id) of DataSource's 5,000 rows: {current:#}"
    );
    let copy = only_run(&report, "DeltaCopyfromDB");
    assert_eq!(
        copy["output"]["rowsCopied"], 2000,
        "ids 3000 to 4999: {copy:#}"
    );
    folder_with_ids(&out.join("delta"), 3000..5000);
}

/// The "Copy multiple tables from SAP HANA to parquet" template: a sequential ForEach over
/// the `SAPTables` array parameter's default copies each table to one Parquet file named by
/// the template's (crossed) dataset arguments, `<table>.<fileDirectory>`.
#[test]
fn sap_hana_to_parquet() {
    let (factory, out) = fixture("sap-hana-to-parquet");
    let root = out.to_string_lossy().into_owned();
    let pipeline = "Copy multiple tables from SAP HANA to parquet";
    let report = succeeded(
        &run(&factory, pipeline, &[("outputRoot", root.as_str())]),
        pipeline,
    );
    all_succeeded(
        &report,
        &[
            ("For Each SAP Table", "ForEach", 1),
            ("Copy table data from SAP to parquet", "Copy", 3),
        ],
    );
    only_run(&report, "For Each SAP Table");
    let copies = runs_of(&report, "Copy table data from SAP to parquet");
    assert_iterations(&copies, "Copy table data from SAP to parquet");

    // SAPHanaTable's rows are 1000 × the table's number: 1000, 2000, 3000.
    let folder = out.join("templateOutput");
    for (n, copy) in (1_i64..=3).zip(&copies) {
        let rows = 1000 * n;
        assert_eq!(copy["output"]["rowsCopied"], rows, "Table{n}: {copy:#}");
        let file = folder.join(format!("Table{n}.templateOutput"));
        assert!(file.is_file(), "{} is written", file.display());
        let batches = read_parquet(&file);
        let mut got: Vec<i64> = batches.iter().flat_map(ids).collect();
        got.sort_unstable();
        assert_eq!(
            got,
            (0..rows).collect::<Vec<_>>(),
            "ids in {}",
            file.display()
        );
    }
    let names: Vec<String> = visible_files(&folder)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "Table1.templateOutput",
            "Table2.templateOutput",
            "Table3.templateOutput"
        ],
        "one file per table, nothing else"
    );
}
