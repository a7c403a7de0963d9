//! Truncated and shifted Lennard-Jones pair potential, one or several species.
//!
//! For a pair of species (a, b) at distance r:
//!
//! E_ab(r) = 4 ε_ab [(σ_ab/r)^12 - (σ_ab/r)^6] - E_ab^LJ(r_c,ab) for r < r_c,ab, and 0 beyond,
//!
//! so the energy is continuous at the cutoff (the force jumps there, as in LAMMPS
//! `pair_style lj/cut` with `pair_modify shift yes`). Cross parameters come from an explicit
//! table or from the Lorentz-Berthelot rules ε_ab = √(ε_a ε_b), σ_ab = (σ_a + σ_b)/2.
//!
//! Units are whatever ε and σ are given in: eV and Å (LAMMPS "metal") or reduced units
//! (ε = σ = 1); the [`LjUnits`] label only documents which. Without a cutoff the sum runs over
//! all pairs of a cell that is open along every axis (clusters, the 2D heptamer of
//! Dellago, Bolhuis & Chandler, J. Chem. Phys. 108, 9236 (1998)).

use super::conformance::PairFunction;
use super::{ForceField, Workspace};
use crate::structure::Structure;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which unit system ε and σ are expressed in (a label for logs and provenance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LjUnits {
    /// eV and Å, as everywhere else in pelx.
    #[default]
    Metal,
    /// Reduced units: energies in ε, lengths in σ of a reference species.
    Reduced,
}

/// Parameters of one species for Lorentz-Berthelot mixing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LjSpecies {
    /// Element name the structure's species bind to.
    pub name: String,
    /// Well depth ε (energy units).
    pub epsilon: f64,
    /// Length σ where the unshifted energy crosses zero (length units).
    pub sigma: f64,
}

/// Parameters of one pair of species.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LjPair {
    /// Well depth ε_ab (energy units).
    pub epsilon: f64,
    /// Zero crossing σ_ab of the unshifted energy (length units).
    pub sigma: f64,
    /// Cutoff r_c,ab (length units); `None` means no cutoff (open cells only).
    pub cutoff: Option<f64>,
}

/// How the cutoff of a mixed pair is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LjCutoff {
    /// No cutoff: all pairs interact (open cells only).
    None,
    /// The same cutoff distance for every pair (length units).
    Distance(f64),
    /// A multiple of each pair's σ_ab (2.5 is the common choice).
    SigmaMultiple(f64),
}

/// Precomputed coefficients of one pair of species (LAMMPS `lj1..lj4` and `offset`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coeffs {
    epsilon: f64,
    sigma: f64,
    /// 48 ε σ^12, for the force.
    lj1: f64,
    /// 24 ε σ^6, for the force.
    lj2: f64,
    /// 4 ε σ^12, for the energy.
    lj3: f64,
    /// 4 ε σ^6, for the energy.
    lj4: f64,
    /// r_c², infinite without a cutoff.
    cutsq: f64,
    /// Unshifted energy at the cutoff (0 without a cutoff).
    offset: f64,
}

impl Coeffs {
    fn new(p: LjPair, label: &str) -> Result<Self> {
        if !(p.epsilon.is_finite() && p.epsilon > 0.0) {
            return Err(Error::invalid(format!(
                "Lennard-Jones {label}: epsilon must be positive, got {}",
                p.epsilon
            )));
        }
        if !(p.sigma.is_finite() && p.sigma > 0.0) {
            return Err(Error::invalid(format!(
                "Lennard-Jones {label}: sigma must be positive, got {}",
                p.sigma
            )));
        }
        let (cutsq, offset) = match p.cutoff {
            None => (f64::INFINITY, 0.0),
            Some(rc) if rc.is_finite() && rc > 0.0 => {
                let sr6 = (p.sigma / rc).powi(6);
                (rc * rc, 4.0 * p.epsilon * sr6 * (sr6 - 1.0))
            }
            Some(rc) => {
                return Err(Error::invalid(format!(
                    "Lennard-Jones {label}: cutoff must be positive and finite, got {rc}"
                )))
            }
        };
        let s6 = p.sigma.powi(6);
        Ok(Coeffs {
            epsilon: p.epsilon,
            sigma: p.sigma,
            lj1: 48.0 * p.epsilon * s6 * s6,
            lj2: 24.0 * p.epsilon * s6,
            lj3: 4.0 * p.epsilon * s6 * s6,
            lj4: 4.0 * p.epsilon * s6,
            cutsq,
            offset,
        })
    }

