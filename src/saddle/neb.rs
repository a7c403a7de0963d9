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
//! The whole band (M · 3N coordinates) is one object, stepped by the crate's FIRE
//! ([`crate::minimize::FireState`], the default) or by a limited-memory BFGS without line
//! search (Sheppard, Terrell & Henkelman, J. Chem. Phys. 128, 134106 (2008); fewer force calls
//! on smooth paths, see [`BandOptimizer`]), either with a maximum displacement
//! per atom and step; images are evaluated in parallel with rayon, each with its own
//! [`Calculator`], and every reduction runs in image order so the result does not depend on the
//! number of threads. Convergence is on the largest per-atom NEB force over all intermediate
//! images, and on the 2-norm of the climbing image's force (which bounds the error of the
//! saddle energy). Under FIRE, an image whose NEB force is already below the tolerance is held
//! still (its velocity and force zeroed for the step), so it costs no force call until its
//! neighbours pull it out of tolerance again. A climbing image that runs away (rises far above
//! the band's highest energy when climbing started, as on a band too coarse for a curved path)
//! ends the run with `converged: false` and a warning.
//!
//! Initial paths: linear interpolation of minimum-image displacements, or IDPP
//! ([`super::idpp`], Smidstrup et al. 2014), the default. Endpoints are relaxed first unless
//! told otherwise. At a converged climbing image, [`lowest_curvatures`] confirms a first-order
//! saddle (exactly one negative Hessian eigenvalue).

use super::idpp::{IdppField, IdppPairs, DEFAULT_IDPP_CUTOFF};
use crate::minimize::{cap_atom_step, FireParams, FireState, LbfgsStepper, MinimizeOptions, MinimizerKind};
use crate::potential::{Calculator, ForceField};
use crate::structure::Structure;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How the initial band is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
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
            _ => Err(Error::invalid(format!(
                "unknown interpolation {s:?} (expected idpp or linear)"
            ))),
        }
    }
}

/// The optimizer that steps the whole band (all intermediate images as one vector).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BandOptimizer {
    /// FIRE (Bitzek et al. 2006), the crate's implementation: damped dynamics, robust on rough
    /// and curved bands; the default.
    #[default]
    Fire,
    /// FIRE until the largest NEB force is below 0.5 eV/Å, then limited-memory BFGS on the NEB
    /// force without line search, the step capped per atom (Sheppard, Terrell & Henkelman,
    /// J. Chem. Phys. 128, 134106 (2008)). About 2.5x fewer force calls than FIRE on a vacancy
    /// hop in Cu, but on a glass exchange path it converged onto a point with two negative
    /// curvatures where FIRE finds the first-order saddle.
    Lbfgs,
}

