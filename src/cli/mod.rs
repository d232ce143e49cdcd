//! The `quiver` command line: one file per subcommand, each turning its raw arguments into a
//! validated plan before any I/O.
//!
//! Exit codes (see [`ExitStatus`]): 0 success; 1 the work failed at run time (a server error,
//! a sink error); 2 bad usage (clap); 3 bad configuration, found before anything ran; 130
//! cancelled with Ctrl-C. A closed stdout (`quiver … | head`) ends quietly with 0.

pub mod bench;
pub mod copy;
pub mod lookup;
pub mod output;
pub mod progress;
pub mod run;
pub mod schema;
pub mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ConfigError;
use crate::engine::{EngineError, EngineOptions};
use crate::plan::PlanError;

/// Arrow-native bulk copies configured with Azure Data Factory JSON.
#[derive(Debug, Parser)]
#[command(name = "quiver", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Copy activities: read the source, write the sink, print the run summary.
    Copy(copy::CopyArgs),
    /// Run a Lookup activity and print ADF's Lookup output.
    Lookup(lookup::LookupArgs),
    /// Run a whole pipeline: dependencies, ForEach, If Condition, variables, Copy, Lookup.
    Run(run::RunArgs),
    /// Print each column's source type, interim type, Arrow type and any loss.
    Schema(DatasetArgs),
    /// Measure source throughput: read everything, discard it, report rows/s and MB/s.
    Bench(DatasetArgs),
    /// Serve every dataset over Arrow Flight SQL (and plain Flight) until SIGINT/SIGTERM.
    Serve(serve::ServeArgs),
}

/// Options every subcommand that reads takes.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Rows per batch.
    #[arg(long, default_value_t = crate::connectors::DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
    /// Batches buffered between each source partition and its consumer.
    #[arg(long, default_value_t = crate::engine::DEFAULT_CHANNEL_CAPACITY)]
    pub channel_capacity: usize,
    /// Partitions read at once (a Copy activity's parallelCopies overrides it); default: cores.
    #[arg(long)]
    pub parallel: Option<usize>,
}

impl EngineArgs {
    /// The engine options these arguments ask for.
    pub fn options(&self) -> EngineOptions {
        let mut o = EngineOptions {
            batch_size: self.batch_size.max(1),
            channel_capacity: self.channel_capacity.max(1),
            ..EngineOptions::default()
        };
        if let Some(p) = self.parallel {
            o.max_parallel_partitions = p.max(1);
        }
        o
    }
}

/// The factory argument: a folder in ADF's git layout or a bundle file.
#[derive(Debug, Clone, Args)]
pub struct FactoryArg {
    /// An ADF factory folder (linkedService/, dataset/, pipeline/) or a bundle JSON file.
    pub factory: PathBuf,
}

/// Checkpoint options of the subcommands that copy.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct CheckpointArgs {
    /// Continue the last failed or killed run of these copies from their checkpoints:
    /// finished partitions are kept, the others restart from their last durable point.
    #[arg(long, conflicts_with = "no_checkpoint")]
    pub resume: bool,
    /// Keep no checkpoint: a failed copy then removes what it staged and cannot be resumed.
    #[arg(long)]
    pub no_checkpoint: bool,
}

/// Pipeline parameters given on the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct ParamArgs {
    /// A pipeline parameter, NAME=VALUE (repeatable). The value converts to the parameter's
    /// declared type: `5` for an Int, `true` for a Bool, JSON text for an Array or Object.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// A JSON file of pipeline parameters, `{"name": value, ...}` (as `az datafactory
    /// pipeline create-run --parameters` takes them); --param values win over it.
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
}

fn parse_param(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "expected NAME=VALUE, got {arg:?}; for example --param tableName=sales"
        )),
    }
}

impl ParamArgs {
    /// The parameters: the file's, then each --param.
    pub fn values(&self) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
        let mut out = serde_json::Map::new();
        if let Some(file) = &self.params_file {
            let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Io {
                file: file.clone(),
                source,
            })?;
            let value: serde_json::Value =
                serde_json::from_str(&text).map_err(|source| ConfigError::Parse {
                    file: file.clone(),
                    line: source.line(),
                    column: source.column(),
                    source,
                })?;
            let serde_json::Value::Object(map) = value else {
                return Err(ConfigError::WrongType {
                    file: file.clone(),
                    path: "$".to_string(),
                    expected: "an object of parameter values, {\"name\": value}",
                    found: crate::config::json::type_name(&value),
                }
                .into());
            };
            out.extend(map);
        }
        for (name, value) in &self.params {
            out.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
        Ok(out)
    }
}

