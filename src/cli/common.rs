//! Arguments and helpers shared by the subcommands: reading structures, loading potentials,
//! writing JSON results.

use anyhow::Context;
use clap::Args;
use pelx::minimize::MinimizerKind;
use pelx::potential::ForceField;
use pelx::structure::io::{read_structure, Format, ReadOptions};
use pelx::structure::Structure;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to read a structure file.
#[derive(Debug, Clone, Args)]
pub struct StructureOpts {
    /// Element names of LAMMPS atom types, in type order (type 1 first), e.g. `Cu,Zr`.
    /// Without it, LAMMPS data files use their Masses comments (`1 63.546 # Cu`) or masses.
    #[arg(long, value_delimiter = ',', value_name = "ELEMENTS")]
    pub species: Option<Vec<String>>,
    /// File format, when the extension does not tell (extxyz, lammps-data, lammps-dump).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<Format>,
}

impl StructureOpts {
    /// Reads a structure and checks it: atoms present, finite coordinates, no two atoms on
    /// top of each other.
    pub fn read(&self, path: &Path) -> anyhow::Result<Structure> {
        let opts = ReadOptions {
            species: self.species.clone(),
            format: self.format,
            ..Default::default()
        };
        let s = read_structure(path, &opts)?;
        tracing::info!("read {} atoms from {}", s.len(), path.display());
        Ok(s)
    }
}

/// The potential: one EAM table (eam/fs, eam/alloy) or one funcfl file per element.
#[derive(Debug, Clone, Args)]
pub struct PotentialOpts {
    /// Potential file(s), the format from the name: `*.eam.fs` (eam/fs), `*.eam.alloy` /
    /// `*.setfl` (eam/alloy), `*.eam` (funcfl; repeat for several elements).
    #[arg(long = "potential", short = 'p', required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Verlet skin of the neighbour list, Å (0 to 5).
    #[arg(long, default_value_t = pelx::potential::DEFAULT_SKIN, value_name = "Å", value_parser = parse_skin)]
    pub skin: f64,
}

/// Parses a threshold that must be a finite number (a NaN would make every comparison false
/// and, for a filter, silently drop every record).
pub fn parse_finite(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("'{text}' is not a finite number")),
    }
}

/// Parses `--skin`: a number that [`pelx::potential::check_skin`] accepts.
fn parse_skin(text: &str) -> Result<f64, String> {
    let skin: f64 = text.parse().map_err(|_| format!("'{text}' is not a number"))?;
    pelx::potential::check_skin(skin).map_err(|e| e.to_string())?;
    Ok(skin)
}

impl PotentialOpts {
    /// Loads the force field.
    pub fn load(&self) -> anyhow::Result<Arc<dyn ForceField>> {
        let paths: Vec<&Path> = self.files.iter().map(PathBuf::as_path).collect();
        Ok(pelx::potential::load(&paths)?)
    }
    /// Input files for provenance.
    pub fn paths(&self) -> Vec<&Path> {
        self.files.iter().map(PathBuf::as_path).collect()
    }
}

/// Refuses to run when an output path names one of the input files, which writing the output
/// would destroy (`pelx network cat.jsonl -o cat.jsonl`). `None` outputs are skipped.
pub fn refuse_overwriting_inputs<'a>(
    inputs: impl IntoIterator<Item = &'a Path>,
    outputs: impl IntoIterator<Item = Option<&'a Path>>,
) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = inputs.into_iter().collect();
    for out in outputs.into_iter().flatten() {
        if let Some(input) = inputs.iter().find(|i| pelx::provenance::same_file(i, out)) {
            anyhow::bail!(
                "the output {} is the input {}: writing it would destroy the input",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Writes a JSON value to `out` (pretty) or to stdout.
pub fn emit_json<T: Serialize>(value: &T, out: Option<&Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    match out {
        Some(p) => std::fs::write(p, text + "\n").with_context(|| format!("writing {}", p.display()))?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`pelx ... | head`) is not an error worth a message.
            if let Err(e) = writeln!(out, "{text}").and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// How trajectory frames are quenched to inherent structures (`pelx decompose --quench`,
/// `pelx rearrangements --quench`), and where the quenched frames are cached.
#[derive(Debug, Clone, Args)]
pub struct QuenchOpts {
    /// Minimizer of the quench.
    #[arg(long, value_enum, default_value_t = MinimizerKind::Cg, requires = "quench")]
    pub quench_method: MinimizerKind,
    /// Convergence of the quench: largest per-atom force, eV/Å.
    #[arg(long, default_value_t = 0.01, value_name = "eV/Å", requires = "quench")]
    pub quench_fmax: f64,
    /// Largest number of minimizer iterations per frame.
    #[arg(long, default_value_t = 10_000, requires = "quench")]
    pub quench_max_iterations: u64,
    /// Directory of the quench cache [default: <TRAJ>.pelx-quench/ beside the trajectory].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache", requires = "quench")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the quench cache.
    #[arg(long, requires = "quench")]
    pub no_cache: bool,
}

impl QuenchOpts {
    /// The quench of the library (`pelx::diffusion::QuenchSpec`) with force field `ff` loaded
    /// from `files` and Verlet skin `skin` (Å).
    pub fn spec(
        &self,
        ff: Arc<dyn ForceField>,
        files: Vec<PathBuf>,
        skin: f64,
    ) -> anyhow::Result<pelx::diffusion::QuenchSpec> {
        use pelx::diffusion::{CachePolicy, QuenchSpec};
        let options = pelx::minimize::MinimizeOptions {
            fmax: self.quench_fmax,
            max_iterations: self.quench_max_iterations,
            ..Default::default()
        };
        options.validate()?;
        Ok(QuenchSpec {
            force_field: ff,
            potential_files: files,
            method: self.quench_method,
            options,
            skin,
            cache: match (&self.cache_dir, self.no_cache) {
                (_, true) => CachePolicy::Off,
                (Some(d), false) => CachePolicy::Dir(d.clone()),
                (None, false) => CachePolicy::BesideTrajectory,
            },
        })
    }
}
