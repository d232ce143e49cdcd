//! Math functions: `add`, `sub`, `mul`, `div`, `mod`, `max`, `min`, `rand`, `range`.

use std::cmp::Ordering;

use serde_json::Value;

use super::values::*;
use crate::config::expr::ExprErrorKind;

fn arithmetic(
    f: &'static str,
    args: &[Value],
    int_op: fn(i64, i64) -> Option<i64>,
    float_op: fn(f64, f64) -> f64,
) -> Result<Value, ExprErrorKind> {
    let a = num_arg(f, args, 0)?;
    let b = num_arg(f, args, 1)?;
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => int_op(x, y).map(Value::from).ok_or_else(|| overflow(f)),
        _ => float_value(f, float_op(a.as_f64(), b.as_f64())),
    }
}

pub(super) fn add(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_add, |x, y| x + y)
}

pub(super) fn sub(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_sub, |x, y| x - y)
}

pub(super) fn mul(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_mul, |x, y| x * y)
}

fn check_divisor(f: &'static str, args: &[Value]) -> Result<(), ExprErrorKind> {
    if num_arg(f, args, 1)?.as_f64() == 0.0 {
        return Err(invalid(f, "the divisor (argument 2) is zero"));
    }
    Ok(())
}

/// Integer division truncates when both are integers; otherwise float division.
pub(super) fn div(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    check_divisor(f, args)?;
    arithmetic(f, args, i64::checked_div, |x, y| x / y)
}

pub(super) fn modulo(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    check_divisor(f, args)?;
    // i64::MIN % -1 is 0 mathematically; checked_rem reports it as an overflow.
    arithmetic(
        f,
        args,
        |x, y| Some(x.checked_rem(y).unwrap_or(0)),
        |x, y| x % y,
    )
}

/// The numbers of `max`/`min`: the arguments, or the elements of a single array argument.
fn extreme(f: &'static str, args: &[Value], pick: Ordering) -> Result<Value, ExprErrorKind> {
    let (values, from_array) = match args {
        [Value::Array(a)] => (a.as_slice(), true),
        _ => (args, false),
    };
    if values.is_empty() {
        return Err(invalid(f, "the array is empty; give at least one number"));
    }
    let mut best: Option<Num> = None;
    for (i, v) in values.iter().enumerate() {
        let Some(n) = Num::of(v) else {
            return Err(if from_array {
                invalid(
                    f,
                    format!(
                        "the array holds {}, but only numbers are allowed",
                        type_phrase(v)
                    ),
                )
            } else {
                type_error(f, i, "a number", v)
            });
        };
        if best.is_none_or(|b| num_cmp(n, b) == pick) {
            best = Some(n);
        }
    }
    match best {
        Some(n) => num_value(f, n),
        None => Ok(Value::Null),
    }
}

pub(super) fn max(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    extreme(f, args, Ordering::Greater)
}

pub(super) fn min(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    extreme(f, args, Ordering::Less)
}

pub(super) fn rand(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let low = int_arg(f, args, 0)?;
    let high = int_arg(f, args, 1)?;
    if low >= high {
        return Err(invalid(
            f,
            format!(
                "the minimum ({low}) must be less than the maximum ({high}), which is excluded"
            ),
        ));
    }
    let width = u128::try_from(i128::from(high) - i128::from(low)).unwrap_or(1);
    let offset = uuid::Uuid::new_v4().as_u128() % width;
    let value = i128::from(low) + i128::try_from(offset).unwrap_or(0);
    Ok(Value::from(i64::try_from(value).unwrap_or(low)))
}

/// The largest `count` `range()` accepts (ForEach takes at most 100,000 items).
const RANGE_LIMIT: i64 = 100_000;

pub(super) fn range(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let start = int_arg(f, args, 0)?;
    let count = int_arg(f, args, 1)?;
    if !(0..=RANGE_LIMIT).contains(&count) {
        return Err(invalid(
            f,
            format!("count {count} must be between 0 and {RANGE_LIMIT}"),
        ));
    }
    if count > 0 && start.checked_add(count - 1).is_none() {
        return Err(overflow(f));
    }
    Ok(Value::Array(
        (0..count).map(|i| Value::from(start + i)).collect(),
    ))
}
