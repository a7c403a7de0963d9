//! Residence-time kinetic Monte Carlo and diffusion correlation factors (science.md §8-9).
//!
//! The correlation factor f measures how much of a tracer's hopping produces net displacement:
//! `f = D / D_RW` (2026 paper, Eq. 1), where D_RW is the diffusion coefficient of the same hops
//! taken in uncorrelated random directions, so that for long histories `f = <R^2> / sum l^2`.
//!
//! | module | what lives there |
//! |---|---|
//! | [`engine`] | the residence-time (BKL / Gillespie) step, the [`engine::Process`] trait, the tracer record |
//! | [`lattice`] | one vacancy on a periodic lattice (fcc, bcc, sc, diamond, square, triangular, honeycomb), every atom a tracer: f against its exact value |
//! | [`landscape`] | quenched what-if landscapes of basins and saddles, parametric or from harvested barrier pairs |
//! | [`whatif`] | D, D_RW, f over temperature on a landscape, Arrhenius fits (E_D = E_RW + E_f), the `pelx kmc whatif` run |
//! | [`harvest`] | barrier pairs from a `pelx art` catalog |
//! | [`stats`] | jackknife errors, Arrhenius fits |
//! | [`trajectory`] | tracer trajectories as LAMMPS dump or extended XYZ (input for `pelx decompose`) |
//! | [`plot`] | SVG figures of a what-if study |
//!
//! Random numbers: the lattice walk draws from `ChaCha8Rng::seed_from_u64(seed)`; every
//! what-if walker from streams seeded by a hash of (seed, walker), and the quenched landscape
//! from hashes of (seed, basin) and (seed, link). Results do not depend on the thread count.
//!
//! Units: energies eV, lengths Å, time ps (lattice time in units of 1/Γ), temperature K,
//! D in Å^2/ps (1 Å^2/ps = 1e-8 m^2/s).

pub mod engine;
pub mod harvest;
pub mod landscape;
pub mod lattice;
pub mod plot;
pub mod stats;
pub mod trajectory;
pub mod whatif;

use crate::{Error, Result};
use std::path::Path;

/// Reads a TOML configuration into its typed form; unknown keys and bad values are errors that
/// name the file and line.
pub fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        Error::parse(path, line, e.message().to_string())
    })
}

/// CPU time (s) the calling thread has spent running, from Linux's
/// `/proc/thread-self/schedstat`; `None` where that file does not exist. On a machine shared
/// with other jobs this is the honest clock for "per second on one core": it excludes the time
/// the thread waited for a core. It advances at scheduler ticks (a few ms), so it measures runs
/// of a tenth of a second and more.
pub fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 * 1e-9)
}

#[cfg(test)]
mod tests {
    use super::lattice::{run_lattice, Lattice, LatticeParams, LatticeReport};
    use super::whatif::{run_whatif, WhatifConfig};
    use crate::schema::{check, load};
    use std::path::Path;

    fn repo(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
    }

    /// `value` matches the schema file, and has no top-level key the schema does not list.
    fn assert_matches(schema_file: &str, value: &impl serde::Serialize) {
        let schema = load(schema_file);
        let v = serde_json::to_value(value).unwrap();
        let errors = check(&schema, &v);
        assert!(errors.is_empty(), "{schema_file}: {errors:#?}");
        for k in v.as_object().unwrap().keys() {
            assert!(
                schema["properties"].get(k).is_some(),
                "{schema_file}: key '{k}' not in the schema"
            );
        }
    }

    #[test]
    fn lattice_output_matches_its_schema() {
        let p = LatticeParams {
            size: Some(4),
            hops: 20_000,
            ..LatticeParams::new(Lattice::Triangular)
        };
        assert_matches(
            "kmc-lattice.schema.json",
            &LatticeReport::new(run_lattice(&p, None).unwrap()).unwrap(),
        );
    }

    #[test]
    fn whatif_output_matches_its_schema() {
        let mut c = WhatifConfig {
            temperatures: vec![700.0, 800.0],
            walkers: 4,
            hops: 128,
            burn_in: 16,
            ..Default::default()
        };
        c.parametric.as_mut().unwrap().asymmetry = vec![0.0, 1.0];
        assert_matches("kmc-whatif.schema.json", &run_whatif(&c, None).unwrap());
        let c = WhatifConfig {
            temperatures: vec![700.0],
            walkers: 2,
            hops: 64,
            burn_in: 0,
            parametric: None,
            catalog: Some(super::whatif::CatalogConfig {
                path: repo("tests/fixtures/kmc-catalog.jsonl"),
                min_displacement: 1.0,
                verified_only: true,
            }),
            ..Default::default()
        };
        let report = run_whatif(&c, None).unwrap();
        assert_eq!(report.harvest.as_ref().unwrap().used, 3);
        assert_eq!(report.provenance.inputs.len(), 1);
        assert_matches("kmc-whatif.schema.json", &report);
    }

    #[test]
    fn shipped_configs_are_the_defaults() {
        let lattice: LatticeParams = super::read_config(&repo("configs/kmc-lattice.toml")).unwrap();
        assert_eq!(lattice, LatticeParams::default());
        let whatif: WhatifConfig = super::read_config(&repo("configs/kmc-whatif.toml")).unwrap();
        assert_eq!(whatif, WhatifConfig::default());
    }

    #[test]
    fn config_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, "hops = 1000\nwalkers_typo = 3\n").unwrap();
        let e = super::read_config::<LatticeParams>(&p).unwrap_err().to_string();
        assert!(e.contains("bad.toml:2:") && e.contains("walkers_typo"), "{e}");
    }
}
