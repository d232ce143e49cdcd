//! The data an [`Hs2Server`](super::Hs2Server) serves: typed columns with NULLs, the
//! Impala all-types generator, and the canonical text form both the Rust side and the impyla
//! judge print values in.
//!
//! Values are kept the way Impala puts them on the wire (notes `hiveserver2.md` §1.4, §2.4):
//! TIMESTAMP, DATE, DECIMAL, CHAR, VARCHAR and the complex types as `stringVal` text, FLOAT
//! as a `doubleVal`, BINARY as `binaryVal`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quiver::connectors::hive::tcli::{
    TColumn, TColumnDesc, TColumnValue, TPrimitiveTypeEntry, TTableSchema, TTypeDesc, TTypeEntry,
    TTypeId, TTypeQualifierValue, TTypeQualifiers, TypedColumn,
};
use serde_json::{Value, json};

/// A result set: columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// The columns, in result order.
    pub columns: Vec<Column>,
}

/// One result column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name as GetResultSetMetadata reports it.
    pub name: String,
    /// The HS2 type id reported in the metadata (Impala: complex types are `String`).
    pub type_id: TTypeId,
    /// Type qualifiers (`precision`, `scale`, `characterMaximumLength`), all i32 values.
    pub qualifiers: BTreeMap<String, i32>,
    /// The values, in the carrier they travel in.
    pub values: ColumnValues,
    /// The type Impala's `DESCRIBE` names when it differs from the metadata's (complex
    /// types, which the metadata reports as STRING), e.g. `array<int>`.
    pub declared: Option<String>,
}

/// A column's values in their wire carrier; `None` is NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// `boolVal`.
    Bool(Vec<Option<bool>>),
    /// `byteVal`.
    Byte(Vec<Option<i8>>),
    /// `i16Val`.
    I16(Vec<Option<i16>>),
    /// `i32Val`.
    I32(Vec<Option<i32>>),
    /// `i64Val`.
    I64(Vec<Option<i64>>),
    /// `doubleVal` (FLOAT and DOUBLE).
    Double(Vec<Option<f64>>),
    /// `stringVal`, as bytes (may be non-UTF-8).
    String(Vec<Option<Vec<u8>>>),
    /// `binaryVal` (from V6; `stringVal` in row-based results).
    Binary(Vec<Option<Vec<u8>>>),
}

impl ColumnValues {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::Bool(v) => v.len(),
            ColumnValues::Byte(v) => v.len(),
            ColumnValues::I16(v) => v.len(),
            ColumnValues::I32(v) => v.len(),
            ColumnValues::I64(v) => v.len(),
            ColumnValues::Double(v) => v.len(),
            ColumnValues::String(v) | ColumnValues::Binary(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &[usize]) -> ColumnValues {
        fn pick<T: Clone>(v: &[T], indices: &[usize]) -> Vec<T> {
            indices.iter().map(|&i| v[i].clone()).collect()
        }
        match self {
            ColumnValues::Bool(v) => ColumnValues::Bool(pick(v, indices)),
            ColumnValues::Byte(v) => ColumnValues::Byte(pick(v, indices)),
            ColumnValues::I16(v) => ColumnValues::I16(pick(v, indices)),
            ColumnValues::I32(v) => ColumnValues::I32(pick(v, indices)),
            ColumnValues::I64(v) => ColumnValues::I64(pick(v, indices)),
            ColumnValues::Double(v) => ColumnValues::Double(pick(v, indices)),
            ColumnValues::String(v) => ColumnValues::String(pick(v, indices)),
            ColumnValues::Binary(v) => ColumnValues::Binary(pick(v, indices)),
        }
    }

