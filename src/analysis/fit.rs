//! Maximum-likelihood fits of the FIE spectra to barrier samples, with uncertainties and a
//! Kolmogorov-Smirnov goodness-of-fit test.
//!
//! * [`fit_fie`]: W and m (and optionally e_A and s) of FIE eq. (3) by L-BFGS (argmin) on the
//!   mean negative log-likelihood in unconstrained coordinates (logit W, m, ln e_A, ln s), from
//!   the best points of a coarse grid. One-sigma uncertainties come from the inverse of the
//!   observed information (the Hessian of -ln L in the natural parameters, by central
//!   differences of the analytic gradient) and, on request, from a nonparametric bootstrap.
//! * [`fit_exponential`]: e_R of FIE eq. (5). Its likelihood maximum is the sample mean in
//!   closed form (no optimiser needed); the observed information gives sigma = e_R/sqrt(n).
//!
//! The KS p-values use the asymptotic Kolmogorov distribution with the parameters taken as
//! known; with fitted parameters they are conservative (too large: Lilliefors' effect), so a
//! small p-value is meaningful and a large one only says that the form is not rejected.

use super::special::ks_p_value;
use super::spectrum::{log_add_exp, ExpSpectrum, FieSpectrum, M2Norm};
use crate::{Error, Result};
use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// Fewest barriers a fit accepts.
pub const MIN_EVENTS: usize = 20;

/// How to fit the activation spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// Fit e_A and s too (otherwise they stay at `e_a` and `s`).
    pub free_shape: bool,
    /// e_A, eV: its fixed value, or the starting value when free.
    pub e_a: f64,
    /// s, eV: its fixed value, or the starting value when free.
    pub s: f64,
    /// Bootstrap replicates for the uncertainties (0: Hessian only).
    pub bootstrap: usize,
    /// Seed of the bootstrap resampling (replicate r uses stream r of ChaCha8 seeded with it).
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            free_shape: false,
            e_a: FieSpectrum::FIE_E_A,
            s: FieSpectrum::FIE_S,
            bootstrap: 0,
            seed: 0,
        }
    }
}

impl FitOptions {
    /// Checks the fixed or starting shape values.
    pub fn validate(&self) -> Result<()> {
        FieSpectrum::new(0.5, 1.0, self.e_a, self.s).map(|_| ())
    }
}

/// A fitted parameter: its value and one-sigma uncertainties.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    /// Held at its given value, not fitted.
    pub fixed: bool,
    /// From the inverse Hessian of -ln L (None when fixed or when the Hessian is singular).
    pub sigma: Option<f64>,
    /// Standard deviation over bootstrap replicates (None without a bootstrap).
    pub sigma_bootstrap: Option<f64>,
}

impl Estimate {
    fn fixed(value: f64) -> Self {
        Estimate {
            value,
            fixed: true,
            sigma: None,
            sigma_bootstrap: None,
        }
    }
    /// The uncertainty to quote: the bootstrap one when there is one, else the Hessian one.
    pub fn best_sigma(&self) -> Option<f64> {
        self.sigma_bootstrap.or(self.sigma)
    }
}

/// The one-sample Kolmogorov-Smirnov test of a fitted distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    /// sup |F_n - F|.
    pub statistic: f64,
    /// Asymptotic p-value (parameters treated as known: conservative for fitted ones).
    pub p_value: f64,
    pub n: usize,
}

/// The KS statistic of `data` against a cdf.
pub fn ks_test(data: &[f64], cdf: impl Fn(f64) -> f64) -> KsTest {
    let mut x = data.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let d = x
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let f = cdf(e);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max);
    KsTest {
        statistic: d,
        p_value: ks_p_value(d, x.len()),
        n: x.len(),
    }
}

