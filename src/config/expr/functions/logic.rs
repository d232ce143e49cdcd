//! Logical functions: `not`, `equals`, `greater`, `greaterOrEquals`, `less`,
//! `lessOrEquals` (`if`, `and` and `or` are lazy and live in the evaluator).

use std::cmp::Ordering;

use serde_json::Value;

use super::values::*;
use crate::config::expr::ExprErrorKind;

pub(super) fn not(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => Err(type_error(f, 0, "a boolean", v)),
    }
}

pub(super) fn equals(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(values_equal(arg(args, 0), arg(args, 1))))
}

/// Orders two numbers, or two strings (ordinal, case-sensitive).
pub(super) fn compare(f: &'static str, args: &[Value]) -> Result<Ordering, ExprErrorKind> {
    let (a, b) = (arg(args, 0), arg(args, 1));
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::String(_), _) => Err(type_error(f, 1, "a string (like the first argument)", b)),
        _ => match (Num::of(a), Num::of(b)) {
            (Some(x), Some(y)) => Ok(num_cmp(x, y)),
            (Some(_), None) => Err(type_error(f, 1, "a number (like the first argument)", b)),
            (None, _) => Err(type_error(f, 0, "a number or a string", a)),
        },
    }
}

pub(super) fn greater(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_gt()))
}

pub(super) fn greater_or_equals(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_ge()))
}

pub(super) fn less(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_lt()))
}

pub(super) fn less_or_equals(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_le()))
}
