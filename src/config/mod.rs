//! Loading an Azure Data Factory factory, generically, before any I/O happens.
//!
//! [`load`] accepts either an ADF git-layout factory folder (its
//! `linkedService/`, `dataset/` and `pipeline/` subfolders; everything else is
//! ignored) or a bundle file `{"linkedServices": [...], "datasets": [...],
//! "pipelines": [...]}`. It checks what every definition has (names, `type`s,
//! references between definitions, activities' inputs, outputs and settings)
//! and keeps each linked service's, dataset's, source's and sink's own
//! properties raw. Errors name the file and a JSONPath, and say what to do;
//! they never contain secret values.
//!
//! This layer knows no connector. The connectors read the raw properties of
//! their types with [`Node`] (so their errors carry the same file and
//! JSONPath), and keep what they read in each definition's [`TypedSlot`];
//! `connectors::registry::validate` runs them all, and `plan::load` is
//! [`load`] followed by it, which is what callers use.
//!
//! Values may be ADF expressions, and definitions may declare parameters: `load` parses
//! every expression and checks what it reads (see `checks`), and
//! [`Factory::instantiate`] evaluates an activity and the definitions it uses for one run
//! (see `instance`).
//!
//! Properties quiver does not read are ignored with a `tracing` warning each; ADF
//! properties it has no use for (`connectVia`, `annotations`, ...) are listed at `info`.

mod checks;
mod dataset;
mod error;
pub mod eval;
pub mod expr;
mod instance;
pub mod json;
mod linked_service;
mod load;
mod origin;
mod params;
mod pipeline;
mod policy;
mod references;
mod scope;
mod secret;
mod typed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use dataset::Dataset;
pub use error::ConfigError;
pub use json::Node;
pub use linked_service::LinkedService;
pub use origin::{Origin, RawProperties};
pub use params::{ParamSpec, ParamType, Parameters, holds_expressions, is_expression};
pub use pipeline::{
    Activity, ActivityKind, Condition, CopyActivity, CopySink, CopySource, Dependency,
    InactiveMark, LookupActivity, Pipeline,
};
pub use policy::{
    ActivityPolicy, DEFAULT_RETRY_INTERVAL_SECONDS, MAX_RETRY_INTERVAL_SECONDS,
    MIN_RETRY_INTERVAL_SECONDS,
};
pub use scope::{Redactor, RunIdentity, RunScope};
pub use secret::{KeyVaultReference, Secret};
pub use typed::TypedSlot;

/// Loads a factory from a folder (ADF git layout) or a bundle file and checks
/// it generically (see the module docs); `plan::load` also runs the
/// connectors' checks.
pub fn load(path: &Path) -> Result<Factory, ConfigError> {
    load::load(path)
}

/// Parses a bundle given as text and checks it generically; `file` is used in
/// errors and as [`Factory::root`].
pub fn parse_bundle(text: &str, file: &Path) -> Result<Factory, ConfigError> {
    load::parse_bundle(text, file)
}

/// A loaded, validated factory. Names are matched exactly (ADF itself is
/// case-insensitive; lookup errors point out near misses).
#[derive(Debug, Clone)]
pub struct Factory {
    /// The folder or bundle file the factory was loaded from.
    pub root: PathBuf,
    /// The factory's name (from `factory/<name>.json`), for `pipeline().DataFactory`.
    pub name: Option<String>,
    /// The factory's global parameters (`properties.globalParameters` of
    /// `factory/<name>.json`), for `pipeline().globalParameters`.
    pub global_parameters: serde_json::Map<String, serde_json::Value>,
    /// The credentials (`credential/*.json`), by name.
    pub credentials: BTreeMap<String, Credential>,
    linked_services: BTreeMap<String, LinkedService>,
    datasets: BTreeMap<String, Dataset>,
    pipelines: BTreeMap<String, Pipeline>,
}

/// A credential of the factory (`credential/<name>.json`): a managed identity that linked
/// services refer to with a `CredentialReference`.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The credential's name.
    pub name: String,
    /// Where the definition was read from.
    pub origin: Origin,
    /// `properties.type`, e.g. `ManagedIdentity`.
    pub type_name: String,
    /// `properties.typeProperties.resourceId` of a user-assigned identity.
    pub resource_id: Option<String>,
    /// `properties.typeProperties.clientId`: quiver's way to name a user-assigned identity by
    /// its client id.
    pub client_id: Option<String>,
}

fn lookup<'f, T>(
    map: &'f BTreeMap<String, T>,
    what: &'static str,
    name: &str,
) -> Result<&'f T, ConfigError> {
    map.get(name).ok_or_else(|| ConfigError::NotFound {
        what,
        name: name.to_string(),
        available: map.keys().cloned().collect(),
    })
}

impl Factory {
    /// The linked service called `name`.
    pub fn linked_service(&self, name: &str) -> Result<&LinkedService, ConfigError> {
        lookup(&self.linked_services, "linked service", name)
    }

    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Result<&Dataset, ConfigError> {
        lookup(&self.datasets, "dataset", name)
    }

