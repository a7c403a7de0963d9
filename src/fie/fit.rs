//! Parameters of W(E_IS) and m(E_IS) from data, two ways:
//!
//! * [`regress_spectra`]: from the per-sample activation-spectrum fits that `pelx asym --fit fie`
//!   writes ([`FieSpectrumFit`], one file per sample, each at its own E_IS), by weighted least
//!   squares of a chosen functional form (FIE Fig. 2c);
//! * [`fit_line`]: the paper's "inverse strategy": W and m parameters whose Delta = 0 line
//!   passes through a given equilibrium line (T, E_IS) (FIE Fig. 3), by least squares of
//!   Delta(E_IS_i, T_i).
//!
//! Both use a small Levenberg-Marquardt solver with central-difference Jacobians.

use super::func::Func1D;
use super::model::{FieConfig, FieModel};
use crate::provenance::Provenance;
use crate::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Schema tag of [`FieSpectrumFit`].
pub const SPECTRUM_FIT_SCHEMA: &str = "pelx.fie-spectrum/1";

/// The FIE eq. (3) + (5) parameters fitted to one sample's event catalog: the contract between
/// `pelx asym --fit fie` (which writes it) and `pelx fie regress` (which reads several).
/// Energies in eV, E_IS in eV/atom; uncertainties are one standard deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieSpectrumFit {
    /// Always "pelx.fie-spectrum/1".
    pub schema: String,
    /// A label for the sample (say, the structure file or its cooling rate).
    pub sample: String,
    /// Inherent-structure energy of the sample, eV/atom.
    pub e_is: f64,
    /// M1 weight W (eq. 3), in [0, 1].
    pub w: f64,
    /// M2 location m, eV.
    pub m: f64,
    /// M1 decay energy e_A, eV (FIE: 0.5, shared by all samples).
    pub e_a: f64,
    /// M2 width s, eV (FIE: 0.49).
    pub s: f64,
    /// Relaxation energy scale e_R, eV (FIE: 0.32).
    pub e_r: f64,
    /// Which of "e_a", "s", "e_r" were held fixed in the fit.
    #[serde(default)]
    pub fixed: Vec<String>,
    /// One-sigma uncertainties of the fitted values.
    #[serde(default)]
    pub uncertainties: SpectrumUncertainties,
    /// Events (forward barriers) in the fit.
    pub n_events: usize,
    /// Maximum log-likelihood reached, when the fit is by maximum likelihood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_likelihood: Option<f64>,
    /// Where the numbers came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// One-sigma uncertainties of a [`FieSpectrumFit`] (absent when unknown or held fixed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectrumUncertainties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_is: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_a: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_r: Option<f64>,
}

impl FieSpectrumFit {
    /// Check the schema tag and value ranges.
    pub fn validate(&self) -> Result<()> {
        if self.schema != SPECTRUM_FIT_SCHEMA {
            return Err(Error::invalid(format!(
                "schema '{}' is not '{SPECTRUM_FIT_SCHEMA}'",
                self.schema
            )));
        }
        if !(0.0..=1.0).contains(&self.w) {
            return Err(Error::invalid(format!("w = {} is outside [0, 1]", self.w)));
        }
        for (name, v) in [("e_is", self.e_is), ("m", self.m)] {
            if !v.is_finite() {
                return Err(Error::invalid(format!("{name} = {v} is not finite")));
            }
        }
        for (name, v) in [("e_a", self.e_a), ("s", self.s), ("e_r", self.e_r)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(format!("{name} = {v} must be positive")));
            }
        }
        let u = &self.uncertainties;
        for (name, v) in [("w", u.w), ("m", u.m), ("e_is", u.e_is)] {
            if let Some(v) = v {
                if !(v >= 0.0 && v.is_finite()) {
                    return Err(Error::invalid(format!("uncertainty of {name} = {v} must be >= 0")));
                }
            }
        }
        Ok(())
    }

    /// Read and validate one file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let fit: FieSpectrumFit =
            serde_json::from_str(&text).map_err(|e| Error::parse(path, e.line(), e.to_string()))?;
        fit.validate().map_err(|e| Error::parse(path, 0, e.to_string()))?;
        Ok(fit)
    }
}

