//! Anchoring the FIE model on one sample's spectrum fit: the base parameter set's E_IS
//! dependence of W and m, moved so that at the sample's E_IS they equal its fitted values
//! (`pelx run`'s FIE step and `pelx fie anchor`). One sample fixes W and m at one E_IS only;
//! FIE Fig. 2c needs several samples (`pelx fie regress`).

use super::fit::FieSpectrumFit;
use super::func::{Extrapolation, Func1D, Interpolation};
use super::model::{FieConfig, FieModel};
use crate::{Error, Result};

/// Number of E_IS nodes of the tabulated anchored W(E_IS) over the model's domain.
const ANCHOR_TABLE_NODES: usize = 201;

/// W(E_IS) with its odds W/(1 - W) multiplied by the constant that makes W(`anchor`) = `w_fit`:
/// W'(E) = k W(E) / (1 - W(E) + k W(E)). Unlike scaling W itself this keeps W' within [0, 1]
/// everywhere (a fitted W near 1 stays a weight), keeps W' monotone where W is, and for a
/// logistic W between 0 and 1 it is the same as shifting its midpoint. The result is tabulated
/// (monotone cubic, clamped) on `ANCHOR_TABLE_NODES` points over [e_min, e_max].
fn odds_anchored(w: &Func1D, anchor: f64, w_fit: f64, e_min: f64, e_max: f64) -> Result<Func1D> {
    let w0 = w.eval(anchor);
    if !(w0 > 0.0 && w0 < 1.0) {
        return Err(Error::invalid(format!(
            "the base W({anchor}) = {w0} is not strictly between 0 and 1: cannot anchor it to the fit"
        )));
    }
    if !(0.0..=1.0).contains(&w_fit) {
        return Err(Error::invalid(format!("the fitted W = {w_fit} is not within [0, 1]")));
    }
    if w_fit == 0.0 || w_fit == 1.0 {
        return Ok(Func1D::Constant { value: w_fit });
    }
    let k = (w_fit / (1.0 - w_fit)) / (w0 / (1.0 - w0));
    let lo = e_min.min(anchor);
    let hi = e_max.max(anchor);
    let n = ANCHOR_TABLE_NODES;
    let mut x: Vec<f64> = (0..n).map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64).collect();
    // The anchor itself is a node, so W' equals the fit there exactly.
    let nearest = x
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - anchor).abs().total_cmp(&(b.1 - anchor).abs()))
        .map_or(0, |(i, _)| i);
    x[nearest] = anchor;
    let y = x
        .iter()
        .map(|&e| {
            let v = w.eval(e).clamp(0.0, 1.0);
            k * v / (1.0 - v + k * v)
        })
        .collect();
    let f = Func1D::Tabulated {
        x,
        y,
        interpolation: Interpolation::MonotoneCubic,
        extrapolation: Extrapolation::Clamp,
    };
    f.validate("anchored W(E_IS)")?;
    Ok(f)
}

/// `func` plus `d` (for m, an energy).
fn shifted(func: &Func1D, d: f64) -> Func1D {
    match func.clone() {
        Func1D::Constant { value } => Func1D::Constant { value: value + d },
        Func1D::Linear { value, slope, x0 } => Func1D::Linear {
            value: value + d,
            slope,
            x0,
        },
        Func1D::Exponential {
            base,
            amplitude,
            x0,
            scale,
        } => Func1D::Exponential {
            base: base + d,
            amplitude,
            x0,
            scale,
        },
        Func1D::Logistic { low, high, x0, width } => Func1D::Logistic {
            low: low + d,
            high: high + d,
            x0,
            width,
        },
        Func1D::Tabulated {
            x,
            y,
            interpolation,
            extrapolation,
        } => Func1D::Tabulated {
            x,
            y: y.iter().map(|v| v + d).collect(),
            interpolation,
            extrapolation,
        },
    }
}