    /// Shifted energy and F·r/r² ("fpair": the force on atom i is -fpair·(x_j - x_i)) at r².
    #[inline]
    fn eval(&self, rsq: f64) -> (f64, f64) {
        let r2inv = 1.0 / rsq;
        let r6inv = r2inv * r2inv * r2inv;
        let e = r6inv * (self.lj3 * r6inv - self.lj4) - self.offset;
        let fpair = r6inv * (self.lj1 * r6inv - self.lj2) * r2inv;
        (e, fpair)
    }
}

/// A truncated and shifted Lennard-Jones potential (see the module documentation).
#[derive(Debug, Clone)]
pub struct LennardJones {
    /// Element names; empty for a single-species potential that accepts any species.
    elements: Vec<String>,
    /// Number of species in the table.
    n: usize,
    /// Symmetric n × n table, row-major.
    table: Vec<Coeffs>,
    /// Largest pair cutoff (infinite without cutoffs).
    max_cutoff: f64,
    units: LjUnits,
}

impl LennardJones {
    /// One species with well depth `epsilon`, length `sigma` and optional `cutoff`. Every atom
    /// interacts the same way whatever its species name.
    pub fn new(epsilon: f64, sigma: f64, cutoff: Option<f64>) -> Result<Self> {
        let c = Coeffs::new(LjPair { epsilon, sigma, cutoff }, "pair")?;
        Ok(LennardJones {
            elements: Vec::new(),
            n: 1,
            table: vec![c],
            max_cutoff: cutoff.unwrap_or(f64::INFINITY),
            units: LjUnits::Metal,
        })
    }

    /// Several species mixed with the Lorentz-Berthelot rules: ε_ab = √(ε_a ε_b),
    /// σ_ab = (σ_a + σ_b)/2, and the cutoff of each pair from `cutoff`.
    pub fn lorentz_berthelot(species: &[LjSpecies], cutoff: LjCutoff) -> Result<Self> {
        let names: Vec<&str> = species.iter().map(|s| s.name.as_str()).collect();
        let mut pairs = Vec::new();
        for (a, sa) in species.iter().enumerate() {
            for sb in &species[a..] {
                let sigma = 0.5 * (sa.sigma + sb.sigma);
                let rc = match cutoff {
                    LjCutoff::None => None,
                    LjCutoff::Distance(rc) => Some(rc),
                    LjCutoff::SigmaMultiple(k) => Some(k * sigma),
                };
                let epsilon = (sa.epsilon * sb.epsilon).sqrt();
                pairs.push((
                    (sa.name.as_str(), sb.name.as_str()),
                    LjPair {
                        epsilon,
                        sigma,
                        cutoff: rc,
                    },
                ));
            }
        }
        LennardJones::from_table(&names, &pairs)
    }

