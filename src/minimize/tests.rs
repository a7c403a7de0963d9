//! Every minimizer on the same problems with known answers.

use super::*;
use crate::potential::analytic::{point, Harmonic, MullerBrown};
use crate::potential::conformance::tests::{perturbed_fcc, potential_file};
use crate::potential::eam::Eam;
use crate::potential::lj::LennardJones;
use crate::potential::{fmax, ForceField, Workspace};
use crate::structure::Cell;
use rand::{Rng, SeedableRng};
use std::sync::Arc;

const ALL: [MinimizerKind; 4] = [
    MinimizerKind::Fire,
    MinimizerKind::Lbfgs,
    MinimizerKind::Cg,
    MinimizerKind::LbfgsStep,
];

/// Relaxes a copy of `s`; checks that the result describes the returned structure exactly.
fn relax(
    kind: MinimizerKind,
    s: &Structure,
    ff: Arc<dyn ForceField>,
    opts: &MinimizeOptions,
) -> (MinimizeResult, Structure) {
    let mut s = s.clone();
    let mut calc = Calculator::new(ff.clone());
    let r = minimize(kind, &mut s, &mut calc, opts).unwrap();
    assert_eq!(r.force_calls, calc.calls(), "{kind}");
    // A fresh neighbour list sums pairs in another order: agreement to rounding.
    let (e, f) = Calculator::new(ff).energy_forces(&s).unwrap();
    assert!(
        (e - r.energy).abs() <= 1e-12 * e.abs().max(1.0),
        "{kind}: the structure is not at the reported energy"
    );
    assert!(
        (fmax(&f) - r.fmax).abs() <= 1e-12 * e.abs().max(1.0),
        "{kind}: {} vs {}",
        fmax(&f),
        r.fmax
    );
    assert_eq!(r.converged, r.termination == Termination::Converged);
    (r, s)
}

fn open(positions: Vec<[f64; 3]>) -> Structure {
    let n = positions.len();
    Structure::new(
        Cell::open_box(&positions, 5.0).unwrap(),
        vec!["X".into()],
        vec![0; n],
        positions,
    )
    .unwrap()
}

fn jitter(p: &mut [[f64; 3]], amp: f64, planar: bool, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for x in p.iter_mut() {
        for (k, c) in x.iter_mut().enumerate() {
            if !(planar && k == 2) {
                *c += rng.random_range(-amp..amp);
            }
        }
    }
}

/// A Mackay icosahedron of 13 atoms with nearest-neighbour distance about 1.1 σ, perturbed.
fn lj13_start() -> Structure {
    let phi = (1.0 + 5f64.sqrt()) / 2.0;
    // Vertices (0, ±1, ±φ) and cyclic permutations sit 2 apart; scale the centre-vertex
    // distance √(1 + φ²) to 1.1.
    let k = 1.1 / (1.0 + phi * phi).sqrt();
    let mut p = vec![[0.0; 3]];
    for &a in &[-1.0, 1.0] {
        for &b in &[-phi, phi] {
            p.push([0.0, a * k, b * k]);
            p.push([a * k, b * k, 0.0]);
            p.push([b * k, 0.0, a * k]);
        }
    }
    jitter(&mut p, 0.08, false, 1);
    open(p)
}

/// The 2D heptamer: a hexagon around a centre, in the z = 0 plane, perturbed in the plane.
fn heptamer_start() -> Structure {
    let mut p = vec![[0.0; 3]];
    for k in 0..6 {
        let t = std::f64::consts::PI / 3.0 * k as f64;
        p.push([1.1 * t.cos(), 1.1 * t.sin(), 0.0]);
    }
    jitter(&mut p, 0.08, true, 2);
    open(p)
}

fn reduced_opts(fmax: f64) -> MinimizeOptions {
    MinimizeOptions {
        fmax,
        max_step: 0.1,
        ..Default::default()
    }
}

#[test]
fn lj13_cluster_relaxes_to_the_icosahedral_global_minimum() {
    // Wales & Doye, J. Phys. Chem. A 101, 5111 (1997): E(LJ13) = -44.326801 ε.
    let ff: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, None).unwrap());
    let s0 = lj13_start();
    for kind in ALL {
        let (r, _) = relax(kind, &s0, ff.clone(), &reduced_opts(1e-6));
        assert!(r.converged && r.fmax < 1e-6, "{kind}: {r:?}");
        assert!((r.energy + 44.326801).abs() < 1e-6, "{kind}: E = {}", r.energy);
    }
}

