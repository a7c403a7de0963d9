//! `pelx kmc`: kinetic Monte Carlo estimates of the diffusion correlation factor f.
//! Parsing and printing only; the physics is in `pelx::kmc`.

use super::common::emit_json;
use pelx::kmc::landscape::Dial;
use pelx::kmc::lattice::{run_lattice, Lattice, LatticeParams, LatticeReport, LatticeTrajectory};
use pelx::kmc::plot::write_whatif_svgs;
use pelx::kmc::read_config;
use pelx::kmc::trajectory::{TrajectoryFormat, TrajectoryWriter};
use pelx::kmc::whatif::{run_whatif, CatalogConfig, WhatifConfig, WhatifTrajectory};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx kmc lattice --lattice fcc --hops 1e8 --seed 1
  pelx kmc lattice --lattice honeycomb --size 16 --hops 1e5 --trajectory honeycomb.dump --frame-every 1000
  pelx kmc whatif --temperatures 600,650,700,750,800 --asymmetry 0,0.5,1 -o whatif.json --svg whatif
  pelx kmc whatif --catalog art.jsonl --min-displacement 1.0 --temperatures 600,700,800

Exit status: 0 on success; 1 when a what-if temperature's f did not settle within its run (the
JSON flags it: \"converged\": false); 2 on errors.";

/// Kinetic Monte Carlo estimates of the correlation factor f: vacancy-tracer diffusion on
/// lattices (the check against exact values) and what-if landscapes with dialled asymmetry.
#[derive(clap::Args, Debug)]
pub struct KmcArgs {
    #[command(subcommand)]
    pub command: KmcCommand,
}

/// The `pelx kmc` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum KmcCommand {
    /// One vacancy on a periodic lattice, every atom a tracer: f = <R^2>/(n a^2) with jackknife errors.
    #[command(
        long_about = "One vacancy on a periodic lattice, every atom a tracer: f = <R^2>/(n a^2) \
                            with one-sigma jackknife errors over blocks, compared with the exact value.\n\n\
                            Example: pelx kmc lattice --lattice bcc --hops 1e8 --seed 7 -o bcc.json"
    )]
    Lattice(LatticeArgs),
    /// What-if landscapes: D, D_RW and f = D/D_RW over temperature against barrier asymmetry.
    #[command(
        long_about = "What-if landscapes: a quenched lattice of basins and saddles whose barrier pairs \
                            are parametric (asymmetry dialled at a fixed forward-barrier distribution) or \
                            harvested from a pelx art catalog. For each temperature D from the tracer MSD, \
                            D_RW from the same hops in random directions, f = D/D_RW; Arrhenius fits give \
                            E_D = E_RW + E_f. Defaults: configs/kmc-whatif.toml.\n\n\
                            Example: pelx kmc whatif --temperatures 600,650,700,750,800 --asymmetry 0,0.5,1 \
                            -o whatif.json --svg whatif\n\
                            Example: pelx kmc whatif --catalog art.jsonl --min-displacement 1.0 --temperatures 600,700,800"
    )]
    Whatif(WhatifArgs),
}

/// Arguments of `pelx kmc lattice`.
#[derive(clap::Args, Debug)]
pub struct LatticeArgs {
    /// fcc, bcc, sc, diamond, square, triangular or honeycomb [default: the config's, else fcc].
    #[arg(long, value_parser = parse_lattice)]
    pub lattice: Option<Lattice>,
    /// Conventional cells per axis [default: about 16,000 sites].
    #[arg(long)]
    pub size: Option<usize>,
    /// Vacancy jumps in the run (1e8 notation accepted) [default: 1e8].
    #[arg(long, value_parser = parse_count)]
    pub hops: Option<u64>,
    /// Blocks for the jackknife error [default: 32].
    #[arg(long)]
    pub blocks: Option<usize>,
    /// Lags kept in the correlation sum [default: 16].
    #[arg(long)]
    pub window: Option<usize>,
    /// Seed of the random stream [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// TOML file with any of lattice, size, hops, blocks, window, seed (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Write the JSON result here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write all atoms' unwrapped positions (.dump/.lammpstrj or .xyz/.extxyz).
    #[arg(long)]
    pub trajectory: Option<PathBuf>,
    /// Vacancy jumps between trajectory frames.
    #[arg(long, default_value_t = 1000, value_parser = parse_count)]
    pub frame_every: u64,
    /// Nearest-neighbour distance for the trajectory, Å.
    #[arg(long, default_value_t = 2.556)]
    pub nn_distance: f64,
}

