//! Globally adaptive Gauss-Kronrod (G7, K15) quadrature, and the M2 integral of the FIE model
//! computed with it in log space.
//!
//! The rule's nodes and weights are the 80-digit values of L. W. Fullerton (Bell Labs, 1981) as
//! tabulated in QUADPACK (Piessens et al., 1983); the tests check that K15 integrates every
//! polynomial of degree <= 22 and G7 every polynomial of degree <= 13 exactly.

use crate::{Error, Result};

/// Kronrod abscissae on [-1, 1] (positive half, decreasing; the last is the centre).
/// Odd positions (1, 3, 5, 7) are also the 7-point Gauss abscissae.
#[allow(clippy::excessive_precision)] // the published 33-digit values, kept verbatim
const XGK: [f64; 8] = [
    0.991_455_371_120_812_639_206_854_697_526_329,
    0.949_107_912_342_758_524_526_189_684_047_851,
    0.864_864_423_359_769_072_789_712_788_640_926,
    0.741_531_185_599_394_439_863_864_773_280_788,
    0.586_087_235_467_691_130_294_144_838_258_730,
    0.405_845_151_377_397_166_906_606_412_076_961,
    0.207_784_955_007_898_467_600_689_403_773_245,
    0.0,
];
/// Kronrod weights matching [`XGK`].
#[allow(clippy::excessive_precision)] // the published 33-digit values, kept verbatim
const WGK: [f64; 8] = [
    0.022_935_322_010_529_224_963_732_008_058_970,
    0.063_092_092_629_978_553_290_700_663_189_204,
    0.104_790_010_322_250_183_839_876_322_541_518,
    0.140_653_259_715_525_918_745_189_590_510_238,
    0.169_004_726_639_267_902_826_583_426_598_550,
    0.190_350_578_064_785_409_913_256_402_421_014,
    0.204_432_940_075_298_892_414_161_999_234_649,
    0.209_482_141_084_727_828_012_999_174_891_714,
];
/// Gauss weights at XGK[1], XGK[3], XGK[5] and the centre.
#[allow(clippy::excessive_precision)] // the published 33-digit values, kept verbatim
const WG: [f64; 4] = [
    0.129_484_966_168_869_693_270_611_432_679_082,
    0.279_705_391_489_276_667_901_467_771_423_780,
    0.381_830_050_505_118_944_950_369_775_488_975,
    0.417_959_183_673_469_387_755_102_040_816_327,
];

/// Relative accuracy the FIE model asks of its M2 integrals (the issue asks for 1e-10; the
/// estimate |K15 - G7| is pessimistic, so the true error is far smaller still).
pub const M2_RTOL: f64 = 1e-12;

/// The outcome of an adaptive integration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quadrature {
    /// The integral (sum of the K15 values of all subintervals).
    pub value: f64,
    /// Estimated absolute error (sum of |K15 - G7| over subintervals).
    pub error: f64,
    /// Integrand evaluations.
    pub evals: usize,
    /// Subintervals at the end.
    pub intervals: usize,
}

/// (K15, |K15 - G7|) on [a, b].
fn gk15(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut k = WGK[7] * fc;
    let mut g = WG[3] * fc;
    for j in 0..7 {
        let dx = h * XGK[j];
        let s = f(c - dx) + f(c + dx);
        k += WGK[j] * s;
        if j % 2 == 1 {
            g += WG[j / 2] * s;
        }
    }
    (k * h, ((k - g) * h).abs())
}

