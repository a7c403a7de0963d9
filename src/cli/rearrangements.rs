//! `pelx rearrangements`: climbing-image NEB barriers of the rearrangements between
//! consecutive frames of an MD trajectory (parsing and printing only; the work is in
//! `pelx::rearrange`).

use super::common::{PotentialOpts, QuenchOpts, StructureOpts};
use anyhow::bail;
use clap::Args;
use pelx::diffusion::{TrajectoryOptions, Unwrap};
use pelx::provenance::InputFile;
use pelx::provenance::{file_sha256, Provenance};
use pelx::rearrange::{
    find_pairs, first_spacing, run as run_analysis, run_info, sample_pairs, Line, OutputMode, RearrangeOptions,
};
use pelx::saddle::neb::{BandOptimizer, NebOptions};
use pelx::structure::io::ReadOptions;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx rearrangements md.dump --species Cu,Zr -p potentials/CuZr_mm.eam.fs --interval 1 \\
      --quench --min-disp 1 --sample 5000 --seed 1 -o rearr.jsonl
  pelx rearrangements md.dump --species Cu,Zr -p potentials/CuZr_mm.eam.fs --interval 1 \\
      --quench --min-disp 1 --sample 5000 --seed 1 -o rearr.jsonl --resume
  pelx asym rearr.jsonl --min-disp 1,1.5,2.5 -o asym-md.json --plot figs/

Consecutive frames --interval ps apart (quenched to inherent structures with --quench, cached
as `pelx decompose --quench` caches them) whose largest minimum-image atomic displacement is
>= --min-disp Å; --sample N of them drawn with --seed; a climbing-image NEB on each, in
parallel. Interior images of each band are relaxed: one that falls into a minimum different
from both ends splits the path, and the elementary barriers of the segments are reported too.
One JSON line per pair in task order (schemas/rearrangements.schema.json); `pelx asym` reads
the file like an ART catalog. Exit status: 0 when every band converged, 1 when some did not
or failed (recorded with the reason), 2 on errors.";

#[derive(Debug, Args)]
pub struct RearrangementsArgs {
    /// Trajectory: LAMMPS dump or extended XYZ.
    #[arg(value_name = "TRAJ")]
    pub trajectory: PathBuf,
    #[command(flatten)]
    pub read: StructureOpts,
    #[command(flatten)]
    pub potential: PotentialOpts,
    /// Time between compared frames, ps (the paper: 1 ps) [default: the spacing of the first
    /// two frames].
    #[arg(long, value_name = "PS")]
    pub interval: Option<f64>,
    /// Time of one dump TIMESTEP, ps (LAMMPS metal units: 0.001).
    #[arg(long, default_value_t = 0.001, value_name = "PS")]
    pub md_timestep: f64,
    /// Time between frames that carry no timestep (extended XYZ), ps [default: the interval].
    #[arg(long, value_name = "PS")]
    pub frame_spacing: Option<f64>,
    /// Skip frames earlier than this, ps after the first frame.
    #[arg(long, default_value_t = 0.0, value_name = "PS")]
    pub start: f64,
    /// Keep pairs whose largest atomic displacement is at least this, Å.
    #[arg(long, default_value_t = 1.0, value_name = "Å")]
    pub min_disp: f64,
    /// Atoms displaced by more than this count as moved, Å.
    #[arg(long, default_value_t = 0.5, value_name = "Å")]
    pub moved: f64,
    /// Analyse this many pairs, drawn without replacement [default: all that pass].
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Seed of the draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Minimize every frame first (inherent structures), with the --potential; cached.
    #[arg(long)]
    pub quench: bool,
    #[command(flatten)]
    pub quench_opts: QuenchOpts,
    /// Intermediate images of each band.
    #[arg(long, default_value_t = 7)]
    pub images: usize,
    /// Convergence of the bands: largest NEB force per atom, eV/Å.
    #[arg(long, default_value_t = 0.01, value_name = "eV/Å")]
    pub fmax: f64,
    /// Step limit of each band.
    #[arg(long, default_value_t = 2000)]
    pub max_steps: usize,
    /// Spring constant, eV/Å^2.
    #[arg(long, default_value_t = 1.0)]
    pub spring: f64,
    /// Band optimizer.
    #[arg(long, value_enum, default_value_t = BandOptimizer::Fire)]
    pub optimizer: BandOptimizer,
    /// Force tolerance of the endpoint and image relaxations, eV/Å.
    #[arg(long, default_value_t = 1e-3, value_name = "eV/Å")]
    pub relax_fmax: f64,
    /// Skip the finite-difference Hessian check at each climbing image.
    #[arg(long)]
    pub no_curvature: bool,
    /// Do not look for intermediate minima (no image relaxations, no segment NEBs).
    #[arg(long)]
    pub no_split: bool,
    /// Two minima are the same when no atom is farther apart than this, Å.
    #[arg(long, default_value_t = 0.1, value_name = "Å")]
    pub distinct_tol: f64,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Continue an interrupted run in -o (same trajectory, potential, options and seed).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Overwrite an existing output.
    #[arg(long)]
    pub force: bool,
    /// The JSON-lines output.
    #[arg(short, long, value_name = "OUT.jsonl")]
    pub output: PathBuf,
}

