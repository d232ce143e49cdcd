//! Evaluation of parsed expressions over `serde_json::Value`s in a [`Scope`].
//!
//! Property chains are walked by reference where possible (`pipeline().parameters.x` does
//! not copy the whole pipeline object). Each value remembers where it came from, so a
//! missing member of `pipeline().parameters`, `dataset()` or `linkedService()` is reported
//! as a missing parameter rather than a missing property.

use std::ops::Range;

use serde_json::{Map, Value};

use super::functions::{self, Kind};
use super::{Expr, ExprError, ExprErrorKind, ExprKind, Scope, dates};

/// Evaluates `expr` in `scope`.
pub(super) fn evaluate<'a>(expr: &'a Expr, scope: &'a dyn Scope) -> Result<Value, ExprError> {
    Ok(Evaluator { scope }.eval(expr)?.value.into_owned())
}

/// A value, borrowed from the expression or the scope where possible.
enum V<'a> {
    Ref(&'a Value),
    Map(&'a Map<String, Value>),
    Own(Value),
}

impl<'a> V<'a> {
    fn into_owned(self) -> Value {
        match self {
            V::Ref(v) => v.clone(),
            V::Map(m) => Value::Object(m.clone()),
            V::Own(v) => v,
        }
    }

    fn as_value(&self) -> Option<&Value> {
        match self {
            V::Ref(v) => Some(v),
            V::Map(_) => None,
            V::Own(v) => Some(v),
        }
    }

    fn as_map(&self) -> Option<&Map<String, Value>> {
        match self {
            V::Map(m) => Some(m),
            _ => self.as_value().and_then(Value::as_object),
        }
    }

    fn as_array(&self) -> Option<&Vec<Value>> {
        self.as_value().and_then(Value::as_array)
    }

    fn is_null(&self) -> bool {
        self.as_value().is_some_and(Value::is_null)
    }

    fn phrase(&self) -> &'static str {
        self.as_value().map_or("an object", functions::type_phrase)
    }

    /// The member `key` (which exists).
    fn member(self, key: &str) -> V<'a> {
        match self {
            V::Ref(v) => v.get(key).map_or(V::Own(Value::Null), V::Ref),
            V::Map(m) => m.get(key).map_or(V::Own(Value::Null), V::Ref),
            V::Own(Value::Object(mut m)) => V::Own(m.remove(key).unwrap_or(Value::Null)),
            V::Own(_) => V::Own(Value::Null),
        }
    }

    /// The element `i` (which exists).
    fn element(self, i: usize) -> V<'a> {
        match self {
            V::Ref(v) => v.get(i).map_or(V::Own(Value::Null), V::Ref),
            V::Own(Value::Array(mut a)) if i < a.len() => V::Own(a.swap_remove(i)),
            V::Map(_) | V::Own(_) => V::Own(Value::Null),
        }
    }
}

/// Where a value came from, for parameter-specific errors.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Plain,
    Pipeline,
    PipelineParameters,
    GlobalParameters,
    Dataset,
    LinkedService,
}

impl Origin {
    /// The `scope` of a `NoSuchParameter` error for a member missing from this value.
    fn parameter_scope(self) -> Option<&'static str> {
        match self {
            Origin::PipelineParameters => Some("pipeline"),
            Origin::GlobalParameters => Some("global"),
            Origin::Dataset => Some("dataset"),
            Origin::LinkedService => Some("linked service"),
            Origin::Plain | Origin::Pipeline => None,
        }
    }
}

struct Evaluated<'a> {
    value: V<'a>,
    origin: Origin,
}

