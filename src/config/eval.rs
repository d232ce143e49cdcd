//! Expressions inside JSON: finding, checking and evaluating every one in a definition.
//!
//! Which JSON values are expressions follows ADF ("Expressions" in
//! learn.microsoft.com/azure/data-factory/control-flow-expression-language-functions): a string
//! beginning with `@`, a string with `@{...}` parts, or an object
//! `{"value": "...", "type": "Expression"}`, which ADF Studio writes for dynamic content.
//! The `value` of a `{"type": "SecureString"}` object is a literal secret and never evaluated.
//!
//! [`check`] parses every expression of a definition without evaluating anything (syntax,
//! unknown functions, argument counts) and returns what each one reads, so that references
//! to undeclared parameters and variables are found at load time. [`evaluate`] turns a
//! definition into literal JSON in a [`Scope`]; the result is read with
//! [`Node::evaluated`], where every string is literal.

use std::ops::Range;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::error::ConfigError;
use super::expr::{self, Accessor, ExprError, Scope, Template};
use super::json::Node;

/// One accessor used by an expression, and where.
#[derive(Debug, Clone)]
pub struct Use {
    /// What is read.
    pub accessor: Accessor,
    /// The file holding the expression.
    pub file: PathBuf,
    /// JSONPath of the property holding the expression.
    pub path: String,
    /// The expression as written.
    pub expression: String,
    /// The accessor's byte span in `expression`.
    pub span: Range<usize>,
}

impl Use {
    /// An error about this use (e.g. an undeclared parameter), with a caret under it.
    pub fn error(&self, kind: expr::ExprErrorKind) -> ConfigError {
        ConfigError::Expression {
            file: self.file.clone(),
            path: self.path.clone(),
            expression: self.expression.clone(),
            source: Box::new(ExprError {
                kind,
                span: self.span.clone(),
            }),
        }
    }
}

/// Where to stop walking: keys whose values are not evaluated with their parent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip<'s> {
    /// Keys skipped at the top level of the walked value only (e.g. `parameters`
    /// declarations of a definition, or a container's inner `activities`).
    pub top_keys: &'s [&'s str],
}

/// The expression held by a JSON value, if it is one: its text and the node of the text.
fn expression_text<'a>(node: &Node<'a>) -> Option<(&'a str, Node<'a>)> {
    match node.value {
        Value::String(s) => Some((s.as_str(), node.clone())),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("Expression") => {
            let value = node.field("value")?;
            value.value.as_str().map(|s| (s, value))
        }
        _ => None,
    }
}

fn is_secure_string(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("SecureString")
}

fn parse(text: &str, at: &Node<'_>) -> Result<Template, ConfigError> {
    expr::parse_template(text).map_err(|source| ConfigError::Expression {
        file: at.file.to_path_buf(),
        path: at.path.clone(),
        expression: text.to_string(),
        source: Box::new(source),
    })
}

/// Parses every expression under `node` (except `skip`ped keys) and lists what they read.
pub fn check(node: &Node<'_>, skip: Skip<'_>) -> Result<Vec<Use>, ConfigError> {
    let mut uses = Vec::new();
    walk_check(node, skip.top_keys, &mut uses)?;
    Ok(uses)
}

