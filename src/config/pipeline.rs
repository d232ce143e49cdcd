//! Pipelines and their activities.
//!
//! A pipeline declares `parameters` and `variables` and lists activities, which may depend on
//! each other (`dependsOn`) and may contain activities (ForEach, If Condition). Copy and
//! Lookup activities without expressions are read in full when the factory loads; those with
//! expressions are read when they run, after evaluation ([`ActivityKind::Dynamic`]). Control
//! activities keep their expression-valued settings in [`Activity::raw`] for the runner.
//! Activity types quiver cannot run are kept as [`ActivityKind::Unsupported`], so a factory
//! using them still loads; running one is an error that names it.

use serde_json::{Map, Value};

use super::error::ConfigError;
use super::json::Node;
use super::origin::{Origin, RawProperties};
use super::params::{self, Parameters};
use super::policy::{self, ActivityPolicy};
use super::typed::TypedSlot;

/// One pipeline of the factory.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.parameters`.
    pub parameters: Parameters,
    /// `properties.variables`.
    pub variables: Parameters,
    /// `properties.activities`, in order.
    pub activities: Vec<Activity>,
}

impl Pipeline {
    /// The top-level activity called `name`, or `NotFound` listing this pipeline's
    /// activities.
    pub fn activity(&self, name: &str) -> Result<&Activity, ConfigError> {
        self.activities
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| ConfigError::NotFound {
                what: "activity",
                name: name.to_string(),
                available: self.activities.iter().map(|a| a.name.clone()).collect(),
            })
    }

    /// Every activity, containers' inner activities included, depth first.
    pub fn all_activities(&self) -> Vec<&Activity> {
        let mut out = Vec::new();
        fn walk<'a>(list: &'a [Activity], out: &mut Vec<&'a Activity>) {
            for a in list {
                out.push(a);
                for inner in a.kind.inner() {
                    walk(inner, out);
                }
            }
        }
        walk(&self.activities, &mut out);
        out
    }
}

/// A `dependsOn` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The activity succeeded.
    Succeeded,
    /// The activity failed.
    Failed,
    /// The activity was skipped.
    Skipped,
    /// The activity succeeded or failed.
    Completed,
}

impl Condition {
    /// ADF's spellings.
    pub const NAMES: &'static [&'static str] = &["Succeeded", "Failed", "Skipped", "Completed"];

    fn parse(node: &Node<'_>) -> Result<Condition, ConfigError> {
        Ok(match node.as_enum(Self::NAMES)? {
            "Succeeded" => Condition::Succeeded,
            "Failed" => Condition::Failed,
            "Skipped" => Condition::Skipped,
            _ => Condition::Completed,
        })
    }
}

/// One `dependsOn` entry: the conditions are alternatives; several entries must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The activity depended on.
    pub activity: String,
    /// `dependencyConditions` (alternatives).
    pub conditions: Vec<Condition>,
    /// JSONPath of the entry.
    pub path: String,
}

/// An activity's `state`: `Inactive` activities do not run and end as `onInactiveMarkAs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveMark {
    /// `Succeeded` (ADF's default).
    Succeeded,
    /// `Failed`.
    Failed,
    /// `Skipped`.
    Skipped,
}

/// One activity of a pipeline.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The activity's name.
    pub name: String,
    /// Where the activity object is, e.g. `$.properties.activities[0]`.
    pub origin: Origin,
    /// The ADF activity `type`, as written.
    pub activity_type: String,
    /// `dependsOn`.
    pub depends_on: Vec<Dependency>,
    /// `state: Inactive` with its `onInactiveMarkAs`; `None` for an active activity.
    pub inactive: Option<InactiveMark>,
    /// The whole activity object, unevaluated.
    pub raw: RawProperties,
    /// The type and its properties.
    pub kind: ActivityKind,
}

impl Activity {
    /// The ADF activity `type`.
    pub fn type_name(&self) -> &str {
        &self.activity_type
    }

