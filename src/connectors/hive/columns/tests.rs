//! Column plans from HS2 metadata (both type tables, both versions) and the whole-column
//! conversions of decoded wire arrays into the planned Arrow types.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{
    Decimal128Array, Decimal256Array, Int8Array, Int16Array, StringArray, TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use chrono::{NaiveDate, NaiveDateTime};

use super::*;
use crate::connectors::hive::tcli::{
    TPrimitiveTypeEntry, TTypeDesc, TTypeEntry, TTypeQualifierValue, TTypeQualifiers,
};
use crate::types::{INTERIM_TYPE_KEY, LOSS_KEY, SOURCE_SYSTEM_KEY, SOURCE_TYPE_KEY};

const V1: ConnectorVersion = ConnectorVersion::V1;
const V2: ConnectorVersion = ConnectorVersion::V2;

fn column(name: &str, type_id: TTypeId, qualifiers: &[(&str, i32)]) -> TColumnDesc {
    TColumnDesc {
        column_name: name.to_owned(),
        type_desc: TTypeDesc {
            types: vec![TTypeEntry::Primitive(TPrimitiveTypeEntry {
                type_id,
                type_qualifiers: (!qualifiers.is_empty()).then(|| TTypeQualifiers {
                    qualifiers: qualifiers
                        .iter()
                        .map(|(k, v)| {
                            (
                                (*k).to_owned(),
                                TTypeQualifierValue {
                                    i32_value: Some(*v),
                                    string_value: None,
                                },
                            )
                        })
                        .collect::<BTreeMap<_, _>>(),
                }),
            })],
        },
        position: 0,
        comment: None,
    }
}

fn schema(columns: Vec<TColumnDesc>) -> TTableSchema {
    TTableSchema { columns }
}

fn plan_one(
    flavor: Flavor,
    version: ConnectorVersion,
    type_id: TTypeId,
    qualifiers: &[(&str, i32)],
    declared: Option<&str>,
) -> Result<ColumnPlan, ColumnError> {
    let s = schema(vec![column("c", type_id, qualifiers)]);
    let declared: Option<Vec<String>> = declared.map(|d| vec![d.to_owned()]);
    plan_columns(flavor, version, &s, declared.as_deref()).map(|mut p| p.remove(0))
}

/// One column as the docs' tables say it maps: expected interim type per version (`"error"`
/// for an unsupported type) and loss code per version.
struct Case {
    hs2: TTypeId,
    qualifiers: &'static [(&'static str, i32)],
    declared: Option<&'static str>,
    source_type: &'static str,
    v2: &'static str,
    v1: &'static str,
    loss_v2: Option<&'static str>,
    loss_v1: Option<&'static str>,
}

const fn case(hs2: TTypeId, source_type: &'static str, v2: &'static str, v1: &'static str) -> Case {
    Case {
        hs2,
        qualifiers: &[],
        declared: None,
        source_type,
        v2,
        v1,
        loss_v2: None,
        loss_v1: None,
    }
}

impl Case {
    const fn q(mut self, qualifiers: &'static [(&'static str, i32)]) -> Self {
        self.qualifiers = qualifiers;
        self
    }
    const fn declared(mut self, d: &'static str) -> Self {
        self.declared = Some(d);
        self
    }
    const fn loss(mut self, v2: Option<&'static str>, v1: Option<&'static str>) -> Self {
        self.loss_v2 = v2;
        self.loss_v1 = v1;
        self
    }
}

const JSON: Option<&str> = Some("complex-as-json-text");
const DEC: &[(&str, i32)] = &[("precision", 18), ("scale", 3)];

/// Checks every case in both versions; returns the row names the cases hit.
fn check(flavor: Flavor, cases: &[Case]) -> BTreeSet<String> {
    let mut hit = BTreeSet::new();
    for c in cases {
        for (version, want, loss) in [(V2, c.v2, c.loss_v2), (V1, c.v1, c.loss_v1)] {
            let what = format!("{} {version} {:?} {:?}", flavor.name(), c.hs2, c.declared);
            match plan_one(flavor, version, c.hs2, c.qualifiers, c.declared) {
                Ok(plan) => {
                    assert_eq!(plan.source_type(), c.source_type, "{what}");
                    assert_eq!(plan.column_type.interim.to_string(), want, "{what}");
                    assert_eq!(plan.column_type.loss.map(|l| l.code()), loss, "{what}");
                    assert_eq!(plan.wire, wire_kind(c.hs2), "{what}");
                    assert_eq!(plan.type_id, c.hs2, "{what}");
                    // The planned conversion produces the interim type's Arrow type.
                    assert_eq!(plan.data_type(), plan.column_type.interim.arrow_type());
                    hit.insert(plan.type_name().to_owned());
                }
                Err(e) => {
                    assert_eq!(want, "error", "{what}: {e}");
                    assert!(matches!(e, ColumnError::Unsupported { .. }), "{what}: {e}");
                }
            }
        }
    }
    hit
}

fn all_names(tables: &[&[TypeRow]]) -> BTreeSet<String> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .flat_map(|r| r.source_types.iter().map(|s| (*s).to_owned()))
        .collect()
}

