//! `quiver lookup FACTORY --activity A [--pipeline P] [--param NAME=VALUE ...]`
//!
//! Runs a Lookup activity and prints ADF's Lookup output (see [`crate::run::lookup`]).

use clap::Args;

use super::{CliError, EngineArgs, ExitStatus, FactoryArg, ParamArgs, output};
use crate::run::lookup::LookupError;

pub use crate::run::lookup::{MAX_BYTES, MAX_ROWS, json_rows, uuid_text};

/// Arguments of `quiver lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    #[command(flatten)]
    factory: FactoryArg,
    /// The Lookup activity to run.
    #[arg(long)]
    activity: String,
    /// The pipeline holding it, when several have an activity of that name.
    #[arg(long)]
    pipeline: Option<String>,
    #[command(flatten)]
    params: ParamArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Runs `quiver lookup`.
pub async fn run(args: LookupArgs) -> Result<ExitStatus, CliError> {
    let params = args.params.values()?;
    let factory = crate::plan::load(&args.factory.factory)?;
    let lookup =
        crate::plan::lookup_activity(&factory, args.pipeline.as_deref(), &args.activity, &params)?;
    let text = match crate::run::lookup::read(&lookup, &args.engine.options()).await {
        Ok(text) => text,
        Err(LookupError::TooLarge { bytes, limit }) => {
            return Err(CliError::LookupTooLarge {
                activity: args.activity,
                bytes,
                limit,
            });
        }
        Err(LookupError::Engine(e)) => {
            return Err(CliError::engine(format!("activity '{}'", args.activity), e));
        }
        Err(LookupError::Format { source }) => return Err(CliError::Format { source }),
    };
    output::print_line(&text)?;
    Ok(ExitStatus::Success)
}
