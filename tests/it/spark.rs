//! The Spark source against real Spark Thrift Servers (pyspark 4.3.0 from PyPI), one per
//! transport, plus a Spark 3.5 one (pyspark 3.5.9, binary SASL), started by
//! `scripts/spark-servers.sh start` (which `scripts/test.sh` runs).
//!
//! Values are checked against what Spark itself says about them, computed by Spark in the
//! same row through another representation: `unix_micros` for timestamps, `unix_date` for
//! dates, `hex` for strings and binaries, `CAST(… AS STRING)` for numbers and decimals,
//! `to_json` for complex values, and interval arithmetic for intervals. The servers run with
//! the session time zone America/Los_Angeles, so timestamps only match if quiver sets its
//! session to UTC as it should.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use arrow::array::{
    Array, AsArray, BinaryArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, SchemaRef,
    TimeUnit,
};
use futures::StreamExt;
use quiver::connectors::hive::options::{
    ConnectOptions, Credentials, Flavor, HiveSourceConfig, RangePartitioning, ReadTarget,
    TlsOptions, TransportMode,
};
use quiver::connectors::hive::source::HiveSource;
use quiver::connectors::{PartitionProgress, ScanRequest, Source, SourceError};
use quiver::types::ConnectorVersion;

/// Ports and files of the running servers.
pub struct SparkEnv {
    values: HashMap<String, String>,
}

impl SparkEnv {
    pub fn port(&self, mode: &str) -> u16 {
        let key = format!("SPARK_{}_PORT", mode.to_uppercase());
        self.values[&key].parse().expect("port number")
    }

    pub fn ca_pem(&self) -> PathBuf {
        PathBuf::from(&self.values["SPARK_CA_PEM"])
    }
}

/// The servers `scripts/spark-servers.sh start` wrote down. Fails the test when they are not
/// running: these tests must not pass by skipping.
pub fn spark_env() -> &'static SparkEnv {
    static ENV: OnceLock<SparkEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/spark/servers.env");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "the Spark tests need real Spark Thrift Servers: {} is unreadable ({e}). \
                 Start them with `scripts/spark-servers.sh start` (scripts/test.sh does).",
                file.display()
            )
        });
        let values = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SparkEnv { values }
    })
}

/// Connection settings for one of the servers.
pub fn connect(mode: &str) -> ConnectOptions {
    let env = spark_env();
    let (transport, credentials) = match mode {
        "nosasl" => (TransportMode::Raw, None),
        "sasl" | "sasl_tls" | "sasl35" => (TransportMode::SaslPlain, Some(user())),
        "http" | "http_tls" => (
            TransportMode::Http {
                path: "/cliservice".into(),
            },
            Some(user()),
        ),
        other => panic!("no Spark server mode {other}"),
    };
    let tls = mode.ends_with("_tls").then(|| TlsOptions {
        trusted_cert_path: Some(env.ca_pem()),
        ..TlsOptions::default()
    });
    ConnectOptions {
        flavor: Flavor::Spark,
        host: "127.0.0.1".into(),
        port: env.port(mode),
        transport,
        credentials,
        tls,
        connect_timeout: ConnectOptions::DEFAULT_CONNECT_TIMEOUT,
        read_timeout: ConnectOptions::DEFAULT_READ_TIMEOUT,
        session_configuration: Default::default(),
    }
}

fn user() -> Credentials {
    Credentials {
        username: "quiver".into(),
        password: Some(quiver::config::Secret::new("any-password")),
    }
}

pub fn source(mode: &str, version: ConnectorVersion, target: ReadTarget) -> HiveSource {
    HiveSource::new(HiveSourceConfig {
        version,
        connect: connect(mode),
        target,
        fetch_rows: HiveSourceConfig::DEFAULT_FETCH_ROWS,
        partitioning: None,
    })
}

