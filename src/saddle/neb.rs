//! Climbing-image nudged elastic band (CI-NEB).
//!
//! A band of M intermediate images joins two minima of the same atoms. Each image feels
//! (Henkelman & Jónsson, J. Chem. Phys. 113, 9978 (2000), eqs. 8-12)
//!
//! F_i = F_i^true - (F_i^true · τ_i) τ_i + (k_{i+½} |R_{i+1} - R_i| - k_{i-½} |R_i - R_{i-1}|) τ_i,
//!
//! with τ_i the improved (upwind, energy-weighted at extrema) tangent: the true force acts only
//! perpendicular to the path and the springs only along it. The highest image climbs once the
//! band has roughly converged (Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901 (2000),
//! eq. 5): it feels no spring and the parallel component of its true force is inverted,
//! F_c = F_c^true - 2 (F_c^true · τ_c) τ_c, so it converges onto the saddle point. Springs are
//! constant or energy-weighted (same paper, eq. 6).
//!
//! The whole band (M · 3N coordinates) is one object stepped by the crate's FIRE
//! ([`crate::minimize::fire`]), with a maximum displacement per atom and step; images are
//! evaluated in parallel with rayon, each with its own [`Calculator`], and every reduction runs
//! in image order so the result does not depend on the number of threads. Convergence is on the
//! largest per-atom NEB force over all intermediate images.
//!
//! Initial paths: linear interpolation of minimum-image displacements, or IDPP
//! ([`super::idpp`], Smidstrup et al. 2014), the default. Endpoints are relaxed first unless
//! told otherwise. At a converged climbing image, [`lowest_curvatures`] confirms a first-order
//! saddle (exactly one negative Hessian eigenvalue).

use super::idpp::{IdppField, IdppPairs, DEFAULT_IDPP_CUTOFF};
use crate::potential::{Calculator, ForceField};
use crate::structure::Structure;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the initial band is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Straight lines between the endpoints' positions (minimum-image displacements).
    Linear,
    /// Image-dependent pair potential (Smidstrup et al. 2014), relaxed from the linear path.
    #[default]
    Idpp,
}

impl std::str::FromStr for Interpolation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(Interpolation::Linear),
            "idpp" => Ok(Interpolation::Idpp),
            _ => Err(Error::invalid(format!("unknown interpolation {s:?} (expected idpp or linear)"))),
        }
    }
}

/// FIRE parameters for stepping the band (Bitzek et al., PRL 97, 170201 (2006)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandFire {
    /// Initial time step (ps-like units of the band's unit mass).
    pub dt: f64,
    /// Largest time step.
    pub dt_max: f64,
}

impl Default for BandFire {
    fn default() -> Self {
        BandFire { dt: 0.1, dt_max: 1.0 }
    }
}

/// Options of a NEB run. Every field has a default (serde fills missing keys; unknown keys are
/// errors), and [`NebOptions::validate`] checks them before any force call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NebOptions {
    /// Number of intermediate (movable) images; the band has `images + 2` structures.
    pub images: usize,
    /// Spring constant k (eV/Å²); with `spring_min`, the largest spring constant.
    pub spring: f64,
    /// Energy-weighted springs: the spring constant at and below the higher endpoint's energy
    /// (eV/Å²), rising linearly to `spring` at the highest image. `None`: constant springs.
    pub spring_min: Option<f64>,
    /// Let the highest image climb to the saddle point.
    pub climb: bool,
    /// Switch climbing on once the largest NEB force falls below this (eV/Å); `None` climbs
    /// from the first step. Climbing always starts before convergence is declared.
    pub climb_after: Option<f64>,
    /// Convergence: the largest per-atom NEB force over the intermediate images (eV/Å).
    pub fmax: f64,
    /// Step limit of the band optimization; the run reports `converged: false` beyond it.
    pub max_steps: usize,
    /// Largest displacement of any atom of any image in one step (Å).
    pub max_step: f64,
    /// FIRE time steps for the band.
    pub fire: BandFire,
    /// How the initial band is made.
    pub interpolation: Interpolation,
    /// Relax both endpoints (fixed cell) before building the band.
    pub relax_ends: bool,
    /// Force tolerance of the endpoint relaxations (eV/Å).
    pub relax_fmax: f64,
    /// Step limit of each endpoint relaxation.
    pub relax_max_steps: usize,
    /// IDPP: pair cutoff (Å), force tolerance (Å⁻³) and step limit of the IDPP band.
    pub idpp_cutoff: f64,
    pub idpp_fmax: f64,
    pub idpp_max_steps: usize,
    /// Check the curvature at a converged climbing image (see [`lowest_curvatures`]).
    pub check_curvature: bool,
    /// How the curvature is checked.
    pub curvature: CurvatureOptions,
}

