//! Every CQL type through the source: ADF 2.0 (interim types, nested values as JSON), native
//! Arrow types, 1.0 (tinyint as Int16, collections as virtual tables), fixed decimals, empty
//! values, and the DataStax Python driver reading the same values.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{
    DataType, Date32Type, DurationMicrosecondType, Float32Type, Int8Type, Int16Type, Int32Type,
    Int64Type, IntervalMonthDayNanoType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType,
};
use quiver::connectors::Source;
use quiver::connectors::cassandra::types::{DecimalMode, EmptyValues, TypeMode};
use quiver::types::{ConnectorVersion, INTERIM_TYPE_KEY, SOURCE_TYPE_KEY};

use super::{read_all, settings, table_source};
use crate::cql::*;

const UUID: [u8; 16] = [
    0x12, 0x3e, 0x27, 0xde, 0x1e, 0x4e, 0x49, 0xd9, 0xb5, 0x79, 0xfe, 0x0b, 0x33, 0x1d, 0x36, 0x42,
];

fn address() -> CqlType {
    CqlType::Udt {
        keyspace: "ty".into(),
        name: "address".into(),
        fields: vec![
            ("street".into(), CqlType::Text),
            ("zip".into(), CqlType::Int),
        ],
    }
}

/// `ty.alltypes`: one column of every type. Row pk=1 holds values, pk=2 NULLs, pk=3 empty
/// values of every non-string scalar type.
fn all_types() -> Table {
    use CqlType as T;
    let columns = vec![
        Column::pk("pk", T::Int),
        Column::regular("a", T::Ascii),
        Column::regular("bi", T::BigInt),
        Column::regular("bl", T::Blob),
        Column::regular("b", T::Boolean),
        Column::regular("d", T::Date),
        Column::regular("dec", T::Decimal),
        Column::regular("dbl", T::Double),
        Column::regular("dur", T::Duration),
        Column::regular("f", T::Float),
        Column::regular("ip", T::Inet),
        Column::regular("si", T::SmallInt),
        Column::regular("t", T::Text),
        Column::regular("tm", T::Time),
        Column::regular("ts", T::Timestamp),
        Column::regular("tu", T::Timeuuid),
        Column::regular("ti", T::TinyInt),
        Column::regular("u", T::Uuid),
        Column::regular("vi", T::Varint),
        Column::regular("l", T::list(T::Int)),
        Column::regular("s", T::set(T::Text)),
        Column::regular("m", T::map(T::Text, T::Int)),
        Column::regular("tup", T::frozen(T::Tuple(vec![T::Int, T::Text]))),
        Column::regular("ud", T::frozen(address())),
        Column::regular("vec", T::Vector(Box::new(T::Float), 3)),
    ];
    let values = vec![
        Some(cell_int(1)),
        Some(cell_text("abc")),
        Some(cell_bigint(-9_000_000_000_000_000_001)),
        Some(cell_blob(&[1, 2, 3])),
        Some(cell_boolean(true)),
        Some(cell_date(19_000)),
        Some(cell_decimal(2, 12_345)),
        Some(cell_double(1.5)),
        Some(cell_duration(1, 2, 3)),
        Some(cell_float(2.5)),
        Some(cell_inet("10.0.0.1".parse().unwrap())),
        Some(cell_smallint(-3)),
        Some(cell_text("héllo \"q\"")),
        Some(cell_time(3_723_000_000_123)),
        Some(cell_timestamp(1_700_000_000_123)),
        Some(cell_uuid(UUID)),
        Some(cell_tinyint(-7)),
        Some(cell_uuid(UUID)),
        Some(cell_varint(1i128 << 100)),
        Some(cell_list(vec![cell_int(1), cell_int(2)])),
        Some(cell_set(vec![cell_text("a"), cell_text("b")])),
        Some(cell_map(vec![(cell_text("k"), cell_int(5))])),
        Some(cell_tuple(vec![Some(cell_int(7)), Some(cell_text("x"))])),
        Some(cell_udt(vec![
            Some(cell_text("Main")),
            Some(cell_int(12345)),
        ])),
        Some(cell_vector_f32(&[1.0, 2.5, -3.25])),
    ];
    let n = values.len();
    let mut nulls = vec![None; n];
    nulls[0] = Some(cell_int(2));
    // Empty values: zero bytes for every scalar type whose values cannot be empty.
    let mut empty: Vec<Option<Vec<u8>>> = columns
        .iter()
        .map(|c| match c.typ {
            T::Ascii | T::Text | T::Blob => Some(Vec::new()),
            T::List(_) | T::Set(_) | T::Map(..) | T::Frozen(_) | T::Vector(..) => None,
            _ => Some(Vec::new()),
        })
        .collect();
    empty[0] = Some(cell_int(3));
    Table {
        keyspace: "ty".into(),
        name: "alltypes".into(),
        columns,
        rows: vec![values, nulls, empty],
    }
}