    /// Rows `[start, end)` as a columnar `TColumn` with an Impala null bitmap: exactly
    /// ceil(n/8) bytes, LSB first, bit set = NULL; NULL slots hold 0 / false / empty.
    pub fn to_tcolumn(&self, start: usize, end: usize) -> TColumn {
        fn typed<T: Clone + Default>(v: &[Option<T>]) -> TypedColumn<T> {
            let mut nulls = vec![0u8; v.len().div_ceil(8)];
            let values = v
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    Some(x) => x.clone(),
                    None => {
                        nulls[i / 8] |= 1 << (i % 8);
                        T::default()
                    }
                })
                .collect();
            TypedColumn { values, nulls }
        }
        match self {
            ColumnValues::Bool(v) => TColumn::Bool(typed(&v[start..end])),
            ColumnValues::Byte(v) => TColumn::Byte(typed(&v[start..end])),
            ColumnValues::I16(v) => TColumn::I16(typed(&v[start..end])),
            ColumnValues::I32(v) => TColumn::I32(typed(&v[start..end])),
            ColumnValues::I64(v) => TColumn::I64(typed(&v[start..end])),
            ColumnValues::Double(v) => TColumn::Double(typed(&v[start..end])),
            ColumnValues::String(v) => TColumn::String(typed(&v[start..end])),
            ColumnValues::Binary(v) => TColumn::Binary(typed(&v[start..end])),
        }
    }

    /// Row `i` as a row-based `TColumnValue` (below V6). BINARY travels as `stringVal`
    /// there, as `TColumnValue` has no binary member.
    pub fn to_tvalue(&self, i: usize) -> TColumnValue {
        match self {
            ColumnValues::Bool(v) => TColumnValue::Bool(v[i]),
            ColumnValues::Byte(v) => TColumnValue::Byte(v[i]),
            ColumnValues::I16(v) => TColumnValue::I16(v[i]),
            ColumnValues::I32(v) => TColumnValue::I32(v[i]),
            ColumnValues::I64(v) => TColumnValue::I64(v[i]),
            ColumnValues::Double(v) => TColumnValue::Double(v[i]),
            ColumnValues::String(v) | ColumnValues::Binary(v) => TColumnValue::String(v[i].clone()),
        }
    }

    /// Row `i` in the canonical JSON form (see [`canonical_rows`]).
    pub fn canonical(&self, i: usize) -> Value {
        match self {
            ColumnValues::Bool(v) => v[i].map_or(Value::Null, Value::Bool),
            ColumnValues::Byte(v) => v[i].map_or(Value::Null, |x| json!(x)),
            ColumnValues::I16(v) => v[i].map_or(Value::Null, |x| json!(x)),
            ColumnValues::I32(v) => v[i].map_or(Value::Null, |x| json!(x)),
            ColumnValues::I64(v) => v[i].map_or(Value::Null, |x| json!(x)),
            ColumnValues::Double(v) => v[i].map_or(Value::Null, canonical_f64),
            ColumnValues::String(v) => v[i].as_deref().map_or(Value::Null, canonical_text),
            ColumnValues::Binary(v) => v[i].as_deref().map_or(Value::Null, canonical_bytes),
        }
    }
}

impl Column {
    /// A column without qualifiers.
    pub fn new(name: impl Into<String>, type_id: TTypeId, values: ColumnValues) -> Self {
        Column {
            name: name.into(),
            type_id,
            qualifiers: BTreeMap::new(),
            values,
            declared: None,
        }
    }

    /// Sets the type `DESCRIBE` reports (Impala's complex types).
    pub fn declared_as(mut self, impala_type: &str) -> Self {
        self.declared = Some(impala_type.to_owned());
        self
    }

    /// The column's type as Impala's `DESCRIBE` prints it.
    pub fn impala_type(&self) -> String {
        if let Some(d) = &self.declared {
            return d.clone();
        }
        let q = |k: &str| self.qualifiers.get(k).copied().unwrap_or(0);
        match self.type_id {
            TTypeId::Boolean => "boolean".into(),
            TTypeId::TinyInt => "tinyint".into(),
            TTypeId::SmallInt => "smallint".into(),
            TTypeId::Int => "int".into(),
            TTypeId::BigInt => "bigint".into(),
            TTypeId::Float => "float".into(),
            TTypeId::Double => "double".into(),
            TTypeId::Decimal => format!("decimal({},{})", q("precision"), q("scale")),
            TTypeId::Varchar => format!("varchar({})", q("characterMaximumLength")),
            TTypeId::Char => format!("char({})", q("characterMaximumLength")),
            TTypeId::Timestamp => "timestamp".into(),
            TTypeId::Date => "date".into(),
            TTypeId::Binary => "binary".into(),
            _ => "string".into(),
        }
    }

    /// Adds a type qualifier (`precision`, `scale`, `characterMaximumLength`).
    pub fn with_qualifier(mut self, key: &str, value: i32) -> Self {
        self.qualifiers.insert(key.to_owned(), value);
        self
    }

