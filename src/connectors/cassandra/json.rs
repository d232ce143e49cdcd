//! CQL values as JSON text: how ADF's 2.0 connector copies lists, sets, maps, tuples, UDTs and
//! vectors ("in its original type in JSON format"), and how an error names a row's key.
//!
//! | CQL | JSON |
//! |---|---|
//! | list, set, vector, tuple | array (a set in the server's order) |
//! | map | object; a non-text key is written as its JSON text (`{"1": "a"}`) |
//! | user-defined type | object of its fields; fields missing on the wire are `null` |
//! | integers, float, double, decimal, varint | numbers (exact digits); NaN and ±Infinity as strings |
//! | text, ascii, inet, uuid, timeuuid, duration | strings |
//! | blob | `"0x…"` hex string, as Cassandra's `toJson` writes it |
//! | timestamp | `"2024-05-01T12:00:00.000Z"`; date `"2024-05-01"`; time `"12:00:00.000000000"` |
//! | boolean | `true` / `false` |
//!
//! A NULL element, or an empty value of a type whose values cannot be empty, is `null`.

use std::fmt::Write as _;

use super::types::CqlType;
use super::values::{self, be};

/// Writes `b`, a value of type `t`, as JSON to `out`; `None` if the bytes are malformed.
pub fn write_value(t: &CqlType, b: &[u8], out: &mut String) -> Option<()> {
    if b.is_empty() && !t.empty_is_value() {
        out.push_str("null");
        return Some(());
    }
    match t {
        CqlType::Ascii | CqlType::Text => {
            write_string(std::str::from_utf8(b).ok()?, out);
        }
        CqlType::BigInt | CqlType::Counter => {
            let _ = write!(out, "{}", i64::from_be_bytes(be(b)?));
        }
        CqlType::Int => {
            let _ = write!(out, "{}", i32::from_be_bytes(be(b)?));
        }
        CqlType::SmallInt => {
            let _ = write!(out, "{}", i16::from_be_bytes(be(b)?));
        }
        CqlType::TinyInt => {
            let _ = write!(out, "{}", i8::from_be_bytes(be(b)?));
        }
        CqlType::Float => write_float(f64::from(f32::from_be_bytes(be(b)?)), out),
        CqlType::Double => write_float(f64::from_be_bytes(be(b)?), out),
        CqlType::Boolean => out.push_str(if be::<1>(b)?[0] != 0 { "true" } else { "false" }),
        CqlType::Blob | CqlType::Custom(_) => {
            out.push_str("\"0x");
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
            out.push('"');
        }
        CqlType::Uuid | CqlType::TimeUuid => {
            out.push('"');
            values::uuid_text(&be::<16>(b)?, out);
            out.push('"');
        }
        CqlType::Inet => {
            let _ = write!(out, "\"{}\"", values::inet(b)?);
        }
        CqlType::Decimal => values::decimal_text(b, out)?,
        CqlType::Varint => values::varint_text(b, out)?,
        CqlType::Duration => {
            let (m, d, n) = values::duration(b)?;
            out.push('"');
            values::duration_text(m, d, n, out);
            out.push('"');
        }
        CqlType::Timestamp => {
            let ms = i64::from_be_bytes(be(b)?);
            let t = chrono::DateTime::from_timestamp_millis(ms)?;
            let _ = write!(out, "\"{}\"", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        }
        CqlType::Date => {
            let days = values::date_days(b)?;
            let d = chrono::DateTime::from_timestamp(i64::from(days) * 86_400, 0)?;
            let _ = write!(out, "\"{}\"", d.format("%Y-%m-%d"));
        }
        CqlType::Time => {
            out.push('"');
            values::time_text(i64::from_be_bytes(be(b)?), out);
            out.push('"');
        }
        CqlType::List(e) | CqlType::Set(e) => {
            let (n, rest) = values::collection_len(b)?;
            let mut items = Vec::with_capacity(n);
            if !values::split_values(rest, n, &mut items)?.is_empty() {
                return None;
            }
            write_array(items.iter().map(|v| (&**e, *v)), out)?;
        }
        CqlType::Vector(e, n) => {
            let mut items = Vec::with_capacity(usize::from(*n));
            values::split_vector(e, b, usize::from(*n), &mut items)?;
            write_array(items.iter().map(|v| (&**e, *v)), out)?;
        }
        CqlType::Tuple(types) => {
            let items = struct_values(b, types.len())?;
            write_array(types.iter().zip(items), out)?;
        }
        CqlType::Map(k, v) => {
            let (n, rest) = values::collection_len(b)?;
            let mut items = Vec::with_capacity(2 * n);
            if !values::split_values(rest, 2 * n, &mut items)?.is_empty() {
                return None;
            }
            out.push('{');
            let mut key = String::new();
            for (i, pair) in items.chunks_exact(2).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                key.clear();
                match pair[0] {
                    Some(kb) if matches!(**k, CqlType::Text | CqlType::Ascii) => {
                        key.push_str(std::str::from_utf8(kb).ok()?)
                    }
                    Some(kb) => {
                        write_value(k, kb, &mut key)?;
                        if key.len() >= 2 && key.starts_with('"') && key.ends_with('"') {
                            key = key[1..key.len() - 1].to_string();
                        }
                    }
                    None => key.push_str("null"),
                }
                write_string(&key, out);
                out.push(':');
                write_opt(v, pair[1], out)?;
            }
            out.push('}');
        }
        CqlType::Udt { fields, .. } => {
            let items = struct_values(b, fields.len())?;
            out.push('{');
            for (i, ((name, t), v)) in fields.iter().zip(items).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_opt(t, v, out)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// The values of a tuple or UDT: up to `n` `[bytes]`, missing trailing ones as NULL.
pub fn struct_values(mut b: &[u8], n: usize) -> Option<Vec<Option<&[u8]>>> {
    let mut items = Vec::with_capacity(n);
    while items.len() < n && !b.is_empty() {
        b = values::split_values(b, 1, &mut items)?;
    }
    if !b.is_empty() {
        return None;
    }
    items.resize(n, None);
    Some(items)
}

fn write_opt(t: &CqlType, v: Option<&[u8]>, out: &mut String) -> Option<()> {
    match v {
        Some(b) => write_value(t, b, out),
        None => {
            out.push_str("null");
            Some(())
        }
    }
}

fn write_array<'a>(
    items: impl Iterator<Item = (&'a CqlType, Option<&'a [u8]>)>,
    out: &mut String,
) -> Option<()> {
    out.push('[');
    for (i, (t, v)) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_opt(t, v, out)?;
    }
    out.push(']');
    Some(())
}

fn write_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 {
            "\"Infinity\""
        } else {
            "\"-Infinity\""
        });
    } else {
        let _ = write!(out, "{v}");
    }
}