/// Integrate `f` over the consecutive intervals given by `breaks` (at least two increasing
/// points), bisecting the subinterval with the largest error estimate until the total estimate is
/// at most `max(rtol |I|, atol)`. Fails after `max_intervals` subintervals.
pub fn integrate(
    mut f: impl FnMut(f64) -> f64,
    breaks: &[f64],
    rtol: f64,
    atol: f64,
    max_intervals: usize,
) -> Result<Quadrature> {
    if breaks.len() < 2
        || breaks
            .windows(2)
            .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
    {
        return Err(Error::invalid(format!(
            "quadrature: breakpoints must be increasing, got {breaks:?}"
        )));
    }
    // (a, b, value, error)
    let mut parts: Vec<(f64, f64, f64, f64)> = breaks
        .windows(2)
        .map(|w| {
            let (v, e) = gk15(&mut f, w[0], w[1]);
            (w[0], w[1], v, e)
        })
        .collect();
    let mut evals = 15 * parts.len();
    loop {
        let value: f64 = parts.iter().map(|p| p.2).sum();
        let error: f64 = parts.iter().map(|p| p.3).sum();
        if !value.is_finite() || !error.is_finite() {
            return Err(Error::invalid(format!(
                "quadrature: the integrand is not finite on [{}, {}]",
                breaks[0],
                breaks[breaks.len() - 1]
            )));
        }
        if error <= (rtol * value.abs()).max(atol) {
            return Ok(Quadrature {
                value,
                error,
                evals,
                intervals: parts.len(),
            });
        }
        if parts.len() >= max_intervals {
            return Err(Error::invalid(format!(
                "quadrature: no convergence to relative {rtol:e} in {max_intervals} subintervals \
                 (value {value:e}, error estimate {error:e})"
            )));
        }
        let worst = (0..parts.len())
            .max_by(|&i, &j| parts[i].3.total_cmp(&parts[j].3))
            .expect("at least one subinterval");
        let (a, b, _, _) = parts[worst];
        let mid = 0.5 * (a + b);
        if !(mid > a && mid < b) {
            return Err(Error::invalid(format!(
                "quadrature: subinterval [{a:e}, {b:e}] cannot be bisected further"
            )));
        }
        let (v1, e1) = gk15(&mut f, a, mid);
        let (v2, e2) = gk15(&mut f, mid, b);
        evals += 30;
        parts[worst] = (a, mid, v1, e1);
        parts.push((mid, b, v2, e2));
    }
}

