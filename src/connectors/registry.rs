//! The registries: one per kind (linked service, dataset, source, sink). Adding a connector is
//! its folder plus one line in each registry it joins.
//!
//! This is the only file that names every system. [`validate`] runs every connector's checks
//! over a factory that `config::load` read generically, so that a broken factory is reported
//! (file and JSONPath) before any I/O; the lookups below give planning the entry that
//! builds each source and sink.

use std::sync::{Arc, OnceLock};

use super::entries::{DatasetEntry, LinkedServiceEntry, SinkEntry, SourceEntry};
use super::{CleanupTracker, Source, SourceError, SourceSpec};
use super::{azure, cassandra, flight, hive, kusto, parquet, store, synthetic};
use crate::config::{
    ActivityKind, ConfigError, CopySink, CopySource, Dataset, Factory, LinkedService,
};

/// The linked-service types quiver reads.
pub static LINKED_SERVICES: &[LinkedServiceEntry] = &[
    synthetic::adf::LINKED_SERVICE,
    store::adf::FILE_SERVER,
    store::adf::AZURE_BLOB_STORAGE,
    store::adf::AZURE_BLOB_FS,
    store::adf::AMAZON_S3,
    store::adf::GOOGLE_CLOUD_STORAGE,
    hive::adf::IMPALA_LINKED_SERVICE,
    hive::adf::SPARK_LINKED_SERVICE,
    flight::adf::LINKED_SERVICE,
    kusto::adf::LINKED_SERVICE,
    cassandra::adf::LINKED_SERVICE,
    azure::key_vault::LINKED_SERVICE,
];

/// The dataset types quiver reads.
pub static DATASETS: &[DatasetEntry] = &[
    synthetic::adf::DATASET,
    parquet::adf::DATASET,
    hive::adf::IMPALA_DATASET,
    hive::adf::SPARK_DATASET,
    flight::adf::DATASET,
    kusto::adf::DATASET,
    cassandra::adf::DATASET,
];

/// The Copy and Lookup source types quiver reads.
pub static SOURCES: &[SourceEntry] = &[
    synthetic::adf::SOURCE,
    parquet::adf::SOURCE,
    hive::adf::IMPALA_SOURCE,
    hive::adf::SPARK_SOURCE,
    flight::adf::SOURCE,
    kusto::adf::SOURCE,
    cassandra::adf::SOURCE,
];

/// The Copy sink types quiver writes.
pub static SINKS: &[SinkEntry] = &[parquet::adf::SINK, flight::adf::SINK, kusto::adf::SINK];

/// The distinct names `name` gives the entries, in table order, computed once.
fn names<E>(
    cell: &'static OnceLock<Vec<&'static str>>,
    entries: &'static [E],
    name: fn(&E) -> &'static str,
) -> &'static [&'static str] {
    cell.get_or_init(|| {
        let mut out: Vec<&'static str> = Vec::new();
        for n in entries.iter().map(name) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    })
}

/// The linked-service type names, for error messages.
pub fn linked_service_types() -> &'static [&'static str] {
    static CELL: OnceLock<Vec<&'static str>> = OnceLock::new();
    names(&CELL, LINKED_SERVICES, |e| e.type_name)
}

/// The dataset type names, for error messages.
pub fn dataset_types() -> &'static [&'static str] {
    static CELL: OnceLock<Vec<&'static str>> = OnceLock::new();
    names(&CELL, DATASETS, |e| e.type_name)
}

/// The sink type names, for error messages.
pub fn sink_types() -> &'static [&'static str] {
    static CELL: OnceLock<Vec<&'static str>> = OnceLock::new();
    names(&CELL, SINKS, |e| e.sink_type)
}

/// The source types that read datasets of `dataset_type`, for error messages.
pub fn source_types_for(dataset_type: &str) -> &'static [&'static str] {
    static CELL: OnceLock<Vec<(&'static str, Vec<&'static str>)>> = OnceLock::new();
    let by_dataset = CELL.get_or_init(|| {
        dataset_types()
            .iter()
            .map(|d| {
                let sources = SOURCES
                    .iter()
                    .filter(|s| s.dataset_type == *d)
                    .map(|s| s.source_type)
                    .collect();
                (*d, sources)
            })
            .collect()
    });
    by_dataset
        .iter()
        .find(|(d, _)| *d == dataset_type)
        .map(|(_, sources)| sources.as_slice())
        .unwrap_or(&[])
}

