//! One ART nouveau search (Barkema & Mousseau, PRL 77, 4358 (1996); Malek & Mousseau, PRE 62,
//! 7723 (2000); Machado-Charry et al., JCP 135, 034102 (2011)) as described in `science.md` §4:
//!
//! 1. **Perturbation**: a central atom and its neighbours within a radius move along a random
//!    direction, the whole displacement having a fixed 2-norm (Fan-Iwashita-Egami: first
//!    neighbours, 0.5 Å).
//! 2. **Activation**: the system is pushed on in small steps (sized on the most displaced
//!    atom) along the displacement of the atoms near the central atom, with a few FIRE steps
//!    of relaxation perpendicular to the push after each one, until the lowest Hessian
//!    eigenvalue, from a warm-started [`lanczos`](super::lanczos), falls below a threshold
//!    (-0.01 eV/Å^2). [`PushDirection`] offers the alternatives and their trade-offs.
//! 3. **Convergence** ([`ConvergenceMethod`]): by default a Newton step along the lowest mode,
//!    |s| = min(s_max, |F_par| / max(|λ|, λ_floor)) against the parallel force, then FIRE
//!    steps on the perpendicular force, then a Lanczos update; repeated until the largest
//!    per-atom force falls below the saddle threshold (0.05 eV/Å) with λ < 0. `minmode`
//!    instead takes L-BFGS steps on the min-mode force F - 2 (F·v) v.
//! 4. **Verification**, where the search converged: a fresh Lanczos from a random start gives
//!    the lowest eigenvalue, and a second one with that mode deflated gives the next. A point
//!    with two negative eigenvalues is a higher-order saddle: the search steps down the second
//!    mode and converges again (`max_escapes` times at most).
//! 5. **Relaxation**: from the saddle, a push along the mode away from the initial minimum and
//!    a relaxation to the final minimum; a push the other way and a relaxation to check that
//!    the saddle reconnects to the initial minimum. A verified event has exactly one negative
//!    eigenvalue, a saddle force below the threshold, and relaxations that lead one to the
//!    initial minimum and the other to a different one.
//!
//! Every outcome is a value ([`SearchOutcome`]): an event, or a failure with its
//! [`FailureReason`] and the force calls it cost, split by phase ([`CallCounts`]).

use super::lanczos::{axpy, dot, lowest_mode, norm, scale, LanczosOptions, LanczosResult, Projector};
use crate::catalog::{CallCounts, FailureReason, SaddleCheck};
use crate::minimize::{
    cap_atom_step, minimize, minimize_active, ActiveAtoms, FireParams, FireState, LbfgsStepper, MinimizeOptions,
    MinimizerKind,
};
use crate::potential::Calculator;
use crate::structure::Structure;
use crate::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// All parameters of an ART search (the `configs/art.toml` file; every field documented
/// there). Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArtConfig {
    pub perturbation: PerturbationConfig,
    pub activation: ActivationConfig,
    pub convergence: ConvergenceConfig,
    pub lanczos: LanczosOptions,
    pub perpendicular: PerpendicularConfig,
    pub relaxation: RelaxationConfig,
    pub verification: VerificationConfig,
    pub limits: LimitsConfig,
    pub input: InputConfig,
    pub catalog: CatalogConfig,
    pub locality: LocalityConfig,
}

impl Default for ArtConfig {
    fn default() -> Self {
        ArtConfig {
            perturbation: PerturbationConfig::default(),
            activation: ActivationConfig::default(),
            convergence: ConvergenceConfig::default(),
            // A warm-started Lanczos only has to track the mode between two nearby points: a
            // 3 % eigenvalue change is enough (on the 500-atom glass with 0.3 Å pushes, 1 % took
            // 27 % more Lanczos calls for the same 107 verified events in 200 searches). The
            // independent check keeps 1 %.
            lanczos: LanczosOptions {
                rel_tol: 0.03,
                ..LanczosOptions::default()
            },
            perpendicular: PerpendicularConfig::default(),
            relaxation: RelaxationConfig::default(),
            verification: VerificationConfig::default(),
            limits: LimitsConfig::default(),
            input: InputConfig::default(),
            catalog: CatalogConfig::default(),
            locality: LocalityConfig::default(),
        }
    }
}

/// The initial random displacement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerturbationConfig {
    /// Atoms within this distance of the central atom move with it, Å.
    pub radius: f64,
    /// 2-norm of the whole initial displacement, Å.
    pub norm: f64,
}

impl Default for PerturbationConfig {
    fn default() -> Self {
        PerturbationConfig { radius: 3.5, norm: 0.5 }
    }
}

/// Direction of the activation pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushDirection {
    /// The lowest Hessian eigenvector from the last Lanczos, oriented away from the minimum
    /// (eigenvector following; Cerjan & Miller, JCP 75, 2800 (1981)). Efficient (on the shipped
    /// 500-atom glass about 60 % of searches end in a verified event, against 20-25 % for
    /// `displacement`) but biased: the lowest mode of a glass is delocalised, so most searches,
    /// whatever their central atom, climb to the same few soft saddles (22 of 26 verified
    /// events of one run had the same 0.43 Å largest displacement and E_fw < 0.1 eV). Use it
    /// for what-if studies of soft spots, not to sample a barrier spectrum.
    Mode,
    /// The current displacement from the minimum, restricted to the atoms within
    /// `push_radius` of the central atom (the original ART of Barkema & Mousseau): the
    /// activation stays local to the central atom, so the catalog samples the landscape
    /// around every atom. The default.
    Displacement,
    /// The initial random perturbation, unchanged.
    Initial,
}

/// Leaving the basin: pushes along the perturbation direction with perpendicular relaxation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivationConfig {
    /// Length of each push: the displacement of the most displaced atom, Å (a 2-norm would
    /// move each atom of a mode spread over many atoms by almost nothing). Longer pushes with
    /// a short perpendicular relaxation (pARTn: 0.4 Å and 4 FIRE steps) reach a saddle in
    /// fewer force calls but step over the low saddles near the minimum: on the 500-atom glass,
    /// 0.2-0.3 Å pushes cut the events below 1 eV from 18 % of the verified ones to 4-7 %.
    pub push_step: f64,
    /// FIRE steps perpendicular to the push direction between two pushes (force calls).
    pub perp_steps: usize,
    /// FIRE steps perpendicular to the perturbation right after it (relaxing the strain of
    /// the initial jump before any curvature is measured).
    pub initial_perp_steps: usize,
    /// Pushes before the first Lanczos call (the basin curvature is positive near the minimum).
    /// Keep the distance pushed without a curvature test short: from a neighbour of a vacancy
    /// in fcc Cu, with 3 pushes of 0.3 Å before the first Lanczos, 21 of 30 searches stepped
    /// over the hop's saddle and converged on one that does not reconnect; with the defaults
    /// (2 pushes of 0.1 Å) 3 of 30 did (test `vacancy_neighbour_searches_reconnect`).
    pub lanczos_after: usize,
    /// Direction of the pushes (with `mode`, the displacement until the first Lanczos).
    pub direction: PushDirection,
    /// Only the displacement of atoms within this distance of the central atom sets the push
    /// direction (Å; 0: every atom). Keeps the activation local: the displacement of the
    /// whole system drifts towards soft collective modes that lead nowhere.
    pub push_radius: f64,
    /// The perpendicular relaxation after a push stops early once its largest per-atom force
    /// falls below this, eV/Å.
    pub perp_fmax: f64,
    /// Largest number of pushes before giving up (`no_negative_mode`).
    pub max_pushes: usize,
    /// The basin is left when the lowest eigenvalue falls below this value, eV/Å^2.
    pub eigenvalue_threshold: f64,
    /// ... and the lowest mode overlaps the push direction by at least this (|cos|): a negative
    /// curvature across the push is a soft mode of the strained surroundings, not the way out.
    pub min_overlap: f64,
}

impl Default for ActivationConfig {
    fn default() -> Self {
        ActivationConfig {
            push_step: 0.1,
            perp_steps: 15,
            initial_perp_steps: 20,
            lanczos_after: 2,
            direction: PushDirection::Displacement,
            push_radius: 3.5,
            perp_fmax: 0.1,
            max_pushes: 40,
            eigenvalue_threshold: -0.01,
            min_overlap: 0.0,
        }
    }
}

