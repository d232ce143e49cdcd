//! The 1.0 connector's virtual tables: each list, set or map column `c` of a table `t` is read
//! as its own table `t_vt_c`, one row per element, keyed by `t`'s primary key.
//!
//! | collection | virtual table columns (after the primary key columns) |
//! |---|---|
//! | list | `c_index` (Int32, from 0), `c_value` |
//! | set | `c_value` |
//! | map | `c_key`, `c_value` |
//!
//! Elements take the type table's mapping of their own type (a nested collection is JSON
//! text). A NULL or empty collection gives no rows. The collection is decoded once into an
//! Arrow list or map, and the virtual table derived from it in one pass: the key columns are
//! taken (`take`) at each element's parent row, and the values are the list's child array.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, ListArray, MapArray, RecordBatch, UInt32Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, Fields, SchemaRef};
use serde::{Deserialize, Serialize};

use super::SYSTEM;
use super::source::Resolved;
use super::types::{self, CqlType, TypeOptions};
use crate::connectors::SourceError;
use crate::types::{ColumnType, InterimType};

/// The separator between a table's and a column's name.
pub const SEPARATOR: &str = "_vt_";

/// A virtual table: its base table and collection column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualTable {
    /// The base table.
    pub base: String,
    /// The collection column.
    pub column: String,
    /// The column's type.
    pub typ: CqlType,
}

/// `t_vt_c` as `(t, c)`, split at the last separator.
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    let at = name.rfind(SEPARATOR)?;
    let (base, column) = (&name[..at], &name[at + SEPARATOR.len()..]);
    (!base.is_empty() && !column.is_empty()).then_some((base, column))
}

fn element_field(name: &str, t: &CqlType, options: &TypeOptions) -> Field {
    types::field(name, t, options)
}

/// The Arrow type the collection column is decoded into: a list or map of its elements'
/// (ADF-mapped) types.
pub fn collection_field(vt: &VirtualTable, options: &TypeOptions) -> Field {
    let data_type = match &vt.typ {
        CqlType::List(e) | CqlType::Set(e) => DataType::List(Arc::new(
            element_field("item", e, options).with_nullable(false),
        )),
        CqlType::Map(k, v) => DataType::Map(
            Arc::new(Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    element_field("key", k, options).with_nullable(false),
                    element_field("value", v, options),
                ])),
                false,
            )),
            false,
        ),
        _ => DataType::Null,
    };
    Field::new(&vt.column, data_type, true)
}

/// The virtual table's fields: the key columns, then index/key and value.
pub fn fields(vt: &VirtualTable, resolved: &Resolved, options: &TypeOptions) -> Vec<Field> {
    let mut out: Vec<Field> = resolved
        .columns
        .iter()
        .filter(|(n, _)| *n != vt.column)
        .map(|(n, t)| types::field(n, t, options))
        .collect();
    let c = &vt.column;
    match &vt.typ {
        CqlType::List(e) => {
            out.push(ColumnType::new("int", InterimType::Int32).field(&format!("{c}_index")));
            out.push(element_field(&format!("{c}_value"), e, options));
        }
        CqlType::Set(e) => out.push(element_field(&format!("{c}_value"), e, options)),
        CqlType::Map(k, v) => {
            out.push(element_field(&format!("{c}_key"), k, options));
            out.push(element_field(&format!("{c}_value"), v, options));
        }
        _ => {}
    }
    out
}

fn arrow_error(column: &str, source: arrow::error::ArrowError) -> SourceError {
    SourceError::Arrow {
        system: SYSTEM,
        column: column.to_string(),
        source,
    }
}

/// A page of the base columns as the virtual table's rows.
pub fn explode(
    vt: &VirtualTable,
    resolved: &Resolved,
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, SourceError> {
    let position = resolved
        .columns
        .iter()
        .position(|(n, _)| *n == vt.column)
        .unwrap_or(0);
    let collection = batch.column(position);
    let (offsets, children): (Vec<i32>, Vec<ArrayRef>) =
        if let Some(list) = collection.as_any().downcast_ref::<ListArray>() {
            (list.value_offsets().to_vec(), vec![list.values().clone()])
        } else if let Some(map) = collection.as_any().downcast_ref::<MapArray>() {
            (
                map.value_offsets().to_vec(),
                vec![map.keys().clone(), map.values().clone()],
            )
        } else {
            return Ok(RecordBatch::new_empty(schema.clone()));
        };
    let first = offsets.first().copied().unwrap_or(0);
    let last = offsets.last().copied().unwrap_or(0);
    let mut parents = Vec::with_capacity((last - first) as usize);
    let mut index = Vec::with_capacity((last - first) as usize);
    for (row, w) in offsets.windows(2).enumerate() {
        for i in 0..(w[1] - w[0]) {
            parents.push(row as u32);
            index.push(i);
        }
    }
    let parents = UInt32Array::from(parents);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, (name, _)) in resolved.columns.iter().enumerate() {
        if i != position {
            columns.push(take(batch.column(i), &parents, None).map_err(|e| arrow_error(name, e))?);
        }
    }
    if matches!(vt.typ, CqlType::List(_)) {
        columns.push(Arc::new(Int32Array::from(index)));
    }
    for child in children {
        columns.push(child.slice(first as usize, (last - first) as usize));
    }
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| arrow_error(&vt.column, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_separator() {
        assert_eq!(
            split_name("ExampleTable_vt_List"),
            Some(("ExampleTable", "List"))
        );
        assert_eq!(split_name("a_vt_b_vt_c"), Some(("a_vt_b", "c")));
        assert_eq!(split_name("plain"), None);
        assert_eq!(split_name("_vt_x"), None);
    }
}