    /// The metadata entry for position `position`: one primitive type entry, as Impala
    /// sends even for complex types (notes §2.3 step 4).
    pub fn desc(&self, position: usize) -> TColumnDesc {
        let type_qualifiers = (!self.qualifiers.is_empty()).then(|| TTypeQualifiers {
            qualifiers: self
                .qualifiers
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        TTypeQualifierValue {
                            i32_value: Some(*v),
                            string_value: None,
                        },
                    )
                })
                .collect(),
        });
        TColumnDesc {
            column_name: self.name.clone(),
            type_desc: TTypeDesc {
                types: vec![TTypeEntry::Primitive(TPrimitiveTypeEntry {
                    type_id: self.type_id,
                    type_qualifiers,
                })],
            },
            position: position as i32,
            comment: None,
        }
    }

    /// The type as impyla names it in `cursor.description` (the TTypeId name up to its
    /// first `_`), for comparing the judge's schema line.
    pub fn impyla_type_name(&self) -> &'static str {
        match self.type_id {
            TTypeId::Boolean => "BOOLEAN",
            TTypeId::TinyInt => "TINYINT",
            TTypeId::SmallInt => "SMALLINT",
            TTypeId::Int => "INT",
            TTypeId::BigInt => "BIGINT",
            TTypeId::Float => "FLOAT",
            TTypeId::Double => "DOUBLE",
            TTypeId::String => "STRING",
            TTypeId::Timestamp => "TIMESTAMP",
            TTypeId::Binary => "BINARY",
            TTypeId::Decimal => "DECIMAL",
            TTypeId::Date => "DATE",
            TTypeId::Varchar => "VARCHAR",
            TTypeId::Char => "CHAR",
            TTypeId::Array => "ARRAY",
            TTypeId::Map => "MAP",
            TTypeId::Struct => "STRUCT",
            _ => "OTHER",
        }
    }
}

impl Table {
    /// A table of these columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Table { columns }
    }

    /// Number of rows (of the first column; all columns have the same length).
    pub fn num_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    /// What Impala's `DESCRIBE` of this table returns: `name`, `type`, `comment`.
    pub fn impala_describe(&self) -> Table {
        let text = |f: &dyn Fn(&Column) -> String| {
            ColumnValues::String(
                self.columns
                    .iter()
                    .map(|c| Some(f(c).into_bytes()))
                    .collect(),
            )
        };
        Table::new(vec![
            Column::new("name", TTypeId::String, text(&|c| c.name.clone())),
            Column::new("type", TTypeId::String, text(&|c| c.impala_type())),
            Column::new("comment", TTypeId::String, text(&|_| String::new())),
        ])
    }

    /// The rows at `indices`, in that order (e.g. one range partition's rows).
    pub fn take(&self, indices: &[usize]) -> Table {
        Table {
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    values: c.values.take(indices),
                    ..c.clone()
                })
                .collect(),
        }
    }

    /// The rows whose BIGINT column `column` satisfies `keep` (NULLs never do).
    pub fn filter_i64(&self, column: &str, keep: impl Fn(i64) -> bool) -> Table {
        let col = self
            .columns
            .iter()
            .find(|c| c.name == column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let ColumnValues::I64(values) = &col.values else {
            panic!("column {column} is not BIGINT");
        };
        let indices: Vec<usize> = (0..values.len())
            .filter(|&i| values[i].is_some_and(&keep))
            .collect();
        self.take(&indices)
    }

    /// Only the columns for which `keep` is true.
    pub fn select(&self, keep: impl Fn(&Column) -> bool) -> Table {
        Table {
            columns: self.columns.iter().filter(|c| keep(c)).cloned().collect(),
        }
    }

    /// The GetResultSetMetadata schema.
    pub fn schema(&self) -> TTableSchema {
        TTableSchema {
            columns: self
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| c.desc(i))
                .collect(),
        }
    }
}

/// An Impala release, `major.minor`, for what it does with complex columns in a select list
/// (checked against apache/impala's history):
///
/// | version | `SELECT *` | complex column named in the select list |
/// |---|---|---|
/// | ≤ 4.0 | scalar columns only | refused: "Expr … returns a complex type …" |
/// | 4.1 | scalar columns only | ARRAY (IMPALA-9498); MAP refused; STRUCT only with codegen off (IMPALA-9495) |
/// | 4.2 | all with `EXPAND_COMPLEX_TYPES=true` (IMPALA-9499), default false | every kind (IMPALA-10918 maps, IMPALA-9496 structs) |
/// | 4.3 | as 4.2; the option may also be sent as `set:hiveconf:EXPAND_COMPLEX_TYPES` (IMPALA-11992) | as 4.2 |
/// | 5.0 | all: the option defaults to true (IMPALA-15054) | as 4.2 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImpalaVersion(pub u32, pub u32);