#[test]
fn impala_columns_map_as_the_docs_say() {
    use TTypeId as T;
    let sub_us = Some("sub-microsecond");
    let cases = [
        case(T::String, "ARRAY(array<int>)", "String", "String")
            .declared("array<int>")
            .loss(JSON, JSON),
        case(T::String, "MAP(MAP<STRING,INT>)", "String", "String")
            .declared("MAP<STRING,INT>")
            .loss(JSON, JSON),
        case(
            T::String,
            "STRUCT(struct<a:int,b:string>)",
            "String",
            "String",
        )
        .declared("struct<a:int,b:string>")
        .loss(JSON, JSON),
        case(T::BigInt, "BIGINT", "Int64", "Int64"),
        case(T::Boolean, "BOOLEAN", "Boolean", "Boolean"),
        case(T::Char, "CHAR(5)", "String", "String").q(&[("characterMaximumLength", 5)]),
        case(T::String, "STRING", "String", "String"),
        case(T::Varchar, "VARCHAR(10)", "String", "String").q(&[("characterMaximumLength", 10)]),
        case(T::Date, "DATE", "DateTime", "DateTime"),
        case(
            T::Decimal,
            "DECIMAL(18,3)",
            "Decimal(18,3)",
            "Decimal(18,3)",
        )
        .q(DEC),
        case(T::Double, "DOUBLE", "Double", "Double"),
        case(T::Float, "FLOAT", "Single", "Single"),
        case(T::Int, "INT", "Int32", "Int32"),
        case(T::SmallInt, "SMALLINT", "Int16", "Int16"),
        case(T::Timestamp, "TIMESTAMP", "DateTimeOffset", "DateTime").loss(sub_us, sub_us),
        case(T::TinyInt, "TINYINT", "SByte", "Int16"),
        // Beyond the docs' table.
        case(T::Binary, "BINARY", "Byte[]", "Byte[]"),
    ];
    let hit = check(Flavor::Impala, &cases);
    let all = all_names(&[impala::type_map::TYPE_TABLE, impala::type_map::EXTRA_TYPES]);
    assert_eq!(hit, all, "every row of the Impala tables is exercised");
}

#[test]
fn spark_columns_map_as_the_docs_say() {
    use TTypeId as T;
    let text = Some("interval-as-text");
    let cases = [
        case(T::Boolean, "BooleanType", "Boolean", "Boolean"),
        case(T::TinyInt, "ByteType", "SByte", "Int16"),
        case(T::SmallInt, "ShortType", "Int16", "Int16"),
        case(T::Int, "IntegerType", "Int32", "Int32"),
        case(T::BigInt, "LongType", "Int64", "Int64"),
        case(T::Float, "FloatType", "Single", "Single"),
        case(T::Double, "DoubleType", "Double", "Double"),
        case(T::Date, "DateType", "DateTime", "DateTime"),
        case(T::Timestamp, "TimestampType", "DateTimeOffset", "DateTime")
            .loss(None, Some("time-zone-dropped")),
        case(T::Timestamp, "TimestampType", "DateTimeOffset", "DateTime")
            .declared("timestamp")
            .loss(None, Some("time-zone-dropped")),
        case(T::String, "StringType", "String", "String"),
        case(T::Binary, "BinaryType", "Byte[]", "Byte[]"),
        case(
            T::Decimal,
            "DecimalType(38,10)",
            "Decimal(38,10)",
            "Decimal(38,10)",
        )
        .q(&[("precision", 38), ("scale", 10)]),
        case(T::Array, "ArrayType(array<int>)", "String", "String")
            .declared("array<int>")
            .loss(JSON, JSON),
        case(T::Struct, "StructType", "String", "String").loss(JSON, JSON),
        case(T::Map, "MapType", "String", "String").loss(JSON, JSON),
        case(T::Timestamp, "TimestampNTZType", "DateTime", "DateTime").declared("timestamp_ntz"),
        case(
            T::IntervalYearMonth,
            "YearMonthIntervalType(interval year to month)",
            "String",
            "error",
        )
        .declared("interval year to month")
        .loss(text, None),
        case(T::IntervalDayTime, "DayTimeIntervalType", "String", "error").loss(text, None),
        // Beyond the docs' table.
        case(T::Char, "CharType(3)", "String", "String").q(&[("characterMaximumLength", 3)]),
        case(T::Varchar, "VarcharType(7)", "String", "String").declared("varchar(7)"),
        case(T::Null, "NullType", "String", "String"),
    ];
    let hit = check(Flavor::Spark, &cases);
    let all = all_names(&[spark::type_map::TYPE_TABLE, spark::type_map::EXTRA_TYPES]);
    assert_eq!(hit, all, "every row of the Spark tables is exercised");
}

