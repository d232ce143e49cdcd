//! The schema model of the test cluster (tables, columns, CQL types, UDTs) and the three ways a
//! type is spelled: the [option] of result metadata (spec §4.2.5.2), the CQL text of
//! `system_schema.columns.type`, and the `org.apache.cassandra.db.marshal` class name used in
//! custom [option]s.

use super::wire::Put;

/// A CQL type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CqlType {
    Ascii,
    BigInt,
    Blob,
    Boolean,
    Counter,
    Decimal,
    Double,
    Float,
    Int,
    Timestamp,
    Uuid,
    Text,
    Varint,
    Timeuuid,
    Inet,
    Date,
    Time,
    SmallInt,
    TinyInt,
    Duration,
    List(Box<CqlType>),
    Set(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Tuple(Vec<CqlType>),
    Udt {
        keyspace: String,
        name: String,
        fields: Vec<(String, CqlType)>,
    },
    /// `vector<elem, n>` (Cassandra 5): a custom type on the v4 wire.
    Vector(Box<CqlType>, usize),
    /// `frozen<…>`: the same bytes and [option] as the inner type; only the schema text differs.
    Frozen(Box<CqlType>),
}

const MARSHAL: &str = "org.apache.cassandra.db.marshal.";

impl CqlType {
    /// `list<elem>`.
    pub fn list(elem: CqlType) -> CqlType {
        CqlType::List(Box::new(elem))
    }

    /// `set<elem>`.
    pub fn set(elem: CqlType) -> CqlType {
        CqlType::Set(Box::new(elem))
    }

    /// `map<key, value>`.
    pub fn map(key: CqlType, value: CqlType) -> CqlType {
        CqlType::Map(Box::new(key), Box::new(value))
    }

    /// `frozen<inner>`.
    pub fn frozen(inner: CqlType) -> CqlType {
        CqlType::Frozen(Box::new(inner))
    }

    /// The UDT this type is, if any (looking through `frozen`).
    pub fn as_udt(&self) -> Option<UdtDef> {
        match self {
            CqlType::Udt {
                keyspace,
                name,
                fields,
            } => Some(UdtDef {
                keyspace: keyspace.clone(),
                name: name.clone(),
                fields: fields.clone(),
            }),
            CqlType::Frozen(inner) => inner.as_udt(),
            _ => None,
        }
    }

    /// Every UDT this type mentions, innermost first.
    pub fn udts(&self, out: &mut Vec<UdtDef>) {
        match self {
            CqlType::List(e) | CqlType::Set(e) | CqlType::Vector(e, _) | CqlType::Frozen(e) => {
                e.udts(out)
            }
            CqlType::Map(k, v) => {
                k.udts(out);
                v.udts(out);
            }
            CqlType::Tuple(ts) => ts.iter().for_each(|t| t.udts(out)),
            CqlType::Udt { fields, .. } => {
                fields.iter().for_each(|(_, t)| t.udts(out));
                out.extend(self.as_udt());
            }
            _ => {}
        }
    }

    fn native(&self) -> Option<(u16, &'static str, &'static str)> {
        use CqlType::*;
        Some(match self {
            Ascii => (0x0001, "ascii", "AsciiType"),
            BigInt => (0x0002, "bigint", "LongType"),
            Blob => (0x0003, "blob", "BytesType"),
            Boolean => (0x0004, "boolean", "BooleanType"),
            Counter => (0x0005, "counter", "CounterColumnType"),
            Decimal => (0x0006, "decimal", "DecimalType"),
            Double => (0x0007, "double", "DoubleType"),
            Float => (0x0008, "float", "FloatType"),
            Int => (0x0009, "int", "Int32Type"),
            Timestamp => (0x000B, "timestamp", "TimestampType"),
            Uuid => (0x000C, "uuid", "UUIDType"),
            // Cassandra answers text columns with the Varchar id.
            Text => (0x000D, "text", "UTF8Type"),
            Varint => (0x000E, "varint", "IntegerType"),
            Timeuuid => (0x000F, "timeuuid", "TimeUUIDType"),
            Inet => (0x0010, "inet", "InetAddressType"),
            Date => (0x0011, "date", "SimpleDateType"),
            Time => (0x0012, "time", "TimeType"),
            SmallInt => (0x0013, "smallint", "ShortType"),
            TinyInt => (0x0014, "tinyint", "ByteType"),
            // Duration's id 0x0015 exists only from v5: Cassandra sends it to v4 clients as
            // a custom type (`transport/DataType.java`, `DURATION(21, …, V5)`).
            Duration => (0x0000, "duration", "DurationType"),
            _ => return None,
        })
    }

    /// Writes the type as an [option].
    pub fn write_option(&self, buf: &mut Vec<u8>) {
        if let Some((id, _, class)) = self.native() {
            buf.put_u16(id);
            if id == 0 {
                buf.put_string(&format!("{MARSHAL}{class}"));
            }
            return;
        }
        match self {
            CqlType::List(e) => {
                buf.put_u16(0x0020);
                e.write_option(buf);
            }
            CqlType::Map(k, v) => {
                buf.put_u16(0x0021);
                k.write_option(buf);
                v.write_option(buf);
            }
            CqlType::Set(e) => {
                buf.put_u16(0x0022);
                e.write_option(buf);
            }
            CqlType::Udt {
                keyspace,
                name,
                fields,
            } => {
                buf.put_u16(0x0030);
                buf.put_string(keyspace);
                buf.put_string(name);
                buf.put_u16(fields.len() as u16);
                for (f, t) in fields {
                    buf.put_string(f);
                    t.write_option(buf);
                }
            }
            CqlType::Tuple(ts) => {
                buf.put_u16(0x0031);
                buf.put_u16(ts.len() as u16);
                for t in ts {
                    t.write_option(buf);
                }
            }
            CqlType::Vector(..) => {
                buf.put_u16(0x0000);
                buf.put_string(&self.marshal());
            }
            CqlType::Frozen(inner) => inner.write_option(buf),
            _ => unreachable!("natives handled above"),
        }
    }

