//! ADF's expression language: templates, parsing and evaluation.
//!
//! A JSON string is a [`Template`]:
//! - `"@expr"` (length >= 2, second char not `@`): the expression's value, of any JSON type;
//! - `"@@..."`: the literal string without its first `@`;
//! - text with `@{expr}` parts: a string, each part stringified as `string()` does
//!   (`@@{` is a literal `@{`);
//! - anything else: the literal string.
//!
//! Values are `serde_json::Value`. Names of functions are case-insensitive. Property lookup is
//! exact first, then case-insensitive. `and`/`or`/`if` are lazy.
//!
//! Errors carry a byte span into the template text, so the caller can print a caret under
//! the failing part.
//!
//! Layout: `parse.rs` turns text into [`Template`]s (unknown functions and argument counts
//! are rejected there), `eval.rs` evaluates them in a [`Scope`], `functions.rs` holds the
//! function table and `dates.rs` the date and time functions.

use std::ops::Range;

use serde_json::{Map, Value};

mod dates;
mod eval;
mod functions;
mod parse;
#[cfg(test)]
mod tests;

/// What an expression can see. Every accessor returns `None` where the thing is not
/// available at this place (the evaluator then raises [`ExprErrorKind::NotAvailable`]).
pub trait Scope {
    /// `pipeline()`: an object with `DataFactory`, `Pipeline`, `RunId`, `TriggerType`,
    /// `TriggerTime`, `parameters`, `globalParameters`, ... (built by the runner).
    fn pipeline(&self) -> Option<&Value> {
        None
    }
    /// `dataset()`: the dataset's parameter values (inside a dataset definition).
    fn dataset(&self) -> Option<&Map<String, Value>> {
        None
    }
    /// `linkedService()`: the linked service's parameter values.
    fn linked_service(&self) -> Option<&Map<String, Value>> {
        None
    }
    /// `item()`: the current ForEach element.
    fn item(&self) -> Option<&Value> {
        None
    }
    /// `variables('name')`. `Err(available names)` when the variable does not exist;
    /// `Ok(None)` when variables are not available at this place.
    fn variable(&self, name: &str) -> Result<Option<Value>, Vec<String>> {
        let _ = name;
        Ok(None)
    }
    /// `activity('name')`: `{"output": ..., "status": ..., "error": ...}` of a completed
    /// activity. `Err(reason)` when it has not run (or does not exist), with a reason to show.
    fn activity(&self, name: &str) -> Result<Value, String> {
        Err(format!("activity('{name}') is not available here"))
    }
    /// The current time, for `utcNow()` and relative date functions (tests fix it).
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
    /// Records the value of a SecureString parameter bound in this scope, so that the run
    /// can keep it out of everything it prints.
    fn note_secret(&self, value: &str) {
        let _ = value;
    }
}

/// A scope with nothing in it (literal evaluation and tests).
pub struct EmptyScope;
impl Scope for EmptyScope {}

/// A parsed JSON string.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// Not an expression: the literal text (after removing an `@@` escape).
    Literal(String),
    /// `@expr`: evaluates to any JSON value.
    Expression(Expr),
    /// Text with `@{...}` parts: evaluates to a string.
    Interpolated(Vec<Part>),
}

/// One piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// `@{expr}`.
    Expr(Expr),
}

/// A parsed expression; `span` is its byte range in the template text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Byte range in the template text.
    pub span: Range<usize>,
}

/// The expression forms (there are no operators in ADF's language).
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A string, number, boolean or null literal.
    Literal(Value),
    /// `name(args...)`; `name` as written.
    Call {
        /// The function name as written.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `target.name`, `target['name']` or `target[expr]`, optionally null-safe (`?`).
    Index {
        /// What is indexed.
        target: Box<Expr>,
        /// The key or index.
        key: Box<Expr>,
        /// `?.` / `?[`.
        null_safe: bool,
    },
}

/// An expression error with the byte span it concerns (in the template text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct ExprError {
    /// What went wrong.
    pub kind: ExprErrorKind,
    /// The failing part's byte range in the template text.
    pub span: Range<usize>,
}