/// Arguments of `pelx kmc whatif`.
#[derive(clap::Args, Debug)]
pub struct WhatifArgs {
    /// TOML run configuration (the flags below override it) [default: the built-in copy of
    /// configs/kmc-whatif.toml].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Temperatures, K, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub temperatures: Option<Vec<f64>>,
    /// Asymmetry levels a in [0, 1], comma-separated (parametric barriers).
    #[arg(long, value_delimiter = ',')]
    pub asymmetry: Option<Vec<f64>>,
    /// Mean forward barrier over the landscape's links, eV (parametric barriers).
    #[arg(long)]
    pub fw_mean: Option<f64>,
    /// Standard deviation of the forward barriers, eV (parametric barriers).
    #[arg(long)]
    pub fw_sd: Option<f64>,
    /// Hop length, Å (parametric barriers).
    #[arg(long)]
    pub hop_length: Option<f64>,
    /// What the asymmetry dial holds fixed: fixed-forward (the forward-barrier distribution;
    /// asymmetry replaces saddle disorder) or fixed-saddle (asymmetry adds to saddle disorder).
    #[arg(long, value_parser = parse_dial)]
    pub dial: Option<Dial>,
    /// Take barrier pairs from this pelx art catalog instead.
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Keep catalog events whose max displacement is at least this, Å [default: 1].
    #[arg(long)]
    pub min_displacement: Option<f64>,
    /// Keep catalog events that failed the saddle checks too.
    #[arg(long)]
    pub include_unverified: bool,
    /// Independent walkers (tracers).
    #[arg(long)]
    pub walkers: Option<usize>,
    /// Measured hops per walker (1e5 notation accepted).
    #[arg(long, value_parser = parse_count)]
    pub hops: Option<u64>,
    /// Hops per walker discarded before measuring.
    #[arg(long, value_parser = parse_count)]
    pub burn_in: Option<u64>,
    /// Attempt frequency, 1/ps.
    #[arg(long)]
    pub attempt_frequency: Option<f64>,
    /// Lattice of basins: fcc, bcc or sc.
    #[arg(long, value_parser = parse_lattice)]
    pub network: Option<Lattice>,
    /// Least height of a saddle above either basin, eV.
    #[arg(long)]
    pub min_barrier: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the JSON result here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write SVG figures PREFIX-f.svg (f against 1/T) and PREFIX-ef.svg (E_f against asymmetry).
    #[arg(long, value_name = "PREFIX")]
    pub svg: Option<PathBuf>,
    /// Write the walkers' unwrapped trajectories (one level and one temperature only).
    #[arg(long, requires = "frame_interval")]
    pub trajectory: Option<PathBuf>,
    /// Simulated time between trajectory frames, ps.
    #[arg(long)]
    pub frame_interval: Option<f64>,
}

/// Runs `pelx kmc`.
pub fn run(args: &KmcArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        KmcCommand::Lattice(a) => run_lattice_cmd(a),
        KmcCommand::Whatif(a) => run_whatif_cmd(a),
    }
}