/// The fitted activation spectrum (FIE eq. 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieFit {
    pub w: Estimate,
    pub m: Estimate,
    pub e_a: Estimate,
    pub s: Estimate,
    /// Barriers in the fit.
    pub n: usize,
    /// ln L at the maximum (sum over barriers, densities in 1/eV).
    pub log_likelihood: f64,
    /// Covariance of the free parameters (order w, m, e_a, s, fixed ones left out), from the
    /// inverse Hessian.
    pub covariance: Option<Vec<Vec<f64>>>,
    pub ks: KsTest,
    /// L-BFGS reached its gradient tolerance.
    pub converged: bool,
    pub iterations: u64,
    /// W within 1e-6 of 0 or 1: the Hessian uncertainties are then not meaningful.
    pub at_boundary: bool,
    /// Bootstrap replicates behind `sigma_bootstrap` (0: none).
    pub bootstrap: usize,
}

impl FieFit {
    /// The fitted spectrum.
    pub fn spectrum(&self) -> FieSpectrum {
        FieSpectrum {
            w: self.w.value,
            m: self.m.value,
            e_a: self.e_a.value,
            s: self.s.value,
        }
    }
}

/// The fitted relaxation spectrum (FIE eq. 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpFit {
    pub e_r: Estimate,
    pub n: usize,
    pub log_likelihood: f64,
    pub ks: KsTest,
    pub bootstrap: usize,
}

fn check_sample(data: &[f64], what: &str) -> Result<()> {
    if data.len() < MIN_EVENTS {
        return Err(Error::invalid(format!(
            "{what}: {} barriers are too few for a fit (at least {MIN_EVENTS})",
            data.len()
        )));
    }
    if let Some(x) = data.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
        return Err(Error::invalid(format!(
            "{what}: barrier {x} eV is negative or not finite; the spectrum lives on E >= 0"
        )));
    }
    Ok(())
}

/// -ln L, its gradient with respect to (W, m, e_A, s), and its derivative with respect to
/// logit W, summed over `data`. The W derivatives come from the summed M1 responsibility R1:
/// d(-ln L)/dW = -(R1/W - R2/(1 - W)) and d(-ln L)/d logit W = -((1 - W) R1 - W R2), the
/// latter finite even when W rounds to 0 or 1.
fn nll_natural(sp: &FieSpectrum, data: &[f64]) -> (f64, [f64; 4], f64) {
    let norm: M2Norm = sp.norm();
    let (w, m, e_a, s) = (sp.w, sp.m, sp.e_a, sp.s);
    let dlnj_dm = norm.ratio / s;
    let dlnj_ds = (2.0 - m / s * norm.ratio) / s;
    let consts = sp.ln_consts(&norm);
    let mut nll = 0.0;
    let mut g = [0.0; 4];
    let (mut sum_r1, mut sum_r2) = (0.0, 0.0);
    for &e in data {
        let (l1, l2) = consts.at(sp, e);
        let lp = log_add_exp(l1, l2);
        nll -= lp;
        let r1 = (l1 - lp).exp();
        let r2 = (l2 - lp).exp();
        sum_r1 += r1;
        sum_r2 += r2;
        let z = (e - m) / s;
        g[1] -= r2 * (z / s - dlnj_dm);
        g[2] -= r1 * (e / (e_a * e_a) - 1.0 / e_a);
        g[3] -= r2 * (z * z / s - dlnj_ds);
    }
    g[0] = -(sum_r1 / w - sum_r2 / (1.0 - w));
    let g_logit = -((1.0 - w) * sum_r1 - w * sum_r2);
    (nll, g, g_logit)
}

/// (x, cost, gradient) of the last evaluation.
type Cache = RefCell<Option<(Vec<f64>, f64, Vec<f64>)>>;

/// The likelihood seen by argmin: unconstrained coordinates x = (logit W, m[, ln e_A, ln s]),
/// cost = mean -ln p, both cost and gradient served from one evaluation.
struct Problem<'a> {
    data: &'a [f64],
    opts: FitOptions,
    cache: Cache,
}