/// An `UnknownType` error at `properties.type` of a definition whose raw properties are `raw`.
fn unknown_type(
    raw: &crate::config::RawProperties,
    found: &str,
    allowed: &'static [&'static str],
) -> ConfigError {
    ConfigError::UnknownType {
        file: raw.origin.file.clone(),
        path: raw.origin.join(".type"),
        found: found.to_string(),
        allowed,
    }
}

/// The entry for a linked service's type.
pub fn linked_service(ls: &LinkedService) -> Result<&'static LinkedServiceEntry, ConfigError> {
    LINKED_SERVICES
        .iter()
        .find(|e| e.type_name == ls.type_name)
        .ok_or_else(|| unknown_type(&ls.raw, &ls.type_name, linked_service_types()))
}

/// The entry for a dataset's type.
pub fn dataset(ds: &Dataset) -> Result<&'static DatasetEntry, ConfigError> {
    DATASETS
        .iter()
        .find(|e| e.type_name == ds.type_name)
        .ok_or_else(|| unknown_type(&ds.raw, &ds.type_name, dataset_types()))
}

/// The entry for a Copy activity's sink type.
pub fn sink(settings: &CopySink) -> Result<&'static SinkEntry, ConfigError> {
    SINKS
        .iter()
        .find(|e| e.sink_type == settings.kind)
        .ok_or_else(|| unknown_type(&settings.raw, &settings.kind, sink_types()))
}

/// The entry that reads `ds`: the one for the activity's source type if there is an activity
/// source, else the first for the dataset's type. `None` when no source reads it so.
pub fn source(ds: &Dataset, activity_source: Option<&CopySource>) -> Option<&'static SourceEntry> {
    SOURCES.iter().find(|e| {
        e.dataset_type == ds.type_name && activity_source.is_none_or(|s| s.kind == e.source_type)
    })
}

/// Rebuilds a source from plain data, anywhere: a resumed run, another executor. The source
/// entry whose `system` the spec names rebuilds it; its server work counts in `cleanup`.
pub fn source_from_spec(
    spec: &SourceSpec,
    cleanup: CleanupTracker,
) -> Result<Arc<dyn Source>, SourceError> {
    let rebuild = SOURCES
        .iter()
        .filter(|e| e.system == spec.system)
        .find_map(|e| e.from_spec)
        .ok_or_else(|| SourceError::UnknownSystem {
            system: spec.system.clone(),
            known: spec_systems().to_vec(),
        })?;
    rebuild(&spec.spec, cleanup)
}

/// The source systems a spec can name.
pub fn spec_systems() -> &'static [&'static str] {
    static CELL: OnceLock<Vec<&'static str>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut out: Vec<&'static str> = Vec::new();
        for e in SOURCES.iter().filter(|e| e.from_spec.is_some()) {
            if !out.contains(&e.system) {
                out.push(e.system);
            }
        }
        out
    })
}

/// Runs every connector's checks over a factory `config::load` read: each linked service's,
/// dataset's and sink's properties, each dataset against its linked service, and each
/// activity's source and sink against its datasets. Errors carry the file and JSONPath.
pub fn validate(factory: &Factory) -> Result<(), ConfigError> {
    check_factory(factory, true)
}

/// [`validate`] for a whole factory as it was loaded: definitions of types quiver does not
/// read (an `AzureSqlDatabase` linked service, a `DelimitedText` dataset, an `AvroSink`), and
/// the Copy and Lookup activities that use them, are left for when something uses them
/// (then [`validate`] of that instance names them), so a real factory loads as it is. Each
/// is listed once at `info` level.
pub fn validate_loaded(factory: &Factory) -> Result<(), ConfigError> {
    check_factory(factory, false)
}

