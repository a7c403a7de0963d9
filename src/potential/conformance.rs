//! One conformance suite that every force field runs (test support, also usable to vet a new
//! potential file).
//!
//! [`check_force_field`] evaluates a force field on a structure and checks the identities any
//! correct implementation satisfies:
//! - **finite differences**: each sampled force component equals minus the central difference
//!   (E(x + h) - E(x - h)) / 2h, and the error shrinks as h does (a wrong force plateaus; a
//!   right one falls as h² until rounding takes over), so no single step size is hand-picked;
//! - **per-atom energies** sum to the total, and asking for them changes neither energy nor
//!   forces;
//! - **translation invariance** (optional, for fields without an external potential): forces
//!   sum to zero and a rigid translation (including one that moves atoms across periodic
//!   boundaries) changes neither the energy nor the forces;
//! - **periodic replication**: a supercell made of copies of a periodic cell has the energy
//!   times the number of copies and the same forces on every copy, which tests the periodic
//!   images of any force field, including cells smaller than twice the cutoff;
//! - **brute-force reference** (pair potentials, see [`PairFunction`]): an explicit sum over
//!   all pairs and all periodic images within the cutoff equals the neighbour-list result.
//!
//! Tolerances are relative to scales the structure itself provides (the sum of absolute
//! per-atom energies, the largest force), so one set of defaults serves eV-sized EAM crystals
//! and reduced-unit Lennard-Jones alike.

use super::{bind_species, Calculator, ForceField};
use crate::structure::Structure;
use crate::{Error, Result};
use rand::SeedableRng;
use std::fmt;
use std::sync::Arc;

/// A pairwise-additive potential, exposed so that the suite can evaluate it by brute force.
pub trait PairFunction: Send + Sync + fmt::Debug {
    /// Energy and its derivative dE/dr of one pair of the field's species `a`, `b` at
    /// distance `r` (zero beyond the pair's cutoff).
    fn pair_energy(&self, a: usize, b: usize, r: f64) -> (f64, f64);
    /// Cutoff of the pair (infinite if none).
    fn pair_cutoff(&self, a: usize, b: usize) -> f64;
    /// The field's species index for the structure's species `t`, given the map that
    /// [`bind_species`] returns.
    fn species_index(&self, species_map: &[usize], t: usize) -> usize {
        species_map[t]
    }
}

/// What the suite checks and how strictly.
#[derive(Debug, Clone)]
pub struct ConformanceOptions {
    /// Finite-difference steps (length units), largest first.
    pub fd_steps: Vec<f64>,
    /// Number of Cartesian coordinates sampled for the finite-difference check (0 = all).
    pub fd_coordinates: usize,
    /// Absolute tolerance on the best finite-difference force error (force units).
    pub force_abs_tol: f64,
    /// Tolerance on the best finite-difference error relative to the largest force component.
    pub force_rel_tol: f64,
    /// Tolerance of the exact identities (per-atom sum, invariances, replication, reference)
    /// relative to the structure's energy scale Σ_i |e_i| and force scale Σ_i |F_i|.
    pub identity_rel_tol: f64,
    /// Whether the field depends only on relative positions (false for external fields such
    /// as Müller-Brown): enables the zero-net-force and rigid-translation checks.
    pub translation_invariant: bool,
    /// Copies along each periodic axis for the replication check (`[1, 1, 1]` disables it).
    pub supercell: [usize; 3],
    /// A pairwise form of the field, for the brute-force reference check.
    pub pair_reference: Option<Arc<dyn PairFunction>>,
    /// Seed of the coordinate sample and of the random translation.
    pub seed: u64,
}

impl Default for ConformanceOptions {
    fn default() -> Self {
        ConformanceOptions {
            fd_steps: vec![1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5],
            fd_coordinates: 24,
            force_abs_tol: 1e-7,
            force_rel_tol: 1e-7,
            identity_rel_tol: 1e-11,
            translation_invariant: true,
            supercell: [2, 2, 2],
            pair_reference: None,
            seed: 2024,
        }
    }
}