fn plain(value: V<'_>) -> Evaluated<'_> {
    Evaluated {
        value,
        origin: Origin::Plain,
    }
}

fn error(kind: ExprErrorKind, span: Range<usize>) -> ExprError {
    ExprError { kind, span }
}

/// The key of an index, as a name or a position.
enum Key {
    Name(String),
    Position(i64),
    Other(&'static str),
}

impl Key {
    fn of(v: &V<'_>) -> Key {
        match v.as_value() {
            Some(Value::String(s)) => Key::Name(s.clone()),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => Key::Position(i),
                None => match n.as_f64() {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9.0e18 => Key::Position(x as i64),
                    _ => Key::Other("a float"),
                },
            },
            _ => Key::Other(v.phrase()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Key::Name(n) => format!("'{n}'"),
            Key::Position(i) => i.to_string(),
            Key::Other(phrase) => (*phrase).to_string(),
        }
    }
}

/// The member of `map` named `key`: exact match first, then case-insensitive.
fn find_key<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m String> {
    map.get_key_value(key)
        .map(|(k, _)| k)
        .or_else(|| map.keys().find(|k| functions::eq_ignore_case(k, key)))
}

struct Evaluator<'a> {
    scope: &'a dyn Scope,
}

impl<'a> Evaluator<'a> {
    fn eval(&self, e: &'a Expr) -> Result<Evaluated<'a>, ExprError> {
        match &e.kind {
            ExprKind::Literal(v) => Ok(plain(V::Ref(v))),
            ExprKind::Call { name, args } => self.call(e, name, args),
            ExprKind::Index {
                target,
                key,
                null_safe,
            } => self.index(target, key, *null_safe),
        }
    }

    fn index(
        &self,
        target: &'a Expr,
        key: &'a Expr,
        null_safe: bool,
    ) -> Result<Evaluated<'a>, ExprError> {
        let t = self.eval(target)?;
        let k = Key::of(&self.eval(key)?.value);
        if null_safe && t.value.is_null() {
            return Ok(plain(V::Own(Value::Null)));
        }
        let null = || Ok(plain(V::Own(Value::Null)));
        let bad_index = |target: String| {
            Err(error(
                ExprErrorKind::BadIndex {
                    target,
                    key: k.describe(),
                },
                key.span.clone(),
            ))
        };
        match &k {
            Key::Name(name) => {
                let Some(map) = t.value.as_map() else {
                    return bad_index(t.value.phrase().to_string());
                };
                let Some(actual) = find_key(map, name).cloned() else {
                    if null_safe {
                        return null();
                    }
                    let available: Vec<String> = map.keys().cloned().collect();
                    let kind = match t.origin.parameter_scope() {
                        Some(scope) => ExprErrorKind::NoSuchParameter {
                            scope,
                            name: name.clone(),
                            available,
                        },
                        None => ExprErrorKind::NoSuchProperty {
                            name: name.clone(),
                            available,
                        },
                    };
                    return Err(error(kind, key.span.clone()));
                };
                let origin = match t.origin {
                    Origin::Pipeline if actual.eq_ignore_ascii_case("parameters") => {
                        Origin::PipelineParameters
                    }
                    Origin::Pipeline if actual.eq_ignore_ascii_case("globalParameters") => {
                        Origin::GlobalParameters
                    }
                    _ => Origin::Plain,
                };
                Ok(Evaluated {
                    value: t.value.member(&actual),
                    origin,
                })
            }
            Key::Position(i) => {
                let Some(len) = t.value.as_array().map(Vec::len) else {
                    return bad_index(t.value.phrase().to_string());
                };
                match usize::try_from(*i).ok().filter(|&i| i < len) {
                    Some(i) => Ok(plain(t.value.element(i))),
                    None if null_safe => null(),
                    None => bad_index(format!(
                        "an array of {len} element{}",
                        if len == 1 { "" } else { "s" }
                    )),
                }
            }
            Key::Other(_) => bad_index(t.value.phrase().to_string()),
        }
    }

    /// Evaluates argument `i` of `function`, which must be a boolean.
    fn eval_bool(
        &self,
        function: &'static str,
        args: &'a [Expr],
        i: usize,
        call: &Expr,
    ) -> Result<bool, ExprError> {
        let Some(arg) = args.get(i) else {
            return Err(error(
                ExprErrorKind::Arity {
                    function,
                    expected: "more",
                    found: args.len(),
                },
                call.span.clone(),
            ));
        };
        let v = self.eval(arg)?.value;
        match v.as_value() {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(error(
                ExprErrorKind::ArgumentType {
                    function,
                    position: i + 1,
                    expected: "a boolean",
                    found: v.phrase(),
                },
                arg.span.clone(),
            )),
        }
    }

    /// Evaluates argument `i` (a name) of `variables`/`activity`.
    fn eval_name(
        &self,
        function: &'static str,
        args: &'a [Expr],
        call: &Expr,
    ) -> Result<String, ExprError> {
        let Some(arg) = args.first() else {
            return Err(error(
                ExprErrorKind::Arity {
                    function,
                    expected: "1",
                    found: 0,
                },
                call.span.clone(),
            ));
        };
        let v = self.eval(arg)?.value;
        match v.as_value() {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(error(
                ExprErrorKind::ArgumentType {
                    function,
                    position: 1,
                    expected: "a string",
                    found: v.phrase(),
                },
                arg.span.clone(),
            )),
        }
    }

    fn call(&self, e: &'a Expr, name: &str, args: &'a [Expr]) -> Result<Evaluated<'a>, ExprError> {
        let name_span = e.span.start..e.span.start + name.len();
        let Some(function) = functions::lookup(name) else {
            return Err(error(
                ExprErrorKind::UnknownFunction {
                    name: name.to_string(),
                    suggestion: functions::suggest(name),
                },
                name_span,
            ));
        };
        let not_available = |what: String, reason: String| {
            Err(error(
                ExprErrorKind::NotAvailable { what, reason },
                e.span.clone(),
            ))
        };
        let bool_value = |b: bool| Ok(plain(V::Own(Value::Bool(b))));
        match function.kind {
            Kind::If => {
                let condition = self.eval_bool(function.name, args, 0, e)?;
                match args.get(if condition { 1 } else { 2 }) {
                    Some(branch) => self.eval(branch),
                    None => Ok(plain(V::Own(Value::Null))),
                }
            }
            Kind::And => {
                for i in 0..args.len() {
                    if !self.eval_bool(function.name, args, i, e)? {
                        return bool_value(false);
                    }
                }
                bool_value(true)
            }
            Kind::Or => {
                for i in 0..args.len() {
                    if self.eval_bool(function.name, args, i, e)? {
                        return bool_value(true);
                    }
                }
                bool_value(false)
            }
            Kind::Pipeline => match self.scope.pipeline() {
                Some(v) => Ok(Evaluated {
                    value: V::Ref(v),
                    origin: Origin::Pipeline,
                }),
                None => not_available(
                    "pipeline()".to_string(),
                    "pipeline() is only available in a pipeline's activities; in a dataset or \
                     linked service, pass the value through its parameters"
                        .to_string(),
                ),
            },
            Kind::Dataset => match self.scope.dataset() {
                Some(m) => Ok(Evaluated {
                    value: V::Map(m),
                    origin: Origin::Dataset,
                }),
                None => not_available(
                    "dataset()".to_string(),
                    "dataset() is only available inside a dataset definition; pass the value \
                     through the dataset's parameters"
                        .to_string(),
                ),
            },
            Kind::LinkedService => match self.scope.linked_service() {
                Some(m) => Ok(Evaluated {
                    value: V::Map(m),
                    origin: Origin::LinkedService,
                }),
                None => not_available(
                    "linkedService()".to_string(),
                    "linkedService() is only available inside a linked service definition; pass \
                     the value through the linked service's parameters"
                        .to_string(),
                ),
            },
            Kind::Item => match self.scope.item() {
                Some(v) => Ok(plain(V::Ref(v))),
                None => not_available(
                    "item()".to_string(),
                    "item() is only available inside a ForEach activity (or a Filter activity's \
                     condition); pass the element to a child pipeline through its parameters"
                        .to_string(),
                ),
            },
            Kind::Variables => {
                let variable = self.eval_name(function.name, args, e)?;
                match self.scope.variable(&variable) {
                    Ok(Some(v)) => Ok(plain(V::Own(v))),
                    Ok(None) => not_available(
                        format!("variables('{variable}')"),
                        "variables only exist in a pipeline's activities; pass the value through \
                         parameters"
                            .to_string(),
                    ),
                    Err(available) => Err(error(
                        ExprErrorKind::NoSuchVariable {
                            name: variable,
                            available,
                        },
                        e.span.clone(),
                    )),
                }
            }
            Kind::Activity => {
                let activity = self.eval_name(function.name, args, e)?;
                match self.scope.activity(&activity) {
                    Ok(v) => Ok(plain(V::Own(v))),
                    Err(reason) => not_available(format!("activity('{activity}')"), reason),
                }
            }
            Kind::Unsupported(reason) => {
                not_available(format!("{}()", function.name), reason.to_string())
            }
            Kind::Eager(implementation) => {
                let values = self.eval_args(args)?;
                implementation(function.name, &values)
                    .map(|v| plain(V::Own(v)))
                    .map_err(|kind| locate(kind, e, args))
            }
            Kind::Date => {
                let values = self.eval_args(args)?;
                let lower = name.to_ascii_lowercase();
                match dates::call(&lower, &values, self.scope.now()) {
                    Some(result) => result
                        .map(|v| plain(V::Own(v)))
                        .map_err(|kind| locate(kind, e, args)),
                    None => Err(error(
                        ExprErrorKind::UnknownFunction {
                            name: name.to_string(),
                            suggestion: None,
                        },
                        name_span,
                    )),
                }
            }
        }
    }

    fn eval_args(&self, args: &'a [Expr]) -> Result<Vec<Value>, ExprError> {
        args.iter()
            .map(|a| self.eval(a).map(|v| v.value.into_owned()))
            .collect()
    }
}

/// Puts a function's error on the argument it concerns, or on the whole call.
fn locate(kind: ExprErrorKind, call: &Expr, args: &[Expr]) -> ExprError {
    let span = match &kind {
        ExprErrorKind::ArgumentType { position, .. } => position
            .checked_sub(1)
            .and_then(|i| args.get(i))
            .map_or(call.span.clone(), |a| a.span.clone()),
        _ => call.span.clone(),
    };
    ExprError { kind, span }
}
