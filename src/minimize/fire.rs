//! FIRE, the fast inertial relaxation engine (Bitzek, Koskinen, Gähler, Moseler, Gumbsch,
//! Phys. Rev. Lett. 97, 170201 (2006)).
//!
//! Damped molecular dynamics with unit masses: each step mixes the velocity towards the force,
//! v ← (1 - α) v + α |v| F̂, as long as the power P = F·v is positive, growing the time step
//! and shrinking α after N_min such steps; when P ≤ 0 it stops (v = 0), halves the time step
//! and resets α. [`FireState`] is the steppable core on flat 3N vectors, which ART interleaves
//! with its pushes and NEB applies to a whole band; [`Fire`] drives it on a structure.

use super::{
    classify_failure, ActiveAtoms, MinimizeOptions, MinimizeResult, Minimizer, MinimizerKind, NativeRun, StallDetector,
    Termination,
};
use crate::potential::{fmax, Calculator};
use crate::structure::Structure;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// FIRE parameters. Time is in units of Å·(eV/Å)^(-1/2)·amu^(1/2) with unit masses, that is the
/// integrator advances x by dt² F (Å) from rest; the defaults are those of Bitzek et al. with
/// the time steps of ASE.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FireParams {
    /// Initial time step.
    pub dt: f64,
    /// Largest time step.
    pub dt_max: f64,
    /// Number of steps with P > 0 before the time step may grow (N_min).
    pub n_min: u32,
    /// Time-step growth factor (f_inc).
    pub f_inc: f64,
    /// Time-step shrink factor when P ≤ 0 (f_dec).
    pub f_dec: f64,
    /// Initial mixing parameter (α_start).
    pub alpha_start: f64,
    /// Mixing decay factor (f_α).
    pub f_alpha: f64,
}

impl Default for FireParams {
    fn default() -> Self {
        FireParams {
            dt: 0.1,
            dt_max: 1.0,
            n_min: 5,
            f_inc: 1.1,
            f_dec: 0.5,
            alpha_start: 0.1,
            f_alpha: 0.99,
        }
    }
}

impl FireParams {
    /// Checks that the parameters define a working FIRE.
    pub fn validate(&self) -> Result<()> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !(pos(self.dt) && pos(self.dt_max) && self.dt <= self.dt_max) {
            return Err(Error::invalid(format!(
                "FIRE: need 0 < dt <= dt_max, got dt = {} and dt_max = {}",
                self.dt, self.dt_max
            )));
        }
        if !(self.f_inc >= 1.0 && self.f_inc.is_finite()) {
            return Err(Error::invalid(format!(
                "FIRE: f_inc must be at least 1, got {}",
                self.f_inc
            )));
        }
        if !(self.f_dec > 0.0 && self.f_dec < 1.0) {
            return Err(Error::invalid(format!(
                "FIRE: f_dec must lie in (0, 1), got {}",
                self.f_dec
            )));
        }
        if !(self.alpha_start > 0.0 && self.alpha_start < 1.0) {
            return Err(Error::invalid(format!(
                "FIRE: alpha_start must lie in (0, 1), got {}",
                self.alpha_start
            )));
        }
        if !(self.f_alpha > 0.0 && self.f_alpha <= 1.0) {
            return Err(Error::invalid(format!(
                "FIRE: f_alpha must lie in (0, 1], got {}",
                self.f_alpha
            )));
        }
        Ok(())
    }
}

/// The state of a FIRE relaxation on a flat vector of 3N coordinates: velocities, time step,
/// mixing parameter and the count of steps since the power was last non-positive.
#[derive(Debug, Clone)]
pub struct FireState {
    params: FireParams,
    max_step: f64,
    v: Vec<f64>,
    dt: f64,
    alpha: f64,
    n_positive: u32,
    started: bool,
}

impl FireState {
    /// A FIRE state at rest for `n_coords` coordinates (a multiple of 3), with steps capped so
    /// that no atom moves more than `max_step` Å at once.
    pub fn new(n_coords: usize, params: FireParams, max_step: f64) -> Self {
        debug_assert_eq!(n_coords % 3, 0, "FIRE works on whole atoms");
        FireState {
            params,
            max_step,
            v: vec![0.0; n_coords],
            dt: params.dt,
            alpha: params.alpha_start,
            n_positive: 0,
            started: false,
        }
    }

