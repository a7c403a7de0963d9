//! `pelx run`: the quickstart pipeline (parsing and printing only; the work is in
//! `pelx::pipeline`).

use super::common::emit_json;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pelx::pipeline::{run_pipeline, Existing, RunConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx run configs/quickstart.toml
  pelx run configs/quickstart.toml -o results/mine --force
  pelx run configs/quickstart.toml --resume
  pelx run configs/quickstart.toml --sample 20 total -o /tmp/try --force

Runs an ART campaign, catalog statistics, the barrier asymmetry with the FIE spectrum fit and
figures, FIE cooling curves from the fit and the KMC correlation factor f, into one folder with
summary.json (every file, with a description) and README.md. Every key of the configuration is
documented in configs/quickstart.toml. --resume continues the campaign's catalog and redoes the
later steps. Exit status: 0 when every step ran, 1 when a later step was skipped (summary.json
says why), 2 on errors.";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline configuration (TOML), e.g. configs/quickstart.toml.
    pub config: PathBuf,
    /// Results folder [default: the configuration's `output`].
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Start again, overwriting the folder's catalog.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Continue the folder's ART catalog and redo the later steps.
    #[arg(long)]
    pub resume: bool,
    /// Override the configuration's ART sample size: 'N per atom' or 'N total'.
    #[arg(long, num_args = 1..=3, value_name = "N per atom|N total")]
    pub sample: Option<Vec<String>>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(a: &RunArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = RunConfig::from_file(&a.config)?;
    if let Some(words) = &a.sample {
        cfg.art.sample = words.join(" ");
        cfg.validate()?;
    }
    let out = a.output.clone().unwrap_or_else(|| cfg.output.clone());
    let existing = match (a.force, a.resume) {
        (true, _) => Existing::Overwrite,
        (_, true) => Existing::Resume,
        _ => Existing::Refuse,
    };
    let quiet = !tracing::enabled!(tracing::Level::WARN);
    let bar = if quiet || a.no_progress || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{elapsed_precise} {pos} ART searches, {per_sec}").expect("a valid template"),
        );
        b
    };
    let summary = run_pipeline(&cfg, &out, existing, &mut || bar.inc(1))?;
    bar.finish_and_clear();
    for s in &summary.steps {
        eprintln!("{:>14}: {} ({:.1} s) {}", s.name, s.status, s.seconds, s.message);
    }
    eprintln!(
        "wrote {} files into {} (index: summary.json)",
        summary.files.len(),
        out.display()
    );
    emit_json(&summary.headline, None)?;
    let skipped = summary.steps.iter().any(|s| s.status != "ok");
    Ok(if skipped { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
