//! `pelx decompose`: D = D_RW x f from MD trajectories (one, or several temperatures with
//! `--arrhenius`). Parsing and printing only; the analysis is `pelx::diffusion`.

use super::common::{emit_json, refuse_overwriting_inputs, QuenchOpts, StructureOpts};
use anyhow::{bail, Context};
use clap::Args;
use pelx::diffusion::{
    arrhenius_report, decompose_trajectory, plot, Axis, DecomposeOptions, Decomposition, Geometry, TrajectoryOptions,
    Unwrap, TABLE_S1_THRESHOLDS,
};
use pelx::provenance::{InputFile, Provenance, VERSION};
use pelx::structure::io::ReadOptions;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx decompose md.dump --species Cu,Zr --interval 1 --threshold 1
  pelx decompose md.dump --species Cu,Zr --interval 1 --threshold 1 \\
      --quench potentials/CuZr_mm.eam.fs --plots figs
  pelx decompose slab.dump --species Cu,Zr --interval 1 --threshold 1 --surface z --layer 2.5
  pelx decompose --arrhenius T640.dump T670.dump T700.dump --temperatures 640,670,700 \\
      --species Cu,Zr --interval 1 --threshold 1 --scan table -o arrhenius.json --plots figs
  pelx kmc lattice --size 3 --hops 60000 --frame-every 1 --trajectory fcc.dump
  pelx decompose fcc.dump --species Cu --md-timestep 1 --interval 1 --threshold 1 --fit 300:3000
      (KMC: TIMESTEP = jump count, so times are in jumps)

Time: a dump frame is at TIMESTEP x --md-timestep ps; frames between multiples of --interval are
skipped; extended XYZ frames without a timestep= key are --frame-spacing ps apart (default: the
interval). Coefficients are in Å^2/ps (1 Å^2/ps = 1e-4 cm^2/s).
Exit status: 0 on success (warnings, such as a truncated last frame, are in the JSON and on
stderr), 2 on errors.";

#[derive(Debug, Args)]
pub struct DecomposeArgs {
    /// Trajectory file(s): LAMMPS dump (x y z with or without ix iy iz, xu yu zu, xs ys zs,
    /// xsu ysu zsu) or extended XYZ. Several files need --arrhenius.
    #[arg(required = true, value_name = "TRAJ")]
    pub trajectories: Vec<PathBuf>,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Time between analysed frames, ps (the paper: 1 ps).
    #[arg(long, value_name = "PS")]
    pub interval: f64,
    /// Displacement threshold d of an activated hop per interval, Å (the paper: 1 Å).
    #[arg(long, value_name = "Å")]
    pub threshold: f64,
    /// Random-walk realizations averaged (0: only the exact mean over directions).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub realizations: usize,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Time of one dump TIMESTEP, ps (LAMMPS metal units: 0.001).
    #[arg(long, default_value_t = 0.001, value_name = "PS")]
    pub md_timestep: f64,
    /// Time between frames that carry no timestep (extended XYZ), ps [default: the interval].
    #[arg(long, value_name = "PS")]
    pub frame_spacing: Option<f64>,
    /// Skip frames earlier than this, ps after the first frame (equilibration).
    #[arg(long, default_value_t = 0.0, value_name = "PS")]
    pub start: f64,
    /// Unwrapping of displacements between frames: auto (plain differences for unwrapped
    /// coordinates or image flags, minimum image otherwise), minimum-image, none.
    #[arg(long, value_enum, default_value_t = Unwrap::Auto)]
    pub unwrap: Unwrap,
    /// In-plane (2D) diffusion of atoms near the free surfaces normal to this axis.
    #[arg(long, value_enum, value_name = "AXIS")]
    pub surface: Option<Axis>,
    /// Thickness of the surface layers, Å (with --surface).
    #[arg(long, default_value_t = 2.5, value_name = "Å", requires = "surface")]
    pub layer: f64,
    /// Fit window of the Einstein fits, ps: START:END, START: or :END [default: 10 %-50 % of
    /// the trajectory].
    #[arg(long, value_name = "START:END")]
    pub fit: Option<String>,
    /// Thresholds of the scan of D_RW(d) and f(d), Å: a list (0,0.5,1) or `table` (the
    /// paper's Table S1: 0 to 2 Å) [default: table with --arrhenius, none otherwise].
    #[arg(long, value_name = "LIST|table")]
    pub scan: Option<String>,
    /// Disjoint atom sets of the jackknife error bars.
    #[arg(long, default_value_t = 8)]
    pub blocks: usize,
    /// Lags per level k of the multiple-tau MSDs: lags 1..k, then k multiples of k+1, of
    /// (k+1)^2, ... (9: 1-9, 10-90, 100-900 intervals); the work per frame grows with k.
    #[arg(long, default_value_t = 9)]
    pub lags_per_level: usize,
    /// Longest lag time of the MSDs, ps [default: the whole trajectory]. Memory then does not
    /// grow with the number of frames.
    #[arg(long, value_name = "PS")]
    pub max_lag: Option<f64>,
    /// Minimize every analysed frame with this potential first (inherent structures), cached;
    /// repeat for several funcfl files.
    #[arg(long, value_name = "POTENTIAL")]
    pub quench: Option<Vec<PathBuf>>,
    #[command(flatten)]
    pub quench_opts: QuenchOpts,
    /// Arrhenius analysis of several trajectories (one per temperature).
    #[arg(long, requires = "temperatures")]
    pub arrhenius: bool,
    /// Temperatures of the trajectories, K, in the same order (with --arrhenius).
    #[arg(long, value_delimiter = ',', value_name = "K,K,...")]
    pub temperatures: Option<Vec<f64>>,
    /// Write SVG figures into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Write the JSON result to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Serialize)]
struct Header<'a> {
    schema: &'static str,
    mode: &'static str,
    pelx_version: &'static str,
    command: Vec<String>,
    inputs: &'a [InputFile],
}

