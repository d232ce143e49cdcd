//! A progress line on stderr (rows, bytes, rate) while a copy runs, shown only on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::engine::CopyProgress;

/// A spinner that follows a copy's counters until dropped.
pub struct CopyBar {
    bar: Option<ProgressBar>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl CopyBar {
    /// Starts following `progress` if stderr is a terminal; otherwise does nothing.
    pub fn start(activity: &str, progress: CopyProgress) -> CopyBar {
        if !std::io::stderr().is_terminal() {
            return CopyBar {
                bar: None,
                task: None,
            };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(activity.to_string());
        let b = bar.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let secs = b.elapsed().as_secs_f64().max(1e-3);
                let rows = progress.rows_read();
                b.set_message(format!(
                    "{rows} rows  read {}  written {}  {:.0} rows/s  {}/s",
                    HumanBytes(progress.bytes_read()),
                    HumanBytes(progress.bytes_written()),
                    rows as f64 / secs,
                    HumanBytes((progress.bytes_read() as f64 / secs) as u64),
                ));
                b.tick();
            }
        });
        CopyBar {
            bar: Some(bar),
            task: Some(task),
        }
    }
}

impl Drop for CopyBar {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
