//! Minimizers: FIRE, the argmin-backed L-BFGS and CG, and an L-BFGS without line search,
//! behind one [`Minimizer`] interface.
//!
//! Every method relaxes a [`Structure`] in place with a [`Calculator`] and stops when the
//! largest per-atom force norm drops below `fmax` (eV/Å), never on an energy change
//! (`science.md` §3). No step moves any atom by more than `max_step` Å, so a relaxation stays
//! in the basin it started in. The outcome is a [`MinimizeResult`] whose [`Termination`]
//! says why the run stopped; only a failure to evaluate the starting point is an error.
//!
//! - [`Fire`]: FIRE (Bitzek et al. 2006); its steppable core [`FireState`] serves ART and NEB.
//! - [`Lbfgs`]: limited-memory BFGS (Nocedal, Math. Comp. 35, 773 (1980); Liu & Nocedal 1989)
//!   with a More-Thuente line search (ACM TOMS 20, 286 (1994)), from argmin.
//! - [`ConjugateGradient`]: nonlinear conjugate gradients with the Polak-Ribière+ β
//!   (Gilbert & Nocedal, SIAM J. Optim. 2, 21 (1992)) and Powell restarts, from argmin.
//! - [`LbfgsStep`]: L-BFGS taking its capped step without a line search, halved only when the
//!   energy rises; with an active set that grows it keeps its history (ART's relaxations).
//!
//! ```
//! use pelx::minimize::{minimize, MinimizeOptions, MinimizerKind};
//! use pelx::potential::{analytic::{point, MullerBrown}, Calculator};
//! use std::sync::Arc;
//!
//! let mut s = point(-0.5, 1.4, 0.0).unwrap(); // near minimum A of the Müller-Brown surface
//! let mut calc = Calculator::new(Arc::new(MullerBrown));
//! let opts = MinimizeOptions { fmax: 1e-6, max_step: 0.05, ..Default::default() };
//! let r = minimize(MinimizerKind::Lbfgs, &mut s, &mut calc, &opts).unwrap();
//! assert!(r.converged);
//! assert!((r.energy - -146.699517).abs() < 1e-6);
//! ```

mod argmin_backend;
mod fire;
mod lbfgs_step;
mod quasi_newton;

pub use argmin_backend::{ConjugateGradient, Lbfgs};
pub use fire::{Fire, FireParams, FireState};
pub use lbfgs_step::LbfgsStep;
pub use quasi_newton::{cap_atom_step, LbfgsStepper};

use crate::potential::Calculator;
use crate::structure::Structure;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The minimization methods (a closed set, as named on the command line and in TOML).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MinimizerKind {
    /// FIRE, damped dynamics; robust, the default.
    #[default]
    Fire,
    /// L-BFGS with a More-Thuente line search; fewest force calls near a minimum.
    Lbfgs,
    /// Nonlinear conjugate gradients (Polak-Ribière+).
    Cg,
    /// L-BFGS taking its capped step without a line search, halving it when the energy rises;
    /// about one force call per iteration.
    #[serde(rename = "lbfgs-step")]
    LbfgsStep,
}

impl MinimizerKind {
    /// The implementation of this method.
    pub fn minimizer(self) -> Box<dyn Minimizer> {
        match self {
            MinimizerKind::Fire => Box::new(Fire),
            MinimizerKind::Lbfgs => Box::new(Lbfgs),
            MinimizerKind::Cg => Box::new(ConjugateGradient),
            MinimizerKind::LbfgsStep => Box::new(LbfgsStep),
        }
    }
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            MinimizerKind::Fire => "fire",
            MinimizerKind::Lbfgs => "lbfgs",
            MinimizerKind::Cg => "cg",
            MinimizerKind::LbfgsStep => "lbfgs-step",
        }
    }
}

impl std::fmt::Display for MinimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Options shared by every method, plus the parameters of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinimizeOptions {
    /// Convergence: the largest per-atom force norm must fall below this (eV/Å).
    pub fmax: f64,
    /// Largest number of iterations (FIRE or `lbfgs-step` steps, L-BFGS or CG line searches).
    pub max_iterations: u64,
    /// Largest number of force calls, a safety net for line searches.
    pub max_force_calls: u64,
    /// Largest displacement of any atom in one step (Å).
    pub max_step: f64,
    /// Stop as [`Termination::Stalled`] after this many iterations without a new lowest
    /// energy or a new lowest fmax (0: never).
    pub stall_iterations: u64,
    /// FIRE parameters.
    pub fire: FireParams,
    /// Number of (s, y) pairs L-BFGS remembers.
    pub lbfgs_memory: usize,
}

