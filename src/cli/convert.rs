//! `pelx convert`: structure files from one format to another.

use super::common::{refuse_overwriting_inputs, StructureOpts};
use clap::Args;
use pelx::structure::io::{to_lammps_orientation, write_structure, Format, FrameSelect, ReadOptions, WriteOptions};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx convert configs/CuZr50_500.data --species Cu,Zr glass.extxyz
  pelx convert md.dump --frame last --species Cu,Zr last.data
  pelx convert glass.extxyz glass.lmp --out-format lammps-data";

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input structure (extended XYZ, LAMMPS data, LAMMPS dump).
    pub input: PathBuf,
    /// Output file; its format follows the extension unless --out-format is given.
    pub output: PathBuf,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Output format (extxyz, lammps-data, lammps-dump).
    #[arg(long, value_name = "FORMAT")]
    pub out_format: Option<Format>,
    /// Frame of a multi-frame input: first, last, or an index (0-based).
    #[arg(long, default_value = "first")]
    pub frame: FrameSelect,
}

pub fn run(a: &ConvertArgs) -> anyhow::Result<ExitCode> {
    refuse_overwriting_inputs([a.input.as_path()], [Some(a.output.as_path())])?;
    let opts = ReadOptions {
        species: a.read.species.clone(),
        format: a.read.format,
        frame: a.frame,
        ..Default::default()
    };
    let mut s = pelx::structure::io::read_structure(&a.input, &opts)?;
    let out_format = match a.out_format {
        Some(f) => f,
        None => Format::from_path(&a.output)?,
    };
    if out_format != Format::ExtXyz && !s.cell.is_lammps_oriented() {
        tracing::warn!("rotating the cell into LAMMPS orientation (a along x, b in the xy plane)");
        s = to_lammps_orientation(&s)?;
    }
    write_structure(&a.output, &s, Some(out_format), &WriteOptions::default())?;
    eprintln!("wrote {} atoms to {} ({})", s.len(), a.output.display(), out_format);
    Ok(ExitCode::SUCCESS)
}