/// How the search converges onto the saddle once the lowest eigenvalue is negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvergenceMethod {
    /// Min-mode following (the dimer method's translation): L-BFGS on the force with its
    /// component along the lowest mode inverted, F - 2 (F·v) v, which has the first-order
    /// saddle as an attractor (Henkelman & Jónsson, J. Chem. Phys. 111, 7010 (1999); with
    /// L-BFGS: Kästner & Sherwood, J. Chem. Phys. 128, 014106 (2008)). Every coordinate moves
    /// at every step; a fresh Lanczos (warm-started) follows each step; where λ ≥ 0 it climbs
    /// along the mode. Fewer force calls per saddle than `newton`, but on the shipped glasses
    /// it loses the mode more often and, without `min_overlap`, drifts to the softest saddles.
    Minmode,
    /// ARTn's scheme: a Newton step along the mode, then a few FIRE steps perpendicular to it
    /// (Malek & Mousseau, Phys. Rev. E 62, 7723 (2000)).
    #[default]
    Newton,
}

/// Converging onto the saddle along the lowest mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConvergenceConfig {
    /// How: `minmode` (L-BFGS on the min-mode force) or `newton` (step along the mode, FIRE
    /// perpendicular to it).
    pub method: ConvergenceMethod,
    /// The saddle is converged when the largest per-atom force is below this, eV/Å.
    pub fmax: f64,
    /// Largest step: along the mode (2-norm, `newton`), or of any atom (`minmode`), Å.
    pub max_step: f64,
    /// L-BFGS history of `minmode` (pairs).
    pub memory: usize,
    /// Floor of |λ| in the Newton step along the mode, eV/Å^2.
    pub lambda_floor: f64,
    /// ... and when the 2-norm of the whole force (all atoms) is below this, eV/Å. In soft
    /// glasses a residual force spread thinly over many atoms passes a per-atom threshold
    /// while the point is still far (in energy) from a stationary point: on the 16,000-atom
    /// replica, a saddle converged with this test on the active atoms only (831 of them) lay
    /// 0.1 eV above the one converged with it on the whole system.
    pub fnorm_max: f64,
    /// The saddle is also required to lie within this distance of the top along the mode,
    /// estimated by the Newton step |F_par| / |λ| (Å). A per-atom force threshold alone
    /// accepts "shoulders" of soft glass landscapes, points of negative curvature whose
    /// small force is spread over many atoms, from which both relaxations return to the
    /// initial minimum; keeping this below half the relaxation push makes the two pushes
    /// straddle the top.
    pub max_mode_offset: f64,
    /// FIRE steps perpendicular to the mode per iteration (the last entry repeats).
    pub perp_steps: Vec<usize>,
    /// The perpendicular relaxation stops early once its largest per-atom force falls below
    /// this fraction of `fmax`.
    pub perp_fmax_fraction: f64,
    /// Largest number of iterations (`saddle_not_converged`).
    pub max_iterations: usize,
    /// Iterations with λ >= 0 tolerated before the search fails (`mode_lost`).
    pub max_mode_lost: usize,
    /// A converged point whose check (`[verification]`) finds a second negative eigenvalue is
    /// a higher-order saddle: the search steps down along that mode and converges again, at
    /// most this many times (0: report it as it is, unverified).
    pub max_escapes: usize,
    /// Length (2-norm) of that step along the second mode, Å.
    pub escape_step: f64,
}

impl Default for ConvergenceConfig {
    fn default() -> Self {
        ConvergenceConfig {
            method: ConvergenceMethod::Newton,
            fmax: 0.05,
            max_step: 0.2,
            memory: 10,
            lambda_floor: 0.5,
            fnorm_max: 0.1,
            max_mode_offset: 0.1,
            perp_steps: vec![4, 6, 8],
            perp_fmax_fraction: 0.5,
            max_iterations: 100,
            max_mode_lost: 5,
            max_escapes: 2,
            escape_step: 0.2,
        }
    }
}

/// FIRE for the short perpendicular relaxations of activation and convergence (unit masses;
/// larger time steps than a full minimization, since only a few steps are taken each time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerpendicularConfig {
    /// FIRE parameters (`dt` is the first step: from rest x moves by dt^2 F).
    pub fire: FireParams,
    /// Largest displacement of any atom in one step, Å.
    pub max_atom_step: f64,
}

impl Default for PerpendicularConfig {
    fn default() -> Self {
        PerpendicularConfig {
            fire: FireParams {
                dt: 0.25,
                dt_max: 0.5,
                ..FireParams::default()
            },
            max_atom_step: 0.1,
        }
    }
}

/// Relaxations from the saddle to the two minima, and how minima are told apart.
///
/// A relaxation first runs to `fmax`; when it ends near the initial minimum (within
/// `near_distance` and `near_energy`), where soft glass landscapes hold nearly flat regions
/// that a loose relaxation cannot tell from the minimum itself, it continues to
/// `refine_fmax` before the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelaxationConfig {
    /// Push from the saddle along the mode (2-norm), Å. Far enough that the minimizer does not
    /// fall back over a flat top: with 0.1 Å, 15 of 200 searches on the 500-atom glass had
    /// both sides relax to the initial minimum, with 0.3 Å 9. pARTn and LAMMPS ARTn push 0.2 Å.
    pub push: f64,
    /// Minimizer (fire, lbfgs, cg or lbfgs-step). `lbfgs-step` keeps its history when the
    /// active set grows, where `lbfgs` restarts its line-search solver: on the 2,000-atom glass
    /// (seeds 7-9, 100 searches each) the relaxations took 49,022 force calls against 73,367,
    /// with the same outcome (failure reason, reconnection, verification) for 296 of 300 searches.
    pub method: MinimizerKind,
    /// The minima are converged when the largest per-atom force is below this, eV/Å. At
    /// 0.01 a relaxation pushed 0.1 Å off a saddle along a soft mode can stop at once, or on a
    /// shoulder: on the 2,000-atom glass 8 of 55 final minima then lay more than 0.05 eV (up to
    /// 2 eV) above the minimum a tighter relaxation reaches, four of them with E_rev < 0.01 eV.
    /// At 0.001 (and `locality.relax_join_force` 0.01) none of 60 lay more than 0.004 eV above
    /// it (`scripts/check_final_minima.sh`, `results/bench/README.md`).
    pub fmax: f64,
    /// Tighter convergence for a minimum found near the initial one, eV/Å.
    pub refine_fmax: f64,
    /// "Near the initial minimum": within this largest atomic distance, Å ...
    pub near_distance: f64,
    /// ... and this energy difference, eV.
    pub near_energy: f64,
    /// Two minima are the same when no atom differs by more than this, Å ...
    pub same_distance: f64,
    /// ... and their energies differ by less than this, eV.
    pub same_energy: f64,
    /// Largest number of minimizer iterations per relaxation.
    pub max_iterations: u64,
    /// Largest displacement of any atom in one minimizer step, Å (keeps a relaxation in the
    /// basin it was pushed into).
    pub max_atom_step: f64,
    /// Turn events whose saddle does not reconnect to the initial minimum into failures
    /// (`not_reconnecting`); otherwise they are kept with `reconnects: false`.
    pub require_reconnect: bool,
}

impl Default for RelaxationConfig {
    fn default() -> Self {
        RelaxationConfig {
            push: 0.3,
            method: MinimizerKind::LbfgsStep,
            fmax: 1e-3,
            refine_fmax: 1e-4,
            near_distance: 1.0,
            near_energy: 0.05,
            same_distance: 0.1,
            same_energy: 1e-3,
            max_iterations: 2000,
            max_atom_step: 0.1,
            require_reconnect: false,
        }
    }
}

/// The independent check of a saddle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerificationConfig {
    /// Run the fresh-Lanczos check (its force calls count in the total).
    pub enabled: bool,
    /// An eigenvalue below -tolerance counts as negative, eV/Å^2.
    pub negative_tolerance: f64,
    /// Lanczos parameters of the check (random start, so more vectors than the search).
    pub lanczos: LanczosOptions,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        VerificationConfig {
            enabled: true,
            negative_tolerance: 1e-3,
            lanczos: LanczosOptions {
                max_vectors: 40,
                residual_tol: 0.05,
                ..LanczosOptions::default()
            },
        }
    }
}

/// Budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Force calls one search may spend before it fails (`iteration_limit`).
    pub max_force_calls: u64,
    /// A search fails when the energy climbs more than this above the initial minimum, eV.
    pub max_energy_rise: f64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_force_calls: 5000,
            max_energy_rise: 25.0,
        }
    }
}

