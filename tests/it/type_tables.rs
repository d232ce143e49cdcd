//! Walks every row of every connector's type table.

use quiver::types::{ConnectorVersion, InterimKind, Loss, Mapping, TypeRow, find_row};

fn walk(table: &[TypeRow]) -> usize {
    let mut checked = 0;
    for row in table {
        assert!(!row.source_types.is_empty());
        for name in row.source_types {
            // Every spelling finds its own row, case-insensitively.
            assert_eq!(find_row(table, name), Some(row), "{name}");
            assert_eq!(find_row(table, &name.to_uppercase()), Some(row), "{name}");
        }
        for version in [ConnectorVersion::V1, ConnectorVersion::V2] {
            match row.mapping(version) {
                Mapping::To(kind, _) => {
                    let interim = kind.with_decimal(18, 3).unwrap();
                    assert_eq!(interim.name(), kind.name());
                    let field =
                        quiver::types::ColumnType::new(row.source_types[0], interim).field("c");
                    assert_eq!(field.data_type(), &interim.arrow_type());
                }
                Mapping::Unsupported(why) => assert!(!why.is_empty()),
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn synthetic_table_maps_one_source_type_to_each_interim_type() {
    let table = quiver::connectors::synthetic::type_map::TYPE_TABLE;
    assert_eq!(walk(table), table.len() * 2);
    let kinds = [
        InterimKind::Boolean,
        InterimKind::SByte,
        InterimKind::Byte,
        InterimKind::Int16,
        InterimKind::Int32,
        InterimKind::Int64,
        InterimKind::Single,
        InterimKind::Double,
        InterimKind::Decimal,
        InterimKind::String,
        InterimKind::ByteArray,
        InterimKind::DateTime,
        InterimKind::DateTimeOffset,
        InterimKind::Guid,
        InterimKind::TimeSpan,
    ];
    for kind in kinds {
        assert!(
            table.iter().any(|r| r.v2 == Mapping::To(kind, None)),
            "{} has no row",
            kind.name()
        );
    }
}

#[test]
fn impala_table_walks_and_matches_the_docs() {
    use quiver::connectors::hive::impala::type_map::{EXTRA_TYPES, TYPE_TABLE};
    assert_eq!(walk(TYPE_TABLE), TYPE_TABLE.len() * 2);
    assert_eq!(walk(EXTRA_TYPES), EXTRA_TYPES.len() * 2);
    // The docs' table has twelve rows; every Impala type maps in both versions.
    assert_eq!(TYPE_TABLE.len(), 12);
    let row = |name| find_row(TYPE_TABLE, name).unwrap();
    assert_eq!(
        row("TIMESTAMP").v2,
        Mapping::To(InterimKind::DateTimeOffset, Some(Loss::SubMicrosecond))
    );
    assert_eq!(
        row("TIMESTAMP").v1,
        Mapping::To(InterimKind::DateTime, Some(Loss::SubMicrosecond))
    );
    assert_eq!(row("TINYINT").v2, Mapping::To(InterimKind::SByte, None));
    assert_eq!(row("TINYINT").v1, Mapping::To(InterimKind::Int16, None));
    for complex in ["ARRAY", "MAP", "STRUCT"] {
        assert_eq!(
            row(complex).mapping(ConnectorVersion::V1),
            Mapping::To(InterimKind::String, Some(Loss::ComplexAsJsonText))
        );
    }
    // Extras never shadow a documented row.
    for extra in EXTRA_TYPES {
        for name in extra.source_types {
            assert!(find_row(TYPE_TABLE, name).is_none(), "{name}");
        }
    }
}

#[test]
fn spark_table_walks_and_matches_the_docs() {
    use quiver::connectors::hive::spark::type_map::{EXTRA_TYPES, TYPE_TABLE};
    assert_eq!(walk(TYPE_TABLE), TYPE_TABLE.len() * 2);
    assert_eq!(walk(EXTRA_TYPES), EXTRA_TYPES.len() * 2);
    assert_eq!(TYPE_TABLE.len(), 15);
    let row = |name| find_row(TYPE_TABLE, name).unwrap();
    for interval in ["YearMonthIntervalType", "DayTimeIntervalType"] {
        assert_eq!(
            row(interval).v2,
            Mapping::To(InterimKind::String, Some(Loss::IntervalAsText))
        );
        assert_eq!(row(interval).v1, Mapping::Unsupported("not supported"));
    }
    assert_eq!(row("ByteType").v1, Mapping::To(InterimKind::Int16, None));
    assert_eq!(
        row("TimestampType").v2,
        Mapping::To(InterimKind::DateTimeOffset, None)
    );
    assert_eq!(
        row("TimestampNTZType").v2,
        Mapping::To(InterimKind::DateTime, None)
    );
    assert_eq!(
        row("BinaryType").v1,
        Mapping::To(InterimKind::ByteArray, None)
    );
    for extra in EXTRA_TYPES {
        for name in extra.source_types {
            assert!(find_row(TYPE_TABLE, name).is_none(), "{name}");
        }
    }
}

#[test]
fn kusto_table_walks_and_matches_quivers_documented_table() {
    use quiver::connectors::kusto::types::{KustoType, TYPE_TABLE, field};
    assert_eq!(walk(TYPE_TABLE), TYPE_TABLE.len() * 2);
    // One row per Kusto scalar type, each name (and alias) resolving to it.
    assert_eq!(TYPE_TABLE.len(), 10);
    for (name, interim, loss) in [
        ("bool", "Boolean", None),
        ("int", "Int32", None),
        ("long", "Int64", None),
        ("real", "Double", None),
        ("decimal", "Decimal", None),
        ("string", "String", None),
        ("datetime", "DateTime", Some("sub-microsecond")),
        ("timespan", "TimeSpan", Some("sub-microsecond")),
        ("guid", "Guid", None),
        ("dynamic", "String", Some("complex-as-json-text")),
    ] {
        let row = find_row(TYPE_TABLE, name).unwrap();
        let Mapping::To(kind, row_loss) = row.mapping(ConnectorVersion::V2) else {
            panic!("{name} is unsupported")
        };
        assert_eq!(kind.name(), interim, "{name}");
        assert_eq!(row_loss.map(|l: Loss| l.code()), loss, "{name}");
        assert_eq!(row.v1, row.v2, "{name}: Kusto has one mapping");
        assert_eq!(KustoType::parse(name).name(), Some(name));
        let f = field("c", name);
        assert_eq!(
            f.metadata()["quiver.interim_type"].split('(').next(),
            Some(interim)
        );
    }
    assert_eq!(KustoType::parse("vector16"), KustoType::Unknown);
}

#[test]
fn cassandra_table_walks_and_matches_the_docs() {
    use quiver::connectors::cassandra::types::TYPE_TABLE;
    assert_eq!(walk(TYPE_TABLE), TYPE_TABLE.len() * 2);
    // ADF's table (Cassandra → interim, 2.0 / 1.0), then quiver's rows for the types it omits.
    for (name, v2, v1) in [
        ("ascii", "String", "String"),
        ("text", "String", "String"),
        ("varchar", "String", "String"),
        ("bigint", "Int64", "Int64"),
        ("blob", "Byte[]", "Byte[]"),
        ("boolean", "Boolean", "Boolean"),
        ("date", "DateTime", "DateTime"),
        ("decimal", "Decimal", "Decimal"),
        ("double", "Double", "Double"),
        ("float", "Single", "Single"),
        ("inet", "String", "String"),
        ("int", "Int32", "Int32"),
        ("smallint", "Int16", "Int16"),
        ("timestamp", "DateTime", "DateTime"),
        ("timeuuid", "Guid", "Guid"),
        ("uuid", "Guid", "Guid"),
        ("tinyint", "SByte", "Int16"),
        ("varint", "Decimal", "Decimal"),
        ("counter", "Int64", "Int64"),
        ("time", "TimeSpan", "TimeSpan"),
        ("duration", "String", "String"),
        ("map", "String", "String"),
        ("udt", "String", "String"),
        ("vector", "String", "String"),
    ] {
        let row = find_row(TYPE_TABLE, name).unwrap_or_else(|| panic!("{name} has no row"));
        for (version, want) in [(ConnectorVersion::V2, v2), (ConnectorVersion::V1, v1)] {
            let Mapping::To(kind, _) = row.mapping(version) else {
                panic!("{name} is unsupported in {version}")
            };
            assert_eq!(kind.name(), want, "{name} in {version}");
        }
    }
    let smallint = find_row(TYPE_TABLE, "smallint").unwrap();
    assert_eq!(
        smallint.v2,
        Mapping::To(InterimKind::Int16, None),
        "the doc's Short is Int16"
    );
}