#[test]
fn lj_heptamer_in_2d_relaxes_to_its_ground_state() {
    // Dellago, Bolhuis & Chandler (1998): ground state -12.534867 ε (science.md §10).
    let ff: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, None).unwrap());
    let s0 = heptamer_start();
    for kind in ALL {
        let (r, s) = relax(kind, &s0, ff.clone(), &reduced_opts(1e-6));
        assert!(r.converged, "{kind}: {r:?}");
        assert!((r.energy + 12.534867).abs() < 1e-6, "{kind}: E = {}", r.energy);
        assert!(s.positions.iter().all(|p| p[2] == 0.0), "{kind} left the plane");
    }
}

/// Energy per atom of a perfect fcc lattice of reduced density `rho` with the truncated and
/// shifted LJ (ε = σ = 1, cutoff `rc`), by an explicit sum over lattice vectors.
fn fcc_lattice_energy(rho: f64, rc: f64) -> f64 {
    let a = (4.0 / rho).cbrt();
    let shift = 4.0 * (rc.powi(-12) - rc.powi(-6));
    let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
    let m = (rc / a).ceil() as i64 + 1;
    let mut e = 0.0;
    for i in -m..=m {
        for j in -m..=m {
            for k in -m..=m {
                for b in &basis {
                    let r =
                        a * ((i as f64 + b[0]).powi(2) + (j as f64 + b[1]).powi(2) + (k as f64 + b[2]).powi(2)).sqrt();
                    if r > 0.0 && r < rc {
                        e += 0.5 * (4.0 * (r.powi(-12) - r.powi(-6)) - shift);
                    }
                }
            }
        }
    }
    e
}

#[test]
fn periodic_lj_crystal_relaxes_back_to_the_perfect_lattice() {
    let (rho, rc) = (0.9, 2.5);
    let s0 = crate::potential::lj::tests::disordered_fcc(3, rho, 0.06, 3);
    let ff: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, Some(rc)).unwrap());
    let e_ref = fcc_lattice_energy(rho, rc);
    for kind in ALL {
        let (r, _) = relax(kind, &s0, ff.clone(), &reduced_opts(1e-6));
        assert!(r.converged, "{kind}: {r:?}");
        let per_atom = r.energy / s0.len() as f64;
        assert!(
            (per_atom - e_ref).abs() < 1e-10 * e_ref.abs(),
            "{kind}: {per_atom} vs {e_ref}"
        );
    }
}

#[test]
fn muller_brown_minima_are_found_from_nearby_starts() {
    let ff: Arc<dyn ForceField> = Arc::new(MullerBrown);
    // The smallest curvature at the three minima is above 100, so fmax 1e-4 puts the point
    // within 1e-6 of the exact minimum; the published coordinates are rounded to 1e-6.
    let opts = MinimizeOptions {
        fmax: 1e-4,
        max_step: 0.02,
        ..Default::default()
    };
    for (m, &(x, y, v)) in MullerBrown::MINIMA.iter().enumerate() {
        let h = MullerBrown::hessian(x, y);
        let (tr, det) = (h[0][0] + h[1][1], h[0][0] * h[1][1] - h[0][1] * h[0][1]);
        assert!(0.5 * (tr - (tr * tr - 4.0 * det).sqrt()) > 100.0);
        for (dx, dy) in [(0.06, -0.04), (-0.05, -0.05)] {
            for kind in ALL {
                let (r, s) = relax(kind, &point(x + dx, y + dy, 0.0).unwrap(), ff.clone(), &opts);
                let p = s.positions[0];
                assert!(r.converged, "{kind} from minimum {m}: {r:?}");
                assert!(
                    (p[0] - x).abs() < 1e-5 && (p[1] - y).abs() < 1e-5,
                    "{kind}: {p:?} vs ({x}, {y})"
                );
                assert!((r.energy - v).abs() < 1e-6, "{kind}: {}", r.energy);
                assert_eq!(p[2], 0.0);
            }
        }
    }
}

/// fcc Cu (3×3×3 cubic cells, a = 3.615 Å) without atom 0, other atoms displaced by up to
/// 0.05 Å.
fn cu_vacancy() -> Structure {
    let mut s = perturbed_fcc(3, 3.615, 0.05, 0.0, 4);
    s.positions.remove(0);
    s.types.remove(0);
    s
}