    /// The names of the datasets this activity references, with the JSONPath of each
    /// reference (reference names are never expressions).
    pub fn dataset_references(&self) -> Vec<(String, String)> {
        let node = self.raw.node();
        let mut out = Vec::new();
        for key in ["inputs", "outputs"] {
            if let Some(list) = node.field(key).and_then(|n| n.as_array().ok()) {
                for r in list {
                    if let Some(name) = r.value.get("referenceName").and_then(Value::as_str) {
                        out.push((name.to_string(), r.key_path("referenceName")));
                    }
                }
            }
        }
        if let Some(ds) = node
            .field("typeProperties")
            .and_then(|tp| tp.field("dataset"))
            && let Some(name) = ds.value.get("referenceName").and_then(Value::as_str)
        {
            out.push((name.to_string(), ds.key_path("referenceName")));
        }
        out
    }
}

/// An activity's type and validated properties.
#[derive(Debug, Clone)]
pub enum ActivityKind {
    /// `Copy` (boxed: it is much larger than the other kinds).
    Copy(Box<CopyActivity>),
    /// `Lookup` (boxed, as Copy).
    Lookup(Box<LookupActivity>),
    /// A Copy or Lookup whose properties hold expressions: read when it runs, once evaluated.
    Dynamic,
    /// `ForEach`: `items`, `isSequential` and `batchCount` are read from `raw` when it runs.
    ForEach(Vec<Activity>),
    /// `IfCondition`: `expression` is read from `raw` when it runs.
    IfCondition {
        /// `ifTrueActivities`.
        if_true: Vec<Activity>,
        /// `ifFalseActivities`.
        if_false: Vec<Activity>,
    },
    /// `SetVariable` of `variableName` (its `value` is read when it runs).
    SetVariable(String),
    /// `AppendVariable` to `variableName` (its `value` is read when it runs).
    AppendVariable(String),
    /// `Wait` (`waitTimeInSeconds` is read when it runs).
    Wait,
    /// `Fail` (`message` and `errorCode` are read when it runs).
    Fail,
    /// Any other ADF activity type (Execute Pipeline, Web, ...): running it is an error.
    Unsupported,
}

impl ActivityKind {
    /// The inner activity lists of a container.
    pub fn inner(&self) -> Vec<&[Activity]> {
        match self {
            ActivityKind::ForEach(list) => vec![list.as_slice()],
            ActivityKind::IfCondition { if_true, if_false } => {
                vec![if_true.as_slice(), if_false.as_slice()]
            }
            _ => Vec::new(),
        }
    }
}

/// A Copy activity.
#[derive(Debug, Clone)]
pub struct CopyActivity {
    /// Dataset name from `inputs[0].referenceName` (exactly one input).
    pub input: String,
    /// `inputs[0].parameters`: values passed to the input dataset's parameters.
    pub input_parameters: Map<String, Value>,
    /// Dataset name from `outputs[0].referenceName` (exactly one output).
    pub output: String,
    /// `outputs[0].parameters`.
    pub output_parameters: Map<String, Value>,
    /// `typeProperties.source`.
    pub source: CopySource,
    /// `typeProperties.sink`.
    pub sink: CopySink,
    /// `typeProperties.parallelCopies`, 1..=256.
    pub parallel_copies: Option<usize>,
    /// `typeProperties.dataIntegrationUnits`: accepted and ignored.
    pub data_integration_units: Option<u32>,
    /// `policy`: retries.
    pub policy: ActivityPolicy,
}

/// A Copy or Lookup activity's `source`. Its properties are validated by the
/// connector for `kind`.
#[derive(Debug, Clone)]
pub struct CopySource {
    /// `source.type`, e.g. `QuiverSyntheticSource`, `ImpalaSource`,
    /// `SparkSource`, `ParquetSource`.
    pub kind: String,
    /// `source.query`, if set.
    pub query: Option<String>,
    /// The whole `source` object; `raw.origin` is where it is.
    pub raw: RawProperties,
}

/// A Copy activity's `sink`. Its properties are read by the connector for `kind`.
#[derive(Debug, Clone)]
pub struct CopySink {
    /// `sink.type`, e.g. `ParquetSink`.
    pub kind: String,
    /// The whole `sink` object; `raw.origin` is where it is.
    pub raw: RawProperties,
    /// The owning connector's typed reading of `raw`, once checked.
    pub typed: TypedSlot,
}

