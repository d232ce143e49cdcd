//! Errors raised while loading and validating a factory.
//!
//! Every variant carries enough context to find the offending spot: the file
//! and a JSONPath into it (`$.properties.typeProperties.port`, array indices
//! as `[2]`), and every message ends with what to do about it.
//!
//! No variant ever holds a secret value: where the offending value could be a
//! secret (a connection string, a key), the value is recorded as `***`.

use std::path::PathBuf;

/// Everything that can go wrong while loading a factory or looking up a
/// definition in it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or folder could not be read.
    #[error("cannot read {file}: {source}; check the path and its permissions")]
    Io {
        /// The file concerned.
        file: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// A file is not valid JSON.
    #[error("{file}:{line}:{column}: invalid JSON ({source}); fix the syntax at that position")]
    Parse {
        /// The file concerned.
        file: PathBuf,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's error.
        source: serde_json::Error,
    },

    /// A required property is absent (or `null`).
    #[error("{file}: {path} is missing; expected {expected}")]
    Missing {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// What should be there.
        expected: &'static str,
    },

    /// A property has the wrong JSON type (for example a quoted number).
    #[error("{file}: {path} must be {expected}, but it is {found}; change it to {expected}")]
    WrongType {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// What should be there.
        expected: &'static str,
        /// The JSON type that is there.
        found: &'static str,
    },

    /// A `type` discriminator names something quiver does not know.
    #[error("{file}: {path} is {found:?}, which quiver does not support; use one of: {}", list(.allowed))]
    UnknownType {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// The type name that was given.
        found: String,
        /// The accepted values (may be empty).
        allowed: &'static [&'static str],
    },

    /// A property has a value of the right type that quiver cannot accept.
    /// `value` is `***` when the value could be secret.
    #[error("{file}: {path} has invalid value {value:?}: {reason}{}", allowed_hint(.allowed))]
    InvalidValue {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// The offending value, or `***` if it could be secret.
        value: String,
        /// Why it is invalid and what to do.
        reason: String,
        /// The accepted values (may be empty).
        allowed: &'static [&'static str],
    },

    /// A key that is not allowed at this place (used for the bundle's top level).
    #[error("{file}: unknown key {key:?} at {path}; allowed keys: {}", list(.allowed))]
    UnknownKey {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// The unknown key.
        key: String,
        /// The accepted values (may be empty).
        allowed: &'static [&'static str],
    },

    /// A reference names a definition that does not exist.
    #[error("{file}: {path} refers to {kind} {name:?}, which is not defined; {}", choose(.name, .available))]
    DanglingReference {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// `"linked service"`, `"dataset"`, `"pipeline"` or `"activity"`.
        kind: &'static str,
        /// The name looked for.
        name: String,
        /// The names that do exist, sorted.
        available: Vec<String>,
    },

    /// Two definitions of the same kind share a name.
    #[error(
        "{kind} {name:?} is defined twice, in {first} and in {second}; rename or remove one of them"
    )]
    Duplicate {
        /// `"linked service"`, `"dataset"`, `"pipeline"` or `"activity"`.
        kind: &'static str,
        /// The name looked for.
        name: String,
        /// The file of the first definition.
        first: PathBuf,
        /// The file of the second definition.
        second: PathBuf,
    },

    /// A secret refers to an environment variable that is unset or empty.
    #[error(
        "{file}: {path} reads environment variable {variable}, which is not set or is empty; export {variable} before running quiver"
    )]
    MissingEnvVar {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the offending property, e.g. `$.properties.typeProperties.port`.
        path: String,
        /// The environment variable's name.
        variable: String,
    },

    /// A Key Vault secret reference could not be resolved (the vault refused, or could not be
    /// reached).
    #[error("{file}: {path}: cannot read secret {secret:?} from Key Vault {vault}: {source}")]
    SecretUnavailable {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the reference.
        path: String,
        /// The secret's name (never its value).
        secret: String,
        /// The vault's base URL.
        vault: String,
        /// What went wrong.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A name given on the command line does not exist.
    #[error("{}", not_found(.what, .name, .available))]
    NotFound {
        /// `"pipeline"`, `"activity"`, `"dataset"` or `"linked service"`.
        what: &'static str,
        /// The name looked for.
        name: String,
        /// The names that do exist, sorted.
        available: Vec<String>,
    },

    /// Several candidates match and the command line did not say which one.
    #[error("several {what}s match ({}); choose one with {flag}", .candidates.join(", "))]
    Ambiguous {
        /// What was looked for: `"pipeline"`, `"activity"`, `"dataset"` or `"linked service"`.
        what: &'static str,
        /// The command-line flag that disambiguates, e.g. `--pipeline`.
        flag: &'static str,
        /// The matching candidates.
        candidates: Vec<String>,
    },

    /// The selected activity is of a type quiver cannot run as asked.
    #[error(
        "activity {activity:?} in pipeline {pipeline:?} is of type {activity_type:?}; quiver can run only {expected} activities here; choose another activity"
    )]
    UnsupportedActivity {
        /// The pipeline's name.
        pipeline: String,
        /// The activity's name.
        activity: String,
        /// The activity's ADF type.
        activity_type: String,
        /// What should be there.
        expected: &'static str,
    },

    /// A parameter is missing, undeclared or of the wrong type. Never holds a secret value.
    #[error("{what}: parameter {name:?} {reason}")]
    Parameter {
        /// The definition, e.g. `pipeline "P"` or `dataset "D" (passed at ...)`.
        what: String,
        /// The parameter.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// An ADF expression does not parse, uses something unknown, or fails to evaluate.
    /// The message shows the expression with a caret under the failing part.
    #[error("{file}: {path}: {source}\n{}", caret(.expression, .source.span.clone()))]
    Expression {
        /// The file concerned.
        file: PathBuf,
        /// JSONPath of the property holding the expression.
        path: String,
        /// The expression as written (the whole JSON string).
        expression: String,
        /// What went wrong, with the byte span of the failing part.
        source: Box<crate::config::expr::ExprError>,
    },

    /// A pipeline's activities cannot run as wired: a `dependsOn` names an unknown activity,
    /// or the dependencies form a cycle.
    #[error("{file}: {path}: {reason}")]
    Dependency {
        /// The pipeline's file.
        file: PathBuf,
        /// JSONPath of the offending `dependsOn` (or of the activities array for a cycle).
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// The selected pipeline has no Copy activity to run.
    #[error(
        "{file}: pipeline {pipeline:?} has no Copy activity; add one or choose another pipeline with --pipeline"
    )]
    NoCopyActivity {
        /// The pipeline's file.
        file: PathBuf,
        /// The pipeline's name.
        pipeline: String,
    },
}