fn run_whatif_cmd(a: &WhatifArgs) -> anyhow::Result<ExitCode> {
    let mut c: WhatifConfig = match &a.config {
        Some(path) => read_config(path)?,
        None => WhatifConfig::default(),
    };
    if let Some(path) = &a.catalog {
        if a.asymmetry.is_some()
            || a.fw_mean.is_some()
            || a.fw_sd.is_some()
            || a.hop_length.is_some()
            || a.dial.is_some()
        {
            anyhow::bail!(
                "--asymmetry, --fw-mean, --fw-sd, --hop-length and --dial describe parametric barriers, not a catalog"
            );
        }
        c.parametric = None;
        c.catalog = Some(CatalogConfig {
            path: path.clone(),
            min_displacement: a.min_displacement.unwrap_or(1.0),
            verified_only: !a.include_unverified,
        });
    } else if let Some(cat) = c.catalog.as_mut() {
        if let Some(d) = a.min_displacement {
            cat.min_displacement = d;
        }
        cat.verified_only &= !a.include_unverified;
    }
    if let Some(p) = c.parametric.as_mut() {
        p.asymmetry = a.asymmetry.clone().unwrap_or(std::mem::take(&mut p.asymmetry));
        p.fw_mean = a.fw_mean.unwrap_or(p.fw_mean);
        p.fw_sd = a.fw_sd.unwrap_or(p.fw_sd);
        p.hop_length = a.hop_length.unwrap_or(p.hop_length);
        p.dial = a.dial.unwrap_or(p.dial);
    }
    if let Some(t) = &a.temperatures {
        c.temperatures = t.clone();
    }
    c.walkers = a.walkers.unwrap_or(c.walkers);
    c.hops = a.hops.unwrap_or(c.hops);
    c.burn_in = a.burn_in.unwrap_or(c.burn_in);
    c.attempt_frequency = a.attempt_frequency.unwrap_or(c.attempt_frequency);
    c.network = a.network.unwrap_or(c.network);
    c.min_barrier = a.min_barrier.unwrap_or(c.min_barrier);
    c.seed = a.seed.unwrap_or(c.seed);
    c.validate()?;
    if a.trajectory.is_some() {
        c.validate_trajectory()?;
    }
    let mut writer = match &a.trajectory {
        Some(path) => Some(TrajectoryWriter::create(path, TrajectoryFormat::from_path(path)?)?),
        None => None,
    };
    let traj = writer.as_mut().map(|w| WhatifTrajectory {
        writer: w,
        interval: a.frame_interval.unwrap_or(f64::NAN),
    });
    let report = run_whatif(&c, traj).inspect_err(|_| remove_partial(a.trajectory.as_deref()))?;
    if let Some(prefix) = &a.svg {
        for p in write_whatif_svgs(&report, prefix)? {
            eprintln!("wrote {}", p.display());
        }
    }
    emit_json(&report, a.output.as_deref())?;
    let unsettled: Vec<String> = report
        .levels
        .iter()
        .flat_map(|l| {
            l.scan
                .points
                .iter()
                .filter(|p| !p.converged)
                .map(move |p| (l.asymmetry, p.temperature))
        })
        .map(|(a, t)| match a {
            Some(a) => format!("a = {a} at {t} K"),
            None => format!("{t} K"),
        })
        .collect();
    if unsettled.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        tracing::warn!(
            "f did not settle within the run ({}); use more hops",
            unsettled.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}

fn run_lattice_cmd(a: &LatticeArgs) -> anyhow::Result<ExitCode> {
    let mut p: LatticeParams = match &a.config {
        Some(path) => read_config(path)?,
        None => LatticeParams::default(),
    };
    if let Some(l) = a.lattice {
        p.lattice = l;
    }
    if a.size.is_some() {
        p.size = a.size;
    }
    p.hops = a.hops.unwrap_or(p.hops);
    p.blocks = a.blocks.unwrap_or(p.blocks);
    p.window = a.window.unwrap_or(p.window);
    p.seed = a.seed.unwrap_or(p.seed);
    p.validate()?;
    let mut writer = match &a.trajectory {
        Some(path) => Some(TrajectoryWriter::create(path, TrajectoryFormat::from_path(path)?)?),
        None => None,
    };
    let traj = writer.as_mut().map(|w| LatticeTrajectory {
        writer: w,
        every: a.frame_every,
        nn_distance: a.nn_distance,
    });
    let result = run_lattice(&p, traj).inspect_err(|_| remove_partial(a.trajectory.as_deref()))?;
    emit_json(&LatticeReport::new(result)?, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

/// Removes the trajectory file of a run that failed (a check of the trajectory options, or the
/// run itself), rather than leave an empty or partial file that looks like output.
fn remove_partial(trajectory: Option<&Path>) {
    if let Some(path) = trajectory {
        let _ = std::fs::remove_file(path);
    }
}

fn parse_dial(s: &str) -> Result<Dial, String> {
    match s.replace('-', "_").as_str() {
        "fixed_forward" => Ok(Dial::FixedForward),
        "fixed_saddle" => Ok(Dial::FixedSaddle),
        _ => Err(format!("unknown dial '{s}' (expected fixed-forward or fixed-saddle)")),
    }
}

fn parse_lattice(s: &str) -> Result<Lattice, String> {
    s.parse().map_err(|e: pelx::Error| e.to_string())
}

/// A non-negative integer, also written as `1e8` or `2.5e6`.
fn parse_count(s: &str) -> Result<u64, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    match s.parse::<f64>() {
        Ok(x) if x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => Ok(x as u64),
        Ok(x) if x.fract() == 0.0 && x >= 1.8e19 => Err(format!("'{s}' is too many steps (at most 1.8e19)")),
        _ => Err(format!("'{s}' is not a whole number of steps")),
    }
}