/// A Lookup activity.
#[derive(Debug, Clone)]
pub struct LookupActivity {
    /// `typeProperties.dataset.referenceName`.
    pub dataset: String,
    /// `typeProperties.dataset.parameters`.
    pub dataset_parameters: Map<String, Value>,
    /// `typeProperties.source`.
    pub source: CopySource,
    /// `typeProperties.firstRowOnly`, default true.
    pub first_row_only: bool,
    /// `policy`: retries.
    pub policy: ActivityPolicy,
}

/// Reads one pipeline definition (`{"name": ..., "properties": ...}`).
pub(crate) fn parse(def: &Node<'_>) -> Result<Pipeline, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let activities = parse_list(&props, "activities", &name, &mut Vec::new())?;
    props.note_unused_keys(
        &["activities", "parameters", "variables"],
        &[
            "description",
            "annotations",
            "folder",
            "concurrency",
            "policy",
            "runDimensions",
            "lastPublishTime",
        ],
    );
    Ok(Pipeline {
        name,
        origin: def.origin(),
        parameters: Parameters::parse(&props, "parameters")?,
        variables: Parameters::parse(&props, "variables")?,
        activities,
    })
}

/// Reads an activity list; `seen` holds every activity name of the pipeline so far (ADF
/// requires names to be unique across the whole pipeline, nested ones included).
fn parse_list(
    node: &Node<'_>,
    key: &str,
    pipeline: &str,
    seen: &mut Vec<(String, Origin)>,
) -> Result<Vec<Activity>, ConfigError> {
    let mut activities = Vec::new();
    for item in node.array(key)? {
        let activity = parse_activity(&item, pipeline, seen)?;
        activities.push(activity);
    }
    Ok(activities)
}

/// Reads one activity (and its inner activities).
pub(crate) fn parse_activity(
    node: &Node<'_>,
    pipeline: &str,
    seen: &mut Vec<(String, Origin)>,
) -> Result<Activity, ConfigError> {
    node.as_object()?;
    let name = node.req_str("name")?.to_string();
    if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
        return Err(ConfigError::Duplicate {
            kind: "activity",
            name: format!("{pipeline}/{name}"),
            first: first.file.clone(),
            second: node.file.to_path_buf(),
        });
    }
    seen.push((name.clone(), node.origin()));
    let activity_type = node.req_str("type")?.to_string();
    let depends_on = parse_depends_on(node)?;
    let inactive = parse_state(node)?;
    let kind = match activity_type.to_ascii_lowercase().as_str() {
        "copy" | "lookup" if params::holds_expressions(node, &["dependsOn"]) => {
            ActivityKind::Dynamic
        }
        "copy" => ActivityKind::Copy(Box::new(parse_copy(node)?)),
        "lookup" => ActivityKind::Lookup(Box::new(parse_lookup(node)?)),
        "foreach" => {
            let tp = node.req_object("typeProperties")?;
            tp.req("items", "an expression giving an array, e.g. {\"value\": \"@pipeline().parameters.tables\", \"type\": \"Expression\"}")?;
            ActivityKind::ForEach(parse_list(&tp, "activities", pipeline, seen)?)
        }
        "ifcondition" => {
            let tp = node.req_object("typeProperties")?;
            tp.req("expression", "an expression giving a boolean")?;
            ActivityKind::IfCondition {
                if_true: parse_list(&tp, "ifTrueActivities", pipeline, seen)?,
                if_false: parse_list(&tp, "ifFalseActivities", pipeline, seen)?,
            }
        }
        "setvariable" | "appendvariable" => {
            let tp = node.req_object("typeProperties")?;
            let variable = tp.req_str("variableName")?.to_string();
            // `setSystemVariable` (a pipeline return value) has no variable to set.
            if activity_type.eq_ignore_ascii_case("setvariable") {
                ActivityKind::SetVariable(variable)
            } else {
                ActivityKind::AppendVariable(variable)
            }
        }
        "wait" => ActivityKind::Wait,
        "fail" => {
            let tp = node.req_object("typeProperties")?;
            tp.req("message", "the failure message")?;
            tp.req("errorCode", "the error code")?;
            ActivityKind::Fail
        }
        _ => ActivityKind::Unsupported,
    };
    Ok(Activity {
        name,
        origin: node.origin(),
        activity_type,
        depends_on,
        inactive,
        raw: RawProperties::from_node(Some(node), node.origin()),
        kind,
    })
}