#[test]
fn cu_crystal_with_a_vacancy_relaxes_with_every_method() {
    let ff: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_mishin1.eam.alloy")).unwrap());
    let perfect = perturbed_fcc(3, 3.615, 0.0, 0.0, 0);
    let e_perfect = Calculator::new(ff.clone()).energy_forces(&perfect).unwrap().0;
    // Mishin et al. (2001) fitted E_coh = 3.54 eV at a = 3.615 Å.
    assert!((e_perfect / 108.0 + 3.54).abs() < 1e-3, "{}", e_perfect / 108.0);
    let s0 = cu_vacancy();
    let opts = MinimizeOptions {
        fmax: 1e-3,
        ..Default::default()
    };
    let mut energies = Vec::new();
    for kind in ALL {
        let (r, _) = relax(kind, &s0, ff.clone(), &opts);
        assert!(r.converged && r.fmax < 1e-3, "{kind}: {r:?}");
        energies.push(r.energy);
    }
    // Same basin, same minimum: with fmax 1e-3 eV/Å the energies agree to ~1e-6 eV.
    for e in &energies {
        assert!((e - energies[0]).abs() < 1e-5, "{energies:?}");
    }
    // Relaxed vacancy formation energy: Mishin et al. report 1.27 eV (two decimals, large
    // cells); this 107-atom cell gives 1.2755 eV.
    let e_f = energies[1] - 107.0 / 108.0 * e_perfect;
    assert!((e_f - 1.27).abs() < 0.01, "E_f = {e_f}");
}

#[test]
fn lbfgs_spends_about_one_force_call_per_iteration() {
    // A stiff 12-dimensional quadratic well: the cache serves cost and gradient from one call.
    let center: Vec<[f64; 3]> = (0..4).map(|i| [i as f64, 0.5, -0.2]).collect();
    let eig: Vec<f64> = (0..12).map(|k| 1.0 + 4.0 * k as f64).collect();
    let ff: Arc<dyn ForceField> = Arc::new(Harmonic::from_spectrum(&center, &eig, 9).unwrap());
    let mut start = center.clone();
    jitter(&mut start, 0.3, false, 5);
    let (r, _) = relax(MinimizerKind::Lbfgs, &open(start), ff, &reduced_opts(1e-8));
    assert!(r.converged, "{r:?}");
    assert!(r.force_calls <= r.iterations + 3, "{r:?}");
}

#[test]
fn starting_at_a_minimum_costs_one_force_call() {
    let ff: Arc<dyn ForceField> = Arc::new(MullerBrown);
    let (x, y, _) = MullerBrown::MINIMA[0];
    for kind in ALL {
        let (r, _) = relax(kind, &point(x, y, 0.0).unwrap(), ff.clone(), &reduced_opts(0.01));
        assert!(r.converged && r.iterations == 0 && r.force_calls == 1, "{kind}: {r:?}");
        assert_eq!(r.energy, r.energy_initial);
    }
}

#[test]
fn iteration_and_force_call_limits_end_the_run() {
    let ff: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, None).unwrap());
    let s0 = lj13_start();
    for kind in ALL {
        let opts = MinimizeOptions {
            max_iterations: 3,
            ..reduced_opts(1e-8)
        };
        let (r, _) = relax(kind, &s0, ff.clone(), &opts);
        assert_eq!(
            (r.termination, r.iterations),
            (Termination::MaxIterations, 3),
            "{kind}: {r:?}"
        );
        assert!(r.energy < r.energy_initial);
        let opts = MinimizeOptions {
            max_force_calls: 5,
            ..reduced_opts(1e-8)
        };
        let (r, _) = relax(kind, &s0, ff.clone(), &opts);
        assert_eq!(
            (r.termination, r.force_calls),
            (Termination::MaxForceCalls, 5),
            "{kind}: {r:?}"
        );
    }
}

/// E = -x per atom for x < 1 (a constant pull along +x), NaN beyond: a field that breaks.
#[derive(Debug)]
struct Cliff;

