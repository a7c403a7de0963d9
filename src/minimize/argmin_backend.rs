//! L-BFGS and nonlinear CG from argmin, adapted to atoms.
//!
//! - [`AtomsProblem`] implements argmin's `CostFunction` and `Gradient` for a structure and a
//!   calculator. Both are served from one force call through a one-entry cache, so a line
//!   search trial costs one force call, not two.
//! - [`CappedLineSearch`] wraps More-Thuente: it bounds the step so that no atom moves more
//!   than `max_step`, falls back to steepest descent if handed an ascent direction, and picks
//!   the first trial step (1 for L-BFGS; for CG the previous step scaled by the change of the
//!   directional derivative, Nocedal & Wright eq. 3.60).
//! - [`FmaxSolver`] wraps the argmin solver: it stops on the largest per-atom force, restarts
//!   the inner solver (dropping L-BFGS memory or the CG direction) when the line search had to
//!   fall back or L-BFGS met negative curvature, and turns argmin errors into terminations.

use super::{
    classify_failure, fmax_flat, ActiveAtoms, MinimizeOptions, MinimizeResult, Minimizer, MinimizerKind, StallDetector,
    Termination, ENERGY_NOISE,
};
use crate::potential::Calculator;
use crate::structure::Structure;
use crate::Result;
use argmin::core::{
    CostFunction, Error as ArgminError, Executor, Gradient, IterState, LineSearch, Problem, Solver, State,
    TerminationReason, TerminationStatus, KV,
};
use argmin::solver::conjugategradient::{beta::PolakRibierePlus, NonlinearConjugateGradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

type Vector = Vec<f64>;
type AtomsState = IterState<Vector, Vector, (), (), (), f64>;

/// L-BFGS with a More-Thuente line search (argmin), stopping on fmax.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lbfgs;

/// Nonlinear conjugate gradients, Polak-Ribière+ with Powell restarts and a More-Thuente line
/// search (argmin), stopping on fmax.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConjugateGradient;

/// Wolfe constants (c1, c2): the usual choices of Nocedal & Wright for quasi-Newton methods
/// and for nonlinear CG, which needs a more exact line search.
const WOLFE_LBFGS: (f64, f64) = (1e-4, 0.9);
const WOLFE_CG: (f64, f64) = (1e-4, 0.1);
/// Powell's restart test for CG: restart when |g_k·g_(k-1)| ≥ ν |g_k|² (N&W eq. 5.52).
const POWELL_NU: f64 = 0.1;

impl Minimizer for Lbfgs {
    fn kind(&self) -> MinimizerKind {
        MinimizerKind::Lbfgs
    }
    fn minimize(&self, s: &mut Structure, calc: &mut Calculator, opts: &MinimizeOptions) -> Result<MinimizeResult> {
        opts.validate()?;
        let fallback = Rc::new(Cell::new(false));
        let ls = CappedLineSearch::new(WOLFE_LBFGS, opts.max_step, InitialStep::Unit, fallback.clone());
        let solver = LBFGS::new(ls, opts.lbfgs_memory);
        run(MinimizerKind::Lbfgs, solver, true, fallback, s, calc, opts, None).map(|r| r.0)
    }
}

impl Minimizer for ConjugateGradient {
    fn kind(&self) -> MinimizerKind {
        MinimizerKind::Cg
    }
    fn minimize(&self, s: &mut Structure, calc: &mut Calculator, opts: &MinimizeOptions) -> Result<MinimizeResult> {
        opts.validate()?;
        let fallback = Rc::new(Cell::new(false));
        let ls = CappedLineSearch::new(WOLFE_CG, opts.max_step, InitialStep::Previous, fallback.clone());
        let solver = NonlinearConjugateGradient::new(ls, PolakRibierePlus::new()).restart_orthogonality(POWELL_NU);
        run(MinimizerKind::Cg, solver, false, fallback, s, calc, opts, None).map(|r| r.0)
    }
}

/// One L-BFGS or CG run moving only the atoms of `active`. It stops (returning true) as soon as
/// a frozen atom's force exceeds `opts.fmax` and the atom joins the set: the caller restarts
/// it from the returned point with an empty L-BFGS memory, since the search space changed.
pub(crate) fn run_active(
    kind: MinimizerKind,
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
    active: &mut ActiveAtoms,
) -> Result<(MinimizeResult, bool)> {
    opts.validate()?;
    let fallback = Rc::new(Cell::new(false));
    match kind {
        MinimizerKind::Cg => {
            let ls = CappedLineSearch::new(WOLFE_CG, opts.max_step, InitialStep::Previous, fallback.clone());
            let solver = NonlinearConjugateGradient::new(ls, PolakRibierePlus::new()).restart_orthogonality(POWELL_NU);
            run(kind, solver, false, fallback, s, calc, opts, Some(active))
        }
        _ => {
            let ls = CappedLineSearch::new(WOLFE_LBFGS, opts.max_step, InitialStep::Unit, fallback.clone());
            let solver = LBFGS::new(ls, opts.lbfgs_memory);
            run(
                MinimizerKind::Lbfgs,
                solver,
                true,
                fallback,
                s,
                calc,
                opts,
                Some(active),
            )
        }
    }
}

/// What the problem shares with the driver: the calculator, a working copy of the structure,
/// the one-entry cache and the reason of a failed evaluation.
struct Evaluator<'a> {
    calc: &'a mut Calculator,
    s: Structure,
    forces: Vec<[f64; 3]>,
    /// (x, energy, gradient) of the last evaluation.
    cache: Option<(Vector, f64, Vector)>,
    calls0: u64,
    max_calls: u64,
    failure: Option<(Termination, String)>,
    /// The atoms that may move (None: all); the gradient of the others is zero.
    active: Option<&'a mut ActiveAtoms>,
    /// Frozen atoms whose force exceeds this join the active set, eV/Å.
    grow_above: f64,
    /// Set when the active set grew: the run stops at the last accepted iterate.
    grew: bool,
}