impl Default for NebOptions {
    fn default() -> Self {
        NebOptions {
            images: 7,
            spring: 1.0,
            spring_min: None,
            climb: true,
            climb_after: Some(0.5),
            fmax: 0.01,
            max_steps: 2000,
            max_step: 0.2,
            fire: BandFire::default(),
            interpolation: Interpolation::Idpp,
            relax_ends: true,
            relax_fmax: 1e-3,
            relax_max_steps: 5000,
            idpp_cutoff: DEFAULT_IDPP_CUTOFF,
            idpp_fmax: 0.1,
            idpp_max_steps: 1000,
            check_curvature: true,
            curvature: CurvatureOptions::default(),
        }
    }
}

impl NebOptions {
    /// Checks every option; the message names the offending one.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(Error::invalid(format!("NEB option {name} must be positive and finite, got {v}")))
            }
        };
        if self.images == 0 {
            return Err(Error::invalid("NEB needs at least one intermediate image"));
        }
        positive("spring", self.spring)?;
        if let Some(kmin) = self.spring_min {
            positive("spring_min", kmin)?;
            if kmin > self.spring {
                return Err(Error::invalid(format!(
                    "NEB option spring_min ({kmin}) exceeds spring ({})",
                    self.spring
                )));
            }
        }
        if let Some(c) = self.climb_after {
            positive("climb_after", c)?;
        }
        positive("fmax", self.fmax)?;
        positive("max_step", self.max_step)?;
        positive("fire.dt", self.fire.dt)?;
        positive("fire.dt_max", self.fire.dt_max)?;
        positive("relax_fmax", self.relax_fmax)?;
        positive("idpp_cutoff", self.idpp_cutoff)?;
        positive("idpp_fmax", self.idpp_fmax)?;
        positive("curvature.step", self.curvature.step)?;
        if !(self.curvature.negative_tol >= 0.0 && self.curvature.negative_tol.is_finite()) {
            return Err(Error::invalid("NEB option curvature.negative_tol must be >= 0"));
        }
        if self.max_steps == 0 {
            return Err(Error::invalid("NEB option max_steps must be at least 1"));
        }
        Ok(())
    }
}

/// How the lowest Hessian eigenvalues at a saddle candidate are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CurvatureMethod {
    /// The full 3N × 3N Hessian by central differences of forces (6N force calls), diagonalized
    /// exactly. Reserved for systems up to [`CurvatureOptions::max_atoms`] atoms.
    #[default]
    FdHessian,
}

/// Options of [`lowest_curvatures`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurvatureOptions {
    pub method: CurvatureMethod,
    /// Largest system (atoms) for the full finite-difference Hessian.
    pub max_atoms: usize,
    /// Finite-difference displacement (Å).
    pub step: f64,
    /// An eigenvalue counts as negative below -negative_tol (eV/Å²); the zero modes of free
    /// translations stay above it.
    pub negative_tol: f64,
    /// How many of the lowest eigenvalues to report.
    pub report: usize,
}

impl Default for CurvatureOptions {
    fn default() -> Self {
        CurvatureOptions {
            method: CurvatureMethod::FdHessian,
            max_atoms: 600,
            step: 1e-3,
            negative_tol: 1e-3,
            report: 6,
        }
    }
}