async fn read(
    cluster: &CqlCluster,
    table: &str,
    edit: impl FnOnce(&mut quiver::connectors::cassandra::CassandraSourceConfig),
) -> RecordBatch {
    let s = settings(cluster, None);
    let source = table_source(&s, "ty", table, edit);
    let schema = source.schema().await.unwrap();
    let batches = read_all(&source, 1, 100).await.unwrap();
    let batch = concat_batches(&schema, &batches).unwrap();
    // One row per key, in key order.
    let pk = batch.column(0).as_primitive::<Int32Type>();
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by_key(|i| pk.value(*i as usize));
    let indices = arrow::array::UInt32Array::from(order);
    arrow::compute::take_record_batch(&batch, &indices).unwrap()
}

fn column_names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn text<'a>(b: &'a RecordBatch, c: &str) -> &'a arrow::array::StringArray {
    b.column_by_name(c).unwrap().as_string::<i32>()
}

async fn cluster() -> CqlCluster {
    let c = CqlCluster::start(ClusterOptions::default()).await;
    c.add_table(all_types());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adf_2_0_maps_every_type_to_its_interim_type() {
    let c = cluster().await;
    let b = read(&c, "alltypes", |cfg| {
        cfg.types.version = ConnectorVersion::V2
    })
    .await;
    assert_eq!(b.num_rows(), 3);
    let interim = |col: &str| {
        b.schema()
            .field_with_name(col)
            .unwrap()
            .metadata()
            .get(INTERIM_TYPE_KEY)
            .cloned()
            .unwrap()
    };
    for (col, want) in [
        ("a", "String"),
        ("bi", "Int64"),
        ("bl", "Byte[]"),
        ("b", "Boolean"),
        ("d", "DateTime"),
        ("dbl", "Double"),
        ("f", "Single"),
        ("ip", "String"),
        ("si", "Int16"),
        ("ts", "DateTime"),
        ("tu", "Guid"),
        ("u", "Guid"),
        ("ti", "SByte"),
        ("l", "String"),
    ] {
        assert_eq!(interim(col), want, "{col}");
    }
    let f = b.schema().field_with_name("m").unwrap().clone();
    assert_eq!(f.metadata()[SOURCE_TYPE_KEY], "map<text, int>");

    assert_eq!(text(&b, "a").value(0), "abc");
    assert_eq!(
        b.column_by_name("bi")
            .unwrap()
            .as_primitive::<Int64Type>()
            .value(0),
        -9_000_000_000_000_000_001
    );
    assert_eq!(
        b.column_by_name("bl").unwrap().as_binary::<i32>().value(0),
        [1, 2, 3]
    );
    assert!(b.column_by_name("b").unwrap().as_boolean().value(0));
    assert_eq!(
        b.column_by_name("d")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        19_000 * 86_400_000_000
    );
    assert_eq!(text(&b, "dec").value(0), "123.45");
    assert_eq!(text(&b, "dur").value(0), "1mo2d3ns");
    assert_eq!(
        b.column_by_name("f")
            .unwrap()
            .as_primitive::<Float32Type>()
            .value(0),
        2.5
    );
    assert_eq!(text(&b, "ip").value(0), "10.0.0.1");
    assert_eq!(
        b.column_by_name("si")
            .unwrap()
            .as_primitive::<Int16Type>()
            .value(0),
        -3
    );
    assert_eq!(text(&b, "t").value(0), "héllo \"q\"");
    assert_eq!(
        b.column_by_name("tm")
            .unwrap()
            .as_primitive::<DurationMicrosecondType>()
            .value(0),
        3_723_000_000
    );
    assert_eq!(
        b.column_by_name("ts")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_700_000_000_123_000
    );
    assert_eq!(
        b.column_by_name("u")
            .unwrap()
            .as_fixed_size_binary()
            .value(0),
        UUID
    );
    assert_eq!(
        b.column_by_name("ti")
            .unwrap()
            .as_primitive::<Int8Type>()
            .value(0),
        -7
    );
    assert_eq!(text(&b, "vi").value(0), "1267650600228229401496703205376");
    assert_eq!(text(&b, "l").value(0), "[1,2]");
    assert_eq!(text(&b, "s").value(0), r#"["a","b"]"#);
    assert_eq!(text(&b, "m").value(0), r#"{"k":5}"#);
    assert_eq!(text(&b, "tup").value(0), r#"[7,"x"]"#);
    assert_eq!(text(&b, "ud").value(0), r#"{"street":"Main","zip":12345}"#);
    assert_eq!(text(&b, "vec").value(0), "[1,2.5,-3.25]");

    // Row 2: NULL everywhere; row 3: empty values are NULL, empty text and blobs are values.
    for col in b.schema().fields().iter().skip(1) {
        assert!(
            b.column_by_name(col.name()).unwrap().is_null(1),
            "{} row 2",
            col.name()
        );
    }
    assert_eq!(text(&b, "a").value(2), "");
    assert_eq!(text(&b, "t").value(2), "");
    assert!(b.column_by_name("bl").unwrap().is_valid(2));
    for col in [
        "bi", "b", "d", "dec", "dbl", "f", "ip", "si", "ts", "u", "vi",
    ] {
        assert!(
            b.column_by_name(col).unwrap().is_null(2),
            "{col}: an empty value is NULL"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_mode_keeps_arrow_types() {
    let c = cluster().await;
    let b = read(&c, "alltypes", |cfg| {
        cfg.types.version = ConnectorVersion::V2;
        cfg.types.mode = TypeMode::Native;
    })
    .await;
    let col = |n: &str| b.column_by_name(n).unwrap().clone();
    assert_eq!(col("d").as_primitive::<Date32Type>().value(0), 19_000);
    assert_eq!(
        col("ts").data_type(),
        &DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
    );
    assert_eq!(
        col("ts")
            .as_primitive::<TimestampMillisecondType>()
            .value(0),
        1_700_000_000_123
    );
    assert_eq!(
        col("tm").as_primitive::<Time64NanosecondType>().value(0),
        3_723_000_000_123
    );
    let dur = col("dur")
        .as_primitive::<IntervalMonthDayNanoType>()
        .value(0);
    assert_eq!((dur.months, dur.days, dur.nanoseconds), (1, 2, 3));
    let l = col("l");
    let l = l.as_list::<i32>();
    assert_eq!(l.value(0).as_primitive::<Int32Type>().values(), &[1, 2]);
    assert!(l.is_null(1));
    let m = col("m");
    let m = m.as_map();
    assert_eq!(m.keys().as_string::<i32>().value(0), "k");
    assert_eq!(m.values().as_primitive::<Int32Type>().value(0), 5);
    let ud = col("ud");
    let ud = ud.as_struct();
    assert_eq!(
        ud.column_by_name("street")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "Main"
    );
    assert_eq!(
        ud.column_by_name("zip")
            .unwrap()
            .as_primitive::<Int32Type>()
            .value(0),
        12345
    );
    let tup = col("tup");
    assert_eq!(tup.as_struct().column(1).as_string::<i32>().value(0), "x");
    let vec = col("vec");
    let vec = vec.as_fixed_size_list();
    assert_eq!(
        vec.value(0).as_primitive::<Float32Type>().values(),
        &[1.0, 2.5, -3.25]
    );
    assert_eq!(col("ti").as_primitive::<Int8Type>().value(0), -7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adf_1_0_reads_collections_as_virtual_tables() {
    let c = cluster().await;
    let base = read(&c, "alltypes", |cfg| {
        cfg.types.version = ConnectorVersion::V1
    })
    .await;
    for gone in ["l", "s", "m"] {
        assert!(
            base.column_by_name(gone).is_none(),
            "{gone} is in its virtual table"
        );
    }
    assert_eq!(
        base.column_by_name("ti")
            .unwrap()
            .as_primitive::<Int16Type>()
            .value(0),
        -7,
        "1.0 reads tinyint as Int16"
    );
    let vt = read(&c, "alltypes_vt_l", |cfg| {
        cfg.types.version = ConnectorVersion::V1
    })
    .await;
    assert_eq!(column_names(&vt), ["pk", "l_index", "l_value"]);
    assert_eq!(
        vt.num_rows(),
        2,
        "pk 1 has two elements; NULL lists have none"
    );
    assert_eq!(vt.column(1).as_primitive::<Int32Type>().values(), &[0, 1]);
    assert_eq!(vt.column(2).as_primitive::<Int32Type>().values(), &[1, 2]);
    let vm = read(&c, "alltypes_vt_m", |cfg| {
        cfg.types.version = ConnectorVersion::V1
    })
    .await;
    assert_eq!(column_names(&vm), ["pk", "m_key", "m_value"]);
    assert_eq!(text(&vm, "m_key").value(0), "k");
    let e = table_source(&settings(&c, None), "ty", "alltypes_vt_a", |cfg| {
        cfg.types.version = ConnectorVersion::V1
    })
    .schema()
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not a list, set or map") && e.contains("\"l\""),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_0_virtual_table_is_a_table_of_the_factory() {
    use serde_json::json;
    let c = cluster().await;
    let linked = |name: &str, version: Option<&str>| {
        let mut ls = json!({"name": name, "properties": {"type": "Cassandra",
            "typeProperties": {"host": c.hosts()[0], "port": c.port(),
                "authenticationType": "Anonymous"}}});
        if let Some(v) = version {
            ls["properties"]["version"] = v.into();
        }
        ls
    };
    let dataset = |name: &str, service: &str| {
        json!({"name": name, "properties": {"type": "CassandraTable",
            "linkedServiceName": {"referenceName": service, "type": "LinkedServiceReference"},
            "typeProperties": {"keyspace": "ty", "tableName": "alltypes"}}})
    };
    let bundle = json!({
        "linkedServices": [linked("V1", None), linked("V2", Some("2.0"))],
        "datasets": [dataset("AllTypes", "V1"), dataset("Modern", "V2")]});
    let factory =
        quiver::plan::parse_bundle(&bundle.to_string(), std::path::Path::new("vt.json")).unwrap();
    let ctx = quiver::plan::catalog::session(factory, &Default::default());
    let rows = |sql: &str| {
        let ctx = ctx.clone();
        let sql = sql.to_string();
        async move {
            let batches = ctx.sql(&sql).await?.collect().await?;
            Ok::<_, datafusion::error::DataFusionError>(
                concat_batches(&batches[0].schema(), &batches).unwrap(),
            )
        }
    };
    // Unquoted, as DataFusion lowercases it; the dataset's name matches ignoring case.
    let vt = rows("SELECT pk, l_index, l_value FROM alltypes_vt_l ORDER BY l_index")
        .await
        .unwrap();
    assert_eq!(vt.column(1).as_primitive::<Int32Type>().values(), &[0, 1]);
    assert_eq!(vt.column(2).as_primitive::<Int32Type>().values(), &[1, 2]);
    let joined = rows(
        r#"SELECT count(*) AS n FROM "AllTypes" a JOIN "AllTypes_vt_m" m ON a.pk = m.pk
           WHERE m.m_key = 'k'"#,
    )
    .await
    .unwrap();
    assert_eq!(joined.column(0).as_primitive::<Int64Type>().value(0), 1);
    // 2.0 has no virtual tables (its collections are columns), and a column that is not a
    // collection has none.
    let e = rows("SELECT * FROM modern_vt_l")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("modern_vt_l") && e.contains("not found"), "{e}");
    let e = rows("SELECT * FROM alltypes_vt_a")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a list, set or map"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_decimals_and_empty_values_fail_naming_the_column_and_the_key() {
    let c = cluster().await;
    let s = settings(&c, None);
    let fixed = table_source(&s, "ty", "alltypes", |cfg| {
        cfg.types.decimals = DecimalMode::Fixed {
            precision: 10,
            scale: 4,
        }
    });
    let e = read_all(&fixed, 1, 100).await.unwrap_err().to_string();
    assert!(
        e.contains("column 'vi'") && e.contains(r#"{"pk":1}"#) && e.contains("decimalPrecision"),
        "{e}"
    );
    let strict = table_source(&s, "ty", "alltypes", |cfg| {
        cfg.types.empty = EmptyValues::Error
    });
    let e = read_all(&strict, 1, 100).await.unwrap_err().to_string();
    assert!(
        e.contains(r#"{"pk":3}"#) && e.contains("emptyValues"),
        "{e}"
    );
}