/// Most intermediate images of a band: every image holds a whole structure and its forces.
pub const MAX_IMAGES: usize = 1000;

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
    /// The climbing image must also bring the 2-norm of its NEB force over all 3N components
    /// below this (eV/Å); `None`: the value of `fmax`. The energy of a climbing image with
    /// residual force F lies about ½ F·H⁻¹·F ≤ |F|²/2λ above the saddle (λ its softest stable
    /// curvature): with a few hundred atoms each just under fmax = 0.01 eV/Å that reaches
    /// 1e-3 eV, while |F| < 0.01 eV/Å bounds it near 1e-4 eV. The extra steps are cheap: the
    /// converged images are held still by then and only the climber costs force calls.
    pub climb_fnorm: Option<f64>,
    /// Step limit of the band optimization; the run reports `converged: false` beyond it.
    pub max_steps: usize,
    /// Largest displacement of any atom of any image in one step (Å).
    pub max_step: f64,
    /// The band optimizer.
    pub optimizer: BandOptimizer,
    /// FIRE parameters, used by the band optimizer `fire` and always on the IDPP band.
    pub fire: FireParams,
    /// How the initial band is made.
    pub interpolation: Interpolation,
    /// Relax both endpoints (fixed cell) before building the band.
    pub relax_ends: bool,
    /// Minimizer of the endpoint relaxations.
    pub relax_method: MinimizerKind,
    /// Force tolerance of the endpoint relaxations (eV/Å).
    pub relax_fmax: f64,
    /// Step limit of each endpoint relaxation.
    pub relax_max_steps: usize,
    /// IDPP: pair cutoff (Å), force tolerance (Å⁻³) and step limit of the IDPP band.
    pub idpp_cutoff: f64,
    pub idpp_fmax: f64,
    pub idpp_max_steps: usize,
    /// Verlet skin of every image's neighbour list (Å).
    pub skin: f64,
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
            climb_fnorm: None,
            max_steps: 2000,
            max_step: 0.2,
            optimizer: BandOptimizer::default(),
            fire: FireParams::default(),
            interpolation: Interpolation::Idpp,
            relax_ends: true,
            relax_method: MinimizerKind::Fire,
            relax_fmax: 1e-3,
            relax_max_steps: 5000,
            idpp_cutoff: DEFAULT_IDPP_CUTOFF,
            idpp_fmax: 0.1,
            idpp_max_steps: 1000,
            skin: crate::potential::DEFAULT_SKIN,
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
                Err(Error::invalid(format!(
                    "NEB option {name} must be positive and finite, got {v}"
                )))
            }
        };
        if self.images == 0 {
            return Err(Error::invalid("NEB needs at least one intermediate image"));
        }
        if self.images > MAX_IMAGES {
            return Err(Error::invalid(format!(
                "NEB option images must be at most {MAX_IMAGES}, got {} (a band resolves a path with 5-15)",
                self.images
            )));
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
        if let Some(c) = self.climb_fnorm {
            positive("climb_fnorm", c)?;
        }
        positive("max_step", self.max_step)?;
        self.fire.validate()?;
        positive("relax_fmax", self.relax_fmax)?;
        positive("idpp_cutoff", self.idpp_cutoff)?;
        positive("idpp_fmax", self.idpp_fmax)?;
        positive("curvature.step", self.curvature.step)?;
        crate::potential::check_skin(self.skin)?;
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
        return Err(Error::invalid(format!(
            "curvature step must be positive, got {}",
            opts.step
        )));
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
    let lowest: Vec<f64> = order
        .iter()
        .take(opts.report.max(1))
        .map(|&i| eig.eigenvalues[i])
        .collect();
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
fn band_forces(
    band: &Band,
    springs: Springs,
    climber: Option<usize>,
    out: &mut [f64],
    tangents: &mut [f64],
) -> Vec<f64> {
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
            let (a, b) = if i == 0 {
                (band.image(1), band.image(0))
            } else {
                (band.image(n - 1), band.image(n - 2))
            };
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
    fn new(template: &Structure, fields: Vec<Arc<dyn ForceField>>, skin: f64) -> Self {
        let m = fields.len();
        Images {
            calcs: fields.into_iter().map(|f| Calculator::new(f).with_skin(skin)).collect(),
            scratch: vec![template.clone(); m],
            forces: vec![Vec::new(); m],
        }
    }
    /// Energies and true forces of the images marked in `active` at positions `x` (m · 3N);
    /// the others keep their values. The first failing image (in band order) gives the error.
    fn evaluate(&mut self, x: &[f64], active: &[bool], e: &mut [f64], f: &mut [f64]) -> Result<()> {
        let dim = x.len() / self.calcs.len();
        let results: Vec<Result<()>> = self
            .calcs
            .par_iter_mut()
            .zip(self.scratch.par_iter_mut())
            .zip(self.forces.par_iter_mut())
            .zip(e.par_iter_mut())
            .zip(f.par_chunks_mut(dim))
            .zip(x.par_chunks(dim))
            .zip(active.par_iter())
            .map(|((((((calc, s), fv), ei), fi), xi), &on)| {
                if !on {
                    return Ok(());
                }
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

// ---------------------------------------------------------------------------------------------
// The band optimizer.

/// When the highest image starts to climb.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Climb {
    Never,
    FromStart,
    /// Once the largest NEB force falls below this (eV/Å).
    Below(f64),
}

/// How a band relaxation ended.
#[derive(Debug, Clone)]
struct BandOutcome {
    steps: usize,
    converged: bool,
    /// Full-band index of the climbing image at the last evaluation.
    climber: Option<usize>,
    /// The step at which climbing started.
    climb_started: Option<usize>,
    /// Largest per-atom NEB force of every intermediate image at the last evaluation.
    maxes: Vec<f64>,
    /// Unit tangents at the last evaluation (m · dim).
    tangents: Vec<f64>,
    /// Why the relaxation was abandoned early (a climbing image running away).
    abandoned: Option<String>,
}

/// The energy above which a climbing image counts as running away: the highest image's energy
/// when climbing starts plus the barrier it then shows over the lower endpoint (at least 1 eV).
/// A climbing image normally rises by a fraction of the barrier; on a band too coarse for a
/// curved path it can instead climb the wall that the chord between its neighbours cuts
/// through, without bound.
fn climb_ceiling(band: &Band) -> f64 {
    let top = band.e.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let base = band.end_energies[0].min(band.end_energies[1]);
    top + (top - base).max(1.0)
}

/// Settings of one band relaxation.
#[derive(Debug, Clone, Copy)]
struct BandRelax {
    springs: Springs,
    climb: Climb,
    /// Tolerance of the largest per-atom NEB force of every image (eV/Å).
    fmax: f64,
    /// Tolerance of the 2-norm of the climbing image's NEB force (eV/Å).
    climb_fnorm: f64,
    max_steps: usize,
    max_step: f64,
    optimizer: BandOptimizer,
    fire: FireParams,
}

/// Relaxes the band with FIRE on all intermediate images at once until the largest per-atom
/// NEB force falls below `fmax` on every image and the 2-norm of the climbing image's NEB
/// force below `climb_fnorm` (climbing must be active if it was asked for), or `max_steps`
/// steps were taken. The climbing image is the highest image of each evaluation.
fn relax_band(band: &mut Band, images: &mut Images, plan: &BandRelax) -> Result<BandOutcome> {
    let BandRelax {
        springs,
        climb,
        fmax,
        climb_fnorm,
        max_steps,
        max_step,
        optimizer,
        fire,
    } = *plan;
    let (m, dim) = (band.m, band.dim);
    let mut moving = vec![true; m];
    images.evaluate(&band.x, &moving, &mut band.e, &mut band.f)?;
    // L-BFGS takes over from FIRE once the band has roughly converged (see `LBFGS_AFTER`).
    let mut state = Stepper::Fire(FireState::new(m * dim, fire, max_step));
    let mut last_climber = None;
    let mut neb = vec![0.0; m * dim];
    let mut tangents = vec![0.0; m * dim];
    let mut climbing = climb == Climb::FromStart;
    let mut climb_started = climbing.then_some(0);
    // Energy of the highest image when climbing starts, and how far above it the climber may
    // go before it counts as running away (see `climb_ceiling`).
    let mut ceiling = climbing.then(|| climb_ceiling(band));
    let mut steps = 0;
    loop {
        let climber = climbing.then(|| band.highest());
        if let (Some(c), Some(limit)) = (climber, ceiling) {
            let e = band.e[c - 1];
            if e > limit {
                let why = format!(
                    "the climbing image ran away (image {c} rose to {:.4} eV above the initial endpoint, past {:.4} eV): \
                     the band is too coarse for this path; use more images or stiffer springs",
                    e - band.end_energies[0],
                    limit - band.end_energies[0]
                );
                let maxes = band_forces(band, springs, climber, &mut neb, &mut tangents);
                return Ok(BandOutcome {
                    steps,
                    converged: false,
                    climber,
                    climb_started,
                    maxes,
                    tangents,
                    abandoned: Some(why),
                });
            }
        }
        let maxes = band_forces(band, springs, climber, &mut neb, &mut tangents);
        let fm = maxes.iter().copied().fold(0.0, f64::max);
        if let Climb::Below(threshold) = climb {
            if !climbing && fm < threshold.max(fmax) {
                // The climbing image's force changes at once: restart the dynamics from rest.
                climbing = true;
                climb_started = Some(steps);
                ceiling = Some(climb_ceiling(band));
                state.reset();
                tracing::debug!(step = steps, fmax = fm, "NEB: climbing image switched on");
                continue;
            }
        }
        if optimizer == BandOptimizer::Lbfgs && matches!(state, Stepper::Fire(_)) && fm < LBFGS_AFTER.max(fmax) {
            tracing::debug!(step = steps, fmax = fm, "NEB: L-BFGS takes over from FIRE");
            state = Stepper::Lbfgs(BandLbfgs::new(max_step));
        }
        if climber != last_climber {
            // Another image took over the climb: its force changed sign along the path.
            state.climber_changed();
            last_climber = climber;
        }
        let converged = fm < fmax
            && match climber {
                Some(c) => dot(&neb[(c - 1) * dim..c * dim], &neb[(c - 1) * dim..c * dim]).sqrt() < climb_fnorm,
                None => climb == Climb::Never,
            };
        tracing::trace!(step = steps, fmax = fm, ?maxes, "NEB band step");
        if steps % 20 == 0 || converged {
            tracing::debug!(step = steps, fmax = fm, climber, energies = ?band.e, "NEB band");
        }
        if converged || steps >= max_steps {
            return Ok(BandOutcome {
                steps,
                converged,
                climber,
                climb_started,
                maxes,
                tangents,
                abandoned: None,
            });
        }
        // Under FIRE, images already below fmax (other than the climber) are held still: their
        // true forces stay valid without a new force call, and their NEB forces are re-checked
        // every step as their neighbours move. L-BFGS moves every image: a held image would
        // break the coupling its quasi-Newton model has learned between neighbours, and the
        // steps turn erratic near convergence.
        let hold = matches!(state, Stepper::Fire(_));
        for (k, mv) in moving.iter_mut().enumerate() {
            *mv = !(hold && maxes[k] < fmax && climber != Some(k + 1));
        }
        state.step(&mut band.x, &mut neb, &moving, dim);
        steps += 1;
        images.evaluate(&band.x, &moving, &mut band.e, &mut band.f)?;
    }
}

/// The band optimizer's state.
#[derive(Debug, Clone)]
enum Stepper {
    Fire(FireState),
    Lbfgs(BandLbfgs),
}

impl Stepper {
    /// Forget the history (the NEB force changed at once, as when climbing starts).
    fn reset(&mut self) {
        match self {
            Stepper::Fire(s) => s.reset(),
            Stepper::Lbfgs(s) => s.reset(),
        }
    }
    /// The climbing image moved to another image. FIRE carries on (its velocities adapt within
    /// a few steps); L-BFGS drops its curvature pairs, which describe the old force field.
    fn climber_changed(&mut self) {
        if let Stepper::Lbfgs(s) = self {
            s.reset();
        }
    }
    /// One step of the band `x` (m · dim) under the NEB forces `f`; images with `moving[k]`
    /// false stay where they are. `f` may be overwritten.
    fn step(&mut self, x: &mut [f64], f: &mut [f64], moving: &[bool], dim: usize) {
        match self {
            Stepper::Fire(s) => {
                for (k, _) in moving.iter().enumerate().filter(|(_, &mv)| !mv) {
                    f[k * dim..(k + 1) * dim].iter_mut().for_each(|v| *v = 0.0);
                    s.stop_part(k * dim..(k + 1) * dim);
                }
                s.step(x, f);
            }
            Stepper::Lbfgs(s) => {
                debug_assert!(moving.iter().all(|&mv| mv), "L-BFGS moves every image");
                s.step(x, f)
            }
        }
    }
}

/// The band L-BFGS starts once the largest NEB force falls below this (eV/Å); FIRE moves the
/// band before. From a raw interpolation, with forces of eV/Å, the quasi-Newton steps can let
/// images slide along a strongly curved path into a neighbouring minimum (seen on
/// Müller-Brown); FIRE's damped dynamics bring the band near the path first, then L-BFGS
/// converges it in a fraction of FIRE's steps.
const LBFGS_AFTER: f64 = 0.5;

/// Curvature pairs kept by the band L-BFGS.
const LBFGS_MEMORY: usize = 25;
/// The history is dropped when the quasi-Newton step and the NEB force make an angle above
/// arccos(0.2) ≈ 78°. The NEB force is no gradient, and on a curved path the inverse-Hessian
/// estimate can turn steps along the band (images sliding into a neighbouring basin); with
/// only the descent test (cosine > 0) the Müller-Brown band does not converge in 2000 steps.
const LBFGS_MIN_COSINE: f64 = 0.2;
/// Curvature (eV/Å²) assumed for the first step and after a reset: the step is F / 70, a
/// cautious move (the value ASE's BFGS and L-BFGS start from).
const LBFGS_INITIAL_CURVATURE: f64 = 70.0;

/// Limited-memory BFGS on the whole band without a line search (see
/// [`crate::minimize::LbfgsStepper`]; as a NEB optimizer: Sheppard, Terrell & Henkelman,
/// J. Chem. Phys. 128, 134106 (2008)): the quasi-Newton step is capped so that no atom moves
/// more than `max_step`. It moves every image at every step (no image is held still, see
/// [`relax_band`]).
#[derive(Debug, Clone)]
struct BandLbfgs {
    max_step: f64,
    q: LbfgsStepper,
}

impl BandLbfgs {
    fn new(max_step: f64) -> Self {
        BandLbfgs {
            max_step,
            q: LbfgsStepper::new(LBFGS_MEMORY, LBFGS_MIN_COSINE, LBFGS_INITIAL_CURVATURE),
        }
    }

    fn reset(&mut self) {
        self.q.reset();
    }

    /// One step of the band `x` under the NEB forces `f`.
    fn step(&mut self, x: &mut [f64], f: &[f64]) {
        let mut d = self.q.direction(x, f);
        cap_atom_step(&mut d, self.max_step);
        x.iter_mut().zip(&d).for_each(|(xi, di)| *xi += di);
    }
}

// ---------------------------------------------------------------------------------------------
// Results.

/// One image of the converged (or abandoned) band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    /// Position in the band, 0 = initial endpoint.
    pub index: usize,
    /// Energy (eV).
    pub energy: f64,
    /// Energy relative to the initial endpoint (eV).
    pub energy_relative: f64,
    /// Path length from the initial endpoint in 3N-dimensional space (Å).
    pub reaction_coordinate: f64,
    /// Largest per-atom NEB force (eV/Å); at the endpoints, the largest true force.
    pub max_force: f64,
    /// Whether this image was climbing at the end.
    pub climbing: bool,
    /// Force calls spent on this image during the band optimization (0 for endpoints).
    pub force_calls: u64,
}

/// Where the reported saddle energy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaddleSource {
    /// The climbing image, converged onto the saddle point when `converged` is true.
    ClimbingImage,
    /// The highest image of a band without climbing: an estimate from below.
    HighestImage,
}

/// Force calls of a NEB run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceCalls {
    /// Band optimization, all intermediate images together.
    pub total: u64,
    /// Band optimization, per intermediate image (image 1 first).
    pub per_image: Vec<u64>,
    /// Endpoint relaxations plus one evaluation of each relaxed endpoint (initial, final).
    pub endpoints: [u64; 2],
    /// The curvature check at the climbing image.
    pub curvature_check: u64,
}

/// The outcome of a NEB run. `images` (and hence [`NebResult::saddle`]) hold the structures;
/// everything else is plain data that serializes into `PATH.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NebResult {
    /// Whether the band converged (largest NEB force below `fmax`, climbing image active when
    /// asked for) and the endpoint relaxations converged. Barriers of an unconverged band are
    /// reported for inspection only.
    pub converged: bool,
    /// Band optimization steps (at most one force call per intermediate image each, plus the
    /// first evaluation; FIRE skips the images it holds still).
    pub steps: usize,
    /// Step at which the highest image started to climb.
    pub climb_started: Option<usize>,
    /// Largest per-atom NEB force over the intermediate images at the end (eV/Å).
    pub max_force: f64,
    /// Band index of the image taken as the saddle.
    pub saddle_index: usize,
    /// Energy of that image (eV).
    pub saddle_energy: f64,
    pub saddle_source: SaddleSource,
    /// E_saddle - E_initial and E_saddle - E_final (eV).
    pub barrier_forward: f64,
    pub barrier_reverse: f64,
    /// Energies of the relaxed endpoints (eV).
    pub energy_initial: f64,
    pub energy_final: f64,
    /// Every image of the band, endpoints included.
    pub images: Vec<ImageReport>,
    /// The energy along the path: cubic pieces through the image energies with slopes from the
    /// tangential forces, as (reaction coordinate Å, energy eV) pairs.
    pub profile: Vec<[f64; 2]>,
    /// The highest point of `profile` (reaction coordinate Å, energy eV).
    pub profile_max: [f64; 2],
    pub force_calls: ForceCalls,
    /// Steps of the IDPP band relaxation (no force calls), when IDPP made the initial path.
    pub idpp_steps: Option<usize>,
    /// Lowest Hessian eigenvalues at the climbing image, when checked.
    pub curvature: Option<CurvatureCheck>,
    /// Whether the climbing image is a first-order saddle (one negative curvature); `None` when
    /// not checked.
    pub saddle_confirmed: Option<bool>,
    /// Conditions worth a look: non-converged endpoint relaxations, intermediate minima along
    /// the path, a saddle below an endpoint, a skipped curvature check.
    pub warnings: Vec<String>,
    /// The band's structures, endpoints included (positions unwrapped, continuous along the
    /// band).
    #[serde(skip)]
    pub structures: Vec<Structure>,
}

