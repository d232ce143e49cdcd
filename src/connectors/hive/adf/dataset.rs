//! The `ImpalaObject` and `SparkObject` datasets: the table to read, if any.

use std::sync::Arc;

use crate::config::{ConfigError, Dataset, Node};
use crate::connectors::hive::options::ReadTarget;

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

/// The dataset's table (read once, then kept in the dataset).
pub fn typed(ds: &Dataset) -> Result<Arc<HiveDataset>, ConfigError> {
    ds.typed
        .get_or_parse(|| parse_hive(ds.raw.node().opt_object("typeProperties")?.as_ref()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn ds(v: serde_json::Value) -> Result<Dataset, ConfigError> {
        Dataset::parse(&Node::root(&v, Path::new("ds.json")))
    }

    fn hive_ds(kind: &str, tp: serde_json::Value) -> Result<HiveDataset, ConfigError> {
        let d = ds(json!({"name": "t", "properties": {"type": kind,
            "linkedServiceName": {"referenceName": "ls"}, "typeProperties": tp}}))?;
        typed(&d).map(|h| (*h).clone())
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
        assert_eq!(d.type_name, "SparkObject");
        assert!(matches!(
            typed(&d).as_deref(),
            Ok(HiveDataset { table: None })
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
