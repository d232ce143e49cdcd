//! Instances: one activity, evaluated for a run, with the datasets and linked services it
//! reads bound to the parameter values passed to them.
//!
//! ADF evaluates an activity's expressions when the activity starts, in the pipeline's scope
//! (parameters, variables, `item()`, earlier activities' outputs). The values on a dataset
//! reference (`"parameters": {...}`) are evaluated there too; then the dataset's own
//! expressions are evaluated with `dataset()` bound to those values, and its linked
//! service's with `linkedService()` bound to the values the dataset passes ("How to use
//! parameters, expressions and functions" and "Parameterize linked services" in ADF's docs).
//!
//! [`Factory::instantiate`] does exactly that and returns a small factory holding the
//! evaluated activity and definitions, read again in evaluated mode: the connectors then
//! check and plan it as they do any literal factory.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::error::ConfigError;
use super::eval::{self, Skip};
use super::expr::Scope;
use super::json::Node;
use super::pipeline::{self, Activity, ActivityKind, Pipeline};
use super::{Dataset, Factory, LinkedService};

/// A definition's scope: its own parameters, plus `pipeline()` of the run that uses it.
struct DefinitionScope<'a> {
    outer: &'a dyn Scope,
    dataset: Option<&'a Map<String, Value>>,
    linked_service: Option<&'a Map<String, Value>>,
}

impl Scope for DefinitionScope<'_> {
    fn pipeline(&self) -> Option<&Value> {
        self.outer.pipeline()
    }
    fn dataset(&self) -> Option<&Map<String, Value>> {
        self.dataset
    }
    fn linked_service(&self) -> Option<&Map<String, Value>> {
        self.linked_service
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.outer.now()
    }
    fn note_secret(&self, value: &str) {
        self.outer.note_secret(value)
    }
}

/// Binds `params` to the values `passed` at `passed_at` (see [`super::Parameters::bind`]),
/// and hands the values of its SecureString parameters to the run (see
/// [`Scope::note_secret`]).
fn bind(
    params: &super::Parameters,
    passed: &Map<String, Value>,
    what: &str,
    passed_at: &str,
    scope: &dyn Scope,
) -> Result<Map<String, Value>, ConfigError> {
    let bound = params.bind(passed, what, passed_at)?;
    for secret in params.secure_values(&bound) {
        scope.note_secret(secret);
    }
    Ok(bound)
}

impl Factory {
    /// The factory one run of `activity` (a Copy or Lookup of `pipeline`) sees: the activity
    /// evaluated in `scope`, and the datasets and linked services it reads, bound to the
    /// values passed to them and evaluated. Definitions without parameters or expressions
    /// are shared as they are. Errors name the file, JSONPath and expression.
    pub fn instantiate(
        &self,
        pipeline: &Pipeline,
        activity: &Activity,
        scope: &dyn Scope,
    ) -> Result<Factory, ConfigError> {
        let kind = match &activity.kind {
            ActivityKind::Copy(_) | ActivityKind::Lookup(_) => activity.kind.clone(),
            ActivityKind::Dynamic => {
                let node = activity.raw.node();
                let value = eval::evaluate(&node, scope, Skip::default())?;
                let evaluated = Node::evaluated(&value, node.file, node.path.clone());
                pipeline::parse_runnable(&evaluated)?
            }
            _ => {
                return Err(ConfigError::UnsupportedActivity {
                    pipeline: pipeline.name.clone(),
                    activity: activity.name.clone(),
                    activity_type: activity.activity_type.clone(),
                    expected: "Copy or Lookup",
                });
            }
        };
        let mut out = Instances::new(self);
        let kind = match kind {
            ActivityKind::Copy(mut copy) => {
                let at = format!(
                    "{} {}.inputs[0].parameters",
                    file(activity),
                    activity.origin.path
                );
                copy.input = out.dataset(&copy.input, &copy.input_parameters, &at, scope)?;
                let at = format!(
                    "{} {}.outputs[0].parameters",
                    file(activity),
                    activity.origin.path
                );
                copy.output = out.dataset(&copy.output, &copy.output_parameters, &at, scope)?;
                ActivityKind::Copy(copy)
            }
            ActivityKind::Lookup(mut lookup) => {
                let at = format!(
                    "{} {}.typeProperties.dataset.parameters",
                    file(activity),
                    activity.origin.path
                );
                lookup.dataset =
                    out.dataset(&lookup.dataset, &lookup.dataset_parameters, &at, scope)?;
                ActivityKind::Lookup(lookup)
            }
            _ => unreachable!("parse_runnable gives Copy or Lookup"),
        };
        let instance = Activity {
            kind,
            depends_on: Vec::new(),
            ..activity.clone()
        };
        let mut pipelines = BTreeMap::new();
        pipelines.insert(
            pipeline.name.clone(),
            Pipeline {
                activities: vec![instance],
                ..pipeline.clone()
            },
        );
        Ok(Factory {
            root: self.root.clone(),
            name: self.name.clone(),
            global_parameters: self.global_parameters.clone(),
            credentials: self.credentials.clone(),
            linked_services: out.linked_services,
            datasets: out.datasets,
            pipelines,
        })
    }
}

