//! The function table: every ADF function by name, with its argument counts and
//! implementation, and the value helpers the functions share (typing, equality, ordering,
//! stringification).
//!
//! Names are looked up case-insensitively. Argument counts are checked when a template is
//! parsed; types and values when it is evaluated. `if`, `and` and `or` are lazy and the
//! accessors read the [`Scope`](super::Scope), so the evaluator handles those kinds itself;
//! date functions live in `dates.rs`.
//!
//! Decisions where the sources are silent or disagree (EXPR = learn.microsoft.com/azure/
//! data-factory/control-flow-expression-language-functions; notes = shared ADF notes §8):
//! - `div`: integer division truncating toward zero when both operands are integers (EXPR
//!   `div(11, 5)` = 2), float division when either is a float (Logic Apps docs); a zero
//!   divisor (`div`, `mod`) is an `InvalidArgument`. Integer overflow is an error too.
//! - `equals` is typed: `equals(true, 1)` is false although EXPR's example says true
//!   (unverified, notes §8.5); integers and floats compare by value, arrays and objects deeply.
//! - Strings are indexed by Unicode scalar values (.NET uses UTF-16 units; they differ only
//!   outside the BMP). `startsWith`, `endsWith`, `indexOf`, `lastIndexOf` ignore case (EXPR);
//!   `contains`, `replace`, `equals` and the orderings are case-sensitive and ordinal.
//!   `indexOf(s, '')` is 0 and `lastIndexOf(s, '')` is `length(s)` (.NET 5+).
//! - Argument counts follow EXPR except: `substring`'s length is optional (rest of the
//!   string), `createArray` takes one item or more, `and`/`or` take two or more (Logic Apps).
//! - `int(float)` rounds half to even (.NET `Convert.ToInt64`); `int`/`float` of a string
//!   allow surrounding blanks; `bool` accepts `'true'`/`'false'` in any case; `json(null)` is
//!   `{}` (EXPR). `skip`/`take` clamp their count to `0..=length`; `range` takes a count of
//!   at most 100,000 (the ForEach limit); `split` with an empty delimiter gives `[text]`;
//!   `empty(null)` is true; `first`/`last` of an empty array is null.
//! - `xml`, `xpath` and the binary functions parse (so a factory using them loads) but raise
//!   `NotAvailable` when evaluated.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value};

use super::{ExprErrorKind, dates};

