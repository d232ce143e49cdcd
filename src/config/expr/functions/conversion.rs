//! Conversion functions: `array`, `createArray`, `coalesce`, `string`, `int`, `float`,
//! `bool`, `json`, `base64`, `base64ToString`, `uriComponent`, `uriComponentToString`,
//! `dataUri`, `dataUriToString`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::values::*;
use crate::config::expr::ExprErrorKind;

pub(super) fn array(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Array(vec![arg(args, 0).clone()]))
}

pub(super) fn create_array(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Array(args.to_vec()))
}

pub(super) fn coalesce(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(args
        .iter()
        .find(|v| !v.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

pub(super) fn string(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(display_string(arg(args, 0))))
}

pub(super) fn int(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let v = arg(args, 0);
    match v {
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| invalid(f, format!("'{s}' is not an integer"))),
        _ => match Num::of(v) {
            Some(Num::Int(i)) => Ok(Value::from(i)),
            Some(Num::Float(x)) => {
                // .NET's Convert.ToInt64: round half to even.
                let r = x.round_ties_even();
                if r.abs() < 9.2e18 {
                    Ok(Value::from(r as i64))
                } else {
                    Err(overflow(f))
                }
            }
            None => Err(type_error(f, 0, "a string or a number", v)),
        },
    }
}

pub(super) fn float(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let v = arg(args, 0);
    let x = match v {
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| invalid(f, format!("'{s}' is not a number")))?,
        _ => match Num::of(v) {
            Some(n) => n.as_f64(),
            None => return Err(type_error(f, 0, "a string or a number", v)),
        },
    };
    float_value(f, x)
}

pub(super) fn boolean(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let v = arg(args, 0);
    match v {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) => match s.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(invalid(f, format!("'{s}' is neither 'true' nor 'false'"))),
        },
        _ => match Num::of(v) {
            Some(Num::Int(i)) => Ok(Value::Bool(i != 0)),
            Some(Num::Float(x)) => Ok(Value::Bool(x != 0.0)),
            None => Err(type_error(f, 0, "a boolean, a number or a string", v)),
        },
    }
}

pub(super) fn json(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| invalid(f, format!("the text is not valid JSON ({e})"))),
        // EXPR: "If the string is null, the function returns an empty object."
        Value::Null => Ok(Value::Object(Map::new())),
        v @ (Value::Array(_) | Value::Object(_)) => Ok(v.clone()),
        v => Err(type_error(f, 0, "a string", v)),
    }
}

pub(super) fn base64(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(BASE64.encode(str_arg(f, args, 0)?)))
}

pub(super) fn base64_to_string(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: String = str_arg(f, args, 0)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = BASE64
        .decode(text.as_bytes())
        .map_err(|e| invalid(f, format!("the text is not valid base64 ({e})")))?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn uri_component(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(Value::String(out))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2))
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn uri_component_to_string(
    f: &'static str,
    args: &[Value],
) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(percent_decode(str_arg(f, args, 0)?)))
}

pub(super) fn data_uri(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    Ok(Value::String(format!(
        "data:text/plain;charset=utf-8;base64,{}",
        BASE64.encode(text)
    )))
}

pub(super) fn data_uri_to_string(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let uri = str_arg(f, args, 0)?;
    let not_data_uri = || {
        invalid(
            f,
            "the text is not a data URI (data:[<media type>][;base64],<data>)",
        )
    };
    let rest = uri
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .map(|_| &uri[5..])
        .ok_or_else(not_data_uri)?;
    let (meta, data) = rest.split_once(',').ok_or_else(not_data_uri)?;
    let is_base64 = meta
        .rsplit(';')
        .next()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("base64"));
    if is_base64 {
        let bytes = BASE64
            .decode(data.trim())
            .map_err(|e| invalid(f, format!("the data is not valid base64 ({e})")))?;
        Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    } else {
        Ok(Value::String(percent_decode(data)))
    }
}