/// The kinds of expression error. Messages say what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprErrorKind {
    /// The text is not a valid expression.
    #[error("syntax error: {message}")]
    Syntax {
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// No such function.
    #[error("unknown function '{name}'{}", suggest(.suggestion))]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// A close known name, if any.
        suggestion: Option<&'static str>,
    },
    /// Wrong number of arguments.
    #[error("function '{function}' takes {expected} argument(s), but {found} were given")]
    Arity {
        /// The function.
        function: &'static str,
        /// e.g. "2", "1 or 2", "at least 2".
        expected: &'static str,
        /// How many were given.
        found: usize,
    },
    /// An argument has the wrong type.
    #[error("function '{function}' expects {expected} as argument {position}, but got {found}")]
    ArgumentType {
        /// The function.
        function: &'static str,
        /// 1-based argument position.
        position: usize,
        /// e.g. "a string", "an integer".
        expected: &'static str,
        /// What was given (a JSON type phrase, e.g. "a boolean").
        found: &'static str,
    },
    /// An argument has the right type but a value the function cannot use.
    #[error("function '{function}': {reason}")]
    InvalidArgument {
        /// The function.
        function: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A property does not exist (without `?`).
    #[error("property '{name}' does not exist; available properties are: {}", .available.join(", "))]
    NoSuchProperty {
        /// The property looked for.
        name: String,
        /// The properties the object has.
        available: Vec<String>,
    },
    /// An array index is out of range, or a value cannot be indexed.
    #[error("cannot index {target} with {key}")]
    BadIndex {
        /// What was indexed (a type phrase or "an array of 3 elements").
        target: String,
        /// The key or index used.
        key: String,
    },
    /// A parameter that is not declared (or has no value and no default).
    #[error("{scope} parameter '{name}' is not defined; defined parameters: {}", or_none(.available))]
    NoSuchParameter {
        /// "pipeline", "dataset" or "linked service".
        scope: &'static str,
        /// The parameter.
        name: String,
        /// The declared parameters.
        available: Vec<String>,
    },
    /// A variable that is not declared.
    #[error("variable '{name}' is not declared in the pipeline; declared variables: {}", or_none(.available))]
    NoSuchVariable {
        /// The variable.
        name: String,
        /// The declared variables.
        available: Vec<String>,
    },
    /// An accessor used where it has no value (`item()` outside ForEach, `dataset()` in a
    /// pipeline, `activity('X')` before X ran, ...).
    #[error("{what} is not available here: {reason}")]
    NotAvailable {
        /// e.g. "item()".
        what: String,
        /// Why, and what to do.
        reason: String,
    },
}

fn suggest(s: &Option<&'static str>) -> String {
    s.map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default()
}

fn or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// Parses a JSON string as a template (see the module docs). Unknown function names and
/// wrong argument counts of known functions are reported here, before anything runs.
pub fn parse_template(text: &str) -> Result<Template, ExprError> {
    parse::parse_template(text)
}

impl Template {
    /// Evaluates the template in `scope`.
    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, ExprError> {
        match self {
            Template::Literal(text) => Ok(Value::String(text.clone())),
            Template::Expression(expr) => eval::evaluate(expr, scope),
            Template::Interpolated(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(text) => out.push_str(text),
                        Part::Expr(expr) => {
                            out.push_str(&to_display_string(&eval::evaluate(expr, scope)?));
                        }
                    }
                }
                Ok(Value::String(out))
            }
        }
    }

    /// Whether evaluating needs no scope at all (a literal).
    pub fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }

    /// Every accessor the template uses, for static checks before any I/O:
    /// e.g. `pipeline().parameters.x` gives `Accessor::PipelineParameter("x")`.
    pub fn accessors(&self) -> Vec<(Accessor, Range<usize>)> {
        let mut out = Vec::new();
        match self {
            Template::Literal(_) => {}
            Template::Expression(expr) => parse::collect_accessors(expr, &mut out),
            Template::Interpolated(parts) => {
                for part in parts {
                    if let Part::Expr(expr) = part {
                        parse::collect_accessors(expr, &mut out);
                    }
                }
            }
        }
        out
    }
}

/// An accessor a template uses, found statically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accessor {
    /// `pipeline().parameters.<name>` (or `['name']` with a literal key).
    PipelineParameter(String),
    /// `pipeline()` used otherwise (system variables, or a computed key).
    Pipeline,
    /// `dataset().<name>` (or `['name']` with a literal key).
    DatasetParameter(String),
    /// `dataset()` used otherwise (the whole object, or a computed key).
    Dataset,
    /// `linkedService().<name>` (or `['name']` with a literal key).
    LinkedServiceParameter(String),
    /// `linkedService()` used otherwise (the whole object, or a computed key).
    LinkedService,
    /// `item()`.
    Item,
    /// `variables('<name>')` with a literal name.
    Variable(String),
    /// `activity('<name>')` with a literal name.
    Activity(String),
}

/// `string(v)` as ADF prints values: strings as they are, `True`/`False`, numbers in
/// round-trip form, null as "", arrays and objects as compact JSON text.
pub fn to_display_string(value: &Value) -> String {
    functions::display_string(value)
}