/// The lowest curvatures at a configuration, from [`lowest_curvatures`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvatureCheck {
    pub method: CurvatureMethod,
    /// The lowest Hessian eigenvalues, ascending (eV/Å²).
    pub lowest: Vec<f64>,
    /// Number of eigenvalues below -negative_tol.
    pub negative: usize,
    /// Exactly one negative eigenvalue: a first-order saddle.
    pub first_order_saddle: bool,
    /// Force calls spent on the check.
    pub force_calls: u64,
    /// Eigenvector of the lowest eigenvalue, per atom, unit norm over all 3N components.
    #[serde(skip)]
    pub lowest_mode: Vec<[f64; 3]>,
}

/// The lowest Hessian eigenvalues of `s` under `ff`: confirms that a converged climbing image is
/// a first-order saddle (exactly one negative curvature).
///
/// [`CurvatureMethod::FdHessian`] builds H_ab = -(F_b(x + h e_a) - F_b(x - h e_a)) / 2h column by
/// column (in parallel, each column independent), symmetrizes it and diagonalizes it with
/// nalgebra's `SymmetricEigen`. Its error is O(h²) in the third derivatives. A Lanczos
/// estimate from Hessian-vector products is the route for large systems.
pub fn lowest_curvatures(ff: Arc<dyn ForceField>, s: &Structure, opts: &CurvatureOptions) -> Result<CurvatureCheck> {
    if s.len() > opts.max_atoms {
        return Err(Error::invalid(format!(
            "{} atoms exceed the {}-atom limit of the finite-difference Hessian",
            s.len(),
            opts.max_atoms
        )));
    }
    if !(opts.step > 0.0 && opts.step.is_finite()) {
        return Err(Error::invalid(format!("curvature step must be positive, got {}", opts.step)));
    }
    let dim = 3 * s.len();
    let h = opts.step;
    let base = Calculator::new(ff);
    let columns: Vec<Result<Vec<f64>>> = (0..dim)
        .into_par_iter()
        .map_init(
            || (base.clone(), s.clone(), Vec::new()),
            |(calc, st, forces), a| {
                let x0 = st.flat()[a];
                st.flat_mut()[a] = x0 + h;
                calc.compute(st, forces)?;
                let fp: Vec<f64> = forces.as_flattened().to_vec();
                st.flat_mut()[a] = x0 - h;
                calc.compute(st, forces)?;
                st.flat_mut()[a] = x0;
                Ok(fp
                    .iter()
                    .zip(forces.as_flattened())
                    .map(|(p, m)| -(p - m) / (2.0 * h))
                    .collect())
            },
        )
        .collect();
    let mut hess = nalgebra::DMatrix::<f64>::zeros(dim, dim);
    for (a, col) in columns.into_iter().enumerate() {
        for (b, v) in col?.into_iter().enumerate() {
            hess[(b, a)] = v;
        }
    }
    let sym = (&hess + hess.transpose()) * 0.5;
    let eig = sym.symmetric_eigen();
    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&i, &j| eig.eigenvalues[i].total_cmp(&eig.eigenvalues[j]));
    let lowest: Vec<f64> = order.iter().take(opts.report.max(1)).map(|&i| eig.eigenvalues[i]).collect();
    let negative = eig.eigenvalues.iter().filter(|&&l| l < -opts.negative_tol).count();
    let v = eig.eigenvectors.column(order[0]);
    let lowest_mode = (0..s.len()).map(|i| [v[3 * i], v[3 * i + 1], v[3 * i + 2]]).collect();
    Ok(CurvatureCheck {
        method: opts.method,
        lowest,
        negative,
        first_order_saddle: negative == 1,
        force_calls: 2 * dim as u64,
        lowest_mode,
    })
}

// ---------------------------------------------------------------------------------------------
// The band: tangents, spring and NEB forces, and the energy profile.

/// Springs along the band: constant `k`, or energy-weighted between `k_min` and `k`.
#[derive(Debug, Clone, Copy)]
struct Springs {
    k: f64,
    k_min: Option<f64>,
}