impl ConformanceOptions {
    /// Adds a brute-force pair reference.
    pub fn with_pair_reference(mut self, p: Arc<dyn PairFunction>) -> Self {
        self.pair_reference = Some(p);
        self
    }
    /// Declares the field an external potential (no translation invariance).
    pub fn external_field(mut self) -> Self {
        self.translation_invariant = false;
        self
    }
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// Short name of the check.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was measured against which tolerance.
    pub detail: String,
}

/// The outcomes of every check run on one force field and structure.
#[derive(Debug, Clone)]
pub struct ConformanceReport {
    /// [`ForceField::describe`] of the field.
    pub force_field: String,
    /// Number of atoms of the structure.
    pub natoms: usize,
    /// One entry per check, in the order they ran.
    pub checks: Vec<CheckOutcome>,
}

impl ConformanceReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
    /// Panics, listing every failed check, unless all passed (for tests).
    #[track_caller]
    pub fn assert_passed(&self) {
        if std::env::var_os("PELX_CONFORMANCE_VERBOSE").is_some() {
            eprintln!("{self}");
        }
        if !self.passed() {
            panic!("conformance failed\n{self}");
        }
    }
    /// The outcome of the check called `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&CheckOutcome> {
        self.checks.iter().find(|c| c.name == name)
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} on {} atoms:", self.force_field, self.natoms)?;
        for c in &self.checks {
            writeln!(
                f,
                "  [{}] {}: {}",
                if c.passed { "ok" } else { "FAILED" },
                c.name,
                c.detail
            )?;
        }
        Ok(())
    }
}

/// Runs the suite on `ff` at the configuration `s`. Errors only if the field cannot be
/// evaluated at all; failed checks are reported in the returned value.
pub fn check_force_field(
    ff: Arc<dyn ForceField>,
    s: &Structure,
    opts: &ConformanceOptions,
) -> Result<ConformanceReport> {
    let mut calc = Calculator::new(ff.clone());
    let (e0, f0, pa) = calc.energy_forces_per_atom(s)?;
    let e_scale = pa
        .iter()
        .map(|e| e.abs())
        .sum::<f64>()
        .max(e0.abs())
        .max(f64::MIN_POSITIVE);
    let f_scale = f0.iter().flatten().map(|x| x.abs()).sum::<f64>().max(f64::MIN_POSITIVE);
    let e_tol = opts.identity_rel_tol * e_scale;
    let f_tol = opts.identity_rel_tol * f_scale;
    let mut checks = Vec::new();

    checks.push(finite_differences(&mut calc, s, &f0, e_scale, opts)?);

    // Per-atom energies, and no side effect of asking for them.
    let (e1, f1) = calc.energy_forces(s)?;
    let sum: f64 = pa.iter().sum();
    let df = max_force_diff(&f0, &f1);
    checks.push(CheckOutcome {
        name: "per-atom energies",
        passed: (sum - e0).abs() <= e_tol && (e1 - e0).abs() <= e_tol && df <= f_tol,
        detail: format!(
            "|sum e_i - E| = {:.2e}, |E - E(no per-atom)| = {:.2e} (tol {e_tol:.2e}); force change {df:.2e} (tol {f_tol:.2e})",
            (sum - e0).abs(),
            (e1 - e0).abs()
        ),
    });

    if opts.translation_invariant {
        let mut net = [0.0; 3];
        for f in &f0 {
            for k in 0..3 {
                net[k] += f[k];
            }
        }
        let net = (net[0] * net[0] + net[1] * net[1] + net[2] * net[2]).sqrt();
        checks.push(CheckOutcome {
            name: "zero net force",
            passed: net <= f_tol,
            detail: format!("|sum F_i| = {net:.2e} (tol {f_tol:.2e})"),
        });
        checks.push(translation(&ff, s, e0, &f0, e_tol, f_tol, opts.seed)?);
    }

    if s.cell.any_periodic() && opts.supercell.iter().any(|&m| m > 1) {
        checks.push(replication(&ff, s, e0, &f0, e_tol, f_tol, opts.supercell)?);
    }

    if let Some(p) = &opts.pair_reference {
        checks.push(brute_force(ff.as_ref(), p.as_ref(), s, e0, &f0, e_tol, f_tol)?);
    }

    Ok(ConformanceReport {
        force_field: ff.describe(),
        natoms: s.len(),
        checks,
    })
}

