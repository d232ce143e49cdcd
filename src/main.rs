//! The `quiver` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use quiver::cli::{Cli, ExitStatus, run};

/// How long an exiting process waits for server-side work (sessions, queries) to be cancelled
/// and closed: as long as one dropped read's cleanup may take.
const CLEANUP_WAIT: std::time::Duration = quiver::engine::CLEANUP_TIMEOUT;

/// glibc's `mallopt` parameters (`<malloc.h>`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc_malloc {
    use std::ffi::c_int;

    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    /// Blocks at least this large are mapped on their own. Above the buffers a copy of
    /// ordinary rows allocates per row group and per batch (the encoder's pooled row-group
    /// buffers, about 6 MiB for the benchmark's table; parquet's pages), so those stay in the
    /// heap and are reused rather than mapped, zeroed and unmapped each time. Larger blocks
    /// (row groups of very wide rows, up to `row_group_bytes`) are mapped each time; the
    /// pool keeps the row-group buffers among them from churning.
    const MMAP_THRESHOLD: c_int = 8 << 20;
    /// Free memory at the top of a heap beyond this is returned to the kernel.
    const TRIM_THRESHOLD: c_int = 16 << 20;

    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }

    /// Whether the user chose this parameter through glibc's own knobs: the tunable
    /// (`GLIBC_TUNABLES=glibc.malloc.NAME=…`) or the older `MALLOC_…_` variable.
    fn user_set(tunable: &str, variable: &str) -> bool {
        std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains(tunable))
            || std::env::var_os(variable).is_some()
    }

    /// Fixes glibc's thresholds, except any the user set through glibc's own knobs, which then
    /// stand. By default glibc raises its mmap threshold to the largest mapped block freed so
    /// far and the trim threshold with it; in a long copy that let the heap keep growing
    /// around blocks of changing sizes (RSS of a 10M-row copy 1.22 times a 1M-row one).
    /// Fixed thresholds, with the encoder's pooled row-group buffers, bring that to 1.08 with
    /// no copy slower (BENCHMARKS.md, "Peak memory").
    pub fn tune() {
        let settings = [
            (
                M_MMAP_THRESHOLD,
                MMAP_THRESHOLD,
                "glibc.malloc.mmap_threshold",
                "MALLOC_MMAP_THRESHOLD_",
            ),
            (
                M_TRIM_THRESHOLD,
                TRIM_THRESHOLD,
                "glibc.malloc.trim_threshold",
                "MALLOC_TRIM_THRESHOLD_",
            ),
        ];
        for (param, value, tunable, variable) in settings {
            if !user_set(tunable, variable) {
                // SAFETY: mallopt takes two integers and only changes the allocator's
                // parameters; it runs here before any thread is started.
                unsafe { mallopt(param, value) };
            }
        }
    }
}

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc_malloc::tune();
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
