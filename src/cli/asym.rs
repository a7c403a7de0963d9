//! `pelx asym`: forward/reverse barrier asymmetry of event catalogs, FIE spectrum fits and
//! figures (parsing and printing only; the work is in `pelx::analysis`).

use super::common::{emit_json, refuse_overwriting_inputs};
use clap::{Args, ValueEnum};
use pelx::analysis::asym::{analyse, AsymDocument, AsymOptions};
use pelx::analysis::catalogs::{CatalogSet, SetOptions};
use pelx::analysis::fit::FitOptions;
use pelx::analysis::plot::write_all;
use pelx::network::export::write_file;
use pelx::network::NetworkOptions;
use pelx::provenance::Provenance;
use pelx::structure::io::ReadOptions;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx asym art.jsonl -o asym.json --plot figures/
  pelx asym shard-*.jsonl --min-disp 1,1.5,2.5 --bin 0.05 --species Cu -o asym-cu.json
  pelx asym art.jsonl --unique --fit fie --fie-filter 0 --sample q1e10 -o asym.json --plot figures/
  pelx asym art.jsonl --fit fie --free-shape --bootstrap 200 --seed 7 -o asym.json

For each --min-disp threshold d, the events whose largest atomic displacement between the two
minima is >= d Å: normalised histograms of E_fw, E_rev and E_fw - E_rev (= E_final - E_initial),
their joint histogram, summary statistics (mean, median, std, skewness, quantiles, the fraction
of events with E_rev < E_fw) and the number of events behind each. --species keeps events whose
most displaced atom is of that species (read from the starting structure). --fit fie fits FIE
eq. (3) to E_A = E_fw (W and m; e_A and s fixed at --e-a/--s unless --free-shape) and eq. (5)
to E_R = E_rev by maximum likelihood, with Hessian (or --bootstrap) uncertainties and a KS test,
and writes the --fie-filter fit as a pelx.fie-spectrum/1 file that `pelx fie regress` reads.
Schema of the JSON: schemas/asym.schema.json. Exit status 1 when a requested fit failed (the
JSON says why), 2 on errors.";

/// Which spectrum form to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FitKind {
    /// Fan-Iwashita-Egami: M1 + M2 for E_A, exponential for E_R.
    Fie,
}

#[derive(Debug, Args)]
pub struct AsymArgs {
    /// Event catalogs (JSON lines) of one sample: shards of one campaign.
    #[arg(required = true, value_name = "CATALOG")]
    pub catalogs: Vec<PathBuf>,
    /// Max-displacement thresholds, Å (events with max displacement >= each).
    #[arg(
        long = "min-disp",
        value_delimiter = ',',
        default_value = "0,1,1.5,2.5",
        value_name = "Å"
    )]
    pub min_disp: Vec<f64>,
    /// Bin width of the 1D histograms, eV.
    #[arg(long, default_value_t = 0.05, value_name = "eV")]
    pub bin: f64,
    /// Bin width of the joint E_fw-E_rev histogram, eV.
    #[arg(long, default_value_t = 0.1, value_name = "eV")]
    pub bin2d: f64,
    /// Keep events whose most displaced atom (between the two minima) is of this species.
    #[arg(long, value_name = "ELEMENT")]
    pub species: Option<String>,
    /// Starting structure (repeatable), for --species when the catalog's recorded path does
    /// not lead to it.
    #[arg(long = "structure", value_name = "FILE")]
    pub structures: Vec<PathBuf>,
    /// Element names of LAMMPS atom types for a structure in LAMMPS data format, e.g. `Cu,Zr`.
    #[arg(long, value_delimiter = ',', value_name = "ELEMENTS")]
    pub elements: Option<Vec<String>>,
    /// Keep only events whose saddle relaxes back to their initial minimum.
    #[arg(long)]
    pub reconnecting_only: bool,
    /// Keep only verified events (one negative eigenvalue, force below the threshold, reconnecting).
    #[arg(long)]
    pub verified_only: bool,
    /// Count each distinct event once (same minima and saddle within the tolerances).
    #[arg(long)]
    pub unique: bool,
    /// With --unique: minima or saddles closer in energy than this may be the same, eV.
    #[arg(long, default_value_t = 1e-3, value_name = "eV")]
    pub energy_tol: f64,
    /// With --unique: configurations are the same when no atom is farther apart than this, Å.
    #[arg(long, default_value_t = 0.1, value_name = "Å")]
    pub distance_tol: f64,
    /// Fit the barrier spectra.
    #[arg(long, value_enum)]
    pub fit: Option<FitKind>,
    /// Fit e_A and s too (otherwise fixed at --e-a and --s).
    #[arg(long)]
    pub free_shape: bool,
    /// M1 decay energy e_A, eV: fixed value, or start with --free-shape.
    #[arg(long = "e-a", default_value_t = 0.5, value_name = "eV")]
    pub e_a: f64,
    /// M2 width s, eV: fixed value, or start with --free-shape.
    #[arg(long = "s", default_value_t = 0.49, value_name = "eV")]
    pub s: f64,
    /// Bootstrap replicates for the fit uncertainties (0: Hessian only).
    #[arg(long, default_value_t = 0)]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write the fit of this max-displacement filter as a pelx.fie-spectrum/1 file (default:
    /// the first --min-disp value).
    #[arg(long, value_name = "Å")]
    pub fie_filter: Option<f64>,
    /// Where to write that file (default: next to -o, as <stem>.fie-spectrum.json).
    #[arg(long, value_name = "FILE")]
    pub fie_out: Option<PathBuf>,
    /// Label of the sample in the fie-spectrum file (default: the structure file's stem).
    #[arg(long)]
    pub sample: Option<String>,
    /// Write the JSON here (stdout gets a summary); without it the JSON goes to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write SVG figures into this folder.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Combine catalogs from different structures or systems, or overlapping shards.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct FilterLine {
    min_displacement: f64,
    n_events: usize,
    median_e_fw: Option<f64>,
    median_e_rev: Option<f64>,
    fraction_rev_below_fw: Option<f64>,
    w: Option<f64>,
    m: Option<f64>,
    e_a: Option<f64>,
    s: Option<f64>,
    e_r: Option<f64>,
}