fn max_force_diff(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| (0..3).map(move |k| (x[k] - y[k]).abs()))
        .fold(0.0, f64::max)
}

/// Force components against central differences of the energy at every step in
/// `opts.fd_steps`.
///
/// The error of a central difference is c·h² (truncation) plus about ε·S/h (rounding of
/// energies of magnitude S); a wrong force adds a constant. The check therefore asks that
/// (i) the smallest error over the steps is within tolerance and (ii) at the smallest step
/// whose error is still above the rounding floor, the error is still falling (observed order
/// at least 1/2 from the step before): a plateau means the force is wrong, whatever its size.
fn finite_differences(
    calc: &mut Calculator,
    s: &Structure,
    f0: &[[f64; 3]],
    e_scale: f64,
    opts: &ConformanceOptions,
) -> Result<CheckOutcome> {
    let decreasing = opts.fd_steps.windows(2).all(|w| w[1] < w[0]);
    if opts.fd_steps.is_empty() || !decreasing || opts.fd_steps.iter().any(|&h| !(h > 0.0 && h.is_finite())) {
        return Err(Error::invalid(
            "conformance: finite-difference steps must be positive and decreasing",
        ));
    }
    let ncoord = 3 * s.len();
    let coords: Vec<usize> = if opts.fd_coordinates == 0 || opts.fd_coordinates >= ncoord {
        (0..ncoord).collect()
    } else {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
        let mut v = rand::seq::index::sample(&mut rng, ncoord, opts.fd_coordinates).into_vec();
        v.sort_unstable();
        v
    };
    let fmax = f0.iter().flatten().map(|x| x.abs()).fold(0.0, f64::max);
    let tol = opts.force_abs_tol + opts.force_rel_tol * fmax;
    let mut work = s.clone();
    // diffs[k][m]: central difference -dE/dx of coordinate coords[m] at step k.
    let mut diffs: Vec<Vec<f64>> = Vec::with_capacity(opts.fd_steps.len());
    for &h in &opts.fd_steps {
        let mut row = Vec::with_capacity(coords.len());
        for &c in &coords {
            let (i, k) = (c / 3, c % 3);
            let x = s.positions[i][k];
            work.positions[i][k] = x + h;
            let (ep, _) = calc.energy_forces(&work)?;
            work.positions[i][k] = x - h;
            let (em, _) = calc.energy_forces(&work)?;
            work.positions[i][k] = x;
            row.push(-(ep - em) / (2.0 * h));
        }
        diffs.push(row);
    }
    let worst = |estimate: &dyn Fn(usize) -> f64| -> (f64, usize) {
        (0..coords.len())
            .map(|m| ((f0[coords[m] / 3][coords[m] % 3] - estimate(m)).abs(), coords[m]))
            .fold((0.0, coords[0]), |a, b| if b.0 > a.0 { b } else { a })
    };
    // errors[k]: largest error at step k and where; extrapolated[k]: the same for the
    // Richardson combination of steps k - 1 and k, which cancels the h² term.
    let errors: Vec<(f64, usize)> = (0..opts.fd_steps.len()).map(|k| worst(&|m| diffs[k][m])).collect();
    let extrapolated: Vec<(f64, usize)> = (1..opts.fd_steps.len())
        .map(|k| {
            let r2 = (opts.fd_steps[k - 1] / opts.fd_steps[k]).powi(2);
            worst(&|m| (r2 * diffs[k][m] - diffs[k - 1][m]) / (r2 - 1.0))
        })
        .collect();
    // Rounding floor of a central difference: a generous multiple of ε·S/h.
    let floor = |h: f64| ROUNDING_FLOOR * f64::EPSILON * e_scale / h;
    let (best_k, &(best, best_c)) = errors
        .iter()
        .enumerate()
        .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
        .expect("at least one step");
    let best_rich = extrapolated.iter().enumerate().min_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    let steps = &opts.fd_steps;
    let tail = (0..steps.len()).rev().find(|&k| errors[k].0 > floor(steps[k]));
    let (converges, order) = match tail {
        // every error at the rounding level: nothing left to converge
        None => (true, None),
        Some(0) => (errors[0].0 <= tol, None),
        Some(k) => {
            let p = (errors[k - 1].0 / errors[k].0).ln() / (steps[k - 1] / steps[k]).ln();
            (p >= 0.5, Some((steps[k], p)))
        }
    };
    let accurate = best <= tol || best_rich.is_some_and(|(_, e)| e.0 <= tol);
    let passed = accurate && converges;
    let table: Vec<String> = steps
        .iter()
        .zip(&errors)
        .map(|(h, (e, _))| format!("{h:.0e}: {e:.1e}"))
        .collect();
    let axis = ["x", "y", "z"];
    let rich = match best_rich {
        Some((k, (e, _))) => format!(
            "; Richardson-extrapolated best {e:.2e} at h = {:.0e}",
            opts.fd_steps[k + 1]
        ),
        None => String::new(),
    };
    let trend = match order {
        Some((h, p)) => format!("observed order {p:.2} at h = {h:.0e}"),
        None => "all errors at or below the rounding floor".to_string(),
    };
    Ok(CheckOutcome {
        name: "finite differences",
        passed,
        detail: format!(
            "{} coordinates; max |F + dE/dx| by step [{}]; best {best:.2e} at h = {:.0e} (atom {} {}, F = {:.6e}), tol {tol:.2e}{rich}; {trend}{}",
            coords.len(),
            table.join(", "),
            steps[best_k],
            best_c / 3 + 1,
            axis[best_c % 3],
            f0[best_c / 3][best_c % 3],
            if converges { "" } else { " (the error has stopped falling: the force is wrong)" }
        ),
    })
}

