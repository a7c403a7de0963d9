//! Image-dependent pair potential (IDPP) for initial NEB paths (Smidstrup, Pedersen, Stokbro &
//! Jónsson, J. Chem. Phys. 140, 214106 (2014)).
//!
//! Linear interpolation of Cartesian coordinates can push atoms through each other when several
//! atoms rearrange. IDPP instead interpolates every pair distance linearly between the endpoints,
//! d_ij^κ = d_ij^0 + κ/(M+1) (d_ij^{M+1} - d_ij^0) for image κ of M intermediate images, and
//! relaxes each image on the objective (eq. 2 of the paper)
//!
//! S^κ(r) = Σ_{i<j} w(d_ij) (d_ij^κ - d_ij)²,  w(d) = 1/d⁴,
//!
//! with NEB projections and springs so that the images stay spread along the path. The objective
//! is a [`crate::potential::ForceField`] that differs per image (its target distances), so the
//! band is relaxed by the same machinery as a real NEB (see [`super::neb`]); its "energies" are
//! in Å⁻² and "forces" in Å⁻³.
//!
//! Pairs are those closer than a cutoff in either endpoint, each with the periodic image that
//! separates it at the initial endpoint kept fixed along the path, so the objective is smooth and
//! exact under periodic boundaries. The weight 1/d⁴ makes distant pairs negligible; the paper sums
//! over all pairs, which a cutoff of a few neighbour shells reproduces closely.

use crate::potential::neighbor::enumerate_pairs;
use crate::potential::{ForceField, Workspace};
use crate::structure::Structure;
use crate::{Error, Result};
use std::collections::HashMap;

/// Default pair cutoff of the IDPP objective, Å.
pub const DEFAULT_IDPP_CUTOFF: f64 = 8.0;

/// The pairs of the IDPP objective: atom indices, the fixed periodic shift (Å) such that
/// r_ij = x_j + shift - x_i, and the pair distance at both endpoints (Å).
#[derive(Debug, Clone)]
pub struct IdppPairs {
    pairs: Vec<IdppPair>,
}

#[derive(Debug, Clone, Copy)]
struct IdppPair {
    i: u32,
    j: u32,
    shift: [f64; 3],
    d_initial: f64,
    d_final: f64,
}

impl IdppPairs {
    /// Pairs closer than `cutoff` (Å) in `initial` or in `final_`. `final_` must hold the same
    /// atoms with positions unwrapped consistently with `initial` (each atom's final position is
    /// its initial one plus its minimum-image displacement), as [`super::neb`] prepares them.
    pub fn new(initial: &Structure, final_: &Structure, cutoff: f64) -> Result<Self> {
        if initial.len() != final_.len() {
            return Err(Error::invalid("IDPP endpoints hold different numbers of atoms"));
        }
        if !(cutoff > 0.0 && cutoff.is_finite()) {
            return Err(Error::invalid(format!("IDPP cutoff must be positive, got {cutoff}")));
        }
        let cell = &initial.cell;
        let mut keys: HashMap<(u32, u32, [i64; 3]), ()> = HashMap::new();
        let mut order = Vec::new();
        for s in [initial, final_] {
            for p in enumerate_pairs(s, cutoff) {
                if p.i == p.j {
                    // An atom and its own periodic image: a constant distance, no force.
                    continue;
                }
                let key = (p.i as u32, p.j as u32, p.image);
                if keys.insert(key, ()).is_none() {
                    order.push(key);
                }
            }
        }
        // Deterministic order (pairs sorted by atoms, then image) so sums do not depend on hashing.
        order.sort_unstable();
        let dist = |s: &Structure, i: usize, j: usize, shift: [f64; 3]| {
            let (a, b) = (s.positions[i], s.positions[j]);
            let r = [b[0] + shift[0] - a[0], b[1] + shift[1] - a[1], b[2] + shift[2] - a[2]];
            (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt()
        };
        let mut pairs = Vec::with_capacity(order.len());
        for (i, j, image) in order {
            let shift = cell.frac_to_vector([image[0] as f64, image[1] as f64, image[2] as f64]);
            let (iu, ju) = (i as usize, j as usize);
            let d_initial = dist(initial, iu, ju, shift);
            let d_final = dist(final_, iu, ju, shift);
            if d_initial < 1e-8 || d_final < 1e-8 {
                return Err(Error::invalid(format!(
                    "atoms {} and {} coincide at an endpoint: IDPP needs distinct positions",
                    iu + 1,
                    ju + 1
                )));
            }
            pairs.push(IdppPair {
                i,
                j,
                shift,
                d_initial,
                d_final,
            });
        }
        Ok(IdppPairs { pairs })
    }

    /// Number of pairs in the objective.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }
    /// Whether the objective has no pair (all atoms farther apart than the cutoff).
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The objective of the image at fraction `t` of the path (0 = initial, 1 = final).
    pub fn objective(&self, t: f64) -> IdppObjective<'_> {
        IdppObjective { pairs: self, t }
    }
}