impl Default for MinimizeOptions {
    fn default() -> Self {
        MinimizeOptions {
            fmax: 0.01,
            max_iterations: 10_000,
            max_force_calls: 100_000,
            max_step: 0.2,
            stall_iterations: 200,
            fire: FireParams::default(),
            lbfgs_memory: 10,
        }
    }
}

impl MinimizeOptions {
    /// Checks every option once, before any force call.
    pub fn validate(&self) -> Result<()> {
        if !(self.fmax.is_finite() && self.fmax > 0.0) {
            return Err(Error::invalid(format!(
                "minimize: fmax must be positive, got {}",
                self.fmax
            )));
        }
        if !(self.max_step.is_finite() && self.max_step > 0.0) {
            return Err(Error::invalid(format!(
                "minimize: max_step must be positive, got {}",
                self.max_step
            )));
        }
        if self.max_force_calls == 0 {
            return Err(Error::invalid("minimize: max_force_calls must be at least 1"));
        }
        if self.lbfgs_memory == 0 {
            return Err(Error::invalid("minimize: lbfgs_memory must be at least 1"));
        }
        self.fire.validate()
    }
}

/// Why a minimization stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The largest per-atom force fell below `fmax`.
    Converged,
    /// `max_iterations` iterations were taken.
    MaxIterations,
    /// `max_force_calls` force calls were spent.
    MaxForceCalls,
    /// The energy or a force became infinite or NaN at a trial point.
    EnergyNotFinite,
    /// The force field failed at a trial point for another reason (atoms on top of each other).
    PotentialFailed,
    /// The line search found no lower energy along a descent direction, usually because the
    /// energy no longer changes at machine precision while `fmax` is still too high.
    LineSearchFailed,
    /// Neither the energy nor fmax improved for `stall_iterations` iterations: `fmax` asks for
    /// more than the precision of the forces allows.
    Stalled,
}

/// The outcome of a minimization. The structure holds the final point: the last accepted
/// iterate, where `energy` and `fmax` were evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinimizeResult {
    /// The method used.
    pub method: MinimizerKind,
    /// Energy of the starting point (eV).
    pub energy_initial: f64,
    /// Energy of the final point (eV).
    pub energy: f64,
    /// Largest per-atom force norm at the final point (eV/Å).
    pub fmax: f64,
    /// Energy+force evaluations spent, the first one included.
    pub force_calls: u64,
    /// Iterations taken (FIRE or `lbfgs-step` steps; L-BFGS or CG line searches).
    pub iterations: u64,
    /// Whether `fmax` was reached.
    pub converged: bool,
    /// Why the run stopped.
    pub termination: Termination,
    /// The error behind an abnormal termination, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

/// A minimization method with an fmax stop.
pub trait Minimizer {
    /// Which method this is.
    fn kind(&self) -> MinimizerKind;
    /// Relaxes `s` in place. Errors only if the options are invalid or the starting point
    /// cannot be evaluated; every later failure is a [`Termination`].
    fn minimize(&self, s: &mut Structure, calc: &mut Calculator, opts: &MinimizeOptions) -> Result<MinimizeResult>;
}

/// Relaxes `s` in place with the method `kind` (the entry point of `pelx relax`).
pub fn minimize(
    kind: MinimizerKind,
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
) -> Result<MinimizeResult> {
    let r = kind.minimizer().minimize(s, calc, opts)?;
    tracing::debug!(
        method = %kind,
        energy = r.energy,
        fmax = r.fmax,
        force_calls = r.force_calls,
        termination = ?r.termination,
        "minimization finished"
    );
    Ok(r)
}

/// The atoms a relaxation may move (kinetic-ART style locality, pelx issue 9): the others stay
/// where they are. The set only grows: a frozen atom whose force exceeds a threshold joins.
///
/// A relaxation with an active set uses the threshold `fmax` itself, so that its stopping test
/// is a test on the whole system: when the moving atoms have forces below `fmax`, the frozen
/// ones do too (they would have joined otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveAtoms {
    /// Per atom: may it move?
    active: Vec<bool>,
    /// Number of active atoms.
    count: usize,
    /// Force below which a frozen atom never joins, whatever threshold `grow` is given, eV/Å
    /// (0 by default; see [`ActiveAtoms::set_join_floor`]).
    join_floor: f64,
}