impl ForceField for Cliff {
    fn describe(&self) -> String {
        "cliff".into()
    }
    fn cutoff(&self) -> f64 {
        0.0
    }
    fn elements(&self) -> Vec<String> {
        Vec::new()
    }
    fn compute(
        &self,
        s: &Structure,
        _: &[usize],
        _: &mut Workspace,
        forces: &mut [[f64; 3]],
        _: Option<&mut [f64]>,
    ) -> crate::Result<f64> {
        let mut e = 0.0;
        for (p, f) in s.positions.iter().zip(forces.iter_mut()) {
            e += if p[0] < 1.0 { -p[0] } else { f64::NAN };
            *f = [1.0, 0.0, 0.0];
        }
        Ok(e)
    }
}

#[test]
fn a_field_that_turns_nan_ends_the_run_at_the_last_finite_point() {
    for kind in ALL {
        let (r, s) = relax(
            kind,
            &point(0.0, 0.0, 0.0).unwrap(),
            Arc::new(Cliff),
            &reduced_opts(1e-3),
        );
        assert_eq!(r.termination, Termination::EnergyNotFinite, "{kind}: {r:?}");
        assert!(r.detail.as_deref().unwrap().contains("not finite"), "{r:?}");
        assert!(
            s.positions[0][0] < 1.0 && r.energy == -s.positions[0][0],
            "{kind}: {r:?}"
        );
    }
}

#[test]
fn failures_are_classified_and_bad_options_rejected() {
    assert_eq!(
        classify_failure(&crate::Error::Potential(
            "atoms 1 and 2 sit at the same position".into()
        )),
        Termination::PotentialFailed
    );
    let mut s = point(0.0, 0.0, 0.0).unwrap();
    let mut calc = Calculator::new(Arc::new(MullerBrown));
    for opts in [
        MinimizeOptions {
            fmax: 0.0,
            ..Default::default()
        },
        MinimizeOptions {
            max_step: -1.0,
            ..Default::default()
        },
    ] {
        for kind in ALL {
            assert!(minimize(kind, &mut s, &mut calc, &opts).is_err());
        }
    }
    assert_eq!(calc.calls(), 0);
}

#[test]
fn options_and_results_round_trip_through_serde() {
    let opts: MinimizeOptions = toml::from_str("fmax = 0.05\n[fire]\ndt_max = 0.5\n").unwrap();
    assert_eq!(opts.fmax, 0.05);
    assert_eq!(opts.fire.dt_max, 0.5);
    assert_eq!(opts.fire.n_min, 5);
    assert!(toml::from_str::<MinimizeOptions>("fmx = 0.05").is_err());
    let kind: MinimizerKind = serde_json::from_str("\"lbfgs\"").unwrap();
    assert_eq!(kind, MinimizerKind::Lbfgs);
    let r = MinimizeResult {
        method: MinimizerKind::Cg,
        energy_initial: -1.0,
        energy: -2.0,
        fmax: 1e-3,
        force_calls: 10,
        iterations: 8,
        converged: true,
        termination: Termination::Converged,
        detail: None,
    };
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        json.contains("\"method\":\"cg\"") && json.contains("\"termination\":\"converged\""),
        "{json}"
    );
    assert!(!json.contains("detail"));
}

/// Force calls of every method on every test problem (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn report_force_calls() {
    let lj: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, None).unwrap());
    let lj_cut: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, Some(2.5)).unwrap());
    let mb: Arc<dyn ForceField> = Arc::new(MullerBrown);
    let cu: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_mishin1.eam.alloy")).unwrap());
    let cu3: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_u3.eam")).unwrap());
    let cuzr: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("CuZr_mm.eam.fs")).unwrap());
    let mb_opts = MinimizeOptions {
        fmax: 1e-4,
        max_step: 0.02,
        ..Default::default()
    };
    let eam_opts = MinimizeOptions {
        fmax: 1e-3,
        ..Default::default()
    };
    let (xa, ya, _) = MullerBrown::MINIMA[0];
    let (xc, yc, _) = MullerBrown::MINIMA[2];
    let problems: Vec<(&str, Structure, Arc<dyn ForceField>, MinimizeOptions)> = vec![
        ("LJ13 cluster, fmax 1e-6", lj13_start(), lj.clone(), reduced_opts(1e-6)),
        ("LJ7 2D heptamer, fmax 1e-6", heptamer_start(), lj, reduced_opts(1e-6)),
        (
            "LJ fcc 108 periodic, fmax 1e-6",
            crate::potential::lj::tests::disordered_fcc(3, 0.9, 0.06, 3),
            lj_cut,
            reduced_opts(1e-6),
        ),
        (
            "Müller-Brown near A, fmax 1e-4",
            point(xa + 0.06, ya - 0.04, 0.0).unwrap(),
            mb.clone(),
            mb_opts.clone(),
        ),
        (
            "Müller-Brown near C, fmax 1e-4",
            point(xc - 0.05, yc - 0.05, 0.0).unwrap(),
            mb,
            mb_opts,
        ),
        ("Cu vacancy 107 (Mishin), fmax 1e-3", cu_vacancy(), cu, eam_opts.clone()),
        ("Cu vacancy 107 (u3), fmax 1e-3", cu_vacancy(), cu3, eam_opts.clone()),
        (
            "CuZr random fcc 108 (Mendelev), fmax 1e-3",
            perturbed_fcc(3, 4.0, 0.15, 0.45, 23),
            cuzr,
            eam_opts,
        ),
    ];
    println!("| problem | method | force calls | iterations | energy | fmax | termination |");
    println!("|---|---|---|---|---|---|---|");
    for (name, s, ff, opts) in problems {
        for kind in ALL {
            let (r, _) = relax(kind, &s, ff.clone(), &opts);
            println!(
                "| {name} | {kind} | {} | {} | {:.6} | {:.1e} | {:?} |",
                r.force_calls, r.iterations, r.energy, r.fmax, r.termination
            );
        }
    }
}

