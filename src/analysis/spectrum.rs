//! The barrier spectra of Fan, Iwashita and Egami (Nat. Commun. 8, 15417, 2017):
//!
//! * activation energies, eq. (3):
//!   P(E_A) = W (1/e_A) exp(-E_A/e_A) + (1 - W) E_A exp(-(E_A - m)^2/(2 s^2)) / J(m, s)
//!   on E_A >= 0, an exponential mode M1 of weight W and a shifted-Rayleigh mode M2, with
//!   J(m, s) = integral_0^inf E exp(-(E - m)^2/(2 s^2)) dE so that W0 = (1 - W)/J;
//! * relaxation energies, eq. (5): P(E_R) = (1/e_R) exp(-E_R/e_R).
//!
//! In the reduced variables a = m/s and b = (E - m)/s the M2 tail integral is
//! T(a, b) = integral_b^inf (a + u) exp(-u^2/2) du = a sqrt(pi/2) erfc(b/sqrt 2) + exp(-b^2/2),
//! so J = s^2 T(a, -a) and the M2 survival function is T(a, b)/T(a, -a). For b >= 0 it is
//! evaluated as exp(-b^2/2) [g(b/sqrt 2) + (a + b) sqrt(pi/2) erfcx(b/sqrt 2)] with
//! g(x) = 1 - sqrt(pi) x erfcx(x) ([`super::special::erfcx_gap`]): every term is non-negative, so
//! the density, its normalisation and its derivatives stay accurate for any m, even far below 0.

use super::special::{erfc, erfcx, erfcx_gap};
use crate::{Error, Result};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_1_SQRT_2;

/// sqrt(pi/2).
const SQRT_PI_2: f64 = 1.253_314_137_315_500_3;

/// ln T(a, b) (see the module documentation); requires a + b >= 0 (that is, E >= 0).
fn ln_tail(a: f64, b: f64) -> f64 {
    if b >= 0.0 {
        let x = b * FRAC_1_SQRT_2;
        -0.5 * b * b + (erfcx_gap(x) + (a + b) * SQRT_PI_2 * erfcx(x)).ln()
    } else {
        // Here a >= -b > 0: both terms are positive.
        (a * SQRT_PI_2 * erfc(b * FRAC_1_SQRT_2) + (-0.5 * b * b).exp()).ln()
    }
}

/// The M2 normalisation at one (m, s): ln J and the ratio G0/h with
/// G0 = integral_{-a}^inf exp(-u^2/2) du and h = T(a, -a), which give
/// d ln J/dm = ratio/s and d ln J/ds = (2 - a ratio)/s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct M2Norm {
    pub ln_j: f64,
    pub ratio: f64,
}

impl M2Norm {
    pub(crate) fn new(m: f64, s: f64) -> M2Norm {
        let a = m / s;
        let ln_j = 2.0 * s.ln() + ln_tail(a, -a);
        let ratio = if a <= 0.0 {
            // G0 = sqrt(pi/2) exp(-a^2/2) erfcx(x), h = exp(-a^2/2) g(x), x = -a/sqrt 2.
            let x = -a * FRAC_1_SQRT_2;
            SQRT_PI_2 * erfcx(x) / erfcx_gap(x)
        } else {
            let g0 = SQRT_PI_2 * erfc(-a * FRAC_1_SQRT_2);
            1.0 / (a + (-0.5 * a * a).exp() / g0)
        };
        M2Norm { ln_j, ratio }
    }
}

/// ln W - ln e_A and ln(1 - W) - ln J.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LnConsts {
    c1: f64,
    c2: f64,
}

impl LnConsts {
    /// (ln W P_M1(e), ln (1 - W) P_M2(e)).
    #[inline]
    pub(crate) fn at(&self, sp: &FieSpectrum, e: f64) -> (f64, f64) {
        let z = (e - sp.m) / sp.s;
        (self.c1 - e / sp.e_a, self.c2 + e.ln() - 0.5 * z * z)
    }
}