/// Locality of a search (pelx issue 9): an *active set* of atoms that may move, kinetic-ART
/// style but driven by forces, and local force evaluation.
///
/// The active set starts as the atoms within `radius` of the central atom (the perturbed atoms
/// at the default) and only grows. After every force call of the activation and convergence
/// phases, each frozen atom joins whose force exceeds both what the phase's perpendicular
/// relaxation aims below (`activation.perp_fmax`; `convergence.perp_fmax_fraction` × `fmax`)
/// and half of the largest force: far from convergence, the strain of the pushed region would
/// otherwise pull in its surroundings without need. In the relaxations from the saddle an atom
/// joins above `relax_join_force` (and the relaxation's `fmax`), so a minimum has its moving
/// atoms below `relaxation.fmax` and its frozen ones below `relax_join_force`. Forces are exact
/// for every atom (frozen atoms included), so the saddle tests are tests on the whole system:
/// once the active atoms pass them, frozen atoms that together fail the 2-norm test join,
/// largest force first.
///
/// The search's Lanczos works on the active set: it finds the lowest eigenpair of the Hessian
/// block H_AA of the active atoms, the Hessian of the energy with the frozen atoms held fixed.
/// By Cauchy interlacing the k-th eigenvalue of H_AA is at least the k-th of the full Hessian,
/// so a negative lowest eigenvalue of H_AA proves a negative full mode. A lower full eigenvalue
/// (a soft mode that extends past the set) only changes the convergence path, not the
/// convergence tests. The saddle check (`[verification]`) works on the active atoms and the
/// frozen atoms within `check_margin` of them, so that a second negative mode carried by the
/// strained frozen shell is not missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalityConfig {
    /// Move only the active set (true, the default; false: every atom moves). On the
    /// 2,000-atom Cu-Zr sample it keeps the search on the central atom's neighbourhood instead
    /// of soft spots elsewhere in the box: 56 % of 300 searches verified, at 1,416 force calls
    /// per verified event (session 4, with an active set that spread over the box: 35 % and
    /// 2,026; without one: 30 % and 2,429; `results/bench/README.md`).
    /// A search's cost still grows with the system size: the saddle's whole-system force
    /// tests relax the event's elastic far field (`pelx bench art-scale`).
    pub enabled: bool,
    /// Atoms within this distance of the central atom start in the active set, Å (the
    /// perturbed atoms always do).
    pub radius: f64,
    /// Evaluate forces locally ([`Calculator::with_local`]): recompute only what the atoms
    /// that moved since the previous call can reach. Exact to rounding; the reported saddle and
    /// final energies come from full evaluations (one extra force call each).
    pub local_evaluation: bool,
    /// The saddle check ([`VerificationConfig`]) covers the active atoms and every atom
    /// within this distance of one of them, Å: the frozen atoms the event strains (the
    /// Hessian of atoms farther out is that of the initial minimum). A check on the whole
    /// system would cost full force calls at every Hessian-vector product.
    pub check_margin: f64,
    /// In the relaxations from the saddle, a frozen atom joins the active set only when its
    /// force exceeds this (and the relaxation's fmax), eV/Å: the moving atoms converge to
    /// `relaxation.fmax`, while the event's elastic far field, which reaches across a
    /// 16,000-atom box at 0.001 eV/Å, stays frozen below this force.
    pub relax_join_force: f64,
}

impl Default for LocalityConfig {
    fn default() -> Self {
        LocalityConfig {
            enabled: true,
            radius: 3.5,
            local_evaluation: true,
            check_margin: 5.0,
            relax_join_force: 0.01,
        }
    }
}

/// The starting structure of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// A starting structure whose largest per-atom force exceeds this (eV/Å) is not a
    /// minimum: it is relaxed first (or refused with `--no-relax`). At most
    /// `relaxation.refine_fmax`, so that relaxations back to it can be recognised.
    pub max_fmax: f64,
    /// The relaxation of an unrelaxed input stops at this largest per-atom force, eV/Å.
    pub relax_fmax: f64,
    /// Minimizer for that relaxation.
    pub method: MinimizerKind,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            max_fmax: 1e-4,
            relax_fmax: 1e-5,
            method: MinimizerKind::Lbfgs,
        }
    }
}

/// How events are stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogConfig {
    /// Sparse displacements keep atoms that moved more than this from the initial minimum, Å.
    pub displacement_cutoff: f64,
    /// Displacement components are rounded to this many decimals (of Å).
    pub displacement_decimals: u32,
    /// `n_moved` counts atoms displaced more than this between the minima, Å.
    pub moved_threshold: f64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig {
            displacement_cutoff: 1e-3,
            displacement_decimals: 6,
            moved_threshold: 0.2,
        }
    }
}

impl ArtConfig {
    /// Reads a TOML configuration; missing keys take their defaults, unknown keys are errors.
    ///
    /// A key left out takes the value of [`ArtConfig::default`] (as listed in
    /// `configs/art.toml`), also inside nested tables such as `[verification.lanczos]`, whose
    /// defaults differ from those of the type alone.
    pub fn from_toml_str(text: &str, origin: &std::path::Path) -> Result<Self> {
        let at_line = |e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            Error::parse(origin, line, e.message().to_string())
        };
        // Unknown keys and wrong types are reported with their line by the direct parse.
        let _: ArtConfig = toml::from_str(text).map_err(at_line)?;
        let user: toml::Table = toml::from_str(text).map_err(at_line)?;
        let mut merged = match toml::Value::try_from(ArtConfig::default()) {
            Ok(toml::Value::Table(t)) => t,
            _ => return Err(Error::invalid("art config: the defaults do not serialize to a table")),
        };
        merge_tables(&mut merged, user);
        let cfg: ArtConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| Error::parse(origin, 0, e.message().to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads a TOML configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml_str(&text, path)
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<()> {
        let pos = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(Error::invalid(format!("art config: {name} must be positive (got {v})")))
            }
        };
        pos("perturbation.radius", self.perturbation.radius)?;
        pos("perturbation.norm", self.perturbation.norm)?;
        pos("activation.push_step", self.activation.push_step)?;
        pos("convergence.fmax", self.convergence.fmax)?;
        pos("convergence.max_step", self.convergence.max_step)?;
        pos("convergence.lambda_floor", self.convergence.lambda_floor)?;
        pos("convergence.fnorm_max", self.convergence.fnorm_max)?;
        pos("convergence.max_mode_offset", self.convergence.max_mode_offset)?;
        pos("convergence.escape_step", self.convergence.escape_step)?;
        if self.convergence.memory == 0 {
            return Err(Error::invalid("art config: convergence.memory must be at least 1"));
        }
        let ov = self.activation.min_overlap;
        if !((0.0..=1.0).contains(&ov)) {
            return Err(Error::invalid(format!(
                "art config: activation.min_overlap is a |cos| and must lie in [0, 1] (got {ov})"
            )));
        }
        pos("relaxation.push", self.relaxation.push)?;
        pos("relaxation.fmax", self.relaxation.fmax)?;
        pos("relaxation.max_atom_step", self.relaxation.max_atom_step)?;
        pos("relaxation.same_distance", self.relaxation.same_distance)?;
        pos("relaxation.same_energy", self.relaxation.same_energy)?;
        pos("relaxation.refine_fmax", self.relaxation.refine_fmax)?;
        pos("relaxation.near_distance", self.relaxation.near_distance)?;
        pos("relaxation.near_energy", self.relaxation.near_energy)?;
        pos("perpendicular.max_atom_step", self.perpendicular.max_atom_step)?;
        self.perpendicular.fire.validate()?;
        pos("limits.max_energy_rise", self.limits.max_energy_rise)?;
        pos("input.max_fmax", self.input.max_fmax)?;
        pos("input.relax_fmax", self.input.relax_fmax)?;
        pos("catalog.displacement_cutoff", self.catalog.displacement_cutoff)?;
        pos("catalog.moved_threshold", self.catalog.moved_threshold)?;
        pos("locality.relax_join_force", self.locality.relax_join_force)?;
        if !(self.locality.check_margin >= 0.0 && self.locality.check_margin.is_finite()) {
            return Err(Error::invalid("art config: locality.check_margin must be at least 0"));
        }
        if !(self.locality.radius >= 0.0 && self.locality.radius.is_finite()) {
            return Err(Error::invalid("art config: locality.radius must be at least 0"));
        }
        if self.input.max_fmax > self.relaxation.refine_fmax {
            return Err(Error::invalid(format!(
                "art config: input.max_fmax ({}) must not exceed relaxation.refine_fmax ({}): relaxations \
                 back to a less relaxed initial structure would not be recognised",
                self.input.max_fmax, self.relaxation.refine_fmax
            )));
        }
        if self.input.relax_fmax > self.input.max_fmax {
            return Err(Error::invalid(
                "art config: input.relax_fmax must not exceed input.max_fmax",
            ));
        }
        if self.catalog.displacement_decimals > 15 {
            return Err(Error::invalid(
                "art config: catalog.displacement_decimals must be at most 15",
            ));
        }
        if self.activation.eigenvalue_threshold >= 0.0 {
            return Err(Error::invalid(
                "art config: activation.eigenvalue_threshold must be negative",
            ));
        }
        if self.activation.max_pushes == 0 || self.convergence.max_iterations == 0 {
            return Err(Error::invalid(
                "art config: max_pushes and max_iterations must be at least 1",
            ));
        }
        if self.convergence.perp_steps.is_empty() {
            return Err(Error::invalid(
                "art config: convergence.perp_steps needs at least one entry",
            ));
        }
        self.lanczos.validate()?;
        self.verification.lanczos.validate()?;
        Ok(())
    }
}

