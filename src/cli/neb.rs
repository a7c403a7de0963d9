//! `pelx neb`: climbing-image nudged elastic band between two minima, written as `PATH.json`
//! plus the saddle (and optionally the whole band) as extended XYZ.

use super::common::{emit_json, refuse_overwriting_inputs, PotentialOpts, StructureOpts};
use anyhow::Context;
use clap::Args;
use pelx::provenance::{file_sha256, Provenance};
use pelx::saddle::neb::{neb, BandOptimizer, Interpolation, NebOptions, NebResult};
use pelx::structure::io::{write_structure, Format, WriteOptions};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx neb initial.extxyz final.extxyz --potential potentials/Cu_u3.eam --climb -o PATH.json
  pelx neb a.data b.data --species Cu,Zr -p potentials/CuZr_mm.eam.fs --images 9 --climb \\
      --interp linear --fmax 0.02 -o hop.json --band hop_band.extxyz
  pelx neb a.extxyz b.extxyz -p potentials/Cu_mishin1.eam.alloy --config neb.toml -o PATH.json

PATH.json holds every image's energy, reaction coordinate and largest NEB force, the saddle
energy (the climbing image with --climb, otherwise the highest image), forward and reverse
barriers, a cubic energy profile, force calls, convergence and the curvature check at the
climbing image. The saddle goes to --saddle (default: PATH.saddle.extxyz beside -o).
Exit status 1 when the band did not converge or the climbing image is not a first-order saddle
(the JSON is written either way), 2 on errors.";

#[derive(Debug, Args)]
pub struct NebArgs {
    /// Initial minimum (extended XYZ, LAMMPS data, LAMMPS dump: first frame).
    pub initial: PathBuf,
    /// Final minimum: the same atoms, in the same order, in the same cell.
    #[arg(value_name = "FINAL")]
    pub final_: PathBuf,
    #[command(flatten)]
    pub potential: PotentialOpts,
    #[command(flatten)]
    pub read: StructureOpts,
    /// Intermediate images (the band holds images + 2 structures) [default: 7].
    #[arg(long)]
    pub images: Option<usize>,
    /// Let the highest image climb to the saddle point (the exact barrier; without it the
    /// barrier is the highest image's, an estimate from below).
    #[arg(long)]
    pub climb: bool,
    /// Convergence: largest per-atom NEB force over the images, eV/Å [default: 0.01].
    #[arg(long, value_name = "EV/Å")]
    pub fmax: Option<f64>,
    /// Initial path [default: idpp].
    #[arg(long, value_enum)]
    pub interp: Option<Interpolation>,
    /// Spring constant, eV/Å² [default: 1.0].
    #[arg(long, value_name = "EV/Å²")]
    pub spring: Option<f64>,
    /// Energy-weighted springs: the spring constant below the higher endpoint's energy, eV/Å²
    /// (rising to --spring at the highest image).
    #[arg(long, value_name = "EV/Å²")]
    pub spring_min: Option<f64>,
    /// Start climbing once the largest NEB force is below this, eV/Å [default: 0.5].
    #[arg(long, value_name = "EV/Å", conflicts_with = "climb_from_start")]
    pub climb_after: Option<f64>,
    /// Climb from the first step.
    #[arg(long)]
    pub climb_from_start: bool,
    /// Step limit of the band optimization [default: 2000].
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Band optimizer: fire, or lbfgs (fewer force calls on smooth paths) [default: fire].
    #[arg(long, value_enum)]
    pub optimizer: Option<BandOptimizer>,
    /// Largest displacement of any atom in one step, Å [default: 0.2].
    #[arg(long, value_name = "Å")]
    pub max_step: Option<f64>,
    /// Use the endpoints as given instead of relaxing them first.
    #[arg(long)]
    pub no_relax_ends: bool,
    /// Force tolerance of the endpoint relaxations, eV/Å [default: 0.001].
    #[arg(long, value_name = "EV/Å")]
    pub relax_fmax: Option<f64>,
    /// Skip the finite-difference Hessian check at the climbing image.
    #[arg(long)]
    pub no_curvature: bool,
    /// TOML file with NEB options (the keys of the library's `NebOptions`, e.g. `images = 9`,
    /// `spring = 2.0`, `[fire]` dt = 0.1); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write PATH.json here instead of stdout.
    #[arg(short, long, value_name = "PATH.json")]
    pub output: Option<PathBuf>,
    /// Write the saddle structure (extended XYZ) here [default: beside -o as *.saddle.extxyz].
    #[arg(long, value_name = "FILE")]
    pub saddle: Option<PathBuf>,
    /// Also write every image of the final band (extended XYZ, one frame per image).
    #[arg(long, value_name = "FILE")]
    pub band: Option<PathBuf>,
}