#[test]
fn forces_converge_beyond_the_precision_of_energy_differences() {
    // 108 atoms with E = -732 ε: energy differences lose all digits below ~1e-13 ε, reached
    // at fmax ~ 1e-7. Line searches switch to the derivative model and still converge; a
    // request beyond the precision of the forces themselves ends as Stalled.
    let ff: Arc<dyn ForceField> = Arc::new(LennardJones::new(1.0, 1.0, Some(2.5)).unwrap());
    let s0 = crate::potential::lj::tests::disordered_fcc(3, 0.9, 0.06, 3);
    for kind in ALL {
        let (r, _) = relax(kind, &s0, ff.clone(), &reduced_opts(1e-10));
        assert!(r.converged, "{kind}: {r:?}");
        assert!(r.force_calls < 300, "{kind}: {r:?}");
        let (r, _) = relax(kind, &s0, ff.clone(), &reduced_opts(1e-15));
        assert_eq!(r.termination, Termination::Stalled, "{kind}: {r:?}");
        assert!(r.fmax < 1e-10, "{kind}: {r:?}");
    }
}

/// A relaxation with an active set: from the relaxed Cu vacancy with one atom pushed 0.2 Å, and
/// only that atom active at first, every method converges with a largest force over the
/// whole system (a fresh calculator) below fmax; the set grew; and FIRE, L-BFGS and CG reach
/// the energy of an unrestricted relaxation of the same start within 1e-6 eV.
#[test]
fn active_set_relaxation_converges_for_the_whole_system() {
    let ff: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_mishin1.eam.alloy")).unwrap());
    let opts = MinimizeOptions {
        fmax: 1e-3,
        ..Default::default()
    };
    let (_, relaxed) = relax(MinimizerKind::Lbfgs, &cu_vacancy(), ff.clone(), &opts);
    let mut start = relaxed.clone();
    start.positions[5][0] += 0.2;
    let (reference, _) = relax(MinimizerKind::Lbfgs, &start, ff.clone(), &opts);
    for kind in ALL {
        let mut s = start.clone();
        let mut calc = Calculator::new(ff.clone()).with_local(true);
        let mut active = ActiveAtoms::new(s.len(), [5]);
        let r = minimize_active(kind, &mut s, &mut calc, &opts, &mut active).unwrap();
        assert!(r.converged, "{kind}: {r:?}");
        assert_eq!(r.force_calls, calc.calls(), "{kind}");
        let (e, f) = Calculator::new(ff.clone()).energy_forces(&s).unwrap();
        assert!(fmax(&f) < opts.fmax, "{kind}: full-system fmax {}", fmax(&f));
        assert!((e - r.energy).abs() < 1e-8, "{kind}: {e} vs {}", r.energy);
        assert!(
            (e - reference.energy).abs() < 1e-6,
            "{kind}: {e} vs {}",
            reference.energy
        );
        assert!(active.len() > 1, "{kind}: the set did not grow");
        let still = s
            .positions
            .iter()
            .zip(&start.positions)
            .enumerate()
            .filter(|(i, (p, q))| !active.contains(*i) && p == q)
            .count();
        assert_eq!(still, s.len() - active.len(), "{kind}: a frozen atom moved");
    }
}