    /// Several species with every pair given explicitly: each unordered pair of `elements`
    /// must appear exactly once in `pairs` (either order).
    pub fn from_table(elements: &[&str], pairs: &[((&str, &str), LjPair)]) -> Result<Self> {
        let n = elements.len();
        if n == 0 {
            return Err(Error::invalid("Lennard-Jones: no species given"));
        }
        for (k, e) in elements.iter().enumerate() {
            if elements[..k].contains(e) {
                return Err(Error::invalid(format!("Lennard-Jones: species {e} is listed twice")));
            }
        }
        let index = |name: &str| {
            elements
                .iter()
                .position(|e| *e == name)
                .ok_or_else(|| Error::invalid(format!("Lennard-Jones: pair names unknown species {name}")))
        };
        let mut table: Vec<Option<Coeffs>> = vec![None; n * n];
        for &((a, b), p) in pairs {
            let (i, j) = (index(a)?, index(b)?);
            if table[i * n + j].is_some() {
                return Err(Error::invalid(format!("Lennard-Jones: pair {a}-{b} is given twice")));
            }
            let c = Coeffs::new(p, &format!("pair {a}-{b}"))?;
            table[i * n + j] = Some(c);
            table[j * n + i] = Some(c);
        }
        let mut full = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                full.push(table[i * n + j].ok_or_else(|| {
                    Error::invalid(format!(
                        "Lennard-Jones: pair {}-{} is missing",
                        elements[i], elements[j]
                    ))
                })?);
            }
        }
        let finite = full.iter().filter(|c| c.cutsq.is_finite()).count();
        if finite != 0 && finite != full.len() {
            return Err(Error::invalid(
                "Lennard-Jones: either every pair has a cutoff or none has (no cutoff means all pairs interact)",
            ));
        }
        let max_cutoff = full.iter().map(|c| c.cutsq.sqrt()).fold(0.0, f64::max);
        Ok(LennardJones {
            elements: elements.iter().map(|e| e.to_string()).collect(),
            n,
            table: full,
            max_cutoff,
            units: LjUnits::Metal,
        })
    }

    /// The Kob-Andersen binary mixture (species "A" and "B", reduced units), a standard model
    /// glass former: ε_AA = 1, σ_AA = 1, ε_AB = 1.5, σ_AB = 0.8, ε_BB = 0.5, σ_BB = 0.88, cutoff
    /// 2.5 σ_ab (Kob & Andersen, Phys. Rev. E 51, 4626 (1995)).
    pub fn kob_andersen() -> Self {
        let pair = |epsilon: f64, sigma: f64| LjPair {
            epsilon,
            sigma,
            cutoff: Some(2.5 * sigma),
        };
        LennardJones::from_table(
            &["A", "B"],
            &[
                (("A", "A"), pair(1.0, 1.0)),
                (("A", "B"), pair(1.5, 0.8)),
                (("B", "B"), pair(0.5, 0.88)),
            ],
        )
        .expect("valid parameters")
        .with_units(LjUnits::Reduced)
    }

    /// Sets the unit label.
    pub fn with_units(mut self, units: LjUnits) -> Self {
        self.units = units;
        self
    }
    /// The unit label.
    pub fn units(&self) -> LjUnits {
        self.units
    }
    /// Whether the potential has no cutoff (all pairs interact).
    pub fn is_untruncated(&self) -> bool {
        self.max_cutoff.is_infinite()
    }
    /// Parameters of the pair of species indices (a, b) of this potential.
    pub fn pair(&self, a: usize, b: usize) -> LjPair {
        let c = &self.table[a * self.n + b];
        LjPair {
            epsilon: c.epsilon,
            sigma: c.sigma,
            cutoff: c.cutsq.is_finite().then(|| c.cutsq.sqrt()),
        }
    }

    #[inline]
    fn coeffs(&self, a: usize, b: usize) -> &Coeffs {
        &self.table[a * self.n + b]
    }

    /// Species index of atom `i` in this potential's table.
    #[inline]
    fn type_of(&self, s: &Structure, species_map: &[usize], i: usize) -> usize {
        if self.elements.is_empty() {
            0
        } else {
            species_map[s.types[i]]
        }
    }
}

/// Adds the pair (i, j) with separation d = x_j - x_i to the energy, forces and per-atom
/// energies; returns the pair energy.
#[inline]
fn add_pair(
    c: &Coeffs,
    i: usize,
    j: usize,
    d: [f64; 3],
    rsq: f64,
    forces: &mut [[f64; 3]],
    per_atom: &mut Option<&mut [f64]>,
) -> Result<f64> {
    if rsq < 1e-20 {
        return Err(Error::Potential(format!(
            "atoms {} and {} sit at the same position",
            i.min(j) + 1,
            i.max(j) + 1
        )));
    }
    let (e, fpair) = c.eval(rsq);
    for k in 0..3 {
        forces[i][k] -= fpair * d[k];
        forces[j][k] += fpair * d[k];
    }
    if let Some(pa) = per_atom.as_deref_mut() {
        pa[i] += 0.5 * e;
        pa[j] += 0.5 * e;
    }
    Ok(e)
}

