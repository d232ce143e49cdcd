//! Datasets: named data in a store, reached through a linked service.
//!
//! [`parse_kind`] is the registry of dataset types (one `match` on
//! `properties.type`).

use super::error::ConfigError;
use super::json::Node;
use super::origin::Origin;
use crate::connectors::hive::options::ReadTarget;
use crate::connectors::synthetic::{MAX_PARTITIONS, Profile};

/// The dataset `type` names quiver recognises.
pub const DATASET_TYPES: &[&str] = &[
    "QuiverSyntheticTable",
    "Parquet",
    "ImpalaObject",
    "SparkObject",
];

/// One dataset of the factory.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The dataset's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.linkedServiceName.referenceName`.
    pub linked_service: String,
    /// The type and its properties.
    pub kind: DatasetKind,
}

/// A dataset's type and validated `typeProperties`.
#[derive(Debug, Clone)]
pub enum DatasetKind {
    /// `QuiverSyntheticTable`.
    Synthetic(SyntheticDataset),
    /// `Parquet`.
    Parquet(ParquetDataset),
    /// `ImpalaObject`.
    Impala(HiveDataset),
    /// `SparkObject`.
    Spark(HiveDataset),
}

impl DatasetKind {
    /// The ADF `type` string of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            DatasetKind::Synthetic(_) => "QuiverSyntheticTable",
            DatasetKind::Parquet(_) => "Parquet",
            DatasetKind::Impala(_) => "ImpalaObject",
            DatasetKind::Spark(_) => "SparkObject",
        }
    }

    /// The linked-service type this dataset must be bound to.
    pub fn linked_service_type(&self) -> &'static str {
        match self {
            DatasetKind::Synthetic(_) => "QuiverSynthetic",
            DatasetKind::Parquet(p) => p.location.linked_service_type(),
            DatasetKind::Impala(_) => "Impala",
            DatasetKind::Spark(_) => "Spark",
        }
    }
}

/// `QuiverSyntheticTable` typeProperties (all optional): the synthetic source's own
/// configuration, with its documented defaults.
pub type SyntheticDataset = crate::connectors::synthetic::SyntheticConfig;

/// `ImpalaObject` / `SparkObject` typeProperties: the table to read, if any (a copy
/// source's `query` may stand in for it).
///
/// ADF accepts `schema` + `table`, or the legacy `tableName` ("name of the table with
/// schema"). quiver reads `tableName` as `table` or `schema.table`, where either part may
/// be quoted with backticks (`` `my.db`.`t` ``, a doubled backtick inside standing for one)
/// so that names containing dots can be written; more than two parts is an error. `schema`
/// and `table` are taken literally (a dot in `table` is part of the name). The names are
/// kept unquoted here; the source quotes them with backticks, doubling any backtick inside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HiveDataset {
    /// The table, when the dataset names one.
    pub table: Option<HiveTable>,
}

/// A table of an `ImpalaObject`/`SparkObject` dataset, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiveTable {
    /// Database (schema), if given.
    pub schema: Option<String>,
    /// Table name.
    pub table: String,
}

impl HiveTable {
    /// The read target for this table.
    pub fn read_target(&self) -> ReadTarget {
        ReadTarget::Table {
            schema: self.schema.clone(),
            table: self.table.clone(),
        }
    }
}

/// `Parquet` typeProperties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetDataset {
    /// `location`.
    pub location: Location,
    /// `compressionCodec`, default Snappy.
    pub compression: ParquetCompression,
}

/// Parquet compression codecs quiver writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParquetCompression {
    /// `none`: uncompressed.
    None,
    /// `snappy` (the default).
    #[default]
    Snappy,
    /// `gzip`.
    Gzip,
    /// `zstd`.
    Zstd,
    /// `lz4`.
    Lz4,
    /// `brotli`.
    Brotli,
}

/// The accepted `compressionCodec` values.
pub const PARQUET_COMPRESSION_CODECS: &[&str] =
    &["none", "snappy", "gzip", "zstd", "lz4", "brotli"];

impl ParquetCompression {
    /// Parses an ADF `compressionCodec` value (case-insensitive). Returns a
    /// reason on failure.
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "none" => ParquetCompression::None,
            "snappy" => ParquetCompression::Snappy,
            "gzip" => ParquetCompression::Gzip,
            "zstd" => ParquetCompression::Zstd,
            "lz4" => ParquetCompression::Lz4,
            "brotli" => ParquetCompression::Brotli,
            "lzo" => {
                return Err(
                    "LZO is not supported by quiver (nor by ADF's Copy activity for Parquet); choose another codec",
                );
            }
            _ => return Err("unknown compression codec; choose one of the allowed values"),
        })
    }
}

