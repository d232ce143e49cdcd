//! String functions: `concat`, `substring`, `replace`, `toLower`, `toUpper`, `trim`,
//! `split`, `startsWith`, `endsWith`, `indexOf`, `lastIndexOf`, `guid`.

use serde_json::Value;

use super::values::*;
use crate::config::expr::ExprErrorKind;

pub(super) fn concat(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(args.iter().map(display_string).collect()))
}

pub(super) fn substring(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    let start = int_arg(f, args, 1)?;
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let Some(start) = usize::try_from(start).ok().filter(|&s| s <= n) else {
        return Err(invalid(
            f,
            format!("start index {start} is out of range for a string of {n} characters"),
        ));
    };
    let length = if args.len() > 2 {
        let length = int_arg(f, args, 2)?;
        match usize::try_from(length).ok().filter(|&l| l <= n - start) {
            Some(l) => l,
            None => {
                return Err(invalid(
                    f,
                    format!(
                        "length {length} from index {start} is out of range for a string of {n} \
                         characters; 'start index' and 'length' must be non-negative and their \
                         sum at most the length of the string"
                    ),
                ));
            }
        }
    } else {
        n - start
    };
    Ok(Value::String(chars[start..start + length].iter().collect()))
}

pub(super) fn replace(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    let old = str_arg(f, args, 1)?;
    let new = str_arg(f, args, 2)?;
    if old.is_empty() {
        return Err(invalid(
            f,
            "the text to replace (argument 2) must not be empty",
        ));
    }
    Ok(Value::String(text.replace(old, new)))
}

pub(super) fn to_lower(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.to_lowercase()))
}

pub(super) fn to_upper(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.to_uppercase()))
}

pub(super) fn trim(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.trim().to_string()))
}

pub(super) fn split(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    let delimiter = str_arg(f, args, 1)?;
    if delimiter.is_empty() {
        return Ok(Value::Array(vec![Value::String(text.to_string())]));
    }
    Ok(Value::Array(
        text.split(delimiter)
            .map(|s| Value::String(s.to_string()))
            .collect(),
    ))
}

pub(super) fn starts_with(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let prefix: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    Ok(Value::Bool(
        prefix.len() <= text.len() && chars_eq_ignore_case(&text[..prefix.len()], &prefix),
    ))
}

pub(super) fn ends_with(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let suffix: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    Ok(Value::Bool(
        suffix.len() <= text.len()
            && chars_eq_ignore_case(&text[text.len() - suffix.len()..], &suffix),
    ))
}

/// Char positions where `needle` occurs in `text`, case-insensitively.
fn find_all_ignore_case(text: &[char], needle: &[char]) -> impl DoubleEndedIterator<Item = usize> {
    let last_start = text.len().checked_sub(needle.len());
    (0..last_start.map_or(0, |l| l + 1))
        .filter(move |&i| chars_eq_ignore_case(&text[i..i + needle.len()], needle))
}

pub(super) fn index_of(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let needle: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    let found = find_all_ignore_case(&text, &needle).next();
    Ok(found.map_or(Value::from(-1), index_value))
}

pub(super) fn last_index_of(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let needle: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    let found = find_all_ignore_case(&text, &needle).next_back();
    Ok(found.map_or(Value::from(-1), index_value))
}

pub(super) fn guid(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let format = if args.is_empty() {
        "D"
    } else {
        str_arg(f, args, 0)?
    };
    let b = *uuid::Uuid::new_v4().as_bytes();
    let hex = |bytes: &[u8]| bytes.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let d = format!(
        "{}-{}-{}-{}-{}",
        hex(&b[0..4]),
        hex(&b[4..6]),
        hex(&b[6..8]),
        hex(&b[8..10]),
        hex(&b[10..16])
    );
    let text = match format {
        "" | "D" | "d" => d,
        "N" | "n" => hex(&b),
        "B" | "b" => format!("{{{d}}}"),
        "P" | "p" => format!("({d})"),
        "X" | "x" => {
            let tail: Vec<String> = b[8..16].iter().map(|x| format!("0x{x:02x}")).collect();
            format!(
                "{{0x{},0x{},0x{},{{{}}}}}",
                hex(&b[0..4]),
                hex(&b[4..6]),
                hex(&b[6..8]),
                tail.join(",")
            )
        }
        other => {
            return Err(invalid(
                f,
                format!("unknown GUID format '{other}'; use one of N, D, B, P or X"),
            ));
        }
    };
    Ok(Value::String(text))
}
