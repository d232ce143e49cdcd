//! Parameters (of pipelines, datasets and linked services) and pipeline variables.
//!
//! A declaration is `{"type": T, "defaultValue": V}`. Types are ADF's `ParameterType`
//! (String, Int, Float, Bool, Array, Object, SecureString) and `VariableType` (String, Bool,
//! Array), matched case-insensitively with the spellings ADF Studio exports (`"int"`,
//! `"Boolean"`, `"Integer"`); see the azure-mgmt-datafactory enums, which are
//! case-insensitive too. A run binds each parameter to the value passed (by the command line,
//! or by the `parameters` of a reference) or else to its default, converted to its type.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::ConfigError;
use super::json::{Node, type_name};
use super::origin::Origin;

/// A declared parameter or variable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `String`.
    String,
    /// `Int` (also `Integer`).
    Int,
    /// `Float`.
    Float,
    /// `Bool` (also `Boolean`).
    Bool,
    /// `Array`.
    Array,
    /// `Object`.
    Object,
    /// `SecureString`: a string that is a secret wherever it flows.
    SecureString,
}

/// The accepted spellings, for error messages.
const TYPE_NAMES: &[&str] = &[
    "String",
    "Int",
    "Float",
    "Bool",
    "Array",
    "Object",
    "SecureString",
];

impl ParamType {
    fn parse(node: &Node<'_>) -> Result<ParamType, ConfigError> {
        let raw = node.as_str()?;
        Ok(match raw.trim().to_ascii_lowercase().as_str() {
            "string" => ParamType::String,
            "int" | "integer" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" | "boolean" => ParamType::Bool,
            "array" => ParamType::Array,
            "object" => ParamType::Object,
            "securestring" => ParamType::SecureString,
            _ => return Err(node.invalid(raw, "not an ADF parameter type", TYPE_NAMES)),
        })
    }

    /// The type's ADF name.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "String",
            ParamType::Int => "Int",
            ParamType::Float => "Float",
            ParamType::Bool => "Bool",
            ParamType::Array => "Array",
            ParamType::Object => "Object",
            ParamType::SecureString => "SecureString",
        }
    }

    /// `value` as this type, or why it cannot be. Strings convert to the other types as
    /// ADF converts command-line and UI values: `"5"` to an Int, `"true"` to a Bool, JSON
    /// text to an Array or Object.
    pub fn convert(self, value: &Value) -> Result<Value, String> {
        let fail = || {
            format!(
                "{} is not a valid {} value",
                shown(self, value),
                self.name()
            )
        };
        match (self, value) {
            (ParamType::String | ParamType::SecureString, Value::String(_)) => Ok(value.clone()),
            (ParamType::String, Value::Number(_) | Value::Bool(_)) => {
                Ok(Value::String(value.to_string()))
            }
            (ParamType::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            (ParamType::Int, Value::String(s)) => {
                s.trim().parse::<i64>().map(Value::from).map_err(|_| fail())
            }
            (ParamType::Float, Value::Number(_)) => Ok(value.clone()),
            (ParamType::Float, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
                .ok_or_else(fail),
            (ParamType::Bool, Value::Bool(_)) => Ok(value.clone()),
            (ParamType::Bool, Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => {
                Ok(Value::Bool(true))
            }
            (ParamType::Bool, Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => {
                Ok(Value::Bool(false))
            }
            // ADF's Object takes any JSON value (a Studio-passed array included).
            (ParamType::Array, Value::Array(_))
            | (ParamType::Object, Value::Object(_) | Value::Array(_)) => Ok(value.clone()),
            (ParamType::Array | ParamType::Object, Value::String(s)) => {
                match serde_json::from_str::<Value>(s) {
                    Ok(v @ Value::Array(_)) if self == ParamType::Array => Ok(v),
                    Ok(v @ (Value::Object(_) | Value::Array(_))) if self == ParamType::Object => {
                        Ok(v)
                    }
                    _ => Err(fail()),
                }
            }
            _ => Err(fail()),
        }
    }
}

/// A value for an error message: never a secret's.
fn shown(ty: ParamType, value: &Value) -> String {
    match (ty, value) {
        (ParamType::SecureString, _) => "***".to_string(),
        (_, Value::String(s)) => format!("{s:?}"),
        (_, other) => format!("{} ({})", other, type_name(other)),
    }
}

/// One declared parameter or variable.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Its declared type.
    pub ty: ParamType,
    /// `defaultValue`, already converted to `ty` (a raw expression is kept as written).
    pub default: Option<Value>,
}

/// The `parameters` (or `variables`) declared by a definition, by name.
#[derive(Clone, Default, PartialEq)]
pub struct Parameters {
    specs: BTreeMap<String, ParamSpec>,
    /// Where the declarations are (for errors).
    pub origin: Option<Origin>,
}

impl std::fmt::Debug for Parameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names and types only: a SecureString's default is a secret.
        f.debug_map()
            .entries(self.specs.iter().map(|(k, v)| (k, v.ty.name())))
            .finish()
    }
}

