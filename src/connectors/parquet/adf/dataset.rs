//! The `Parquet` dataset: a `location` in a store and a `compressionCodec`.
//!
//! ```json
//! {"name": "NumbersParquet", "properties": {"type": "Parquet",
//!   "linkedServiceName": {"referenceName": "LocalDisk", "type": "LinkedServiceReference"},
//!   "typeProperties": {"location": {"type": "FileServerLocation", "folderPath": "numbers"},
//!                      "compressionCodec": "zstd"}}}
//! ```

use std::sync::Arc;

use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};

use crate::config::{ConfigError, Dataset, LinkedService, Node};
use crate::connectors::store::adf::Location;

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

    /// The parquet crate's codec, at each library's default level.
    pub fn codec(self) -> Compression {
        match self {
            ParquetCompression::None => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
            ParquetCompression::Lz4 => Compression::LZ4_RAW,
            ParquetCompression::Brotli => Compression::BROTLI(BrotliLevel::default()),
        }
    }
}

/// The dataset's settings (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<ParquetDataset>, ConfigError> {
    ds.typed
        .get_or_parse(|| parse_parquet(&ds.raw.node().req_object("typeProperties")?))
}

/// Checks that the dataset's linked service serves its location type.
pub(super) fn bind(ds: &Dataset, ls: &LinkedService) -> Result<(), ConfigError> {
    typed(ds)?.location.check_linked_service(ds, ls)
}

fn parse_parquet(tp: &Node<'_>) -> Result<ParquetDataset, ConfigError> {
    let location = Location::parse(&tp.req_object("location")?)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::store::adf::LOCATION_TYPES;
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
        assert_eq!(ParquetCompression::None.codec(), Compression::UNCOMPRESSED);
        assert_eq!(ParquetCompression::Lz4.codec(), Compression::LZ4_RAW);
        assert!(matches!(
            ParquetCompression::Zstd.codec(),
            Compression::ZSTD(_)
        ));
        for name in PARQUET_COMPRESSION_CODECS {
            assert!(ParquetCompression::parse(name).is_ok(), "{name}");
        }
    }

    fn ds(v: serde_json::Value) -> Result<(Dataset, Arc<ParquetDataset>), ConfigError> {
        let d = Dataset::parse(&Node::root(&v, Path::new("ds.json")))?;
        let p = typed(&d)?;
        Ok((d, p))
    }

    #[test]
    fn parquet_on_s3() {
        let (d, p) = ds(json!({"name": "out", "properties": {
            "type": "Parquet",
            "linkedServiceName": {"referenceName": "s3", "type": "LinkedServiceReference"},
            "typeProperties": {
                "location": {"type": "AmazonS3Location", "bucketName": "b", "folderPath": "x/y"},
                "compressionCodec": "gzip"
            }
        }}))
        .unwrap();
        assert_eq!(d.linked_service, "s3");
        assert_eq!(p.compression, ParquetCompression::Gzip);
        assert_eq!(p.location.folder_path(), Some("x/y"));
        assert_eq!(p.location.linked_service_type(), "AmazonS3");
        // Read once: the dataset keeps what was read.
        assert!(Arc::ptr_eq(&p, &typed(&d).unwrap()));
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
        assert!(matches!(
            ds(json!({"name": "o", "properties": {"type": "Parquet",
                "linkedServiceName": {"referenceName": "x"}}})),
            Err(ConfigError::Missing { ref path, .. }) if path == "$.properties.typeProperties"
        ));
        match ds(json!({"name": "o", "properties": {"type": "Parquet",
            "linkedServiceName": {"referenceName": "x"},
            "typeProperties": {"location": {"type": "FileServerLocation"}, "compressionCodec": "lzo"}}}))
        .unwrap_err()
        {
            ConfigError::InvalidValue { path, allowed, .. } => {
                assert_eq!(path, "$.properties.typeProperties.compressionCodec");
                assert_eq!(allowed, PARQUET_COMPRESSION_CODECS);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
