//! `pelx energy`: energy, per-atom maximum force and optionally forces of a structure.

use super::common::{emit_json, refuse_overwriting_inputs, PotentialOpts, StructureOpts};
use clap::Args;
use pelx::potential::{fmax, Calculator};
use pelx::provenance::Provenance;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx energy configs/CuZr50_500.extxyz --potential potentials/CuZr_mm.eam.fs
  pelx energy sample.data --species Cu,Zr -p potentials/CuZr_mm.eam.fs --forces --per-atom";

#[derive(Debug, Args)]
pub struct EnergyArgs {
    /// Structure file (extended XYZ, LAMMPS data, LAMMPS dump: first frame).
    pub structure: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Include the forces (eV/Å) in the output.
    #[arg(long)]
    pub forces: bool,
    /// Include per-atom energies (eV) in the output.
    #[arg(long)]
    pub per_atom: bool,
    /// Write the JSON result to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Serialize)]
struct EnergyOut {
    schema: &'static str,
    energy: f64,
    energy_per_atom: f64,
    natoms: usize,
    fmax: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    forces: Option<Vec<[f64; 3]>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_atom_energy: Option<Vec<f64>>,
    potential: String,
    structure_sha256: String,
    provenance: Provenance,
}

pub fn run(a: &EnergyArgs) -> anyhow::Result<ExitCode> {
    let inputs = std::iter::once(a.structure.as_path()).chain(a.potential.paths());
    refuse_overwriting_inputs(inputs, [a.output.as_deref()])?;
    let s = a.read.read(&a.structure)?;
    let ff = a.potential.load()?;
    let mut calc = Calculator::new(ff.clone()).with_skin(a.potential.skin);
    let (e, f, pa) = calc.energy_forces_per_atom(&s)?;
    let mut inputs = vec![a.structure.as_path()];
    inputs.extend(a.potential.paths());
    let out = EnergyOut {
        schema: "pelx.energy/1",
        energy: e,
        energy_per_atom: e / s.len() as f64,
        natoms: s.len(),
        fmax: fmax(&f),
        forces: a.forces.then_some(f),
        per_atom_energy: a.per_atom.then_some(pa),
        potential: ff.describe(),
        structure_sha256: s.content_hash(),
        provenance: Provenance::new(&inputs)?,
    };
    emit_json(&out, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
