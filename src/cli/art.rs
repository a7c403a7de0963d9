//! `pelx art`: an ART nouveau campaign written to a JSON-lines catalog.

use super::common::{emit_json, PotentialOpts, StructureOpts};
use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pelx::catalog::{Record, RunRecord, SCHEMA};
use pelx::potential::Calculator;
use pelx::provenance::{file_sha256, VERSION};
use pelx::saddle::art::ArtConfig;
use pelx::saddle::campaign::{
    parse_shard, prepare_initial, run_campaign, AtomSelection, Campaign, CampaignSummary, OutputMode, Sampling,
};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx art configs/CuZr50_500.extxyz -p potentials/CuZr_mm.eam.fs --sample 100 per atom -o art.jsonl
  pelx art glass.extxyz -p potentials/CuZr_mm.eam.fs --sample 500 total --atoms Zr --seed 7 -o zr.jsonl
  pelx art glass.extxyz -p potentials/CuZr_mm.eam.fs --sample 10/atom --shard 3/8 -o art.3.jsonl
  pelx art glass.extxyz -p potentials/CuZr_mm.eam.fs --sample 100 per atom -o art.jsonl --resume

--sample takes 'N per atom' (also 'N per-atom', 'N/atom') or 'N total'; put the STRUCTURE first.
--atoms takes 0-based indices, inclusive ranges and species: '0-99', '3,17,40-45', 'Zr', 'all'.
Parameters come from --config (see configs/art.toml for every key and its default).
Searches that end without an event are recorded with their reason; they do not make the
exit status non-zero. Exit status: 0 when every search of the run is recorded, 2 on errors.";

#[derive(Debug, Args)]
pub struct ArtArgs {
    /// The starting structure (a relaxed minimum: extended XYZ, LAMMPS data or dump).
    pub structure: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Number of searches: 'N per atom' or 'N total'.
    #[arg(long, num_args = 1..=3, required = true, value_name = "N per atom|N total")]
    pub sample: Vec<String>,
    /// Central atoms: 0-based indices, ranges a-b, species names, or 'all'.
    #[arg(long, default_value = "all", value_name = "SELECTION")]
    pub atoms: String,
    /// Master random seed; every search derives its own from (seed, central atom, attempt).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run only part I of N of the task list (I from 1), for cluster job arrays.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// TOML file of ART parameters (missing keys take the defaults of configs/art.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The catalog to write (JSON lines).
    #[arg(short, long, value_name = "CATALOG")]
    pub output: PathBuf,
    /// Continue an interrupted catalog of the same campaign: skip the searches it holds.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Overwrite an existing catalog.
    #[arg(long)]
    pub force: bool,
    /// Refuse a starting structure that is not a minimum instead of relaxing it.
    #[arg(long)]
    pub no_relax: bool,
    /// Worker threads (default: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Write the JSON summary to this file instead of stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Serialize)]
struct ArtOut<'a> {
    schema: &'static str,
    catalog: String,
    #[serde(flatten)]
    summary: &'a CampaignSummary,
}

/// Newlines in `path`, read in 1 MiB blocks: a week's catalog runs to gigabytes, and the
/// progress bar needs only the count.
fn count_lines(path: &Path) -> std::io::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(n),
            k => n += buf[..k].iter().filter(|&&b| b == b'\n').count(),
        }
    }
}

/// Joins the `--sample` words and parses them.
fn parse_sample(words: &[String]) -> anyhow::Result<Sampling> {
    let text = words.join(" ");
    text.parse::<Sampling>().map_err(|e| {
        if words.len() == 3 && !words[2].eq_ignore_ascii_case("atom") {
            anyhow::anyhow!("{e} (put the STRUCTURE before --sample: 'pelx art FILE -p POT --sample 500 total')")
        } else {
            e.into()
        }
    })
}