/// An eagerly evaluated function: its canonical name (for messages) and its arguments.
pub(super) type Impl = fn(&'static str, &[Value]) -> Result<Value, ExprErrorKind>;

/// How a function is evaluated.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// All arguments evaluated first, then the implementation runs.
    Eager(Impl),
    /// `if(c, a, b)`: only the chosen branch is evaluated.
    If,
    /// `and(a, b, ...)`: stops at the first false.
    And,
    /// `or(a, b, ...)`: stops at the first true.
    Or,
    /// `pipeline()`.
    Pipeline,
    /// `dataset()`.
    Dataset,
    /// `linkedService()`.
    LinkedService,
    /// `item()`.
    Item,
    /// `variables('name')`.
    Variables,
    /// `activity('name')`.
    Activity,
    /// A date function of `dates.rs`.
    Date,
    /// An ADF function quiver does not implement; evaluating it raises `NotAvailable` with
    /// this reason (parsing accepts it, so a factory using it elsewhere still loads).
    Unsupported(&'static str),
}

/// A function: canonical ADF name, argument counts and kind.
#[derive(Clone, Copy)]
pub(super) struct Function {
    /// The name as ADF documents it.
    pub(super) name: &'static str,
    /// Fewest arguments.
    pub(super) min: usize,
    /// Most arguments ([`MANY`] for no limit).
    pub(super) max: usize,
    /// How it is evaluated.
    pub(super) kind: Kind,
}

/// No upper limit on arguments.
const MANY: usize = usize::MAX;

const fn func(name: &'static str, min: usize, max: usize, kind: Kind) -> Function {
    Function {
        name,
        min,
        max,
        kind,
    }
}

const XML_UNSUPPORTED: &str = "quiver does not implement XML values; parse the text with json() \
                               or process XML outside the expression";
const BINARY_UNSUPPORTED: &str = "quiver does not implement binary values; use the string \
                                  variant (base64ToString, dataUriToString, uriComponentToString)";

/// Every non-date function (EXPR function list).
static TABLE: &[Function] = &[
    // String functions.
    func("concat", 2, MANY, Kind::Eager(concat)),
    func("substring", 2, 3, Kind::Eager(substring)),
    func("replace", 3, 3, Kind::Eager(replace)),
    func("toLower", 1, 1, Kind::Eager(to_lower)),
    func("toUpper", 1, 1, Kind::Eager(to_upper)),
    func("trim", 1, 1, Kind::Eager(trim)),
    func("split", 2, 2, Kind::Eager(split)),
    func("startsWith", 2, 2, Kind::Eager(starts_with)),
    func("endsWith", 2, 2, Kind::Eager(ends_with)),
    func("indexOf", 2, 2, Kind::Eager(index_of)),
    func("lastIndexOf", 2, 2, Kind::Eager(last_index_of)),
    func("guid", 0, 1, Kind::Eager(guid)),
    // Collection functions.
    func("length", 1, 1, Kind::Eager(length)),
    func("first", 1, 1, Kind::Eager(first)),
    func("last", 1, 1, Kind::Eager(last)),
    func("contains", 2, 2, Kind::Eager(contains)),
    func("empty", 1, 1, Kind::Eager(empty)),
    func("union", 2, MANY, Kind::Eager(union)),
    func("intersection", 2, MANY, Kind::Eager(intersection)),
    func("skip", 2, 2, Kind::Eager(skip)),
    func("take", 2, 2, Kind::Eager(take)),
    func("join", 2, 2, Kind::Eager(join)),
    // Logical functions.
    func("if", 3, 3, Kind::If),
    func("and", 2, MANY, Kind::And),
    func("or", 2, MANY, Kind::Or),
    func("not", 1, 1, Kind::Eager(not)),
    func("equals", 2, 2, Kind::Eager(equals)),
    func("greater", 2, 2, Kind::Eager(greater)),
    func("greaterOrEquals", 2, 2, Kind::Eager(greater_or_equals)),
    func("less", 2, 2, Kind::Eager(less)),
    func("lessOrEquals", 2, 2, Kind::Eager(less_or_equals)),
    // Conversion functions.
    func("array", 1, 1, Kind::Eager(array)),
    func("createArray", 1, MANY, Kind::Eager(create_array)),
    func("coalesce", 1, MANY, Kind::Eager(coalesce)),
    func("string", 1, 1, Kind::Eager(string)),
    func("int", 1, 1, Kind::Eager(int)),
    func("float", 1, 1, Kind::Eager(float)),
    func("bool", 1, 1, Kind::Eager(boolean)),
    func("json", 1, 1, Kind::Eager(json)),
    func("base64", 1, 1, Kind::Eager(base64)),
    func("base64ToString", 1, 1, Kind::Eager(base64_to_string)),
    func("decodeBase64", 1, 1, Kind::Eager(base64_to_string)),
    func("uriComponent", 1, 1, Kind::Eager(uri_component)),
    func("encodeUriComponent", 1, 1, Kind::Eager(uri_component)),
    func(
        "uriComponentToString",
        1,
        1,
        Kind::Eager(uri_component_to_string),
    ),
    func(
        "decodeUriComponent",
        1,
        1,
        Kind::Eager(uri_component_to_string),
    ),
    func("dataUri", 1, 1, Kind::Eager(data_uri)),
    func("dataUriToString", 1, 1, Kind::Eager(data_uri_to_string)),
    func(
        "base64ToBinary",
        1,
        1,
        Kind::Unsupported(BINARY_UNSUPPORTED),
    ),
    func("binary", 1, 1, Kind::Unsupported(BINARY_UNSUPPORTED)),
    func(
        "dataUriToBinary",
        1,
        1,
        Kind::Unsupported(BINARY_UNSUPPORTED),
    ),
    func("decodeDataUri", 1, 1, Kind::Unsupported(BINARY_UNSUPPORTED)),
    func(
        "uriComponentToBinary",
        1,
        1,
        Kind::Unsupported(BINARY_UNSUPPORTED),
    ),
    func("xml", 1, 1, Kind::Unsupported(XML_UNSUPPORTED)),
    func("xpath", 2, 2, Kind::Unsupported(XML_UNSUPPORTED)),
    // Math functions.
    func("add", 2, 2, Kind::Eager(add)),
    func("sub", 2, 2, Kind::Eager(sub)),
    func("mul", 2, 2, Kind::Eager(mul)),
    func("div", 2, 2, Kind::Eager(div)),
    func("mod", 2, 2, Kind::Eager(modulo)),
    func("max", 1, MANY, Kind::Eager(max)),
    func("min", 1, MANY, Kind::Eager(min)),
    func("rand", 2, 2, Kind::Eager(rand)),
    func("range", 2, 2, Kind::Eager(range)),
    // Accessors.
    func("pipeline", 0, 0, Kind::Pipeline),
    func("dataset", 0, 0, Kind::Dataset),
    func("linkedService", 0, 0, Kind::LinkedService),
    func("item", 0, 0, Kind::Item),
    func("variables", 1, 1, Kind::Variables),
    func("activity", 1, 1, Kind::Activity),
];

/// The documented spelling of the date functions (EXPR), used for messages and suggestions
/// when `dates.rs` knows the lower-case name.
const DATE_DISPLAY_NAMES: &[&str] = &[
    "addDays",
    "addHours",
    "addMinutes",
    "addSeconds",
    "addToTime",
    "convertFromUtc",
    "convertTimeZone",
    "convertToUtc",
    "dayOfMonth",
    "dayOfWeek",
    "dayOfYear",
    "formatDateTime",
    "getFutureTime",
    "getPastTime",
    "startOfDay",
    "startOfHour",
    "startOfMonth",
    "subtractFromTime",
    "ticks",
    "utcNow",
];

/// Finds a function by name, case-insensitively (the table first, then `dates.rs`).
pub(super) fn lookup(name: &str) -> Option<Function> {
    if let Some(f) = TABLE.iter().find(|f| f.name.eq_ignore_ascii_case(name)) {
        return Some(*f);
    }
    let lower = name.to_ascii_lowercase();
    let (min, max) = dates::arity(&lower)?;
    Some(Function {
        name: date_display_name(&lower),
        min,
        max,
        kind: Kind::Date,
    })
}

fn date_display_name(lower: &str) -> &'static str {
    DATE_DISPLAY_NAMES
        .iter()
        .chain(dates::NAMES.iter())
        .copied()
        .find(|n| n.eq_ignore_ascii_case(lower))
        .unwrap_or("date function")
}

