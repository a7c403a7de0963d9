//! `pelx catalog`: statistics, merging, filtering, deduplication and extraction of event
//! catalogs.

use super::common::{emit_json, parse_finite, StructureOpts};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use pelx::catalog::dedup::{distinct, representatives, DedupOptions};
use pelx::catalog::extract::rebuild;
use pelx::catalog::merge::{merge, rewrite};
use pelx::catalog::stats::catalog_stats;
use pelx::catalog::{Catalog, Record};
use pelx::structure::io::{write_structure, WriteOptions};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx catalog stats art.jsonl
  pelx catalog merge art.1.jsonl art.2.jsonl art.3.jsonl -o art.jsonl
  pelx catalog filter art.jsonl --verified --min-displacement 1.0 -o big.jsonl
  pelx catalog dedup art.jsonl -o distinct.jsonl
  pelx catalog extract art.jsonl --event 42 -o event42/";

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub command: CatalogCommand,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Searches, converged saddles, verified and distinct events, success rate, force calls
    /// per saddle (median, p90) and per verified event, barrier summaries, as JSON.
    Stats(StatsArgs),
    /// Join the shards of a campaign (--shard I/N) into one catalog, sorted by task.
    Merge(MergeArgs),
    /// Keep the records that pass every given test.
    Filter(FilterArgs),
    /// Keep the first event of each group of duplicates (same saddle energy within a
    /// tolerance and the same displacement pattern), and every failure.
    Dedup(DedupArgs),
    /// Write an event's initial, saddle and final structures as extended XYZ.
    Extract(ExtractArgs),
}

/// The duplicate criterion.
#[derive(Debug, Clone, Args)]
pub struct DedupOpts {
    /// Largest saddle-energy difference of duplicates, eV.
    #[arg(long, default_value_t = DedupOptions::default().energy_tol)]
    pub energy_tol: f64,
    /// Largest difference of any atom's saddle displacement between duplicates, Å.
    #[arg(long, default_value_t = DedupOptions::default().distance_tol)]
    pub distance_tol: f64,
}