impl NebArgs {
    /// Options from the defaults, the config file and the flags, in that order.
    pub fn options(&self) -> anyhow::Result<NebOptions> {
        let mut o = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                let mut table: toml::Table =
                    toml::from_str(&text).with_context(|| format!("{}: not valid TOML", p.display()))?;
                // As on the command line, climbing is asked for explicitly.
                table.entry("climb").or_insert(toml::Value::Boolean(false));
                table
                    .try_into::<NebOptions>()
                    .with_context(|| format!("{}: invalid NEB options", p.display()))?
            }
            None => NebOptions {
                climb: false,
                ..NebOptions::default()
            },
        };
        if self.climb {
            o.climb = true;
        }
        if let Some(v) = self.images {
            o.images = v;
        }
        if let Some(v) = self.fmax {
            o.fmax = v;
        }
        if let Some(v) = self.interp {
            o.interpolation = v;
        }
        if let Some(v) = self.spring {
            o.spring = v;
        }
        if self.spring_min.is_some() {
            o.spring_min = self.spring_min;
        }
        if self.climb_after.is_some() {
            o.climb_after = self.climb_after;
        }
        if self.climb_from_start {
            o.climb_after = None;
        }
        if let Some(v) = self.max_steps {
            o.max_steps = v;
        }
        if let Some(v) = self.max_step {
            o.max_step = v;
        }
        if let Some(v) = self.optimizer {
            o.optimizer = v;
        }
        if self.no_relax_ends {
            o.relax_ends = false;
        }
        if let Some(v) = self.relax_fmax {
            o.relax_fmax = v;
        }
        o.skin = self.potential.skin;
        if self.no_curvature {
            o.check_curvature = false;
        }
        o.validate()?;
        Ok(o)
    }

    /// Where the saddle goes: --saddle, or beside -o.
    fn saddle_path(&self) -> Option<PathBuf> {
        self.saddle.clone().or_else(|| {
            self.output.as_ref().map(|o| {
                let stem = o.file_stem().and_then(|s| s.to_str()).unwrap_or("PATH");
                o.with_file_name(format!("{stem}.saddle.extxyz"))
            })
        })
    }
}

#[derive(Serialize)]
struct InputStructure {
    path: String,
    sha256: String,
    structure_sha256: String,
    natoms: usize,
}

#[derive(Serialize)]
struct NebOut<'a> {
    schema: &'static str,
    pelx_version: &'static str,
    initial: InputStructure,
    #[serde(rename = "final")]
    final_: InputStructure,
    potential: String,
    parameters: &'a NebOptions,
    #[serde(flatten)]
    result: &'a NebResult,
    saddle_structure: Option<String>,
    band_structures: Option<String>,
    provenance: Provenance,
}

fn input(path: &Path, s: &pelx::structure::Structure) -> anyhow::Result<InputStructure> {
    Ok(InputStructure {
        path: path.display().to_string(),
        sha256: file_sha256(path)?,
        structure_sha256: s.content_hash(),
        natoms: s.len(),
    })
}

pub fn run(a: &NebArgs) -> anyhow::Result<ExitCode> {
    let inputs = [a.initial.as_path(), a.final_.as_path()]
        .into_iter()
        .chain(a.config.as_deref())
        .chain(a.potential.paths());
    refuse_overwriting_inputs(inputs, [a.output.as_deref(), a.saddle.as_deref(), a.band.as_deref()])?;
    let opts = a.options()?;
    let ini = a.read.read(&a.initial)?;
    let fin = a.read.read(&a.final_)?;
    let ff = a.potential.load()?;
    let r = neb(&ini, &fin, ff.clone(), &opts)?;

    let saddle_path = a.saddle_path();
    if let Some(p) = &saddle_path {
        let info = vec![
            ("neb_image".to_string(), r.saddle_index.to_string()),
            ("barrier_forward".to_string(), format!("{:.10}", r.barrier_forward)),
            ("barrier_reverse".to_string(), format!("{:.10}", r.barrier_reverse)),
            ("neb_converged".to_string(), r.converged.to_string()),
        ];
        let w = WriteOptions {
            energy: Some(r.saddle_energy),
            info,
            ..WriteOptions::default()
        };
        write_structure(p, r.saddle(), Some(Format::ExtXyz), &w)?;
    }
    if let Some(p) = &a.band {
        for (k, (s, img)) in r.structures.iter().zip(&r.images).enumerate() {
            let w = WriteOptions {
                energy: Some(img.energy),
                info: vec![
                    ("neb_image".to_string(), k.to_string()),
                    (
                        "reaction_coordinate".to_string(),
                        format!("{:.10}", img.reaction_coordinate),
                    ),
                ],
                append: k > 0,
                ..WriteOptions::default()
            };
            write_structure(p, s, Some(Format::ExtXyz), &w)?;
        }
    }
    let mut inputs = vec![a.initial.as_path(), a.final_.as_path()];
    inputs.extend(a.potential.paths());
    if let Some(c) = &a.config {
        inputs.push(c.as_path());
    }
    let out = NebOut {
        schema: "pelx.neb/1",
        pelx_version: pelx::provenance::VERSION,
        initial: input(&a.initial, &ini)?,
        final_: input(&a.final_, &fin)?,
        potential: ff.describe(),
        parameters: &opts,
        result: &r,
        saddle_structure: saddle_path.as_ref().map(|p| p.display().to_string()),
        band_structures: a.band.as_ref().map(|p| p.display().to_string()),
        provenance: Provenance::new(&inputs)?,
    };
    emit_json(&out, a.output.as_deref())?;

    let which = match r.saddle_source {
        pelx::saddle::neb::SaddleSource::ClimbingImage => "climbing image",
        pelx::saddle::neb::SaddleSource::HighestImage => "highest image",
    };
    eprintln!(
        "NEB {} after {} steps ({} force calls): barrier {:.6} eV forward, {:.6} eV reverse ({which} {})",
        if r.converged { "converged" } else { "NOT converged" },
        r.steps,
        r.force_calls.total,
        r.barrier_forward,
        r.barrier_reverse,
        r.saddle_index
    );
    if let Some(c) = &r.curvature {
        eprintln!(
            "curvature at the climbing image: {} negative (lowest {:.4} eV/Å²)",
            c.negative,
            c.lowest.first().copied().unwrap_or(f64::NAN)
        );
    }
    let ok = r.converged && r.saddle_confirmed != Some(false);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