impl ForceField for LennardJones {
    fn describe(&self) -> String {
        let units = match self.units {
            LjUnits::Metal => "metal",
            LjUnits::Reduced => "reduced",
        };
        let cut = if self.is_untruncated() {
            "no cutoff".to_string()
        } else {
            format!("cutoff {}", self.max_cutoff)
        };
        if self.elements.is_empty() {
            let c = &self.table[0];
            format!("lj/cut epsilon {} sigma {}, {cut}, {units} units", c.epsilon, c.sigma)
        } else {
            format!("lj/cut {}, {cut}, {units} units", self.elements.join("-"))
        }
    }
    fn cutoff(&self) -> f64 {
        self.max_cutoff
    }
    fn elements(&self) -> Vec<String> {
        self.elements.clone()
    }

    fn compute(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        mut per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        let n = s.len();
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        if let Some(pa) = per_atom.as_deref_mut() {
            pa.iter_mut().for_each(|e| *e = 0.0);
        }
        let types: Vec<usize> = (0..n).map(|i| self.type_of(s, species_map, i)).collect();
        let x = &s.positions;
        let mut energy = 0.0;

        if self.is_untruncated() {
            if s.cell.any_periodic() {
                return Err(Error::Potential(
                    "Lennard-Jones without a cutoff needs a cell that is open along every axis".into(),
                ));
            }
            // All pairs, each once: fine for the small clusters this case is meant for.
            for i in 0..n {
                for j in i + 1..n {
                    let d = [x[j][0] - x[i][0], x[j][1] - x[i][1], x[j][2] - x[i][2]];
                    let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                    energy += add_pair(self.coeffs(types[i], types[j]), i, j, d, rsq, forces, &mut per_atom)?;
                }
            }
            return Ok(energy);
        }

        let nl = ws.neighbor_list(s, self.max_cutoff);
        let (starts, entries, shifts) = nl.raw();
        for i in 0..n {
            let xi = x[i];
            for &(j, sh) in &entries[starts[i] as usize..starts[i + 1] as usize] {
                let j = j as usize;
                let sh = &shifts[sh as usize];
                let d = [
                    x[j][0] + sh[0] - xi[0],
                    x[j][1] + sh[1] - xi[1],
                    x[j][2] + sh[2] - xi[2],
                ];
                let rsq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let c = self.coeffs(types[i], types[j]);
                if rsq >= c.cutsq {
                    continue;
                }
                energy += add_pair(c, i, j, d, rsq, forces, &mut per_atom)?;
            }
        }
        Ok(energy)
    }
}