    /// Back to rest: zero velocities, the initial time step and mixing parameter (after an
    /// external move such as an ART push).
    pub fn reset(&mut self) {
        self.v.iter_mut().for_each(|v| *v = 0.0);
        self.dt = self.params.dt;
        self.alpha = self.params.alpha_start;
        self.n_positive = 0;
        self.started = false;
    }

    /// Zeroes the velocities only, keeping the time step and α.
    pub fn stop(&mut self) {
        self.v.iter_mut().for_each(|v| *v = 0.0);
    }

    /// Zeroes the velocities of the coordinates in `range` only: that part of the system
    /// stays where it is at the next step if its forces are zero too (a converged NEB image
    /// held still while the rest of the band moves).
    pub fn stop_part(&mut self, range: std::ops::Range<usize>) {
        self.v[range].iter_mut().for_each(|v| *v = 0.0);
    }

    /// The current time step.
    pub fn dt(&self) -> f64 {
        self.dt
    }
    /// The current mixing parameter α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// The velocities (flat, 3N).
    pub fn velocities(&self) -> &[f64] {
        &self.v
    }

    /// One FIRE step: given the forces `f` at the positions `x` (both flat, 3N), updates the
    /// velocities and moves `x`. Returns the largest per-atom displacement (Å).
    pub fn step(&mut self, x: &mut [f64], f: &[f64]) -> f64 {
        assert_eq!(x.len(), self.v.len(), "FIRE: positions and state differ in length");
        assert_eq!(f.len(), self.v.len(), "FIRE: forces and state differ in length");
        let p = self.params;
        let power: f64 = f.iter().zip(&self.v).map(|(a, b)| a * b).sum();
        if power > 0.0 {
            let vnorm = self.v.iter().map(|v| v * v).sum::<f64>().sqrt();
            let fnorm = f.iter().map(|v| v * v).sum::<f64>().sqrt();
            if fnorm > 0.0 {
                let a = self.alpha;
                for (v, fi) in self.v.iter_mut().zip(f) {
                    *v = (1.0 - a) * *v + a * vnorm * fi / fnorm;
                }
            }
            if self.n_positive > p.n_min {
                self.dt = (self.dt * p.f_inc).min(p.dt_max);
                self.alpha *= p.f_alpha;
            }
            self.n_positive += 1;
        } else if self.started {
            // Uphill: stop, take smaller steps and mix strongly again. (At the very first step
            // the system is at rest, P = 0, and nothing needs resetting.)
            self.v.iter_mut().for_each(|v| *v = 0.0);
            self.dt *= p.f_dec;
            self.alpha = p.alpha_start;
            self.n_positive = 0;
        }
        self.started = true;
        // Semi-implicit Euler with unit masses, the displacement capped per atom.
        let dt = self.dt;
        for (v, fi) in self.v.iter_mut().zip(f) {
            *v += dt * fi;
        }
        let longest = self
            .v
            .chunks_exact(3)
            .map(|v| dt * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
            .fold(0.0, f64::max);
        let scale = if longest > self.max_step {
            self.max_step / longest
        } else {
            1.0
        };
        for (xi, v) in x.iter_mut().zip(&self.v) {
            *xi += scale * dt * v;
        }
        longest * scale
    }
}

/// FIRE on a structure (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fire;

impl Minimizer for Fire {
    fn kind(&self) -> MinimizerKind {
        MinimizerKind::Fire
    }