/// A known name close to `name` (edit distance), for "did you mean".
pub(super) fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase();
    let limit = if lower.chars().count() >= 8 { 3 } else { 2 };
    let dates_known = dates::NAMES.iter().map(|&n| {
        DATE_DISPLAY_NAMES
            .iter()
            .copied()
            .find(|d| d.eq_ignore_ascii_case(n))
            .unwrap_or(n)
    });
    TABLE
        .iter()
        .map(|f| f.name)
        .chain(dates_known)
        .map(|candidate| (edit_distance(&lower, &candidate.to_lowercase()), candidate))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The `expected` text of an arity error.
pub(super) fn arity_text(min: usize, max: usize) -> &'static str {
    match (min, max) {
        (0, 0) => "no",
        (1, 1) => "1",
        (2, 2) => "2",
        (3, 3) => "3",
        (4, 4) => "4",
        (0, 1) => "0 or 1",
        (1, 2) => "1 or 2",
        (2, 3) => "2 or 3",
        (3, 4) => "3 or 4",
        (0, 2) => "0 to 2",
        (1, 3) => "1 to 3",
        (2, 4) => "2 to 4",
        (1, MANY) => "at least 1",
        (2, MANY) => "at least 2",
        _ => "a different number of",
    }
}

// ---------------------------------------------------------------------------------------
// Shared value helpers.