impl Evaluator<'_> {
    fn evaluate(&mut self, x: &[f64]) -> std::result::Result<(f64, Vector), ArgminError> {
        if let Some((cx, e, g)) = &self.cache {
            if cx.as_slice() == x {
                return Ok((*e, g.clone()));
            }
        }
        if self.calc.calls() - self.calls0 >= self.max_calls {
            let msg = format!("{} force calls spent", self.max_calls);
            self.failure = Some((Termination::MaxForceCalls, msg.clone()));
            return Err(ArgminError::msg(msg));
        }
        self.s.flat_mut().copy_from_slice(x);
        match self.calc.compute(&self.s, &mut self.forces) {
            Ok(e) => {
                if let Some(a) = self.active.as_deref_mut() {
                    if a.grow(&self.forces, self.grow_above) > 0 {
                        self.grew = true;
                        self.cache = None;
                        return Err(ArgminError::msg("the active set grew"));
                    }
                    a.mask(&mut self.forces);
                }
                let g: Vector = self.forces.as_flattened().iter().map(|f| -f).collect();
                self.cache = Some((x.to_vec(), e, g.clone()));
                Ok((e, g))
            }
            Err(err) => {
                let msg = err.to_string();
                self.failure = Some((classify_failure(&err), msg.clone()));
                Err(ArgminError::msg(msg))
            }
        }
    }
}

/// A structure and a calculator seen by argmin: parameters are the flat 3N positions (Å), the
/// cost is the energy (eV), the gradient minus the forces (eV/Å).
pub(crate) struct AtomsProblem<'r, 'a> {
    eval: &'r RefCell<Evaluator<'a>>,
}

impl CostFunction for AtomsProblem<'_, '_> {
    type Param = Vector;
    type Output = f64;
    fn cost(&self, x: &Vector) -> std::result::Result<f64, ArgminError> {
        self.eval.borrow_mut().evaluate(x).map(|(e, _)| e)
    }
}