pub fn run(a: &RearrangementsArgs) -> anyhow::Result<ExitCode> {
    if a.resume && !a.output.is_file() {
        bail!("--resume: {} does not exist", a.output.display());
    }
    if !a.resume && !a.force && a.output.exists() {
        bail!(
            "{} exists: give --resume to continue it or --force to overwrite it",
            a.output.display()
        );
    }
    let topts = TrajectoryOptions {
        read: ReadOptions {
            format: a.read.format,
            species: a.read.species.clone(),
            ..Default::default()
        },
        md_timestep: a.md_timestep,
        frame_spacing: a.frame_spacing,
        start: a.start,
        unwrap: Unwrap::Auto,
    };
    topts.validate()?;
    let interval = match a.interval {
        Some(i) => i,
        None => first_spacing(&a.trajectory, &topts)?,
    };
    let ff = a.potential.load()?;
    let quench = if a.quench {
        Some(
            a.quench_opts
                .spec(ff.clone(), a.potential.files.clone(), a.potential.skin)?,
        )
    } else {
        None
    };
    let opts = RearrangeOptions {
        min_disp: a.min_disp,
        moved_threshold: a.moved,
        sample: a.sample,
        seed: a.seed,
        neb: NebOptions {
            images: a.images,
            fmax: a.fmax,
            max_steps: a.max_steps,
            spring: a.spring,
            optimizer: a.optimizer,
            relax_fmax: a.relax_fmax,
            check_curvature: !a.no_curvature,
            skin: a.potential.skin,
            ..NebOptions::default()
        },
        split: pelx::rearrange::SplitOptions {
            enabled: !a.no_split,
            distinct_tol: a.distinct_tol,
            ..Default::default()
        },
    };
    opts.validate()?;
    let pairs = find_pairs(&a.trajectory, &topts, interval, quench.as_ref(), &opts)?;
    let tasks = sample_pairs(pairs.candidates.len(), opts.sample, opts.seed).len();
    eprintln!(
        "{} frames, {} pairs, {} with an atom displaced >= {} Å; NEB on {tasks}",
        pairs.stream.frames_kept,
        pairs.pairs_total,
        pairs.candidates.len(),
        opts.min_disp
    );
    let sha = a
        .potential
        .files
        .iter()
        .map(|p| file_sha256(p))
        .collect::<pelx::Result<Vec<_>>>()?;
    // The trajectory was hashed while it was streamed and the potentials just above: reuse
    // both hashes rather than reading the files again.
    let mut inputs = vec![InputFile {
        path: a.trajectory.display().to_string(),
        sha256: pairs.stream.sha256.clone(),
    }];
    inputs.extend(a.potential.files.iter().zip(&sha).map(|(p, h)| InputFile {
        path: p.display().to_string(),
        sha256: h.clone(),
    }));
    let mut info = run_info(&pairs, &a.trajectory, interval, ff.as_ref(), sha, &opts, tasks);
    info.provenance = serde_json::to_value(Provenance::with_hashes(inputs))?;
    let mode = if a.resume {
        OutputMode::Resume
    } else {
        OutputMode::Create
    };
    let mut written = 0usize;
    let mut on_line = |l: &Line| {
        written += 1;
        match l {
            Line::Rearrangement(r) => tracing::info!(
                "task {} (frames {}-{}): E_fw {:.4} eV, E_rev {:.4} eV{}{}",
                r.task,
                r.pair.frame,
                r.pair.frame + 1,
                r.e_fw,
                r.e_rev,
                if r.converged { "" } else { " (not converged)" },
                if r.intermediate_minima > 0 {
                    format!(", {} intermediate minima", r.intermediate_minima)
                } else {
                    String::new()
                }
            ),
            Line::Failure(f) => tracing::warn!("task {} failed: {}", f.task, f.reason),
            Line::Run(_) => {}
        }
    };
    let s = run_analysis(&pairs, &info, ff, &a.output, mode, a.threads, &mut on_line)?;
    eprintln!(
        "{} pairs analysed now ({} already in the file), {} split at intermediate minima, {} not converged, {} failed; \
         {} force calls, {:.1} s on {} threads -> {}",
        s.analysed + s.failures,
        s.already_done,
        s.split,
        s.not_converged,
        s.failures,
        s.force_calls,
        s.wall_seconds,
        s.threads,
        a.output.display()
    );
    Ok(if s.failures + s.not_converged == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