    fn minimize(&self, s: &mut Structure, calc: &mut Calculator, opts: &MinimizeOptions) -> Result<MinimizeResult> {
        fire_run(s, calc, opts, None)
    }
}

/// FIRE, optionally moving only an [`ActiveAtoms`] set (frozen atoms keep zero velocity; an
/// atom that joins starts at rest, the rest of the state is kept).
pub(crate) fn fire_run(
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
    mut active: Option<&mut ActiveAtoms>,
) -> Result<MinimizeResult> {
    let mut forces = Vec::new();
    let run = NativeRun::start(s, calc, opts, active.as_deref_mut(), &mut forces)?;
    let mut energy = run.energy_initial();
    let mut fm = fmax(&forces);
    let mut state = FireState::new(3 * s.len(), opts.fire, opts.max_step);
    let mut previous = s.positions.clone();
    let mut iterations = 0u64;
    let mut detail = None;
    let mut stall = StallDetector::new(opts.stall_iterations, energy, fm);
    let termination = loop {
        if fm < opts.fmax {
            break Termination::Converged;
        }
        if iterations >= opts.max_iterations {
            break Termination::MaxIterations;
        }
        if run.calls(calc) >= opts.max_force_calls {
            break Termination::MaxForceCalls;
        }
        previous.copy_from_slice(&s.positions);
        state.step(s.flat_mut(), forces.as_flattened());
        iterations += 1;
        match calc.compute(s, &mut forces) {
            Ok(e) => {
                energy = e;
                run.admit(active.as_deref_mut(), &mut forces);
                fm = fmax(&forces);
                if fm >= opts.fmax && stall.stalled(energy, fm) {
                    break Termination::Stalled;
                }
            }
            Err(err) => {
                // Back to the last point where the field could be evaluated.
                s.positions.copy_from_slice(&previous);
                detail = Some(err.to_string());
                break classify_failure(&err);
            }
        }
    };
    Ok(run.result(MinimizerKind::Fire, calc, energy, fm, iterations, termination, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_from_rest_is_plain_euler_and_the_cap_is_per_atom() {
        let mut st = FireState::new(6, FireParams::default(), 0.2);
        let mut x = vec![0.0; 6];
        // Atom 1 feels 1 eV/Å along x, atom 2 nothing: dx = dt² F = 0.01 Å.
        let d = st.step(&mut x, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((x[0] - 0.01).abs() < 1e-15 && x[1..].iter().all(|&v| v == 0.0));
        assert!((d - 0.01).abs() < 1e-15 && st.dt() == 0.1);
        // A huge force: atom 2 is moved by exactly max_step, atom 1 proportionally less.
        let mut st = FireState::new(6, FireParams::default(), 0.2);
        let mut x = vec![0.0; 6];
        let d = st.step(&mut x, &[0.0, 300.0, 0.0, 0.0, 0.0, 400.0]);
        assert!((d - 0.2).abs() < 1e-15);
        assert!((x[5] - 0.2).abs() < 1e-15 && (x[1] - 0.15).abs() < 1e-15, "{x:?}");
    }

    #[test]
    fn time_step_grows_after_n_min_downhill_steps_and_halves_uphill() {
        let p = FireParams::default();
        let mut st = FireState::new(3, p, 10.0);
        let mut x = vec![0.0; 3];
        let f = [1e-3, 0.0, 0.0];
        // Step 1 starts from rest; steps 2..=7 have P > 0 and counts 0..=5; the time step first
        // grows at step 8, when more than N_min = 5 positive steps precede it.
        for _ in 0..7 {
            st.step(&mut x, &f);
        }
        assert_eq!(st.dt(), p.dt);
        st.step(&mut x, &f);
        assert!((st.dt() - p.dt * p.f_inc).abs() < 1e-15);
        assert!((st.alpha() - p.alpha_start * p.f_alpha).abs() < 1e-15);
        // Force reversed: P < 0, so the state stops, halves dt and resets α.
        let dt = st.dt();
        st.step(&mut x, &[-1e-3, 0.0, 0.0]);
        assert!((st.dt() - dt * p.f_dec).abs() < 1e-15 && st.alpha() == p.alpha_start);
        // The velocity after the reset is just dt·F from rest.
        assert!((st.velocities()[0] + st.dt() * 1e-3).abs() < 1e-18);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let bad = FireParams {
            dt: 2.0,
            ..FireParams::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("dt <= dt_max"));
        let bad = FireParams {
            f_dec: 1.5,
            ..FireParams::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("f_dec"));
        assert!(FireParams::default().validate().is_ok());
    }
}