/// Levenberg-Marquardt settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmOptions {
    pub max_iterations: usize,
    /// Stop when the cost falls by less than this fraction in an accepted step.
    pub ftol: f64,
    /// Stop when every parameter moves by less than xtol (|p| + xtol).
    pub xtol: f64,
}

impl Default for LmOptions {
    fn default() -> Self {
        LmOptions {
            max_iterations: 200,
            ftol: 1e-14,
            xtol: 1e-12,
        }
    }
}

/// The outcome of a least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LmResult {
    pub params: Vec<f64>,
    pub residuals: Vec<f64>,
    /// Sum of squared residuals.
    pub cost: f64,
    pub iterations: usize,
    /// One-sigma parameter uncertainties sqrt(diag((J^T J)^-1) * cost/(n - p)) (None when
    /// n <= p or J^T J is singular).
    pub uncertainties: Option<Vec<f64>>,
}

/// Minimise sum r_i(p)^2 by Levenberg-Marquardt (Marquardt 1963, with diag(J^T J) scaling).
/// `steps[k]` is the central-difference step of parameter k. A residual function that fails
/// at a trial point counts as a rejected step.
pub fn levenberg_marquardt(
    mut residuals: impl FnMut(&[f64]) -> Result<Vec<f64>>,
    p0: &[f64],
    steps: &[f64],
    opts: &LmOptions,
) -> Result<LmResult> {
    let np = p0.len();
    let mut p = p0.to_vec();
    let mut r = residuals(&p)?;
    let n = r.len();
    if n == 0 {
        return Err(Error::invalid("least squares: no data"));
    }
    let sumsq = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    let mut cost = sumsq(&r);
    let mut lambda = 1e-3;
    let mut iterations = 0;
    let jacobian = |residuals: &mut dyn FnMut(&[f64]) -> Result<Vec<f64>>, p: &[f64]| -> Result<DMatrix<f64>> {
        let mut j = DMatrix::zeros(n, np);
        for k in 0..np {
            let mut hi = p.to_vec();
            let mut lo = p.to_vec();
            hi[k] += steps[k];
            lo[k] -= steps[k];
            let (rh, rl) = (residuals(&hi)?, residuals(&lo)?);
            for i in 0..n {
                j[(i, k)] = (rh[i] - rl[i]) / (2.0 * steps[k]);
            }
        }
        Ok(j)
    };
    let mut jac = jacobian(&mut residuals, &p)?;
    'outer: while iterations < opts.max_iterations {
        iterations += 1;
        let jt = jac.transpose();
        let a = &jt * &jac;
        let g = &jt * DVector::from_column_slice(&r);
        if g.amax() == 0.0 || cost == 0.0 {
            break;
        }
        loop {
            let mut m = a.clone();
            for k in 0..np {
                m[(k, k)] += lambda * a[(k, k)].max(1e-300);
            }
            let Some(delta) = m.clone().cholesky().map(|c| c.solve(&(-&g))) else {
                lambda *= 10.0;
                if lambda > 1e16 {
                    break 'outer;
                }
                continue;
            };
            let trial: Vec<f64> = p.iter().zip(delta.iter()).map(|(a, b)| a + b).collect();
            let accepted = match residuals(&trial) {
                Ok(rt) if rt.iter().all(|v| v.is_finite()) => {
                    let ct = sumsq(&rt);
                    if ct < cost {
                        let small_move = delta
                            .iter()
                            .zip(p.iter())
                            .all(|(d, v)| d.abs() <= opts.xtol * (v.abs() + opts.xtol));
                        let small_gain = (cost - ct) <= opts.ftol * cost;
                        p = trial;
                        r = rt;
                        cost = ct;
                        lambda = (lambda / 3.0).max(1e-12);
                        if small_move || small_gain {
                            break 'outer;
                        }
                        true
                    } else {
                        false
                    }
                }
                _ => false,
            };
            if accepted {
                jac = jacobian(&mut residuals, &p)?;
                break;
            }
            lambda *= 4.0;
            if lambda > 1e16 {
                break 'outer;
            }
        }
    }
    let uncertainties = if n > np {
        let a = jac.transpose() * &jac;
        a.try_inverse().map(|inv| {
            let s2 = cost / (n - np) as f64;
            (0..np).map(|k| (inv[(k, k)] * s2).max(0.0).sqrt()).collect()
        })
    } else {
        None
    };
    Ok(LmResult {
        params: p,
        residuals: r,
        cost,
        iterations,
        uncertainties,
    })
}

