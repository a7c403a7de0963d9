//! Small statistics: least-squares lines, delete-one jackknife, Arrhenius fits.

use crate::units::KB;
use serde::{Deserialize, Serialize};

/// Ordinary least-squares line y = a + b x: (intercept a, slope b), `None` for fewer than two
/// distinct x.
pub fn line_fit(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let c = slope_coefficients(x)?;
    let b: f64 = c.iter().zip(y).map(|(c, y)| c * y).sum();
    let n = x.len() as f64;
    let a = (y.iter().sum::<f64>() - b * x.iter().sum::<f64>()) / n;
    Some((a, b))
}

/// The weights c_i of the least-squares slope, b = sum c_i y_i (c_i = (x_i - mean x) / Sxx),
/// which carry per-point uncertainties into the slope.
pub fn slope_coefficients(x: &[f64]) -> Option<Vec<f64>> {
    if x.len() < 2 {
        return None;
    }
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    Some(x.iter().map(|v| (v - mx) / sxx).collect())
}

/// Standard error of the least-squares slope from the scatter of the points about the line
/// (needs three points or more).
pub fn slope_residual_error(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 3 {
        return None;
    }
    let (a, b) = line_fit(x, y)?;
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    let ssr: f64 = x.iter().zip(y).map(|(x, y)| (y - a - b * x).powi(2)).sum();
    Some((ssr / (n - 2.0) / sxx).sqrt())
}

/// Delete-one jackknife: from the estimates that leave out one block each, their mean and the
/// standard error sqrt((n - 1)/n sum (θ_i - mean)^2) (Efron & Stein 1981). `None` for fewer than two
/// blocks or a non-finite estimate.
pub fn jackknife(leave_one_out: &[f64]) -> Option<f64> {
    let n = leave_one_out.len();
    if n < 2 || leave_one_out.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = leave_one_out.iter().sum::<f64>() / n as f64;
    let ss: f64 = leave_one_out.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss * (n as f64 - 1.0) / n as f64).sqrt())
}

/// Mean and sample standard deviation (`None` for the deviation of fewer than two values).
pub fn mean_std(v: &[f64]) -> (f64, Option<f64>) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (m, None);
    }
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, Some(var.sqrt()))
}

/// An Arrhenius fit y = y0 exp(-E / (k_B T)) by least squares on ln y against 1/(k_B T).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusFit {
    /// Activation energy, eV.
    pub energy: f64,
    /// Its uncertainty: the larger of `energy_err_propagated` and `energy_err_residual`, eV.
    pub energy_err: Option<f64>,
    /// The per-point uncertainties of ln y carried through the least-squares slope, eV.
    pub energy_err_propagated: Option<f64>,
    /// The standard error of the slope from the scatter about the line (3+ points), eV.
    pub energy_err_residual: Option<f64>,
    /// Prefactor y0 (units of y).
    pub prefactor: f64,
    /// Points used.
    pub points: usize,
}

/// Fits ln y = ln y0 - E/(k_B T) by unweighted least squares, so that fits of D, D_RW and
/// f = D / D_RW on the same temperatures give E_D = E_RW + E_f exactly, as the 2026 paper's
/// Arrhenius lines do. `sigma[i]` is the standard error of y_i (may be `None`). `None` for
/// fewer than two temperatures or a non-positive y.
pub fn arrhenius(temperatures: &[f64], y: &[f64], sigma: &[Option<f64>]) -> Option<ArrheniusFit> {
    if temperatures.len() != y.len() || y.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return None;
    }
    let x: Vec<f64> = temperatures.iter().map(|t| 1.0 / (KB * t)).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let (a, b) = line_fit(&x, &ly)?;
    let c = slope_coefficients(&x)?;
    let propagated = if sigma.len() == y.len() && sigma.iter().all(Option::is_some) {
        let var: f64 = c
            .iter()
            .zip(sigma.iter().zip(y))
            .map(|(c, (s, y))| (c * s.expect("checked") / y).powi(2))
            .sum();
        Some(var.sqrt())
    } else {
        None
    };
    let residual = slope_residual_error(&x, &ly);
    let err = match (propagated, residual) {
        (Some(p), Some(r)) => Some(p.max(r)),
        (p, r) => p.or(r),
    };
    Some(ArrheniusFit {
        energy: -b,
        energy_err: err,
        energy_err_propagated: propagated,
        energy_err_residual: residual,
        prefactor: a.exp(),
        points: y.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_slope_errors() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [3.0, 5.0, 7.0, 9.0];
        assert_eq!(line_fit(&x, &y), Some((1.0, 2.0)));
        assert_eq!(slope_residual_error(&x, &y), Some(0.0));
        // y = x + (+1, -1, -1, +1)/10: slope 1, residual SE from the textbook formula
        let y = [1.1, 1.9, 2.9, 4.1];
        let (a, b) = line_fit(&x, &y).unwrap();
        assert!((b - 1.0).abs() < 1e-12 && a.abs() < 1e-12, "{a} {b}");
        let se = slope_residual_error(&x, &y).unwrap();
        assert!((se - (0.04f64 / 2.0 / 5.0).sqrt()).abs() < 1e-12, "{se}");
        assert_eq!(line_fit(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn jackknife_of_the_mean_is_the_standard_error() {
        let v: [f64; 5] = [1.0, 4.0, 2.0, 8.0, 5.0];
        let n = v.len() as f64;
        let loo: Vec<f64> = (0..v.len())
            .map(|i| (v.iter().sum::<f64>() - v[i]) / (n - 1.0))
            .collect();
        let (_, sd) = mean_std(&v);
        let want = sd.unwrap() / n.sqrt();
        assert!((jackknife(&loo).unwrap() - want).abs() < 1e-12);
        assert_eq!(jackknife(&[1.0]), None);
    }

    #[test]
    fn arrhenius_recovers_energy_and_adds_up() {
        let t = [600.0, 650.0, 700.0];
        let d: Vec<f64> = t.iter().map(|t| 2.0 * (-1.22 / (KB * t)).exp()).collect();
        let drw: Vec<f64> = t
            .iter()
            .map(|t| 0.5 * (-0.43 / (KB * t)).exp() * (1.0 + 0.01 * t / 700.0))
            .collect();
        let f: Vec<f64> = d.iter().zip(&drw).map(|(a, b)| a / b).collect();
        let none = [None; 3];
        let ed = arrhenius(&t, &d, &none).unwrap();
        assert!((ed.energy - 1.22).abs() < 1e-12 && (ed.prefactor - 2.0).abs() < 1e-9);
        let erw = arrhenius(&t, &drw, &none).unwrap();
        let ef = arrhenius(&t, &f, &none).unwrap();
        assert!((ed.energy - erw.energy - ef.energy).abs() < 1e-12);
        // a 1 % error on each point of a two-point fit: sqrt(2) 0.01 / |Δ(1/kT)|
        let s = [Some(0.01 * d[0]), Some(0.01 * d[2])];
        let two = arrhenius(&[600.0, 700.0], &[d[0], d[2]], &s).unwrap();
        let dx = 1.0 / (KB * 600.0) - 1.0 / (KB * 700.0);
        assert!((two.energy_err.unwrap() - 0.01 * 2f64.sqrt() / dx).abs() < 1e-12);
        assert_eq!(two.energy_err_residual, None);
    }
}