impl ImpalaVersion {
    /// The newest behaviour modelled: Impala 5.0.
    pub const LATEST: ImpalaVersion = ImpalaVersion(5, 0);

    /// Whether `SELECT *` includes complex columns in a session with `configuration`.
    pub fn expands_complex(self, configuration: &BTreeMap<String, String>) -> bool {
        if self < ImpalaVersion(4, 2) {
            // No such option: OpenSession logs "Invalid query option" and goes on.
            return false;
        }
        let set = configuration.iter().find_map(|(k, v)| {
            let k = match k.get(..13) {
                Some(p)
                    if p.eq_ignore_ascii_case("set:hiveconf:") && self >= ImpalaVersion(4, 3) =>
                {
                    &k[13..]
                }
                _ => k.as_str(),
            };
            // Impala's IsTrue: "true" (any case) or "1".
            k.eq_ignore_ascii_case("EXPAND_COMPLEX_TYPES")
                .then(|| v.eq_ignore_ascii_case("true") || v == "1")
        });
        set.unwrap_or(self >= ImpalaVersion(5, 0))
    }

    /// Why this version refuses `column` (declared `declared`) named in a select list.
    fn refuses(self, column: &str, declared: &str) -> Option<String> {
        let t = declared.to_ascii_lowercase();
        let upper = declared.to_ascii_uppercase();
        if self < ImpalaVersion(4, 1) {
            return Some(format!(
                "AnalysisException: Expr '{column}' in select list returns a complex type \
                 '{upper}'.\nOnly scalar types are allowed in the select list."
            ));
        }
        if self < ImpalaVersion(4, 2) {
            if t.starts_with("map<") {
                return Some(format!(
                    "AnalysisException: Expr '{column}' in select list returns a map type \
                     '{upper}'.\nMap type is not allowed in the select list."
                ));
            }
            if t.starts_with("struct<") {
                return Some(
                    "AnalysisException: Struct type in select list is not allowed when \
                     Codegen is ON. You might want to set DISABLE_CODEGEN=true"
                        .to_string(),
                );
            }
        }
        None
    }
}

fn is_complex_type(declared: &Option<String>) -> bool {
    declared.as_deref().is_some_and(|d| {
        let d = d.to_ascii_lowercase();
        d.starts_with("array<") || d.starts_with("map<") || d.starts_with("struct<")
    })
}

/// `q.`name`` or `` `name` `` (backticks doubled inside) → the name.
fn select_item_name(item: &str) -> Option<String> {
    let item = item.trim();
    let item = item.strip_prefix("q.").unwrap_or(item);
    let inner = item.strip_prefix('`')?.strip_suffix('`')?;
    Some(inner.replace("``", "`"))
}

/// Impala's result for `sql` over `table` (module docs of [`ImpalaVersion`]): each select
/// list, innermost first, is `*` (star expansion, leaving complex columns out unless the
/// session expands them), a list of backticked names (those columns, by name; complex ones
/// the version cannot return are an analysis error), or anything else (left to the table
/// as it is: constants, aggregates).
pub fn impala_select(
    table: &Table,
    sql: &str,
    version: ImpalaVersion,
    configuration: &BTreeMap<String, String>,
) -> Result<Table, super::QueryFailure> {
    let upper = sql.to_ascii_uppercase();
    let starts: Vec<usize> = upper.match_indices("SELECT ").map(|(i, _)| i).collect();
    let mut result = table.clone();
    for &at in starts.iter().rev() {
        let list_start = at + "SELECT ".len();
        let Some(from) = upper[list_start..].find(" FROM ") else {
            continue;
        };
        let list = sql[list_start..list_start + from].trim();
        if list == "*" {
            if !version.expands_complex(configuration) {
                result = result.select(|c| !is_complex_type(&c.declared));
            }
            continue;
        }
        let names: Option<Vec<String>> = list.split(", ").map(select_item_name).collect();
        let Some(names) = names else { continue };
        let mut columns = Vec::new();
        for name in &names {
            let Some(c) = result
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
            else {
                return Err(super::QueryFailure::analysis(&format!(
                    "AnalysisException: Could not resolve column/field reference: '{name}'"
                )));
            };
            if is_complex_type(&c.declared)
                && let Some(why) = version.refuses(name, c.declared.as_deref().unwrap_or(""))
            {
                return Err(super::QueryFailure::analysis(&why));
            }
            columns.push(c.clone());
        }
        result = Table::new(columns);
    }
    Ok(result)
}