/// The FIE activation-energy spectrum, eq. (3) (energies in eV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieSpectrum {
    /// Weight of the exponential mode M1, in [0, 1].
    pub w: f64,
    /// Location parameter of the shifted-Rayleigh mode M2, eV.
    pub m: f64,
    /// Decay energy of M1, eV (FIE: 0.5).
    pub e_a: f64,
    /// Width of M2, eV (FIE: 0.49).
    pub s: f64,
}

impl FieSpectrum {
    /// FIE's M1 decay energy, eV.
    pub const FIE_E_A: f64 = 0.5;
    /// FIE's M2 width, eV.
    pub const FIE_S: f64 = 0.49;

    /// A spectrum, checked: W in [0, 1], m finite, e_A and s positive and finite.
    pub fn new(w: f64, m: f64, e_a: f64, s: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&w) {
            return Err(Error::invalid(format!("FIE spectrum: W = {w} is outside [0, 1]")));
        }
        if !m.is_finite() {
            return Err(Error::invalid(format!("FIE spectrum: m = {m} is not finite")));
        }
        for (name, v) in [("e_A", e_a), ("s", s)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(format!(
                    "FIE spectrum: {name} = {v} eV must be positive"
                )));
            }
        }
        Ok(FieSpectrum { w, m, e_a, s })
    }

    pub(crate) fn norm(&self) -> M2Norm {
        M2Norm::new(self.m, self.s)
    }

    /// ln of the two weighted component densities (W P_M1, (1 - W) P_M2) at `e` >= 0.
    pub(crate) fn ln_components(&self, e: f64, norm: &M2Norm) -> (f64, f64) {
        self.ln_consts(norm).at(self, e)
    }

    /// The parameter-only parts of [`FieSpectrum::ln_components`], computed once per sample.
    pub(crate) fn ln_consts(&self, norm: &M2Norm) -> LnConsts {
        LnConsts {
            c1: self.w.ln() - self.e_a.ln(),
            c2: (1.0 - self.w).ln() - norm.ln_j,
        }
    }

    /// ln P(E_A) (1/eV); -inf below 0.
    pub fn ln_pdf(&self, e: f64) -> f64 {
        if e < 0.0 {
            return f64::NEG_INFINITY;
        }
        let (l1, l2) = self.ln_components(e, &self.norm());
        log_add_exp(l1, l2)
    }

    /// P(E_A), 1/eV.
    pub fn pdf(&self, e: f64) -> f64 {
        self.ln_pdf(e).exp()
    }

    /// The weighted M1 part W (1/e_A) exp(-E/e_A), 1/eV.
    pub fn pdf_m1(&self, e: f64) -> f64 {
        if e < 0.0 {
            return 0.0;
        }
        self.w / self.e_a * (-e / self.e_a).exp()
    }

    /// The weighted M2 part (1 - W) E exp(-(E - m)^2/(2 s^2))/J, 1/eV.
    pub fn pdf_m2(&self, e: f64) -> f64 {
        if e <= 0.0 {
            return 0.0;
        }
        self.ln_components(e, &self.norm()).1.exp()
    }

    /// The cumulative distribution function as a closure that computes the M2 normalisation
    /// once (for many evaluations, as in a KS test).
    pub fn cdf_fn(&self) -> impl Fn(f64) -> f64 + '_ {
        let a = self.m / self.s;
        let lt0 = ln_tail(a, -a);
        move |e| 1.0 - self.sf_with(e, a, lt0)
    }

    /// P(E_A > e), with a = m/s and lt0 = ln T(a, -a) given.
    fn sf_with(&self, e: f64, a: f64, lt0: f64) -> f64 {
        if e <= 0.0 {
            return 1.0;
        }
        let s1 = (-e / self.e_a).exp();
        let s2 = if self.w < 1.0 {
            (ln_tail(a, (e - self.m) / self.s) - lt0).exp().min(1.0)
        } else {
            0.0
        };
        self.w * s1 + (1.0 - self.w) * s2
    }

    /// Survival function P(E_A > e).
    pub fn sf(&self, e: f64) -> f64 {
        let a = self.m / self.s;
        self.sf_with(e, a, ln_tail(a, -a))
    }

    /// Cumulative distribution function P(E_A <= e).
    pub fn cdf(&self, e: f64) -> f64 {
        1.0 - self.sf(e)
    }

    /// Mean of the spectrum, eV: W e_A + (1 - W) `<E>_M2`, with `<E>_M2` = J2/J by
    /// J2 = s^3 [(a^2 + 1) G0 + a exp(-a^2/2)] (integration by parts).
    pub fn mean(&self) -> f64 {
        let a = self.m / self.s;
        let g0 = SQRT_PI_2 * erfc(-a * FRAC_1_SQRT_2);
        let h = ln_tail(a, -a).exp();
        let m2 = self.s * ((a * a + 1.0) * g0 + a * (-0.5 * a * a).exp()) / h;
        self.w * self.e_a + (1.0 - self.w) * m2
    }

    /// One draw: M1 with probability W by inversion, M2 by rejection from a normal of width s
    /// centred on the M2 mode mu = (m + sqrt(m^2 + 4 s^2))/2, truncated at 0: the acceptance
    /// probability (E/mu) exp(-(mu - m)(E - mu)/s^2) is the density ratio scaled to peak at 1
    /// (at E = mu, since mu (mu - m) = s^2), so the draws are exact.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        if u < self.w {
            let v: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
            return -self.e_a * v.ln();
        }
        let (m, s) = (self.m, self.s);
        let mu = 0.5 * (m + (m * m + 4.0 * s * s).sqrt());
        let c = (mu - m) / (s * s);
        loop {
            let z: f64 = rng.sample(StandardNormal);
            let e = mu + s * z;
            if e <= 0.0 {
                continue;
            }
            let accept = (e / mu) * (-c * (e - mu)).exp();
            if rng.random::<f64>() < accept {
                return e;
            }
        }
    }
}