fn parse_depends_on(node: &Node<'_>) -> Result<Vec<Dependency>, ConfigError> {
    let mut out = Vec::new();
    for entry in node.array("dependsOn")? {
        let activity = entry.req_str("activity")?.to_string();
        let mut conditions = Vec::new();
        for c in entry.array("dependencyConditions")? {
            conditions.push(Condition::parse(&c)?);
        }
        if conditions.is_empty() {
            return Err(entry.missing(
                "dependencyConditions",
                "one or more of Succeeded, Failed, Skipped, Completed",
            ));
        }
        out.push(Dependency {
            activity,
            conditions,
            path: entry.path.clone(),
        });
    }
    Ok(out)
}

fn parse_state(node: &Node<'_>) -> Result<Option<InactiveMark>, ConfigError> {
    let Some(state) = node.field("state") else {
        return Ok(None);
    };
    if state.as_enum(&["Active", "Inactive"])? == "Active" {
        return Ok(None);
    }
    let mark = match node.field("onInactiveMarkAs") {
        None => InactiveMark::Succeeded,
        Some(m) => match m.as_enum(&["Succeeded", "Failed", "Skipped"])? {
            "Failed" => InactiveMark::Failed,
            "Skipped" => InactiveMark::Skipped,
            _ => InactiveMark::Succeeded,
        },
    };
    Ok(Some(mark))
}

/// Reads an evaluated (or expression-free) Copy or Lookup activity into its kind.
pub fn parse_runnable(node: &Node<'_>) -> Result<ActivityKind, ConfigError> {
    let activity_type = node.req_str("type")?;
    match activity_type.to_ascii_lowercase().as_str() {
        "copy" => Ok(ActivityKind::Copy(Box::new(parse_copy(node)?))),
        "lookup" => Ok(ActivityKind::Lookup(Box::new(parse_lookup(node)?))),
        _ => Err(node.req("type", "Copy or Lookup")?.invalid(
            activity_type,
            "only Copy and Lookup activities read datasets",
            &["Copy", "Lookup"],
        )),
    }
}

/// A reference's `parameters` object (absent: none).
fn reference_parameters(reference: &Node<'_>) -> Result<Map<String, Value>, ConfigError> {
    Ok(reference
        .opt_object("parameters")?
        .map(|p| p.value.as_object().cloned().unwrap_or_default())
        .unwrap_or_default())
}

/// The dataset named by the single element of the `key` array.
fn single_reference(
    activity: &Node<'_>,
    key: &str,
) -> Result<(String, Map<String, Value>), ConfigError> {
    const EXPECTED: &str = "exactly one dataset reference, e.g. [{\"referenceName\": \"MyDataset\", \"type\": \"DatasetReference\"}]";
    let Some(node) = activity.field(key) else {
        return Err(activity.missing(key, EXPECTED));
    };
    match node.as_array()?.as_slice() {
        [] => Err(activity.missing(key, EXPECTED)),
        [one] => Ok((
            one.req_str("referenceName")?.to_string(),
            reference_parameters(one)?,
        )),
        more => Err(node.invalid(
            &format!("{} datasets", more.len()),
            "quiver copies exactly one dataset per Copy activity; use one activity per dataset",
            &[],
        )),
    }
}