/// The IDPP objective S of one image (target distances at path fraction `t`), as a force field.
#[derive(Debug, Clone, Copy)]
pub struct IdppObjective<'a> {
    pairs: &'a IdppPairs,
    t: f64,
}

impl IdppObjective<'_> {
    /// S (Å⁻²) and its negative gradient (Å⁻³) written into `forces`.
    pub fn evaluate(&self, positions: &[[f64; 3]], forces: &mut [[f64; 3]]) -> f64 {
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        let mut s = 0.0;
        for p in &self.pairs.pairs {
            let (i, j) = (p.i as usize, p.j as usize);
            let (a, b) = (positions[i], positions[j]);
            let r = [
                b[0] + p.shift[0] - a[0],
                b[1] + p.shift[1] - a[1],
                b[2] + p.shift[2] - a[2],
            ];
            let d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
            let d = d2.sqrt();
            let target = p.d_initial + self.t * (p.d_final - p.d_initial);
            let dev = target - d;
            let inv4 = 1.0 / (d2 * d2);
            s += dev * dev * inv4;
            // dS/dd = -2 dev / d⁴ - 4 dev² / d⁵; F_j = -dS/dd r/d, F_i = +dS/dd r/d.
            let dsdd = -2.0 * dev * inv4 - 4.0 * dev * dev * inv4 / d;
            let c = dsdd / d;
            for k in 0..3 {
                forces[j][k] -= c * r[k];
                forces[i][k] += c * r[k];
            }
        }
        s
    }
}

/// Lets an IDPP image objective be stepped by the same band code as a real potential.
#[derive(Debug, Clone)]
pub(crate) struct IdppField {
    pub(crate) pairs: std::sync::Arc<IdppPairs>,
    pub(crate) t: f64,
}

impl ForceField for IdppField {
    fn describe(&self) -> String {
        format!("IDPP objective at path fraction {:.4}", self.t)
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
        _species_map: &[usize],
        _ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        if let Some(pa) = per_atom {
            pa.iter_mut().for_each(|x| *x = 0.0);
        }
        Ok(self.pairs.objective(self.t).evaluate(&s.positions, forces))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::Cell;

    fn two_atoms(d: f64) -> Structure {
        let c = Cell::orthorhombic(20.0, 20.0, 20.0).unwrap();
        Structure::from_symbols(c, &["A", "A"], vec![[1.0, 1.0, 1.0], [1.0 + d, 1.0, 1.0]]).unwrap()
    }

    #[test]
    fn objective_vanishes_on_target_and_gradient_matches_finite_differences() {
        let (a, b) = (two_atoms(2.0), two_atoms(3.0));
        let pairs = IdppPairs::new(&a, &b, 8.0).unwrap();
        assert_eq!(pairs.len(), 1);
        let mut f = vec![[0.0; 3]; 2];
        // At t = 0.5 the target distance is 2.5 Å.
        let on = two_atoms(2.5);
        assert!(pairs.objective(0.5).evaluate(&on.positions, &mut f).abs() < 1e-15);
        // Off target: S = (2.5 - 2.2)^2 / 2.2^4, and forces are -dS/dx by central differences.
        let mut s = two_atoms(2.2);
        s.positions[1] = [3.2, 1.3, 0.8];
        let obj = pairs.objective(0.5);
        let e0 = obj.evaluate(&s.positions, &mut f);
        let d = (2.2f64 * 2.2 + 0.09 + 0.04).sqrt();
        assert!((e0 - (2.5 - d).powi(2) / d.powi(4)).abs() < 1e-14);
        let h = 1e-6;
        let mut scratch = vec![[0.0; 3]; 2];
        for i in 0..2 {
            for k in 0..3 {
                let mut p = s.positions.clone();
                p[i][k] += h;
                let ep = obj.evaluate(&p, &mut scratch);
                p[i][k] -= 2.0 * h;
                let em = obj.evaluate(&p, &mut scratch);
                let fd = -(ep - em) / (2.0 * h);
                assert!((fd - f[i][k]).abs() < 1e-8, "atom {i} axis {k}: {fd} vs {}", f[i][k]);
            }
        }
    }

    #[test]
    fn periodic_pair_keeps_the_image_of_the_initial_endpoint() {
        // Two atoms 1 Å apart across the x boundary of a 10 Å box.
        let c = Cell::orthorhombic(10.0, 10.0, 10.0).unwrap();
        let a = Structure::from_symbols(c.clone(), &["A", "A"], vec![[0.5, 5.0, 5.0], [9.5, 5.0, 5.0]]).unwrap();
        let b = Structure::from_symbols(c, &["A", "A"], vec![[0.25, 5.0, 5.0], [9.75, 5.0, 5.0]]).unwrap();
        let pairs = IdppPairs::new(&a, &b, 3.0).unwrap();
        assert_eq!(pairs.len(), 1);
        let p = pairs.pairs[0];
        assert!(
            (p.d_initial - 1.0).abs() < 1e-12 && (p.d_final - 0.5).abs() < 1e-12,
            "{p:?}"
        );
    }
}