/// Where a file-based dataset lives (`typeProperties.location`). Paths are
/// relative to the container/bucket/file system (or the FileServer host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `FileServerLocation`.
    FileServer {
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AzureBlobStorageLocation`.
    AzureBlobStorage {
        /// `container` (required).
        container: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AzureBlobFSLocation` (ADLS Gen2).
    AzureBlobFS {
        /// `fileSystem` (required).
        file_system: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
    /// `AmazonS3Location`.
    AmazonS3 {
        /// `bucketName` (required).
        bucket_name: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
        /// `version` (an S3 object version).
        version: Option<String>,
    },
    /// `GoogleCloudStorageLocation`.
    GoogleCloudStorage {
        /// `bucketName` (required).
        bucket_name: String,
        /// `folderPath`.
        folder_path: Option<String>,
        /// `fileName`.
        file_name: Option<String>,
    },
}

/// The accepted `location.type` values.
pub const LOCATION_TYPES: &[&str] = &[
    "FileServerLocation",
    "AzureBlobStorageLocation",
    "AzureBlobFSLocation",
    "AmazonS3Location",
    "GoogleCloudStorageLocation",
];

impl Location {
    /// The ADF `location.type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            Location::FileServer { .. } => "FileServerLocation",
            Location::AzureBlobStorage { .. } => "AzureBlobStorageLocation",
            Location::AzureBlobFS { .. } => "AzureBlobFSLocation",
            Location::AmazonS3 { .. } => "AmazonS3Location",
            Location::GoogleCloudStorage { .. } => "GoogleCloudStorageLocation",
        }
    }

    /// The linked-service type that can serve this location.
    pub fn linked_service_type(&self) -> &'static str {
        match self {
            Location::FileServer { .. } => "FileServer",
            Location::AzureBlobStorage { .. } => "AzureBlobStorage",
            Location::AzureBlobFS { .. } => "AzureBlobFS",
            Location::AmazonS3 { .. } => "AmazonS3",
            Location::GoogleCloudStorage { .. } => "GoogleCloudStorage",
        }
    }

    /// `folderPath`, if set.
    pub fn folder_path(&self) -> Option<&str> {
        match self {
            Location::FileServer { folder_path, .. }
            | Location::AzureBlobStorage { folder_path, .. }
            | Location::AzureBlobFS { folder_path, .. }
            | Location::AmazonS3 { folder_path, .. }
            | Location::GoogleCloudStorage { folder_path, .. } => folder_path.as_deref(),
        }
    }

    /// `fileName`, if set.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Location::FileServer { file_name, .. }
            | Location::AzureBlobStorage { file_name, .. }
            | Location::AzureBlobFS { file_name, .. }
            | Location::AmazonS3 { file_name, .. }
            | Location::GoogleCloudStorage { file_name, .. } => file_name.as_deref(),
        }
    }
}

/// Reads one dataset definition (`{"name": ..., "properties": ...}`).
pub(crate) fn parse(def: &Node<'_>) -> Result<Dataset, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let linked_service = props
        .req_object("linkedServiceName")?
        .req_str("referenceName")?
        .to_string();
    let type_node = props.req("type", "the dataset type, e.g. \"Parquet\"")?;
    let kind = parse_kind(type_node.as_str()?, &type_node, &props)?;
    Ok(Dataset {
        name,
        origin: def.origin(),
        linked_service,
        kind,
    })
}

/// The registry of dataset types.
fn parse_kind(
    type_name: &str,
    type_node: &Node<'_>,
    props: &Node<'_>,
) -> Result<DatasetKind, ConfigError> {
    let tp = props.opt_object("typeProperties")?;
    Ok(match type_name {
        "QuiverSyntheticTable" => DatasetKind::Synthetic(parse_synthetic(tp.as_ref())?),
        "Parquet" => DatasetKind::Parquet(parse_parquet(&props.req_object("typeProperties")?)?),
        "ImpalaObject" => DatasetKind::Impala(parse_hive(tp.as_ref())?),
        "SparkObject" => DatasetKind::Spark(parse_hive(tp.as_ref())?),
        other => return Err(type_node.unknown_type(other, DATASET_TYPES)),
    })
}