/// A named, fitted parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedParam {
    /// "w.x0", "m.slope", ...
    pub name: String,
    pub initial: f64,
    pub value: f64,
    /// One sigma, from the curvature of the cost and its residual variance.
    pub uncertainty: Option<f64>,
}

/// Which of the configuration's functions a parameter name refers to.
fn func_mut<'a>(cfg: &'a mut FieConfig, name: &str) -> Result<(&'a mut Func1D, String)> {
    let (func, param) = name
        .split_once('.')
        .ok_or_else(|| Error::invalid(format!("parameter '{name}' is not of the form w.<param> or m.<param>")))?;
    let f = match func {
        "w" => &mut cfg.spectrum.w,
        "m" => &mut cfg.spectrum.m,
        _ => {
            return Err(Error::invalid(format!(
                "parameter '{name}': only W and m (w.* and m.*) are fitted"
            )))
        }
    };
    Ok((f, param.to_string()))
}

fn set_params(cfg: &mut FieConfig, names: &[String], values: &[f64]) -> Result<()> {
    for (n, v) in names.iter().zip(values) {
        let (f, p) = func_mut(cfg, n)?;
        *f.param_mut(&p)? = *v;
    }
    Ok(())
}

/// The result of [`fit_line`].
#[derive(Debug, Clone, PartialEq)]
pub struct LineFit {
    /// The configuration with the fitted parameters.
    pub config: FieConfig,
    pub params: Vec<FittedParam>,
    /// Delta(E_IS_i, T_i) at the fitted parameters, eV.
    pub delta: Vec<f64>,
    /// E_IS*(T_i) of the fitted model (None where it has no single root).
    pub e_is_fit: Vec<Option<f64>>,
    pub iterations: usize,
}

/// The inverse strategy of FIE: adjust the named W and m parameters (`free`, e.g. "w.x0",
/// "m.slope") of `base` so that Delta(E_IS_i, T_i) = 0 at every point of the given equilibrium
/// line, in the least-squares sense. Points are (T in K, E_IS in eV/atom).
pub fn fit_line(base: &FieConfig, line: &[[f64; 2]], free: &[String]) -> Result<LineFit> {
    if free.is_empty() {
        return Err(Error::invalid("fit-line: name at least one free parameter"));
    }
    if line.len() < free.len() {
        return Err(Error::invalid(format!(
            "fit-line: {} points cannot determine {} parameters",
            line.len(),
            free.len()
        )));
    }
    FieModel::new(base.clone())?;
    let mut cfg = base.clone();
    let mut p0 = Vec::new();
    for n in free {
        let (f, p) = func_mut(&mut cfg, n)?;
        p0.push(*f.param_mut(&p)?);
    }
    let steps: Vec<f64> = p0.iter().map(|v| 1e-6 * v.abs().max(1e-3)).collect();
    let residuals = |p: &[f64]| -> Result<Vec<f64>> {
        let mut c = base.clone();
        set_params(&mut c, free, p)?;
        let model = FieModel::new(c)?;
        line.iter().map(|&[t, e]| model.delta(e, t)).collect()
    };
    let res = levenberg_marquardt(residuals, &p0, &steps, &LmOptions::default())?;
    set_params(&mut cfg, free, &res.params)?;
    let model = FieModel::new(cfg.clone())?;
    let e_is_fit = line
        .iter()
        .map(|&[t, _]| model.equilibrium_e_is(t).ok().flatten())
        .collect();
    let params = free
        .iter()
        .enumerate()
        .map(|(k, n)| FittedParam {
            name: n.clone(),
            initial: p0[k],
            value: res.params[k],
            uncertainty: res.uncertainties.as_ref().map(|u| u[k]),
        })
        .collect();
    Ok(LineFit {
        config: cfg,
        params,
        delta: res.residuals,
        e_is_fit,
        iterations: res.iterations,
    })
}