/// A type phrase for messages: "a string", "an integer", "null", ...
pub(super) fn type_phrase(v: &Value) -> &'static str {
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
pub(super) fn eq_ignore_case(a: &str, b: &str) -> bool {
    a == b
        || a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
}

fn chars_eq_ignore_case(a: &[char], b: &[char]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || x.to_lowercase().eq(y.to_lowercase()))
}

/// `string(v)`: strings as they are, `True`/`False`, numbers as .NET prints them, null as
/// "", arrays and objects as compact JSON.
pub(super) fn display_string(value: &Value) -> String {
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
pub(super) fn format_float(f: f64) -> String {
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
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(Num::Int)
                .or_else(|| n.as_f64().map(Num::Float)),
            _ => None,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

fn num_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        _ => a.as_f64().total_cmp(&b.as_f64()),
    }
}

/// Deep equality, with integers and floats compared by value.
pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
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

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

fn type_error(
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

fn invalid(function: &'static str, reason: impl Into<String>) -> ExprErrorKind {
    ExprErrorKind::InvalidArgument {
        function,
        reason: reason.into(),
    }
}

fn str_arg<'a>(f: &'static str, args: &'a [Value], i: usize) -> Result<&'a str, ExprErrorKind> {
    match arg(args, i) {
        Value::String(s) => Ok(s),
        v => Err(type_error(f, i, "a string", v)),
    }
}

fn int_arg(f: &'static str, args: &[Value], i: usize) -> Result<i64, ExprErrorKind> {
    let v = arg(args, i);
    match Num::of(v) {
        Some(Num::Int(n)) => Ok(n),
        Some(Num::Float(x)) if x.fract() == 0.0 && x.abs() < 9.0e18 => Ok(x as i64),
        _ => Err(type_error(f, i, "an integer", v)),
    }
}

fn num_arg(f: &'static str, args: &[Value], i: usize) -> Result<Num, ExprErrorKind> {
    let v = arg(args, i);
    Num::of(v).ok_or_else(|| type_error(f, i, "a number", v))
}

fn float_value(f: &'static str, x: f64) -> Result<Value, ExprErrorKind> {
    Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| invalid(f, "the result is not a finite number"))
}

fn num_value(f: &'static str, n: Num) -> Result<Value, ExprErrorKind> {
    match n {
        Num::Int(i) => Ok(Value::from(i)),
        Num::Float(x) => float_value(f, x),
    }
}

fn overflow(f: &'static str) -> ExprErrorKind {
    invalid(
        f,
        "the result does not fit in a 64-bit integer; use float arguments",
    )
}

/// A char-index that fits an i64 JSON integer.
fn index_value(i: usize) -> Value {
    Value::from(i64::try_from(i).unwrap_or(i64::MAX))
}

// ---------------------------------------------------------------------------------------
// String functions.

fn concat(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(args.iter().map(display_string).collect()))
}

fn substring(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn replace(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn to_lower(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.to_lowercase()))
}

fn to_upper(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.to_uppercase()))
}

fn trim(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(str_arg(f, args, 0)?.trim().to_string()))
}