impl Gradient for AtomsProblem<'_, '_> {
    type Param = Vector;
    type Gradient = Vector;
    fn gradient(&self, x: &Vector) -> std::result::Result<Vector, ArgminError> {
        self.eval.borrow_mut().evaluate(x).map(|(_, g)| g)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// How the first trial step of a line search is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
enum InitialStep {
    /// α = 1, natural for quasi-Newton directions.
    Unit,
    /// α = α_prev (g_prev·p_prev)/(g·p), Nocedal & Wright eq. 3.60 (for CG).
    Previous,
}

/// More-Thuente with a per-atom step cap, a steepest-descent fallback and a choice of first
/// trial step (see the module documentation).
#[derive(Clone)]
pub(crate) struct CappedLineSearch {
    inner: MoreThuenteLineSearch<Vector, Vector, f64>,
    wolfe: (f64, f64),
    max_step: f64,
    initial: InitialStep,
    direction: Option<Vector>,
    start: Option<Vector>,
    /// Shared by every clone: set when the fallback to steepest descent was used.
    fallback: Rc<Cell<bool>>,
    /// Shared by every clone: (accepted step α, directional derivative g·p) of the last search.
    previous: Rc<Cell<Option<(f64, f64)>>>,
    dginit: f64,
    /// Energy at the start of this search when it runs on the derivative model (see
    /// [`DerivativeModel`]), `None` when it uses true energies.
    model_f0: Option<f64>,
}

impl CappedLineSearch {
    fn new(wolfe: (f64, f64), max_step: f64, initial: InitialStep, fallback: Rc<Cell<bool>>) -> Self {
        CappedLineSearch {
            inner: MoreThuenteLineSearch::new(),
            wolfe,
            max_step,
            initial,
            direction: None,
            start: None,
            fallback,
            previous: Rc::new(Cell::new(None)),
            dginit: 0.0,
            model_f0: None,
        }
    }
}

impl LineSearch<Vector, f64> for CappedLineSearch {
    fn search_direction(&mut self, direction: Vector) {
        self.direction = Some(direction);
    }
    fn initial_step_length(&mut self, alpha: f64) -> std::result::Result<(), ArgminError> {
        self.inner.initial_step_length(alpha)
    }
}

impl<O> Solver<O, AtomsState> for CappedLineSearch
where
    O: CostFunction<Param = Vector, Output = f64> + Gradient<Param = Vector, Gradient = Vector>,
{
    fn name(&self) -> &str {
        "More-Thuente with a per-atom step cap"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        mut state: AtomsState,
    ) -> std::result::Result<(AtomsState, Option<KV>), ArgminError> {
        let x = state
            .get_param()
            .ok_or_else(|| ArgminError::msg("line search without a starting point"))?
            .clone();
        let g = match state.take_gradient() {
            Some(g) => g,
            None => problem.gradient(&x)?,
        };
        let mut d = self
            .direction
            .take()
            .ok_or_else(|| ArgminError::msg("line search without a direction"))?;
        let mut dg = dot(&g, &d);
        let descent = dg < 0.0; // false for NaN too
        if !descent {
            d = g.iter().map(|v| -v).collect();
            dg = -dot(&g, &g);
            self.fallback.set(true);
        }
        let longest = fmax_flat(&d);
        if !(longest > 0.0 && longest.is_finite()) {
            return Err(ArgminError::msg("line search along a zero or non-finite direction"));
        }
        let alpha_max = self.max_step / longest;
        let alpha0 = match (self.initial, self.previous.get()) {
            (InitialStep::Previous, Some((a, dg_prev))) => a * dg_prev / dg,
            _ => 1.0,
        };
        let alpha0 = if alpha0.is_finite() && alpha0 > 0.0 {
            alpha0.min(alpha_max)
        } else {
            alpha_max
        };
        let mut inner = MoreThuenteLineSearch::new()
            .with_c(self.wolfe.0, self.wolfe.1)?
            .with_bounds(alpha_max * 1e-12, alpha_max)?;
        inner.initial_step_length(alpha0)?;
        inner.search_direction(d.clone());
        self.inner = inner;
        self.dginit = dg;
        let f0 = state.get_cost();
        self.model_f0 = (alpha0 * dg.abs() < MODEL_SWITCH * f0.abs()).then_some(f0);
        self.start = Some(x);
        self.direction = Some(d);
        self.inner.init(problem, state.gradient(g))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: AtomsState,
    ) -> std::result::Result<(AtomsState, Option<KV>), ArgminError> {
        let (state, kv) = match (self.model_f0, &self.start, &self.direction) {
            (Some(f0), Some(x0), Some(d)) => {
                let o = problem
                    .take_problem()
                    .ok_or_else(|| ArgminError::msg("line search without a problem"))?;
                let result = {
                    let mut model = Problem::new(DerivativeModel {
                        problem: &o,
                        x0,
                        d,
                        dd: dot(d, d),
                        f0,
                        dg0: self.dginit,
                    });
                    self.inner.next_iter(&mut model, state)
                };
                problem.problem = Some(o);
                result?
            }
            _ => self.inner.next_iter(problem, state)?,
        };
        if state.terminated() {
            if let (Some(x), Some(x0), Some(d)) = (state.get_param(), &self.start, &self.direction) {
                let dx: Vector = x.iter().zip(x0).map(|(a, b)| a - b).collect();
                let alpha = dot(&dx, d) / dot(d, d);
                self.previous.set(Some((alpha, self.dginit)));
            }
        }
        Ok((state, kv))
    }
}

/// Below this relative size of the predicted energy change, a line search runs on the
/// derivative model instead of energies, whose differences have lost most of their digits.
const MODEL_SWITCH: f64 = 1e-8;

/// The energy along a line as the line search sees it near a minimum, where energy
/// differences drown in rounding: φ(α) = φ(0) + α (φ'(0) + φ'(α)) / 2, the trapezoid integral
/// of the directional derivative (exact for a quadratic). The forces keep full relative
/// precision where energy differences do not (the idea behind the approximate Wolfe
/// conditions of Hager & Zhang, SIAM J. Optim. 16, 170 (2005)).
struct DerivativeModel<'p, O> {
    problem: &'p O,
    x0: &'p [f64],
    d: &'p [f64],
    dd: f64,
    f0: f64,
    dg0: f64,
}

impl<O> CostFunction for DerivativeModel<'_, O>
where
    O: Gradient<Param = Vector, Gradient = Vector>,
{
    type Param = Vector;
    type Output = f64;
    fn cost(&self, x: &Vector) -> std::result::Result<f64, ArgminError> {
        let g = self.problem.gradient(x)?;
        let alpha = x
            .iter()
            .zip(self.x0)
            .zip(self.d)
            .map(|((a, b), c)| (a - b) * c)
            .sum::<f64>()
            / self.dd;
        Ok(self.f0 + 0.5 * alpha * (self.dg0 + dot(&g, self.d)))
    }
}

impl<O> Gradient for DerivativeModel<'_, O>
where
    O: Gradient<Param = Vector, Gradient = Vector>,
{
    type Param = Vector;
    type Gradient = Vector;
    fn gradient(&self, x: &Vector) -> std::result::Result<Vector, ArgminError> {
        self.problem.gradient(x)
    }
}

/// Wraps an argmin solver (L-BFGS or CG) for atoms. After every inner iteration it
/// - replaces the energy the line search reported (possibly a [`DerivativeModel`] value) by
///   the true one, from the cache;
/// - rejects a step that raised the energy beyond rounding, and restarts the inner solver
///   from a fresh copy (empty L-BFGS memory, CG direction -g) after such a step, after a
///   steepest-descent fallback of the line search, and, for L-BFGS, after a step with
///   s·y ≤ 0; two failed steps in a row end the run;
/// - stops on fmax (in `terminate`) or when the run stalls;
/// - turns every argmin error into a terminated state at the last accepted iterate.
#[derive(Clone)]
struct FmaxSolver<S> {
    inner: S,
    fresh: S,
    fmax: f64,
    /// Restart L-BFGS when a step shows s·y ≤ 0 (its update would lose positive definiteness).
    restart_on_negative_curvature: bool,
    fallback: Rc<Cell<bool>>,
    /// The iteration at which the inner solver was last restarted.
    offset: u64,
    /// The last accepted iterate: (x, energy, gradient).
    last: Option<(Vector, f64, Vector)>,
    accepted: u64,
    /// Whether the last iteration restarted the inner solver.
    just_restarted: bool,
    /// Set when an iteration failed; the message of the argmin error.
    error: Option<String>,
    stall: Option<StallDetector>,
    stall_window: u64,
    stalled: bool,
}

impl<S: Clone> FmaxSolver<S> {
    /// A terminated state at the last accepted iterate.
    fn give_up(&mut self, msg: String) -> AtomsState {
        self.error = Some(msg.clone());
        let mut st = AtomsState::new();
        if let Some((x, e, g)) = &self.last {
            st = st.param(x.clone()).cost(*e).gradient(g.clone());
        }
        st.terminate_with(TerminationReason::SolverExit(msg))
    }

