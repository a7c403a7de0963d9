//! Error bars and fits used by the KMC estimators: the delete-one jackknife over independent
//! blocks, and Arrhenius fits of a quantity over temperature.

use crate::units::KB;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Delete-one jackknife over independent blocks.
///
/// Each block is a vector of additive sums (counts, sums of squares, ...), all blocks the same
/// length; `estimate` maps summed totals to the quantity of interest, which may be a nonlinear
/// function of them (a ratio, `(1 + c) / (1 - c)`, ...). Returns the estimate from all blocks and
/// its one-sigma standard error, `sqrt((K-1)/K * sum_b (theta_(b) - mean)^2)` (Efron 1982).
pub fn jackknife(blocks: &[Vec<f64>], estimate: impl Fn(&[f64]) -> f64) -> (f64, f64) {
    let k = blocks.len();
    let width = blocks.first().map_or(0, Vec::len);
    let mut total = vec![0.0; width];
    for b in blocks {
        for (t, x) in total.iter_mut().zip(b) {
            *t += x;
        }
    }
    let full = estimate(&total);
    if k < 2 {
        return (full, f64::NAN);
    }
    let mut leave_out = vec![0.0; width];
    let thetas: Vec<f64> = blocks
        .iter()
        .map(|b| {
            for ((l, t), x) in leave_out.iter_mut().zip(&total).zip(b) {
                *l = t - x;
            }
            estimate(&leave_out)
        })
        .collect();
    let mean = thetas.iter().sum::<f64>() / k as f64;
    let var = thetas.iter().map(|t| (t - mean).powi(2)).sum::<f64>() * (k - 1) as f64 / k as f64;
    (full, var.sqrt())
}

/// An Arrhenius law `y = A exp(-E / (k_B T))` fitted to values over temperature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusFit {
    /// Activation energy E, eV.
    pub energy: f64,
    /// One-sigma error of E propagated from the errors of the points, eV.
    pub energy_err: f64,
    /// Prefactor A, in the units of the fitted quantity.
    pub prefactor: f64,
    /// Root-mean-square residual of ln y about the line (0 for two points).
    pub rms_residual_ln: f64,
    /// Number of temperatures in the fit.
    pub points: usize,
}

/// Least-squares fit of `ln y = ln A - E / (k_B T)`, with every point weighted equally.
///
/// Equal weights make the fit linear in ln y, so fits of D, D_RW and f = D / D_RW over the same
/// temperatures satisfy E_D = E_RW + E_f exactly (2026 paper, Eq. 1). The error of E is the
/// one-sigma error propagated from each point's relative error `errors[i] / values[i]`.
pub fn arrhenius(temperatures: &[f64], values: &[f64], errors: &[f64]) -> Result<ArrheniusFit> {
    let n = temperatures.len();
    if values.len() != n || errors.len() != n {
        return Err(Error::invalid(
            "Arrhenius fit: temperatures, values and errors differ in length",
        ));
    }
    if n < 2 {
        return Err(Error::invalid("Arrhenius fit needs at least two temperatures"));
    }
    for (&t, &y) in temperatures.iter().zip(values) {
        if !(t > 0.0 && t.is_finite()) {
            return Err(Error::invalid(format!(
                "Arrhenius fit: temperature {t} K is not positive"
            )));
        }
        if !(y > 0.0 && y.is_finite()) {
            return Err(Error::invalid(format!(
                "Arrhenius fit: value {y} at {t} K is not positive"
            )));
        }
    }
    let x: Vec<f64> = temperatures.iter().map(|t| 1.0 / (KB * t)).collect();
    let y: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let xm = x.iter().sum::<f64>() / n as f64;
    let ym = y.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|xi| (xi - xm).powi(2)).sum();
    if sxx <= 0.0 {
        return Err(Error::invalid("Arrhenius fit needs at least two distinct temperatures"));
    }
    let slope = x.iter().zip(&y).map(|(xi, yi)| (xi - xm) * (yi - ym)).sum::<f64>() / sxx;
    let intercept = ym - slope * xm;
    let var_slope = x
        .iter()
        .zip(values.iter().zip(errors))
        .map(|(xi, (v, e))| (xi - xm).powi(2) * (e / v).powi(2))
        .sum::<f64>()
        / (sxx * sxx);
    let rss: f64 = x
        .iter()
        .zip(&y)
        .map(|(xi, yi)| (yi - intercept - slope * xi).powi(2))
        .sum();
    Ok(ArrheniusFit {
        energy: -slope,
        energy_err: var_slope.sqrt(),
        prefactor: intercept.exp(),
        rms_residual_ln: (rss / n as f64).sqrt(),
        points: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn jackknife_of_a_mean_is_the_standard_error() {
        // Blocks holding (count, sum): the jackknife error of the mean equals s / sqrt(K).
        let xs = [1.0, 4.0, 2.0, 8.0, 5.0];
        let blocks: Vec<Vec<f64>> = xs.iter().map(|&x| vec![1.0, x]).collect();
        let (m, e) = jackknife(&blocks, |t| t[1] / t[0]);
        let mean = 4.0;
        let s2 = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 4.0;
        assert_relative_eq!(m, mean);
        assert_relative_eq!(e, (s2 / 5.0).sqrt(), epsilon = 1e-12);
    }

    #[test]
    fn arrhenius_recovers_energy_and_prefactor() {
        let ts = [500.0, 600.0, 700.0];
        let ys: Vec<f64> = ts.iter().map(|t| 3.0 * (-0.7 / (KB * t)).exp()).collect();
        let fit = arrhenius(&ts, &ys, &[0.0; 3]).unwrap();
        assert_relative_eq!(fit.energy, 0.7, epsilon = 1e-12);
        assert_relative_eq!(fit.prefactor, 3.0, epsilon = 1e-9);
        assert!(fit.rms_residual_ln < 1e-12);
    }

    #[test]
    fn arrhenius_error_is_propagated() {
        // Two points with 10% errors: sigma_E = sqrt(2) * 0.1 / |x1 - x2|.
        let ts = [500.0, 700.0];
        let fit = arrhenius(&ts, &[1.0, 2.0], &[0.1, 0.2]).unwrap();
        let dx = 1.0 / (KB * 500.0) - 1.0 / (KB * 700.0);
        assert_relative_eq!(fit.energy_err, 2f64.sqrt() * 0.1 / dx, epsilon = 1e-12);
    }

    #[test]
    fn arrhenius_rejects_bad_input() {
        assert!(arrhenius(&[500.0], &[1.0], &[0.1]).is_err());
        assert!(arrhenius(&[500.0, 500.0], &[1.0, 2.0], &[0.1, 0.1]).is_err());
        let e = arrhenius(&[500.0, -1.0], &[1.0, 2.0], &[0.1, 0.1]).unwrap_err();
        assert!(e.to_string().contains("not positive"), "{e}");
        assert!(arrhenius(&[500.0, 600.0], &[0.0, 2.0], &[0.1, 0.1]).is_err());
    }
}