/// Functional forms [`regress_spectra`] can fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressForm {
    /// value + slope (E_IS - x0), x0 fixed at the mean E_IS.
    Linear,
    /// base + amplitude exp((E_IS - x0)/scale), x0 fixed at the mean E_IS.
    Exponential,
    /// low + (high - low)/(1 + exp(-(E_IS - x0)/width)).
    Logistic,
    /// The samples themselves, linearly interpolated (no fit).
    Tabulated,
}

impl std::str::FromStr for RegressForm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "linear" => RegressForm::Linear,
            "exponential" => RegressForm::Exponential,
            "logistic" => RegressForm::Logistic,
            "tabulated" => RegressForm::Tabulated,
            _ => {
                return Err(Error::invalid(format!(
                    "unknown form '{s}' (linear, exponential, logistic, tabulated)"
                )))
            }
        })
    }
}

/// One regressed function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    pub form: RegressForm,
    /// The fitted function, ready for a configuration file.
    pub func: Func1D,
    pub params: Vec<FittedParam>,
    /// Weighted residuals (y_i - f(E_IS_i))/sigma_i.
    pub residuals: Vec<f64>,
    /// Sum of squared weighted residuals.
    pub chi2: f64,
}

/// Fit `form` to points (x, y, sigma) by weighted least squares.
pub fn regress_points(points: &[(f64, f64, f64)], form: RegressForm, what: &str) -> Result<Regression> {
    let n = points.len();
    let need = match form {
        RegressForm::Linear => 2,
        RegressForm::Exponential => 3,
        RegressForm::Logistic => 4,
        RegressForm::Tabulated => 2,
    };
    if n < need {
        return Err(Error::invalid(format!(
            "regress {what}: a {form:?} form needs at least {need} samples, got {n}"
        )));
    }
    if let Some(p) = points.iter().find(|p| !(p.2 > 0.0 && p.2.is_finite())) {
        return Err(Error::invalid(format!(
            "regress {what}: uncertainty {} at E_IS = {} must be positive",
            p.2, p.0
        )));
    }
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    if sorted.windows(2).any(|w| w[0].0 == w[1].0) && form == RegressForm::Tabulated {
        return Err(Error::invalid(format!(
            "regress {what}: two samples share one E_IS; a table needs distinct values"
        )));
    }
    let distinct = 1 + sorted.windows(2).filter(|w| w[0].0 != w[1].0).count();
    if distinct < need {
        return Err(Error::invalid(format!(
            "regress {what}: the samples lie at {distinct} distinct E_IS; a {form:?} form of the E_IS dependence \
             needs at least {need}"
        )));
    }
    let xs: Vec<f64> = sorted.iter().map(|p| p.0).collect();
    let x_mean = xs.iter().sum::<f64>() / n as f64;
    let x_span = (xs[n - 1] - xs[0]).max(1e-12);
    let (y_first, y_last) = (sorted[0].1, sorted[n - 1].1);
    // Weighted straight line: the linear form, and a starting point for the others.
    let (sw, swx, swy, swxx, swxy) = sorted.iter().fold((0.0, 0.0, 0.0, 0.0, 0.0), |a, p| {
        let w = 1.0 / (p.2 * p.2);
        let dx = p.0 - x_mean;
        (
            a.0 + w,
            a.1 + w * dx,
            a.2 + w * p.1,
            a.3 + w * dx * dx,
            a.4 + w * dx * p.1,
        )
    });
    let det = sw * swxx - swx * swx;
    let (line_value, line_slope) = if det > 0.0 {
        ((swxx * swy - swx * swxy) / det, (sw * swxy - swx * swy) / det)
    } else {
        (swy / sw, 0.0)
    };
    let (func, names): (Func1D, Vec<&str>) = match form {
        RegressForm::Tabulated => {
            let f = Func1D::Tabulated {
                x: xs.clone(),
                y: sorted.iter().map(|p| p.1).collect(),
                interpolation: Default::default(),
                extrapolation: Default::default(),
            };
            return finish(form, f, vec![], &sorted);
        }
        RegressForm::Linear => (
            Func1D::Linear {
                value: line_value,
                slope: line_slope,
                x0: x_mean,
            },
            vec!["value", "slope"],
        ),
        RegressForm::Exponential => {
            // Start from the log-linear fit when every y is positive.
            let (amp, scale) = if sorted.iter().all(|p| p.1 > 0.0) && y_first != y_last {
                let k = (y_last / y_first).ln() / x_span;
                let scale = if k.abs() > 1e-12 { 1.0 / k } else { x_span };
                ((line_value).max(1e-12), scale)
            } else {
                (line_value, x_span)
            };
            (
                Func1D::Exponential {
                    base: 0.0,
                    amplitude: amp,
                    x0: x_mean,
                    scale,
                },
                vec!["base", "amplitude", "scale"],
            )
        }
        RegressForm::Logistic => (
            Func1D::Logistic {
                low: y_first,
                high: y_last,
                x0: x_mean,
                width: x_span / 6.0,
            },
            vec!["low", "high", "x0", "width"],
        ),
    };
    let mut f = func;
    let p0: Vec<f64> = names
        .iter()
        .map(|nm| f.param_mut(nm).map(|v| *v))
        .collect::<Result<_>>()?;
    let steps: Vec<f64> = p0.iter().map(|v| 1e-7 * v.abs().max(1e-6 * x_span.max(1e-3))).collect();
    let res = levenberg_marquardt(
        |p| {
            let mut g = f.clone();
            for (nm, v) in names.iter().zip(p) {
                *g.param_mut(nm)? = *v;
            }
            g.validate(what)?;
            Ok(sorted.iter().map(|q| (q.1 - g.eval(q.0)) / q.2).collect())
        },
        &p0,
        &steps,
        &LmOptions::default(),
    )?;
    for (nm, v) in names.iter().zip(&res.params) {
        *f.param_mut(nm)? = *v;
    }
    let params = names
        .iter()
        .enumerate()
        .map(|(k, nm)| FittedParam {
            name: format!("{what}.{nm}"),
            initial: p0[k],
            value: res.params[k],
            uncertainty: res.uncertainties.as_ref().map(|u| u[k]),
        })
        .collect();
    finish(form, f, params, &sorted)
}