#[derive(Serialize)]
struct SingleOut<'a> {
    #[serde(flatten)]
    header: Header<'a>,
    #[serde(flatten)]
    result: &'a Decomposition,
    plots: Vec<String>,
}

#[derive(Serialize)]
struct Run<'a> {
    temperature: f64,
    #[serde(flatten)]
    result: &'a Decomposition,
}

#[derive(Serialize)]
struct ArrheniusOut<'a> {
    #[serde(flatten)]
    header: Header<'a>,
    parameters: &'a DecomposeOptions,
    arrhenius: &'a pelx::diffusion::ArrheniusReport,
    runs: Vec<Run<'a>>,
    plots: Vec<String>,
}

/// "a:b", "a:", ":b" in ps.
fn parse_window(s: &str) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let (a, b) = s
        .split_once(':')
        .with_context(|| format!("--fit must be START:END in ps (either may be empty), not '{s}'"))?;
    let num = |t: &str| -> anyhow::Result<Option<f64>> {
        let t = t.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<f64>()
            .map(Some)
            .with_context(|| format!("--fit: '{t}' is not a number of ps"))
    };
    Ok((num(a)?, num(b)?))
}

/// `table` or a comma-separated list of thresholds.
fn parse_scan(s: &str) -> anyhow::Result<Vec<f64>> {
    if s.trim().eq_ignore_ascii_case("table") {
        return Ok(TABLE_S1_THRESHOLDS.to_vec());
    }
    s.split(',')
        .map(|t| {
            t.trim().parse::<f64>().with_context(|| {
                format!(
                    "--scan: '{}' is not a threshold in Å (give a list such as 0,0.5,1 or 'table')",
                    t.trim()
                )
            })
        })
        .collect()
}