/// Every row as one JSON array text, values in the canonical form the judge prints:
/// NULL → `null`; booleans and integers as JSON; FLOAT/DOUBLE → `"NaN"`, `"inf"`, `"-inf"`
/// or `"f64:"` + the 16 hex digits of the IEEE bits (exact, -0.0 distinct); text carried in
/// `stringVal` → the JSON string if it is UTF-8, else `{"hex": …}`; BINARY → `{"hex": …}`.
/// Compare lines with [`normalize_json_line`] applied to the other side.
pub fn canonical_rows(table: &Table) -> Vec<String> {
    (0..table.num_rows())
        .map(|i| {
            Value::Array(
                table
                    .columns
                    .iter()
                    .map(|c| c.values.canonical(i))
                    .collect(),
            )
            .to_string()
        })
        .collect()
}

/// Re-serializes one JSON line so lines from Python and Rust compare as text.
pub fn normalize_json_line(line: &str) -> String {
    serde_json::from_str::<Value>(line)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
        .to_string()
}

/// The canonical form of a double.
pub fn canonical_f64(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v == f64::INFINITY {
        json!("inf")
    } else if v == f64::NEG_INFINITY {
        json!("-inf")
    } else {
        json!(format!("f64:{:016x}", v.to_bits()))
    }
}

/// The canonical form of text that may not be UTF-8.
pub fn canonical_text(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => json!(s),
        Err(_) => canonical_bytes(bytes),
    }
}

/// The canonical form of bytes.
pub fn canonical_bytes(bytes: &[u8]) -> Value {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    json!({ "hex": hex })
}