/// Reads every partition of `source` one after another and concatenates the batches.
pub async fn read_all(
    source: &HiveSource,
    target_partitions: usize,
) -> Result<(SchemaRef, RecordBatch, usize), SourceError> {
    let schema = source.schema().await?;
    let request = ScanRequest {
        target_partitions,
        ..Default::default()
    };
    let partitions = source.plan(&request).await?;
    let mut batches = Vec::new();
    for p in &partitions {
        let mut stream = source.open(p, &request, PartitionProgress::new(p.index))?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            assert_eq!(
                batch.schema(),
                schema,
                "every batch has the source's schema"
            );
            batches.push(batch);
        }
    }
    let all = concat_batches(&schema, &batches).expect("same schema");
    Ok((schema, all, partitions.len()))
}

/// Every Spark type of the docs' table, with NULLs and extremes, and beside each column the
/// reference Spark computes for it. `id % 11` picks the special cases.
const EVERY_TYPE_SQL: &str = "
WITH t AS (SELECT id, id % 11 AS k FROM range(0, 1500))
SELECT id,
  CASE WHEN k = 0 THEN NULL ELSE id % 2 = 0 END AS c_boolean,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN CAST(127 AS TINYINT) WHEN 2 THEN CAST(-128 AS TINYINT)
         ELSE CAST(id % 100 - 50 AS TINYINT) END AS c_byte,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN CAST(32767 AS SMALLINT) WHEN 2 THEN CAST(-32768 AS SMALLINT)
         ELSE CAST(id * 7 - 5000 AS SMALLINT) END AS c_short,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN 2147483647 WHEN 2 THEN -2147483648
         ELSE CAST(id * 1000003 - 700000000 AS INT) END AS c_int,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN 9223372036854775807L WHEN 2 THEN -9223372036854775808L
         ELSE id * 1000000007 - 3 END AS c_long,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN float('NaN') WHEN 2 THEN float('Infinity')
         WHEN 3 THEN float('-Infinity') WHEN 4 THEN CAST(-0.0 AS FLOAT)
         WHEN 5 THEN CAST(3.4028235E38 AS FLOAT) WHEN 6 THEN CAST(1.4E-45 AS FLOAT)
         ELSE CAST(id / 7.0 AS FLOAT) END AS c_float,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN double('NaN') WHEN 2 THEN double('Infinity')
         WHEN 3 THEN double('-Infinity') WHEN 4 THEN -0.0D WHEN 5 THEN 1.7976931348623157E308D
         WHEN 6 THEN 4.9E-324D ELSE id / 3.0D END AS c_double,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN DATE'0001-01-01' WHEN 2 THEN DATE'9999-12-31'
         WHEN 3 THEN DATE'2024-02-29' ELSE date_add(DATE'1970-01-01', CAST(id * 37 - 20000 AS INT)) END AS c_date,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN TIMESTAMP'0001-01-01 00:00:00Z'
         WHEN 2 THEN TIMESTAMP'9999-12-31 23:59:59.999999Z'
         ELSE timestamp_micros(id * 1234567891011 - 900000000000000) END AS c_timestamp,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN TIMESTAMP_NTZ'0001-01-01 00:00:00'
         WHEN 2 THEN TIMESTAMP_NTZ'9999-12-31 23:59:59.999999'
         ELSE CAST(timestamp_micros(id * 987654321 + 5) AS TIMESTAMP_NTZ) END AS c_timestamp_ntz,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'héllo ✓ 日本'
         WHEN 3 THEN concat('nul', char(0), 'byte') WHEN 4 THEN repeat('x', 5000)
         ELSE CAST(id AS STRING) END AS c_string,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN X'' WHEN 2 THEN X'00FF7F80'
         ELSE CAST(CAST(id AS STRING) AS BINARY) END AS c_binary,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN CAST('9999999999999999999999999999.9999999999' AS DECIMAL(38,10))
         WHEN 2 THEN CAST('-9999999999999999999999999999.9999999999' AS DECIMAL(38,10))
         WHEN 3 THEN CAST(0 AS DECIMAL(38,10)) WHEN 4 THEN CAST('-0.001' AS DECIMAL(38,10))
         ELSE CAST(id / 3.0 AS DECIMAL(38,10)) END AS c_decimal,
  CASE k WHEN 0 THEN NULL ELSE CAST(id / 8.0 - 90 AS DECIMAL(9,2)) END AS c_decimal_small,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN array() WHEN 2 THEN array(1, NULL)
         ELSE array(id, id + 1) END AS c_array,
  CASE k WHEN 0 THEN NULL ELSE map('k', id, 'neg', -id) END AS c_map,
  CASE k WHEN 0 THEN NULL ELSE named_struct('a', id, 's', CAST(id AS STRING), 'b', id % 2 = 0) END AS c_struct,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN make_ym_interval(-3, -4)
         ELSE make_ym_interval(CAST(id % 50 AS INT), CAST(id % 12 AS INT)) END AS c_ym,
  CASE k WHEN 0 THEN NULL WHEN 1 THEN make_dt_interval(-1, -2, -3, -4.5)
         ELSE make_dt_interval(CAST(id % 40 AS INT), CAST(id % 24 AS INT), CAST(id % 60 AS INT), id / 7.0) END AS c_dt