fn split(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn starts_with(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let prefix: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    Ok(Value::Bool(
        prefix.len() <= text.len() && chars_eq_ignore_case(&text[..prefix.len()], &prefix),
    ))
}

fn ends_with(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn index_of(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let needle: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    let found = find_all_ignore_case(&text, &needle).next();
    Ok(found.map_or(Value::from(-1), index_value))
}

fn last_index_of(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: Vec<char> = str_arg(f, args, 0)?.chars().collect();
    let needle: Vec<char> = str_arg(f, args, 1)?.chars().collect();
    let found = find_all_ignore_case(&text, &needle).next_back();
    Ok(found.map_or(Value::from(-1), index_value))
}

fn guid(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

// ---------------------------------------------------------------------------------------
// Collection functions.

fn length(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(index_value(s.chars().count())),
        Value::Array(a) => Ok(index_value(a.len())),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

fn first(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(s.chars().take(1).collect())),
        Value::Array(a) => Ok(a.first().cloned().unwrap_or(Value::Null)),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

fn last(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => Ok(Value::String(
            s.chars().last().map(String::from).unwrap_or_default(),
        )),
        Value::Array(a) => Ok(a.last().cloned().unwrap_or(Value::Null)),
        v => Err(type_error(f, 0, "a string or an array", v)),
    }
}

fn contains(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let item = arg(args, 1);
    match arg(args, 0) {
        Value::String(s) => Ok(Value::Bool(s.contains(str_arg(f, args, 1)?))),
        Value::Array(a) => Ok(Value::Bool(a.iter().any(|x| values_equal(x, item)))),
        Value::Object(m) => Ok(Value::Bool(m.contains_key(str_arg(f, args, 1)?))),
        v => Err(type_error(f, 0, "a string, an array or an object", v)),
    }
}

fn empty(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn union(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn intersection(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn skip(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Array(a) => {
            let n = count_arg(f, args, 1, a.len())?;
            Ok(Value::Array(a[n..].to_vec()))
        }
        v => Err(type_error(f, 0, "an array", v)),
    }
}

fn take(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn join(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

// ---------------------------------------------------------------------------------------
// Logical functions.

fn not(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => Err(type_error(f, 0, "a boolean", v)),
    }
}

fn equals(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(values_equal(arg(args, 0), arg(args, 1))))
}

/// Orders two numbers, or two strings (ordinal, case-sensitive).
fn compare(f: &'static str, args: &[Value]) -> Result<Ordering, ExprErrorKind> {
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

fn greater(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_gt()))
}

fn greater_or_equals(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_ge()))
}

fn less(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_lt()))
}

fn less_or_equals(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Bool(compare(f, args)?.is_le()))
}

// ---------------------------------------------------------------------------------------
// Conversion functions.

fn array(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Array(vec![arg(args, 0).clone()]))
}

fn create_array(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::Array(args.to_vec()))
}

fn coalesce(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(args
        .iter()
        .find(|v| !v.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

fn string(_: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(display_string(arg(args, 0))))
}

fn int(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn float(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn boolean(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn json(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    match arg(args, 0) {
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| invalid(f, format!("the text is not valid JSON ({e})"))),
        // EXPR: "If the string is null, the function returns an empty object."
        Value::Null => Ok(Value::Object(Map::new())),
        v @ (Value::Array(_) | Value::Object(_)) => Ok(v.clone()),
        v => Err(type_error(f, 0, "a string", v)),
    }
}

fn base64(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(BASE64.encode(str_arg(f, args, 0)?)))
}

fn base64_to_string(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text: String = str_arg(f, args, 0)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = BASE64
        .decode(text.as_bytes())
        .map_err(|e| invalid(f, format!("the text is not valid base64 ({e})")))?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn uri_component(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn uri_component_to_string(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    Ok(Value::String(percent_decode(str_arg(f, args, 0)?)))
}

fn data_uri(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    let text = str_arg(f, args, 0)?;
    Ok(Value::String(format!(
        "data:text/plain;charset=utf-8;base64,{}",
        BASE64.encode(text)
    )))
}

fn data_uri_to_string(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

// ---------------------------------------------------------------------------------------
// Math functions.

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

fn add(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_add, |x, y| x + y)
}

fn sub(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_sub, |x, y| x - y)
}

fn mul(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    arithmetic(f, args, i64::checked_mul, |x, y| x * y)
}

fn check_divisor(f: &'static str, args: &[Value]) -> Result<(), ExprErrorKind> {
    if num_arg(f, args, 1)?.as_f64() == 0.0 {
        return Err(invalid(f, "the divisor (argument 2) is zero"));
    }
    Ok(())
}

/// Integer division truncates when both are integers; otherwise float division.
fn div(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    check_divisor(f, args)?;
    arithmetic(f, args, i64::checked_div, |x, y| x / y)
}

fn modulo(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn max(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    extreme(f, args, Ordering::Greater)
}

fn min(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
    extreme(f, args, Ordering::Less)
}

fn rand(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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

fn range(f: &'static str, args: &[Value]) -> Result<Value, ExprErrorKind> {
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