/// splitmix64: small, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// Fills `rows` values: first the `specials` in order (as far as there are rows), then
/// `random` values with one NULL in eight.
fn fill<T: Clone>(
    rows: usize,
    rng: &mut Rng,
    specials: &[Option<T>],
    mut random: impl FnMut(&mut Rng) -> T,
) -> Vec<Option<T>> {
    (0..rows)
        .map(|i| match specials.get(i) {
            Some(v) => v.clone(),
            None if rng.chance(8) => None,
            None => Some(random(rng)),
        })
        .collect()
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

/// A DECIMAL(p, s) value as Impala prints it: exactly `s` fraction digits, no leading zeros.
fn decimal_text(rng: &mut Rng, precision: usize, scale: usize) -> String {
    let int_digits = rng.below((precision - scale) as u64 + 1) as usize;
    let int = digits(rng, int_digits);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if rng.chance(2) { "-" } else { "" };
    let frac = digits(rng, scale);
    if int == "0" && frac.bytes().all(|b| b == b'0') {
        return format!("0.{frac}");
    }
    format!("{sign}{int}.{frac}")
}

/// A TIMESTAMP as Impala prints it: `yyyy-MM-dd HH:mm:ss`, plus `.fffffffff` (9 digits)
/// when the fraction is not zero.
pub fn timestamp_text(y: u32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> String {
    let base = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if nanos == 0 {
        base
    } else {
        format!("{base}.{nanos:09}")
    }
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn pad_char(s: &str, len: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(len.saturating_sub(n)))
}

const WORDS: &[&str] = &[
    "alpha",
    "béta",
    "Γάμμα",
    "日本語",
    "emoji 🦀",
    "tab\there",
    "quote\"s",
    "back\\slash",
    "x",
];

/// Every Impala type of the table, `rows` rows, deterministic for `seed`:
///
/// | column | type (wire) | notes |
/// |---|---|---|
/// | `id` | BIGINT | 0..rows, never NULL (for range partitions and ordering) |
/// | `c_bool` … `c_bigint` | BOOLEAN, TINYINT, SMALLINT, INT, BIGINT | MIN/MAX extremes |
/// | `c_float`, `c_double` | FLOAT, DOUBLE (`doubleVal`) | NaN, ±inf, -0.0, MIN_POSITIVE, MAX |
/// | `c_dec38`, `c_dec9` | DECIMAL(38,10), DECIMAL(9,2) (text) | ±max digits, zero |
/// | `c_string` | STRING | non-ASCII, empty, long |
/// | `c_varchar` | VARCHAR(20) | |
/// | `c_char` | CHAR(10) | padded with spaces |
/// | `c_timestamp` | TIMESTAMP (text) | 9-digit nanos or none; 1400-01-01 (Impala's minimum), 9999-12-31 23:59:59.999999999 |
/// | `c_date` | DATE (text) | 0001-01-01, 9999-12-31, 1970-01-01, a leap day |
/// | `c_binary` | BINARY (`binaryVal`) | empty, 0x00, 0xff |
/// | `c_array`, `c_map`, `c_struct` | ARRAY/MAP/STRUCT reported as STRING, JSON text | |
///
/// Rows 0..3 hold the extremes; later rows are random with one NULL in eight per column.
pub fn impala_all_types(rows: usize, seed: u64) -> Table {
    let mut rng = Rng(seed);
    let r = &mut rng;
    let mut columns = vec![Column::new(
        "id",
        TTypeId::BigInt,
        ColumnValues::I64((0..rows as i64).map(Some).collect()),
    )];
    columns.push(Column::new(
        "c_bool",
        TTypeId::Boolean,
        ColumnValues::Bool(fill(rows, r, &[Some(true), Some(false), None], |r| {
            r.chance(2)
        })),
    ));
    columns.push(Column::new(
        "c_tinyint",
        TTypeId::TinyInt,
        ColumnValues::Byte(fill(
            rows,
            r,
            &[Some(i8::MIN), Some(i8::MAX), None, Some(0), Some(-1)],
            |r| r.next() as i8,
        )),
    ));
    columns.push(Column::new(
        "c_smallint",
        TTypeId::SmallInt,
        ColumnValues::I16(fill(
            rows,
            r,
            &[Some(i16::MIN), Some(i16::MAX), None, Some(0)],
            |r| r.next() as i16,
        )),
    ));
    columns.push(Column::new(
        "c_int",
        TTypeId::Int,
        ColumnValues::I32(fill(
            rows,
            r,
            &[Some(i32::MIN), Some(i32::MAX), None, Some(0)],
            |r| r.next() as i32,
        )),
    ));
    columns.push(Column::new(
        "c_bigint",
        TTypeId::BigInt,
        ColumnValues::I64(fill(
            rows,
            r,
            &[Some(i64::MIN), Some(i64::MAX), None, Some(0)],
            |r| r.next() as i64,
        )),
    ));
    // FLOAT values are exact f32 values widened to f64, as Impala sends them.
    let float_specials: Vec<Option<f64>> = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::MIN,
        0.1,
    ]
    .iter()
    .map(|&v| Some(v as f64))
    .chain([None])
    .collect();
    columns.push(Column::new(
        "c_float",
        TTypeId::Float,
        ColumnValues::Double(fill(rows, r, &float_specials, |r| {
            ((r.next() as i32) as f32 / 1024.0) as f64
        })),
    ));
    columns.push(Column::new(
        "c_double",
        TTypeId::Double,
        ColumnValues::Double(fill(
            rows,
            r,
            &[
                Some(f64::NAN),
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY),
                Some(-0.0),
                Some(f64::MIN_POSITIVE),
                Some(f64::MAX),
                Some(5e-324),
                Some(0.1),
                None,
            ],
            |r| f64::from_bits(r.next() >> 2) * if r.chance(2) { -1.0 } else { 1.0 },
        )),
    ));
    let max38 = format!("{}.{}", "9".repeat(28), "9".repeat(10));
    columns.push(
        Column::new(
            "c_dec38",
            TTypeId::Decimal,
            ColumnValues::String(fill(
                rows,
                r,
                &[
                    text(&format!("-{max38}")),
                    text(&max38),
                    None,
                    text("0.0000000000"),
                    text("-0.0000000001"),
                ],
                |r| decimal_text(r, 38, 10).into_bytes(),
            )),
        )
        .with_qualifier("precision", 38)
        .with_qualifier("scale", 10),
    );
    columns.push(
        Column::new(
            "c_dec9",
            TTypeId::Decimal,
            ColumnValues::String(fill(
                rows,
                r,
                &[
                    text("-9999999.99"),
                    text("9999999.99"),
                    None,
                    text("0.00"),
                    text("0.01"),
                ],
                |r| decimal_text(r, 9, 2).into_bytes(),
            )),
        )
        .with_qualifier("precision", 9)
        .with_qualifier("scale", 2),
    );
    let long = "long ".repeat(400);
    columns.push(Column::new(
        "c_string",
        TTypeId::String,
        ColumnValues::String(fill(
            rows,
            r,
            &[text(""), text(&long), None, text("héllo ✓ 日本 🦀")],
            |r| {
                let n = r.below(4) as usize;
                (0..n)
                    .map(|_| WORDS[r.below(WORDS.len() as u64) as usize])
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into_bytes()
            },
        )),
    ));
    columns.push(
        Column::new(
            "c_varchar",
            TTypeId::Varchar,
            ColumnValues::String(fill(
                rows,
                r,
                &[
                    text(""),
                    text("twenty chars exactly"),
                    None,
                    text("ünïcödé"),
                ],
                |r| {
                    WORDS[r.below(WORDS.len() as u64) as usize]
                        .as_bytes()
                        .to_vec()
                },
            )),
        )
        .with_qualifier("characterMaximumLength", 20),
    );
    columns.push(
        Column::new(
            "c_char",
            TTypeId::Char,
            ColumnValues::String(fill(
                rows,
                r,
                &[
                    text(&pad_char("", 10)),
                    text("0123456789"),
                    None,
                    text(&pad_char("é", 10)),
                ],
                |r| pad_char(WORDS[r.below(WORDS.len() as u64) as usize], 10).into_bytes(),
            )),
        )
        .with_qualifier("characterMaximumLength", 10),
    );
    columns.push(Column::new(
        "c_timestamp",
        TTypeId::Timestamp,
        ColumnValues::String(fill(
            rows,
            r,
            &[
                text(&timestamp_text(1400, 1, 1, 0, 0, 0, 0)),
                text(&timestamp_text(9999, 12, 31, 23, 59, 59, 999_999_999)),
                None,
                text(&timestamp_text(1970, 1, 1, 0, 0, 0, 1)),
                text(&timestamp_text(2024, 2, 29, 12, 30, 45, 123_456_000)),
            ],
            |r| {
                let nanos = if r.chance(2) {
                    0
                } else {
                    1 + r.below(999_999_999) as u32
                };
                timestamp_text(
                    1400 + r.below(8600) as u32,
                    1 + r.below(12) as u32,
                    1 + r.below(28) as u32,
                    r.below(24) as u32,
                    r.below(60) as u32,
                    r.below(60) as u32,
                    nanos,
                )
                .into_bytes()
            },
        )),
    ));
    columns.push(Column::new(
        "c_date",
        TTypeId::Date,
        ColumnValues::String(fill(
            rows,
            r,
            &[
                text("0001-01-01"),
                text("9999-12-31"),
                None,
                text("1970-01-01"),
                text("2000-02-29"),
            ],
            |r| {
                format!(
                    "{:04}-{:02}-{:02}",
                    1 + r.below(9999),
                    1 + r.below(12),
                    1 + r.below(28)
                )
                .into_bytes()
            },
        )),
    ));
    columns.push(Column::new(
        "c_binary",
        TTypeId::Binary,
        ColumnValues::Binary(fill(
            rows,
            r,
            &[Some(vec![]), Some(vec![0x00, 0xff, 0x80, 0x7f]), None],
            |r| (0..r.below(12)).map(|_| r.next() as u8).collect(),
        )),
    ));
    columns.push(
        Column::new(
            "c_array",
            TTypeId::String,
            ColumnValues::String(fill(
                rows,
                r,
                &[text("[]"), text("[1,null,-3]"), None],
                |r| {
                    let items: Vec<String> = (0..r.below(4))
                        .map(|_| (r.next() as i32 % 1000).to_string())
                        .collect();
                    format!("[{}]", items.join(",")).into_bytes()
                },
            )),
        )
        .declared_as("array<int>"),
    );
    columns.push(
        Column::new(
            "c_map",
            TTypeId::String,
            ColumnValues::String(fill(
                rows,
                r,
                &[text("{}"), text("{\"k\":1,\"ü\":null}"), None],
                |r| {
                    let items: Vec<String> = (0..r.below(3))
                        .map(|i| format!("\"k{i}\":{}", r.below(100)))
                        .collect();
                    format!("{{{}}}", items.join(",")).into_bytes()
                },
            )),
        )
        .declared_as("map<string,int>"),
    );
    columns.push(
        Column::new(
            "c_struct",
            TTypeId::String,
            ColumnValues::String(fill(
                rows,
                r,
                &[text("{\"f1\":null,\"f2\":null}"), None],
                |r| {
                    format!(
                        "{{\"f1\":{},\"f2\":\"{}\"}}",
                        r.next() as i32,
                        WORDS[r.below(3) as usize]
                    )
                    .into_bytes()
                },
            )),
        )
        .declared_as("struct<f1:int,f2:string>"),
    );
    Table::new(columns)
}