fn check_factory(factory: &Factory, strict: bool) -> Result<(), ConfigError> {
    let known_ls = |ls: &LinkedService| {
        let known = linked_service(ls).is_ok();
        if !known && !strict {
            tracing::info!(
                "{}: linked service {:?} is of type {}, which quiver does not read; activities that use it cannot run",
                ls.origin.file.display(),
                ls.name,
                ls.type_name
            );
        }
        strict || known
    };
    let known_ds = |ds: &Dataset| -> Result<bool, ConfigError> {
        let ls = factory.linked_service_of(ds)?;
        Ok(strict || (dataset(ds).is_ok() && linked_service(ls).is_ok()))
    };
    // Definitions with parameters or expressions are checked when a run has evaluated them
    // (`Factory::instantiate`); everything literal is checked now.
    for ls in factory.linked_services().filter(|ls| !ls.dynamic) {
        if known_ls(ls) {
            (linked_service(ls)?.check)(ls)?;
        }
    }
    for ds in factory.datasets() {
        if !known_ds(ds)? {
            continue;
        }
        // The type must be known even when the rest waits for a run.
        let entry = dataset(ds)?;
        if !ds.dynamic {
            (entry.check)(ds)?;
        }
    }
    let activities: Vec<_> = factory
        .pipelines()
        .flat_map(|p| p.all_activities())
        .collect();
    // An activity over an unknown type is checked when it is instantiated.
    let usable = |name: &str| -> Result<bool, ConfigError> { known_ds(factory.dataset(name)?) };
    for a in &activities {
        if let ActivityKind::Copy(c) = &a.kind
            && (strict || (usable(&c.output)? && sink(&c.sink).is_ok()))
        {
            (sink(&c.sink)?.check)(&c.sink)?;
        }
    }
    for ds in factory.datasets() {
        let ls = factory.linked_service_of(ds)?;
        if !ds.dynamic && !ls.dynamic && known_ds(ds)? {
            bind(ds, ls)?;
        }
    }
    let literal = |name: &str| -> Result<Option<&Dataset>, ConfigError> {
        let ds = factory.dataset(name)?;
        let ls = factory.linked_service_of(ds)?;
        Ok((!ds.dynamic && !ls.dynamic && known_ds(ds)?).then_some(ds))
    };
    for a in &activities {
        match &a.kind {
            ActivityKind::Copy(c) => {
                if let Some(input) = literal(&c.input)? {
                    check_source(input, &c.source)?;
                }
                if !(strict || (usable(&c.output)? && sink(&c.sink).is_ok())) {
                    continue;
                }
                let output = factory.dataset(&c.output)?;
                let entry = sink(&c.sink)?;
                if output.type_name != entry.dataset_type {
                    return Err(ConfigError::InvalidValue {
                        file: a.origin.file.clone(),
                        path: a.origin.join(".outputs[0].referenceName"),
                        value: c.output.clone(),
                        reason: format!(
                            "{sink} writes {written} datasets, but dataset {:?} is of type {}; point outputs at a {written} dataset",
                            c.output,
                            output.type_name,
                            sink = entry.sink_type,
                            written = entry.dataset_type,
                        ),
                        allowed: &[],
                    });
                }
            }
            ActivityKind::Lookup(l) => {
                if let Some(ds) = literal(&l.dataset)? {
                    check_source(ds, &l.source)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks that a dataset's linked service is of a type it can be bound to.
fn bind(ds: &Dataset, ls: &LinkedService) -> Result<(), ConfigError> {
    let entry = dataset(ds)?;
    if let Some(bind) = entry.bind {
        return bind(ds, ls);
    }
    if entry.linked_services.contains(&ls.type_name.as_str()) {
        return Ok(());
    }
    let expected = entry.linked_services.join(" or ");
    Err(ConfigError::InvalidValue {
        file: ds.origin.file.clone(),
        path: ds
            .origin
            .join(".properties.linkedServiceName.referenceName"),
        value: ds.linked_service.clone(),
        reason: format!(
            "a {} dataset needs a {expected} linked service, but linked service {:?} is of type {}; reference a {expected} linked service",
            entry.type_name, ls.name, ls.type_name
        ),
        allowed: &[],
    })
}

/// Checks that an activity's source type reads its dataset, then the source's own settings.
fn check_source(ds: &Dataset, source: &CopySource) -> Result<(), ConfigError> {
    if let Some(entry) = self::source(ds, Some(source)) {
        return (entry.check)(ds, source);
    }
    let allowed = source_types_for(&ds.type_name);
    let read_by = if allowed.is_empty() {
        "which quiver cannot read from".to_string()
    } else {
        format!("which is read by a {}", allowed.join(" or "))
    };
    Err(ConfigError::InvalidValue {
        file: source.raw.origin.file.clone(),
        path: source.raw.origin.join(".type"),
        value: source.kind.clone(),
        reason: format!(
            "the input dataset {:?} is of type {}, {read_by}",
            ds.name, ds.type_name
        ),
        allowed,
    })
}

#[cfg(test)]
mod tests;