/// The expression on one line with `^` under the span (in characters, so multi-byte text
/// lines up). Newlines and tabs print as spaces.
pub(crate) fn caret(expression: &str, span: std::ops::Range<usize>) -> String {
    let start = span.start.min(expression.len());
    let end = span.end.clamp(start, expression.len());
    let chars_before = expression.get(..start).map_or(start, |s| s.chars().count());
    let width = expression
        .get(start..end)
        .map_or(1, |s| s.chars().count())
        .max(1);
    let line: String = expression
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    format!(
        "    {line}\n    {}{}",
        " ".repeat(chars_before),
        "^".repeat(width)
    )
}

fn list(items: &[&str]) -> String {
    items.join(", ")
}

fn allowed_hint(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        String::new()
    } else {
        format!("; allowed values: {}", allowed.join(", "))
    }
}

fn not_found(what: &str, name: &str, available: &[String]) -> String {
    if name.is_empty() {
        format!("no {what} is defined in the factory; add one")
    } else {
        format!("{what} {name:?} not found; {}", choose(name, available))
    }
}

/// "use one of: a, b" plus a case-insensitive "did you mean" hint (ADF names
/// are case-insensitive in the service, quiver matches them exactly).
fn choose(name: &str, available: &[String]) -> String {
    if available.is_empty() {
        return "none is defined; add a definition first".to_string();
    }
    let mut out = String::new();
    if let Some(close) = available.iter().find(|a| a.eq_ignore_ascii_case(name)) {
        out.push_str(&format!(
            "did you mean {close:?} (names are case-sensitive)? "
        ));
    }
    out.push_str("use one of: ");
    out.push_str(&available.join(", "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_path_and_remedy() {
        let e = ConfigError::Missing {
            file: PathBuf::from("dataset/d.json"),
            path: "$.properties.typeProperties.location".into(),
            expected: "an object",
        };
        assert_eq!(
            e.to_string(),
            "dataset/d.json: $.properties.typeProperties.location is missing; expected an object"
        );
        let e = ConfigError::NotFound {
            what: "pipeline",
            name: "copyall".into(),
            available: vec!["CopyAll".into(), "Other".into()],
        };
        let msg = e.to_string();
        assert!(msg.contains("did you mean \"CopyAll\""), "{msg}");
        assert!(msg.contains("use one of: CopyAll, Other"), "{msg}");
        let e = ConfigError::InvalidValue {
            file: PathBuf::from("f.json"),
            path: "$.x".into(),
            value: "lzo".into(),
            reason: "not supported".into(),
            allowed: &["none", "snappy"],
        };
        assert!(e.to_string().ends_with("; allowed values: none, snappy"));
    }

    #[test]
    fn carets_sit_under_the_span_in_characters() {
        assert_eq!(
            caret("@concatt('a')", 1..8),
            "    @concatt('a')\n     ^^^^^^^"
        );
        // Multi-byte text before the span: the caret counts characters, not bytes.
        assert_eq!(caret("é@{x(}", 4..5), "    é@{x(}\n       ^");
        // An empty span at the end still shows one caret.
        assert_eq!(caret("@a(", 3..3), "    @a(\n       ^");
        assert_eq!(caret("a\nb", 2..3), "    a b\n      ^");
    }
}