#[test]
fn conversions_follow_the_wire_and_the_interim_type() {
    use TTypeId as T;
    let conv = |flavor, version, id, q: &[(&str, i32)], d: Option<&str>| {
        plan_one(flavor, version, id, q, d).unwrap().convert
    };
    let utc = Some(Arc::<str>::from("UTC"));
    assert_eq!(
        conv(Flavor::Impala, V1, T::TinyInt, &[], None),
        Conversion::WidenInt8ToInt16
    );
    assert_eq!(
        conv(Flavor::Impala, V2, T::TinyInt, &[], None),
        Conversion::None
    );
    assert_eq!(
        conv(Flavor::Spark, V1, T::TinyInt, &[], None),
        Conversion::WidenInt8ToInt16
    );
    assert_eq!(
        conv(Flavor::Impala, V2, T::Timestamp, &[], None),
        Conversion::TimestampText {
            time_zone: utc.clone()
        }
    );
    assert_eq!(
        conv(Flavor::Impala, V1, T::Timestamp, &[], None),
        Conversion::TimestampText { time_zone: None }
    );
    assert_eq!(
        conv(Flavor::Spark, V2, T::Timestamp, &[], Some("timestamp_ntz")),
        Conversion::TimestampText { time_zone: None }
    );
    assert_eq!(
        conv(Flavor::Spark, V2, T::Date, &[], None),
        Conversion::DateText { time_zone: None }
    );
    assert_eq!(
        conv(Flavor::Spark, V2, T::Decimal, DEC, None),
        Conversion::DecimalText {
            precision: 18,
            scale: 3
        }
    );
    for id in [T::Float, T::Double, T::Binary, T::String, T::Array, T::Null] {
        assert_eq!(conv(Flavor::Spark, V1, id, &[], None), Conversion::None);
    }
    assert_eq!(
        conv(Flavor::Spark, V2, T::IntervalDayTime, &[], None),
        Conversion::None
    );
    // Float travels in doubleVal and is decoded straight to Float32.
    assert_eq!(
        plan_one(Flavor::Impala, V2, T::Float, &[], None)
            .unwrap()
            .wire,
        ColumnKind::Float32
    );
}

#[test]
fn wire_kinds_follow_the_hs2_carriers() {
    use TTypeId as T;
    let expect = [
        (T::Boolean, ColumnKind::Boolean),
        (T::TinyInt, ColumnKind::Int8),
        (T::SmallInt, ColumnKind::Int16),
        (T::Int, ColumnKind::Int32),
        (T::BigInt, ColumnKind::Int64),
        (T::Float, ColumnKind::Float32),
        (T::Double, ColumnKind::Float64),
        (T::Binary, ColumnKind::Binary),
    ];
    for (id, kind) in expect {
        assert_eq!(wire_kind(id), kind, "{id:?}");
    }
    for id in [
        T::String,
        T::Char,
        T::Varchar,
        T::Timestamp,
        T::Date,
        T::Decimal,
        T::Array,
        T::Map,
        T::Struct,
        T::Union,
        T::UserDefined,
        T::Null,
        T::IntervalYearMonth,
        T::IntervalDayTime,
        T::TimestampLocalTz,
        T::Other(99),
    ] {
        assert_eq!(wire_kind(id), ColumnKind::Utf8, "{id:?}");
    }
}

#[test]
fn interval_in_1_0_is_refused_naming_column_type_version_and_2_0() {
    let s = schema(vec![column("span", TTypeId::IntervalDayTime, &[])]);
    let e = plan_columns(Flavor::Spark, V1, &s, None).unwrap_err();
    let msg = e.to_string();
    for part in [
        "'span'",
        "DayTimeIntervalType",
        "Spark 1.0",
        "not supported",
        "2.0",
        "String",
        "\"version\": \"2.0\"",
    ] {
        assert!(msg.contains(part), "{part} missing in: {msg}");
    }
    assert!(plan_columns(Flavor::Spark, V2, &s, None).is_ok());
}