impl PairFunction for LennardJones {
    fn pair_energy(&self, a: usize, b: usize, r: f64) -> (f64, f64) {
        let c = self.coeffs(a, b);
        if r * r >= c.cutsq {
            return (0.0, 0.0);
        }
        let (e, fpair) = c.eval(r * r);
        (e, -fpair * r)
    }
    fn pair_cutoff(&self, a: usize, b: usize) -> f64 {
        self.coeffs(a, b).cutsq.sqrt()
    }
    fn species_index(&self, species_map: &[usize], t: usize) -> usize {
        if self.elements.is_empty() {
            0
        } else {
            species_map[t]
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::potential::conformance::{check_force_field, ConformanceOptions};
    use crate::potential::Calculator;
    use crate::structure::Cell;
    use rand::{Rng, SeedableRng};
    use std::sync::Arc;

    fn open(positions: Vec<[f64; 3]>) -> Structure {
        let cell = Cell::open_box(&positions, 5.0).unwrap();
        let n = positions.len();
        Structure::new(cell, vec!["X".into()], vec![0; n], positions).unwrap()
    }

    fn energy(ff: LennardJones, s: &Structure) -> (f64, Vec<[f64; 3]>) {
        Calculator::new(Arc::new(ff)).energy_forces(s).unwrap()
    }

    #[test]
    fn dimer_at_the_minimum_has_energy_minus_epsilon_minus_the_shift() {
        let (eps, sigma, rc) = (0.4, 2.3, 6.0);
        let rmin = 2f64.powf(1.0 / 6.0) * sigma;
        let s = open(vec![[0.0; 3], [rmin, 0.0, 0.0]]);
        let shift = 4.0 * eps * ((sigma / rc).powi(12) - (sigma / rc).powi(6));
        let (e, f) = energy(LennardJones::new(eps, sigma, Some(rc)).unwrap(), &s);
        assert!((e - (-eps - shift)).abs() < 1e-14, "{e}");
        assert!(f.iter().flatten().all(|x| x.abs() < 1e-13), "{f:?}");
        // At r = σ the unshifted energy is zero and the force is 24 ε / σ, repulsive.
        let s = open(vec![[0.0; 3], [0.0, sigma, 0.0]]);
        let (e, f) = energy(LennardJones::new(eps, sigma, Some(rc)).unwrap(), &s);
        assert!((e + shift).abs() < 1e-14);
        assert!((f[1][1] - 24.0 * eps / sigma).abs() < 1e-12 && (f[0][1] + 24.0 * eps / sigma).abs() < 1e-12);
    }

    #[test]
    fn energy_is_zero_beyond_the_cutoff_and_continuous_at_it() {
        let ff = LennardJones::new(1.0, 1.0, Some(2.5)).unwrap();
        let (e_in, _) = energy(ff.clone(), &open(vec![[0.0; 3], [2.5 - 1e-9, 0.0, 0.0]]));
        let (e_out, f_out) = energy(ff, &open(vec![[0.0; 3], [2.5 + 1e-9, 0.0, 0.0]]));
        assert!(
            e_in.abs() < 1e-9 && e_out == 0.0 && f_out[0][0] == 0.0,
            "{e_in} {e_out}"
        );
    }

    /// The 13-atom icosahedron relaxes to the LJ13 global minimum in the companion minimizer
    /// tests; here its unrelaxed energy at the ideal nearest-neighbour distance is checked
    /// against the sum over its 78 pairs: 42 short (centre-shell and shell edges) and 36 long.
    #[test]
    fn untruncated_cluster_sums_every_pair() {
        // Icosahedron vertices (0, ±1, ±φ) cyclic: edge 2, circumradius √(1+φ²).
        let phi = (1.0 + 5f64.sqrt()) / 2.0;
        let mut p = vec![[0.0; 3]];
        for &a in &[-1.0, 1.0] {
            for &b in &[-phi, phi] {
                p.push([0.0, a, b]);
                p.push([a, b, 0.0]);
                p.push([b, 0.0, a]);
            }
        }
        let s = open(p.clone());
        let (e, f) = energy(LennardJones::new(1.0, 1.0, None).unwrap(), &s);
        let lj = |r: f64| 4.0 * (r.powi(-12) - r.powi(-6));
        let mut expect = 0.0;
        for i in 0..13 {
            for j in i + 1..13 {
                let d = [p[j][0] - p[i][0], p[j][1] - p[i][1], p[j][2] - p[i][2]];
                expect += lj((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt());
            }
        }
        assert!((e - expect).abs() < 1e-12 * expect.abs(), "{e} vs {expect}");
        // Symmetry: the central atom feels no force.
        assert!(f[0].iter().all(|x| x.abs() < 1e-12));
    }

    #[test]
    fn untruncated_potential_rejects_a_periodic_cell() {
        let s = Structure::new(
            Cell::orthorhombic(5.0, 5.0, 5.0).unwrap(),
            vec!["X".into()],
            vec![0],
            vec![[0.0; 3]],
        )
        .unwrap();
        let err = Calculator::new(Arc::new(LennardJones::new(1.0, 1.0, None).unwrap()))
            .energy_forces(&s)
            .unwrap_err();
        assert!(err.to_string().contains("open along every axis"), "{err}");
    }

    #[test]
    fn lorentz_berthelot_mixing_and_table_errors() {
        let sp = |name: &str, epsilon, sigma| LjSpecies {
            name: name.into(),
            epsilon,
            sigma,
        };
        let lj = LennardJones::lorentz_berthelot(
            &[sp("Ar", 0.0104, 3.40), sp("Kr", 0.0140, 3.65)],
            LjCutoff::SigmaMultiple(2.5),
        )
        .unwrap();
        let p = lj.pair(0, 1);
        assert!((p.epsilon - (0.0104f64 * 0.0140).sqrt()).abs() < 1e-15);
        assert!((p.sigma - 3.525).abs() < 1e-15 && (p.cutoff.unwrap() - 2.5 * 3.525).abs() < 1e-14);
        assert_eq!(lj.elements(), vec!["Ar".to_string(), "Kr".to_string()]);
        assert!((lj.cutoff() - 2.5 * 3.65).abs() < 1e-14);

        let pair = LjPair {
            epsilon: 1.0,
            sigma: 1.0,
            cutoff: Some(2.5),
        };
        let e = LennardJones::from_table(&["A", "B"], &[(("A", "A"), pair), (("B", "B"), pair)]).unwrap_err();
        assert!(e.to_string().contains("pair A-B is missing"), "{e}");
        let e = LennardJones::from_table(&["A"], &[(("A", "A"), pair), (("A", "A"), pair)]).unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = LennardJones::from_table(&["A"], &[(("A", "C"), pair)]).unwrap_err();
        assert!(e.to_string().contains("unknown species C"), "{e}");
        let bad = LjPair { sigma: -1.0, ..pair };
        let e = LennardJones::from_table(&["A"], &[(("A", "A"), bad)]).unwrap_err();
        assert!(e.to_string().contains("sigma must be positive"), "{e}");
        let open_pair = LjPair { cutoff: None, ..pair };
        let e = LennardJones::from_table(
            &["A", "B"],
            &[(("A", "A"), pair), (("A", "B"), open_pair), (("B", "B"), pair)],
        )
        .unwrap_err();
        assert!(e.to_string().contains("either every pair"), "{e}");
    }

    #[test]
    fn species_bind_by_name() {
        let ka = Arc::new(LennardJones::kob_andersen());
        let cell = Cell::open_box(&[[0.0; 3], [0.9, 0.0, 0.0]], 5.0).unwrap();
        // Species listed in the other order in the structure: B first.
        let s = Structure::from_symbols(cell.clone(), &["B", "A"], vec![[0.0; 3], [0.9, 0.0, 0.0]]).unwrap();
        let (e, _) = Calculator::new(ka.clone()).energy_forces(&s).unwrap();
        let (eps, sig, rc) = (1.5f64, 0.8f64, 2.0f64);
        let lj = |r: f64| 4.0 * eps * ((sig / r).powi(12) - (sig / r).powi(6));
        assert!((e - (lj(0.9) - lj(rc))).abs() < 1e-13, "{e}");
        let s = Structure::from_symbols(cell, &["A", "C"], vec![[0.0; 3], [0.9, 0.0, 0.0]]).unwrap();
        let err = Calculator::new(ka).energy_forces(&s).unwrap_err();
        assert!(err.to_string().contains("species C"), "{err}");
    }

    /// A dense disordered periodic configuration: an fcc lattice at reduced density `rho`
    /// with every atom displaced uniformly by up to `amp` σ along each axis.
    pub(crate) fn disordered_fcc(cells: usize, rho: f64, amp: f64, seed: u64) -> Structure {
        let a = (4.0 / rho).cbrt();
        let l = a * cells as f64;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let basis = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]];
        let mut p = Vec::new();
        for i in 0..cells {
            for j in 0..cells {
                for k in 0..cells {
                    for b in &basis {
                        p.push([
                            (i as f64 + b[0]) * a + rng.random_range(-amp..amp),
                            (j as f64 + b[1]) * a + rng.random_range(-amp..amp),
                            (k as f64 + b[2]) * a + rng.random_range(-amp..amp),
                        ]);
                    }
                }
            }
        }
        let n = p.len();
        Structure::new(Cell::orthorhombic(l, l, l).unwrap(), vec!["X".into()], vec![0; n], p).unwrap()
    }

    #[test]
    fn conformance_dense_periodic_liquid() {
        let s = disordered_fcc(3, 0.9, 0.12, 11);
        assert_eq!(s.len(), 108);
        let lj = Arc::new(LennardJones::new(1.0, 1.0, Some(2.5)).unwrap());
        let opts = ConformanceOptions::default().with_pair_reference(lj.clone());
        check_force_field(lj, &s, &opts).unwrap().assert_passed();
    }

    #[test]
    fn conformance_binary_triclinic() {
        // Kob-Andersen A80B20 in a tilted cell, 60 atoms at number density 1.2 σ^-3.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let cell = Cell::new([4.4, 0.0, 0.0], [1.3, 3.9, 0.0], [-0.8, 1.1, 2.9], [0.0; 3], [true; 3]).unwrap();
        let n = (1.2 * cell.volume()).round() as usize;
        let mut p: Vec<[f64; 3]> = Vec::new();
        // Random sequential insertion with a minimum distance of 0.8 σ (minimum image).
        while p.len() < n {
            let x = cell.cartesian([rng.random(), rng.random(), rng.random()]);
            if p.iter().all(|y| cell.distance(x, *y) > 0.8) {
                p.push(x);
            }
        }
        let symbols: Vec<&str> = (0..n).map(|i| if i % 5 == 4 { "B" } else { "A" }).collect();
        let s = Structure::from_symbols(cell, &symbols, p).unwrap();
        let lj = Arc::new(LennardJones::kob_andersen());
        let opts = ConformanceOptions::default().with_pair_reference(lj.clone());
        check_force_field(lj, &s, &opts).unwrap().assert_passed();
    }

    #[test]
    fn conformance_cutoff_beyond_half_the_box() {
        // 6 atoms in a 2.2 σ box with a 2.5 σ cutoff: every pair interacts through many images.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
        let cell = Cell::new([2.2, 0.0, 0.0], [0.3, 2.3, 0.0], [0.0, -0.2, 2.1], [0.0; 3], [true; 3]).unwrap();
        let mut p: Vec<[f64; 3]> = Vec::new();
        while p.len() < 6 {
            let x = cell.cartesian([rng.random(), rng.random(), rng.random()]);
            if p.iter().all(|y| cell.distance(x, *y) > 0.85) {
                p.push(x);
            }
        }
        let s = Structure::new(cell, vec!["X".into()], vec![0; 6], p).unwrap();
        let lj = Arc::new(LennardJones::new(1.0, 1.0, Some(2.5)).unwrap());
        let opts = ConformanceOptions::default().with_pair_reference(lj.clone());
        check_force_field(lj, &s, &opts).unwrap().assert_passed();
    }

    #[test]
    fn conformance_open_cluster_without_cutoff() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        let mut p: Vec<[f64; 3]> = Vec::new();
        while p.len() < 20 {
            let x = [
                rng.random_range(0.0..3.0),
                rng.random_range(0.0..3.0),
                rng.random_range(0.0..3.0),
            ];
            if p.iter()
                .all(|y| ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2)).sqrt() > 0.9)
            {
                p.push(x);
            }
        }
        let s = open(p);
        let lj = Arc::new(LennardJones::new(1.0, 1.0, None).unwrap().with_units(LjUnits::Reduced));
        let opts = ConformanceOptions::default().with_pair_reference(lj.clone());
        check_force_field(lj, &s, &opts).unwrap().assert_passed();
    }
}
