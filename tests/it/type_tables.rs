//! Walks every row of every connector's type table.

use quiver::types::{ConnectorVersion, InterimKind, Mapping, TypeRow, find_row};

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
    let table = quiver::sources::synthetic::type_map::TYPE_TABLE;
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
