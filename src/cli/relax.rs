//! `pelx relax`: minimize a structure to a maximum per-atom force.

use super::common::{emit_json, refuse_overwriting_inputs, PotentialOpts, StructureOpts};
use clap::Args;
use pelx::minimize::{minimize, MinimizeOptions, MinimizeResult, MinimizerKind};
use pelx::potential::Calculator;
use pelx::provenance::Provenance;
use pelx::structure::io::{write_structure, WriteOptions};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx relax configs/CuZr50_500.extxyz -p potentials/CuZr_mm.eam.fs --fmax 0.001 -o relaxed.extxyz
  pelx relax quenched.data --species Cu,Zr -p potentials/CuZr_mm.eam.fs --method lbfgs -o is.data

Exit status: 0 when converged, 1 when the minimizer stopped before reaching --fmax (the JSON
says why and the last structure is still written), 2 on errors.";

#[derive(Debug, Args)]
pub struct RelaxArgs {
    /// Structure file (extended XYZ, LAMMPS data, LAMMPS dump: first frame).
    pub structure: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Convergence: largest per-atom force, eV/Å.
    #[arg(long, default_value_t = 0.01)]
    pub fmax: f64,
    /// Minimizer.
    #[arg(long, value_enum, default_value_t = MinimizerKind::Fire)]
    pub method: MinimizerKind,
    /// Largest number of iterations.
    #[arg(long, default_value_t = 10_000)]
    pub max_iterations: u64,
    /// Largest displacement of any atom in one step, Å.
    #[arg(long, default_value_t = 0.2)]
    pub max_step: f64,
    /// Write the relaxed structure here (format from the extension).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the JSON summary to this file instead of stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Serialize)]
struct RelaxOut {
    schema: &'static str,
    natoms: usize,
    #[serde(flatten)]
    result: MinimizeResult,
    potential: String,
    output: Option<String>,
    provenance: Provenance,
}

pub fn run(a: &RelaxArgs) -> anyhow::Result<ExitCode> {
    let inputs = std::iter::once(a.structure.as_path()).chain(a.potential.paths());
    refuse_overwriting_inputs(inputs, [a.output.as_deref(), a.json.as_deref()])?;
    let mut s = a.read.read(&a.structure)?;
    let ff = a.potential.load()?;
    let mut calc = Calculator::new(ff.clone()).with_skin(a.potential.skin);
    let opts = MinimizeOptions {
        fmax: a.fmax,
        max_iterations: a.max_iterations,
        max_step: a.max_step,
        ..Default::default()
    };
    opts.validate()?;
    let result = minimize(a.method, &mut s, &mut calc, &opts)?;
    if let Some(out) = &a.output {
        let (e, f) = calc.energy_forces(&s)?;
        let w = WriteOptions {
            energy: Some(e),
            forces: Some(&f),
            ..Default::default()
        };
        write_structure(out, &s, None, &w)?;
    }
    let mut inputs = vec![a.structure.as_path()];
    inputs.extend(a.potential.paths());
    let converged = result.converged;
    let out = RelaxOut {
        schema: "pelx.relax/1",
        natoms: s.len(),
        result,
        potential: ff.describe(),
        output: a.output.as_ref().map(|p| p.display().to_string()),
        provenance: Provenance::new(&inputs)?,
    };
    emit_json(&out, a.json.as_deref())?;
    Ok(if converged {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
