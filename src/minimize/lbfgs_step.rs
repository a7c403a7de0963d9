//! L-BFGS without a line search (Nocedal, Math. Comp. 35, 773 (1980)): the quasi-Newton step is
//! taken as it is, capped per atom (as ASE's `LBFGS` does), and halved only when the energy
//! rises (as pele's `LBFGS` does). Near a minimum it spends one force call per iteration where a Wolfe
//! line search often spends two, and an active set that grows keeps the history (the new atoms'
//! past steps and force changes were zero) instead of restarting it.

use super::{cap_atom_step, LbfgsStepper};
use super::{
    classify_failure, ActiveAtoms, MinimizeOptions, MinimizeResult, Minimizer, MinimizerKind, NativeRun, StallDetector,
    Termination, ENERGY_NOISE,
};
use crate::potential::{fmax, Calculator};
use crate::structure::Structure;
use crate::Result;

/// L-BFGS taking its capped step without a line search (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct LbfgsStep;

/// Curvature of the first step and of the step after a reset, F / k, eV/Å² (ASE's default
/// initial Hessian; a metal's stiffest atomic curvatures are of this order).
const INITIAL_CURVATURE: f64 = 70.0;
/// A step may raise the energy by this much before it is halved, eV (pele's default): smaller
/// rises are the noise of summing energies of thousands of atoms near a minimum.
const MAX_ENERGY_RISE: f64 = 1e-4;
/// Halvings of a step that raises the energy before the history is dropped.
const MAX_HALVINGS: u32 = 6;

impl Minimizer for LbfgsStep {
    fn kind(&self) -> MinimizerKind {
        MinimizerKind::LbfgsStep
    }
    fn minimize(&self, s: &mut Structure, calc: &mut Calculator, opts: &MinimizeOptions) -> Result<MinimizeResult> {
        lbfgs_step_run(s, calc, opts, None)
    }
}

/// The run of [`LbfgsStep`], moving only the atoms of `active` when one is given (frozen atoms
/// whose force exceeds `opts.fmax` join it; the history is kept).
pub(crate) fn lbfgs_step_run(
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
    mut active: Option<&mut ActiveAtoms>,
) -> Result<MinimizeResult> {
    let mut forces = Vec::new();
    let run = NativeRun::start(s, calc, opts, active.as_deref_mut(), &mut forces)?;
    let mut energy = run.energy_initial();
    let mut fm = fmax(&forces);
    let mut stepper = LbfgsStepper::new(opts.lbfgs_memory, 0.0, INITIAL_CURVATURE);
    let mut x0 = s.flat().to_vec();
    let mut f0 = forces.as_flattened().to_vec();
    let mut iterations = 0u64;
    let mut detail = None;
    let mut stall = StallDetector::new(opts.stall_iterations, energy, fm);
    let budget_left = |calc: &Calculator| run.calls(calc) < opts.max_force_calls;
    let termination = 'run: loop {
        if fm < opts.fmax {
            break Termination::Converged;
        }
        if iterations >= opts.max_iterations {
            break Termination::MaxIterations;
        }
        if !budget_left(calc) {
            break Termination::MaxForceCalls;
        }
        let mut d = stepper.direction(&x0, &f0);
        cap_atom_step(&mut d, opts.max_step);
        iterations += 1;
        let mut halvings = 0;
        let mut restarted = false;
        loop {
            s.flat_mut()
                .iter_mut()
                .zip(x0.iter().zip(&d))
                .for_each(|(x, (a, b))| *x = a + b);
            let e = match calc.compute(s, &mut forces) {
                Ok(e) => e,
                Err(err) => {
                    s.flat_mut().copy_from_slice(&x0);
                    detail = Some(err.to_string());
                    break 'run classify_failure(&err);
                }
            };
            let noise = ENERGY_NOISE * f64::EPSILON * energy.abs();
            if e <= energy + MAX_ENERGY_RISE.max(noise) {
                energy = e;
                break;
            }
            if !budget_left(calc) {
                s.flat_mut().copy_from_slice(&x0);
                break 'run Termination::MaxForceCalls;
            }
            halvings += 1;
            if halvings <= MAX_HALVINGS {
                d.iter_mut().for_each(|v| *v *= 0.5);
            } else if !restarted {
                // The history points nowhere useful: start again along the force.
                stepper.reset();
                d = stepper.direction(&x0, &f0);
                cap_atom_step(&mut d, opts.max_step);
                halvings = 0;
                restarted = true;
            } else {
                s.flat_mut().copy_from_slice(&x0);
                break 'run Termination::LineSearchFailed;
            }
        }
        run.admit(active.as_deref_mut(), &mut forces);
        fm = fmax(&forces);
        x0.copy_from_slice(s.flat());
        f0.copy_from_slice(forces.as_flattened());
        if fm >= opts.fmax && stall.stalled(energy, fm) {
            break Termination::Stalled;
        }
    };
    // The structure holds the last accepted iterate.
    s.flat_mut().copy_from_slice(&x0);
    Ok(run.result(
        MinimizerKind::LbfgsStep,
        calc,
        energy,
        fm,
        iterations,
        termination,
        detail,
    ))
}