fn finish(form: RegressForm, func: Func1D, params: Vec<FittedParam>, pts: &[(f64, f64, f64)]) -> Result<Regression> {
    let residuals: Vec<f64> = pts.iter().map(|p| (p.1 - func.eval(p.0)) / p.2).collect();
    let chi2 = residuals.iter().map(|r| r * r).sum();
    Ok(Regression {
        form,
        func,
        params,
        residuals,
        chi2,
    })
}

/// W(E_IS) and m(E_IS) regressed from per-sample spectrum fits, with the sample means of the
/// shared constants e_A, s and e_R for reference. Samples without an uncertainty for W (m) are
/// weighted as if it were 1; give all or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpectrumRegression {
    pub w: Regression,
    pub m: Regression,
    /// Means of e_A, s, e_R over the samples, eV.
    pub mean_e_a: f64,
    pub mean_s: f64,
    pub mean_e_r: f64,
}

/// Regress W(E_IS) and m(E_IS) from several samples' spectrum fits (FIE Fig. 2c).
pub fn regress_spectra(
    fits: &[FieSpectrumFit],
    w_form: RegressForm,
    m_form: RegressForm,
) -> Result<SpectrumRegression> {
    if fits.is_empty() {
        return Err(Error::invalid("regress: no spectrum fits given"));
    }
    for f in fits {
        f.validate()
            .map_err(|e| Error::invalid(format!("sample '{}': {e}", f.sample)))?;
    }
    let sigma = |u: Option<f64>| u.filter(|v| *v > 0.0).unwrap_or(1.0);
    let wp: Vec<_> = fits.iter().map(|f| (f.e_is, f.w, sigma(f.uncertainties.w))).collect();
    let mp: Vec<_> = fits.iter().map(|f| (f.e_is, f.m, sigma(f.uncertainties.m))).collect();
    let n = fits.len() as f64;
    Ok(SpectrumRegression {
        w: regress_points(&wp, w_form, "w")?,
        m: regress_points(&mp, m_form, "m")?,
        mean_e_a: fits.iter().map(|f| f.e_a).sum::<f64>() / n,
        mean_s: fits.iter().map(|f| f.s).sum::<f64>() / n,
        mean_e_r: fits.iter().map(|f| f.e_r).sum::<f64>() / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fie::model::tests::test_config;

    #[test]
    fn lm_fits_an_exponential_decay() {
        // y = 3 exp(-0.7 x) + 0.5 exactly: the fit must recover the parameters.
        let xs: Vec<f64> = (0..20).map(|i| i as f64 * 0.3).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * (-0.7 * x).exp() + 0.5).collect();
        let res = levenberg_marquardt(
            |p| {
                Ok(xs
                    .iter()
                    .zip(&ys)
                    .map(|(x, y)| y - (p[0] * (-p[1] * x).exp() + p[2]))
                    .collect())
            },
            &[1.0, 0.2, 0.0],
            &[1e-7, 1e-7, 1e-7],
            &LmOptions::default(),
        )
        .unwrap();
        for (got, want) in res.params.iter().zip([3.0, 0.7, 0.5]) {
            assert!((got - want).abs() < 1e-9, "{:?}", res.params);
        }
        assert!(res.cost < 1e-20);
    }

    #[test]
    fn fit_line_recovers_the_parameters_that_made_the_line() {
        let truth = FieModel::new(test_config()).unwrap();
        let line: Vec<[f64; 2]> = [800.0, 900.0, 1000.0, 1200.0, 1400.0, 1600.0]
            .iter()
            .map(|&t| [t, truth.equilibrium_e_is(t).unwrap().unwrap()])
            .collect();
        let mut start = test_config();
        if let Func1D::Logistic { x0, width, .. } = &mut start.spectrum.w {
            *x0 += 0.01;
            *width *= 1.3;
        }
        if let Func1D::Linear { slope, .. } = &mut start.spectrum.m {
            *slope *= 0.8;
        }
        let free: Vec<String> = ["w.x0", "w.width", "m.slope"].map(String::from).to_vec();
        let fit = fit_line(&start, &line, &free).unwrap();
        let want = [-4.6554, 0.0163, -6.25];
        for (p, w) in fit.params.iter().zip(want) {
            assert!((p.value - w).abs() < 1e-7 * w.abs().max(1.0), "{p:?}");
        }
        for (e_fit, &[_, e]) in fit.e_is_fit.iter().zip(&line) {
            assert!((e_fit.unwrap() - e).abs() < 1e-9);
        }
        let err = fit_line(&start, &line, &["q.x0".to_string()]).unwrap_err();
        assert!(err.to_string().contains("only W and m"), "{err}");
    }

    fn sample(e_is: f64, w: f64, m: f64) -> FieSpectrumFit {
        FieSpectrumFit {
            schema: SPECTRUM_FIT_SCHEMA.into(),
            sample: format!("s{e_is}"),
            e_is,
            w,
            m,
            e_a: 0.5,
            s: 0.49,
            e_r: 0.32,
            fixed: vec![],
            uncertainties: SpectrumUncertainties {
                w: Some(0.01),
                m: Some(0.02),
                ..Default::default()
            },
            n_events: 2500,
            log_likelihood: None,
            provenance: None,
        }
    }

    #[test]
    fn regression_recovers_linear_and_logistic_forms() {
        let w_true = Func1D::Logistic {
            low: 0.05,
            high: 0.5,
            x0: -4.67,
            width: 0.01,
        };
        let fits: Vec<FieSpectrumFit> = [-4.71, -4.70, -4.69, -4.68, -4.67, -4.66, -4.65, -4.64]
            .iter()
            .map(|&e| sample(e, w_true.eval(e), 1.2 - 8.0 * (e + 4.68)))
            .collect();
        let r = regress_spectra(&fits, RegressForm::Logistic, RegressForm::Linear).unwrap();
        for (p, want) in r.w.params.iter().zip([0.05, 0.5, -4.67, 0.01]) {
            assert!((p.value - want).abs() < 1e-8, "{p:?}");
        }
        let m = &r.m.func;
        assert!((m.eval(-4.68) - 1.2).abs() < 1e-10 && (m.eval(-4.70) - 1.36).abs() < 1e-10);
        assert!(r.m.chi2 < 1e-18);
        assert!((r.mean_e_r - 0.32).abs() < 1e-15);
        // An exponential W with a base, exactly recovered (x0 is pinned at the mean E_IS).
        let w_exp = |e: f64| 0.02 + 0.1 * ((e + 4.675) / 0.02).exp();
        let fits_exp: Vec<FieSpectrumFit> = fits.iter().map(|f| sample(f.e_is, w_exp(f.e_is), f.m)).collect();
        let r = regress_spectra(&fits_exp, RegressForm::Exponential, RegressForm::Tabulated).unwrap();
        for f in &fits_exp {
            assert!((r.w.func.eval(f.e_is) - f.w).abs() < 1e-9, "{:?}", r.w.params);
        }
        assert!((r.w.params[0].value - 0.02).abs() < 1e-8 && (r.w.params[2].value - 0.02).abs() < 1e-8);
        assert_eq!(r.m.func.eval(-4.705), 0.5 * (fits_exp[0].m + fits_exp[1].m));
        // Too few samples for the form, or a bad sample: errors.
        assert!(regress_spectra(&fits[..3], RegressForm::Logistic, RegressForm::Linear).is_err());
        // Two fits at one E_IS say nothing about the dependence on E_IS.
        let twice = [fits[0].clone(), fits[0].clone()];
        let err = regress_spectra(&twice, RegressForm::Linear, RegressForm::Linear).unwrap_err();
        assert!(err.to_string().contains("1 distinct E_IS"), "{err}");
        let mut bad = fits.clone();
        bad[0].w = 1.5;
        let err = regress_spectra(&bad, RegressForm::Linear, RegressForm::Linear).unwrap_err();
        assert!(err.to_string().contains("outside [0, 1]"), "{err}");
    }

    #[test]
    fn spectrum_fit_round_trips_through_json() {
        let s = sample(-4.68, 0.1, 1.3);
        let text = serde_json::to_string_pretty(&s).unwrap();
        let back: FieSpectrumFit = serde_json::from_str(&text).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<FieSpectrumFit>(&text.replace("\"w\"", "\"ww\"")).is_err());
    }
}

