//! What a pipeline run's expressions see: `pipeline()`, `variables()`, `activity()` and
//! `item()` (ADF's "System variables" and "Expressions and functions" docs).
//!
//! A [`RunScope`] belongs to one pipeline run. Variables and activity results are shared by
//! every scope of the run (a ForEach iteration's scope differs only in `item()`), behind a
//! mutex: ADF's variables are pipeline-wide, not per iteration.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use super::expr::Scope;
use super::params::ParamType;
use super::pipeline::Pipeline;

/// The state shared by every scope of a run.
#[derive(Debug, Default)]
struct Shared {
    variables: Map<String, Value>,
    /// Activity name → `{"output": ..., "status": ..., "error": ...}`.
    activities: Map<String, Value>,
}

/// The scope of one pipeline run (or of one ForEach iteration in it).
#[derive(Debug, Clone)]
pub struct RunScope {
    pipeline: Arc<Value>,
    shared: Arc<Mutex<Shared>>,
    /// A ForEach iteration's own activity results: `activity('Inner')` inside an iteration
    /// reads that iteration's run of `Inner`.
    local: Option<Arc<Mutex<Map<String, Value>>>>,
    item: Option<Arc<Value>>,
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// The values of SecureString parameters bound in this run, kept out of its output.
    secrets: Redactor,
}

/// What identifies a run, for `pipeline()`.
#[derive(Debug, Clone)]
pub struct RunIdentity {
    /// `pipeline().DataFactory`: the factory's name.
    pub factory: String,
    /// `pipeline().RunId`.
    pub run_id: String,
    /// `pipeline().TriggerTime` (and `TriggerType` is `Manual`).
    pub trigger_time: chrono::DateTime<chrono::Utc>,
}

impl RunScope {
    /// A run of `pipeline` with bound `parameters`, the factory's `global_parameters` and the
    /// pipeline's variables at their defaults. A variable without a default starts as its
    /// type's empty value (`""`, `false`, `0`, `[]`), as Microsoft's data-factory testing
    /// framework does; ADF does not document it.
    pub fn new(
        pipeline: &Pipeline,
        parameters: Map<String, Value>,
        global_parameters: Map<String, Value>,
        identity: &RunIdentity,
    ) -> RunScope {
        let time = identity
            .trigger_time
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        let object = json!({
            "DataFactory": identity.factory,
            "Pipeline": pipeline.name,
            "RunId": identity.run_id,
            "TriggerType": "Manual",
            "TriggerId": identity.run_id,
            "TriggerName": "Manual",
            "TriggerTime": time,
            "GroupId": identity.run_id,
            "TriggeredByPipelineName": null,
            "TriggeredByPipelineRunId": null,
            "parameters": parameters,
            "globalParameters": global_parameters,
        });
        let variables = pipeline
            .variables
            .iter()
            .map(|(name, spec)| {
                let empty = match spec.ty {
                    ParamType::Bool => json!(false),
                    ParamType::Int => json!(0),
                    ParamType::Float => json!(0.0),
                    ParamType::Array => json!([]),
                    ParamType::Object => json!({}),
                    ParamType::String | ParamType::SecureString => json!(""),
                };
                (name.clone(), spec.default.clone().unwrap_or(empty))
            })
            .collect();
        let parameters = object["parameters"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let scope = RunScope {
            pipeline: Arc::new(object),
            shared: Arc::new(Mutex::new(Shared {
                variables,
                activities: Map::new(),
            })),
            local: None,
            item: None,
            now: None,
            secrets: Redactor::default(),
        };
        for secret in pipeline.parameters.secure_values(&parameters) {
            scope.note_secret(secret);
        }
        scope
    }

    /// The same run with `item()` set (a ForEach iteration), and activity results of its
    /// own (earlier results of the run stay visible).
    pub fn with_item(&self, item: Value) -> RunScope {
        RunScope {
            item: Some(Arc::new(item)),
            local: Some(Arc::new(Mutex::new(
                self.local
                    .as_ref()
                    .map(|l| lock(l).clone())
                    .unwrap_or_default(),
            ))),
            ..self.clone()
        }
    }

    /// The same run with a fixed clock (tests).
    pub fn with_now(mut self, now: chrono::DateTime<chrono::Utc>) -> RunScope {
        self.now = Some(now);
        self
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding the lock leaves plain JSON behind; keep using it.
        lock(&self.shared)
    }

    /// The run's redactor: what it prints goes through it.
    pub fn redactor(&self) -> Redactor {
        self.secrets.clone()
    }

    /// `text` with every secret of the run replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    /// `value` with every secret of the run replaced by `***` in its strings and keys.
    pub fn redact_json(&self, value: &Value) -> Value {
        self.secrets.redact_json(value)
    }

    /// Sets a variable.
    pub fn set_variable(&self, name: &str, value: Value) {
        self.shared().variables.insert(name.to_string(), value);
    }

    /// Appends to an array variable (an unset one starts empty); `Err` with the current
    /// value's JSON type when it is not an array.
    pub fn append_variable(&self, name: &str, value: Value) -> Result<(), &'static str> {
        let mut shared = self.shared();
        let slot = shared
            .variables
            .entry(name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        match slot {
            Value::Array(items) => {
                items.push(value);
                Ok(())
            }
            other => Err(crate::config::json::type_name(other)),
        }
    }

    /// The variables' current values.
    pub fn variables(&self) -> Map<String, Value> {
        self.shared().variables.clone()
    }

    /// Records a finished activity for `activity('name')` (in the iteration, inside a
    /// ForEach).
    pub fn record_activity(&self, name: &str, status: &str, output: Value, error: Value) {
        let result = json!({"output": output, "status": status, "error": error});
        match &self.local {
            Some(local) => {
                lock(local).insert(name.to_string(), result);
            }
            None => {
                self.shared().activities.insert(name.to_string(), result);
            }
        }
    }
}

/// The values of a run's SecureString parameters, replaced by `***` in whatever the run
/// prints. `Debug` shows only how many there are.
#[derive(Clone, Default)]
pub struct Redactor(Arc<Mutex<Vec<String>>>);

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", lock(&self.0).len())
    }
}

