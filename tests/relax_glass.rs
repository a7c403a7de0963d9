//! `pelx relax` acceptance (issue 2): every minimizer brings a perturbed copy of the shipped
//! 500-atom glass back to fmax < 1e-3 eV/Å, into the same minimum LAMMPS found (energy within
//! 1e-6 eV/atom, positions within 0.01 Å).

use pelx::minimize::{minimize, MinimizeOptions, MinimizerKind};
use pelx::potential::{eam::Eam, Calculator};
use pelx::structure::io::{read_structure, ReadOptions};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::sync::Arc;

#[test]
fn every_minimizer_returns_a_perturbed_glass_to_its_lammps_minimum() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let is = read_structure(root.join("configs/CuZr50_500.extxyz"), &ReadOptions::default()).unwrap();
    let ff = Arc::new(Eam::from_file(&root.join("potentials/CuZr_mm.eam.fs")).unwrap());
    let e_is = Calculator::new(ff.clone()).energy_forces(&is).unwrap().0;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let mut start = is.clone();
    for p in start.positions.iter_mut() {
        for x in p.iter_mut() {
            *x += rng.random_range(-0.02..0.02);
        }
    }
    let opts = MinimizeOptions {
        fmax: 1e-3,
        ..Default::default()
    };
    for kind in [MinimizerKind::Fire, MinimizerKind::Lbfgs, MinimizerKind::Cg] {
        let mut s = start.clone();
        let mut calc = Calculator::new(ff.clone());
        let r = minimize(kind, &mut s, &mut calc, &opts).unwrap();
        assert!(r.converged && r.fmax < 1e-3, "{kind:?}: {r:?}");
        let de = (r.energy - e_is).abs() / is.len() as f64;
        assert!(de < 1e-6, "{kind:?}: energy per atom differs from the LAMMPS minimum by {de:e}");
        let dmax = s.max_displacement_from(&is);
        assert!(dmax < 0.01, "{kind:?}: moved {dmax} Å from the LAMMPS minimum");
        println!("{kind:?}: {} force calls, fmax {:.2e}", r.force_calls, r.fmax);
    }
}