impl Parameters {
    /// Reads `node.<key>` (absent is none declared).
    pub fn parse(node: &Node<'_>, key: &str) -> Result<Parameters, ConfigError> {
        let Some(decls) = node.opt_object(key)? else {
            return Ok(Parameters::default());
        };
        let mut specs = BTreeMap::new();
        for name in decls.as_object()?.keys() {
            let decl = decls.req_object(name)?;
            let ty = ParamType::parse(&decl.req("type", "a parameter type, e.g. \"String\"")?)?;
            let default = match decl.field("defaultValue") {
                None => None,
                Some(d) if is_expression(d.value) => Some(d.value.clone()),
                Some(d) => Some(
                    ty.convert(d.value)
                        .map_err(|reason| d.invalid(&shown(ty, d.value), reason, &[]))?,
                ),
            };
            specs.insert(name.clone(), ParamSpec { ty, default });
        }
        Ok(Parameters {
            specs,
            origin: Some(decls.origin()),
        })
    }

    /// Whether none is declared.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The declared names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.specs.keys().cloned().collect()
    }

    /// The declaration of `name`.
    pub fn get(&self, name: &str) -> Option<&ParamSpec> {
        self.specs.get(name)
    }

    /// The declarations, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ParamSpec)> {
        self.specs.iter()
    }

    /// The names of SecureString parameters.
    pub fn secure_names(&self) -> Vec<String> {
        self.specs
            .iter()
            .filter(|(_, s)| s.ty == ParamType::SecureString)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The values of the SecureString parameters in `bound` (the strings among them).
    pub fn secure_values<'v>(&self, bound: &'v Map<String, Value>) -> Vec<&'v str> {
        self.secure_names()
            .iter()
            .filter_map(|name| bound.get(name).and_then(Value::as_str))
            .collect()
    }

    /// Binds the declared parameters to `supplied` values (already evaluated), falling back
    /// to defaults; `what` names the definition for errors (e.g. `dataset "Sales"`), and
    /// `passed_at` says where values are passed (a file and JSONPath, or the command line).
    /// Every supplied name must be declared, and every declared name must get a value.
    pub fn bind(
        &self,
        supplied: &Map<String, Value>,
        what: &str,
        passed_at: &str,
    ) -> Result<Map<String, Value>, ConfigError> {
        if let Some(unknown) = supplied.keys().find(|k| !self.specs.contains_key(*k)) {
            return Err(ConfigError::Parameter {
                what: what.to_string(),
                name: unknown.clone(),
                reason: format!(
                    "is passed at {passed_at} but not declared; declared parameters: {}",
                    list_or_none(&self.names())
                ),
            });
        }
        let mut out = Map::new();
        for (name, spec) in &self.specs {
            let value = match (supplied.get(name), &spec.default) {
                (Some(v), _) => v.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => {
                    return Err(ConfigError::Parameter {
                        what: what.to_string(),
                        name: name.clone(),
                        reason: format!(
                            "has no default value and none is passed; pass it at {passed_at}"
                        ),
                    });
                }
            };
            let value = spec
                .ty
                .convert(&value)
                .map_err(|reason| ConfigError::Parameter {
                    what: what.to_string(),
                    name: name.clone(),
                    reason,
                })?;
            out.insert(name.clone(), value);
        }
        Ok(out)
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Whether a JSON value is (or holds at its top) an expression: `"@..."`, a string with
/// `@{`, or a `{"type": "Expression", "value": ...}` object.
pub fn is_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => {
            (s.starts_with('@') && !s.starts_with("@@") && s.len() > 1) || s.contains("@{")
        }
        Value::Object(m) => {
            m.get("type").and_then(Value::as_str) == Some("Expression") && m.contains_key("value")
        }
        _ => false,
    }
}

