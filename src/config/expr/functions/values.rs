//! Value helpers the functions share: typing, equality, ordering, stringification, and
//! argument readers that name the function and the argument in their errors.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::config::expr::ExprErrorKind;

/// A type phrase for messages: "a string", "an integer", "null", ...
pub(in crate::config::expr) fn type_phrase(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a float",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Case-insensitive equality of two strings (simple lower-case mapping, char by char).
pub(in crate::config::expr) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a == b
        || a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
}

pub(super) fn chars_eq_ignore_case(a: &[char], b: &[char]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || x.to_lowercase().eq(y.to_lowercase()))
}

/// `string(v)`: strings as they are, `True`/`False`, numbers as .NET prints them, null as
/// "", arrays and objects as compact JSON.
pub(in crate::config::expr) fn display_string(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => format_float(f),
            (None, None, None) => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => value.to_string(),
    }
}

/// A double as .NET's `ToString()` prints it: the shortest round-trip digits, in
/// scientific notation (`1E+15`, `1E-05`) when the exponent is below -4 or above 14.
pub(in crate::config::expr) fn format_float(f: f64) -> String {
    let scientific = format!("{f:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific;
    };
    if (-5 < exponent) && (exponent < 15) {
        return format!("{f}");
    }
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}E{sign}{:02}", exponent.unsigned_abs())
}

/// A JSON number as an integer or a float.
#[derive(Clone, Copy, Debug)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub(super) fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(Num::Int)
                .or_else(|| n.as_f64().map(Num::Float)),
            _ => None,
        }
    }

    pub(super) fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

pub(super) fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        _ => a.as_f64().total_cmp(&b.as_f64()),
    }
}

/// Deep equality, with integers and floats compared by value.
pub(in crate::config::expr) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (Num::of(a), Num::of(b)) {
            (Some(x), Some(y)) => num_cmp(x, y) == Ordering::Equal,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

pub(super) fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

pub(super) fn type_error(
    function: &'static str,
    i: usize,
    expected: &'static str,
    v: &Value,
) -> ExprErrorKind {
    ExprErrorKind::ArgumentType {
        function,
        position: i + 1,
        expected,
        found: type_phrase(v),
    }
}

pub(super) fn invalid(function: &'static str, reason: impl Into<String>) -> ExprErrorKind {
    ExprErrorKind::InvalidArgument {
        function,
        reason: reason.into(),
    }
}

pub(super) fn str_arg<'a>(
    f: &'static str,
    args: &'a [Value],
    i: usize,
) -> Result<&'a str, ExprErrorKind> {
    match arg(args, i) {
        Value::String(s) => Ok(s),
        v => Err(type_error(f, i, "a string", v)),
    }
}

pub(super) fn int_arg(f: &'static str, args: &[Value], i: usize) -> Result<i64, ExprErrorKind> {
    let v = arg(args, i);
    match Num::of(v) {
        Some(Num::Int(n)) => Ok(n),
        Some(Num::Float(x)) if x.fract() == 0.0 && x.abs() < 9.0e18 => Ok(x as i64),
        _ => Err(type_error(f, i, "an integer", v)),
    }
}

pub(super) fn num_arg(f: &'static str, args: &[Value], i: usize) -> Result<Num, ExprErrorKind> {
    let v = arg(args, i);
    Num::of(v).ok_or_else(|| type_error(f, i, "a number", v))
}

pub(super) fn float_value(f: &'static str, x: f64) -> Result<Value, ExprErrorKind> {
    Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| invalid(f, "the result is not a finite number"))
}

pub(super) fn num_value(f: &'static str, n: Num) -> Result<Value, ExprErrorKind> {
    match n {
        Num::Int(i) => Ok(Value::from(i)),
        Num::Float(x) => float_value(f, x),
    }
}

pub(super) fn overflow(f: &'static str) -> ExprErrorKind {
    invalid(
        f,
        "the result does not fit in a 64-bit integer; use float arguments",
    )
}

/// A char-index that fits an i64 JSON integer.
pub(super) fn index_value(i: usize) -> Value {
    Value::from(i64::try_from(i).unwrap_or(i64::MAX))
}