fn logistic(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// The spectrum at unconstrained coordinates `x`.
fn spectrum_at(x: &[f64], opts: &FitOptions) -> FieSpectrum {
    let (e_a, s) = if opts.free_shape {
        (x[2].exp(), x[3].exp())
    } else {
        (opts.e_a, opts.s)
    };
    FieSpectrum {
        w: logistic(x[0]),
        m: x[1],
        e_a,
        s,
    }
}

impl Problem<'_> {
    fn evaluate(&self, x: &[f64]) -> std::result::Result<(f64, Vec<f64>), ArgminError> {
        if let Some((cx, c, g)) = self.cache.borrow().as_ref() {
            if cx.as_slice() == x {
                return Ok((*c, g.clone()));
            }
        }
        let sp = spectrum_at(x, &self.opts);
        let (nll, gn, g_logit) = nll_natural(&sp, self.data);
        let n = self.data.len() as f64;
        let mut g = vec![g_logit / n, gn[1] / n];
        if self.opts.free_shape {
            g.push(gn[2] * sp.e_a / n);
            g.push(gn[3] * sp.s / n);
        }
        let cost = nll / n;
        if !cost.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(ArgminError::msg(format!("non-finite likelihood at {sp:?}")));
        }
        *self.cache.borrow_mut() = Some((x.to_vec(), cost, g.clone()));
        Ok((cost, g))
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> std::result::Result<f64, ArgminError> {
        self.evaluate(x).map(|(c, _)| c)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> std::result::Result<Vec<f64>, ArgminError> {
        self.evaluate(x).map(|(_, g)| g)
    }
}

/// Gradient tolerance on the mean -ln p (per barrier), in the unconstrained coordinates. The
/// curvature per barrier is O(1) there, so the parameters sit within ~1e-7 of the maximum,
/// far inside their statistical uncertainty; tighter tolerances only make the line search
/// chase rounding noise in the cost (changes below ~1e-16 per barrier).
const GRAD_TOL: f64 = 1e-7;
/// A run counts as converged below this gradient norm (the line search may stop a little
/// before `GRAD_TOL` when the cost no longer changes).
const GRAD_ACCEPT: f64 = 1e-5;

/// One L-BFGS run from `x0`; returns (x, mean -ln p, iterations, converged).
fn lbfgs(data: &[f64], opts: FitOptions, x0: Vec<f64>) -> Result<(Vec<f64>, f64, u64, bool)> {
    let problem = Problem {
        data,
        opts,
        cache: RefCell::new(None),
    };
    let ls = MoreThuenteLineSearch::new();
    let solver = LBFGS::new(ls, 8)
        .with_tolerance_grad(GRAD_TOL)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .map_err(|e| Error::invalid(format!("L-BFGS setup: {e}")))?;
    let res = Executor::new(problem, solver)
        .configure(|st| st.param(x0).max_iters(1000))
        .run()
        .map_err(|e| Error::invalid(format!("spectrum fit failed: {e}")))?;
    let st = res.state();
    let x = st
        .get_best_param()
        .cloned()
        .ok_or_else(|| Error::invalid("spectrum fit: no parameters"))?;
    let problem = Problem {
        data,
        opts,
        cache: RefCell::new(None),
    };
    let (cost, g) = problem
        .evaluate(&x)
        .map_err(|e| Error::invalid(format!("spectrum fit: {e}")))?;
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok((x, cost, st.get_iter(), gnorm < GRAD_ACCEPT))
}

/// Starting points: a coarse (W, m) grid at the given shape, scored on at most 2,000 barriers
/// (every k-th), best first.
fn starts(data: &[f64], opts: &FitOptions) -> Vec<Vec<f64>> {
    let stride = data.len().div_ceil(2000).max(1);
    let sub: Vec<f64> = data.iter().step_by(stride).copied().collect();
    let mut sorted = sub.clone();
    sorted.sort_by(f64::total_cmp);
    let q90 = sorted[(0.9 * (sorted.len() - 1) as f64) as usize];
    let mut scored: Vec<(f64, Vec<f64>)> = Vec::new();
    for &w in &[0.03, 0.1, 0.25, 0.5, 0.8] {
        for k in 0..10 {
            let m = q90 * k as f64 / 9.0;
            let sp = FieSpectrum {
                w,
                m,
                e_a: opts.e_a,
                s: opts.s,
            };
            let nll = nll_natural(&sp, &sub).0;
            if nll.is_finite() {
                let mut x = vec![(w / (1.0 - w)).ln(), m];
                if opts.free_shape {
                    x.push(opts.e_a.ln());
                    x.push(opts.s.ln());
                }
                scored.push((nll, x));
            }
        }
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.into_iter().map(|(_, x)| x).collect()
}

/// The fit without uncertainties: the best of L-BFGS runs from the three best grid points
/// (or from `x0` alone). With a free shape, the shape is first held at its starting values
/// and then freed from that maximum (a direct start wanders for a hundred iterations along
/// the valley where W and e_A trade off). Returns (x, ln L, iterations, converged).
fn maximise(data: &[f64], opts: &FitOptions, x0: Option<Vec<f64>>) -> Result<(Vec<f64>, f64, u64, bool)> {
    let candidates = match x0 {
        Some(x) => vec![x],
        None if opts.free_shape => {
            let fixed = FitOptions {
                free_shape: false,
                ..*opts
            };
            let (mut x, _, it, _) = maximise(data, &fixed, None)?;
            x.push(opts.e_a.ln());
            x.push(opts.s.ln());
            let (x, ll, it2, conv) = maximise(data, opts, Some(x))?;
            return Ok((x, ll, it + it2, conv));
        }
        None => starts(data, opts).into_iter().take(3).collect(),
    };
    let mut best: Option<(Vec<f64>, f64, u64, bool)> = None;
    let mut last_err = None;
    for x in candidates {
        match lbfgs(data, *opts, x) {
            Ok(r) => {
                if best.as_ref().is_none_or(|b| r.1 < b.1) {
                    best = Some(r);
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    match best {
        Some((x, c, it, conv)) => Ok((x, -c * data.len() as f64, it, conv)),
        None => Err(last_err.unwrap_or_else(|| Error::invalid("spectrum fit: no starting point"))),
    }
}

/// Hessian of -ln L in the free natural parameters by central differences of the analytic
/// gradient (steps 1e-4 of each parameter's scale, kept inside the domain), symmetrised.
fn hessian(sp: &FieSpectrum, data: &[f64], free: &[usize]) -> DMatrix<f64> {
    let base = [sp.w, sp.m, sp.e_a, sp.s];
    let step = |k: usize| -> f64 {
        match k {
            0 => 1e-4 * sp.w.min(1.0 - sp.w).max(1e-12),
            1 => 1e-4 * sp.s,
            _ => 1e-4 * base[k],
        }
    };
    let nf = free.len();
    let mut h = DMatrix::zeros(nf, nf);
    for (j, &k) in free.iter().enumerate() {
        let hk = step(k);
        let mut plus = base;
        let mut minus = base;
        plus[k] += hk;
        minus[k] -= hk;
        let mk = |p: [f64; 4]| FieSpectrum {
            w: p[0],
            m: p[1],
            e_a: p[2],
            s: p[3],
        };
        let gp = nll_natural(&mk(plus), data).1;
        let gm = nll_natural(&mk(minus), data).1;
        for (i, &l) in free.iter().enumerate() {
            h[(i, j)] = (gp[l] - gm[l]) / (2.0 * hk);
        }
    }
    0.5 * (&h + h.transpose())
}

/// Fits FIE eq. (3) to activation energies `data` (eV) by maximum likelihood.
pub fn fit_fie(data: &[f64], opts: &FitOptions) -> Result<FieFit> {
    opts.validate()?;
    check_sample(data, "activation-energy fit")?;
    let (x, log_likelihood, iterations, converged) = maximise(data, opts, None)?;
    let sp = spectrum_at(&x, opts);
    let free: Vec<usize> = if opts.free_shape { vec![0, 1, 2, 3] } else { vec![0, 1] };
    let at_boundary = sp.w < 1e-6 || sp.w > 1.0 - 1e-6;
    let covariance = if at_boundary {
        None
    } else {
        hessian(&sp, data, &free).cholesky().map(|c| c.inverse())
    };
    if at_boundary {
        tracing::warn!(
            "activation-energy fit: W = {:.3e} sits at the edge of [0, 1]; no Hessian uncertainties",
            sp.w
        );
    } else if covariance.is_none() {
        tracing::warn!("activation-energy fit: the Hessian is not positive definite; no uncertainties");
    }
    let sigma = |k: usize| -> Option<f64> {
        let cov = covariance.as_ref()?;
        let i = free.iter().position(|&f| f == k)?;
        let v = cov[(i, i)];
        (v >= 0.0).then(|| v.sqrt())
    };
    let est = |k: usize, value: f64| -> Estimate {
        if free.contains(&k) {
            Estimate {
                value,
                fixed: false,
                sigma: sigma(k),
                sigma_bootstrap: None,
            }
        } else {
            Estimate::fixed(value)
        }
    };
    let mut fit = FieFit {
        w: est(0, sp.w),
        m: est(1, sp.m),
        e_a: est(2, sp.e_a),
        s: est(3, sp.s),
        n: data.len(),
        log_likelihood,
        covariance: covariance.map(|c| (0..c.nrows()).map(|i| c.row(i).iter().copied().collect()).collect()),
        ks: ks_test(data, sp.cdf_fn()),
        converged,
        iterations,
        at_boundary,
        bootstrap: 0,
    };
    if !converged {
        tracing::warn!("activation-energy fit: L-BFGS stopped before its gradient tolerance");
    }
    if opts.bootstrap > 0 {
        let reps = bootstrap(data, opts, |sample| {
            let (xb, ..) = maximise(sample, opts, Some(x.clone()))?;
            let s = spectrum_at(&xb, opts);
            Ok(vec![s.w, s.m, s.e_a, s.s])
        })?;
        for (k, e) in [&mut fit.w, &mut fit.m, &mut fit.e_a, &mut fit.s]
            .into_iter()
            .enumerate()
        {
            if !e.fixed {
                e.sigma_bootstrap = Some(std_dev(reps.iter().map(|r| r[k])));
            }
        }
        fit.bootstrap = opts.bootstrap;
    }
    Ok(fit)
}

/// Fits FIE eq. (5) to relaxation energies `data` (eV): e_R = mean, sigma = e_R/sqrt(n).
pub fn fit_exponential(data: &[f64], opts: &FitOptions) -> Result<ExpFit> {
    check_sample(data, "relaxation-energy fit")?;
    let n = data.len() as f64;
    let e_r = data.iter().sum::<f64>() / n;
    let sp = ExpSpectrum::new(e_r).map_err(|_| Error::invalid("relaxation-energy fit: every barrier is 0 eV"))?;
    let mut est = Estimate {
        value: e_r,
        fixed: false,
        sigma: Some(e_r / n.sqrt()),
        sigma_bootstrap: None,
    };
    if opts.bootstrap > 0 {
        let reps = bootstrap(data, opts, |s| Ok(vec![s.iter().sum::<f64>() / s.len() as f64]))?;
        est.sigma_bootstrap = Some(std_dev(reps.iter().map(|r| r[0])));
    }
    Ok(ExpFit {
        e_r: est,
        n: data.len(),
        log_likelihood: -n * (e_r.ln() + 1.0),
        ks: ks_test(data, |e| sp.cdf(e)),
        bootstrap: opts.bootstrap,
    })
}

/// `opts.bootstrap` replicates of `estimator` on resamples of `data`; replicate r draws from
/// ChaCha8 seeded with `opts.seed` on stream r, so the result does not depend on threads.
fn bootstrap(
    data: &[f64],
    opts: &FitOptions,
    estimator: impl Fn(&[f64]) -> Result<Vec<f64>> + Sync,
) -> Result<Vec<Vec<f64>>> {
    (0..opts.bootstrap)
        .into_par_iter()
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            rng.set_stream(r as u64);
            let sample: Vec<f64> = (0..data.len()).map(|_| data[rng.random_range(0..data.len())]).collect();
            estimator(&sample)
        })
        .collect()
}

fn std_dev(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = xs.clone().count() as f64;
    let mean = xs.clone().sum::<f64>() / n;
    (xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[cfg(test)]
mod tests;