impl Redactor {
    /// Adds a secret value. Values under three characters are not recorded: replacing them
    /// would blank out unrelated text.
    pub fn note(&self, value: &str) {
        if value.chars().count() < 3 {
            return;
        }
        let mut secrets = lock(&self.0);
        if !secrets.iter().any(|s| s == value) {
            secrets.push(value.to_string());
            // Longest first, so a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = lock(&self.0);
        let mut out = text.to_string();
        for s in secrets.iter() {
            out = out.replace(s.as_str(), "***");
        }
        out
    }

    /// `value` with every secret replaced by `***` in its strings and keys.
    pub fn redact_json(&self, value: &Value) -> Value {
        if lock(&self.0).is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (self.redact(k), self.redact_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scope for RunScope {
    fn pipeline(&self) -> Option<&Value> {
        Some(&self.pipeline)
    }
    fn item(&self) -> Option<&Value> {
        self.item.as_deref()
    }
    fn variable(&self, name: &str) -> Result<Option<Value>, Vec<String>> {
        let shared = self.shared();
        match shared.variables.get(name) {
            Some(v) => Ok(Some(v.clone())),
            None => Err(shared.variables.keys().cloned().collect()),
        }
    }
    fn activity(&self, name: &str) -> Result<Value, String> {
        if let Some(found) = self.local.as_ref().and_then(|l| lock(l).get(name).cloned()) {
            return Ok(found);
        }
        self.shared().activities.get(name).cloned().ok_or_else(|| {
            format!("activity '{name}' has not run yet in this run; make this activity depend on it (dependsOn)")
        })
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.now.unwrap_or_else(chrono::Utc::now)
    }
    fn note_secret(&self, value: &str) {
        self.secrets.note(value);
    }
}
