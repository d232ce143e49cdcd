//! The `quiver` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use quiver::cli::{Cli, ExitStatus, run};

/// How long an exiting process waits for server-side work (sessions, queries) to be cancelled
/// and closed: as long as one dropped read's cleanup may take.
const CLEANUP_WAIT: std::time::Duration = quiver::engine::CLEANUP_TIMEOUT;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Default: warnings, plus the server's one line per query (`quiver serve`).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,quiver::serve=info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("quiver: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Failed as u8);
        }
    };
    let outcome = runtime.block_on(async {
        let outcome = run(cli).await;
        // A failed or cancelled read drops its sessions; let their cleanup (cancel and
        // close on the server, for every connector) finish before the process exits.
        if !quiver::engine::wait_for_cleanups(CLEANUP_WAIT).await {
            tracing::warn!("some server-side sessions were not closed before exiting");
        }
        outcome
    });
    match outcome {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Each error's message already carries its cause's text.
            eprintln!("quiver: {e}");
            ExitCode::from(e.exit_status() as u8)
        }
    }
}