impl DedupOpts {
    fn options(&self) -> anyhow::Result<DedupOptions> {
        if !(self.energy_tol >= 0.0 && self.distance_tol >= 0.0) {
            bail!("--energy-tol and --distance-tol must be non-negative");
        }
        Ok(DedupOptions {
            energy_tol: self.energy_tol,
            distance_tol: self.distance_tol,
        })
    }
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    pub catalog: PathBuf,
    #[command(flatten)]
    pub dedup: DedupOpts,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The catalogs to join (the shards of one campaign).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The merged catalog.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Merge catalogs of different campaigns (structure, potential, parameters, seed or
    /// sampling differ) anyway; the first one's run record is kept.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    pub catalog: PathBuf,
    /// The filtered catalog.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Events only (drop failures).
    #[arg(long)]
    pub events: bool,
    /// Verified events only.
    #[arg(long)]
    pub verified: bool,
    /// Events whose saddle reconnects to the initial minimum only.
    #[arg(long)]
    pub reconnecting: bool,
    /// Events with a largest atomic displacement of at least this, Å.
    #[arg(long, value_name = "Å", allow_hyphen_values = true, value_parser = parse_finite)]
    pub min_displacement: Option<f64>,
    /// Events with a forward barrier of at most this, eV.
    #[arg(long, value_name = "eV", allow_hyphen_values = true, value_parser = parse_finite)]
    pub max_barrier: Option<f64>,
}

#[derive(Debug, Args)]
pub struct DedupArgs {
    pub catalog: PathBuf,
    /// The deduplicated catalog.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub dedup: DedupOpts,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    pub catalog: PathBuf,
    /// The event's task number (its `task` field).
    #[arg(long)]
    pub event: u64,
    /// Directory for initial.extxyz, saddle.extxyz and final.extxyz (created if needed).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The initial structure, when the catalog's record of it cannot be found.
    #[arg(long)]
    pub structure: Option<PathBuf>,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Use a structure whose content differs from the one the catalog records.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: &CatalogArgs) -> anyhow::Result<ExitCode> {
    match &a.command {
        CatalogCommand::Stats(s) => stats(s),
        CatalogCommand::Merge(m) => {
            let report = merge(&m.inputs, &m.output, m.force)?;
            emit_json(&report, None)?;
            Ok(ExitCode::SUCCESS)
        }
        CatalogCommand::Filter(f) => filter(f),
        CatalogCommand::Dedup(d) => dedup(d),
        CatalogCommand::Extract(e) => extract(e),
    }
}

fn stats(a: &StatsArgs) -> anyhow::Result<ExitCode> {
    let cat = Catalog::read(&a.catalog)?;
    let st = catalog_stats(&cat, &a.dedup.options()?);
    emit_json(&st, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct RewriteOut {
    input: String,
    output: String,
    kept: usize,
    dropped: usize,
}

fn filter(a: &FilterArgs) -> anyhow::Result<ExitCode> {
    let total = Catalog::read(&a.catalog)?.searches();
    let keep = |r: &Record| match r {
        Record::Event(e) => {
            (!a.verified || e.verified)
                && (!a.reconnecting || e.reconnects)
                && a.min_displacement.is_none_or(|d| e.max_displacement >= d)
                && a.max_barrier.is_none_or(|b| e.e_fw <= b)
        }
        Record::Failure(_) => {
            !(a.events || a.verified || a.reconnecting || a.min_displacement.is_some() || a.max_barrier.is_some())
        }
        Record::Run(_) => true,
    };
    let kept = rewrite(&a.catalog, &a.output, keep)?;
    emit_json(
        &RewriteOut {
            input: a.catalog.display().to_string(),
            output: a.output.display().to_string(),
            kept,
            dropped: total - kept,
        },
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct DedupOut {
    input: String,
    output: String,
    events: usize,
    distinct_events: usize,
    duplicates_dropped: usize,
    failures_kept: usize,
    dedup: DedupOptions,
}

fn dedup(a: &DedupArgs) -> anyhow::Result<ExitCode> {
    let opts = a.dedup.options()?;
    let cat = Catalog::read(&a.catalog)?;
    let mut events = cat.events.clone();
    events.sort_by_key(|e| e.task);
    let rep = representatives(&events, &opts);
    let first: HashSet<u64> = events
        .iter()
        .enumerate()
        .filter(|(i, _)| rep[*i] == *i)
        .map(|(_, e)| e.task)
        .collect();
    rewrite(&a.catalog, &a.output, |r| match r {
        Record::Event(e) => first.contains(&e.task),
        _ => true,
    })?;
    emit_json(
        &DedupOut {
            input: a.catalog.display().to_string(),
            output: a.output.display().to_string(),
            events: events.len(),
            distinct_events: distinct(&rep),
            duplicates_dropped: events.len() - distinct(&rep),
            failures_kept: cat.failures.len(),
            dedup: opts,
        },
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ExtractOut {
    event: u64,
    initial: String,
    saddle: String,
    #[serde(rename = "final")]
    final_: String,
    e_initial: f64,
    e_saddle: f64,
    e_final: f64,
}

/// Finds the recorded initial structure: the path as recorded, then relative to the
/// catalog's directory.
fn locate(recorded: &str, catalog: &Path) -> Option<PathBuf> {
    let p = PathBuf::from(recorded);
    if p.exists() {
        return Some(p);
    }
    let beside = catalog.parent().unwrap_or(Path::new("")).join(p.file_name()?);
    beside.exists().then_some(beside)
}

fn extract(a: &ExtractArgs) -> anyhow::Result<ExitCode> {
    let cat = Catalog::read(&a.catalog)?;
    let ev = cat.events.iter().find(|e| e.task == a.event).with_context(|| {
        match cat.failures.iter().find(|f| f.task == a.event) {
            Some(f) => format!("task {} is a failed search ({}), not an event", a.event, f.reason),
            None => format!("no event with task {} in {}", a.event, a.catalog.display()),
        }
    })?;
    let (recorded, hash) = match &cat.run.input_relaxation {
        Some(r) => (r.initial_structure.clone(), r.initial_sha256.clone()),
        None => (cat.run.structure.clone(), cat.run.structure_sha256.clone()),
    };
    let path = match &a.structure {
        Some(p) => p.clone(),
        None => locate(&recorded, &a.catalog).with_context(|| {
            format!("the initial structure {recorded} was not found (give it with --structure FILE)")
        })?,
    };
    let initial = a.read.read(&path)?;
    if initial.content_hash() != hash && !a.force {
        bail!(
            "{} is not the initial structure of {} (its content hash differs); use --force to use it anyway",
            path.display(),
            a.catalog.display()
        );
    }
    let st = rebuild(&initial, ev)?;
    std::fs::create_dir_all(&a.output).with_context(|| format!("creating {}", a.output.display()))?;
    let write = |name: &str, s: &pelx::structure::Structure, e: f64| -> anyhow::Result<String> {
        let p = a.output.join(name);
        let w = WriteOptions {
            energy: Some(e),
            ..Default::default()
        };
        write_structure(&p, s, None, &w)?;
        Ok(p.display().to_string())
    };
    let out = ExtractOut {
        event: ev.task,
        initial: write("initial.extxyz", &st.initial, ev.e_initial)?,
        saddle: write("saddle.extxyz", &st.saddle, ev.e_saddle)?,
        final_: write("final.extxyz", &st.final_minimum, ev.e_final)?,
        e_initial: ev.e_initial,
        e_saddle: ev.e_saddle,
        e_final: ev.e_final,
    };
    emit_json(&out, None)?;
    Ok(ExitCode::SUCCESS)
}