fn walk_check(node: &Node<'_>, skip: &[&str], uses: &mut Vec<Use>) -> Result<(), ConfigError> {
    if let Some((text, at)) = expression_text(node) {
        let template = parse(text, &at)?;
        for (accessor, span) in template.accessors() {
            uses.push(Use {
                accessor,
                file: at.file.to_path_buf(),
                path: at.path.clone(),
                expression: text.to_string(),
                span,
            });
        }
        return Ok(());
    }
    match node.value {
        Value::Object(m) if !is_secure_string(node.value) => {
            for key in m.keys().filter(|k| !skip.contains(&k.as_str())) {
                if let Some(child) = node.field(key) {
                    walk_check(&child, &[], uses)?;
                }
            }
        }
        Value::Array(_) => {
            for child in node.as_array()? {
                walk_check(&child, &[], uses)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Evaluates every expression under `node` (except `skip`ped keys, copied as they are) in
/// `scope`, giving literal JSON.
pub fn evaluate(node: &Node<'_>, scope: &dyn Scope, skip: Skip<'_>) -> Result<Value, ConfigError> {
    walk_eval(node, scope, skip.top_keys)
}

/// Evaluates the single value at `node` (an expression or a literal) in `scope`.
pub fn evaluate_value(node: &Node<'_>, scope: &dyn Scope) -> Result<Value, ConfigError> {
    walk_eval(node, scope, &[])
}

fn walk_eval(node: &Node<'_>, scope: &dyn Scope, skip: &[&str]) -> Result<Value, ConfigError> {
    if let Some((text, at)) = expression_text(node) {
        let template = parse(text, &at)?;
        return template
            .evaluate(scope)
            .map_err(|source| ConfigError::Expression {
                file: at.file.to_path_buf(),
                path: at.path.clone(),
                expression: text.to_string(),
                source: Box::new(source),
            });
    }
    match node.value {
        Value::Object(m) if !is_secure_string(node.value) => {
            let mut out = Map::with_capacity(m.len());
            for (key, value) in m {
                let evaluated = match node.field(key) {
                    Some(child) if !skip.contains(&key.as_str()) => walk_eval(&child, scope, &[])?,
                    _ => value.clone(),
                };
                out.insert(key.clone(), evaluated);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for child in node.as_array()? {
                out.push(walk_eval(&child, scope, &[])?);
            }
            Ok(Value::Array(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    struct Params(Map<String, Value>);
    impl Scope for Params {
        fn dataset(&self) -> Option<&Map<String, Value>> {
            Some(&self.0)
        }
    }

    #[test]
    fn evaluates_strings_objects_and_interpolations_but_not_secrets() {
        let v = json!({
            "parameters": {"t": {"type": "String", "defaultValue": "@notme"}},
            "typeProperties": {
                "table": "@dataset().t",
                "folder": "out/@{dataset().t}/x",
                "rows": {"value": "@dataset().n", "type": "Expression"},
                "escaped": "@@literal",
                "list": ["@dataset().n", 1],
                "password": {"type": "SecureString", "value": "@{not evaluated}"}
            }
        });
        let scope = Params(json!({"t": "sales", "n": 5}).as_object().unwrap().clone());
        let node = Node::root(&v, Path::new("ds.json"));
        let out = evaluate(
            &node,
            &scope,
            Skip {
                top_keys: &["parameters"],
            },
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "parameters": {"t": {"type": "String", "defaultValue": "@notme"}},
                "typeProperties": {
                    "table": "sales", "folder": "out/sales/x", "rows": 5, "escaped": "@literal",
                    "list": [5, 1],
                    "password": {"type": "SecureString", "value": "@{not evaluated}"}
                }
            })
        );
        // The result reads literally.
        let evaluated = Node::evaluated(&out, Path::new("ds.json"), "$");
        let tp = evaluated.req_object("typeProperties").unwrap();
        assert_eq!(tp.req_str("escaped").unwrap(), "@literal");
        assert_eq!(tp.opt_u64("rows").unwrap(), Some(5));
    }

    #[test]
    fn check_lists_uses_with_paths_and_reports_syntax_errors() {
        let v = json!({"a": {"b": ["x", "@dataset().t"]}, "c": "@{pipeline().parameters.p}"});
        let uses = check(&Node::root(&v, Path::new("f.json")), Skip::default()).unwrap();
        let found: Vec<(String, Accessor)> = uses
            .iter()
            .map(|u| (u.path.clone(), u.accessor.clone()))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "$.a.b[1]".to_string(),
                    Accessor::DatasetParameter("t".into())
                ),
                ("$.c".to_string(), Accessor::PipelineParameter("p".into())),
            ]
        );
        let v = json!({"q": {"value": "@concat('a'", "type": "Expression"}});
        match check(&Node::root(&v, Path::new("f.json")), Skip::default()).unwrap_err() {
            ConfigError::Expression {
                file,
                path,
                expression,
                ..
            } => {
                assert_eq!(file, Path::new("f.json"));
                assert_eq!(path, "$.q.value");
                assert_eq!(expression, "@concat('a'");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn evaluation_errors_name_file_path_and_expression() {
        let v = json!({"x": {"y": "@dataset().missing"}});
        let scope = Params(Map::new());
        let e = evaluate(
            &Node::root(&v, Path::new("d.json")),
            &scope,
            Skip::default(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("d.json: $.x.y: "), "{text}");
        assert!(text.contains("@dataset().missing"), "{text}");
        assert!(text.contains('^'), "{text}");
    }
}
