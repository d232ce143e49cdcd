//! Shared helpers: unique folders, reading Parquet back, a source that fails on purpose.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use futures::StreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quiver::connectors::synthetic::{Profile, SyntheticConfig, SyntheticSource};
use quiver::connectors::{
    Partition, PartitionProgress, PartitionStream, ScanRequest, Source, SourceError, SourceSpec,
};

/// A fresh folder, unique to the test and the run: `$TMPDIR/quiver-it/<pid>/<test>-<n>`.
///
/// A run's folders stay after it ends, for a look at a failure; the next run removes those of
/// runs whose process is gone, so repeated runs do not fill the disk.
pub fn unique_dir(test: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    static SWEPT: std::sync::Once = std::sync::Once::new();
    let root = std::env::temp_dir().join("quiver-it");
    SWEPT.call_once(|| sweep_finished_runs(&root));
    let dir = root
        .join(std::process::id().to_string())
        .join(format!("{test}-{}", N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test folder");
    dir
}

/// Removes the folders of earlier test runs whose process no longer exists.
fn sweep_finished_runs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A synthetic source.
pub fn synthetic(rows: u64, partitions: usize, profile: Profile) -> SyntheticSource {
    SyntheticSource::new(SyntheticConfig {
        rows,
        partitions,
        seed: 7,
        profile,
    })
    .expect("valid synthetic config")
}

/// Visible (not hidden) files in a folder, sorted.
pub fn visible_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(['.', '_'])
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Every file in a folder, hidden ones included.
pub fn all_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Reads a Parquet file into batches.
pub fn read_parquet(file: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(file).expect("open parquet");
    ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("parquet footer")
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("read batches")
}

/// Reads every visible Parquet file in a folder and concatenates the rows in id order.
pub fn read_folder_sorted(dir: &Path) -> RecordBatch {
    let batches: Vec<RecordBatch> = visible_files(dir)
        .iter()
        .flat_map(|f| read_parquet(f))
        .collect();
    let schema = batches.first().expect("at least one batch").schema();
    let all = arrow::compute::concat_batches(&schema, &batches).expect("concat");
    let ids = all.column(0);
    let order = arrow::compute::sort_to_indices(ids, None, None).expect("sort");
    let columns = all
        .columns()
        .iter()
        .map(|c| arrow::compute::take(c, &order, None).expect("take"))
        .collect();
    RecordBatch::try_new(schema, columns).expect("sorted batch")
}

/// Wraps a source: fails partition `partition` with an error after `after` batches.
#[derive(Debug)]
pub struct FailingSource {
    pub inner: SyntheticSource,
    pub partition: usize,
    pub after: usize,
}

#[async_trait]
impl Source for FailingSource {
    fn system(&self) -> &'static str {
        "Failing"
    }

    fn spec(&self) -> Result<SourceSpec, SourceError> {
        self.inner.spec()
    }

    async fn schema(&self) -> Result<SchemaRef, SourceError> {
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
        let inner = self.inner.open(partition, request, progress)?;
        if partition.index != self.partition {
            return Ok(inner);
        }
        let after = self.after;
        let index = partition.index;
        Ok(inner
            .enumerate()
            .map(move |(i, item)| {
                if i == after {
                    // Any connector error would do; the synthetic one has a public variant.
                    Err(SourceError::connector(
                        "Synthetic",
                        false,
                        quiver::connectors::synthetic::SyntheticError::Invalid {
                            property: "injected",
                            value: index as u64,
                            expected: "this test makes the partition fail",
                        },
                    ))
                } else {
                    item
                }
            })
            .boxed())
    }
}

/// Arc helper.
pub fn arc<S: Source + 'static>(s: S) -> Arc<dyn Source> {
    Arc::new(s)
}