/// The arguments of subcommands that read one dataset (`schema`, `bench`).
#[derive(Debug, Args)]
pub struct DatasetArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The dataset to read.
    #[arg(long)]
    dataset: String,
    /// A query over the dataset (the source's query language, or SQL over the dataset's name).
    #[arg(long)]
    query: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

impl DatasetArgs {
    /// Loads the factory and plans the read of the dataset, with the query if one was given.
    pub async fn plan(&self) -> Result<crate::engine::query::QueryPlan, CliError> {
        let factory = crate::plan::load(&self.factory.factory)?;
        let dataset = factory.dataset(&self.dataset)?;
        let resolved =
            crate::plan::source::resolve_with_query(&factory, dataset, self.query.clone())?;
        crate::engine::query::QueryPlan::build(
            resolved.source,
            &resolved.table,
            resolved.transform.as_deref(),
            &self.engine.options(),
        )
        .await
        .map_err(|e| CliError::engine(format!("dataset '{}'", self.dataset), e))
    }
}

/// How a subcommand ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done.
    Success = 0,
    /// The work failed while running.
    Failed = 1,
    /// The configuration was rejected before anything ran.
    BadConfig = 3,
    /// Ctrl-C.
    Cancelled = 130,
}

/// Errors of the command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The factory did not load.
    #[error(transparent)]
    Config(Box<ConfigError>),
    /// The factory loaded but could not be turned into runnable work.
    #[error(transparent)]
    Plan(Box<PlanError>),
    /// A pipeline cannot run as configured (found before anything ran).
    #[error(transparent)]
    Prepare(Box<crate::run::PrepareError>),
    /// Planning or running failed.
    #[error("{activity}: {source}")]
    Engine {
        /// What was being run, e.g. `activity 'Copy'` or `dataset 'D'`.
        activity: String,
        /// What failed.
        source: Box<EngineError>,
    },
    /// A Lookup's output exceeded ADF's limit.
    #[error(
        "Lookup '{activity}': the output is {bytes} bytes, over ADF's limit of {limit} bytes; narrow the query or select fewer columns"
    )]
    LookupTooLarge {
        /// The activity.
        activity: String,
        /// The output size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The Flight server could not be configured, started or kept running.
    #[error(transparent)]
    Serve(Box<crate::flight::ServeError>),
    /// Formatting values for output failed.
    #[error("formatting the output: {source}")]
    Format {
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
    /// Writing to stdout failed (other than a closed pipe).
    #[error("writing the output: {source}")]
    Output {
        /// The I/O error.
        source: std::io::Error,
    },
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(Box::new(e))
    }
}

impl From<crate::run::PrepareError> for CliError {
    fn from(e: crate::run::PrepareError) -> Self {
        CliError::Prepare(Box::new(e))
    }
}

impl From<crate::flight::ServeError> for CliError {
    fn from(e: crate::flight::ServeError) -> Self {
        CliError::Serve(Box::new(e))
    }
}

impl From<PlanError> for CliError {
    fn from(e: PlanError) -> Self {
        CliError::Plan(Box::new(e))
    }
}

impl CliError {
    /// An engine error while running `activity`.
    pub fn engine(activity: impl Into<String>, source: EngineError) -> Self {
        CliError::Engine {
            activity: activity.into(),
            source: Box::new(source),
        }
    }

    /// The exit status this error ends the process with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CliError::Config(_) | CliError::Plan(_) | CliError::Prepare(_) => ExitStatus::BadConfig,
            CliError::Serve(e) if e.is_configuration() => ExitStatus::BadConfig,
            CliError::Engine { source, .. } if matches!(**source, EngineError::Cancelled) => {
                ExitStatus::Cancelled
            }
            _ => ExitStatus::Failed,
        }
    }

    /// True when stdout was closed by its reader: not an error for a command-line tool.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output { source } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitStatus, CliError> {
    match cli.command {
        Command::Copy(args) => copy::run(args).await,
        Command::Lookup(args) => lookup::run(args).await,
        Command::Run(args) => run::run(args).await,
        Command::Schema(args) => schema::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Serve(args) => serve::run(args).await,
    }
}

/// Resolves when the user presses Ctrl-C (never, if the signal cannot be watched).
pub async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
