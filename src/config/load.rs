//! Reading a factory from disk: an ADF git-layout folder or a bundle file.
//!
//! A folder contributes `linkedService/*.json`, `dataset/*.json` and
//! `pipeline/*.json` (one definition per file); everything else in it is
//! ignored. A bundle is one JSON file `{"linkedServices": [...], "datasets":
//! [...], "pipelines": [...]}` whose keys are all optional.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::ConfigError;
use super::json::Node;
use super::{Dataset, Factory, LinkedService, checks, pipeline, references};

/// The bundle's allowed top-level keys, in reading order.
const BUNDLE_KEYS: &[&str] = &["linkedServices", "datasets", "pipelines"];
/// The factory folder's subfolders, in reading order. ADF Studio's git layout also has
/// `trigger/`, `integrationRuntime/`, `managedVirtualNetwork/`, `managedPrivateEndpoint/`,
/// and ARM templates at the top (`ARMTemplateForFactory.json`, `linkedTemplates/`): quiver
/// runs pipelines on demand and connects directly, so those are left unread.
const FOLDERS: &[&str] = &[
    "factory",
    "credential",
    "linkedService",
    "dataset",
    "pipeline",
];

pub(crate) fn load(path: &Path) -> Result<Factory, ConfigError> {
    let meta = fs::metadata(path).map_err(|source| ConfigError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        load_folder(path)
    } else {
        let text = read(path)?;
        parse_bundle(&text, path)
    }
}

fn read(file: &Path) -> Result<String, ConfigError> {
    let bytes = fs::read(file).map_err(|source| ConfigError::Io {
        file: file.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| ConfigError::Io {
        file: file.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text; save it as UTF-8",
        ),
    })
}

fn parse_json(text: &str, file: &Path) -> Result<Value, ConfigError> {
    // Editors on Windows may save JSON with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|source| ConfigError::Parse {
        file: file.to_path_buf(),
        line: source.line(),
        column: source.column(),
        source,
    })
}

/// Collects definitions, rejecting duplicate names.
struct Builder {
    factory: Factory,
}

impl Builder {
    fn new(root: &Path) -> Self {
        Builder {
            factory: Factory {
                root: root.to_path_buf(),
                name: None,
                global_parameters: serde_json::Map::new(),
                credentials: BTreeMap::new(),
                linked_services: BTreeMap::new(),
                datasets: BTreeMap::new(),
                pipelines: BTreeMap::new(),
            },
        }
    }

    fn add(&mut self, folder_or_key: &str, def: &Node<'_>) -> Result<(), ConfigError> {
        let f = &mut self.factory;
        match folder_or_key {
            "factory" => {
                def.as_object()?;
                f.name = Some(def.req_str("name")?.to_string());
                if let Some(props) = def.opt_object("properties")?
                    && let Some(globals) = props.opt_object("globalParameters")?
                {
                    for name in globals.as_object()?.keys() {
                        let g = globals.req_object(name)?;
                        let value = g.req("value", "the global parameter's value")?;
                        f.global_parameters
                            .insert(name.clone(), value.value.clone());
                    }
                }
                Ok(())
            }
            "credential" => {
                def.as_object()?;
                let name = def.req_str("name")?.to_string();
                let props = def.req_object("properties")?;
                let tp = props.opt_object("typeProperties")?;
                let text = |key: &str| match &tp {
                    Some(tp) => Ok(tp.opt_str(key)?.map(str::to_string)),
                    None => Ok(None),
                };
                let credential = crate::config::Credential {
                    name: name.clone(),
                    origin: def.origin(),
                    type_name: props.req_str("type")?.to_string(),
                    resource_id: text("resourceId")?,
                    client_id: text("clientId")?,
                };
                insert(&mut f.credentials, "credential", name, credential, |c| {
                    &c.origin.file
                })
            }
            "linkedService" | "linkedServices" => {
                let ls = LinkedService::parse(def)?;
                insert(
                    &mut f.linked_services,
                    "linked service",
                    ls.name.clone(),
                    ls,
                    |l| &l.origin.file,
                )
            }
            "dataset" | "datasets" => {
                let ds = Dataset::parse(def)?;
                insert(&mut f.datasets, "dataset", ds.name.clone(), ds, |d| {
                    &d.origin.file
                })
            }
            _ => {
                let p = pipeline::parse(def)?;
                insert(&mut f.pipelines, "pipeline", p.name.clone(), p, |p| {
                    &p.origin.file
                })
            }
        }
    }

    fn finish(self) -> Result<Factory, ConfigError> {
        references::check(&self.factory)?;
        checks::check(&self.factory)?;
        tracing::debug!(
            root = %self.factory.root.display(),
            linked_services = self.factory.linked_services.len(),
            datasets = self.factory.datasets.len(),
            pipelines = self.factory.pipelines.len(),
            "factory loaded"
        );
        Ok(self.factory)
    }
}

fn insert<T>(
    map: &mut BTreeMap<String, T>,
    kind: &'static str,
    name: String,
    item: T,
    file_of: impl Fn(&T) -> &PathBuf,
) -> Result<(), ConfigError> {
    if let Some(first) = map.get(&name) {
        return Err(ConfigError::Duplicate {
            kind,
            name,
            first: file_of(first).clone(),
            second: file_of(&item).clone(),
        });
    }
    map.insert(name, item);
    Ok(())
}

fn load_folder(root: &Path) -> Result<Factory, ConfigError> {
    let mut builder = Builder::new(root);
    let mut found_any = false;
    for folder in FOLDERS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        found_any = true;
        let io = |source| ConfigError::Io {
            file: dir.clone(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let is_json = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if is_json && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        for file in files {
            let text = read(&file)?;
            let value = parse_json(&text, &file)?;
            builder.add(folder, &Node::root(&value, &file))?;
        }
    }
    if !found_any {
        return Err(ConfigError::Io {
            file: root.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the folder has no factory/, linkedService/, dataset/ or pipeline/ subfolder; point quiver at an ADF factory folder (git layout) or a bundle file",
            ),
        });
    }
    builder.finish()
}

pub(crate) fn parse_bundle(text: &str, file: &Path) -> Result<Factory, ConfigError> {
    let value = parse_json(text, file)?;
    let root = Node::root(&value, file);
    let map = root.as_object()?;
    if let Some(key) = map.keys().find(|k| !BUNDLE_KEYS.contains(&k.as_str())) {
        return Err(ConfigError::UnknownKey {
            file: file.to_path_buf(),
            path: root.key_path(key),
            key: key.clone(),
            allowed: BUNDLE_KEYS,
        });
    }
    let mut builder = Builder::new(file);
    for key in BUNDLE_KEYS {
        for def in root.array(key)? {
            builder.add(key, &def)?;
        }
    }
    builder.finish()
}