    /// The credential called `name`.
    pub fn credential(&self, name: &str) -> Result<&Credential, ConfigError> {
        lookup(&self.credentials, "credential", name)
    }

    /// The pipeline called `name`.
    pub fn pipeline(&self, name: &str) -> Result<&Pipeline, ConfigError> {
        lookup(&self.pipelines, "pipeline", name)
    }

    /// The linked service a dataset is bound to (always present in a
    /// loaded factory).
    pub fn linked_service_of(&self, dataset: &Dataset) -> Result<&LinkedService, ConfigError> {
        self.linked_service(&dataset.linked_service)
    }

    /// All linked services, by name.
    pub fn linked_services(&self) -> impl Iterator<Item = &LinkedService> {
        self.linked_services.values()
    }

    /// Every Azure Key Vault secret reference in the linked services, checked for shape.
    pub fn key_vault_references(&self) -> Result<Vec<KeyVaultReference>, ConfigError> {
        let mut out = Vec::new();
        for ls in self.linked_services.values() {
            out.extend(secret::key_vault_references(&ls.raw.node(), &ls.name)?);
        }
        Ok(out)
    }

    /// Puts a fetched secret where its Key Vault reference was, as a SecureString.
    pub fn put_secret(&mut self, reference: &KeyVaultReference, value: &Secret) {
        if let Some(slot) = self
            .linked_services
            .get_mut(&reference.linked_service)
            .and_then(|ls| ls.raw.value_mut().pointer_mut(&reference.pointer))
        {
            *slot = serde_json::json!({"type": "SecureString", "value": value.expose()});
        }
    }

    /// All datasets, by name.
    pub fn datasets(&self) -> impl Iterator<Item = &Dataset> {
        self.datasets.values()
    }

    /// All pipelines, by name.
    pub fn pipelines(&self) -> impl Iterator<Item = &Pipeline> {
        self.pipelines.values()
    }

    /// The pipeline called `name`; without a name, the only pipeline (an
    /// `Ambiguous` error asking for `--pipeline` if there are several).
    pub fn resolve_pipeline(&self, name: Option<&str>) -> Result<&Pipeline, ConfigError> {
        if let Some(name) = name {
            return self.pipeline(name);
        }
        let mut all = self.pipelines.values();
        match (all.next(), all.next()) {
            (Some(only), None) => Ok(only),
            (None, _) => Err(ConfigError::NotFound {
                what: "pipeline",
                name: String::new(),
                available: Vec::new(),
            }),
            _ => Err(ConfigError::Ambiguous {
                what: "pipeline",
                flag: "--pipeline",
                candidates: self.pipelines.keys().cloned().collect(),
            }),
        }
    }

    /// The activity called `activity`, in `pipeline` if given, else in
    /// whichever pipeline has it (an `Ambiguous` error asking for
    /// `--pipeline` if several do).
    pub fn find_activity(
        &self,
        pipeline: Option<&str>,
        activity: &str,
    ) -> Result<(&Pipeline, &Activity), ConfigError> {
        if let Some(name) = pipeline {
            let p = self.pipeline(name)?;
            return Ok((p, p.activity(activity)?));
        }
        let matches: Vec<(&Pipeline, &Activity)> = self
            .pipelines
            .values()
            .filter_map(|p| {
                p.activities
                    .iter()
                    .find(|a| a.name == activity)
                    .map(|a| (p, a))
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => {
                let mut available: Vec<String> = self
                    .pipelines
                    .values()
                    .flat_map(|p| p.activities.iter().map(|a| a.name.clone()))
                    .collect();
                available.sort();
                available.dedup();
                Err(ConfigError::NotFound {
                    what: "activity",
                    name: activity.to_string(),
                    available,
                })
            }
            several => Err(ConfigError::Ambiguous {
                what: "pipeline",
                flag: "--pipeline",
                candidates: several.iter().map(|(p, _)| p.name.clone()).collect(),
            }),
        }
    }

    /// The Copy activities to run: the named activity (which must be a Copy),
    /// or every Copy activity of the pipeline chosen as in
    /// [`Factory::resolve_pipeline`], in definition order.
    pub fn copy_activities(
        &self,
        pipeline: Option<&str>,
        activity: Option<&str>,
    ) -> Result<Vec<(&Pipeline, &Activity)>, ConfigError> {
        if let Some(activity) = activity {
            let (p, a) = self.find_activity(pipeline, activity)?;
            if !a.activity_type.eq_ignore_ascii_case("Copy") {
                return Err(ConfigError::UnsupportedActivity {
                    pipeline: p.name.clone(),
                    activity: a.name.clone(),
                    activity_type: a.type_name().to_string(),
                    expected: "Copy",
                });
            }
            return Ok(vec![(p, a)]);
        }
        let p = self.resolve_pipeline(pipeline)?;
        let copies: Vec<_> = p
            .activities
            .iter()
            .filter(|a| a.activity_type.eq_ignore_ascii_case("Copy"))
            .map(|a| (p, a))
            .collect();
        if copies.is_empty() {
            return Err(ConfigError::NoCopyActivity {
                file: p.origin.file.clone(),
                pipeline: p.name.clone(),
            });
        }
        Ok(copies)
    }
}
