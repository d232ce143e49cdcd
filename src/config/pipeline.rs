//! Pipelines and their activities.
//!
//! Copy and Lookup activities are read in full; any other activity type is
//! kept as [`ActivityKind::Unsupported`] so that a factory using, say, ForEach
//! still loads (the CLI refuses only if asked to run such an activity).

use super::error::ConfigError;
use super::json::Node;
use super::origin::{Origin, RawProperties};
use super::policy::{self, ActivityPolicy};
use super::typed::TypedSlot;

/// One pipeline of the factory.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.activities`, in order.
    pub activities: Vec<Activity>,
}

impl Pipeline {
    /// The activity called `name`, or `NotFound` listing this pipeline's
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
}

/// One activity of a pipeline.
#[derive(Debug, Clone)]
pub struct Activity {
    /// The activity's name.
    pub name: String,
    /// Where the activity object is, e.g. `$.properties.activities[0]`.
    pub origin: Origin,
    /// The type and its properties.
    pub kind: ActivityKind,
}

impl Activity {
    /// The ADF activity `type`.
    pub fn type_name(&self) -> &str {
        match &self.kind {
            ActivityKind::Copy(_) => "Copy",
            ActivityKind::Lookup(_) => "Lookup",
            ActivityKind::Unsupported { activity_type } => activity_type,
        }
    }
}

/// An activity's type and validated properties.
#[derive(Debug, Clone)]
pub enum ActivityKind {
    /// `Copy` (boxed: it is much larger than the other kinds).
    Copy(Box<CopyActivity>),
    /// `Lookup`.
    Lookup(LookupActivity),
    /// Any other ADF activity type (ForEach, SetVariable, ...).
    Unsupported {
        /// The ADF activity type.
        activity_type: String,
    },
}

/// A Copy activity.
#[derive(Debug, Clone)]
pub struct CopyActivity {
    /// Dataset name from `inputs[0].referenceName` (exactly one input).
    pub input: String,
    /// Dataset name from `outputs[0].referenceName` (exactly one output).
    pub output: String,
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
    /// `typeProperties.source`.
    pub source: CopySource,
    /// `typeProperties.firstRowOnly`, default true.
    pub first_row_only: bool,
}

/// Reads one pipeline definition (`{"name": ..., "properties": ...}`).
pub(crate) fn parse(def: &Node<'_>) -> Result<Pipeline, ConfigError> {
    def.as_object()?;
    let name = def.req_str("name")?.to_string();
    let props = def.req_object("properties")?;
    let mut activities: Vec<Activity> = Vec::new();
    for node in props.array("activities")? {
        let activity = parse_activity(&node)?;
        if let Some(first) = activities.iter().find(|a| a.name == activity.name) {
            return Err(ConfigError::Duplicate {
                kind: "activity",
                name: format!("{name}/{}", activity.name),
                first: first.origin.file.clone(),
                second: activity.origin.file.clone(),
            });
        }
        activities.push(activity);
    }
    Ok(Pipeline {
        name,
        origin: def.origin(),
        activities,
    })
}

fn parse_activity(node: &Node<'_>) -> Result<Activity, ConfigError> {
    node.as_object()?;
    let name = node.req_str("name")?.to_string();
    let activity_type = node.req_str("type")?;
    let kind = match activity_type {
        "Copy" => ActivityKind::Copy(Box::new(parse_copy(node)?)),
        "Lookup" => ActivityKind::Lookup(parse_lookup(node)?),
        other => ActivityKind::Unsupported {
            activity_type: other.to_string(),
        },
    };
    Ok(Activity {
        name,
        origin: node.origin(),
        kind,
    })
}

/// The dataset named by the single element of the `key` array.
fn single_reference(activity: &Node<'_>, key: &str) -> Result<String, ConfigError> {
    const EXPECTED: &str = "exactly one dataset reference, e.g. [{\"referenceName\": \"MyDataset\", \"type\": \"DatasetReference\"}]";
    let Some(node) = activity.field(key) else {
        return Err(activity.missing(key, EXPECTED));
    };
    match node.as_array()?.as_slice() {
        [] => Err(activity.missing(key, EXPECTED)),
        [one] => Ok(one.req_str("referenceName")?.to_string()),
        more => Err(node.invalid(
            &format!("{} datasets", more.len()),
            "quiver copies exactly one dataset per Copy activity; use one activity per dataset",
            &[],
        )),
    }
}

fn parse_copy(activity: &Node<'_>) -> Result<CopyActivity, ConfigError> {
    let input = single_reference(activity, "inputs")?;
    let output = single_reference(activity, "outputs")?;
    let tp = activity.req_object("typeProperties")?;
    let source = parse_source(&tp.req_object("source")?)?;
    let sink = parse_sink(&tp.req_object("sink")?)?;
    let parallel_copies = tp
        .opt_u64_in("parallelCopies", 1..=256)?
        .map(|v| v as usize);
    let data_integration_units = tp
        .opt_u64_in("dataIntegrationUnits", 1..=u64::from(u32::MAX))?
        .map(|v| v as u32);
    tp.warn_unknown_keys(&["source", "sink", "parallelCopies", "dataIntegrationUnits"]);
    let policy = policy::parse(activity)?;
    Ok(CopyActivity {
        input,
        output,
        source,
        sink,
        parallel_copies,
        data_integration_units,
        policy,
    })
}

fn parse_lookup(activity: &Node<'_>) -> Result<LookupActivity, ConfigError> {
    let tp = activity.req_object("typeProperties")?;
    let dataset = tp
        .req_object("dataset")?
        .req_str("referenceName")?
        .to_string();
    let source = parse_source(&tp.req_object("source")?)?;
    let first_row_only = tp.opt_bool("firstRowOnly")?.unwrap_or(true);
    tp.warn_unknown_keys(&["dataset", "source", "firstRowOnly"]);
    Ok(LookupActivity {
        dataset,
        source,
        first_row_only,
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
    fn query_expressions_are_rejected() {
        let e = pipeline(copy(json!({"source": {"type": "ImpalaSource",
            "query": "@concat('select ', pipeline().parameters.cols)"}, "sink": {"type": "ParquetSink"}})))
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidValue { ref path, ref reason, .. }
            if path.ends_with("source.query") && reason.contains("expressions"))
        );
    }
}