fn parse_synthetic(tp: Option<&Node<'_>>) -> Result<SyntheticDataset, ConfigError> {
    let mut d = SyntheticDataset::default();
    if let Some(tp) = tp {
        if let Some(rows) = tp.opt_u64("rows")? {
            d.rows = rows;
        }
        if let Some(p) = tp.opt_u64_in("partitions", 1..=MAX_PARTITIONS as u64)? {
            d.partitions = p as usize;
        }
        if let Some(seed) = tp.opt_u64("seed")? {
            d.seed = seed;
        }
        if let Some(node) = tp.field("profile") {
            let name = node.as_str()?;
            d.profile = Profile::from_name(name)
                .ok_or_else(|| node.invalid(name, "unknown synthetic profile", Profile::NAMES))?;
        }
        tp.warn_unknown_keys(&["rows", "partitions", "seed", "profile"]);
    }
    Ok(d)
}

fn parse_hive(tp: Option<&Node<'_>>) -> Result<HiveDataset, ConfigError> {
    let Some(tp) = tp else {
        return Ok(HiveDataset::default());
    };
    tp.warn_unknown_keys(&["schema", "table", "tableName"]);
    let name = |key: &str| -> Result<Option<String>, ConfigError> {
        match tp.field(key) {
            None => Ok(None),
            Some(node) => {
                let s = node.as_str()?;
                if s.trim().is_empty() {
                    return Err(node.invalid(s, "must not be empty; set a name or remove it", &[]));
                }
                Ok(Some(s.to_string()))
            }
        }
    };
    let schema = name("schema")?;
    let table = name("table")?;
    if let Some(legacy_node) = tp.field("tableName") {
        let legacy = legacy_node.as_str()?;
        if schema.is_some() || table.is_some() {
            return Err(legacy_node.invalid(
                legacy,
                "tableName (legacy) and schema/table both name the table; keep only schema and table",
                &[],
            ));
        }
        let (schema, table) =
            split_table_name(legacy).map_err(|reason| legacy_node.invalid(legacy, reason, &[]))?;
        return Ok(HiveDataset {
            table: Some(HiveTable { schema, table }),
        });
    }
    match (schema, table) {
        (None, None) => Ok(HiveDataset::default()),
        (schema, Some(table)) => Ok(HiveDataset {
            table: Some(HiveTable { schema, table }),
        }),
        (Some(_), None) => Err(tp.missing(
            "table",
            "the table name (schema alone does not name a table)",
        )),
    }
}

/// Splits a legacy `tableName` into an optional schema and a table (see [`HiveDataset`]).
/// Returns a reason on failure.
pub fn split_table_name(name: &str) -> Result<(Option<String>, String), String> {
    let mut parts: Vec<String> = Vec::new();
    let mut chars = name.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'`') {
            chars.next();
            loop {
                match chars.next() {
                    Some('`') if chars.peek() == Some(&'`') => {
                        chars.next();
                        part.push('`');
                    }
                    Some('`') => break,
                    Some(c) => part.push(c),
                    None => {
                        return Err(
                            "a backtick-quoted name is not closed; write `schema`.`table`".into(),
                        );
                    }
                }
            }
            match chars.peek() {
                None | Some('.') => {}
                Some(_) => {
                    return Err(
                        "unexpected text after a backtick-quoted name; write `schema`.`table`"
                            .into(),
                    );
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '`' {
                    return Err("a backtick inside an unquoted name; quote the whole name, e.g. `my``table`".into());
                }
                part.push(c);
                chars.next();
            }
            part = part.trim().to_string();
        }
        if part.trim().is_empty() {
            return Err("has an empty name part; write table or schema.table".into());
        }
        parts.push(part);
        // Both branches above stop at a '.' or at the end.
        if chars.next().is_none() {
            break;
        }
    }
    match parts.len() {
        1 => Ok((None, parts.pop().unwrap_or_default())),
        2 => {
            let table = parts.pop().unwrap_or_default();
            Ok((parts.pop(), table))
        }
        n => Err(format!(
            "has {n} dot-separated parts; write table or schema.table, and quote names containing dots with backticks, or use the schema and table properties"
        )),
    }
}