/// Read an equilibrium line from CSV: two columns T (K) and E_IS (eV/atom), comma- or
/// whitespace-separated; blank lines, `#` comments and one leading header line are skipped.
pub fn read_line_csv(path: &Path) -> Result<Vec<[f64; 2]>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        let parsed: Vec<Option<f64>> = fields.iter().map(|f| f.parse::<f64>().ok()).collect();
        if out.is_empty() && !header_seen && parsed.iter().any(|v| v.is_none()) {
            header_seen = true;
            continue;
        }
        match parsed.as_slice() {
            [Some(t), Some(e)] if *t > 0.0 && t.is_finite() && e.is_finite() => out.push([*t, *e]),
            [Some(_), Some(_)] => {
                return Err(Error::parse(
                    path,
                    i + 1,
                    "need a positive finite T (K) and a finite E_IS (eV/atom)",
                ))
            }
            _ => {
                return Err(Error::parse(
                    path,
                    i + 1,
                    format!("expected two numbers (T, E_IS), found '{line}'"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::parse(path, 0, "no (T, E_IS) points"));
    }
    Ok(out)
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn line_csv_is_read_with_header_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("line.csv");
        std::fs::write(&p, "# MD line\nT_K,E_IS_eV\n800, -4.71\n\n900 -4.69 # spaces\n").unwrap();
        assert_eq!(read_line_csv(&p).unwrap(), vec![[800.0, -4.71], [900.0, -4.69]]);
        std::fs::write(&p, "T,E\n800,-4.71\n900,x\n").unwrap();
        let err = read_line_csv(&p).unwrap_err().to_string();
        assert!(
            err.ends_with(":3: expected two numbers (T, E_IS), found '900,x'"),
            "{err}"
        );
        std::fs::write(&p, "-5,-4.7\n").unwrap();
        assert!(read_line_csv(&p)
            .unwrap_err()
            .to_string()
            .contains(":1: need a positive"));
    }
}