/// Writes a factory folder with a synthetic dataset `Synth` (`rows`, `partitions`, `profile`),
/// a Parquet dataset `Out` in `out`, and pipeline `P` with Copy activity `Copy` and Lookup
/// activity `Look` (SQL `lookup_query`, all rows).
pub fn write_factory(
    dir: &Path,
    rows: u64,
    partitions: usize,
    profile: &str,
    out: &Path,
    lookup_query: &str,
) -> PathBuf {
    let factory = dir.join("factory");
    for sub in ["linkedService", "dataset", "pipeline"] {
        std::fs::create_dir_all(factory.join(sub)).unwrap();
    }
    let write = |path: &str, value: serde_json::Value| {
        std::fs::write(
            factory.join(path),
            serde_json::to_string_pretty(&value).unwrap(),
        )
        .unwrap();
    };
    write(
        "linkedService/Gen.json",
        serde_json::json!({"name": "Gen", "properties": {"type": "QuiverSynthetic"}}),
    );
    write(
        "linkedService/Disk.json",
        serde_json::json!({"name": "Disk", "properties": {"type": "FileServer",
            "typeProperties": {"host": out.to_string_lossy()}}}),
    );
    write(
        "dataset/Synth.json",
        serde_json::json!({"name": "Synth", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "Gen", "type": "LinkedServiceReference"},
            "typeProperties": {"rows": rows, "partitions": partitions, "seed": 7, "profile": profile}}}),
    );
    write(
        "dataset/Out.json",
        serde_json::json!({"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
            "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"},
                "compressionCodec": "zstd"}}}),
    );
    write(
        "pipeline/P.json",
        serde_json::json!({"name": "P", "properties": {"activities": [
            {"name": "Copy", "type": "Copy",
             "inputs": [{"referenceName": "Synth", "type": "DatasetReference"}],
             "outputs": [{"referenceName": "Out", "type": "DatasetReference"}],
             "typeProperties": {"source": {"type": "QuiverSyntheticSource"},
                "sink": {"type": "ParquetSink", "formatSettings": {"type": "ParquetWriteSettings"}},
                "parallelCopies": 2}},
            {"name": "Look", "type": "Lookup",
             "typeProperties": {"source": {"type": "QuiverSyntheticSource", "query": lookup_query},
                "dataset": {"referenceName": "Synth", "type": "DatasetReference"},
                "firstRowOnly": false}}
        ]}}),
    );
    factory
}

/// A factory folder `dir/name` with `linkedService/`, `dataset/` and `pipeline/`, and a
/// writer of definitions into it by relative path.
pub fn factory_folder(
    dir: &Path,
    name: &str,
) -> (PathBuf, impl Fn(&str, serde_json::Value) + use<>) {
    let factory = dir.join(name);
    for sub in ["linkedService", "dataset", "pipeline"] {
        std::fs::create_dir_all(factory.join(sub)).unwrap();
    }
    let root = factory.clone();
    let write = move |path: &str, value: serde_json::Value| {
        std::fs::write(
            root.join(path),
            serde_json::to_string_pretty(&value).unwrap(),
        )
        .unwrap()
    };
    (factory, write)
}

/// The `quiver` binary built for these tests.
pub fn quiver() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_quiver"))
}

/// Starts `cmd` (a test server that prints its port as its first stdout line) and reads the
/// port; `what` names the server in failures.
pub fn spawn_with_port(mut cmd: std::process::Command, what: &str) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("read the port of {what}: {e}"));
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{what} printed {line:?} instead of its port"));
    (child, port)
}

/// Writes, with a [`factory_folder`] writer, a FileServer linked service `Disk` at `out` and a
/// Parquet dataset `Out` in its folder `data`: the output side of a copy to local Parquet.
pub fn write_parquet_out(write: &impl Fn(&str, serde_json::Value), out: &Path) {
    write(
        "linkedService/Disk.json",
        serde_json::json!({"name": "Disk", "properties": {"type": "FileServer",
            "typeProperties": {"host": out.to_string_lossy()}}}),
    );
    write(
        "dataset/Out.json",
        serde_json::json!({"name": "Out", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "Disk", "type": "LinkedServiceReference"},
            "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "data"}}}}),
    );
}