impl NebResult {
    /// The structure taken as the saddle (the climbing image when climbing).
    pub fn saddle(&self) -> &Structure {
        &self.structures[self.saddle_index]
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points.

/// Climbing-image NEB between two minima of the same atoms (see the module documentation).
///
/// `final_` must hold the same atoms, atom by atom, in the same cell as `initial`; each atom's
/// path starts from its minimum-image displacement. Unless `opts.relax_ends` is false both
/// endpoints are relaxed first (with `opts.relax_method`, fixed cell). The initial band is
/// made by `opts.interpolation`. Each image gets its own [`Calculator`] on `ff`; the images are
/// evaluated in parallel and the result does not depend on the number of threads.
///
/// Errors on inconsistent endpoints (atom counts, species, cells), identical endpoints (also
/// after relaxation), invalid options, or a force field failing on an image. A band that does
/// not converge within `opts.max_steps` is not an error: the result says `converged: false`.
pub fn neb(initial: &Structure, final_: &Structure, ff: Arc<dyn ForceField>, opts: &NebOptions) -> Result<NebResult> {
    opts.validate()?;
    let aligned = align_endpoints(initial, final_)?;
    let mut ends = [initial.clone(), aligned];
    let mut warnings = Vec::new();
    let mut relax_calls = [0u64; 2];
    let mut ends_converged = true;
    if opts.relax_ends {
        let mopts = MinimizeOptions {
            fmax: opts.relax_fmax,
            max_iterations: opts.relax_max_steps as u64,
            ..MinimizeOptions::default()
        };
        let [a, b] = &mut ends;
        let relax = |s: &mut Structure| {
            let mut calc = Calculator::new(ff.clone()).with_skin(opts.skin);
            crate::minimize::minimize(opts.relax_method, s, &mut calc, &mopts)
        };
        let (ra, rb) = rayon::join(|| relax(a), || relax(b));
        for (k, (r, name)) in [(ra?, "initial"), (rb?, "final")].into_iter().enumerate() {
            relax_calls[k] = r.force_calls;
            if !r.converged {
                ends_converged = false;
                warnings.push(format!(
                    "{name} endpoint relaxation stopped ({:?}) at fmax {:.3e} eV/Å above {:.1e}",
                    r.termination, r.fmax, opts.relax_fmax
                ));
            }
        }
        ends[1] = align_endpoints(&ends[0], &ends[1]).map_err(|e| match e {
            Error::Invalid(msg) if msg.contains("same configuration") => Error::invalid(format!(
                "both NEB endpoints relax to the same minimum ({msg}); relax them separately or pass --no-relax-ends"
            )),
            other => other,
        })?;
    }
    let dim = 3 * initial.len();
    let x = linear_images(ends[0].flat(), ends[1].flat(), opts.images);
    let mut run = NebRun::new(ends, ff, x, opts.skin)?;
    run.relax_calls = relax_calls;
    run.ends_converged = ends_converged;
    run.warnings = warnings;
    if opts.interpolation == Interpolation::Idpp {
        run.idpp(opts)?;
    }
    debug_assert_eq!(run.band.x.len(), opts.images * dim);
    run.finish(opts)
}

/// The initial band between two structures as [`neb`] builds it (without relaxing the
/// endpoints): `opts.images` intermediate images by `opts.interpolation`, endpoints included,
/// positions continuous along the band. For inspecting or editing a path before
/// [`neb_from_path`].
pub fn interpolate(initial: &Structure, final_: &Structure, opts: &NebOptions) -> Result<Vec<Structure>> {
    opts.validate()?;
    let aligned = align_endpoints(initial, final_)?;
    let x = linear_images(initial.flat(), aligned.flat(), opts.images);
    let template = initial.clone();
    let mut band = Band {
        dim: 3 * initial.len(),
        m: opts.images,
        ends: [initial.flat().to_vec(), aligned.flat().to_vec()],
        end_energies: [0.0; 2],
        end_forces: [vec![0.0; 3 * initial.len()], vec![0.0; 3 * initial.len()]],
        e: vec![0.0; opts.images],
        f: vec![0.0; opts.images * 3 * initial.len()],
        x,
    };
    if opts.interpolation == Interpolation::Idpp {
        idpp_band(&template, &mut band, opts)?;
    }
    Ok((0..opts.images + 2)
        .map(|i| {
            let mut s = template.clone();
            s.flat_mut().copy_from_slice(band.image(i));
            s
        })
        .collect())
}

/// Relaxes the intermediate images of `band` on the IDPP objective (in place); returns the
/// number of steps and whether it met `opts.idpp_fmax`.
fn idpp_band(template: &Structure, band: &mut Band, opts: &NebOptions) -> Result<(usize, bool)> {
    let m = band.m;
    let mut end = template.clone();
    end.flat_mut().copy_from_slice(&band.ends[1]);
    let mut start = template.clone();
    start.flat_mut().copy_from_slice(&band.ends[0]);
    let pairs = Arc::new(IdppPairs::new(&start, &end, opts.idpp_cutoff)?);
    let fields: Vec<Arc<dyn ForceField>> = (1..=m)
        .map(|k| {
            Arc::new(IdppField {
                pairs: pairs.clone(),
                t: k as f64 / (m + 1) as f64,
            }) as Arc<dyn ForceField>
        })
        .collect();
    let mut idpp = Band {
        end_energies: [0.0; 2],
        end_forces: [vec![0.0; band.dim], vec![0.0; band.dim]],
        ..band.clone()
    };
    let mut images = Images::new(template, fields, 0.0);
    let springs = Springs {
        k: opts.spring,
        k_min: None,
    };
    let plan = BandRelax {
        springs,
        climb: Climb::Never,
        fmax: opts.idpp_fmax,
        climb_fnorm: opts.idpp_fmax,
        max_steps: opts.idpp_max_steps,
        max_step: opts.max_step,
        // FIRE on the (cheap) IDPP band, whatever optimizes the real one.
        optimizer: BandOptimizer::Fire,
        fire: opts.fire,
    };
    let out = relax_band(&mut idpp, &mut images, &plan)?;
    band.x = idpp.x;
    Ok((out.steps, out.converged))
}

/// Climbing-image NEB from a given band: `path[0]` and `path[last]` are the endpoints (taken as
/// they are, not relaxed), the structures between them the initial intermediate images (at
/// least one). Every image must hold the same atoms in the same cell; positions are made
/// continuous along the band by minimum-image steps between neighbours. `opts.images`,
/// `opts.interpolation` and `opts.relax_ends` are ignored. Used to refine a path that already
/// passes near a saddle (an ART event, an MD rearrangement).
pub fn neb_from_path(path: &[Structure], ff: Arc<dyn ForceField>, opts: &NebOptions) -> Result<NebResult> {
    opts.validate()?;
    if path.len() < 3 {
        return Err(Error::invalid(format!(
            "a NEB path needs two endpoints and at least one image between them, got {} structures",
            path.len()
        )));
    }
    let mut chain = vec![path[0].clone()];
    for s in &path[1..] {
        let prev = chain.last().expect("chain starts with the initial endpoint");
        // Minimum-image step from the previous image, checked like a pair of endpoints; an
        // image identical to its neighbour is allowed inside a band.
        let next = match align_endpoints(prev, s) {
            Ok(a) => a,
            Err(Error::Invalid(msg)) if msg.contains("same configuration") => prev.clone(),
            Err(e) => return Err(e),
        };
        chain.push(next);
    }
    let last = chain.len() - 1;
    if chain[last].max_displacement_from(&chain[0]) < SAME_CONFIGURATION {
        return Err(Error::invalid("NEB path endpoints are the same configuration"));
    }
    let x: Vec<f64> = chain[1..last].iter().flat_map(|s| s.flat().iter().copied()).collect();
    let ends = [chain[0].clone(), chain[last].clone()];
    let run = NebRun::new(ends, ff, x, opts.skin)?;
    run.finish(opts)
}

/// State shared by the entry points: the band, its images and the bookkeeping.
struct NebRun {
    template: Structure,
    ff: Arc<dyn ForceField>,
    band: Band,
    relax_calls: [u64; 2],
    ends_converged: bool,
    idpp_steps: Option<usize>,
    warnings: Vec<String>,
}

impl NebRun {
    /// Evaluates the endpoints once and sets up the band at positions `x`.
    fn new(ends: [Structure; 2], ff: Arc<dyn ForceField>, x: Vec<f64>, skin: f64) -> Result<Self> {
        let dim = 3 * ends[0].len();
        let m = x.len() / dim;
        let mut end_energies = [0.0; 2];
        let mut end_forces = [Vec::new(), Vec::new()];
        for k in 0..2 {
            let (e, f) = Calculator::new(ff.clone()).with_skin(skin).energy_forces(&ends[k])?;
            end_energies[k] = e;
            end_forces[k] = f.as_flattened().to_vec();
        }
        Ok(NebRun {
            template: ends[0].clone(),
            band: Band {
                dim,
                m,
                ends: [ends[0].flat().to_vec(), ends[1].flat().to_vec()],
                end_energies,
                end_forces,
                x,
                e: vec![0.0; m],
                f: vec![0.0; m * dim],
            },
            ff,
            relax_calls: [0; 2],
            ends_converged: true,
            idpp_steps: None,
            warnings: Vec::new(),
        })
    }

    /// Replaces the (linear) band by its IDPP relaxation.
    fn idpp(&mut self, opts: &NebOptions) -> Result<()> {
        let (steps, converged) = idpp_band(&self.template, &mut self.band, opts)?;
        if !converged {
            self.warnings.push(format!(
                "IDPP interpolation stopped after {steps} steps above its tolerance {}",
                opts.idpp_fmax
            ));
        }
        self.idpp_steps = Some(steps);
        Ok(())
    }

    /// Relaxes the band on the real potential and assembles the result.
    fn finish(mut self, opts: &NebOptions) -> Result<NebResult> {
        let m = self.band.m;
        let fields = vec![self.ff.clone(); m];
        let mut images = Images::new(&self.template, fields, opts.skin);
        let springs = Springs {
            k: opts.spring,
            k_min: opts.spring_min,
        };
        let climb = match (opts.climb, opts.climb_after) {
            (false, _) => Climb::Never,
            (true, None) => Climb::FromStart,
            (true, Some(c)) => Climb::Below(c),
        };
        let plan = BandRelax {
            springs,
            climb,
            fmax: opts.fmax,
            climb_fnorm: opts.climb_fnorm.unwrap_or(opts.fmax),
            max_steps: opts.max_steps,
            max_step: opts.max_step,
            optimizer: opts.optimizer,
            fire: opts.fire,
        };
        let out = relax_band(&mut self.band, &mut images, &plan)?;
        let band = &self.band;
        let energies = band.energies();
        let s = band.reaction_coordinates();
        let per_image = images.calls();
        let mut reports = Vec::with_capacity(m + 2);
        for i in 0..m + 2 {
            let interior = i >= 1 && i <= m;
            reports.push(ImageReport {
                index: i,
                energy: energies[i],
                energy_relative: energies[i] - energies[0],
                reaction_coordinate: s[i],
                max_force: if interior {
                    out.maxes[i - 1]
                } else {
                    max_atom_norm(band.true_force(i))
                },
                climbing: out.climber == Some(i),
                force_calls: if interior { per_image[i - 1] } else { 0 },
            });
        }
        let (saddle_index, saddle_source) = match out.climber {
            Some(c) => (c, SaddleSource::ClimbingImage),
            None => (band.highest(), SaddleSource::HighestImage),
        };
        let saddle_energy = energies[saddle_index];
        let profile = energy_profile(band, &out.tangents, 20);
        let profile_max = profile
            .iter()
            .copied()
            .fold([0.0, f64::NEG_INFINITY], |a, b| if b[1] > a[1] { b } else { a });
        let structures: Vec<Structure> = (0..m + 2)
            .map(|i| {
                let mut st = self.template.clone();
                st.flat_mut().copy_from_slice(band.image(i));
                st
            })
            .collect();
        let mut warnings = std::mem::take(&mut self.warnings);
        if let Some(why) = &out.abandoned {
            warnings.push(why.clone());
        }
        for i in 1..=m {
            if energies[i] < energies[i - 1] && energies[i] < energies[i + 1] {
                warnings.push(format!(
                    "the band has a local energy minimum at image {i} ({:.6} eV): the path may pass through an intermediate minimum",
                    energies[i]
                ));
            }
        }
        if saddle_energy <= energies[0].max(energies[m + 1]) {
            warnings.push("no image lies above both endpoints: the path has no barrier".into());
        }
        let converged = out.converged && self.ends_converged;
        let mut curvature = None;
        let mut curvature_calls = 0;
        if opts.check_curvature && out.converged && saddle_source == SaddleSource::ClimbingImage {
            if structures[saddle_index].len() <= opts.curvature.max_atoms {
                let c = lowest_curvatures(self.ff.clone(), &structures[saddle_index], &opts.curvature)?;
                curvature_calls = c.force_calls;
                if !c.first_order_saddle {
                    warnings.push(format!(
                        "the climbing image has {} negative curvatures (lowest {:.4e} eV/Å²), not one: not a first-order saddle",
                        c.negative,
                        c.lowest.first().copied().unwrap_or(f64::NAN)
                    ));
                }
                curvature = Some(c);
            } else {
                warnings.push(format!(
                    "curvature not checked: {} atoms exceed the finite-difference Hessian limit of {}",
                    structures[saddle_index].len(),
                    opts.curvature.max_atoms
                ));
            }
        }
        let saddle_confirmed = curvature.as_ref().map(|c| c.first_order_saddle);
        for w in &warnings {
            tracing::warn!("NEB: {w}");
        }
        tracing::info!(
            converged,
            steps = out.steps,
            force_calls = per_image.iter().sum::<u64>(),
            barrier_forward = saddle_energy - energies[0],
            "NEB finished"
        );
        Ok(NebResult {
            converged,
            steps: out.steps,
            climb_started: out.climb_started,
            max_force: out.maxes.iter().copied().fold(0.0, f64::max),
            saddle_index,
            saddle_energy,
            saddle_source,
            barrier_forward: saddle_energy - energies[0],
            barrier_reverse: saddle_energy - energies[m + 1],
            energy_initial: energies[0],
            energy_final: energies[m + 1],
            images: reports,
            profile,
            profile_max,
            force_calls: ForceCalls {
                total: per_image.iter().sum(),
                per_image,
                endpoints: [self.relax_calls[0] + 1, self.relax_calls[1] + 1],
                curvature_check: curvature_calls,
            },
            idpp_steps: self.idpp_steps,
            curvature,
            saddle_confirmed,
            warnings,
            structures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::analytic::{point, MullerBrown};

    fn mb() -> Arc<dyn ForceField> {
        Arc::new(MullerBrown)
    }

    fn mb_options() -> NebOptions {
        NebOptions {
            images: 9,
            spring: 20.0,
            fmax: 1e-3,
            max_step: 0.02,
            relax_fmax: 1e-6,
            ..NebOptions::default()
        }
    }

    /// A band along x with given image positions, energies and forces (one atom).
    fn line_band(xs: &[f64], e: &[f64], fx: &[f64]) -> Band {
        let n = xs.len();
        let flat = |k: usize| vec![xs[k], 0.0, 0.0];
        let force = |k: usize| vec![fx[k], 0.0, 0.0];
        Band {
            dim: 3,
            m: n - 2,
            ends: [flat(0), flat(n - 1)],
            end_energies: [e[0], e[n - 1]],
            end_forces: [force(0), force(n - 1)],
            x: (1..n - 1).flat_map(flat).collect(),
            e: e[1..n - 1].to_vec(),
            f: (1..n - 1).flat_map(force).collect(),
        }
    }

    #[test]
    fn improved_tangent_is_upwind_on_slopes_and_weighted_at_extrema() {
        let (p, c, n) = ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 2.0, 0.0]);
        let mut t = [0.0; 3];
        // Rising: towards the next image.
        improved_tangent(&p, &c, &n, [0.0, 1.0, 2.0], &mut t);
        assert_eq!(t, [0.0, 1.0, 0.0]);
        // Falling: from the previous image.
        improved_tangent(&p, &c, &n, [2.0, 1.0, 0.0], &mut t);
        assert_eq!(t, [1.0, 0.0, 0.0]);
        // Maximum with the next image higher: τ ∝ 0.5 τ+ ΔV_max + τ- ΔV_min = (0.5, 1.0)·…
        improved_tangent(&p, &c, &n, [0.5, 1.0, 0.0], &mut t);
        // ΔV_max = 1 (next), ΔV_min = 0.5 (prev); E_next < E_prev, so τ = τ+ ΔV_min + τ- ΔV_max.
        let (a, b): (f64, f64) = (0.5 * 2.0, 1.0); // τ+ = (0, 2, 0) times 0.5, τ- = (1, 0, 0) times 1
        let nrm = (a * a + b * b).sqrt();
        assert!(
            (t[0] - b / nrm).abs() < 1e-15 && (t[1] - a / nrm).abs() < 1e-15,
            "{t:?}"
        );
        // Flat: the bisector of the unit directions.
        improved_tangent(&p, &c, &n, [1.0, 1.0, 1.0], &mut t);
        let h = 0.5f64.sqrt();
        assert!((t[0] - h).abs() < 1e-15 && (t[1] - h).abs() < 1e-15, "{t:?}");
    }

    #[test]
    fn energy_weighted_springs_follow_eq_6() {
        let springs = Springs {
            k: 5.0,
            k_min: Some(1.0),
        };
        // E_ref = max(0, 0.2) = 0.2, E_max = 1.0; segment energies max(E_i, E_i+1).
        let k = springs.constants(&[0.0, 0.1, 0.6, 1.0, 0.2]);
        let expect = [1.0, 5.0 - 4.0 * 0.4 / 0.8, 5.0, 5.0];
        for (a, b) in k.iter().zip(expect) {
            assert!((a - b).abs() < 1e-14, "{k:?}");
        }
        let constant = Springs { k: 2.0, k_min: None }.constants(&[0.0, 1.0, 0.0]);
        assert_eq!(constant, vec![2.0, 2.0]);
    }

    #[test]
    fn band_forces_project_true_force_and_spring_and_invert_for_the_climber() {
        // Images at x = 0, 1, 3, 4 on a line; image 1 is rising (τ = +x), image 2 falling.
        let band = {
            let mut b = line_band(&[0.0, 1.0, 3.0, 4.0], &[0.0, 1.0, 0.5, 0.0], &[0.0, 0.7, -0.4, 0.0]);
            // A perpendicular true force on image 1 survives untouched.
            b.f[1] = 0.3;
            b
        };
        let springs = Springs { k: 2.0, k_min: None };
        let mut out = vec![0.0; 6];
        let mut tau = vec![0.0; 6];
        band_forces(&band, springs, None, &mut out, &mut tau);
        // Image 1, E = (0, 1, 0.5), is a maximum with E_next > E_prev:
        // τ ∝ τ+ ΔV_max + τ- ΔV_min = (2, 0, 0)·1 + (1, 0, 0)·0.5, along +x. Spring 2·(2 - 1) = 2.
        assert!((tau[0] - 1.0).abs() < 1e-15);
        assert!((out[0] - 2.0).abs() < 1e-14 && (out[1] - 0.3).abs() < 1e-15, "{out:?}");
        // Image 2: falling, τ = +x; spring 2·(1 - 2) = -2, true parallel force removed.
        assert!((out[3] + 2.0).abs() < 1e-14, "{out:?}");
        // Climbing image 1: parallel true force inverted, no spring.
        band_forces(&band, springs, Some(1), &mut out, &mut tau);
        assert!((out[0] + 0.7).abs() < 1e-14 && (out[1] - 0.3).abs() < 1e-15, "{out:?}");
    }

    #[test]
    fn profile_reproduces_a_cubic_exactly() {
        // E(x) = x³ - 2x on a straight band; Hermite pieces are exact for cubics.
        let xs = [-1.5, -0.7, 0.1, 0.6, 1.4];
        let e: Vec<f64> = xs.iter().map(|x| x * x * x - 2.0 * x).collect();
        let f: Vec<f64> = xs.iter().map(|x| -(3.0 * x * x - 2.0)).collect();
        let band = line_band(&xs, &e, &f);
        let mut out = vec![0.0; 9];
        let mut tau = vec![0.0; 9];
        band_forces(&band, Springs { k: 1.0, k_min: None }, None, &mut out, &mut tau);
        // Tangents along +x everywhere (the band is a straight line in increasing x).
        for t in tau.chunks(3) {
            assert!((t[0].abs() - 1.0).abs() < 1e-15);
        }
        // Orient all tangents along +x for the slopes.
        for t in tau.chunks_mut(3) {
            t[0] = 1.0;
        }
        let profile = energy_profile(&band, &tau, 7);
        assert_eq!(profile.len(), 4 * 7 + 1);
        for [s, v] in profile {
            let x = -1.5 + s;
            assert!((v - (x * x * x - 2.0 * x)).abs() < 1e-12, "at x = {x}: {v}");
        }
    }

    #[test]
    fn endpoints_must_match_atom_by_atom() {
        use crate::structure::Cell;
        let cell = Cell::orthorhombic(10.0, 10.0, 10.0).unwrap();
        let two = |sym: [&str; 2], x: f64| {
            Structure::from_symbols(cell.clone(), &sym, vec![[1.0, 1.0, 1.0], [x, 1.0, 1.0]]).unwrap()
        };
        let a = two(["Cu", "Zr"], 3.5);
        let msg = |r: Result<Structure>| r.unwrap_err().to_string();
        let three = Structure::from_symbols(
            cell.clone(),
            &["Cu", "Zr", "Cu"],
            vec![[1.0, 1.0, 1.0], [3.0, 1.0, 1.0], [5.0, 5.0, 5.0]],
        )
        .unwrap();
        assert!(msg(align_endpoints(&a, &three)).contains("different numbers of atoms: 2 (initial) and 3"));
        assert!(
            msg(align_endpoints(&a, &two(["Zr", "Cu"], 3.0))).contains("atom 1 is Cu in the initial structure and Zr")
        );
        let mut other_cell = two(["Cu", "Zr"], 3.0);
        other_cell.cell = Cell::orthorhombic(10.0, 10.0, 10.5).unwrap();
        assert!(msg(align_endpoints(&a, &other_cell)).contains("different cells"));
        assert!(msg(align_endpoints(&a, &a.clone())).contains("same configuration"));
        // Across the boundary: atom 2 moves from x = 9.5 to x = 0.5 by +1 Å, not -9 Å.
        let b = two(["Cu", "Zr"], 9.5);
        let c = two(["Cu", "Zr"], 0.5);
        let al = align_endpoints(&b, &c).unwrap();
        assert!((al.positions[1][0] - 10.5).abs() < 1e-12, "{:?}", al.positions[1]);
        // The species list may be ordered differently as long as every atom keeps its element.
        let mut d = two(["Cu", "Zr"], 4.0);
        d.species = vec!["Zr".into(), "Cu".into()];
        d.types = vec![1, 0];
        assert_eq!(align_endpoints(&a, &d).unwrap().types, vec![0, 1]);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let [a, _, c] = MullerBrown::MINIMA;
        let ini = point(a.0, a.1, 0.0).unwrap();
        let fin = point(c.0, c.1, 0.0).unwrap();
        let err = |o: NebOptions| neb(&ini, &fin, mb(), &o).unwrap_err().to_string();
        assert!(err(NebOptions {
            images: 0,
            ..mb_options()
        })
        .contains("at least one intermediate image"));
        assert!(err(NebOptions {
            images: 100_000,
            ..mb_options()
        })
        .contains("images must be at most 1000"));
        assert!(err(NebOptions {
            fmax: -1.0,
            ..mb_options()
        })
        .contains("fmax"));
        assert!(err(NebOptions {
            spring_min: Some(50.0),
            ..mb_options()
        })
        .contains("spring_min"));
        assert!(neb(&ini, &ini, mb(), &mb_options())
            .unwrap_err()
            .to_string()
            .contains("same configuration"));
        // Two different points in the same basin relax to the same minimum.
        let near = point(a.0 + 0.05, a.1 - 0.05, 0.0).unwrap();
        let e = neb(&ini, &near, mb(), &mb_options()).unwrap_err().to_string();
        assert!(e.contains("relax to the same minimum"), "{e}");
        // Unknown keys in a configuration are rejected.
        assert!(serde_json::from_str::<NebOptions>(r#"{"images": 5, "climbing": true}"#).is_err());
        let o: NebOptions = serde_json::from_str(r#"{"images": 5, "interpolation": "linear"}"#).unwrap();
        assert_eq!((o.images, o.interpolation, o.fmax), (5, Interpolation::Linear, 0.01));
    }

    #[test]
    fn a_band_out_of_steps_reports_not_converged() {
        let [a, _, c] = MullerBrown::MINIMA;
        let ini = point(a.0, a.1, 0.0).unwrap();
        let fin = point(c.0, c.1, 0.0).unwrap();
        let r = neb(
            &ini,
            &fin,
            mb(),
            &NebOptions {
                max_steps: 10,
                ..mb_options()
            },
        )
        .unwrap();
        assert!(!r.converged);
        assert_eq!(r.steps, 10);
        assert!(r.max_force > 1e-3);
        assert_eq!(r.saddle_confirmed, None, "no curvature check on an unconverged band");
        assert_eq!(r.force_calls.total, 11 * 9);
    }

    #[test]
    fn curvature_check_matches_the_analytic_hessian() {
        let [s1, _] = MullerBrown::SADDLES;
        let s = point(s1.0, s1.1, 0.0).unwrap();
        // Müller-Brown varies on a 0.1 Å scale: a smaller step than the atomistic default keeps
        // the O(h²) error of the central differences below 1e-6 relative.
        let fine = CurvatureOptions {
            step: 1e-4,
            ..CurvatureOptions::default()
        };
        let c = lowest_curvatures(mb(), &s, &fine).unwrap();
        let h = MullerBrown::hessian(s1.0, s1.1);
        let tr = h[0][0] + h[1][1];
        let det = h[0][0] * h[1][1] - h[0][1] * h[0][1];
        let low = 0.5 * tr - (0.25 * tr * tr - det).sqrt();
        // Eigenvalues: the analytic lowest, 0 (z does not enter the surface), the analytic highest.
        assert!((c.lowest[0] - low).abs() < 1e-6 * low.abs(), "{:?} vs {low}", c.lowest);
        assert!(c.lowest[1].abs() < 1e-9);
        assert_eq!((c.negative, c.first_order_saddle, c.force_calls), (1, true, 6));
        let m = MullerBrown::MINIMA[0];
        let c = lowest_curvatures(mb(), &point(m.0, m.1, 0.0).unwrap(), &CurvatureOptions::default()).unwrap();
        assert_eq!((c.negative, c.first_order_saddle), (0, false));
    }

    #[test]
    fn result_does_not_depend_on_the_thread_count() {
        let [_, b, c] = MullerBrown::MINIMA;
        let ini = point(c.0, c.1, 0.0).unwrap();
        let fin = point(b.0, b.1, 0.0).unwrap();
        let opts = NebOptions {
            max_steps: 60,
            ..mb_options()
        };
        let in_pool = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| neb(&ini, &fin, mb(), &opts).unwrap())
        };
        let (one, three) = (in_pool(1), in_pool(3));
        assert_eq!(one, three);
    }

    #[test]
    fn a_given_path_is_refined_to_the_saddle() {
        let [_, b, c] = MullerBrown::MINIMA;
        let [_, s2] = MullerBrown::SADDLES;
        // A crude path through a point near the saddle, endpoints exact minima.
        let path = [
            point(c.0, c.1, 0.0).unwrap(),
            point(0.1, 0.4, 0.0).unwrap(),
            point(0.25, 0.25, 0.0).unwrap(),
            point(0.45, 0.1, 0.0).unwrap(),
            point(b.0, b.1, 0.0).unwrap(),
        ];
        let r = neb_from_path(
            &path,
            mb(),
            &NebOptions {
                spring: 20.0,
                fmax: 1e-4,
                max_step: 0.02,
                ..NebOptions::default()
            },
        )
        .unwrap();
        let p = r.saddle().positions[0];
        assert!(r.converged);
        assert!((p[0] - s2.0).abs() < 1e-5 && (p[1] - s2.1).abs() < 1e-5, "{p:?}");
        assert!((r.barrier_forward - (s2.2 - c.2)).abs() < 1e-5);
        assert!((r.barrier_reverse - (s2.2 - b.2)).abs() < 1e-5);
        assert_eq!(r.images.len(), 5);
        assert!(neb_from_path(&path[..2], mb(), &NebOptions::default()).is_err());
    }

    #[test]
    fn muller_brown_climbing_image_lands_on_both_saddles() {
        let [a, b, c] = MullerBrown::MINIMA;
        let [s1, s2] = MullerBrown::SADDLES;
        let lbfgs = NebOptions {
            optimizer: BandOptimizer::Lbfgs,
            ..mb_options()
        };
        for (from, to, saddle, opts) in [
            (a, c, s1, mb_options()),
            (c, b, s2, mb_options()),
            (a, c, s1, lbfgs.clone()),
            (c, b, s2, lbfgs),
        ] {
            let ini = point(from.0, from.1, 0.0).unwrap();
            let fin = point(to.0, to.1, 0.0).unwrap();
            let r = neb(&ini, &fin, mb(), &opts).unwrap();
            let p = r.saddle().positions[0];
            eprintln!(
                "{:?} steps {} calls {} saddle {:?} E {} conf {:?} {:?}",
                saddle, r.steps, r.force_calls.total, p, r.saddle_energy, r.saddle_confirmed, r.warnings
            );
            assert!(r.converged);
            assert!(
                (p[0] - saddle.0).abs() < 1e-4 && (p[1] - saddle.1).abs() < 1e-4,
                "{p:?} vs {saddle:?}"
            );
            assert!((r.saddle_energy - saddle.2).abs() < 1e-4);
        }
    }
}