/// `s` as a JSON string literal.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(t: &CqlType, b: &[u8]) -> String {
        let mut s = String::new();
        write_value(t, b, &mut s).expect("well-formed");
        serde_json::from_str::<serde_json::Value>(&s).expect("valid JSON");
        s
    }

    fn cell(b: &[u8]) -> Vec<u8> {
        let mut v = (b.len() as i32).to_be_bytes().to_vec();
        v.extend(b);
        v
    }

    #[test]
    fn sets_are_arrays_and_maps_objects_with_text_keys() {
        let mut set = 2i32.to_be_bytes().to_vec();
        set.extend(cell(b"A"));
        set.extend(cell(b"B"));
        assert_eq!(
            json(&CqlType::Set(Box::new(CqlType::Text)), &set),
            r#"["A","B"]"#
        );
        let mut map = 1i32.to_be_bytes().to_vec();
        map.extend(cell(&7i32.to_be_bytes()));
        map.extend(cell(b"a\"b"));
        assert_eq!(
            json(
                &CqlType::Map(Box::new(CqlType::Int), Box::new(CqlType::Text)),
                &map
            ),
            r#"{"7":"a\"b"}"#
        );
    }

    #[test]
    fn udts_name_their_fields_and_fill_missing_ones_with_null() {
        let t = CqlType::Udt {
            keyspace: "ks".into(),
            name: "address".into(),
            fields: vec![
                ("street".into(), CqlType::Text),
                ("zip".into(), CqlType::Int),
            ],
        };
        assert_eq!(json(&t, &cell(b"Main")), r#"{"street":"Main","zip":null}"#);
    }

    #[test]
    fn scalars_inside_collections_use_their_json_forms() {
        let t = CqlType::Tuple(vec![
            CqlType::Timestamp,
            CqlType::Blob,
            CqlType::Double,
            CqlType::Date,
        ]);
        let mut b = cell(&1_700_000_000_123i64.to_be_bytes());
        b.extend(cell(&[0xca, 0xfe]));
        b.extend(cell(&f64::NAN.to_be_bytes()));
        b.extend(cell(&(values::DATE_EPOCH + 1).to_be_bytes()));
        assert_eq!(
            json(&t, &b),
            r#"["2023-11-14T22:13:20.123Z","0xcafe","NaN","1970-01-02"]"#
        );
    }

    #[test]
    fn malformed_nested_bytes_are_refused() {
        let mut s = String::new();
        let t = CqlType::List(Box::new(CqlType::Int));
        assert!(write_value(&t, &[0, 0, 0, 1, 0, 0, 0, 4, 1], &mut s).is_none());
        assert!(write_value(&CqlType::Int, &[1, 2], &mut s).is_none());
    }
}