fn file(activity: &Activity) -> String {
    activity.origin.file.display().to_string()
}

/// The evaluated definitions of one instance, by (possibly suffixed) name.
struct Instances<'f> {
    factory: &'f Factory,
    datasets: BTreeMap<String, Dataset>,
    linked_services: BTreeMap<String, LinkedService>,
}

impl<'f> Instances<'f> {
    fn new(factory: &'f Factory) -> Self {
        Instances {
            factory,
            datasets: BTreeMap::new(),
            linked_services: BTreeMap::new(),
        }
    }

    /// Adds the dataset `name` bound to `passed`; returns the name it has in the instance
    /// (the same, unless the same dataset is used twice with different values).
    fn dataset(
        &mut self,
        name: &str,
        passed: &Map<String, Value>,
        passed_at: &str,
        scope: &dyn Scope,
    ) -> Result<String, ConfigError> {
        let ds = self.factory.dataset(name)?;
        let params = bind(
            &ds.parameters,
            passed,
            &format!("dataset {name:?}"),
            passed_at,
            scope,
        )?;
        let mut instance = if ds.dynamic {
            let dscope = DefinitionScope {
                outer: scope,
                dataset: Some(&params),
                linked_service: None,
            };
            Dataset::parse(&evaluated_definition(&ds.name, &ds.raw, &dscope)?.node())?
        } else {
            ds.clone()
        };
        let at = format!(
            "{} {}.properties.linkedServiceName.parameters",
            ds.origin.file.display(),
            ds.origin.path
        );
        instance.linked_service = self.linked_service(
            &instance.linked_service,
            &instance.linked_service_parameters.clone(),
            &at,
            scope,
        )?;
        Ok(insert(
            &mut self.datasets,
            instance,
            |d| &mut d.name,
            same_dataset,
        ))
    }

    fn linked_service(
        &mut self,
        name: &str,
        passed: &Map<String, Value>,
        passed_at: &str,
        scope: &dyn Scope,
    ) -> Result<String, ConfigError> {
        let ls = self.factory.linked_service(name)?;
        let what = format!("linked service {name:?}");
        let params = bind(&ls.parameters, passed, &what, passed_at, scope)?;
        let instance = if ls.dynamic {
            let lscope = DefinitionScope {
                outer: scope,
                dataset: None,
                linked_service: Some(&params),
            };
            LinkedService::parse(&evaluated_definition(&ls.name, &ls.raw, &lscope)?.node())?
        } else {
            ls.clone()
        };
        Ok(insert(
            &mut self.linked_services,
            instance,
            |l| &mut l.name,
            |a, b| a.raw == b.raw && a.type_name == b.type_name,
        ))
    }
}

/// A definition (`{"name", "properties"}`) with its properties evaluated in `scope` (its
/// `parameters` declarations kept as written), ready to be read in evaluated mode at the
/// place the original came from.
struct EvaluatedDefinition {
    def: Value,
    file: std::path::PathBuf,
    path: String,
}

impl EvaluatedDefinition {
    fn node(&self) -> Node<'_> {
        Node::evaluated(&self.def, &self.file, self.path.clone())
    }
}

fn evaluated_definition(
    name: &str,
    raw: &super::RawProperties,
    scope: &dyn Scope,
) -> Result<EvaluatedDefinition, ConfigError> {
    let props = eval::evaluate(
        &raw.node(),
        scope,
        Skip {
            top_keys: &["parameters"],
        },
    )?;
    // `raw.origin` is the `properties` object; the definition is its parent.
    let path = raw
        .origin
        .path
        .strip_suffix(".properties")
        .unwrap_or("$")
        .to_string();
    Ok(EvaluatedDefinition {
        def: json!({"name": name, "properties": props}),
        file: raw.origin.file.clone(),
        path,
    })
}

fn same_dataset(a: &Dataset, b: &Dataset) -> bool {
    a.raw == b.raw && a.linked_service == b.linked_service
}

/// Inserts `item` under its name, or under `name[2]`, `name[3]`, ... when another instance
/// of the same definition with other values is there already; returns the name used.
fn insert<T>(
    map: &mut BTreeMap<String, T>,
    mut item: T,
    name: impl Fn(&mut T) -> &mut String,
    same: impl Fn(&T, &T) -> bool,
) -> String {
    let base = name(&mut item).clone();
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}[{n}]")
        };
        match map.get(&candidate) {
            Some(existing) if same(existing, &item) => return candidate,
            Some(_) => n += 1,
            None => {
                *name(&mut item) = candidate.clone();
                map.insert(candidate.clone(), item);
                return candidate;
            }
        }
    }
}
