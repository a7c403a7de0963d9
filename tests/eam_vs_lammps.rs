//! EAM energies and forces against LAMMPS reference runs.
//!
//! Each fixture in `tests/fixtures/lammps/` was written by `scripts/make_eam_fixtures.py`
//! (LAMMPS `run 0` with `compute pe/atom`) and holds the geometry exactly as LAMMPS evaluated
//! it. Acceptance (pelx issue 2): |dE| <= 1e-8 eV/atom and max |dF| <= 1e-6 eV/Å on every file.
//! To check another potential or structure, make a fixture with `scripts/lammps_reference.py`
//! and point `PELX_LAMMPS_FIXTURES` at its folder.

use pelx::potential::eam::Eam;
use pelx::potential::Calculator;
use pelx::structure::{Cell, Structure};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Deserialize)]
struct CellSpec {
    lo: [f64; 3],
    hi: [f64; 3],
    tilt: [f64; 3],
}

#[derive(Deserialize)]
struct Fixture {
    #[serde(alias = "potential_file")]
    potential: String,
    cell: CellSpec,
    pbc: [bool; 3],
    species: Vec<String>,
    positions: Vec<[f64; 3]>,
    energy: f64,
    per_atom_energy: Vec<f64>,
    forces: Vec<[f64; 3]>,
}

fn fixture_dir() -> PathBuf {
    std::env::var_os("PELX_LAMMPS_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lammps"))
}

fn potential_path(name: &str, fixture: &Path) -> PathBuf {
    let here = fixture.parent().unwrap().join(name);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("potentials").join(name)
}

#[test]
fn eam_matches_lammps_on_every_fixture() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 15,
        "expected the full fixture set, found {}",
        files.len()
    );
    let mut report = Vec::new();
    for path in &files {
        let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cell = Cell::from_lammps(fx.cell.lo, fx.cell.hi, fx.cell.tilt, fx.pbc).unwrap();
        let symbols: Vec<&str> = fx.species.iter().map(String::as_str).collect();
        let s = Structure::from_symbols(cell, &symbols, fx.positions.clone()).unwrap();
        let pot = Eam::from_file(&potential_path(&fx.potential, path)).unwrap();
        let mut calc = Calculator::new(Arc::new(pot));
        let (e, f, pa) = calc.energy_forces_per_atom(&s).unwrap();
        let n = s.len() as f64;
        let de = (e - fx.energy).abs() / n;
        let df = f
            .iter()
            .zip(&fx.forces)
            .flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs()))
            .fold(0.0, f64::max);
        let dpa = pa
            .iter()
            .zip(&fx.per_atom_energy)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        report.push(format!(
            "{:<50} N={:<5} dE/atom={:.2e} max|dF|={:.2e} max|dE_i|={:.2e}",
            path.file_name().unwrap().to_string_lossy(),
            s.len(),
            de,
            df,
            dpa
        ));
        assert!(de <= 1e-8, "{}: energy differs by {de:e} eV/atom", path.display());
        assert!(df <= 1e-6, "{}: forces differ by {df:e} eV/Å", path.display());
        assert!(
            dpa <= 1e-8,
            "{}: per-atom energies differ by {dpa:e} eV",
            path.display()
        );
    }
    println!("{}", report.join("\n"));
}