impl Springs {
    /// Spring constant of every segment (i, i+1), i = 0..=M, from the image energies
    /// (eq. 6 of Henkelman, Uberuaga & Jónsson 2000: E_i' = max(E_i, E_{i+1}) against the higher
    /// endpoint E_ref and the highest image E_max).
    fn constants(&self, energies: &[f64]) -> Vec<f64> {
        let segments = energies.len() - 1;
        let Some(k_min) = self.k_min else {
            return vec![self.k; segments];
        };
        let e_ref = energies[0].max(energies[segments]);
        let e_max = energies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (0..segments)
            .map(|i| {
                let e = energies[i].max(energies[i + 1]);
                if e > e_ref && e_max > e_ref {
                    self.k - (self.k - k_min) * (e_max - e) / (e_max - e_ref)
                } else {
                    k_min
                }
            })
            .collect()
    }
}

/// Positions, energies and true forces of the band. Coordinates are flat (3N per image) and
/// unwrapped: differences between images are plain differences.
#[derive(Debug, Clone)]
struct Band {
    dim: usize,
    /// Intermediate images.
    m: usize,
    ends: [Vec<f64>; 2],
    end_energies: [f64; 2],
    end_forces: [Vec<f64>; 2],
    /// Intermediate positions, image after image (m · dim).
    x: Vec<f64>,
    /// Intermediate energies.
    e: Vec<f64>,
    /// Intermediate true forces (m · dim).
    f: Vec<f64>,
}