/// The FIE relaxation-energy spectrum, eq. (5): an exponential of scale e_R (eV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpSpectrum {
    /// Mean relaxation energy e_R, eV (FIE: 0.32).
    pub e_r: f64,
}

impl ExpSpectrum {
    /// FIE's relaxation energy scale, eV.
    pub const FIE_E_R: f64 = 0.32;

    /// A spectrum, checked: e_R positive and finite.
    pub fn new(e_r: f64) -> Result<Self> {
        if !(e_r > 0.0 && e_r.is_finite()) {
            return Err(Error::invalid(format!(
                "exponential spectrum: e_R = {e_r} eV must be positive"
            )));
        }
        Ok(ExpSpectrum { e_r })
    }
    /// P(E_R), 1/eV.
    pub fn pdf(&self, e: f64) -> f64 {
        if e < 0.0 {
            0.0
        } else {
            (-e / self.e_r).exp() / self.e_r
        }
    }
    /// P(E_R <= e).
    pub fn cdf(&self, e: f64) -> f64 {
        if e <= 0.0 {
            0.0
        } else {
            -(-e / self.e_r).exp_m1()
        }
    }
    /// One draw by inversion.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v: f64 = 1.0 - rng.random::<f64>();
        -self.e_r * v.ln()
    }
}