/// [`impala_all_types`] plus `c_bytes`, a STRING column where some values are not UTF-8
/// (a lone `0xff`, a truncated multi-byte sequence) among valid ones.
pub fn impala_all_types_non_utf8(rows: usize, seed: u64) -> Table {
    let mut table = impala_all_types(rows, seed);
    let mut rng = Rng(seed ^ 0x5eed);
    table.columns.push(Column::new(
        "c_bytes",
        TTypeId::String,
        ColumnValues::String(fill(
            rows,
            &mut rng,
            &[
                Some(b"bad \xff byte".to_vec()),
                Some(vec![0xe6, 0x97]),
                None,
                text("fine"),
            ],
            |r| {
                if r.chance(3) {
                    vec![b'a', 0xc3, 0x28]
                } else {
                    b"ok".to_vec()
                }
            },
        )),
    ));
    table
}

#[test]
fn null_bitmap_is_exactly_ceil_n_over_8_lsb_first() {
    let values = ColumnValues::I32(vec![
        None,
        Some(1),
        Some(2),
        None,
        Some(4),
        Some(5),
        Some(6),
        Some(7),
        None,
    ]);
    let TColumn::I32(c) = values.to_tcolumn(0, 9) else {
        unreachable!()
    };
    assert_eq!(c.values, vec![0, 1, 2, 0, 4, 5, 6, 7, 0]);
    assert_eq!(c.nulls, vec![0b0000_1001, 0b0000_0001]);
    let TColumn::I32(c) = values.to_tcolumn(1, 8) else {
        unreachable!()
    };
    assert_eq!(c.nulls, vec![0b0000_0100]);
    let TColumn::I32(c) = values.to_tcolumn(3, 3) else {
        unreachable!()
    };
    assert!(c.nulls.is_empty() && c.values.is_empty());
}