/// The relaxed starting minimum of a campaign, shared read-only by every search.
#[derive(Debug, Clone)]
pub struct InitialMinimum {
    pub structure: Structure,
    /// Its energy, eV.
    pub energy: f64,
    /// Per flat coordinate: may it move? (None: every coordinate is free.)
    pub free: Option<Vec<bool>>,
}

impl InitialMinimum {
    /// The minimum at `structure` (assumed relaxed) with every coordinate free.
    pub fn new(structure: Structure, calc: &mut Calculator) -> Result<Self> {
        let (energy, _) = calc.energy_forces(&structure)?;
        Ok(InitialMinimum {
            structure,
            energy,
            free: None,
        })
    }

    /// Restricts the search to the coordinates marked true (per flat coordinate, 3N).
    pub fn with_free_coordinates(mut self, free: Vec<bool>) -> Result<Self> {
        if free.len() != 3 * self.structure.len() {
            return Err(Error::invalid("free-coordinate mask must have 3N entries"));
        }
        self.free = Some(free);
        Ok(self)
    }

    fn projector(&self) -> Projector {
        Projector::for_system(self.structure.len(), self.free.clone())
    }

    /// Whether `x` (energy `e`) lies within `distance` Å of the initial minimum (largest atomic
    /// distance) and within `energy` eV of it.
    fn is_near(&self, x: &[f64], e: f64, distance: f64, energy: f64) -> bool {
        (e - self.energy).abs() < energy && max_atom_distance(x, self.structure.flat()) < distance
    }

    /// Atoms within `radius` Å of atom `center` (minimum image), `center` first.
    pub fn neighbourhood(&self, center: usize, radius: f64) -> Vec<usize> {
        let s = &self.structure;
        let c = s.positions[center];
        let mut out = vec![center];
        for (j, p) in s.positions.iter().enumerate() {
            if j != center && s.cell.distance(c, *p) <= radius {
                out.push(j);
            }
        }
        out
    }
}

/// A converged saddle and the minima on both sides of it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundEvent {
    /// Energies, eV.
    pub e_saddle: f64,
    pub e_final: f64,
    /// Lowest eigenvalue at the saddle (the search's own Lanczos), eV/Å^2.
    pub eigenvalue: f64,
    /// Largest per-atom force at the saddle, eV/Å.
    pub saddle_fmax: f64,
    /// Positions of the saddle and of the final minimum (unwrapped, same atom order), Å.
    pub saddle: Vec<[f64; 3]>,
    pub final_positions: Vec<[f64; 3]>,
    /// Whether the relaxation on the other side leads back to the initial minimum.
    pub reconnects: bool,
    /// The independent check (None when disabled).
    pub check: Option<SaddleCheck>,
    /// Whether the event passed every check (see the module documentation).
    pub verified: bool,
    /// Higher-order saddles the search stepped down from before this one (`max_escapes`).
    pub escapes: usize,
    /// When neither side relaxes to the initial minimum, the converged minimum on the other
    /// side (the saddle joins it and the final one).
    pub other: Option<OtherSide>,
    pub calls: CallCounts,
}

/// The minimum on the other side of a saddle that does not lead back to the initial minimum.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherSide {
    /// Energy, eV.
    pub energy: f64,
    /// Positions (unwrapped, same atom order as the initial minimum), Å.
    pub positions: Vec<[f64; 3]>,
}

/// A search that ended without an event.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchFailure {
    pub reason: FailureReason,
    pub detail: String,
    pub calls: CallCounts,
}

/// The outcome of one search.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchOutcome {
    Event(Box<FoundEvent>),
    Failure(SearchFailure),
}

/// Evaluates the force field on flat coordinates and counts the calls by phase.
struct Pes<'a> {
    calc: &'a mut Calculator,
    s: Structure,
    fbuf: Vec<[f64; 3]>,
    calls: CallCounts,
    phase: Phase,
    budget: u64,
    e_cap: f64,
    /// The subspace the search moves in: the free coordinates of the active atoms.
    proj: Projector,
    /// The active set (None: every atom moves) and the force above which a frozen atom joins.
    active: Option<ActiveAtoms>,
    /// Force above which a frozen atom joins the active set, eV/Å: in activation and in
    /// convergence, what each phase's perpendicular relaxation aims below.
    grow_activation: f64,
    grow_convergence: f64,
    /// The free-coordinate mask of the initial minimum (None: all free).
    base_free: Option<Vec<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Activation,
    Lanczos,
    Convergence,
    Relaxation,
    Verification,
}

/// Why a search stops early (internal control flow, turned into a [`SearchFailure`]).
#[derive(Debug)]
enum Stop {
    Fail(FailureReason, String),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Fail(FailureReason::PotentialError, e.to_string())
    }
}