/// Multiple of ε·S/h below which a finite-difference error counts as rounding.
const ROUNDING_FLOOR: f64 = 64.0;

/// Energy and forces after a rigid translation, evaluated with a fresh neighbour list.
fn translation(
    ff: &Arc<dyn ForceField>,
    s: &Structure,
    e0: f64,
    f0: &[[f64; 3]],
    e_tol: f64,
    f_tol: f64,
    seed: u64,
) -> Result<CheckOutcome> {
    use rand::Rng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    // One translation by a third of the cell diagonal and a random one: both move atoms
    // across periodic boundaries.
    let diag: [f64; 3] = s.cell.frac_to_vector([1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
    let random = s.cell.frac_to_vector([
        rng.random_range(-1.0..1.0),
        rng.random_range(-1.0..1.0),
        rng.random_range(-1.0..1.0),
    ]);
    let (mut de, mut df) = (0.0f64, 0.0f64);
    for t in [diag, random] {
        let mut moved = s.clone();
        for p in &mut moved.positions {
            for k in 0..3 {
                p[k] += t[k];
            }
        }
        let (e, f) = Calculator::new(ff.clone()).energy_forces(&moved)?;
        de = de.max((e - e0).abs());
        df = df.max(max_force_diff(&f, f0));
    }
    Ok(CheckOutcome {
        name: "rigid translation",
        passed: de <= e_tol && df <= f_tol,
        detail: format!("|dE| = {de:.2e} (tol {e_tol:.2e}), max |dF| = {df:.2e} (tol {f_tol:.2e})"),
    })
}

fn replication(
    ff: &Arc<dyn ForceField>,
    s: &Structure,
    e0: f64,
    f0: &[[f64; 3]],
    e_tol: f64,
    f_tol: f64,
    supercell: [usize; 3],
) -> Result<CheckOutcome> {
    let pbc = s.cell.pbc();
    let m: [usize; 3] = std::array::from_fn(|k| if pbc[k] { supercell[k].max(1) } else { 1 });
    let big = crate::structure::build::replicate(s, m)?;
    let copies = m[0] * m[1] * m[2];
    let (e, f) = Calculator::new(ff.clone()).energy_forces(&big)?;
    let e_tol = e_tol * copies as f64;
    let de = (e - copies as f64 * e0).abs();
    let df = f.chunks(s.len()).map(|c| max_force_diff(c, f0)).fold(0.0, f64::max);
    Ok(CheckOutcome {
        name: "periodic replication",
        passed: de <= e_tol && df <= f_tol,
        detail: format!(
            "{}x{}x{} supercell of {} atoms: |E - {copies} E_cell| = {de:.2e} (tol {e_tol:.2e}), max |dF| = {df:.2e} (tol {f_tol:.2e})",
            m[0],
            m[1],
            m[2],
            big.len()
        ),
    })
}

/// Energy and forces by an explicit double sum over atoms and periodic images.
pub fn brute_force_pairs(ff: &dyn ForceField, p: &dyn PairFunction, s: &Structure) -> Result<(f64, Vec<[f64; 3]>)> {
    let map = bind_species(ff, &s.species)?;
    let t: Vec<usize> = s.types.iter().map(|&ty| p.species_index(&map, ty)).collect();
    let ntypes = t.iter().copied().max().unwrap_or(0) + 1;
    let mut rc: f64 = 0.0;
    for a in 0..ntypes {
        for b in 0..ntypes {
            rc = rc.max(p.pair_cutoff(a, b));
        }
    }
    let pbc = s.cell.pbc();
    let mut reach = [0i64; 3];
    for k in 0..3 {
        if pbc[k] {
            if !rc.is_finite() {
                return Err(Error::invalid("brute force: an infinite cutoff in a periodic cell"));
            }
            // Positions are unwrapped: allow for atoms up to one cell outside.
            reach[k] = (rc / s.cell.perpendicular_width(k)).ceil() as i64 + 2;
        }
    }
    let n = s.len();
    let mut e = 0.0;
    let mut f = vec![[0.0; 3]; n];
    for i in 0..n {
        for j in i..n {
            for a in -reach[0]..=reach[0] {
                for b in -reach[1]..=reach[1] {
                    for c in -reach[2]..=reach[2] {
                        if i == j && [a, b, c] <= [0, 0, 0] {
                            // the self pair, and each (image, -image) pair of self images once
                            continue;
                        }
                        let sh = s.cell.frac_to_vector([a as f64, b as f64, c as f64]);
                        let d: [f64; 3] = std::array::from_fn(|k| s.positions[j][k] + sh[k] - s.positions[i][k]);
                        let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                        if r >= p.pair_cutoff(t[i], t[j]) {
                            continue;
                        }
                        let (u, du) = p.pair_energy(t[i], t[j], r);
                        e += u;
                        for k in 0..3 {
                            // F_i = -dE/dx_i = dE/dr · d/r
                            f[i][k] += du * d[k] / r;
                            f[j][k] -= du * d[k] / r;
                        }
                    }
                }
            }
        }
    }
    Ok((e, f))
}

fn brute_force(
    ff: &dyn ForceField,
    p: &dyn PairFunction,
    s: &Structure,
    e0: f64,
    f0: &[[f64; 3]],
    e_tol: f64,
    f_tol: f64,
) -> Result<CheckOutcome> {
    let (e, f) = brute_force_pairs(ff, p, s)?;
    let de = (e - e0).abs();
    let df = max_force_diff(&f, f0);
    Ok(CheckOutcome {
        name: "brute-force pairs",
        passed: de <= e_tol && df <= f_tol,
        detail: format!("|E - E_brute| = {de:.2e} (tol {e_tol:.2e}), max |F - F_brute| = {df:.2e} (tol {f_tol:.2e})"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::potential::eam::Eam;
    use crate::potential::lj::LennardJones;
    use crate::potential::Workspace;
    use crate::structure::Cell;
    use rand::{Rng, SeedableRng};
    use std::path::PathBuf;

    /// A shipped potential file (tests never read outside the repository).
    pub(crate) fn potential_file(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("potentials").join(name)
    }

    /// An fcc crystal of `cells`³ cubic cells with lattice constant `a` (Å), every atom
    /// displaced uniformly by up to `amp` Å along each axis and labelled Zr with probability
    /// `x_zr` (Cu otherwise).
    pub(crate) fn perturbed_fcc(cells: usize, a: f64, amp: f64, x_zr: f64, seed: u64) -> Structure {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
        let mut p = Vec::new();
        let mut sym = Vec::new();
        for i in 0..cells {
            for j in 0..cells {
                for k in 0..cells {
                    for b in &basis {
                        let mut jitter = || if amp > 0.0 { rng.random_range(-amp..amp) } else { 0.0 };
                        p.push([
                            (i as f64 + b[0]) * a + jitter(),
                            (j as f64 + b[1]) * a + jitter(),
                            (k as f64 + b[2]) * a + jitter(),
                        ]);
                        sym.push(if x_zr > 0.0 && rng.random_bool(x_zr) {
                            "Zr"
                        } else {
                            "Cu"
                        });
                    }
                }
            }
        }
        let l = a * cells as f64;
        Structure::from_symbols(Cell::orthorhombic(l, l, l).unwrap(), &sym, p).unwrap()
    }

    fn eam(name: &str) -> Arc<dyn ForceField> {
        Arc::new(Eam::from_file(&potential_file(name)).unwrap())
    }

    #[test]
    fn eam_funcfl_cu_u3_perturbed_fcc() {
        let s = perturbed_fcc(3, 3.615, 0.1, 0.0, 21);
        check_force_field(eam("Cu_u3.eam"), &s, &ConformanceOptions::default())
            .unwrap()
            .assert_passed();
    }

    #[test]
    fn eam_setfl_cu_mishin_perturbed_fcc() {
        let s = perturbed_fcc(3, 3.615, 0.1, 0.0, 22);
        check_force_field(eam("Cu_mishin1.eam.alloy"), &s, &ConformanceOptions::default())
            .unwrap()
            .assert_passed();
    }

    #[test]
    fn eam_fs_cuzr_random_alloy() {
        // 7.6 Å cutoff in a 12 Å box: the cutoff exceeds half the box.
        let s = perturbed_fcc(3, 4.0, 0.15, 0.45, 23);
        assert_eq!(s.species, vec!["Cu".to_string(), "Zr".to_string()]);
        check_force_field(eam("CuZr_mm.eam.fs"), &s, &ConformanceOptions::default())
            .unwrap()
            .assert_passed();
    }

    #[test]
    fn eam_fs_cuzr_triclinic_cell() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(24);
        let cell = Cell::new(
            [11.0, 0.0, 0.0],
            [3.0, 10.5, 0.0],
            [-2.0, 1.5, 10.0],
            [0.0; 3],
            [true; 3],
        )
        .unwrap();
        let mut p: Vec<[f64; 3]> = Vec::new();
        // Random sequential insertion, 2.2 Å apart at least (packing fraction 0.22).
        while p.len() < 50 {
            let x = cell.cartesian([rng.random(), rng.random(), rng.random()]);
            if p.iter().all(|y| cell.distance(x, *y) > 2.2) {
                p.push(x);
            }
        }
        let sym: Vec<&str> = (0..p.len()).map(|i| if i % 2 == 0 { "Cu" } else { "Zr" }).collect();
        let s = Structure::from_symbols(cell, &sym, p).unwrap();
        check_force_field(eam("CuZr_mm.eam.fs"), &s, &ConformanceOptions::default())
            .unwrap()
            .assert_passed();
    }

    /// A deliberately broken Lennard-Jones: forces scaled by (1 + `force_error`), per-atom
    /// energies optionally misassigned, and, if `drop_images`, periodic images ignored.
    #[derive(Debug)]
    struct Broken {
        lj: LennardJones,
        force_error: f64,
        per_atom_error: f64,
    }

    impl ForceField for Broken {
        fn describe(&self) -> String {
            "broken lj".into()
        }
        fn cutoff(&self) -> f64 {
            self.lj.cutoff()
        }
        fn elements(&self) -> Vec<String> {
            Vec::new()
        }
        fn compute(
            &self,
            s: &Structure,
            map: &[usize],
            ws: &mut Workspace,
            forces: &mut [[f64; 3]],
            mut per_atom: Option<&mut [f64]>,
        ) -> Result<f64> {
            let e = self.lj.compute(s, map, ws, forces, per_atom.as_deref_mut())?;
            forces.iter_mut().flatten().for_each(|f| *f *= 1.0 + self.force_error);
            if let Some(pa) = per_atom {
                pa[0] += self.per_atom_error;
            }
            Ok(e)
        }
    }

    fn liquid() -> Structure {
        crate::potential::lj::tests::disordered_fcc(2, 0.9, 0.1, 31)
    }

    #[test]
    fn a_force_wrong_by_one_part_in_a_million_is_caught() {
        let broken = Broken {
            lj: LennardJones::new(1.0, 1.0, Some(2.5)).unwrap(),
            force_error: 1e-6,
            per_atom_error: 0.0,
        };
        let r = check_force_field(Arc::new(broken), &liquid(), &ConformanceOptions::default()).unwrap();
        let fd = r.check("finite differences").unwrap();
        assert!(!fd.passed && fd.detail.contains("stopped falling"), "{r}");
        assert!(r.check("per-atom energies").unwrap().passed, "{r}");
    }

    #[test]
    fn per_atom_energies_that_do_not_sum_to_the_total_are_caught() {
        let broken = Broken {
            lj: LennardJones::new(1.0, 1.0, Some(2.5)).unwrap(),
            force_error: 0.0,
            per_atom_error: 1e-6,
        };
        let r = check_force_field(Arc::new(broken), &liquid(), &ConformanceOptions::default()).unwrap();
        assert!(r.check("finite differences").unwrap().passed, "{r}");
        assert!(!r.check("per-atom energies").unwrap().passed, "{r}");
        let msg = std::panic::catch_unwind(|| r.assert_passed()).unwrap_err();
        let msg = msg.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains("[FAILED] per-atom energies: |sum e_i - E| = 1.00e-6"),
            "{msg}"
        );
    }

    #[test]
    fn a_reference_with_a_different_cutoff_is_caught() {
        // The field cuts at 2.5 σ, the reference at 2.0 σ: the pairs in between are missed.
        let lj = Arc::new(LennardJones::new(1.0, 1.0, Some(2.5)).unwrap());
        let short = Arc::new(LennardJones::new(1.0, 1.0, Some(2.0)).unwrap());
        let opts = ConformanceOptions::default().with_pair_reference(short);
        let r = check_force_field(lj, &liquid(), &opts).unwrap();
        assert!(!r.check("brute-force pairs").unwrap().passed, "{r}");
        assert!(r.check("periodic replication").unwrap().passed, "{r}");
    }
}