/// ln of the M2 integral of FIE eq. (3)-(4),
///   J(m, s, beta) = integral_0^inf x exp(-(x - m)^2 / (2 s^2) - beta x) dx,
/// by adaptive Gauss-Kronrod to relative accuracy `rtol`. beta = 1/(k_B T) in 1/eV (0 gives the
/// normalisation integral of M2). Works in log space so that neither tiny nor huge values
/// underflow: the log-integrand phi(x) = ln x - (x - m)^2/(2 s^2) - beta x is concave, its
/// maximum x* is known in closed form, the integral of exp(phi - phi(x*)) is formed on
/// [0, x_hi] with phi(x_hi) <= phi(x*) - 60, and the neglected tail (at most
/// e^-60 / |phi'(x_hi)| by concavity) is far below `rtol`.
pub fn ln_m2_integral(m: f64, s: f64, beta: f64, rtol: f64) -> Result<f64> {
    let ok = s > 0.0 && s.is_finite() && m.is_finite() && beta >= 0.0 && beta.is_finite();
    if !ok {
        return Err(Error::invalid(format!(
            "M2 integral needs s > 0, finite m and beta >= 0 (s = {s}, m = {m}, beta = {beta})"
        )));
    }
    let s2 = s * s;
    let mu = m - beta * s2;
    let r = (mu * mu + 4.0 * s2).sqrt();
    // Root of x^2 - mu x - s^2 = 0 written without cancellation.
    let xs = if mu >= 0.0 { 0.5 * (mu + r) } else { 2.0 * s2 / (r - mu) };
    let phi = |x: f64| x.ln() - (x - m) * (x - m) / (2.0 * s2) - beta * x;
    let phi_star = phi(xs);
    let width = 1.0 / (1.0 / (xs * xs) + 1.0 / s2).sqrt();
    const DROP: f64 = 60.0;
    let mut d = width;
    while phi(xs + d) - phi_star > -DROP {
        d *= 2.0;
    }
    let x_hi = xs + d;
    let mut breaks = vec![0.0, xs];
    if xs + 4.0 * width < x_hi {
        breaks.push(xs + 4.0 * width);
    }
    breaks.push(x_hi);
    let q = integrate(
        |x| {
            if x > 0.0 {
                (phi(x) - phi_star).exp()
            } else {
                0.0
            }
        },
        &breaks,
        rtol,
        0.0,
        400,
    )?;
    Ok(phi_star + q.value.ln())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// erfc by the all-positive series erf(x) = 2/sqrt(pi) exp(-x^2) sum (2x^2)^n x / (2n+1)!!
    /// for x < 2 and the Laplace continued fraction above; erfc(-x) = 2 - erfc(x).
    pub(crate) fn erfc(x: f64) -> f64 {
        if x < 0.0 {
            return 2.0 - erfc(-x);
        }
        if x < 2.0 {
            let mut term = x;
            let mut sum = x;
            let mut n = 0.0;
            while term > 1e-17 * sum {
                n += 1.0;
                term *= 2.0 * x * x / (2.0 * n + 1.0);
                sum += term;
            }
            1.0 - 2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp() * sum
        } else {
            (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + cf_tail(x))
        }
    }

    /// t(z) = (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...)))), so that
    /// erfc(z) = exp(-z^2) / (sqrt(pi) (z + t(z))); evaluated backwards from a deep start.
    pub(crate) fn cf_tail(z: f64) -> f64 {
        let mut t = 0.0;
        for k in (1..=4000).rev() {
            t = (k as f64 / 2.0) / (z + t);
        }
        t
    }

    /// Closed form of ln J(m, s, beta): completing the square gives
    /// J = exp(-beta m + beta^2 s^2 / 2) K(mu), mu = m - beta s^2,
    /// K(mu) = s^2 exp(-mu^2/(2 s^2)) + mu s sqrt(pi/2) erfc(-mu/(s sqrt 2)); for mu < 0 the two
    /// terms cancel, and K = s^2 exp(-z^2) t(z)/(z + t(z)) with z = -mu/(s sqrt 2) instead.
    pub(crate) fn ln_m2_closed(m: f64, s: f64, beta: f64) -> f64 {
        let mu = m - beta * s * s;
        let z = -mu / (s * std::f64::consts::SQRT_2);
        let ln_k = if mu >= 0.0 {
            (s * s * (-z * z).exp()
                + mu * s * (std::f64::consts::PI / 2.0).sqrt() * erfc(-mu / (s * std::f64::consts::SQRT_2)))
            .ln()
        } else if z < 2.0 {
            // Moderate cancellation (at most about one digit for z < 2).
            (s * s * (-z * z).exp() + mu * s * (std::f64::consts::PI / 2.0).sqrt() * erfc(z)).ln()
        } else {
            let t = cf_tail(z);
            2.0 * s.ln() - z * z + (t / (z + t)).ln()
        };
        -beta * m + 0.5 * beta * beta * s * s + ln_k
    }

    #[test]
    fn gauss_kronrod_rule_is_exact_for_polynomials() {
        for deg in 0..=22 {
            let exact = if deg % 2 == 0 { 2.0 / (deg as f64 + 1.0) } else { 0.0 };
            let mut f = |x: f64| x.powi(deg);
            let (k, _) = gk15(&mut f, -1.0, 1.0);
            assert!((k - exact).abs() < 2e-16, "K15 degree {deg}: {k} vs {exact}");
            // The Gauss part alone: K - |K - G| sign aside, compute G directly.
            let mut g = WG[3] * f(0.0);
            for j in [1, 3, 5] {
                g += WG[j / 2] * (f(XGK[j]) + f(-XGK[j]));
            }
            if deg <= 13 {
                assert!((g - exact).abs() < 2e-16, "G7 degree {deg}: {g} vs {exact}");
            }
        }
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values (Abramowitz & Stegun Table 7.1 extended; Wolfram to 16 digits).
        let cases = [
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.0, 4.677_734_981_047_266e-3),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
            (10.0, 2.088_487_583_762_545e-45),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(((got - want) / want).abs() < 1e-14, "erfc({x}) = {got}, want {want}");
        }
        assert!((erfc(-1.0) - 1.842_700_792_949_715).abs() < 1e-15);
        // The two branches agree where both converge (the series forms 1 - erf, so its error is
        // absolute, a few ulps of 1).
        let series = |x: f64| {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term > 1e-17 * sum {
                n += 1.0;
                term *= 2.0 * x * x / (2.0 * n + 1.0);
                sum += term;
            }
            1.0 - 2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp() * sum
        };
        for x in [2.0, 2.5, 3.0] {
            assert!((series(x) - erfc(x)).abs() < 5e-15, "x = {x}");
        }
    }

    #[test]
    fn adaptive_integration_of_known_integrals() {
        let q = integrate(|x| x.sin(), &[0.0, std::f64::consts::PI], 1e-13, 0.0, 100).unwrap();
        assert!((q.value - 2.0).abs() < 1e-14);
        // A sharp peak needs subdivision: integral of 1/(1e-6 + x^2) over [-1, 1].
        let eps: f64 = 1e-6;
        let exact = 2.0 / eps.sqrt() * (1.0 / eps.sqrt()).atan();
        let q = integrate(|x| 1.0 / (eps + x * x), &[-1.0, 1.0], 1e-12, 0.0, 500).unwrap();
        assert!(((q.value - exact) / exact).abs() < 1e-12, "{q:?} vs {exact}");
        assert!(q.intervals > 10);
        assert!(integrate(|x| x, &[1.0, 0.0], 1e-10, 0.0, 10).is_err());
        assert!(integrate(|x| 1.0 / x, &[0.0, 1.0], 1e-10, 0.0, 50).is_err());
    }

    #[test]
    fn m2_integral_matches_closed_form_to_1e_10() {
        let kb = crate::units::KB;
        let mut worst: f64 = 0.0;
        for &m in &[-5.0, -2.0, -0.5, 0.0, 0.4, 1.0, 1.6, 2.5, 5.0] {
            for &s in &[0.02, 0.1, 0.3, 0.49, 1.0, 2.0] {
                for &t in &[0.0, 50.0, 300.0, 760.0, 1500.0, 5000.0] {
                    let beta = if t == 0.0 { 0.0 } else { 1.0 / (kb * t) };
                    let q = ln_m2_integral(m, s, beta, M2_RTOL).unwrap();
                    let c = ln_m2_closed(m, s, beta);
                    // Relative error of J itself is |ln J_q - ln J_c|. The closed form sums
                    // -beta m + beta^2 s^2/2 + ln K, terms of up to ~1e4 at 50 K that cancel,
                    // so allow a few ulps of them on top of 1e-12 (never more than the 1e-10
                    // the model promises).
                    let rel = (q - c).abs();
                    let mu = m - beta * s * s;
                    let terms = (beta * m).abs() + 0.5 * (beta * s).powi(2) + mu * mu / (2.0 * s * s);
                    let allowed = 1e-12 + 8.0 * f64::EPSILON * terms;
                    worst = worst.max(rel);
                    assert!(rel < allowed && rel < 1e-10, "m {m} s {s} T {t}: ln J {q} vs {c}");
                }
            }
        }
        eprintln!("worst relative error of the M2 integral: {worst:e}");
    }

    #[test]
    fn m2_integral_rejects_bad_parameters() {
        assert!(ln_m2_integral(1.0, 0.0, 1.0, 1e-12).is_err());
        assert!(ln_m2_integral(1.0, -0.5, 1.0, 1e-12).is_err());
        assert!(ln_m2_integral(f64::NAN, 0.5, 1.0, 1e-12).is_err());
        assert!(ln_m2_integral(1.0, 0.5, -1.0, 1e-12).is_err());
    }
}