impl ActiveAtoms {
    /// The set holding `atoms` of a system of `n` atoms (indices out of range are ignored).
    pub fn new(n: usize, atoms: impl IntoIterator<Item = usize>) -> Self {
        let mut a = ActiveAtoms {
            active: vec![false; n],
            count: 0,
            join_floor: 0.0,
        };
        for i in atoms {
            a.insert(i);
        }
        a
    }
    /// Adds atom `i`; returns whether it was new.
    pub fn insert(&mut self, i: usize) -> bool {
        match self.active.get_mut(i) {
            Some(x) if !*x => {
                *x = true;
                self.count += 1;
                true
            }
            _ => false,
        }
    }
    /// Whether atom `i` may move.
    pub fn contains(&self, i: usize) -> bool {
        self.active.get(i).copied().unwrap_or(false)
    }
    /// Number of active atoms.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether no atom may move.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Number of atoms of the system.
    pub fn n_atoms(&self) -> usize {
        self.active.len()
    }
    /// Per-atom flags.
    pub fn flags(&self) -> &[bool] {
        &self.active
    }
    /// Sets the force below which frozen atoms never join (eV/Å): a relaxation to a tight
    /// fmax then converges the active atoms to it and leaves frozen atoms below the floor, so
    /// that the set does not spread over the far field of a small strain.
    pub fn set_join_floor(&mut self, floor: f64) {
        self.join_floor = floor.max(0.0);
    }
    /// Adds every frozen atom whose force norm exceeds `threshold` (and the join floor, eV/Å);
    /// returns how many joined.
    pub fn grow(&mut self, forces: &[[f64; 3]], threshold: f64) -> usize {
        let threshold = threshold.max(self.join_floor);
        let t2 = threshold * threshold;
        let mut added = 0;
        for (a, f) in self.active.iter_mut().zip(forces) {
            if !*a && f[0] * f[0] + f[1] * f[1] + f[2] * f[2] > t2 {
                *a = true;
                added += 1;
            }
        }
        self.count += added;
        added
    }
    /// Zeroes the forces of frozen atoms.
    pub fn mask(&self, forces: &mut [[f64; 3]]) {
        for (f, &a) in forces.iter_mut().zip(&self.active) {
            if !a {
                *f = [0.0; 3];
            }
        }
    }
}

/// Relaxes `s` in place moving only the atoms of `active`, which grows to take in every frozen
/// atom whose force exceeds `opts.fmax`; convergence therefore holds for the whole system (see
/// [`ActiveAtoms`]). L-BFGS and CG restart with an empty memory whenever the set grows; FIRE
/// goes on with the new atoms at rest, `lbfgs-step` with its history. Iteration and force-call budgets cover all restarts.
/// The reported `fmax` is that of the active atoms (the frozen ones are below `opts.fmax`, or
/// below the set's join floor when that is higher).
pub fn minimize_active(
    kind: MinimizerKind,
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
    active: &mut ActiveAtoms,
) -> Result<MinimizeResult> {
    if active.n_atoms() != s.len() {
        return Err(Error::invalid(format!(
            "minimize: active set for {} atoms, structure has {}",
            active.n_atoms(),
            s.len()
        )));
    }
    match kind {
        MinimizerKind::Fire => return fire::fire_run(s, calc, opts, Some(active)),
        MinimizerKind::LbfgsStep => return lbfgs_step::lbfgs_step_run(s, calc, opts, Some(active)),
        _ => {}
    }
    let mut left = opts.clone();
    let mut total: Option<MinimizeResult> = None;
    loop {
        let (r, grew) = argmin_backend::run_active(kind, s, calc, &left, active)?;
        let acc = match total.take() {
            None => r,
            Some(t) => MinimizeResult {
                energy_initial: t.energy_initial,
                force_calls: t.force_calls + r.force_calls,
                iterations: t.iterations + r.iterations,
                ..r
            },
        };
        let spent_iter = acc.iterations >= opts.max_iterations;
        let spent_calls = acc.force_calls >= opts.max_force_calls;
        if !grew || spent_iter || spent_calls {
            let mut acc = acc;
            if grew {
                acc.termination = if spent_calls {
                    Termination::MaxForceCalls
                } else {
                    Termination::MaxIterations
                };
                acc.detail = None;
                acc.converged = false;
            }
            return Ok(acc);
        }
        left.max_iterations = opts.max_iterations - acc.iterations;
        left.max_force_calls = opts.max_force_calls - acc.force_calls;
        total = Some(acc);
    }
}

