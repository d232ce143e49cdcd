//! Collection functions: `length`, `first`, `last`, `contains`, `empty`, `union`,
//! `intersection`, `skip`, `take`, `join`.

use serde_json::{Map, Value};

use super::values::*;
use crate::config::expr::ExprErrorKind;

pub(super) fn length(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(index_value(s.chars().count())),
        Value::Array(a) => Ok(index_value(a.len())),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

pub(super) fn first(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(s.chars().take(1).collect())),
        Value::Array(a) => Ok(a.first().cloned().unwrap_or(Value::Null)),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

pub(super) fn last(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(
            s.chars().last().map(String::from).unwrap_or_default(),
        )),
        Value::Array(a) => Ok(a.last().cloned().unwrap_or(Value::Null)),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

pub(super) fn contains(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let item = arg(args, 1);
    match arg(args, 0) {
        Value::String(s) => Ok(Value::Bool(s.contains(str_arg(f, args, 1)?))),
        Value::Array(a) => Ok(Value::Bool(a.iter().any(|x| values_equal(x, item)))),
        Value::Object(m) => Ok(Value::Bool(m.contains_key(str_arg(f, args, 1)?))),
        v => Err(type_error(f, 0, "a string, an array or an object", v)),
    }
}

pub(super) fn empty(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Null => Ok(Value::Bool(true)),
        Value::String(s) => Ok(Value::Bool(s.is_empty())),
        Value::Array(a) => Ok(Value::Bool(a.is_empty())),
        Value::Object(m) => Ok(Value::Bool(m.is_empty())),
        v => Err(type_error(f, 0, "a string, an array or an object", v)),
    }
}

/// The arguments as all arrays or all objects (decided by the first).
enum Collections<'v> {
    Arrays(Vec<&'v Vec<Value>>),
    Objects(Vec<&'v Map<String, Value>>),
}

fn collections<'v>(f: &'static str, args: &'v [Value]) -> Result<Collections<'v>, ExprErrorKind> {
    match arg(args, 0) {
        Value::Array(_) => args
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Array(a) => Ok(a),
                v => Err(type_error(f, i, "an array (like the first argument)", v)),
            })
            .collect::<Result<_, _>>()
            .map(Collections::Arrays),
        Value::Object(_) => args
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(m) => Ok(m),
                v => Err(type_error(f, i, "an object (like the first argument)", v)),
            })
            .collect::<Result<_, _>>()
            .map(Collections::Objects),
        v => Err(type_error(f, 0, "an array or an object", v)),
    }
}

fn push_unique(out: &mut Vec<Value>, v: &Value) {
    if !out.iter().any(|x| values_equal(x, v)) {
        out.push(v.clone());
    }
}

pub(super) fn union(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(match collections(f, args)? {
        Collections::Arrays(arrays) => {
            let mut out = Vec::new();
            for v in arrays.into_iter().flatten() {
                push_unique(&mut out, v);
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for (k, v) in objects.into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
    })
}

pub(super) fn intersection(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(match collections(f, args)? {
        Collections::Arrays(arrays) => {
            let (head, rest) = arrays
                .split_first()
                .map_or((None, &[][..]), |(h, r)| (Some(*h), r));
            let mut out = Vec::new();
            for v in head.into_iter().flatten() {
                if rest.iter().all(|a| a.iter().any(|x| values_equal(x, v))) {
                    push_unique(&mut out, v);
                }
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            if let Some((head, rest)) = objects.split_first() {
                for k in head.keys() {
                    if rest.iter().all(|m| m.contains_key(k)) {
                        // The last collection's value wins (EXPR intersection).
                        let value = objects.iter().rev().find_map(|m| m.get(k));
                        out.insert(k.clone(), value.cloned().unwrap_or(Value::Null));
                    }
                }
            }
            Value::Object(out)
        }
    })
}

/// A count argument clamped to `0..=len` (negative counts act as 0, as .NET's LINQ does).
fn count_arg(
    f: &'static str,
    args: &[Value],
    i: usize,
    len: usize,
) -> Result<usize, ExprErrorKind> {
    let n = int_arg(f, args, i)?;
    Ok(usize::try_from(n).unwrap_or(0).min(len))
}

pub(super) fn skip(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Array(a) => {
            let n = count_arg(f, args, 1, a.len())?;
            Ok(Value::Array(a[n..].to_vec()))
        }
        v => Err(type_error(f, 0, "an array", v)),
    }
}

pub(super) fn take(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Array(a) => {
            let n = count_arg(f, args, 1, a.len())?;
            Ok(Value::Array(a[..n].to_vec()))
        }
        Value::String(s) => {
            let n = count_arg(f, args, 1, s.len())?;
            Ok(Value::String(s.chars().take(n).collect()))
        }
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

pub(super) fn join(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let delimiter = str_arg(f, args, 1)?;
    match arg(args, 0) {
        Value::Array(a) => Ok(Value::String(
            a.iter()
                .map(display_string)
                .collect::<Vec<_>>()
                .join(delimiter),
        )),
        v => Err(type_error(f, 0, "an array", v)),
    }
}