FROM t";

/// The reference columns, from the columns above.
const REFERENCE_SQL: &str = "
SELECT id,
  CAST(c_boolean AS STRING) AS r_boolean, CAST(c_byte AS STRING) AS r_byte,
  CAST(c_short AS STRING) AS r_short, CAST(c_int AS STRING) AS r_int,
  CAST(c_long AS STRING) AS r_long, CAST(c_float AS STRING) AS r_float,
  CAST(c_double AS STRING) AS r_double, CAST(unix_date(c_date) AS STRING) AS r_date,
  CAST(unix_micros(c_timestamp) AS STRING) AS r_timestamp,
  CAST(unix_micros(CAST(c_timestamp_ntz AS TIMESTAMP)) AS STRING) AS r_timestamp_ntz,
  hex(c_string) AS r_string, hex(c_binary) AS r_binary,
  CAST(c_decimal AS STRING) AS r_decimal, CAST(c_decimal_small AS STRING) AS r_decimal_small,
  to_json(c_array) AS r_array, to_json(c_map) AS r_map, to_json(c_struct) AS r_struct,
  CAST(extract(YEAR FROM c_ym) * 12 + extract(MONTH FROM c_ym) AS STRING) AS r_ym,
  CAST(unix_micros(TIMESTAMP'1970-01-01 00:00:00Z' + c_dt) AS STRING) AS r_dt
FROM (EVERY) e";

fn every_type_query() -> String {
    EVERY_TYPE_SQL.to_string()
}

fn reference_query() -> String {
    REFERENCE_SQL.replace("EVERY", EVERY_TYPE_SQL)
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"));
    let a = a
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("text reference");
    a.iter().map(|v| v.map(str::to_string)).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn sort_by_id(batch: &RecordBatch) -> RecordBatch {
    let ids = batch.column_by_name("id").unwrap();
    let idx = arrow::compute::sort_to_indices(ids, None, None).unwrap();
    arrow::compute::take_record_batch(batch, &idx).unwrap()
}

/// `y-m` (Hive style, signed) as months.
fn ym_months(text: &str) -> i64 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (y, m) = t.split_once('-').expect("y-m");
    let months = y.parse::<i64>().unwrap() * 12 + m.parse::<i64>().unwrap();
    if neg { -months } else { months }
}