fn parse_copy(activity: &Node<'_>) -> Result<CopyActivity, ConfigError> {
    let (input, input_parameters) = single_reference(activity, "inputs")?;
    let (output, output_parameters) = single_reference(activity, "outputs")?;
    let tp = activity.req_object("typeProperties")?;
    let source = parse_source(&tp.req_object("source")?)?;
    let sink = parse_sink(&tp.req_object("sink")?)?;
    let parallel_copies = tp
        .opt_u64_in("parallelCopies", 1..=256)?
        .map(|v| v as usize);
    // ADF's minimum is 0 ("auto"), as its templates write.
    let data_integration_units = tp
        .opt_u64_in("dataIntegrationUnits", 0..=u64::from(u32::MAX))?
        .map(|v| v as u32);
    tp.note_unused_keys(
        &["source", "sink", "parallelCopies", "dataIntegrationUnits"],
        &[
            "enableStaging",
            "stagingSettings",
            "translator",
            "enableSkipIncompatibleRow",
            "logSettings",
            "validateDataConsistency",
            "preserve",
            "preserveRules",
            "skipErrorFile",
            "redirectIncompatibleRowSettings",
            "logStorageSettings",
        ],
    );
    let policy = policy::parse(activity)?;
    Ok(CopyActivity {
        input,
        input_parameters,
        output,
        output_parameters,
        source,
        sink,
        parallel_copies,
        data_integration_units,
        policy,
    })
}

fn parse_lookup(activity: &Node<'_>) -> Result<LookupActivity, ConfigError> {
    let tp = activity.req_object("typeProperties")?;
    let reference = tp.req_object("dataset")?;
    let dataset = reference.req_str("referenceName")?.to_string();
    let dataset_parameters = reference_parameters(&reference)?;
    let source = parse_source(&tp.req_object("source")?)?;
    let first_row_only = tp.opt_bool("firstRowOnly")?.unwrap_or(true);
    tp.warn_unknown_keys(&["dataset", "source", "firstRowOnly"]);
    Ok(LookupActivity {
        dataset,
        dataset_parameters,
        source,
        first_row_only,
        policy: policy::parse(activity)?,
    })
}

impl CopySource {
    /// Reads an activity's `source` object.
    pub fn parse(source: &Node<'_>) -> Result<CopySource, ConfigError> {
        parse_source(source)
    }
}

impl CopySink {
    /// Reads a Copy activity's `sink` object.
    pub fn parse(sink: &Node<'_>) -> Result<CopySink, ConfigError> {
        parse_sink(sink)
    }
}

fn parse_source(source: &Node<'_>) -> Result<CopySource, ConfigError> {
    let kind = source.req_str("type")?.to_string();
    let query = source.opt_str("query")?.map(str::to_string);
    Ok(CopySource {
        kind,
        query,
        raw: RawProperties::from_node(Some(source), source.origin()),
    })
}