/// What the minimizers written here (FIRE, `lbfgs-step`) share: the first evaluation, the
/// active set's growth after each accepted evaluation, the force-call count and the result.
pub(crate) struct NativeRun {
    calls0: u64,
    energy_initial: f64,
    grow_above: f64,
}

impl NativeRun {
    /// Validates `opts` and evaluates the start into `forces` (grown and masked).
    pub(crate) fn start(
        s: &Structure,
        calc: &mut Calculator,
        opts: &MinimizeOptions,
        active: Option<&mut ActiveAtoms>,
        forces: &mut Vec<[f64; 3]>,
    ) -> Result<Self> {
        opts.validate()?;
        let calls0 = calc.calls();
        let energy_initial = calc.compute(s, forces)?;
        let run = NativeRun {
            calls0,
            energy_initial,
            grow_above: opts.fmax,
        };
        run.admit(active, forces);
        Ok(run)
    }
    /// Frozen atoms whose force exceeds `fmax` join the set; the frozen ones' forces are zeroed.
    pub(crate) fn admit(&self, active: Option<&mut ActiveAtoms>, forces: &mut [[f64; 3]]) {
        if let Some(a) = active {
            a.grow(forces, self.grow_above);
            a.mask(forces);
        }
    }
    /// Energy of the starting point, eV.
    pub(crate) fn energy_initial(&self) -> f64 {
        self.energy_initial
    }
    /// Force calls spent so far.
    pub(crate) fn calls(&self, calc: &Calculator) -> u64 {
        calc.calls() - self.calls0
    }
    /// The result of a run that stopped for `termination` at `energy` and `fmax`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn result(
        &self,
        method: MinimizerKind,
        calc: &Calculator,
        energy: f64,
        fmax: f64,
        iterations: u64,
        termination: Termination,
        detail: Option<String>,
    ) -> MinimizeResult {
        MinimizeResult {
            method,
            energy_initial: self.energy_initial,
            energy,
            fmax,
            force_calls: self.calls(calc),
            iterations,
            converged: termination == Termination::Converged,
            termination,
            detail,
        }
    }
}

/// Watches for a run that no longer improves: no new lowest energy (by more than rounding)
/// and no new lowest fmax for `window` iterations.
#[derive(Debug, Clone)]
pub(crate) struct StallDetector {
    window: u64,
    best_energy: f64,
    best_fmax: f64,
    since: u64,
}

impl StallDetector {
    pub(crate) fn new(window: u64, energy: f64, fmax: f64) -> Self {
        StallDetector {
            window,
            best_energy: energy,
            best_fmax: fmax,
            since: 0,
        }
    }
    /// Records an iterate; returns true once the run has stalled.
    pub(crate) fn stalled(&mut self, energy: f64, fmax: f64) -> bool {
        let noise = ENERGY_NOISE * f64::EPSILON * self.best_energy.abs();
        let mut improved = false;
        if energy < self.best_energy - noise {
            self.best_energy = energy;
            improved = true;
        }
        if fmax < self.best_fmax {
            self.best_fmax = fmax;
            improved = true;
        }
        self.since = if improved { 0 } else { self.since + 1 };
        self.window > 0 && self.since >= self.window
    }
}

/// Energy changes below this many ε·|E| count as rounding.
pub(crate) const ENERGY_NOISE: f64 = 1e3;

/// Largest per-atom norm of a flat 3N vector.
pub(crate) fn fmax_flat(v: &[f64]) -> f64 {
    v.chunks_exact(3)
        .map(|c| c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
        .fold(0.0, f64::max)
        .sqrt()
}

/// The termination a force-field error stands for. The calculator reports non-finite
/// energies and forces as [`Error::Potential`] with "is not finite" in the message.
pub(crate) fn classify_failure(err: &Error) -> Termination {
    match err {
        Error::Potential(msg) if msg.contains("is not finite") => Termination::EnergyNotFinite,
        _ => Termination::PotentialFailed,
    }
}

#[cfg(test)]
mod tests;