    /// One iteration of the inner solver with the bookkeeping described on [`FmaxSolver`].
    fn step<'r, 'a>(
        &mut self,
        problem: &mut Problem<AtomsProblem<'r, 'a>>,
        mut state: AtomsState,
    ) -> std::result::Result<(AtomsState, Option<KV>), ArgminError>
    where
        S: Solver<AtomsProblem<'r, 'a>, AtomsState>,
    {
        let iter = state.get_iter();
        state.iter = iter - self.offset;
        self.fallback.set(false);
        let (mut state, kv) = self.inner.next_iter(problem, state)?;
        state.iter = iter;
        let (Some(x), Some(g)) = (state.get_param(), state.get_gradient()) else {
            // The inner solver gave up (an L-BFGS line search that failed).
            let msg = match state.get_termination_status() {
                TerminationStatus::Terminated(TerminationReason::SolverExit(msg)) => msg.clone(),
                _ => "the solver returned no iterate".to_string(),
            };
            return Ok((self.give_up(msg), kv));
        };
        // The line search may report a model energy: use the true one (a cache hit).
        let p = problem
            .problem
            .as_ref()
            .ok_or_else(|| ArgminError::msg("the problem was not returned"))?;
        let energy = p.cost(x)?;
        let (x0, e0, g0) = self.last.as_ref().expect("set by init");
        let moved = x.iter().zip(x0).any(|(a, b)| a != b);
        let progress = moved && energy <= e0 + ENERGY_NOISE * f64::EPSILON * e0.abs();
        if !progress && self.just_restarted {
            let msg = "the line search found no lower energy, even along steepest descent".to_string();
            return Ok((self.give_up(msg), kv));
        }
        let sy: f64 = x
            .iter()
            .zip(x0)
            .zip(g.iter().zip(g0))
            .map(|((a, b), (c, d))| (a - b) * (c - d))
            .sum();
        let positive_curvature = sy > 0.0; // false for NaN too
        let restart = !progress || self.fallback.get() || (self.restart_on_negative_curvature && !positive_curvature);
        if progress {
            self.accepted += 1;
            self.last = Some((x.clone(), energy, g.clone()));
        }
        let (_, e_last, g_last) = self.last.as_ref().expect("set by init");
        let fm = fmax_flat(g_last);
        if fm >= self.fmax && self.stall.as_mut().is_some_and(|d| d.stalled(*e_last, fm)) {
            self.stalled = true;
            let msg = format!("no improvement in {} iterations", self.stall_window);
            return Ok((self.give_up(msg), kv));
        }
        // Continue from the last accepted iterate (the new one, unless the step went uphill).
        let (x, e, g) = self.last.clone().expect("set by init");
        state = state.param(x).cost(e).gradient(g);
        self.just_restarted = restart;
        if restart {
            self.inner = self.fresh.clone();
            self.offset = iter + 1;
            let (st, _) = self.inner.init(problem, state)?;
            state = st;
        }
        Ok((state, kv))
    }
}

impl<'r, 'a, S> Solver<AtomsProblem<'r, 'a>, AtomsState> for FmaxSolver<S>
where
    S: Solver<AtomsProblem<'r, 'a>, AtomsState> + Clone,
{
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn init(
        &mut self,
        problem: &mut Problem<AtomsProblem<'r, 'a>>,
        state: AtomsState,
    ) -> std::result::Result<(AtomsState, Option<KV>), ArgminError> {
        let (state, kv) = self.inner.init(problem, state)?;
        if let (Some(x), Some(g)) = (state.get_param(), state.get_gradient()) {
            self.last = Some((x.clone(), state.get_cost(), g.clone()));
            self.stall = Some(StallDetector::new(self.stall_window, state.get_cost(), fmax_flat(g)));
        }
        Ok((state, kv))
    }

    /// Never fails: an argmin error ends the run at the last accepted iterate.
    fn next_iter(
        &mut self,
        problem: &mut Problem<AtomsProblem<'r, 'a>>,
        state: AtomsState,
    ) -> std::result::Result<(AtomsState, Option<KV>), ArgminError> {
        match self.step(problem, state) {
            Ok(r) => Ok(r),
            Err(e) => Ok((self.give_up(e.to_string()), None)),
        }
    }

    fn terminate(&mut self, state: &AtomsState) -> TerminationStatus {
        match state.get_gradient() {
            Some(g) if fmax_flat(g) < self.fmax => TerminationStatus::Terminated(TerminationReason::SolverConverged),
            _ => TerminationStatus::NotTerminated,
        }
    }
}

/// Runs `solver` wrapped in [`FmaxSolver`] on `s` and reads back the last accepted iterate;
/// with `active`, moves only those atoms and also says whether the set grew (see
/// [`run_active`]).
#[allow(clippy::too_many_arguments)]
fn run<S>(
    method: MinimizerKind,
    solver: S,
    restart_on_negative_curvature: bool,
    fallback: Rc<Cell<bool>>,
    s: &mut Structure,
    calc: &mut Calculator,
    opts: &MinimizeOptions,
    mut active: Option<&mut ActiveAtoms>,
) -> Result<(MinimizeResult, bool)>
where
    S: for<'r, 'a> Solver<AtomsProblem<'r, 'a>, AtomsState> + Clone,
{
    let calls0 = calc.calls();
    // The starting point: an error here is the caller's (species, overlapping atoms).
    let mut forces = Vec::new();
    let energy_initial = calc.compute(s, &mut forces)?;
    if let Some(a) = active.as_deref_mut() {
        a.grow(&forces, opts.fmax);
        a.mask(&mut forces);
    }
    let x0 = s.flat().to_vec();
    let g0: Vector = forces.as_flattened().iter().map(|f| -f).collect();
    let eval = RefCell::new(Evaluator {
        calc,
        s: s.clone(),
        forces: Vec::new(),
        cache: Some((x0.clone(), energy_initial, g0.clone())),
        calls0,
        max_calls: opts.max_force_calls,
        failure: None,
        active,
        grow_above: opts.fmax,
        grew: false,
    });
    let wrapped = FmaxSolver {
        fresh: solver.clone(),
        inner: solver,
        fmax: opts.fmax,
        restart_on_negative_curvature,
        fallback,
        offset: 0,
        last: None,
        accepted: 0,
        just_restarted: false,
        error: None,
        stall: None,
        stall_window: opts.stall_iterations,
        stalled: false,
    };
    let outcome = Executor::new(AtomsProblem { eval: &eval }, wrapped)
        .configure(|st| {
            st.param(x0.clone())
                .cost(energy_initial)
                .gradient(g0.clone())
                .max_iters(opts.max_iterations)
        })
        .ctrlc(false)
        .run();
    let (x, energy, g, iterations, reason, error, stalled) = match outcome {
        Ok(res) => {
            let w = res.solver;
            let (x, e, g) = w.last.unwrap_or((x0, energy_initial, g0));
            let reason = match res.state.get_termination_status() {
                TerminationStatus::Terminated(r) => Some(r.clone()),
                TerminationStatus::NotTerminated => None,
            };
            (x, e, g, w.accepted, reason, w.error, w.stalled)
        }
        // Only `init` can fail this way, before any step was accepted.
        Err(e) => (x0, energy_initial, g0, 0, None, Some(e.to_string()), false),
    };
    let eval = eval.into_inner();
    let (termination, detail) = match (eval.failure, reason) {
        (Some((t, msg)), _) => (t, Some(msg)),
        (None, Some(TerminationReason::SolverConverged)) => (Termination::Converged, None),
        (None, Some(TerminationReason::MaxItersReached)) => (Termination::MaxIterations, None),
        (None, _) if stalled => (Termination::Stalled, error),
        (None, _) => (Termination::LineSearchFailed, error),
    };
    s.flat_mut().copy_from_slice(&x);
    let fmax = fmax_flat(&g);
    let grew = eval.grew;
    let result = MinimizeResult {
        method,
        energy_initial,
        energy,
        fmax,
        force_calls: eval.calc.calls() - calls0,
        iterations,
        converged: termination == Termination::Converged,
        termination,
        detail,
    };
    Ok((result, grew))
}