/// The FIE model of one sample: the base set with e_A, s, e_R replaced by the sample's fitted
/// values, the odds of W(E_IS) scaled (see `odds_anchored`) and m(E_IS) shifted so that at
/// `anchor_e_is` they equal the fitted W and m. One sample fixes W and m at one E_IS only; their
/// E_IS dependence stays the base set's (FIE Fig. 2c needs several samples: `pelx fie regress`).
pub fn anchored_model(base: &FieConfig, fit: &FieSpectrumFit, anchor_e_is: f64) -> Result<FieModel> {
    let mut c = base.clone();
    let d = &base.domain;
    if !d.contains_e_is(anchor_e_is) {
        return Err(Error::invalid(format!(
            "anchor E_IS {anchor_e_is} eV/atom lies outside the base set's domain [{}, {}] eV/atom, where W(E_IS) and \
             m(E_IS) are defined; anchor at an E_IS inside it (a sample of another composition: at the base set's \
             reference sample)",
            d.e_is_min, d.e_is_max
        )));
    }
    c.spectrum.w = odds_anchored(&base.spectrum.w, anchor_e_is, fit.w, d.e_is_min, d.e_is_max)?;
    c.spectrum.m = shifted(&base.spectrum.m, fit.m - base.spectrum.m.eval(anchor_e_is));
    c.spectrum.e_a = fit.e_a;
    c.spectrum.s = fit.s;
    c.spectrum.e_r = fit.e_r;
    c.name = format!("{} (spectrum of {})", base.name, fit.sample);
    c.description = format!(
        "{}; W and m anchored at E_IS = {anchor_e_is} eV/atom on the fit of '{}' (W = {:.4}, m = {:.4} eV, e_A = {:.4}, s = {:.4}, e_R = {:.4} eV)",
        base.name, fit.sample, fit.w, fit.m, fit.e_a, fit.s, fit.e_r
    );
    FieModel::new(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn anchored_model_matches_the_fit_at_the_anchor() {
        let base = FieConfig::from_file(Path::new("configs/fie-cu56zr44.toml")).unwrap();
        let fit = FieSpectrumFit {
            schema: crate::fie::fit::SPECTRUM_FIT_SCHEMA.into(),
            sample: "x".into(),
            e_is: -4.9,
            w: 0.2,
            m: 1.3,
            e_a: 0.5,
            s: 0.49,
            e_r: 0.3,
            fixed: vec![],
            uncertainties: Default::default(),
            n_events: 100,
            log_likelihood: None,
            provenance: None,
        };
        let m = anchored_model(&base, &fit, -4.6797).unwrap();
        assert!((m.w(-4.6797).unwrap() - 0.2).abs() < 1e-12);
        assert!((m.m(-4.6797).unwrap() - 1.3).abs() < 1e-12);
        assert_eq!(m.config().spectrum.e_r, 0.3);
        // W(E_IS) and m(E_IS) are only defined on the domain [-4.8, -4.4] eV/atom.
        let e = anchored_model(&base, &fit, -4.866).unwrap_err().to_string();
        assert!(e.contains("outside the base set's domain"), "{e}");
        // The E_IS dependence is the base's: W odds ratio (to interpolation accuracy) and m
        // difference between two E_IS kept.
        let b = FieModel::new(base).unwrap();
        let odds = |w: f64| w / (1.0 - w);
        let r = odds(m.w(-4.64).unwrap()) / odds(m.w(-4.72).unwrap());
        let rb = odds(b.w(-4.64).unwrap()) / odds(b.w(-4.72).unwrap());
        assert!((r / rb - 1.0).abs() < 1e-4, "{r} vs {rb}");
        let d = m.m(-4.64).unwrap() - m.m(-4.72).unwrap();
        assert!((d - (b.m(-4.64).unwrap() - b.m(-4.72).unwrap())).abs() < 1e-12);
    }

    #[test]
    fn anchoring_a_large_fitted_w_keeps_w_a_weight() {
        // The quickstart's fit (W = 0.934) made the old linear scaling give W > 1 above the anchor.
        let base = FieConfig::from_file(Path::new("configs/fie-cu56zr44.toml")).unwrap();
        let d = base.domain.clone();
        let w = odds_anchored(&base.spectrum.w, -4.6797, 0.934, d.e_is_min, d.e_is_max).unwrap();
        assert!((w.eval(-4.6797) - 0.934).abs() < 1e-12);
        let mut prev = 0.0;
        for i in 0..=400 {
            let e = d.e_is_min + (d.e_is_max - d.e_is_min) * i as f64 / 400.0;
            let v = w.eval(e);
            assert!((0.0..1.0).contains(&v), "W({e}) = {v}");
            assert!(v >= prev - 1e-12, "W not monotone at {e}");
            prev = v;
        }
        assert_eq!(
            odds_anchored(&base.spectrum.w, -4.6797, 1.0, d.e_is_min, d.e_is_max).unwrap(),
            Func1D::Constant { value: 1.0 }
        );
        assert!(odds_anchored(&base.spectrum.w, -4.6797, 1.2, d.e_is_min, d.e_is_max).is_err());
    }
}