impl Band {
    /// Image `i` of the full band, 0 = initial endpoint, m + 1 = final endpoint.
    fn image(&self, i: usize) -> &[f64] {
        if i == 0 {
            &self.ends[0]
        } else if i == self.m + 1 {
            &self.ends[1]
        } else {
            &self.x[(i - 1) * self.dim..i * self.dim]
        }
    }
    fn true_force(&self, i: usize) -> &[f64] {
        if i == 0 {
            &self.end_forces[0]
        } else if i == self.m + 1 {
            &self.end_forces[1]
        } else {
            &self.f[(i - 1) * self.dim..i * self.dim]
        }
    }
    /// Energies of the full band (m + 2 values).
    fn energies(&self) -> Vec<f64> {
        let mut e = Vec::with_capacity(self.m + 2);
        e.push(self.end_energies[0]);
        e.extend_from_slice(&self.e);
        e.push(self.end_energies[1]);
        e
    }
    /// Index (in the full band) of the highest intermediate image; ties go to the first.
    fn highest(&self) -> usize {
        let mut best = 0;
        for (k, &e) in self.e.iter().enumerate() {
            if e > self.e[best] {
                best = k;
            }
        }
        best + 1
    }
    /// Length |R_{i+1} - R_i| of every segment, i = 0..=m (Å in 3N space).
    fn segment_lengths(&self) -> Vec<f64> {
        (0..=self.m).map(|i| dist(self.image(i + 1), self.image(i))).collect()
    }
    /// Cumulative path length at every image (the reaction coordinate, Å).
    fn reaction_coordinates(&self) -> Vec<f64> {
        let mut s = vec![0.0];
        for l in self.segment_lengths() {
            s.push(s.last().copied().unwrap_or(0.0) + l);
        }
        s
    }
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
/// Largest per-atom norm of a flat 3N vector.
fn max_atom_norm(v: &[f64]) -> f64 {
    v.chunks_exact(3)
        .map(|c| c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
        .fold(0.0, f64::max)
        .sqrt()
}

/// The improved tangent at an image (Henkelman & Jónsson 2000, eqs. 8-11), unit norm, written
/// into `tau`. Upwind (towards the higher neighbour) when the image lies on a monotonic stretch;
/// at an extremum, both neighbours' directions weighted by the energy differences. A flat
/// stretch (all three energies equal) takes the bisector of the two directions.
fn improved_tangent(prev: &[f64], cur: &[f64], next: &[f64], e: [f64; 3], tau: &mut [f64]) {
    let [e_prev, e_cur, e_next] = e;
    let (wp, wm) = if e_next > e_cur && e_cur > e_prev {
        (1.0, 0.0)
    } else if e_next < e_cur && e_cur < e_prev {
        (0.0, 1.0)
    } else {
        let (a, b) = ((e_next - e_cur).abs(), (e_prev - e_cur).abs());
        let (dmax, dmin) = (a.max(b), a.min(b));
        if e_next > e_prev {
            (dmax, dmin)
        } else {
            (dmin, dmax)
        }
    };
    for k in 0..tau.len() {
        tau[k] = wp * (next[k] - cur[k]) + wm * (cur[k] - prev[k]);
    }
    let n = dot(tau, tau).sqrt();
    if n > 1e-300 && wp + wm > 0.0 {
        tau.iter_mut().for_each(|t| *t /= n);
        return;
    }
    let (np, nm) = (dist(next, cur), dist(cur, prev));
    for k in 0..tau.len() {
        tau[k] = (next[k] - cur[k]) / np.max(1e-300) + (cur[k] - prev[k]) / nm.max(1e-300);
    }
    let n = dot(tau, tau).sqrt().max(1e-300);
    tau.iter_mut().for_each(|t| *t /= n);
}

/// NEB forces of the intermediate images, written into `out` (m · dim), with the unit tangents
/// into `tangents` (m · dim). `climber` is the full-band index of the climbing image. Returns the
/// largest per-atom NEB force of each intermediate image.
fn band_forces(band: &Band, springs: Springs, climber: Option<usize>, out: &mut [f64], tangents: &mut [f64]) -> Vec<f64> {
    let dim = band.dim;
    let energies = band.energies();
    let ks = springs.constants(&energies);
    let lengths = band.segment_lengths();
    let mut maxes = Vec::with_capacity(band.m);
    for i in 1..=band.m {
        let tau = &mut tangents[(i - 1) * dim..i * dim];
        improved_tangent(
            band.image(i - 1),
            band.image(i),
            band.image(i + 1),
            [energies[i - 1], energies[i], energies[i + 1]],
            tau,
        );
        let f = band.true_force(i);
        let f_par = dot(f, tau);
        let o = &mut out[(i - 1) * dim..i * dim];
        if climber == Some(i) {
            for k in 0..dim {
                o[k] = f[k] - 2.0 * f_par * tau[k];
            }
        } else {
            let spring = ks[i] * lengths[i] - ks[i - 1] * lengths[i - 1];
            for k in 0..dim {
                o[k] = f[k] - f_par * tau[k] + spring * tau[k];
            }
        }
        maxes.push(max_atom_norm(o));
    }
    maxes
}

/// Energy along the path: cubic Hermite pieces through the image energies, with slopes
/// dE/ds = -F·τ from the true forces along the tangents. Returns `per_segment` points per
/// segment plus the last image, as (reaction coordinate Å, energy eV).
fn energy_profile(band: &Band, tangents: &[f64], per_segment: usize) -> Vec<[f64; 2]> {
    let dim = band.dim;
    let s = band.reaction_coordinates();
    let e = band.energies();
    let n = band.m + 2;
    let mut slope = vec![0.0; n];
    for (i, g) in slope.iter_mut().enumerate() {
        let f = band.true_force(i);
        *g = if i == 0 || i == n - 1 {
            let (a, b) = if i == 0 { (band.image(1), band.image(0)) } else { (band.image(n - 1), band.image(n - 2)) };
            let l = dist(a, b).max(1e-300);
            -a.iter().zip(b).zip(f).map(|((x, y), fk)| (x - y) / l * fk).sum::<f64>()
        } else {
            -dot(f, &tangents[(i - 1) * dim..i * dim])
        };
    }
    let mut out = Vec::with_capacity(per_segment * (n - 1) + 1);
    for i in 0..n - 1 {
        let l = s[i + 1] - s[i];
        for p in 0..per_segment {
            let t = p as f64 / per_segment as f64;
            let (h00, h10, h01, h11) = (
                2.0 * t * t * t - 3.0 * t * t + 1.0,
                t * t * t - 2.0 * t * t + t,
                -2.0 * t * t * t + 3.0 * t * t,
                t * t * t - t * t,
            );
            let v = h00 * e[i] + h10 * l * slope[i] + h01 * e[i + 1] + h11 * l * slope[i + 1];
            out.push([s[i] + t * l, v]);
        }
    }
    out.push([s[n - 1], e[n - 1]]);
    out
}

// ---------------------------------------------------------------------------------------------
// Endpoints and initial paths.

/// Largest displacement (Å) below which two configurations count as the same.
const SAME_CONFIGURATION: f64 = 1e-3;

/// Checks that `final_` holds the same atoms (count and species, atom by atom) in the same cell
/// as `initial` and differs from it; returns `final_` expressed in `initial`'s species list with
/// every atom at its initial position plus its minimum-image displacement, so that the band
/// interpolates straight across periodic boundaries.
pub fn align_endpoints(initial: &Structure, final_: &Structure) -> Result<Structure> {
    if initial.len() != final_.len() {
        return Err(Error::invalid(format!(
            "NEB endpoints hold different numbers of atoms: {} (initial) and {} (final)",
            initial.len(),
            final_.len()
        )));
    }
    if let Some(i) = (0..initial.len()).find(|&i| initial.symbol(i) != final_.symbol(i)) {
        return Err(Error::invalid(format!(
            "NEB endpoints differ in species: atom {} is {} in the initial structure and {} in the final one",
            i + 1,
            initial.symbol(i),
            final_.symbol(i)
        )));
    }
    let (a, b) = (initial.cell.matrix(), final_.cell.matrix());
    let scale = a.abs().max().max(1.0);
    let diff = (a - b).abs().max();
    if diff > 1e-6 * scale || initial.cell.pbc() != final_.cell.pbc() {
        return Err(Error::invalid(format!(
            "NEB endpoints have different cells (largest edge-vector difference {diff:.3e} Å, periodicity {:?} and {:?})",
            initial.cell.pbc(),
            final_.cell.pbc()
        )));
    }
    let mut aligned = initial.clone();
    for (p, d) in aligned.positions.iter_mut().zip(final_.displacements_from(initial)) {
        *p = [p[0] + d[0], p[1] + d[1], p[2] + d[2]];
    }
    let moved = aligned.max_displacement_from(initial);
    if moved < SAME_CONFIGURATION {
        return Err(Error::invalid(format!(
            "NEB endpoints are the same configuration (no atom moves more than {moved:.2e} Å)"
        )));
    }
    Ok(aligned)
}

/// `m` images evenly spaced on the straight line from `a` to `b` (flat coordinates, m · 3N).
fn linear_images(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(m * a.len());
    for k in 1..=m {
        let t = k as f64 / (m + 1) as f64;
        x.extend(a.iter().zip(b).map(|(p, q)| p + t * (q - p)));
    }
    x
}

/// The images of a band between two structures evaluated in parallel, each with its own
/// calculator and scratch structure.
struct Images {
    calcs: Vec<Calculator>,
    scratch: Vec<Structure>,
    forces: Vec<Vec<[f64; 3]>>,
}

impl Images {
    fn new(template: &Structure, fields: Vec<Arc<dyn ForceField>>) -> Self {
        let m = fields.len();
        Images {
            calcs: fields.into_iter().map(Calculator::new).collect(),
            scratch: vec![template.clone(); m],
            forces: vec![Vec::new(); m],
        }
    }
    /// Energies and true forces of all images at positions `x` (m · 3N); the first failing
    /// image (in band order) gives the error.
    fn evaluate(&mut self, x: &[f64], e: &mut [f64], f: &mut [f64]) -> Result<()> {
        let dim = x.len() / self.calcs.len();
        let results: Vec<Result<()>> = self
            .calcs
            .par_iter_mut()
            .zip(self.scratch.par_iter_mut())
            .zip(self.forces.par_iter_mut())
            .zip(e.par_iter_mut())
            .zip(f.par_chunks_mut(dim))
            .zip(x.par_chunks(dim))
            .map(|(((((calc, s), fv), ei), fi), xi)| {
                s.flat_mut().copy_from_slice(xi);
                *ei = calc.compute(s, fv)?;
                fi.copy_from_slice(fv.as_flattened());
                Ok(())
            })
            .collect();
        results.into_iter().collect()
    }
    fn calls(&self) -> Vec<u64> {
        self.calcs.iter().map(|c| c.calls()).collect()
    }
}