/// A join floor above the relaxation's fmax: the active atoms converge to fmax, the frozen ones
/// stay below the floor (and above fmax somewhere, so the floor did hold atoms back), and the
/// set grows less than without the floor.
#[test]
fn join_floor_keeps_weakly_pulled_atoms_frozen() {
    let ff: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_mishin1.eam.alloy")).unwrap());
    let opts = MinimizeOptions {
        fmax: 1e-4,
        ..Default::default()
    };
    let (_, relaxed) = relax(MinimizerKind::Lbfgs, &cu_vacancy(), ff.clone(), &opts);
    let mut start = relaxed.clone();
    start.positions[5][0] += 0.1;
    let floor = 3e-2;
    let grown = |floor: f64| {
        let mut s = start.clone();
        let mut calc = Calculator::new(ff.clone());
        let mut active = ActiveAtoms::new(s.len(), [5]);
        active.set_join_floor(floor);
        let r = minimize_active(MinimizerKind::Lbfgs, &mut s, &mut calc, &opts, &mut active).unwrap();
        assert!(r.converged, "floor {floor}: {r:?}");
        let (_, f) = Calculator::new(ff.clone()).energy_forces(&s).unwrap();
        (active, f)
    };
    let (with_floor, f) = grown(floor);
    let frozen_max = f
        .iter()
        .enumerate()
        .filter(|(i, _)| !with_floor.contains(*i))
        .map(|(_, v)| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .fold(0.0, f64::max);
    let active_max = f
        .iter()
        .enumerate()
        .filter(|(i, _)| with_floor.contains(*i))
        .map(|(_, v)| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .fold(0.0, f64::max);
    assert!(active_max < opts.fmax, "active atoms at {active_max}");
    assert!(frozen_max < floor, "a frozen atom at {frozen_max}");
    assert!(
        frozen_max > opts.fmax,
        "the floor held nothing back ({frozen_max}, {} of {} active)",
        with_floor.len(),
        f.len()
    );
    let (without, _) = grown(0.0);
    assert!(
        with_floor.len() < without.len(),
        "{} atoms with the floor, {} without",
        with_floor.len(),
        without.len()
    );
}

/// `lbfgs-step` keeps its history when the active set grows, where `lbfgs` restarts its
/// line-search solver. From a relaxed 499-atom Cu vacancy cell with one atom pushed 0.3 Å and
/// only that atom active at first, with a join floor as in ART's relaxations, both methods reach
/// the same minimum and `lbfgs-step` spends fewer force calls (12 against 21).
#[test]
fn lbfgs_step_keeps_its_history_when_the_active_set_grows() {
    let ff: Arc<dyn ForceField> = Arc::new(Eam::from_file(&potential_file("Cu_mishin1.eam.alloy")).unwrap());
    let mut s0 = perturbed_fcc(5, 3.615, 0.05, 0.0, 4);
    s0.positions.remove(0);
    s0.types.remove(0);
    let opts = MinimizeOptions {
        fmax: 1e-3,
        ..Default::default()
    };
    let (_, relaxed) = relax(
        MinimizerKind::Lbfgs,
        &s0,
        ff.clone(),
        &MinimizeOptions {
            fmax: 1e-5,
            ..opts.clone()
        },
    );
    let mut start = relaxed.clone();
    start.positions[5][0] += 0.3;
    let run = |kind: MinimizerKind| {
        let mut s = start.clone();
        let mut calc = Calculator::new(ff.clone()).with_local(true);
        let mut active = ActiveAtoms::new(s.len(), [5]);
        active.set_join_floor(1e-2);
        let r = minimize_active(kind, &mut s, &mut calc, &opts, &mut active).unwrap();
        assert!(r.converged, "{kind}: {r:?}");
        (r, active.len())
    };
    let ((step, n_step), (search, n_search)) = (run(MinimizerKind::LbfgsStep), run(MinimizerKind::Lbfgs));
    println!(
        "force calls: lbfgs-step {} ({n_step} active), lbfgs {} ({n_search} active)",
        step.force_calls, search.force_calls
    );
    assert!((step.energy - search.energy).abs() < 1e-5, "{step:?} {search:?}");
    assert!(
        step.force_calls < search.force_calls,
        "lbfgs-step {} calls, lbfgs {}",
        step.force_calls,
        search.force_calls
    );
}