/// `d hh:mm:ss.fffffffff` (Hive style, signed) as microseconds.
fn dt_micros(text: &str) -> i64 {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (d, rest) = t.split_once(' ').expect("d hh:mm:ss");
    let mut hms = rest.split(':');
    let h: i64 = hms.next().unwrap().parse().unwrap();
    let m: i64 = hms.next().unwrap().parse().unwrap();
    let s = hms.next().unwrap();
    let (sec, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac_us: i64 = format!("{frac:0<6}")[..6].parse().unwrap();
    let us = ((d.parse::<i64>().unwrap() * 24 + h) * 60 + m) * 60_000_000
        + sec.parse::<i64>().unwrap() * 1_000_000
        + frac_us;
    if neg { -us } else { us }
}

fn float_eq(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

/// Asserts that every column of `ours` equals Spark's reference for it, row by row.
fn assert_matches_spark(ours: &RecordBatch, reference: &RecordBatch, version: ConnectorVersion) {
    assert_eq!(ours.num_rows(), reference.num_rows());
    let ids = ours
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>();
    let ref_ids = reference
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(ids, ref_ids, "the same rows");
    let mut checked = 0usize;
    let mut compare = |name: &str, reference_col: &str, f: &dyn Fn(usize, &str) -> bool| {
        let col = ours
            .column_by_name(name)
            .unwrap_or_else(|| panic!("column {name}"));
        let refs = strings(reference, reference_col);
        let mut nulls = 0;
        for (row, r) in refs.iter().enumerate() {
            match r {
                None => {
                    assert!(col.is_null(row), "{name} row {row}: Spark says NULL");
                    nulls += 1;
                }
                Some(r) => {
                    assert!(col.is_valid(row), "{name} row {row}: NULL, Spark says {r}");
                    assert!(
                        f(row, r),
                        "{name} row {row} (id {}): Spark says {r}",
                        ids.value(row)
                    );
                    checked += 1;
                }
            }
        }
        assert!(nulls > 0, "{name}: the data has NULLs");
    };
    let c = |n: &str| ours.column_by_name(n).unwrap().clone();
    let boolean = c("c_boolean");
    compare("c_boolean", "r_boolean", &|i, r| {
        boolean.as_boolean().value(i).to_string() == r
    });
    let byte = c("c_byte");
    compare("c_byte", "r_byte", &|i, r| {
        let v: i64 = match version {
            ConnectorVersion::V2 => byte.as_primitive::<Int8Type>().value(i).into(),
            ConnectorVersion::V1 => byte.as_primitive::<Int16Type>().value(i).into(),
        };
        v.to_string() == r
    });
    let short = c("c_short");
    compare("c_short", "r_short", &|i, r| {
        short.as_primitive::<Int16Type>().value(i).to_string() == r
    });
    let int = c("c_int");
    compare("c_int", "r_int", &|i, r| {
        int.as_primitive::<Int32Type>().value(i).to_string() == r
    });
    let long = c("c_long");
    compare("c_long", "r_long", &|i, r| {
        long.as_primitive::<Int64Type>().value(i).to_string() == r
    });
    let float = c("c_float");
    compare("c_float", "r_float", &|i, r| {
        let spark: f32 = r.parse().expect("Spark's float text parses");
        float_eq(
            float.as_primitive::<Float32Type>().value(i).into(),
            spark.into(),
        )
    });
    let double = c("c_double");
    compare("c_double", "r_double", &|i, r| {
        let spark: f64 = r.parse().expect("Spark's double text parses");
        float_eq(double.as_primitive::<Float64Type>().value(i), spark)
    });
    let micros = |name: &str| {
        c(name)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap_or_else(|| panic!("{name} is Timestamp(µs)"))
            .clone()
    };
    let date = micros("c_date");
    compare("c_date", "r_date", &|i, r| {
        date.value(i) == r.parse::<i64>().unwrap() * 86_400_000_000
    });
    let ts = micros("c_timestamp");
    compare("c_timestamp", "r_timestamp", &|i, r| {
        ts.value(i).to_string() == r
    });
    let ntz = micros("c_timestamp_ntz");
    compare("c_timestamp_ntz", "r_timestamp_ntz", &|i, r| {
        ntz.value(i).to_string() == r
    });
    let string = c("c_string");
    compare("c_string", "r_string", &|i, r| {
        hex(string.as_string::<i32>().value(i).as_bytes()) == r
    });
    let binary = c("c_binary");
    compare("c_binary", "r_binary", &|i, r| {
        hex(binary
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap()
            .value(i))
            == r
    });
    for (name, reference_name) in [
        ("c_decimal", "r_decimal"),
        ("c_decimal_small", "r_decimal_small"),
    ] {
        let d = c(name);
        compare(name, reference_name, &|i, r| {
            // Spark 3.5 prints a decimal as Java's BigDecimal.toString does (`0E-10`);
            // Spark 4 prints it plain. Compare the numbers, not the spellings.
            decimal_value(
                &d.as_primitive::<arrow::datatypes::Decimal128Type>()
                    .value_as_string(i),
            ) == decimal_value(r)
        });
    }
    for (name, reference_name) in [
        ("c_array", "r_array"),
        ("c_map", "r_map"),
        ("c_struct", "r_struct"),
    ] {
        let s = c(name);
        compare(name, reference_name, &|i, r| {
            s.as_string::<i32>().value(i) == r
        });
    }
    if version == ConnectorVersion::V2 {
        let ym = c("c_ym");
        compare("c_ym", "r_ym", &|i, r| {
            ym_months(ym.as_string::<i32>().value(i)).to_string() == r
        });
        let dt = c("c_dt");
        compare("c_dt", "r_dt", &|i, r| {
            dt_micros(dt.as_string::<i32>().value(i)).to_string() == r
        });
    }
    assert!(checked > 10_000, "compared {checked} values");
}

/// A decimal's text (plain, or Java's scientific `1.5E+3` / `0E-10`) as (negative, digits
/// without leading or trailing zeros, power of ten of the last digit): equal numbers give
/// equal values.
fn decimal_value(text: &str) -> (bool, String, i64) {
    let (mantissa, exponent) = match text.split_once(['E', 'e']) {
        Some((m, e)) => (m, e.parse::<i64>().expect("decimal exponent")),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int}{frac}").trim_start_matches('0').to_string();
    let mut power = exponent - frac.len() as i64;
    while digits.ends_with('0') {
        digits.pop();
        power += 1;
    }
    if digits.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, digits, power)
}

#[test]
fn decimal_values_compare_numbers_not_spellings() {
    assert_eq!(decimal_value("0E-10"), decimal_value("0.0000000000"));
    assert_eq!(decimal_value("-0.0010000000"), decimal_value("-0.001"));
    assert_eq!(decimal_value("1.5E+3"), decimal_value("1500.00"));
    assert_ne!(decimal_value("1.5E+3"), decimal_value("150.0"));
    assert_ne!(decimal_value("-1"), decimal_value("1"));
}

fn field_meta(schema: &SchemaRef, name: &str) -> (DataType, String, String) {
    let f = schema.field_with_name(name).unwrap();
    let m = f.metadata();
    (
        f.data_type().clone(),
        m.get("quiver.source_type").cloned().unwrap_or_default(),
        m.get("quiver.interim_type").cloned().unwrap_or_default(),
    )
}

async fn every_type_over(mode: &str) {
    let version = ConnectorVersion::V2;
    let src = source(mode, version, ReadTarget::Query(every_type_query()));
    let (schema, ours, _) = read_all(&src, 1)
        .await
        .unwrap_or_else(|e| panic!("{mode}: {e}"));
    let reference = source(mode, version, ReadTarget::Query(reference_query()));
    let (_, reference, _) = read_all(&reference, 1).await.unwrap();
    assert_matches_spark(&sort_by_id(&ours), &sort_by_id(&reference), version);

    // The docs' 2.0 column of the Spark table.
    let utc = Some("UTC".into());
    for (name, data_type, source_type, interim) in [
        ("c_boolean", DataType::Boolean, "BooleanType", "Boolean"),
        ("c_byte", DataType::Int8, "ByteType", "SByte"),
        ("c_short", DataType::Int16, "ShortType", "Int16"),
        ("c_int", DataType::Int32, "IntegerType", "Int32"),
        ("c_long", DataType::Int64, "LongType", "Int64"),
        ("c_float", DataType::Float32, "FloatType", "Single"),
        ("c_double", DataType::Float64, "DoubleType", "Double"),
        (
            "c_date",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            "DateType",
            "DateTime",
        ),
        (
            "c_timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, utc.clone()),
            "TimestampType",
            "DateTimeOffset",
        ),
        (
            "c_timestamp_ntz",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            "TimestampNTZType",
            "DateTime",
        ),
        ("c_string", DataType::Utf8, "StringType", "String"),
        ("c_binary", DataType::Binary, "BinaryType", "Byte[]"),
        (
            "c_decimal",
            DataType::Decimal128(38, 10),
            "DecimalType(38,10)",
            "Decimal",
        ),
        (
            "c_decimal_small",
            DataType::Decimal128(9, 2),
            "DecimalType(9,2)",
            "Decimal",
        ),
        ("c_ym", DataType::Utf8, "YearMonthIntervalType", "String"),
        ("c_dt", DataType::Utf8, "DayTimeIntervalType", "String"),
    ] {
        let (dt, st, it) = field_meta(&schema, name);
        assert_eq!(dt, data_type, "{name}");
        assert!(st.starts_with(source_type), "{name}: source type {st}");
        assert!(it.starts_with(interim), "{name}: interim {it}");
    }
    for name in ["c_array", "c_map", "c_struct"] {
        let (dt, st, it) = field_meta(&schema, name);
        assert_eq!((dt, it.as_str()), (DataType::Utf8, "String"), "{name}");
        assert!(
            ["ArrayType", "MapType", "StructType"]
                .iter()
                .any(|t| st.starts_with(t)),
            "{name}: {st}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spark_type_over_sasl_plain() {
    every_type_over("sasl").await;
}

/// The same table and checks on Spark 3.5, the line most fleets run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spark_type_on_spark_3_5() {
    every_type_over("sasl35").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spark_type_over_nosasl() {
    every_type_over("nosasl").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spark_type_over_http() {
    every_type_over("http").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spark_type_over_tls_binary_and_http() {
    every_type_over("sasl_tls").await;
    every_type_over("http_tls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_widens_bytes_drops_the_zone_and_refuses_intervals() {
    let without_intervals = format!(
        "SELECT * EXCEPT (c_ym, c_dt) FROM ({}) x",
        every_type_query()
    );
    let src = source(
        "sasl",
        ConnectorVersion::V1,
        ReadTarget::Query(without_intervals),
    );
    let (schema, ours, _) = read_all(&src, 1).await.unwrap();
    let reference = source(
        "sasl",
        ConnectorVersion::V1,
        ReadTarget::Query(reference_query()),
    );
    let (_, reference, _) = read_all(&reference, 1).await.unwrap();
    assert_matches_spark(
        &sort_by_id(&ours),
        &sort_by_id(&reference),
        ConnectorVersion::V1,
    );
    assert_eq!(field_meta(&schema, "c_byte").0, DataType::Int16);
    assert_eq!(field_meta(&schema, "c_byte").2, "Int16");
    assert_eq!(
        field_meta(&schema, "c_timestamp").0,
        DataType::Timestamp(TimeUnit::Microsecond, None)
    );

    let intervals = source(
        "sasl",
        ConnectorVersion::V1,
        ReadTarget::Query("SELECT make_ym_interval(1, 2) AS span".into()),
    );
    let e = intervals.schema().await.unwrap_err().to_string();
    assert!(e.contains("span") && e.contains("not supported"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_partitions_read_every_row_exactly_once() {
    let query = "SELECT id, CASE WHEN id % 13 = 0 THEN NULL ELSE id * 3 - 1000 END AS v, \
                 date_add(DATE'2000-01-01', CAST(id AS INT)) AS d, \
                 CASE WHEN id % 17 = 0 THEN double('NaN') ELSE id * 0.5 END AS x \
                 FROM range(0, 20000)";
    let whole = source(
        "nosasl",
        ConnectorVersion::V2,
        ReadTarget::Query(query.into()),
    );
    let (_, expected, n) = read_all(&whole, 4).await.unwrap();
    assert_eq!(n, 1);
    let expected = sort_by_id(&expected);
    for (column, lower, upper, ranges) in [
        ("v", None, None, 4),
        ("v", Some("0"), Some("100"), 4),
        ("d", None, None, 4),
        // NaN sorts last in Spark, so it lands in the last range.
        ("x", Some("0"), Some("10000"), 4),
        // MAX(x) is NaN: the bounds cannot be divided, so one read takes everything.
        ("x", None, None, 1),
    ] {
        let mut config = source(
            "nosasl",
            ConnectorVersion::V2,
            ReadTarget::Query(query.into()),
        )
        .config()
        .clone();
        config.partitioning = Some(RangePartitioning {
            column: column.into(),
            partitions: None,
            lower: lower.map(str::to_string),
            upper: upper.map(str::to_string),
        });
        let split = HiveSource::new(config);
        let (_, got, n) = read_all(&split, 4).await.unwrap();
        assert_eq!(n, ranges, "{column} {lower:?}..{upper:?}: ranges");
        assert_eq!(sort_by_id(&got), expected, "{column} {lower:?}..{upper:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_are_read_by_schema_and_quoted_name() {
    let name = format!("quiver_IT_{}", std::process::id());
    let ddl = format!(
        "CREATE TABLE default.{} USING parquet AS SELECT id, CAST(id AS STRING) AS s FROM range(0, 777)",
        quiver::connectors::hive::sql::quote_ident(&name)
    );
    let mut session = quiver::connectors::hive::client::Session::open(
        &connect("sasl"),
        &quiver::connectors::CleanupTracker::new(),
    )
    .await
    .unwrap();
    session.execute_and_close(&ddl).await.unwrap();
    session.close().await.unwrap();
    let table = source(
        "sasl",
        ConnectorVersion::V2,
        ReadTarget::Table {
            schema: Some("default".into()),
            table: name.clone(),
        },
    );
    let (schema, batch, _) = read_all(&table, 1).await.unwrap();
    assert_eq!(schema.fields().len(), 2);
    assert_eq!(batch.num_rows(), 777);
    let sum: i64 = batch
        .column(0)
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .sum();
    assert_eq!(sum, 776 * 777 / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_star_reads_rows_without_columns() {
    let src = std::sync::Arc::new(source(
        "nosasl",
        ConnectorVersion::V2,
        ReadTarget::Query("SELECT id, CAST(id AS STRING) AS s FROM range(0, 12345)".into()),
    ));
    let plan = quiver::engine::query::QueryPlan::build(
        src,
        "t",
        Some("SELECT count(*) AS n FROM t"),
        &quiver::engine::EngineOptions::default(),
    )
    .await
    .unwrap();
    let mut stream = plan.execute_merged().unwrap();
    let mut n = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        if batch.num_rows() > 0 {
            n = batch.column(0).as_primitive::<Int64Type>().value(0);
        }
    }
    assert_eq!(n, 12345);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_round_trips_through_json_and_reads_the_same_rows() {
    // Spark's DESCRIBE QUERY tells TIMESTAMP_NTZ from TIMESTAMP; the rebuilt source must keep
    // that without asking again, so the described columns travel in the spec.
    let query = "SELECT id, CAST(id AS STRING) AS s, TIMESTAMP_NTZ'2024-01-02 03:04:05' + make_interval(0, 0, 0, 0, 0, 0, id) AS ntz \
                 FROM range(0, 3000)";
    let original = source(
        "sasl",
        ConnectorVersion::V2,
        ReadTarget::Query(query.into()),
    );
    let (schema, expected, _) = read_all(&original, 1).await.unwrap();
    let request = ScanRequest::default();
    let partitions = original.plan(&request).await.unwrap();
    let text = serde_json::to_string(&(original.spec().unwrap(), &partitions)).unwrap();
    let (spec, partitions): (
        quiver::connectors::SourceSpec,
        Vec<quiver::connectors::Partition>,
    ) = serde_json::from_str(&text).unwrap();
    assert_eq!(spec.system, "Spark");
    let rebuilt = quiver::connectors::registry::source_from_spec(
        &spec,
        quiver::connectors::CleanupTracker::new(),
    )
    .unwrap();
    let mut batches = Vec::new();
    for p in &partitions {
        let mut stream = rebuilt
            .open(p, &request, PartitionProgress::new(p.index))
            .unwrap();
        while let Some(batch) = stream.next().await {
            batches.push(batch.unwrap());
        }
    }
    let got = arrow::compute::concat_batches(&schema, &batches).unwrap();
    assert_eq!(got.schema(), schema);
    assert_eq!(got, expected);
    let (_, _, ntz_interim) = field_meta(&schema, "ntz");
    assert_eq!(
        ntz_interim, "DateTime",
        "the spec kept DESCRIBE QUERY's TIMESTAMP_NTZ"
    );
}