pub fn run(a: &DecomposeArgs) -> anyhow::Result<ExitCode> {
    refuse_overwriting_inputs(a.trajectories.iter().map(PathBuf::as_path), [a.output.as_deref()])?;
    let (fit_start, fit_end) = match &a.fit {
        Some(s) => parse_window(s)?,
        None => (None, None),
    };
    let scan = match &a.scan {
        Some(s) => parse_scan(s)?,
        None if a.arrhenius => TABLE_S1_THRESHOLDS.to_vec(),
        None => Vec::new(),
    };
    let opts = DecomposeOptions {
        interval: a.interval,
        threshold: a.threshold,
        realizations: a.realizations,
        seed: a.seed,
        geometry: match a.surface {
            Some(axis) => Geometry::Surface { axis, layer: a.layer },
            None => Geometry::Bulk,
        },
        fit_start,
        fit_end,
        scan,
        blocks: a.blocks,
        lags_per_level: a.lags_per_level,
        max_lag: a.max_lag,
    };
    opts.validate()?;
    let topts = TrajectoryOptions {
        read: ReadOptions {
            format: a.read.format,
            species: a.read.species.clone(),
            ..Default::default()
        },
        md_timestep: a.md_timestep,
        frame_spacing: a.frame_spacing,
        start: a.start,
        unwrap: a.unwrap,
    };
    topts.validate()?;
    let quench = match &a.quench {
        Some(files) => {
            let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            let ff = pelx::potential::load(&paths)?;
            Some(a.quench_opts.spec(ff, files.clone(), pelx::potential::DEFAULT_SKIN)?)
        }
        None => None,
    };
    if a.trajectories.len() > 1 && !a.arrhenius {
        bail!(
            "{} trajectories given: several trajectories need --arrhenius (with --temperatures)",
            a.trajectories.len()
        );
    }
    if let Some(dir) = &a.plots {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let mut results = Vec::with_capacity(a.trajectories.len());
    for path in &a.trajectories {
        let d = decompose_trajectory(path, &topts, &opts, quench.as_ref())?;
        tracing::info!(
            "{}: D = {:.4e}, D_RW = {:.4e} Å^2/ps, f = {:.4} ({} frames, {:.1} s)",
            path.display(),
            d.coefficients.d,
            d.coefficients.d_rw,
            d.coefficients.f,
            d.trajectory.frames_analysed,
            d.seconds
        );
        results.push(d);
    }
    let mut inputs: Vec<InputFile> = results
        .iter()
        .map(|d| InputFile {
            path: d.trajectory.path.clone(),
            sha256: d.trajectory.sha256.clone(),
        })
        .collect();
    if let Some(q) = results.first().and_then(|d| d.quench.as_ref()) {
        inputs.extend(q.potential.iter().map(|(p, h)| InputFile {
            path: p.clone(),
            sha256: h.clone(),
        }));
    }
    let prov = Provenance {
        pelx_version: VERSION.to_string(),
        command: std::env::args().collect(),
        inputs,
    };
    let header = |mode| Header {
        schema: "pelx.decompose/1",
        mode,
        pelx_version: VERSION,
        command: prov.command.clone(),
        inputs: &prov.inputs,
    };
    let plots_of = |d: &Decomposition, path: &Path| -> anyhow::Result<Vec<String>> {
        let Some(dir) = &a.plots else { return Ok(Vec::new()) };
        let stem = path
            .file_stem()
            .map_or("trajectory".into(), |s| s.to_string_lossy().to_string());
        let files = plot::write_decomposition_svgs(d, &dir.join(stem))?;
        Ok(files.iter().map(|p| p.display().to_string()).collect())
    };

    if !a.arrhenius {
        let d = &results[0];
        let plots = plots_of(d, &a.trajectories[0])?;
        emit_json(
            &SingleOut {
                header: header("single"),
                result: d,
                plots,
            },
            a.output.as_deref(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    let temps = a.temperatures.as_deref().unwrap_or_default();
    if temps.len() != results.len() {
        bail!(
            "--temperatures lists {} temperature{} for {} trajectories",
            temps.len(),
            if temps.len() == 1 { "" } else { "s" },
            results.len()
        );
    }
    let pairs: Vec<(f64, &Decomposition)> = temps.iter().copied().zip(results.iter()).collect();
    let report = arrhenius_report(&pairs)?;
    let mut plots = Vec::new();
    if let Some(dir) = &a.plots {
        for (d, p) in results.iter().zip(&a.trajectories) {
            plots.extend(plots_of(d, p)?);
        }
        let files = plot::write_arrhenius_svgs(&report, &dir.join("arrhenius"))?;
        plots.extend(files.iter().map(|p| p.display().to_string()));
    }
    let runs = pairs
        .iter()
        .map(|(t, d)| Run {
            temperature: *t,
            result: d,
        })
        .collect();
    emit_json(
        &ArrheniusOut {
            header: header("arrhenius"),
            parameters: &opts,
            arrhenius: &report,
            runs,
            plots,
        },
        a.output.as_deref(),
    )?;
    Ok(ExitCode::SUCCESS)
}