    /// The CQL spelling `system_schema.columns.type` uses, e.g. `map<text, int>`,
    /// `frozen<tuple<int, text>>`, `frozen<address>`, `vector<float, 3>`.
    pub fn cql_name(&self) -> String {
        if let Some((_, name, _)) = self.native() {
            return name.to_string();
        }
        match self {
            CqlType::List(e) => format!("list<{}>", e.cql_name()),
            CqlType::Set(e) => format!("set<{}>", e.cql_name()),
            CqlType::Map(k, v) => format!("map<{}, {}>", k.cql_name(), v.cql_name()),
            // Tuples are always frozen, and Cassandra says so.
            CqlType::Tuple(ts) => format!(
                "frozen<tuple<{}>>",
                ts.iter()
                    .map(|t| t.cql_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            CqlType::Udt { name, .. } => name.clone(),
            CqlType::Vector(e, n) => format!("vector<{}, {n}>", e.cql_name()),
            CqlType::Frozen(inner) => match **inner {
                CqlType::Tuple(_) => inner.cql_name(),
                _ => format!("frozen<{}>", inner.cql_name()),
            },
            _ => unreachable!("natives handled above"),
        }
    }

    /// The fully qualified `AbstractType` class spelling, as in a custom [option].
    pub fn marshal(&self) -> String {
        if let Some((_, _, class)) = self.native() {
            return format!("{MARSHAL}{class}");
        }
        let join = |ts: &[&CqlType]| ts.iter().map(|t| t.marshal()).collect::<Vec<_>>().join(",");
        match self {
            CqlType::List(e) => format!("{MARSHAL}ListType({})", e.marshal()),
            CqlType::Set(e) => format!("{MARSHAL}SetType({})", e.marshal()),
            CqlType::Map(k, v) => format!("{MARSHAL}MapType({})", join(&[k.as_ref(), v.as_ref()])),
            CqlType::Tuple(ts) => {
                format!(
                    "{MARSHAL}TupleType({})",
                    join(&ts.iter().collect::<Vec<_>>())
                )
            }
            CqlType::Udt {
                keyspace,
                name,
                fields,
            } => {
                let mut s = format!("{MARSHAL}UserType({keyspace},{}", hex(name.as_bytes()));
                for (f, t) in fields {
                    s.push_str(&format!(",{}:{}", hex(f.as_bytes()), t.marshal()));
                }
                s.push(')');
                s
            }
            // Cassandra's `TypeParser.stringifyVectorParameters`: "(" + elem + " , " + n + ")".
            CqlType::Vector(e, n) => format!("{MARSHAL}VectorType({} , {n})", e.marshal()),
            CqlType::Frozen(inner) => format!("{MARSHAL}FrozenType({})", inner.marshal()),
            _ => unreachable!("natives handled above"),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The role of a column in its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    PartitionKey,
    Clustering,
    Regular,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub typ: CqlType,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(name: &str, typ: CqlType, kind: ColumnKind) -> Column {
        Column {
            name: name.to_string(),
            typ,
            kind,
        }
    }

    /// A partition key column.
    pub fn pk(name: &str, typ: CqlType) -> Column {
        Column::new(name, typ, ColumnKind::PartitionKey)
    }

    /// A clustering column.
    pub fn ck(name: &str, typ: CqlType) -> Column {
        Column::new(name, typ, ColumnKind::Clustering)
    }

    /// A regular column.
    pub fn regular(name: &str, typ: CqlType) -> Column {
        Column::new(name, typ, ColumnKind::Regular)
    }
}

/// A table and its rows. Cells are in CQL v4 wire encoding (see the `cell_*` helpers);
/// `None` is null and `Some(vec![])` an empty value. Partition key cells must not be null.
#[derive(Debug, Clone)]
pub struct Table {
    pub keyspace: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
}

/// A user-defined type (a `system_schema.types` row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdtDef {
    pub keyspace: String,
    pub name: String,
    pub fields: Vec<(String, CqlType)>,
}

impl UdtDef {
    /// The type of a column holding this UDT (non-frozen; wrap in [`CqlType::frozen`] for
    /// `frozen<name>`).
    pub fn typ(&self) -> CqlType {
        CqlType::Udt {
            keyspace: self.keyspace.clone(),
            name: self.name.clone(),
            fields: self.fields.clone(),
        }
    }
}

/// Cassandra's column order (`SELECT *`, `system_schema.columns`), as positions in `columns`:
/// the partition key and clustering columns as declared, then the other columns by name.
pub fn select_star_order(columns: &[Column]) -> Vec<usize> {
    let rank = |c: &Column| match c.kind {
        ColumnKind::PartitionKey => 0,
        ColumnKind::Clustering => 1,
        ColumnKind::Regular => 2,
    };
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by(|&x, &y| {
        let (cx, cy) = (&columns[x], &columns[y]);
        match (rank(cx), rank(cy)) {
            (2, 2) => cx.name.cmp(&cy.name),
            (rx, ry) => rx.cmp(&ry).then(x.cmp(&y)),
        }
    });
    order
}