/// Whether anything under `node` (except its top-level `skip` keys, and the values of
/// SecureString objects) is an expression.
pub fn holds_expressions(node: &Node<'_>, skip: &[&str]) -> bool {
    fn any(v: &Value) -> bool {
        is_expression(v)
            || match v {
                Value::Object(m) => {
                    v.get("type").and_then(Value::as_str) != Some("SecureString")
                        && m.values().any(any)
                }
                Value::Array(items) => items.iter().any(any),
                _ => false,
            }
    }
    !node.is_evaluated()
        && node.value.as_object().map_or_else(
            || any(node.value),
            |m| m.iter().any(|(k, v)| !skip.contains(&k.as_str()) && any(v)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn params(v: Value) -> Result<Parameters, ConfigError> {
        Parameters::parse(&Node::root(&v, Path::new("p.json")), "parameters")
    }

    #[test]
    fn types_in_any_case_and_studio_spellings() {
        let p = params(json!({"parameters": {
            "a": {"type": "string"}, "b": {"type": "INT", "defaultValue": "5"},
            "c": {"type": "Boolean", "defaultValue": "true"}, "d": {"type": "Integer"},
            "e": {"type": "array", "defaultValue": ["x"]}, "f": {"type": "securestring"},
            "g": {"type": "Float", "defaultValue": 1.5}, "h": {"type": "Object", "defaultValue": {"k": 1}}
        }}))
        .unwrap();
        assert_eq!(p.get("a").unwrap().ty, ParamType::String);
        assert_eq!(p.get("b").unwrap().default, Some(json!(5)));
        assert_eq!(p.get("c").unwrap().default, Some(json!(true)));
        assert_eq!(p.get("d").unwrap().ty, ParamType::Int);
        assert_eq!(p.get("f").unwrap().ty, ParamType::SecureString);
        assert_eq!(p.secure_names(), vec!["f".to_string()]);
        let e = params(json!({"parameters": {"a": {"type": "Number"}}})).unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, .. } if path == "$.parameters.a.type")
        );
        let e =
            params(json!({"parameters": {"a": {"type": "Int", "defaultValue": "x"}}})).unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, ref reason, .. }
            if path == "$.parameters.a.defaultValue" && reason.contains("not a valid Int"))
        );
    }

    #[test]
    fn binding_uses_passed_values_then_defaults_and_converts() {
        let p = params(json!({"parameters": {
            "rows": {"type": "Int", "defaultValue": 10}, "name": {"type": "String"},
            "on": {"type": "Bool", "defaultValue": false}, "list": {"type": "Array"}
        }}))
        .unwrap();
        let supplied = json!({"name": "t1", "list": "[1,2]", "on": "TRUE"});
        let bound = p
            .bind(supplied.as_object().unwrap(), "pipeline \"P\"", "--param")
            .unwrap();
        assert_eq!(
            Value::Object(bound),
            json!({"list": [1, 2], "name": "t1", "on": true, "rows": 10})
        );
        let e = p
            .bind(
                json!({"list": []}).as_object().unwrap(),
                "pipeline \"P\"",
                "--param",
            )
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pipeline \"P\": parameter \"name\" has no default value and none is passed; pass it at --param"
        );
        let e = p
            .bind(
                json!({"name": "x", "list": [], "nope": 1})
                    .as_object()
                    .unwrap(),
                "dataset \"D\"",
                "p.json $.x.parameters",
            )
            .unwrap_err();
        assert!(e.to_string().contains("\"nope\" is passed at p.json $.x.parameters but not declared; declared parameters: list, name, on, rows"), "{e}");
        let e = p
            .bind(
                json!({"name": "x", "list": [], "rows": "ten"})
                    .as_object()
                    .unwrap(),
                "d",
                "here",
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("\"ten\" is not a valid Int value"),
            "{e}"
        );
    }

    #[test]
    fn secure_values_are_never_shown() {
        let p = params(json!({"parameters": {"pw": {"type": "SecureString"}}})).unwrap();
        let e = p
            .bind(json!({"pw": 12}).as_object().unwrap(), "ls", "here")
            .unwrap_err();
        assert!(!e.to_string().contains("12"), "{e}");
        assert_eq!(format!("{p:?}"), "{\"pw\": \"SecureString\"}");
    }
}