fn parse_sink(sink: &Node<'_>) -> Result<CopySink, ConfigError> {
    let kind = sink
        .req("type", "the sink type, \"ParquetSink\"")?
        .as_str()?
        .to_string();
    Ok(CopySink {
        kind,
        raw: RawProperties::from_node(Some(sink), sink.origin()),
        typed: TypedSlot::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn pipeline(activities: serde_json::Value) -> Result<Pipeline, ConfigError> {
        let v = json!({"name": "P", "properties": {"activities": activities}});
        parse(&Node::root(&v, Path::new("p.json")))
    }

    fn copy(tp: serde_json::Value) -> serde_json::Value {
        json!([{"name": "C", "type": "Copy",
            "inputs": [{"referenceName": "in", "type": "DatasetReference"}],
            "outputs": [{"referenceName": "out", "type": "DatasetReference"}],
            "typeProperties": tp}])
    }

    #[test]
    fn copy_lookup_and_unsupported() {
        let p = pipeline(json!([
            {"name": "C", "type": "Copy",
             "inputs": [{"referenceName": "in"}], "outputs": [{"referenceName": "out"}],
             "typeProperties": {
                "source": {"type": "ImpalaSource", "query": "select 1"},
                "sink": {"type": "ParquetSink",
                    "formatSettings": {"type": "ParquetWriteSettings", "maxRowsPerFile": 10, "fileNamePrefix": "part"},
                    "storeSettings": {"type": "AzureBlobStorageWriteSettings", "maxConcurrentConnections": 3}},
                "parallelCopies": 8, "dataIntegrationUnits": 4}},
            {"name": "L", "type": "Lookup", "typeProperties": {
                "dataset": {"referenceName": "in"}, "source": {"type": "ImpalaSource"}, "firstRowOnly": false}},
            {"name": "F", "type": "ForEach", "typeProperties": {"items": "@x"}}
        ]))
        .unwrap();
        let ActivityKind::Copy(c) = &p.activities[0].kind else {
            panic!()
        };
        assert_eq!((c.input.as_str(), c.output.as_str()), ("in", "out"));
        assert_eq!(c.source.kind, "ImpalaSource");
        assert_eq!(c.source.query.as_deref(), Some("select 1"));
        assert_eq!(
            c.source.raw.origin.path,
            "$.properties.activities[0].typeProperties.source"
        );
        assert_eq!(c.parallel_copies, Some(8));
        assert_eq!(c.data_integration_units, Some(4));
        assert_eq!(c.policy, ActivityPolicy::default());
        // The sink's settings are read by its connector (see connectors::parquet::adf).
        assert_eq!(c.sink.kind, "ParquetSink");
        assert_eq!(
            c.sink.raw.origin.path,
            "$.properties.activities[0].typeProperties.sink"
        );
        assert!(!c.sink.typed.is_set());
        let format = c.sink.raw.node().req_object("formatSettings").unwrap();
        assert_eq!(format.opt_u64("maxRowsPerFile").unwrap(), Some(10));
        let ActivityKind::Lookup(l) = &p.activities[1].kind else {
            panic!()
        };
        assert!(!l.first_row_only);
        assert_eq!(p.activities[2].type_name(), "ForEach");
        assert_eq!(p.activities[2].origin.path, "$.properties.activities[2]");
    }

    #[test]
    fn sink_and_copy_errors() {
        let e = pipeline(copy(json!({"source": {"type": "X"}, "sink": {}}))).unwrap_err();
        assert!(matches!(e, ConfigError::Missing { ref path, expected, .. }
            if path == "$.properties.activities[0].typeProperties.sink.type" && expected.contains("ParquetSink")));
        let e = pipeline(copy(
            json!({"source": {"type": "X"}, "sink": {"type": "ParquetSink"}, "parallelCopies": 0}),
        ))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, ref value, .. }
            if path == "$.properties.activities[0].typeProperties.parallelCopies" && value == "0")
        );
    }

    #[test]
    fn copy_policy() {
        let mut activities =
            copy(json!({"source": {"type": "X"}, "sink": {"type": "ParquetSink"}}));
        activities[0]["policy"] = json!({"timeout": "0.12:00:00", "retry": 2,
            "retryIntervalInSeconds": 45, "secureOutput": false, "secureInput": false});
        let p = pipeline(activities.clone()).unwrap();
        let ActivityKind::Copy(c) = &p.activities[0].kind else {
            panic!()
        };
        assert_eq!(
            c.policy,
            ActivityPolicy {
                retry: 2,
                retry_interval_in_seconds: 45
            }
        );
        activities[0]["policy"]["retryIntervalInSeconds"] = json!(10);
        assert!(matches!(pipeline(activities).unwrap_err(),
            ConfigError::InvalidValue { ref path, .. }
            if path == "$.properties.activities[0].policy.retryIntervalInSeconds"));
    }

    #[test]
    fn references_and_duplicates() {
        let e = pipeline(
            json!([{"name": "C", "type": "Copy", "outputs": [{"referenceName": "o"}],
            "typeProperties": {}}]),
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Missing { ref path, .. } if path == "$.properties.activities[0].inputs")
        );
        let e = pipeline(json!([
            {"name": "A", "type": "Wait"}, {"name": "A", "type": "Wait"}
        ]))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Duplicate { kind: "activity", ref name, .. } if name == "P/A")
        );
        let e = pipeline(json!([{"name": "C", "type": "Copy",
            "inputs": [{"referenceName": "a"}, {"referenceName": "b"}],
            "outputs": [{"referenceName": "o"}], "typeProperties": {}}]))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, .. } if path == "$.properties.activities[0].inputs")
        );
    }

    #[test]
    fn activities_with_expressions_are_read_when_they_run() {
        let p = pipeline(copy(json!({"source": {"type": "ImpalaSource",
            "query": "@concat('select ', pipeline().parameters.cols)"}, "sink": {"type": "ParquetSink"}})))
        .unwrap();
        assert!(matches!(p.activities[0].kind, ActivityKind::Dynamic));
        // Once evaluated, the same object reads as a Copy activity.
        let mut evaluated = copy(json!({"source": {"type": "ImpalaSource",
            "query": "@literal text"}, "sink": {"type": "ParquetSink"}}))[0]
            .clone();
        evaluated["inputs"][0]["parameters"] = json!({"table": "t1"});
        let node = Node::evaluated(&evaluated, Path::new("p.json"), "$.x");
        let ActivityKind::Copy(c) = parse_runnable(&node).unwrap() else {
            panic!()
        };
        assert_eq!(c.source.query.as_deref(), Some("@literal text"));
        assert_eq!(c.input_parameters.get("table"), Some(&json!("t1")));
    }

    #[test]
    fn control_flow_dependencies_and_nesting() {
        let p = pipeline(json!([
            {"name": "L", "type": "Lookup", "typeProperties": {
                "dataset": {"referenceName": "d", "parameters": {"t": "x"}}, "source": {"type": "S"}}},
            {"name": "F", "type": "ForEach",
             "dependsOn": [{"activity": "L", "dependencyConditions": ["succeeded", "Skipped"]}],
             "typeProperties": {"items": {"value": "@activity('L').output.value", "type": "Expression"},
                "isSequential": "false", "batchCount": 4,
                "activities": [{"name": "Inner", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}},
            {"name": "I", "type": "IfCondition", "state": "Inactive", "onInactiveMarkAs": "skipped",
             "typeProperties": {"expression": {"value": "@true", "type": "Expression"},
                "ifTrueActivities": [{"name": "Boom", "type": "Fail", "typeProperties": {"message": "m", "errorCode": "42"}}]}},
            {"name": "S", "type": "SetVariable", "typeProperties": {"variableName": "v", "value": "x"}},
            {"name": "X", "type": "ExecutePipeline"}
        ]))
        .unwrap();
        let ActivityKind::Lookup(l) = &p.activities[0].kind else {
            panic!()
        };
        assert_eq!(l.dataset_parameters.get("t"), Some(&json!("x")));
        let f = &p.activities[1];
        assert_eq!(
            f.depends_on,
            vec![Dependency {
                activity: "L".into(),
                conditions: vec![Condition::Succeeded, Condition::Skipped],
                path: "$.properties.activities[1].dependsOn[0]".into()
            }]
        );
        let ActivityKind::ForEach(inner) = &f.kind else {
            panic!()
        };
        assert_eq!(inner[0].name, "Inner");
        assert_eq!(
            inner[0].origin.path,
            "$.properties.activities[1].typeProperties.activities[0]"
        );
        assert_eq!(p.activities[2].inactive, Some(InactiveMark::Skipped));
        assert!(matches!(&p.activities[3].kind, ActivityKind::SetVariable(v) if v == "v"));
        assert!(matches!(p.activities[4].kind, ActivityKind::Unsupported));
        let names: Vec<&str> = p.all_activities().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["L", "F", "Inner", "I", "Boom", "S", "X"]);
        assert_eq!(p.activities[0].dataset_references()[0].0, "d");
        // Names are unique across nesting levels.
        let e = pipeline(json!([
            {"name": "A", "type": "Wait"},
            {"name": "F", "type": "ForEach", "typeProperties": {"items": "@x", "activities": [{"name": "A", "type": "Wait"}]}}
        ]))
        .unwrap_err();
        assert!(matches!(e, ConfigError::Duplicate { ref name, .. } if name == "P/A"));
        let e = pipeline(json!([{"name": "A", "type": "Wait",
            "dependsOn": [{"activity": "B", "dependencyConditions": ["Sometimes"]}]}]))
        .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidValue { ref path, .. }
            if path == "$.properties.activities[0].dependsOn[0].dependencyConditions[0]"));
    }
}