/// Where an unrelaxed input's relaxed version goes: beside the catalog, named after the input.
fn relaxed_path(structure: &Path, catalog: &Path) -> PathBuf {
    let stem = structure
        .file_stem()
        .map_or_else(|| "initial".into(), |s| s.to_string_lossy().into_owned());
    let dir = catalog.parent().unwrap_or(Path::new(""));
    dir.join(format!("{stem}.relaxed.extxyz"))
}

pub fn run(a: &ArtArgs) -> anyhow::Result<ExitCode> {
    // -q sets the log filter to errors only: no progress bar then either.
    let quiet = !tracing::enabled!(tracing::Level::WARN);
    let sampling = parse_sample(&a.sample)?;
    let selection: AtomSelection = a.atoms.parse()?;
    let shard = a.shard.as_deref().map(parse_shard).transpose()?;
    let cfg = match &a.config {
        Some(p) => ArtConfig::from_file(p)?,
        None => ArtConfig::default(),
    };
    cfg.validate()?;
    let mode = if a.resume {
        if !a.output.exists() {
            bail!(
                "--resume: {} does not exist (drop --resume to start a new catalog)",
                a.output.display()
            );
        }
        OutputMode::Resume
    } else {
        if a.output.exists() && !a.force {
            bail!(
                "{} exists: give --resume to continue it or --force to overwrite it",
                a.output.display()
            );
        }
        OutputMode::Create
    };
    let s = a.read.read(&a.structure)?;
    let structure_sha256 = s.content_hash();
    let ff = a.potential.load()?;
    let template = Calculator::new(ff.clone()).with_skin(a.potential.skin);
    let mut calc = template.clone();
    let (init, relaxation) = prepare_initial(s, &mut calc, &cfg, !a.no_relax, &relaxed_path(&a.structure, &a.output))?;
    let potential_sha256 = a
        .potential
        .paths()
        .iter()
        .map(|p| file_sha256(p))
        .collect::<pelx::Result<Vec<_>>>()?;
    let run = RunRecord {
        schema: SCHEMA.into(),
        pelx_version: VERSION.into(),
        structure: a.structure.display().to_string(),
        structure_sha256,
        natoms: 0,
        potential: ff.describe(),
        potential_sha256,
        e_initial: 0.0,
        seed: 0,
        parameters: serde_json::Value::Null,
        sampling: serde_json::Value::Null,
        input_relaxation: relaxation,
        shard: None,
    };
    let campaign = Campaign::new(init, cfg, run, &selection, sampling, a.seed, shard)?;
    tracing::info!(
        "{} searches ({} of {} tasks in this shard) around {} on {}",
        campaign.tasks.len(),
        campaign.tasks.len(),
        campaign.run.sampling["tasks"],
        selection,
        a.structure.display()
    );
    let bar = if quiet || a.no_progress || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(campaign.tasks.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} searches, {per_sec}, ETA {eta} | {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        b
    };
    let (mut events, mut verified) = (0u64, 0u64);
    let mut on_record = |r: &Record| {
        if let Record::Event(e) = r {
            events += 1;
            verified += e.verified as u64;
        }
        bar.set_message(format!("{events} events, {verified} verified"));
        bar.inc(1);
    };
    if mode == OutputMode::Resume {
        // Records already present count as done on the bar: the complete lines after the run
        // record. The campaign reads and checks the catalog itself; parsing it here too would
        // double the time to resume a large catalog (and its warnings).
        let lines = count_lines(&a.output).with_context(|| format!("reading {}", a.output.display()))?;
        bar.inc(lines.saturating_sub(1) as u64);
    }
    let summary = run_campaign(&campaign, &template, &a.output, mode, a.threads, &mut on_record)?;
    bar.finish_and_clear();
    emit_json(
        &ArtOut {
            schema: "pelx.art-summary/1",
            catalog: a.output.display().to_string(),
            summary: &summary,
        },
        a.json.as_deref(),
    )?;
    Ok(ExitCode::SUCCESS)
}
