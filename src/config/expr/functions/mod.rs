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

use serde_json::Value;

use super::{ExprErrorKind, dates};

mod collections;
mod conversion;
mod logic;
mod math;
mod strings;
mod values;

use collections::*;
use conversion::*;
use logic::*;
use math::*;
use strings::*;
pub(super) use values::{display_string, eq_ignore_case, type_phrase};

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
