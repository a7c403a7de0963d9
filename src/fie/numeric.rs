//! Small scalar tools the FIE model needs: Brent's bracketing root finder and a golden-section
//! maximiser. Both take fallible functions so that model errors propagate instead of panicking.

use crate::{Error, Result};

/// A root of `f` in [a, b] by Brent's method (Brent, "Algorithms for Minimization without
/// Derivatives", 1973, ch. 4): inverse quadratic interpolation and secant steps guarded by
/// bisection, so it never leaves the bracket and converges for any continuous `f`.
/// `fa = f(a)` and `fb = f(b)` must have opposite signs (or one be zero). Stops when the
/// bracket is narrower than `xtol` (plus a few ulps of the root).
pub fn brent(mut f: impl FnMut(f64) -> Result<f64>, a: f64, b: f64, fa: f64, fb: f64, xtol: f64) -> Result<f64> {
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    if !(fa.is_finite() && fb.is_finite()) || fa.signum() == fb.signum() {
        return Err(Error::invalid(format!(
            "root search: [{a}, {b}] does not bracket a root (f = {fa:e}, {fb:e})"
        )));
    }
    let (mut a, mut b, mut fa, mut fb) = (a, b, fa, fb);
    let (mut c, mut fc) = (b, fb);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..300 {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * xtol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * xm * s, 1.0 - s)
            } else {
                let q = fa / fc;
                let r = fb / fc;
                (
                    s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            if 2.0 * p < (3.0 * xm * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(xm) };
        fb = f(b)?;
        if !fb.is_finite() {
            return Err(Error::invalid(format!("root search: f({b}) = {fb}")));
        }
    }
    Err(Error::invalid("root search: no convergence in 300 iterations"))
}

/// The maximum of a unimodal `f` on [a, b] by golden-section search, to width `xtol` (the
/// location of a smooth maximum is resolved only to ~1e-8 relative; its value to full precision).
/// Returns (x, f(x)).
pub fn golden_max(mut f: impl FnMut(f64) -> Result<f64>, a: f64, b: f64, xtol: f64) -> Result<(f64, f64)> {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (a, b);
    let mut x1 = b - g * (b - a);
    let mut x2 = a + g * (b - a);
    let (mut f1, mut f2) = (f(x1)?, f(x2)?);
    while (b - a).abs() > xtol {
        if f1 >= f2 {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = f(x1)?;
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = f(x2)?;
        }
    }
    Ok(if f1 >= f2 { (x1, f1) } else { (x2, f2) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brent_finds_roots_to_tolerance() {
        let mut calls = 0;
        let r = brent(
            |x| {
                calls += 1;
                Ok(x * x * x - 2.0 * x - 5.0)
            },
            2.0,
            3.0,
            -1.0,
            16.0,
            1e-14,
        )
        .unwrap();
        // Wallis's cubic; root 2.0945514815423265...
        assert!((r - 2.094_551_481_542_326_5).abs() < 1e-14);
        assert!(calls < 15, "{calls} calls");
        let r = brent(|x| Ok(x.cos() - x), 0.0, 1.0, 1.0, 1f64.cos() - 1.0, 1e-15).unwrap();
        assert!((r - 0.739_085_133_215_160_6).abs() < 1e-15);
        assert!(brent(Ok, 1.0, 2.0, 1.0, 2.0, 1e-10).is_err());
    }

    #[test]
    fn golden_section_finds_a_maximum() {
        let (x, fx) = golden_max(|x| Ok(-(x - 0.3) * (x - 0.3) + 2.0), -1.0, 1.0, 1e-10).unwrap();
        // A smooth maximum is located only to ~sqrt(machine epsilon) by function comparisons.
        assert!((x - 0.3).abs() < 1e-7);
        assert!((fx - 2.0).abs() < 1e-15);
    }
}