#[derive(Serialize)]
struct Stdout {
    output: String,
    events: usize,
    selected: usize,
    filters: Vec<FilterLine>,
    fie_spectrum: Option<String>,
    figures: Vec<String>,
}

fn summary_lines(doc: &AsymDocument) -> Vec<FilterLine> {
    doc.filters
        .iter()
        .map(|f| {
            let act = f.fits.as_ref().and_then(|x| x.activation.as_ref());
            let rel = f.fits.as_ref().and_then(|x| x.relaxation.as_ref());
            FilterLine {
                min_displacement: f.min_displacement,
                n_events: f.n_events,
                median_e_fw: f.summary.as_ref().map(|s| s.e_fw.median),
                median_e_rev: f.summary.as_ref().map(|s| s.e_rev.median),
                fraction_rev_below_fw: f.summary.as_ref().map(|s| s.fraction_rev_below_fw),
                w: act.map(|a| a.w.value),
                m: act.map(|a| a.m.value),
                e_a: act.map(|a| a.e_a.value),
                s: act.map(|a| a.s.value),
                e_r: rel.map(|r| r.e_r.value),
            }
        })
        .collect()
}

/// "asym.json" -> "asym.fie-spectrum.json" in the same folder.
fn default_fie_out(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "asym".into());
    output.with_file_name(format!("{stem}.fie-spectrum.json"))
}

pub fn run(a: &AsymArgs) -> anyhow::Result<ExitCode> {
    let inputs = a.catalogs.iter().chain(&a.structures).map(PathBuf::as_path);
    refuse_overwriting_inputs(inputs, [a.output.as_deref(), a.fie_out.as_deref()])?;
    let opts = AsymOptions {
        min_displacements: a.min_disp.clone(),
        bin: a.bin,
        bin2d: a.bin2d,
        species: a.species.clone(),
        reconnecting_only: a.reconnecting_only,
        verified_only: a.verified_only,
        unique: a.unique,
        network: NetworkOptions {
            energy_tol: a.energy_tol,
            distance_tol: a.distance_tol,
            saddle_energy_tol: a.energy_tol,
            keep_unconnected: true,
        },
        fit: a.fit.map(|FitKind::Fie| FitOptions {
            free_shape: a.free_shape,
            e_a: a.e_a,
            s: a.s,
            bootstrap: a.bootstrap,
            seed: a.seed,
        }),
    };
    opts.validate()?;
    let fie_filter = a.fie_filter.unwrap_or(a.min_disp[0]);
    if a.fit.is_some() && !a.min_disp.iter().any(|d| (d - fie_filter).abs() < 1e-9) {
        anyhow::bail!("--fie-filter {fie_filter} is not one of --min-disp {:?}", a.min_disp);
    }
    let mut set = CatalogSet::read(
        &a.catalogs,
        &SetOptions {
            several_structures: false,
            force: a.force,
        },
    )?;
    if a.species.is_some() || !a.structures.is_empty() {
        let read = ReadOptions {
            species: a.elements.clone(),
            ..Default::default()
        };
        set.locate_structures(&a.structures, &read)?;
    }
    let mut inputs: Vec<&Path> = a.catalogs.iter().map(PathBuf::as_path).collect();
    inputs.extend(a.structures.iter().map(PathBuf::as_path));
    let doc = analyse(&set, &opts, Provenance::new(&inputs)?)?;
    let mut failed = false;
    // The fie-spectrum file.
    let mut fie_path = None;
    if a.fit.is_some() {
        let k = doc.filter_index(fie_filter).expect("checked above");
        let target = match (&a.fie_out, &a.output) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(o)) => Some(default_fie_out(o)),
            (None, None) => {
                tracing::warn!("no -o or --fie-out: the fits are in the JSON on stdout, no fie-spectrum file written");
                None
            }
        };
        if let Some(p) = target {
            let sample = a.sample.clone().unwrap_or_else(|| {
                Path::new(&doc.sample.structures[0])
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "sample".into())
            });
            match doc.fie_spectrum_fit(k, &sample) {
                Ok(spec) => {
                    let text = serde_json::to_string_pretty(&spec)?;
                    write_file(&p, |w| writeln!(w, "{text}"))?;
                    fie_path = Some(p.display().to_string());
                }
                Err(e) => {
                    tracing::error!("no fie-spectrum file: {e}");
                    failed = true;
                }
            }
        }
    }
    let figures = match &a.plot {
        Some(dir) => write_all(&doc, dir)?.iter().map(|p| p.display().to_string()).collect(),
        None => Vec::new(),
    };
    match &a.output {
        Some(o) => {
            let text = serde_json::to_string_pretty(&doc)?;
            write_file(o, |w| writeln!(w, "{text}"))?;
            emit_json(
                &Stdout {
                    output: o.display().to_string(),
                    events: doc.selection.events,
                    selected: doc.selection.selected,
                    filters: summary_lines(&doc),
                    fie_spectrum: fie_path,
                    figures,
                },
                None,
            )?;
        }
        None => emit_json(&doc, None)?,
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