fn parse_parquet(tp: &Node<'_>) -> Result<ParquetDataset, ConfigError> {
    let location = parse_location(&tp.req_object("location")?)?;
    let compression = match tp.field("compressionCodec") {
        None => ParquetCompression::default(),
        Some(node) => {
            let s = node.as_str()?;
            ParquetCompression::parse(s)
                .map_err(|r| node.invalid(s, r, PARQUET_COMPRESSION_CODECS))?
        }
    };
    tp.warn_unknown_keys(&["location", "compressionCodec"]);
    Ok(ParquetDataset {
        location,
        compression,
    })
}

fn parse_location(loc: &Node<'_>) -> Result<Location, ConfigError> {
    let type_node = loc.req(
        "type",
        "the location type, e.g. \"AzureBlobStorageLocation\"",
    )?;
    let folder_path = loc.opt_str("folderPath")?.map(str::to_string);
    let file_name = loc.opt_str("fileName")?.map(str::to_string);
    let (location, known): (Location, &[&str]) = match type_node.as_str()? {
        "FileServerLocation" => (
            Location::FileServer {
                folder_path,
                file_name,
            },
            &[],
        ),
        "AzureBlobStorageLocation" => (
            Location::AzureBlobStorage {
                container: loc.req_str("container")?.to_string(),
                folder_path,
                file_name,
            },
            &["container"],
        ),
        "AzureBlobFSLocation" => (
            Location::AzureBlobFS {
                file_system: loc.req_str("fileSystem")?.to_string(),
                folder_path,
                file_name,
            },
            &["fileSystem"],
        ),
        "AmazonS3Location" => (
            Location::AmazonS3 {
                bucket_name: loc.req_str("bucketName")?.to_string(),
                folder_path,
                file_name,
                version: loc.opt_str("version")?.map(str::to_string),
            },
            &["bucketName", "version"],
        ),
        "GoogleCloudStorageLocation" => (
            Location::GoogleCloudStorage {
                bucket_name: loc.req_str("bucketName")?.to_string(),
                folder_path,
                file_name,
            },
            &["bucketName"],
        ),
        other => return Err(type_node.unknown_type(other, LOCATION_TYPES)),
    };
    let mut all = vec!["type", "folderPath", "fileName"];
    all.extend_from_slice(known);
    loc.warn_unknown_keys(&all);
    Ok(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn compression_codecs() {
        assert_eq!(
            ParquetCompression::parse("SNAPPY"),
            Ok(ParquetCompression::Snappy)
        );
        assert_eq!(
            ParquetCompression::parse("none"),
            Ok(ParquetCompression::None)
        );
        assert_eq!(
            ParquetCompression::parse("gzip"),
            Ok(ParquetCompression::Gzip)
        );
        assert_eq!(
            ParquetCompression::parse("Zstd"),
            Ok(ParquetCompression::Zstd)
        );
        assert_eq!(
            ParquetCompression::parse("lz4"),
            Ok(ParquetCompression::Lz4)
        );
        assert_eq!(
            ParquetCompression::parse("brotli"),
            Ok(ParquetCompression::Brotli)
        );
        assert!(
            ParquetCompression::parse("lzo")
                .unwrap_err()
                .contains("not supported by quiver")
        );
        assert!(ParquetCompression::parse("bzip2").is_err());
        assert_eq!(ParquetCompression::default(), ParquetCompression::Snappy);
    }

    fn ds(v: serde_json::Value) -> Result<Dataset, ConfigError> {
        parse(&Node::root(&v, Path::new("ds.json")))
    }

    #[test]
    fn parquet_on_s3() {
        let d = ds(json!({"name": "out", "properties": {
            "type": "Parquet",
            "linkedServiceName": {"referenceName": "s3", "type": "LinkedServiceReference"},
            "typeProperties": {
                "location": {"type": "AmazonS3Location", "bucketName": "b", "folderPath": "x/y"},
                "compressionCodec": "gzip"
            }
        }}))
        .unwrap();
        assert_eq!(d.linked_service, "s3");
        let DatasetKind::Parquet(p) = d.kind else {
            panic!()
        };
        assert_eq!(p.compression, ParquetCompression::Gzip);
        assert_eq!(p.location.folder_path(), Some("x/y"));
        assert_eq!(p.location.linked_service_type(), "AmazonS3");
    }

    #[test]
    fn synthetic_defaults_and_range() {
        let d = ds(
            json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "gen"}}}),
        )
        .unwrap();
        let DatasetKind::Synthetic(s) = d.kind else {
            panic!()
        };
        assert_eq!(s, SyntheticDataset::default());

        match ds(json!({"name": "g", "properties": {"type": "QuiverSyntheticTable",
            "linkedServiceName": {"referenceName": "gen"}, "typeProperties": {"partitions": 5000}}}))
        .unwrap_err()
        {
            ConfigError::InvalidValue { path, value, .. } => {
                assert_eq!(path, "$.properties.typeProperties.partitions");
                assert_eq!(value, "5000");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn location_errors() {
        match ds(json!({"name": "o", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "blob"},
            "typeProperties": {"location": {"type": "AzureBlobStorageLocation"}}}}))
        .unwrap_err()
        {
            ConfigError::Missing { path, .. } => {
                assert_eq!(path, "$.properties.typeProperties.location.container")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            ds(json!({"name": "o", "properties": {"type": "Parquet",
                "linkedServiceName": {"referenceName": "x"},
                "typeProperties": {"location": {"type": "HttpServerLocation"}}}})),
            Err(ConfigError::UnknownType { allowed, .. }) if allowed == LOCATION_TYPES
        ));
    }

    fn hive_ds(kind: &str, tp: serde_json::Value) -> Result<HiveDataset, ConfigError> {
        let d = ds(json!({"name": "t", "properties": {"type": kind,
            "linkedServiceName": {"referenceName": "ls"}, "typeProperties": tp}}))?;
        match d.kind {
            DatasetKind::Impala(h) | DatasetKind::Spark(h) => Ok(h),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn table(schema: Option<&str>, table: &str) -> Option<HiveTable> {
        Some(HiveTable {
            schema: schema.map(str::to_string),
            table: table.to_string(),
        })
    }

    #[test]
    fn hive_schema_and_table() {
        let h = hive_ds(
            "ImpalaObject",
            json!({"schema": "sales", "table": "orders"}),
        )
        .unwrap();
        assert_eq!(h.table, table(Some("sales"), "orders"));
        assert_eq!(
            h.table.unwrap().read_target(),
            ReadTarget::Table {
                schema: Some("sales".into()),
                table: "orders".into()
            }
        );
        let h = hive_ds("SparkObject", json!({"table": "a.b"})).unwrap();
        assert_eq!(h.table, table(None, "a.b"), "table is taken literally");
        assert_eq!(hive_ds("SparkObject", json!({})).unwrap().table, None);
        let d = ds(json!({"name": "t", "properties": {"type": "SparkObject",
            "linkedServiceName": {"referenceName": "ls"}}}))
        .unwrap();
        assert!(matches!(
            d.kind,
            DatasetKind::Spark(HiveDataset { table: None })
        ));
        assert!(matches!(
            hive_ds("SparkObject", json!({"schema": "s"})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.properties.typeProperties.table"
        ));
        assert!(matches!(
            hive_ds("SparkObject", json!({"table": " "})),
            Err(ConfigError::InvalidValue { ref path, .. }) if path == "$.properties.typeProperties.table"
        ));
    }

    #[test]
    fn hive_legacy_table_name() {
        let h = hive_ds("ImpalaObject", json!({"tableName": "sales.orders"})).unwrap();
        assert_eq!(h.table, table(Some("sales"), "orders"));
        let h = hive_ds("ImpalaObject", json!({"tableName": "orders"})).unwrap();
        assert_eq!(h.table, table(None, "orders"));
        let h = hive_ds("SparkObject", json!({"tableName": "`my.db`.`odd``name`"})).unwrap();
        assert_eq!(h.table, table(Some("my.db"), "odd`name"));
        let h = hive_ds("SparkObject", json!({"tableName": " db . t "})).unwrap();
        assert_eq!(h.table, table(Some("db"), "t"));

        for bad in ["a.b.c", "a.", ".b", "`a", "`a`b", "a`b", ""] {
            match hive_ds("SparkObject", json!({"tableName": bad})) {
                Err(ConfigError::InvalidValue { path, value, .. }) => {
                    assert_eq!(path, "$.properties.typeProperties.tableName");
                    assert_eq!(value, bad);
                }
                other => panic!("{bad:?}: unexpected {other:?}"),
            }
        }
        // Not both forms at once.
        match hive_ds("ImpalaObject", json!({"tableName": "s.t", "table": "t"})).unwrap_err() {
            ConfigError::InvalidValue { path, reason, .. } => {
                assert_eq!(path, "$.properties.typeProperties.tableName");
                assert!(reason.contains("keep only schema and table"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