/// ln(e^x + e^y) without overflow; -inf when both are -inf.
pub(crate) fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// The unnormalised M2 shape integral by brute force (composite Simpson), for tests.
#[cfg(test)]
pub(crate) fn m2_integral_numeric(m: f64, s: f64, power: i32, upper: f64) -> f64 {
    let n = 200_000;
    let h = upper / n as f64;
    let f = |e: f64| e.powi(power) * (-(e - m) * (e - m) / (2.0 * s * s)).exp();
    let mut sum = f(0.0) + f(upper);
    for i in 1..n {
        sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn normalisation_matches_quadrature_for_any_m() {
        // J(m, s) and its first moment against brute-force quadrature, from m far below zero
        // (where J is tiny and the closed form would cancel) to m far above.
        for &(m, s) in &[
            (-3.0f64, 0.49f64),
            (-0.5, 0.49),
            (0.0, 0.3),
            (0.4, 0.49),
            (1.0, 0.49),
            (3.0, 0.2),
        ] {
            let upper = m.max(0.0) + 40.0 * s;
            let j = m2_integral_numeric(m, s, 1, upper);
            let norm = M2Norm::new(m, s);
            assert!(
                ((norm.ln_j.exp() - j) / j).abs() < 1e-9,
                "m {m}: {} vs {j}",
                norm.ln_j.exp()
            );
            let sp = FieSpectrum::new(0.0, m, 0.5, s).unwrap();
            let mean = m2_integral_numeric(m, s, 2, upper) / j;
            assert!(
                ((sp.mean() - mean) / mean).abs() < 1e-9,
                "m {m}: mean {} vs {mean}",
                sp.mean()
            );
        }
    }

    #[test]
    fn derivatives_of_ln_j_match_finite_differences() {
        for &(m, s) in &[(-4.0, 0.5), (-0.7, 0.49), (0.0, 0.49), (1.1, 0.49), (2.5, 0.3)] {
            let n = M2Norm::new(m, s);
            let h = 1e-6;
            let dm = (M2Norm::new(m + h, s).ln_j - M2Norm::new(m - h, s).ln_j) / (2.0 * h);
            let ds = (M2Norm::new(m, s + h).ln_j - M2Norm::new(m, s - h).ln_j) / (2.0 * h);
            let a = m / s;
            assert!(
                (dm - n.ratio / s).abs() < 1e-7 * (1.0 + dm.abs()),
                "m {m}: {dm} vs {}",
                n.ratio / s
            );
            let want = (2.0 - a * n.ratio) / s;
            assert!((ds - want).abs() < 1e-7 * (1.0 + ds.abs()), "m {m}: {ds} vs {want}");
        }
    }

    #[test]
    fn pdf_integrates_to_one_and_cdf_is_its_integral() {
        let sp = FieSpectrum::new(0.1, 1.0, 0.5, 0.49).unwrap();
        // Simpson on [0, 12] eV.
        let n = 120_000;
        let h = 12.0 / n as f64;
        let mut acc = sp.pdf(0.0) + sp.pdf(12.0);
        for i in 1..n {
            acc += sp.pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        assert!((acc * h / 3.0 - 1.0).abs() < 1e-10);
        // The cdf at 1.3 eV against the integral of the pdf up to it.
        let n = 13_000;
        let h = 1.3 / n as f64;
        let mut acc = sp.pdf(0.0) + sp.pdf(1.3);
        for i in 1..n {
            acc += sp.pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        assert!((acc * h / 3.0 - sp.cdf(1.3)).abs() < 1e-11);
        assert!((sp.cdf(1.3) + sp.sf(1.3) - 1.0).abs() < 1e-15);
        // The components add up to the density.
        let e = 0.77;
        assert!((sp.pdf_m1(e) + sp.pdf_m2(e) - sp.pdf(e)).abs() < 1e-14);
    }

    #[test]
    fn draws_follow_the_distribution() {
        let sp = FieSpectrum::new(0.1, 1.0, 0.5, 0.49).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 20_000;
        let mut x: Vec<f64> = (0..n).map(|_| sp.sample(&mut rng)).collect();
        x.sort_by(f64::total_cmp);
        // KS distance to the exact cdf below the 1 % critical value 1.63/sqrt(n).
        let d = x
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                let f = sp.cdf(e);
                (f - i as f64 / n as f64).max((i + 1) as f64 / n as f64 - f)
            })
            .fold(0.0, f64::max);
        assert!(d < 1.63 / (n as f64).sqrt(), "D = {d}");
        // The sample mean within 4 standard errors of the exact mean.
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        assert!(
            (mean - sp.mean()).abs() < 4.0 * (var / n as f64).sqrt(),
            "{mean} vs {}",
            sp.mean()
        );
    }

    #[test]
    fn invalid_parameters_are_errors() {
        assert!(FieSpectrum::new(1.2, 1.0, 0.5, 0.49).is_err());
        assert!(FieSpectrum::new(0.1, f64::NAN, 0.5, 0.49).is_err());
        assert!(FieSpectrum::new(0.1, 1.0, 0.0, 0.49).is_err());
        assert!(ExpSpectrum::new(-0.3).is_err());
    }
}