impl Pes<'_> {
    /// Rebuilds the projector's mask from the active set and the initial free mask.
    fn update_projector(&mut self) {
        let Some(a) = &self.active else { return };
        let mut mask: Vec<bool> = a.flags().iter().flat_map(|&b| [b; 3]).collect();
        if let Some(free) = &self.base_free {
            mask.iter_mut().zip(free).for_each(|(m, &f)| *m &= f);
        }
        self.proj.free = Some(mask);
        // The rigid translation of the active region: an exact zero mode once every atom is
        // active, a soft mode of a large region held by a thin frozen shell; either way not an
        // event, and Lanczos would stall on it.
        self.proj.remove_translation = self.base_free.is_none();
    }

    /// The 2-norm of the forces on the active atoms (all atoms without an active set), eV/Å.
    fn active_norm(&self, f: &[f64]) -> f64 {
        match &self.active {
            None => norm(f),
            Some(a) => f
                .chunks_exact(3)
                .zip(a.flags())
                .filter(|(_, &on)| on)
                .map(|(c, _)| c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
                .sum::<f64>()
                .sqrt(),
        }
    }

    /// Adds every frozen atom whose force exceeds `max_limit`, then frozen atoms, largest force
    /// first, until the 2-norm of the forces left on frozen atoms is below `norm_limit` (eV/Å):
    /// the saddle tests cover the whole system, and frozen atoms (each below the growth
    /// threshold, but possibly above the saddle fmax, or many together) could otherwise fail
    /// them for ever.
    fn grow_for_saddle_test(&mut self, f: &[f64], max_limit: f64, norm_limit: f64) {
        let Some(a) = self.active.as_mut() else { return };
        let mut frozen: Vec<(f64, usize)> = f
            .chunks_exact(3)
            .enumerate()
            .filter(|(i, _)| !a.contains(*i))
            .map(|(i, c)| (c[0] * c[0] + c[1] * c[1] + c[2] * c[2], i))
            .filter(|(q, _)| *q > 0.0)
            .collect();
        let mut left: f64 = frozen.iter().map(|(q, _)| q).sum();
        let top = frozen.iter().map(|(q, _)| *q).fold(0.0, f64::max);
        if left < norm_limit * norm_limit && top <= max_limit * max_limit {
            return;
        }
        frozen.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        for (q, i) in frozen {
            if left < norm_limit * norm_limit && q <= max_limit * max_limit {
                break;
            }
            a.insert(i);
            left -= q;
        }
        tracing::trace!(active = a.len(), "active set grew for the force norm");
        self.update_projector();
    }

    /// The subspace of the saddle check at `x`: the whole system without an active set; with
    /// one, the active atoms and every atom within `margin` Å of one of them (free coordinates
    /// only), the rigid translation of that region removed as in the search's projector.
    fn check_projector(&mut self, x: &[f64], margin: f64) -> Projector {
        let n_atoms = x.len() / 3;
        let Some(a) = &self.active else {
            return Projector::for_system(n_atoms, self.base_free.clone());
        };
        let mut region = a.flags().to_vec();
        if margin > 0.0 {
            // `s` is the evaluation buffer, overwritten by the next force call anyway.
            self.s.flat_mut().copy_from_slice(x);
            let mut nl = crate::potential::neighbor::NeighborList::new(margin, 0.0);
            nl.build(&self.s);
            for i in 0..n_atoms {
                for (j, _) in nl.neighbors(i) {
                    if a.contains(i) || a.contains(j) {
                        region[i] = true;
                        region[j] = true;
                    }
                }
            }
        }
        let mut mask: Vec<bool> = region.iter().flat_map(|&b| [b; 3]).collect();
        if let Some(free) = &self.base_free {
            mask.iter_mut().zip(free).for_each(|(m, &f)| *m &= f);
        }
        let mut proj = Projector::for_system(n_atoms, Some(mask));
        proj.remove_translation = self.base_free.is_none();
        proj
    }

    /// The energy at `x` from a full evaluation (the local calculator's cache dropped first),
    /// so that reported energies are exact whatever the history of local calls; `f` gets the
    /// forces. Without local evaluation, a plain call.
    fn eval_exact(&mut self, x: &[f64], f: &mut [f64]) -> std::result::Result<f64, Stop> {
        self.calc.reset_local();
        self.eval(x, f)
    }

    /// Books `k` force calls to the current phase.
    fn count(&mut self, k: u64) {
        let c = &mut self.calls;
        match self.phase {
            Phase::Activation => c.activation += k,
            Phase::Lanczos => c.lanczos += k,
            Phase::Convergence => c.convergence += k,
            Phase::Relaxation => c.relaxation += k,
            Phase::Verification => c.verification += k,
        }
    }

    fn eval(&mut self, x: &[f64], f: &mut [f64]) -> std::result::Result<f64, Stop> {
        if self.calls.total() >= self.budget {
            return Err(Stop::Fail(
                FailureReason::IterationLimit,
                format!("force-call budget of {} spent", self.budget),
            ));
        }
        self.s.flat_mut().copy_from_slice(x);
        let e = self.calc.compute(&self.s, &mut self.fbuf)?;
        f.copy_from_slice(self.fbuf.as_flattened());
        self.count(1);
        // Finite-difference points of Lanczos are not iterates: they do not grow the set.
        if !matches!(self.phase, Phase::Lanczos | Phase::Verification) {
            let limit = match self.phase {
                Phase::Activation => self.grow_activation,
                _ => self.grow_convergence,
            };
            // Frozen atoms join when their forces matter: above what the phase relaxes to,
            // and comparable with the largest force (so that the strain of a point far from
            // convergence does not pull in its surroundings).
            if let Some(a) = self.active.as_mut() {
                let threshold = limit.max(GROW_RELATIVE * crate::potential::fmax(&self.fbuf));
                if a.grow(&self.fbuf, threshold) > 0 {
                    tracing::trace!(active = a.len(), phase = ?self.phase, calls = self.calls.total(), "active set grew");
                    self.update_projector();
                }
            }
        }
        if e > self.e_cap {
            return Err(Stop::Fail(
                FailureReason::PotentialError,
                format!("energy rose above the initial minimum by more than the limit ({e:.4} eV)"),
            ));
        }
        Ok(e)
    }

    /// A Lanczos run at `x` (forces `f`) from `start`, its calls counted as `phase`.
    fn lanczos(
        &mut self,
        x: &[f64],
        f: &[f64],
        start: &[f64],
        proj: &Projector,
        opts: &LanczosOptions,
        phase: Phase,
    ) -> std::result::Result<LanczosResult, Stop> {
        let saved = self.phase;
        self.phase = phase;
        let mut stop = None;
        let r = {
            let mut oracle = |y: &[f64], g: &mut [f64]| -> Result<f64> {
                match self.eval(y, g) {
                    Ok(e) => Ok(e),
                    Err(s) => {
                        stop = Some(s);
                        Err(Error::invalid("stopped"))
                    }
                }
            };
            lowest_mode(&mut oracle, x, f, start, proj, opts)
        };
        self.phase = saved;
        match (r, stop) {
            (_, Some(s)) => Err(s),
            (Ok(r), None) => Ok(r),
            (Err(e), None) => Err(e.into()),
        }
    }
}

/// A frozen atom joins the active set only if its force exceeds this fraction of the largest
/// force (and the phase's limit).
const GROW_RELATIVE: f64 = 0.5;

/// `minmode` drops its L-BFGS history when the step and the min-mode force make an angle above
/// arccos(0.2) ≈ 78° (the force is no gradient; see [`LbfgsStepper`]).
const MINMODE_MIN_COSINE: f64 = 0.2;
/// `minmode` drops its L-BFGS history when the new lowest mode overlaps the previous one by
/// less than this (|cos|).
const MINMODE_RESET_OVERLAP: f64 = 0.7;
/// Curvature assumed by the first `minmode` step and after a reset, eV/Å²: the step is F / 10.
const MINMODE_INITIAL_CURVATURE: f64 = 10.0;