#[test]
fn types_outside_the_tables_are_refused_with_the_hs2_name() {
    for (flavor, id, name) in [
        (Flavor::Spark, TTypeId::Union, "UNION_TYPE"),
        (Flavor::Spark, TTypeId::UserDefined, "USER_DEFINED_TYPE"),
        (Flavor::Impala, TTypeId::Other(23), "type id 23"),
        (
            Flavor::Impala,
            TTypeId::IntervalDayTime,
            "INTERVAL_DAY_TIME_TYPE",
        ),
        (Flavor::Impala, TTypeId::Null, "NULL_TYPE"),
    ] {
        let e = plan_one(flavor, V2, id, &[], None).unwrap_err();
        assert!(matches!(e, ColumnError::UnknownType { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains(name) && msg.contains("'c'"), "{msg}");
        assert!(msg.contains("cast the column to STRING"), "{msg}");
    }
    // Spark's TimestampType may arrive as TIMESTAMPLOCALTZ.
    let p = plan_one(Flavor::Spark, V2, TTypeId::TimestampLocalTz, &[], None).unwrap();
    assert_eq!(p.source_type(), "TimestampType");
    // A column without a primitive entry.
    let mut c = column("nested", TTypeId::Int, &[]);
    c.type_desc.types = vec![TTypeEntry::Other(9)];
    let e = plan_columns(Flavor::Spark, V2, &schema(vec![c]), None).unwrap_err();
    assert!(
        matches!(&e, ColumnError::MissingType { column, .. } if column == "nested"),
        "{e}"
    );
}

#[test]
fn declared_types_must_line_up() {
    let s = schema(vec![
        column("a", TTypeId::Int, &[]),
        column("b", TTypeId::String, &[]),
    ]);
    let e = plan_columns(Flavor::Spark, V2, &s, Some(&["int".to_owned()])).unwrap_err();
    assert!(matches!(
        e,
        ColumnError::DeclaredCount {
            declared: 1,
            columns: 2,
            ..
        }
    ));
    let swapped = ["string".to_owned(), "int".to_owned()];
    let e = plan_columns(Flavor::Spark, V2, &s, Some(&swapped)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("'a'") && msg.contains("'string'") && msg.contains("INT_TYPE"),
        "{msg}"
    );
    // Names quiver does not know are ignored; spellings and case do not matter.
    let fine = ["INTEGER".to_owned(), "variant".to_owned()];
    let plans = plan_columns(Flavor::Spark, V2, &s, Some(&fine)).unwrap();
    assert_eq!(plans[0].source_type(), "IntegerType");
    assert_eq!(plans[1].source_type(), "StringType");
    // Spark's calendar interval is sent as a STRING and stays one.
    let p = plan_one(Flavor::Spark, V1, TTypeId::String, &[], Some("interval")).unwrap();
    assert_eq!(p.source_type(), "StringType");
    // Timestamp NTZ only refines a TIMESTAMP column.
    let e = plan_one(Flavor::Spark, V2, TTypeId::Date, &[], Some("timestamp_ntz")).unwrap_err();
    assert!(matches!(e, ColumnError::DeclaredMismatch { .. }), "{e}");
}

#[test]
fn decimal_parameters_come_from_qualifiers_then_declared_type() {
    use TTypeId::Decimal as D;
    let p = plan_one(
        Flavor::Spark,
        V2,
        D,
        &[("precision", 9), ("scale", 2)],
        Some("decimal(20,5)"),
    );
    assert_eq!(p.unwrap().source_type(), "DecimalType(9,2)");
    let p = plan_one(Flavor::Spark, V2, D, &[], Some("decimal(20,5)")).unwrap();
    assert_eq!(p.column_type.interim.to_string(), "Decimal(20,5)");
    let p = plan_one(Flavor::Impala, V2, D, &[], Some("DECIMAL")).unwrap();
    assert_eq!(p.source_type(), "DECIMAL(10,0)");
    let e = plan_one(Flavor::Impala, V2, D, &[], None).unwrap_err();
    assert!(matches!(e, ColumnError::MissingDecimalParams { .. }), "{e}");
    for (precision, scale) in [(0, 0), (77, 0), (10, 11), (300, 0), (10, 200)] {
        let q = [("precision", precision), ("scale", scale)];
        let e = plan_one(Flavor::Impala, V2, D, &q, None).unwrap_err();
        assert!(
            matches!(e, ColumnError::BadDecimalParams { precision: p, scale: s, .. } if p == precision && s == scale),
            "{e}"
        );
    }
    // Wider than Decimal128.
    let q = [("precision", 50), ("scale", 5)];
    let p = plan_one(Flavor::Spark, V2, D, &q, None).unwrap();
    assert_eq!(p.data_type(), DataType::Decimal256(50, 5));
}

#[test]
fn schema_carries_the_mapping() {
    let s = schema(vec![
        column("id", TTypeId::BigInt, &[]),
        column("ts", TTypeId::Timestamp, &[]),
        column("amount", TTypeId::Decimal, DEC),
        column("tags", TTypeId::String, &[]),
    ]);
    let declared = ["bigint", "timestamp", "decimal(18,3)", "array<string>"].map(String::from);
    let plans = plan_columns(Flavor::Impala, V2, &s, Some(&declared)).unwrap();
    let schema = arrow_schema(Flavor::Impala, V2, &plans);
    assert_eq!(schema.metadata()[SOURCE_SYSTEM_KEY], "Impala");
    assert_eq!(
        schema.metadata()[crate::types::CONNECTOR_VERSION_KEY],
        "2.0"
    );
    let ts = schema.field_with_name("ts").unwrap();
    assert_eq!(
        ts.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(ts.metadata()[SOURCE_TYPE_KEY], "TIMESTAMP");
    assert_eq!(ts.metadata()[INTERIM_TYPE_KEY], "DateTimeOffset");
    assert_eq!(ts.metadata()[LOSS_KEY], "sub-microsecond");
    let amount = schema.field_with_name("amount").unwrap();
    assert_eq!(amount.data_type(), &DataType::Decimal128(18, 3));
    assert_eq!(amount.metadata()[SOURCE_TYPE_KEY], "DECIMAL(18,3)");
    assert!(!amount.metadata().contains_key(LOSS_KEY));
    let tags = schema.field_with_name("tags").unwrap();
    assert_eq!(tags.metadata()[SOURCE_TYPE_KEY], "ARRAY(array<string>)");
    assert_eq!(tags.metadata()[LOSS_KEY], "complex-as-json-text");
    // The row is found from the source type.
    let row = find_row(impala::type_map::TYPE_TABLE, plans[3].type_name()).unwrap();
    assert_eq!(row.source_types, &["ARRAY", "MAP", "STRUCT"]);

    let specs = wire_specs(&plans);
    let kinds: Vec<_> = specs.iter().map(|s| (s.name.as_str(), s.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("id", ColumnKind::Int64),
            ("ts", ColumnKind::Utf8),
            ("amount", ColumnKind::Utf8),
            ("tags", ColumnKind::Utf8)
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Parsers

fn ts(s: &str) -> Option<i64> {
    parse_timestamp(s.as_bytes())
}

fn chrono_micros(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

#[test]
fn timestamps_parse_at_the_edges() {
    assert_eq!(ts("1970-01-01 00:00:00"), Some(0));
    assert_eq!(ts("1969-12-31 23:59:59.999999"), Some(-1));
    assert_eq!(ts("0001-01-01 00:00:00"), Some(-62_135_596_800_000_000));
    // Impala's nanoseconds are truncated, not rounded.
    assert_eq!(
        ts("9999-12-31 23:59:59.999999999"),
        Some(253_402_300_799_999_999)
    );
    assert_eq!(
        ts("2024-02-29 12:00:00"),
        Some(chrono_micros("2024-02-29 12:00:00"))
    );
    assert_eq!(ts("2000-02-29 00:00:00"), Some(951_782_400_000_000));
    assert_eq!(ts("2024-03-01T01:02:03"), ts("2024-03-01 01:02:03"));
    // Years past 9999 and before year 1, as Java prints them.
    assert_eq!(ts("+10000-01-01 00:00:00"), Some(253_402_300_800_000_000));
    assert_eq!(ts("0000-01-01 00:00:00"), Some(-62_167_219_200_000_000));
    assert_eq!(
        ts("-0001-01-01 00:00:00"),
        Some(-62_167_219_200_000_000 - 365 * 86_400_000_000)
    );
    assert_eq!(ts("10000-01-01 00:00:00"), ts("+10000-01-01 00:00:00"));
}

#[test]
fn timestamp_fractions_of_every_length() {
    let fractions = [
        ("1", 100_000),
        ("12", 120_000),
        ("123", 123_000),
        ("1234", 123_400),
        ("12345", 123_450),
        ("123456", 123_456),
        ("1234567", 123_456),
        ("12345678", 123_456),
        ("123456789", 123_456),
        ("000000001", 0),
        ("000001", 1),
        ("9", 900_000),
    ];
    let base = ts("2021-06-15 10:20:30").unwrap();
    for (f, micros) in fractions {
        let s = format!("2021-06-15 10:20:30.{f}");
        assert_eq!(ts(&s), Some(base + micros), "{s}");
    }
    // Before the epoch the fraction still counts forward.
    assert_eq!(ts("1969-12-31 23:59:59.5"), Some(-500_000));
}

#[test]
fn timestamps_agree_with_chrono_over_the_calendar() {
    let start = NaiveDate::from_ymd_opt(-2000, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(12000, 12, 31).unwrap();
    let mut day = start;
    let mut n = 0;
    while day <= end {
        let t = day.and_hms_micro_opt(13, 57, 9, 123_456).unwrap();
        let s = t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        assert_eq!(ts(&s), Some(t.and_utc().timestamp_micros()), "{s}");
        let d = day.format("%Y-%m-%d").to_string();
        assert_eq!(
            parse_date(d.as_bytes()),
            Some(
                day.and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_micros()
            ),
            "{d}"
        );
        day += chrono::Duration::days(13);
        n += 1;
    }
    assert!(n > 390_000);
}

#[test]
fn bad_timestamps_are_refused() {
    for s in [
        "",
        "garbage",
        "2024-01-01",
        "2024-01-01 00:00",
        "2024-01-01 00:00:00.",
        "2024-01-01 00:00:00.1234567890",
        "2024-01-01 00:00:00.12a",
        "2024-01-01 00:00:00Z",
        "2024-01-01 00:00:00 ",
        " 2024-01-01 00:00:00",
        "2024-01-01  00:00:00",
        "2024-01-01X00:00:00",
        "2024-1-01 00:00:00",
        "2024-01-1 00:00:00",
        "2024-13-01 00:00:00",
        "2024-00-10 00:00:00",
        "2024-01-00 00:00:00",
        "2024-01-32 00:00:00",
        "2024-04-31 00:00:00",
        "2023-02-29 00:00:00",
        "1900-02-29 00:00:00",
        "2024-01-01 24:00:00",
        "2024-01-01 23:60:00",
        "2024-01-01 23:59:60",
        "2024-01-01 2:00:00",
        "2024/01/01 00:00:00",
        "202a-01-01 00:00:00",
        "1234567-01-01 00:00:00",
        "--2024-01-01 00:00:00",
        "+-2024-01-01 00:00:00",
        "2024-01-01 00:00:00.-1",
        "2024-01-01 00:00:00.\u{ff}\u{ff}",
    ] {
        assert_eq!(ts(s), None, "{s:?}");
    }
}

#[test]
fn dates_parse_and_refuse() {
    assert_eq!(parse_date(b"1970-01-01"), Some(0));
    assert_eq!(parse_date(b"1970-01-02"), Some(86_400_000_000));
    assert_eq!(parse_date(b"0001-01-01"), Some(-62_135_596_800_000_000));
    assert_eq!(parse_date(b"9999-12-31"), Some(253_402_214_400_000_000));
    assert_eq!(
        parse_date(b"2024-02-29"),
        Some(chrono_micros("2024-02-29 00:00:00"))
    );
    for s in [
        "",
        "2023-02-29",
        "2024-02-30",
        "2024-01-01 00:00:00",
        "2024-01",
        "20240101",
        "2024-01-01x",
        "x",
    ] {
        assert_eq!(parse_date(s.as_bytes()), None, "{s:?}");
    }
}

#[test]
fn decimal128_parses_exactly() {
    let d = |s: &str, p: u8, sc: i8| parse_decimal128(s.as_bytes(), p, sc);
    let max38 = "9".repeat(38);
    let ten38 = 10i128.pow(38);
    assert_eq!(d("0", 10, 0), Some(0));
    assert_eq!(d("-0", 5, 2), Some(0));
    assert_eq!(d("0", 38, 38), Some(0));
    assert_eq!(d("-0.001", 10, 3), Some(-1));
    assert_eq!(d("123.45", 5, 2), Some(12_345));
    assert_eq!(d("-123.45", 5, 2), Some(-12_345));
    assert_eq!(d("+7", 3, 0), Some(7));
    assert_eq!(d("123.4", 5, 2), Some(12_340));
    assert_eq!(d("123", 5, 2), Some(12_300));
    assert_eq!(d("000123.40", 5, 2), Some(12_340));
    assert_eq!(d(".5", 3, 1), Some(5));
    assert_eq!(d(&max38, 38, 0), Some(ten38 - 1));
    assert_eq!(d(&format!("-{max38}"), 38, 0), Some(1 - ten38));
    assert_eq!(d(&format!("0.{max38}"), 38, 38), Some(ten38 - 1));
    assert_eq!(
        d("-1234567890123456789012345678.0123456789", 38, 10),
        Some(-12_345_678_901_234_567_890_123_456_780_123_456_789)
    );
    assert_eq!(
        d("12345678901234567890.5", 38, 1),
        Some(123_456_789_012_345_678_905)
    );
    // A scale above the precision holds only small fractions, as in parse_decimal256
    // (found by the convert_text fuzz target).
    assert_eq!(d("0", 4, 10), Some(0));
    assert_eq!(d("0.0000001234", 4, 10), Some(1234));
    assert_eq!(d("0.000001234", 4, 10), None);
    for (s, p, sc) in [
        ("0", 4, 10),
        ("0.0000001234", 4, 10),
        ("0.000001234", 4, 10),
        ("0", 38, 76),
        ("0.5", 38, 76),
    ] {
        assert_eq!(
            d(s, p, sc),
            parse_decimal256(s.as_bytes(), p, sc).and_then(|v| v.to_i128()),
            "{s:?} as ({p},{sc})"
        );
    }
    // Refused: more fraction digits than the scale, too many digits, not a number.
    for (s, p, sc) in [
        ("123.456", 5, 2),
        ("1.50", 5, 1),
        ("1234.5", 5, 2),
        ("100000000000000000000000000000000000000", 38, 0),
        ("1", 38, 38),
        ("", 10, 0),
        ("-", 10, 0),
        ("+", 10, 0),
        (".", 10, 2),
        ("1.", 10, 2),
        ("1e5", 10, 0),
        ("1,5", 10, 2),
        (" 1", 10, 0),
        ("1 ", 10, 0),
        ("--1", 10, 0),
        ("1.2.3", 10, 3),
        ("NaN", 10, 0),
        ("\u{ff}", 10, 0),
    ] {
        assert_eq!(d(s, p, sc), None, "{s:?} as ({p},{sc})");
    }
}

#[test]
fn decimal256_and_negative_scales() {
    let wide = "1234567890123456789012345678901234567890.0123456789";
    let v = parse_decimal256(wide.as_bytes(), 50, 10).unwrap();
    assert_eq!(
        v,
        i256::from_string("12345678901234567890123456789012345678900123456789").unwrap()
    );
    let neg = parse_decimal256(format!("-{wide}").as_bytes(), 50, 10).unwrap();
    assert_eq!(neg, v.checked_neg().unwrap());
    assert_eq!(parse_decimal256(b"1.5", 76, 2), Some(i256::from_i128(150)));
    assert_eq!(parse_decimal256(wide.as_bytes(), 49, 10), None);
    assert_eq!(parse_decimal256(b"1.234", 50, 2), None);
    let huge = "9".repeat(200);
    assert_eq!(parse_decimal256(huge.as_bytes(), 76, 0), None);
    // Negative scale: the text is the whole number.
    assert_eq!(parse_decimal128(b"1200", 5, -2), Some(12));
    assert_eq!(parse_decimal128(b"-1200", 5, -2), Some(-12));
    assert_eq!(parse_decimal128(b"1250", 5, -2), None);
    assert_eq!(parse_decimal128(b"1200.0", 5, -2), None);
    assert_eq!(parse_decimal128(b"0", 5, -2), Some(0));
}

// ---------------------------------------------------------------------------------------
// Whole-column conversion

fn plan_for(
    flavor: Flavor,
    version: ConnectorVersion,
    id: TTypeId,
    q: &[(&str, i32)],
) -> ColumnPlan {
    let mut p = plan_one(flavor, version, id, q, None).unwrap();
    p.name = "col".to_owned();
    p
}

#[test]
fn timestamp_column_converts_and_keeps_nulls() {
    let plan = plan_for(Flavor::Impala, V2, TTypeId::Timestamp, &[]);
    let wire: ArrayRef = Arc::new(StringArray::from(vec![
        Some("2024-01-01 00:00:00.123456789"),
        None,
        Some("1970-01-01 00:00:00"),
    ]));
    let out = convert_column(&plan, &wire).unwrap();
    assert_eq!(out.data_type(), &plan.data_type());
    let out = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(out.timezone(), Some("UTC"));
    assert_eq!(out.value(0), chrono_micros("2024-01-01 00:00:00.123456"));
    assert!(out.is_null(1));
    assert_eq!(out.value(2), 0);

    let plan = plan_for(Flavor::Impala, V1, TTypeId::Timestamp, &[]);
    let out = convert_column(&plan, &wire).unwrap();
    assert_eq!(
        out.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
}

#[test]
fn null_slots_hold_empty_strings_as_impala_sends_them() {
    // Impala and Spark fill NULL slots with "": they must not be parsed.
    let offsets = OffsetBuffer::from_lengths([10, 0, 10, 0]);
    let values = "2024-02-292000-01-01".as_bytes().to_vec();
    let nulls = NullBuffer::from(vec![true, false, true, false]);
    let wire: ArrayRef = Arc::new(StringArray::new(offsets, values.into(), Some(nulls)));
    let plan = plan_for(Flavor::Spark, V2, TTypeId::Date, &[]);
    let out = convert_column(&plan, &wire).unwrap();
    let out = out
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    assert_eq!(out.null_count(), 2);
    assert_eq!(out.value(0), chrono_micros("2024-02-29 00:00:00"));
    assert_eq!(out.value(2), chrono_micros("2000-01-01 00:00:00"));
    assert!(out.is_null(1) && out.is_null(3));
}

#[test]
fn a_bad_value_names_column_row_and_value() {
    let plan = plan_for(Flavor::Spark, V2, TTypeId::Timestamp, &[]);
    let wire: ArrayRef = Arc::new(StringArray::from(vec![
        Some("2024-01-01 00:00:00"),
        None,
        Some("2024-01-01 00:00:00"),
        Some("yesterday"),
    ]));
    match convert_column(&plan, &wire).unwrap_err() {
        ColumnError::Value {
            column,
            row,
            value,
            expected,
        } => {
            assert_eq!(
                (column.as_str(), row, value.as_str()),
                ("col", 3, "yesterday")
            );
            assert!(expected.contains("timestamp"), "{expected}");
        }
        e => panic!("{e}"),
    }
    // An empty string that is not NULL is a bad value too.
    let wire: ArrayRef = Arc::new(StringArray::from(vec![""]));
    let e = convert_column(&plan, &wire).unwrap_err();
    assert!(matches!(e, ColumnError::Value { row: 0, .. }), "{e}");
    // Long values are cut for the message.
    let long = "x".repeat(500);
    let wire: ArrayRef = Arc::new(StringArray::from(vec![long.as_str()]));
    let ColumnError::Value { value, .. } = convert_column(&plan, &wire).unwrap_err() else {
        panic!()
    };
    assert_eq!(value, format!("{}…", "x".repeat(64)));
    // Rows count from the start of a sliced array.
    let wire: ArrayRef = Arc::new(StringArray::from(vec!["bad", "2024-01-01 00:00:00", "bad"]));
    let sliced = wire.slice(1, 2);
    let e = convert_column(&plan, &sliced).unwrap_err();
    assert!(matches!(e, ColumnError::Value { row: 1, .. }), "{e}");
    let ok = convert_column(&plan, &wire.slice(1, 1)).unwrap();
    assert_eq!(ok.len(), 1);
}

#[test]
fn decimal_columns_convert_to_decimal128_and_256() {
    let plan = plan_for(Flavor::Impala, V1, TTypeId::Decimal, DEC);
    let wire: ArrayRef = Arc::new(StringArray::from(vec![
        Some("-0.001"),
        None,
        Some("123456789012345.678"),
        Some("0"),
    ]));
    let out = convert_column(&plan, &wire).unwrap();
    let out = out.as_any().downcast_ref::<Decimal128Array>().unwrap();
    assert_eq!((out.precision(), out.scale()), (18, 3));
    assert_eq!(out.value(0), -1);
    assert!(out.is_null(1));
    assert_eq!(out.value(2), 123_456_789_012_345_678);
    assert_eq!(out.value(3), 0);
    let wire: ArrayRef = Arc::new(StringArray::from(vec!["1.2345"]));
    let e = convert_column(&plan, &wire).unwrap_err();
    assert!(e.to_string().contains("DECIMAL(18,3)"), "{e}");

    let plan = plan_for(
        Flavor::Spark,
        V2,
        TTypeId::Decimal,
        &[("precision", 60), ("scale", 2)],
    );
    let wire: ArrayRef = Arc::new(StringArray::from(vec![Some("-12.5"), None]));
    let out = convert_column(&plan, &wire).unwrap();
    let out = out.as_any().downcast_ref::<Decimal256Array>().unwrap();
    assert_eq!(out.value(0), i256::from_i128(-1250));
    assert!(out.is_null(1));
}

#[test]
fn tinyint_widens_in_1_0_and_passes_through_in_2_0() {
    let wire: ArrayRef = Arc::new(Int8Array::from(vec![Some(-128), None, Some(127)]));
    let plan = plan_for(Flavor::Spark, V1, TTypeId::TinyInt, &[]);
    let out = convert_column(&plan, &wire).unwrap();
    let out = out.as_any().downcast_ref::<Int16Array>().unwrap();
    assert_eq!(out, &Int16Array::from(vec![Some(-128), None, Some(127)]));
    let plan = plan_for(Flavor::Spark, V2, TTypeId::TinyInt, &[]);
    let out = convert_column(&plan, &wire).unwrap();
    assert!(Arc::ptr_eq(&out, &wire));
}

#[test]
fn a_wire_array_of_another_type_is_refused() {
    let plan = plan_for(Flavor::Impala, V2, TTypeId::Timestamp, &[]);
    let wire: ArrayRef = Arc::new(Int8Array::from(vec![1]));
    let e = convert_column(&plan, &wire).unwrap_err();
    assert!(
        matches!(
            &e,
            ColumnError::WireType {
                expected: DataType::Utf8,
                found: DataType::Int8,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn duplicate_names_get_a_deterministic_suffix_and_keep_the_servers_name() {
    let s = schema(vec![
        column("id", TTypeId::BigInt, &[]),
        column("ID", TTypeId::BigInt, &[]),
        column("id_2", TTypeId::String, &[]),
        column("name", TTypeId::String, &[]),
        column("id", TTypeId::Int, &[]),
        column("name", TTypeId::String, &[]),
    ]);
    assert!(has_duplicate_names(&s));
    let mut plans = plan_columns(Flavor::Impala, V2, &s, None).unwrap();
    let renames = rename_duplicates(&mut plans);
    let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    // `ID` is the second `id` (names compare case-insensitively): `id_2` is taken by a
    // server column, so it is `id_3`; the third `id` is then `id_4`.
    assert_eq!(names, ["id", "ID_3", "id_2", "name", "id_4", "name_2"]);
    assert_eq!(
        renames,
        [
            ("ID".to_string(), "ID_3".to_string()),
            ("id".to_string(), "id_4".to_string()),
            ("name".to_string(), "name_2".to_string()),
        ]
    );
    assert_eq!(plans[1].renamed_from.as_deref(), Some("ID"));
    assert_eq!(plans[0].renamed_from, None);
    let arrow = arrow_schema(Flavor::Impala, V2, &plans);
    let f = arrow.field(4);
    assert_eq!(f.name(), "id_4");
    assert_eq!(f.metadata()[RENAMED_FROM_KEY], "id");
    assert!(!arrow.field(0).metadata().contains_key(RENAMED_FROM_KEY));
    // The same input, the same names.
    let mut again = plan_columns(Flavor::Impala, V2, &s, None).unwrap();
    rename_duplicates(&mut again);
    assert_eq!(again, plans);
    // No duplicates: nothing changes.
    let unique = schema(vec![
        column("a", TTypeId::Int, &[]),
        column("b", TTypeId::Int, &[]),
    ]);
    assert!(!has_duplicate_names(&unique));
    let mut p = plan_columns(Flavor::Spark, V2, &unique, None).unwrap();
    assert!(rename_duplicates(&mut p).is_empty());
}

#[test]
fn spark_timestamps_without_declared_types_map_per_version_with_a_note() {
    let s = schema(vec![
        column("ts", TTypeId::Timestamp, &[]),
        column("n", TTypeId::Int, &[]),
    ]);
    for (version, interim, loss) in [
        (V2, "DateTimeOffset", None),
        (ConnectorVersion::V1, "DateTime", Some("time-zone-dropped")),
    ] {
        let mut plans = plan_columns(Flavor::Spark, version, &s, None).unwrap();
        let noted = note_unknown_timestamp_kind(&mut plans, "DESCRIBE QUERY unavailable");
        assert_eq!(noted, ["ts"]);
        let arrow = arrow_schema(Flavor::Spark, version, &plans);
        let ts = arrow.field(0);
        assert_eq!(ts.metadata()[INTERIM_TYPE_KEY], interim);
        assert_eq!(ts.metadata().get(LOSS_KEY).map(String::as_str), loss);
        assert!(
            ts.metadata()[NOTE_KEY]
                .starts_with("timestamp kind unknown: DESCRIBE QUERY unavailable"),
            "{:?}",
            ts.metadata()
        );
        assert!(!arrow.field(1).metadata().contains_key(NOTE_KEY));
    }
    // A declared TIMESTAMP_NTZ is not TimestampType: no note.
    let declared = vec!["timestamp_ntz".to_string(), "int".to_string()];
    let mut plans = plan_columns(Flavor::Spark, V2, &s, Some(&declared)).unwrap();
    assert!(note_unknown_timestamp_kind(&mut plans, "x").is_empty());
}