#[test]
fn all_types_generator_is_deterministic_and_has_extremes() {
    let a = impala_all_types(50, 1);
    // (NaN makes Table's PartialEq false; compare the canonical forms.)
    assert_eq!(canonical_rows(&a), canonical_rows(&impala_all_types(50, 1)));
    assert_ne!(canonical_rows(&a), canonical_rows(&impala_all_types(50, 2)));
    assert_eq!(a.num_rows(), 50);
    assert!(a.columns.iter().all(|c| c.values.len() == 50));
    let rows = canonical_rows(&a);
    assert!(rows[0].contains("-9223372036854775808"), "{}", rows[0]);
    assert!(
        rows[1].contains("9999-12-31 23:59:59.999999999"),
        "{}",
        rows[1]
    );
    assert!(rows[0].contains("0001-01-01"), "{}", rows[0]);
    assert!(rows[0].contains("\"NaN\""), "{}", rows[0]);
    assert!(rows[3].contains("f64:8000000000000000"), "{}", rows[3]);
    // Timestamps: 19 characters, or 29 with nine fraction digits.
    let ts = a.columns.iter().find(|c| c.name == "c_timestamp").unwrap();
    let ColumnValues::String(ts) = &ts.values else {
        unreachable!()
    };
    for t in ts.iter().flatten() {
        assert!(
            t.len() == 19 || t.len() == 29,
            "{}",
            String::from_utf8_lossy(t)
        );
        assert!(!t.ends_with(b".000000000"));
    }
    let nu = impala_all_types_non_utf8(10, 1);
    assert!(canonical_rows(&nu)[0].contains("{\"hex\":\"62616420ff2062797465\"}"));
}