/// Largest per-atom norm of a flat 3N vector.
fn max_atom_norm(v: &[f64]) -> f64 {
    v.chunks_exact(3)
        .map(|c| c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
        .fold(0.0, f64::max)
        .sqrt()
}

/// `f` minus its component along the unit vector `u`, projected onto the allowed subspace.
fn perpendicular(f: &[f64], u: &[f64], proj: &Projector, out: &mut [f64]) {
    out.copy_from_slice(f);
    let a = dot(f, u);
    axpy(out, -a, u);
    proj.apply(out);
}

/// Runs one ART search from `init` around `central` with the random stream `seed`.
///
/// The outcome depends only on (`init`, `cfg`, `central`, `seed`) and on the calculator's
/// force field: give each search a calculator in the same state (a clone of one template) so
/// that results are bitwise reproducible whatever the thread that runs it.
pub fn search(
    init: &InitialMinimum,
    cfg: &ArtConfig,
    calc: &mut Calculator,
    central: usize,
    seed: u64,
) -> SearchOutcome {
    let was_local = calc.is_local();
    calc.set_local(cfg.locality.enabled && cfg.locality.local_evaluation);
    calc.reset_local();
    let mut pes = Pes {
        calc,
        s: init.structure.clone(),
        fbuf: Vec::new(),
        calls: CallCounts::default(),
        phase: Phase::Activation,
        budget: cfg.limits.max_force_calls,
        e_cap: init.energy + cfg.limits.max_energy_rise,
        proj: init.projector(),
        active: None,
        grow_activation: cfg.activation.perp_fmax,
        grow_convergence: cfg.convergence.perp_fmax_fraction * cfg.convergence.fmax,
        base_free: init.free.clone(),
    };
    let local0 = pes.calc.local_calls();
    let result = run_search(init, cfg, &mut pes, central, seed);
    tracing::debug!(
        central,
        active = pes.active.as_ref().map(|a| a.len()),
        calls = pes.calls.total(),
        local_calls = pes.calc.local_calls() - local0,
        "search finished"
    );
    pes.calc.reset_local();
    pes.calc.set_local(was_local);
    match result {
        Ok(mut ev) => {
            ev.calls = pes.calls;
            SearchOutcome::Event(Box::new(ev))
        }
        Err(Stop::Fail(reason, detail)) => SearchOutcome::Failure(SearchFailure {
            reason,
            detail,
            calls: pes.calls,
        }),
    }
}

fn run_search(
    init: &InitialMinimum,
    cfg: &ArtConfig,
    pes: &mut Pes<'_>,
    central: usize,
    seed: u64,
) -> std::result::Result<FoundEvent, Stop> {
    let n = 3 * init.structure.len();
    if central >= init.structure.len() {
        return Err(Stop::Fail(
            FailureReason::PotentialError,
            format!("central atom {central} is out of range"),
        ));
    }
    let x0 = init.structure.flat().to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // 1. Perturbation: Gaussian directions on the central atom and its neighbours.
    let group = init.neighbourhood(central, cfg.perturbation.radius);
    let mut p = vec![0.0; n];
    for &a in &group {
        for k in 0..3 {
            p[3 * a + k] = StandardNormal.sample(&mut rng);
        }
    }
    if let Some(mask) = &init.free {
        for (x, &ok) in p.iter_mut().zip(mask) {
            if !ok {
                *x = 0.0;
            }
        }
    }
    let pn = norm(&p);
    if pn <= 0.0 || !pn.is_finite() {
        return Err(Stop::Fail(
            FailureReason::NoNegativeMode,
            format!("central atom {central} and its neighbours have no free coordinate"),
        ));
    }
    scale(&mut p, 1.0 / pn);
    if cfg.locality.enabled {
        let mut a = ActiveAtoms::new(init.structure.len(), group.iter().copied());
        for i in init.neighbourhood(central, cfg.locality.radius) {
            a.insert(i);
        }
        pes.active = Some(a);
        pes.update_projector();
    }
    let mut x = x0.clone();
    axpy(&mut x, cfg.perturbation.norm, &p);

    // 2-3. Activation and convergence, one loop with two regimes: pushes with perpendicular
    // relaxation until the lowest eigenvalue falls below the threshold, then Newton steps
    // along the lowest mode with perpendicular relaxation until the force vanishes. A mode
    // that turns positive sends the search back to pushing (at most `max_mode_lost` times).
    let act = &cfg.activation;
    let conv = &cfg.convergence;
    let fire_params = &cfg.perpendicular;
    let mut f = vec![0.0; n];
    pes.phase = Phase::Activation;
    let mut e = pes.eval(&x, &mut f)?;
    let new_fire = || FireState::new(n, fire_params.fire, fire_params.max_atom_step);
    perp_relax(
        pes,
        &mut x,
        &mut f,
        &mut e,
        &p,
        act.initial_perp_steps,
        (act.perp_fmax, f64::INFINITY),
        &mut new_fire(),
    )?;
    // Atoms whose displacement sets the push direction (all when the radius is 0).
    let push_group: Option<Vec<bool>> = (act.push_radius > 0.0).then(|| {
        let mut keep = vec![false; n / 3];
        for a in init.neighbourhood(central, act.push_radius) {
            keep[a] = true;
        }
        keep
    });
    let mut mode: Option<(f64, Vec<f64>)> = None;
    let mut saddle_regime = false;
    let mut check: Option<SaddleCheck> = None;
    let mut escapes = 0usize;
    let mut lbfgs = LbfgsStepper::new(conv.memory, MINMODE_MIN_COSINE, MINMODE_INITIAL_CURVATURE);
    let (mut pushes, mut iters, mut relapses) = (0usize, 0usize, 0usize);
    loop {
        if saddle_regime || pushes >= act.lanczos_after {
            let start = mode.as_ref().map_or(&p, |m| &m.1).clone();
            let proj = pes.proj.clone();
            let lz = pes.lanczos(&x, &f, &start, &proj, &cfg.lanczos, Phase::Lanczos)?;
            let mut v = lz.eigenvector;
            let overlap = dot(&v, &start);
            if overlap < 0.0 {
                scale(&mut v, -1.0);
            }
            if saddle_regime && overlap.abs() < MINMODE_RESET_OVERLAP {
                // A different mode: the min-mode force changed its form, the history is stale.
                lbfgs.reset();
            }
            tracing::trace!(
                pushes,
                iters,
                saddle_regime,
                e = e - init.energy,
                lambda = lz.eigenvalue,
                lz_calls = lz.force_calls,
                fmax = max_atom_norm(&f),
                fpar = dot(&f, &v),
                overlap = dot(&v, &p),
                "curvature"
            );
            mode = Some((lz.eigenvalue, v));
        }
        let lambda = mode.as_ref().map_or(f64::INFINITY, |m| m.0);
        if saddle_regime && lambda >= 0.0 {
            relapses += 1;
            if relapses > conv.max_mode_lost {
                return Err(Stop::Fail(
                    FailureReason::ModeLost,
                    format!("eigenvalue {lambda:.4} eV/Å^2 after {iters} iterations ({relapses} times)"),
                ));
            }
            if conv.method == ConvergenceMethod::Minmode && iters < conv.max_iterations {
                // Climb along the mode (the dimer's rule for a positive curvature): uphill,
                // against the force's component along it, by the largest step.
                let v = &mode.as_ref().expect("saddle regime has a mode").1;
                let fpar = dot(&f, v);
                let mut d = v.clone();
                scale(&mut d, -fpar.signum());
                cap_atom_step(&mut d, conv.max_step);
                axpy(&mut x, 1.0, &d);
                lbfgs.reset();
                pes.phase = Phase::Convergence;
                e = pes.eval(&x, &mut f)?;
                iters += 1;
                continue;
            }
            saddle_regime = false;
        } else if !saddle_regime
            && lambda < act.eigenvalue_threshold
            && mode.as_ref().is_some_and(|m| dot(&m.1, &p).abs() >= act.min_overlap)
        {
            saddle_regime = true;
            lbfgs.reset();
            // Climb away from the initial minimum.
            let m = mode.as_mut().expect("lambda is finite");
            let mut d = x.clone();
            axpy(&mut d, -1.0, &x0);
            if dot(&m.1, &d) < 0.0 {
                scale(&mut m.1, -1.0);
            }
        }
        if saddle_regime {
            // Once the active atoms pass the saddle tests, frozen atoms whose forces together
            // fail the norm test join the set, largest first, so that the perpendicular
            // relaxation can remove them. (Earlier, the set would take in the strain field of
            // a point far from the saddle.)
            let (f_max, f_norm) = (max_atom_norm(&f), norm(&f));
            if f_max < conv.fmax && f_norm >= conv.fnorm_max && pes.active_norm(&f) < conv.fnorm_max {
                pes.grow_for_saddle_test(
                    &f,
                    conv.perp_fmax_fraction * conv.fmax,
                    conv.perp_fmax_fraction * conv.fnorm_max,
                );
            }
            let v = &mode.as_ref().expect("saddle regime has a mode").1;
            if f_max < conv.fmax && f_norm < conv.fnorm_max && dot(&f, v).abs() < conv.max_mode_offset * lambda.abs() {
                tracing::debug!(
                    iters,
                    lambda,
                    fpar = dot(&f, v),
                    fnorm = f_norm,
                    fnorm_active = pes.active_norm(&f),
                    active = pes.active.as_ref().map(|a| a.len()),
                    fmax = max_atom_norm(&f),
                    e = e - init.energy,
                    "converged"
                );
                if cfg.verification.enabled {
                    let (c, second) =
                        check_saddle(pes, &x, &f, v, &cfg.verification, cfg.locality.check_margin, &mut rng)?;
                    let tol = cfg.verification.negative_tolerance;
                    if c.lowest < -tol && c.second < -tol && escapes < conv.max_escapes {
                        // A higher-order saddle: down the second mode, away from the start.
                        escapes += 1;
                        let mut w = second;
                        let mut d = x.clone();
                        axpy(&mut d, -1.0, &x0);
                        if dot(&w, &d) < 0.0 {
                            scale(&mut w, -1.0);
                        }
                        tracing::debug!(
                            escapes,
                            second = c.second,
                            "higher-order saddle: stepping down the second mode"
                        );
                        axpy(&mut x, conv.escape_step, &w);
                        lbfgs.reset();
                        pes.phase = Phase::Convergence;
                        e = pes.eval(&x, &mut f)?;
                        iters += 1;
                        continue;
                    }
                    check = Some(c);
                }
                break;
            }
            if iters >= conv.max_iterations {
                return Err(Stop::Fail(
                    FailureReason::SaddleNotConverged,
                    format!(
                        "{iters} iterations, fmax {:.4} eV/Å, eigenvalue {lambda:.4} eV/Å^2",
                        max_atom_norm(&f)
                    ),
                ));
            }
            let fpar = dot(&f, v);
            match conv.method {
                ConvergenceMethod::Minmode => {
                    // F - 2 (F·v) v: uphill along the mode, downhill across it.
                    let mut g = f.clone();
                    axpy(&mut g, -2.0 * fpar, v);
                    pes.proj.apply(&mut g);
                    let mut d = lbfgs.direction(&x, &g);
                    pes.proj.apply(&mut d);
                    cap_atom_step(&mut d, conv.max_step);
                    axpy(&mut x, 1.0, &d);
                    pes.phase = Phase::Convergence;
                    e = pes.eval(&x, &mut f)?;
                }
                ConvergenceMethod::Newton => {
                    let step = conv.max_step.min(fpar.abs() / lambda.abs().max(conv.lambda_floor));
                    axpy(&mut x, -fpar.signum() * step, v);
                    pes.phase = Phase::Convergence;
                    e = pes.eval(&x, &mut f)?;
                    let m = conv.perp_steps[iters.min(conv.perp_steps.len() - 1)];
                    let stop = (
                        conv.perp_fmax_fraction * conv.fmax,
                        conv.perp_fmax_fraction * conv.fnorm_max,
                    );
                    perp_relax(pes, &mut x, &mut f, &mut e, v, m, stop, &mut new_fire())?;
                }
            }
            iters += 1;
        } else {
            if pushes >= act.max_pushes {
                return Err(Stop::Fail(
                    FailureReason::NoNegativeMode,
                    format!("{pushes} pushes, last eigenvalue {lambda:.4} eV/Å^2"),
                ));
            }
            match (act.direction, &mode) {
                (PushDirection::Mode, Some((_, v))) => {
                    let mut d = x.clone();
                    axpy(&mut d, -1.0, &x0);
                    p = v.clone();
                    if dot(&p, &d) < 0.0 {
                        scale(&mut p, -1.0);
                    }
                }
                (PushDirection::Displacement, _) | (PushDirection::Mode, None) => {
                    let mut d = x.clone();
                    axpy(&mut d, -1.0, &x0);
                    if let Some(keep) = &push_group {
                        for (c, &k) in d.chunks_exact_mut(3).zip(keep) {
                            if !k {
                                c.iter_mut().for_each(|z| *z = 0.0);
                            }
                        }
                    }
                    pes.proj.apply(&mut d);
                    let dn = norm(&d);
                    if dn > 0.0 {
                        scale(&mut d, 1.0 / dn);
                        p = d;
                    }
                }
                _ => {}
            }
            let step = act.push_step / max_atom_norm(&p).max(1e-12);
            axpy(&mut x, step, &p);
            pes.phase = Phase::Activation;
            e = pes.eval(&x, &mut f)?;
            let stop = (act.perp_fmax, f64::INFINITY);
            perp_relax(pes, &mut x, &mut f, &mut e, &p, act.perp_steps, stop, &mut new_fire())?;
            pushes += 1;
        }
    }
    let (lambda, mut v) = mode.expect("converged in the saddle regime");
    let xs = x.clone();
    if pes.calc.is_local() {
        e = pes.eval_exact(&xs, &mut f)?;
    }
    let fs = f.clone();
    let es = e;
    let saddle_fmax = max_atom_norm(&fs);

    // 4. Relaxations on both sides of the saddle.
    pes.phase = Phase::Relaxation;
    let mut d = xs.clone();
    axpy(&mut d, -1.0, &x0);
    if dot(&v, &d) < 0.0 {
        scale(&mut v, -1.0);
    }
    let relax = &cfg.relaxation;
    let mut xf = xs.clone();
    axpy(&mut xf, relax.push, &v);
    let side_f = relax_side(pes, &mut xf, init, relax, cfg.locality.relax_join_force)?;
    let mut xb = xs.clone();
    axpy(&mut xb, -relax.push, &v);
    let side_b = relax_side(pes, &mut xb, init, relax, cfg.locality.relax_join_force)?;
    // The final minimum, whether the other side is the initial one, and otherwise (when it
    // converged) that other minimum: its energy and positions.
    let (x_fin, fin, reconnects, other) = match (side_f.is_initial, side_b.is_initial) {
        (true, true) => {
            return Err(Stop::Fail(
                FailureReason::FinalEqualsInitial,
                format!(
                    "both sides of the saddle (E_sad - E_ini = {:.4} eV) relax to the initial minimum",
                    es - init.energy
                ),
            ))
        }
        (true, false) => (xb, side_b, side_f.converged, None),
        (false, true) => (xf, side_f, side_b.converged, None),
        (false, false) => {
            let other = side_b.converged.then_some((side_b.energy, xb));
            (xf, side_f, false, other)
        }
    };
    if !fin.converged {
        return Err(Stop::Fail(
            FailureReason::FinalNotRelaxed,
            format!("no minimum within {} iterations", relax.max_iterations),
        ));
    }
    let mut e_fin = fin.energy;
    let mut other = other;
    if pes.calc.is_local() {
        let mut g = vec![0.0; n];
        e_fin = pes.eval_exact(&x_fin, &mut g)?;
        if let Some((e, xo)) = other.as_mut() {
            *e = pes.eval_exact(xo, &mut g)?;
        }
    }
    if !reconnects && relax.require_reconnect {
        return Err(Stop::Fail(
            FailureReason::NotReconnecting,
            "the other side of the saddle does not relax to the initial minimum".into(),
        ));
    }

    // 5. The independent check of the saddle was made where the search converged.
    let tol = cfg.verification.negative_tolerance;
    let verified =
        check.as_ref().is_some_and(|c| c.lowest < -tol && c.second > -tol) && saddle_fmax < conv.fmax && reconnects;

    let to_atoms = |y: &[f64]| y.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<_>>();
    Ok(FoundEvent {
        e_saddle: es,
        e_final: e_fin,
        eigenvalue: lambda,
        saddle_fmax,
        saddle: to_atoms(&xs),
        final_positions: to_atoms(&x_fin),
        reconnects,
        check,
        verified,
        escapes,
        other: other.map(|(energy, xo)| OtherSide {
            energy,
            positions: to_atoms(&xo),
        }),
        calls: CallCounts::default(),
    })
}

/// Overwrites the keys of `base` with those of `user`, table by table.
fn merge_tables(base: &mut toml::Table, user: toml::Table) {
    for (k, v) in user {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge_tables(b, u),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The independent check of a converged saddle at `x` (forces `f`, the search's mode `v`): a
/// Lanczos from a random start, then a second one with that mode deflated, on the whole system,
/// or with an active set on its atoms and every atom within `margin` Å of them (see
/// [`LocalityConfig::check_margin`]). Returns the check and the second mode's vector.
fn check_saddle(
    pes: &mut Pes<'_>,
    x: &[f64],
    f: &[f64],
    v: &[f64],
    cfg: &VerificationConfig,
    margin: f64,
    rng: &mut ChaCha8Rng,
) -> std::result::Result<(SaddleCheck, Vec<f64>), Stop> {
    let n = x.len();
    let mut r: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    let proj = pes.check_projector(x, margin);
    proj.apply(&mut r);
    let lz1 = pes.lanczos(x, f, &r, &proj, &cfg.lanczos, Phase::Verification)?;
    let deflated = proj.clone().with_deflated(&lz1.eigenvector);
    r.iter_mut().for_each(|z| *z = StandardNormal.sample(rng));
    let lz2 = pes.lanczos(x, f, &r, &deflated, &cfg.lanczos, Phase::Verification)?;
    let c = SaddleCheck {
        lowest: lz1.eigenvalue,
        second: lz2.eigenvalue,
        overlap: dot(&lz1.eigenvector, v).abs(),
    };
    Ok((c, lz2.eigenvector))
}

/// Up to `steps` FIRE steps on the force perpendicular to the unit vector `u`, stopping early
/// when its largest per-atom norm and its 2-norm fall below `stop` (eV/Å). `fire` carries
/// the FIRE state (fresh, or kept from the previous call). On entry `f` and `e` hold the force and
/// energy at `x`; on exit they hold those of the new `x`.
#[allow(clippy::too_many_arguments)]
fn perp_relax(
    pes: &mut Pes<'_>,
    x: &mut [f64],
    f: &mut [f64],
    e: &mut f64,
    u: &[f64],
    steps: usize,
    stop: (f64, f64),
    fire: &mut FireState,
) -> std::result::Result<(), Stop> {
    let mut fp = vec![0.0; x.len()];
    for _ in 0..steps {
        perpendicular(f, u, &pes.proj, &mut fp);
        if max_atom_norm(&fp) < stop.0 && norm(&fp) < stop.1 {
            break;
        }
        fire.step(x, &fp);
        *e = pes.eval(x, f)?;
    }
    Ok(())
}

/// Largest per-atom distance between two flat configurations of the same atoms (unwrapped
/// coordinates, so no minimum image), Å.
fn max_atom_distance(a: &[f64], b: &[f64]) -> f64 {
    a.chunks_exact(3)
        .zip(b.chunks_exact(3))
        .map(|(p, q)| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2))
        .fold(0.0, f64::max)
        .sqrt()
}

/// A relaxation from one side of the saddle.
struct Side {
    energy: f64,
    converged: bool,
    /// Whether it reached the initial minimum.
    is_initial: bool,
}

/// Relaxes `x` in place (see [`RelaxationConfig`]): to `fmax`, then, if the minimum lies near
/// the initial one, on to `refine_fmax`; and says whether it is the initial minimum.
fn relax_side(
    pes: &mut Pes<'_>,
    x: &mut [f64],
    init: &InitialMinimum,
    cfg: &RelaxationConfig,
    join_force: f64,
) -> std::result::Result<Side, Stop> {
    let x0 = init.structure.flat();
    // With an active set, frozen atoms join only above `join_force` (the far field of the
    // event's strain would otherwise pull in the whole system at a tight fmax).
    if let Some(a) = pes.active.as_mut() {
        a.set_join_floor(join_force);
    }
    let r = relax_side_steps(pes, x, init, cfg);
    if let Some(a) = pes.active.as_mut() {
        a.set_join_floor(0.0);
    }
    let (energy, converged) = r?;
    tracing::debug!(
        e = energy - init.energy,
        d = max_atom_distance(x, x0),
        converged,
        calls = pes.calls.relaxation,
        "relaxed side"
    );
    Ok(Side {
        energy,
        converged,
        is_initial: init.is_near(x, energy, cfg.same_distance, cfg.same_energy),
    })
}

/// The relaxations of [`relax_side`]: to `fmax`, then near the initial minimum to
/// `refine_fmax`; returns the energy and whether the last one converged.
fn relax_side_steps(
    pes: &mut Pes<'_>,
    x: &mut [f64],
    init: &InitialMinimum,
    cfg: &RelaxationConfig,
) -> std::result::Result<(f64, bool), Stop> {
    let x0 = init.structure.flat();
    let (mut energy, mut converged) = relax_to(pes, x, cfg, cfg.fmax)?;
    tracing::debug!(
        e = energy - init.energy,
        d = max_atom_distance(x, x0),
        converged,
        "loose relaxation"
    );
    if converged && init.is_near(x, energy, cfg.near_distance, cfg.near_energy) && cfg.refine_fmax < cfg.fmax {
        (energy, converged) = relax_to(pes, x, cfg, cfg.refine_fmax)?;
    }
    Ok((energy, converged))
}

/// One minimization of `x` (in place) to `fmax` with the configured method, its force calls
/// counted in the current phase and bounded by the search's budget.
fn relax_to(
    pes: &mut Pes<'_>,
    x: &mut [f64],
    cfg: &RelaxationConfig,
    fmax: f64,
) -> std::result::Result<(f64, bool), Stop> {
    let left = pes.budget.saturating_sub(pes.calls.total());
    if left == 0 {
        return Err(Stop::Fail(
            FailureReason::IterationLimit,
            format!("force-call budget of {} spent", pes.budget),
        ));
    }
    let opts = MinimizeOptions {
        fmax,
        max_iterations: cfg.max_iterations,
        max_force_calls: left,
        max_step: cfg.max_atom_step,
        ..MinimizeOptions::default()
    };
    pes.s.flat_mut().copy_from_slice(x);
    let before = pes.calc.calls();
    let r = match pes.active.as_mut() {
        // Frozen atoms with forces above the relaxation's fmax join the set.
        Some(a) => minimize_active(cfg.method, &mut pes.s, pes.calc, &opts, a)?,
        None => minimize(cfg.method, &mut pes.s, pes.calc, &opts)?,
    };
    pes.update_projector();
    pes.count(pes.calc.calls() - before);
    x.copy_from_slice(pes.s.flat());
    if r.energy > pes.e_cap {
        return Err(Stop::Fail(
            FailureReason::PotentialError,
            "energy ran away during a relaxation".into(),
        ));
    }
    Ok((r.energy, r.converged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::analytic::Harmonic;
    use crate::structure::Cell;
    use std::sync::Arc;

    /// A force-field wrapper at `init` in the convergence phase, without an active set.
    fn test_pes<'a>(calc: &'a mut Calculator, init: &InitialMinimum) -> Pes<'a> {
        Pes {
            calc,
            s: init.structure.clone(),
            fbuf: Vec::new(),
            calls: CallCounts::default(),
            phase: Phase::Convergence,
            budget: 1000,
            e_cap: f64::INFINITY,
            proj: init.projector(),
            active: None,
            grow_activation: 0.1,
            grow_convergence: 0.025,
            base_free: init.free.clone(),
        }
    }

    /// The saddle check on a quadratic surface of known spectrum: at a second-order saddle it
    /// finds both negative eigenvalues and returns the second mode, which the search steps
    /// down to leave it.
    #[test]
    fn check_finds_the_second_negative_mode_of_a_higher_order_saddle() {
        let center: Vec<[f64; 3]> = (0..4).map(|i| [i as f64 * 2.5, 0.3 * i as f64, -0.1]).collect();
        let mut eig: Vec<f64> = (0..12).map(|k| 0.5 + 0.7 * k as f64).collect();
        eig[0] = -0.8;
        eig[1] = -0.25;
        let h = Harmonic::from_spectrum(&center, &eig, 11).unwrap();
        let exact = h.hessian().clone().symmetric_eigen();
        let k2 = (0..12).find(|&k| (exact.eigenvalues[k] - -0.25).abs() < 1e-9).unwrap();
        let s = Structure::new(
            Cell::open_box(&center, 5.0).unwrap(),
            vec!["X".into()],
            vec![0; 4],
            center.clone(),
        )
        .unwrap();
        let mut calc = Calculator::new(Arc::new(h));
        let init = InitialMinimum {
            free: Some(vec![true; 12]),
            ..InitialMinimum::new(s.clone(), &mut calc).unwrap()
        };
        let cfg = ArtConfig::default();
        let mut pes = test_pes(&mut calc, &init);
        let x = init.structure.flat().to_vec();
        let f = vec![0.0; 12];
        let v = vec![0.0; 12];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (c, w) = check_saddle(&mut pes, &x, &f, &v, &cfg.verification, 0.0, &mut rng).unwrap();
        assert!((c.lowest - -0.8).abs() < 1e-3 * 0.8, "{c:?}");
        assert!((c.second - -0.25).abs() < 1e-3 * 0.25, "{c:?}");
        let overlap = dot(&w, exact.eigenvectors.column(k2).as_slice()).abs();
        assert!(overlap > 0.999, "second mode overlap {overlap}");
        assert_eq!(pes.calls.verification, pes.calls.total());
    }

    /// With an active set, the saddle check covers exactly the active atoms and the atoms
    /// within `check_margin` of one of them (checked against all pair distances), all three
    /// coordinates of each; without one, the whole system.
    #[test]
    fn check_region_is_the_active_set_and_its_margin() {
        use crate::structure::io::{read_structure, ReadOptions};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let s = read_structure(root.join("configs/CuZr50_500.extxyz"), &ReadOptions::default()).unwrap();
        let ff = crate::potential::load(&[&root.join("potentials/CuZr_mm.eam.fs")]).unwrap();
        let mut calc = Calculator::new(ff);
        let init = InitialMinimum::new(s.clone(), &mut calc).unwrap();
        let core = init.neighbourhood(10, 3.5);
        let mut pes = test_pes(&mut calc, &init);
        let x = s.flat().to_vec();
        assert!(pes.check_projector(&x, 5.0).free.is_none());
        pes.active = Some(ActiveAtoms::new(s.len(), core.iter().copied()));
        let margin = 5.0;
        let proj = pes.check_projector(&x, margin);
        let mask = proj.free.as_ref().unwrap();
        let mut inside = 0;
        for i in 0..s.len() {
            let expect = core
                .iter()
                .any(|&a| a == i || s.cell.distance(s.positions[a], s.positions[i]) <= margin);
            assert_eq!(mask[3 * i..3 * i + 3], [expect; 3], "atom {i}");
            inside += expect as usize;
        }
        assert!(inside > core.len() && inside < s.len(), "{inside} atoms");
    }
}
