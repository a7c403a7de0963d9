//! The FIE model itself: the activation spectrum P(E_A | E_IS) (eq. 3), the relaxation spectrum
//! P(E_R) (eq. 5), the effective barrier Ebar_A(E_IS, T) (eq. 4), Ebar_R (eq. 6), the balance
//! Delta = Ebar_A - Ebar_R (eq. 7) and the rate of change of E_IS (eq. 2),
//!
//!   dE_IS/dt = nu(E_IS, T) exp(-Ebar_A / k_B T) Delta,  nu = nu0 exp(S(E_IS, T)/k_B).
//!
//! Since exp(-Ebar_A / k_B T) = Z, the Boltzmann-weighted spectrum integral of eq. (4), the
//! model works with ln Z throughout. Units: eV (per atom for E_IS), K, s, nu0 in 1/s.

use super::func::Func1D;
use super::quad::{ln_m2_integral, M2_RTOL};
use crate::units::KB;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Schema tag of a FIE configuration file.
pub const CONFIG_SCHEMA: &str = "pelx.fie-config/1";

/// A FIE model configuration as read from TOML (see `configs/fie-cu56zr44.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieConfig {
    /// Must be "pelx.fie-config/1" when given.
    #[serde(default = "config_schema")]
    pub schema: String,
    /// A short name for plots and outputs.
    #[serde(default)]
    pub name: String,
    /// Free text: where the parameters come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub spectrum: SpectrumConfig,
    pub rate: RateConfig,
    pub domain: DomainConfig,
    #[serde(default)]
    pub solver: SolverConfig,
}

fn config_schema() -> String {
    CONFIG_SCHEMA.to_string()
}

/// The E_A and E_R spectra (FIE eqs. 3 and 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpectrumConfig {
    /// Decay energy of the exponential mode M1, eV (FIE: 0.5).
    pub e_a: f64,
    /// Width of the shifted-Rayleigh mode M2, eV (FIE: 0.49).
    pub s: f64,
    /// Mean relaxation energy e_R = Ebar_R, eV (FIE: 0.32).
    pub e_r: f64,
    /// Include M2. `false` keeps the M1 term alone, W (1/e_A) exp(-E_A/e_A), which integrates to
    /// W: the closed-form check of science.md §7, not a normalised spectrum unless W = 1.
    #[serde(default = "yes")]
    pub m2: bool,
    /// W(E_IS): weight of M1, in [0, 1].
    pub w: Func1D,
    /// m(E_IS): location parameter of M2, eV.
    pub m: Func1D,
}

fn yes() -> bool {
    true
}

/// The jump frequency nu = nu0 exp(S(E_IS, T)/k_B) with S/k_B = S_E(E_IS) + S_T(T).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateConfig {
    /// Attempt frequency, 1/s.
    pub nu0: f64,
    /// S_E(E_IS)/k_B (dimensionless), default 0.
    #[serde(default = "zero_func")]
    pub entropy_e_is: Func1D,
    /// S_T(T)/k_B (dimensionless), default 0.
    #[serde(default = "zero_func")]
    pub entropy_t: Func1D,
}

fn zero_func() -> Func1D {
    Func1D::Constant { value: 0.0 }
}

/// Where the equilibrium line, T_c and the ageing map are searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainConfig {
    /// Lowest E_IS considered, eV/atom.
    pub e_is_min: f64,
    /// Highest E_IS considered, eV/atom.
    pub e_is_max: f64,
    /// Lowest temperature scanned, K.
    pub t_min: f64,
    /// Highest temperature scanned, K.
    pub t_max: f64,
    /// E_IS grid points for bracketing Delta = 0.
    #[serde(default = "default_n_e")]
    pub n_e: usize,
    /// Temperature grid points for the line and for bracketing T_c.
    #[serde(default = "default_n_t")]
    pub n_t: usize,
}

impl DomainConfig {
    /// True when `e_is` (eV/atom) lies in [e_is_min, e_is_max], where W(E_IS) and m(E_IS) are
    /// defined and the E_IS evolution may start or be anchored.
    pub fn contains_e_is(&self, e_is: f64) -> bool {
        (self.e_is_min..=self.e_is_max).contains(&e_is)
    }
}

fn default_n_e() -> usize {
    161
}
fn default_n_t() -> usize {
    131
}

/// Tolerances of the E_IS integrator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverConfig {
    /// Local error allowed per step, eV/atom.
    #[serde(default = "default_atol")]
    pub atol: f64,
    /// Step budget per protocol piece.
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// Longest temperature change per step on ramps, K: output comes at every half step, so
    /// this sets the resolution of E_IS(T) and dE_IS/dT curves.
    #[serde(default = "default_max_temperature_step")]
    pub max_temperature_step: f64,
}

fn default_max_temperature_step() -> f64 {
    1.0
}

fn default_atol() -> f64 {
    1e-10
}
fn default_max_steps() -> usize {
    200_000
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            atol: default_atol(),
            max_steps: default_max_steps(),
            max_temperature_step: default_max_temperature_step(),
        }
    }
}

impl FieConfig {
    /// Read and parse a TOML configuration (not yet validated: see [`FieModel::new`]).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::Parse { line, reason, .. } => Error::parse(path, line, reason),
            other => other,
        })
    }

    /// Parse a TOML configuration from text.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(0);
            Error::parse("<fie config>", line, e.message().to_string())
        })
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::invalid(format!("config to TOML: {e}")))
    }

    /// The configuration as TOML headed by comments giving what wrote it (`what`), the pelx
    /// version, the command and the SHA-256 of each input: the form of every configuration
    /// pelx writes (`pelx fie anchor`, `regress --write-config`, `fit-line --write-config`,
    /// `pelx run`). The comments do not change how the file reads back.
    pub fn to_toml_with_provenance(&self, what: &str, prov: &crate::provenance::Provenance) -> Result<String> {
        let mut text = format!(
            "# {what}, written by pelx {} (`{}`)\n",
            prov.pelx_version,
            prov.command.join(" ")
        );
        for input in &prov.inputs {
            text.push_str(&format!("# input {} sha256 {}\n", input.path, input.sha256));
        }
        text.push_str(&self.to_toml()?);
        Ok(text)
    }
}

/// The temperature-independent part of the activation spectrum at one E_IS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectrumAt {
    pub e_is: f64,
    /// W(E_IS).
    pub w: f64,
    /// m(E_IS), eV (NaN when M2 is off or W = 1).
    pub m: f64,
    /// ln J(m, s, 0), the M2 normalisation (NaN when M2 is off or W = 1).
    pub ln_norm: f64,
}

/// A validated FIE model: every method evaluates the paper's equations at one (E_IS, T).
#[derive(Debug, Clone)]
pub struct FieModel {
    cfg: FieConfig,
}

fn positive(name: &str, v: f64, why: &str) -> Result<()> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name} = {v} must be positive and finite: {why}"
        )))
    }
}

impl FieModel {
    /// Validate a configuration: positive spectrum energies (otherwise P(E_A) or P(E_R) is not
    /// normalisable), W(E_IS) within [0, 1] and m(E_IS) finite over the E_IS domain, a positive
    /// attempt frequency, an ordered domain and a usable solver tolerance.
    pub fn new(cfg: FieConfig) -> Result<Self> {
        if cfg.schema != CONFIG_SCHEMA {
            return Err(Error::invalid(format!(
                "config schema '{}' is not '{CONFIG_SCHEMA}'",
                cfg.schema
            )));
        }
        let sp = &cfg.spectrum;
        positive(
            "spectrum.e_a",
            sp.e_a,
            "the M1 mode (1/e_A) exp(-E_A/e_A) is not normalisable otherwise",
        )?;
        positive(
            "spectrum.s",
            sp.s,
            "the M2 mode E_A exp(-(E_A - m)^2/(2 s^2)) is not normalisable otherwise",
        )?;
        positive(
            "spectrum.e_r",
            sp.e_r,
            "P(E_R) = (1/e_R) exp(-E_R/e_R) is not normalisable otherwise",
        )?;
        sp.w.validate("spectrum.w")?;
        sp.m.validate("spectrum.m")?;
        positive("rate.nu0", cfg.rate.nu0, "it is an attempt frequency in 1/s")?;
        cfg.rate.entropy_e_is.validate("rate.entropy_e_is")?;
        cfg.rate.entropy_t.validate("rate.entropy_t")?;
        let d = &cfg.domain;
        if !(d.e_is_min.is_finite() && d.e_is_max.is_finite() && d.e_is_min < d.e_is_max) {
            return Err(Error::invalid(format!(
                "domain: need e_is_min < e_is_max (got {} and {})",
                d.e_is_min, d.e_is_max
            )));
        }
        if !(d.t_min > 0.0 && d.t_max.is_finite() && d.t_min < d.t_max) {
            return Err(Error::invalid(format!(
                "domain: need 0 < t_min < t_max (got {} and {})",
                d.t_min, d.t_max
            )));
        }
        if d.n_e < 3 || d.n_t < 2 {
            return Err(Error::invalid(format!(
                "domain: need n_e >= 3 and n_t >= 2 (got {} and {})",
                d.n_e, d.n_t
            )));
        }
        positive(
            "solver.atol",
            cfg.solver.atol,
            "it is the local error per step in eV/atom",
        )?;
        positive(
            "solver.max_temperature_step",
            cfg.solver.max_temperature_step,
            "it is the largest temperature change per step in K",
        )?;
        if cfg.solver.max_steps == 0 {
            return Err(Error::invalid("solver.max_steps must be at least 1"));
        }
        let model = FieModel { cfg };
        // W in [0, 1] and m finite on a fine grid of the domain and at table nodes inside it.
        let n = 4 * model.cfg.domain.n_e;
        let (lo, hi) = (model.cfg.domain.e_is_min, model.cfg.domain.e_is_max);
        let mut xs: Vec<f64> = (0..n).map(|i| model.e_grid_point(i, n)).collect();
        for f in [&model.cfg.spectrum.w, &model.cfg.spectrum.m] {
            if let Func1D::Tabulated { x, .. } = f {
                xs.extend(x.iter().filter(|&&v| v >= lo && v <= hi));
            }
        }
        for &e in &xs {
            model.w(e)?;
            model.m(e)?;
        }
        Ok(model)
    }

    /// Read, parse and validate a configuration file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let cfg = FieConfig::from_file(path)?;
        Self::new(cfg).map_err(|e| match e {
            Error::Invalid(msg) => Error::parse(path, 0, msg),
            other => other,
        })
    }

    /// The configuration this model was built from.
    pub fn config(&self) -> &FieConfig {
        &self.cfg
    }

    /// The i-th of n evenly spaced points of the E_IS domain.
    pub(crate) fn e_grid_point(&self, i: usize, n: usize) -> f64 {
        let d = &self.cfg.domain;
        d.e_is_min + (d.e_is_max - d.e_is_min) * i as f64 / (n - 1) as f64
    }

    /// W(E_IS), the M1 weight; an error outside [0, 1].
    pub fn w(&self, e_is: f64) -> Result<f64> {
        let w = self.cfg.spectrum.w.eval(e_is);
        if (0.0..=1.0).contains(&w) {
            Ok(w)
        } else {
            Err(Error::invalid(format!(
                "W(E_IS = {e_is}) = {w} is outside [0, 1]: P(E_A | E_IS) would not be a \
                 normalisable probability density"
            )))
        }
    }

    /// m(E_IS), the M2 location, eV; an error when not finite.
    pub fn m(&self, e_is: f64) -> Result<f64> {
        let m = self.cfg.spectrum.m.eval(e_is);
        if m.is_finite() {
            Ok(m)
        } else {
            Err(Error::invalid(format!("m(E_IS = {e_is}) = {m} is not finite")))
        }
    }

    /// P(E_A | E_IS), 1/eV (FIE eq. 3, W0 from the normalisation of M2 over E_A >= 0).
    pub fn pdf_activation(&self, e_a: f64, e_is: f64) -> Result<f64> {
        if e_a < 0.0 {
            return Ok(0.0);
        }
        let sp = &self.cfg.spectrum;
        let w = self.w(e_is)?;
        let mut p = w / sp.e_a * (-e_a / sp.e_a).exp();
        if sp.m2 && w < 1.0 {
            let m = self.m(e_is)?;
            let ln_norm = ln_m2_integral(m, sp.s, 0.0, M2_RTOL)?;
            let ln_shape = if e_a > 0.0 {
                e_a.ln() - (e_a - m) * (e_a - m) / (2.0 * sp.s * sp.s)
            } else {
                f64::NEG_INFINITY
            };
            p += (1.0 - w) * (ln_shape - ln_norm).exp();
        }
        Ok(p)
    }

    /// P(E_R), 1/eV (FIE eq. 5).
    pub fn pdf_relaxation(&self, e_r: f64) -> f64 {
        let er = self.cfg.spectrum.e_r;
        if e_r < 0.0 {
            0.0
        } else {
            (-e_r / er).exp() / er
        }
    }

    /// The temperature-independent part of P(E_A | E_IS) at one E_IS: W, m and the log of the
    /// M2 normalisation integral J(m, s, 0). Computing it once serves every temperature.
    pub fn spectrum_at(&self, e_is: f64) -> Result<SpectrumAt> {
        let sp = &self.cfg.spectrum;
        let w = self.w(e_is)?;
        let (m, ln_norm) = if sp.m2 && w < 1.0 {
            let m = self.m(e_is)?;
            (m, ln_m2_integral(m, sp.s, 0.0, M2_RTOL)?)
        } else {
            (f64::NAN, f64::NAN)
        };
        if w == 0.0 && !sp.m2 {
            return Err(Error::invalid(format!(
                "P(E_A | E_IS = {e_is}) is identically zero (W = 0 with M2 switched off)"
            )));
        }
        Ok(SpectrumAt { e_is, w, m, ln_norm })
    }

    /// ln Z, Z = integral_0^inf P(E_A | E_IS) exp(-E_A/k_B T) dE_A: the M1 part in closed form,
    /// W k_B T/(k_B T + e_A), the M2 part as (1 - W) J(m, s, 1/k_B T)/J(m, s, 0) by adaptive
    /// quadrature ([`ln_m2_integral`], relative accuracy 1e-12).
    pub fn ln_z(&self, e_is: f64, t: f64) -> Result<f64> {
        self.ln_z_at(&self.spectrum_at(e_is)?, t)
    }

    /// ln Z for a spectrum prepared by [`FieModel::spectrum_at`].
    pub fn ln_z_at(&self, at: &SpectrumAt, t: f64) -> Result<f64> {
        check_temperature(t)?;
        let sp = &self.cfg.spectrum;
        let beta = 1.0 / (KB * t);
        let w = at.w;
        let ln_m1 = if w > 0.0 {
            w.ln() - (beta * sp.e_a).ln_1p()
        } else {
            f64::NEG_INFINITY
        };
        let ln_m2 = if sp.m2 && w < 1.0 {
            (1.0 - w).ln() + ln_m2_integral(at.m, sp.s, beta, M2_RTOL)? - at.ln_norm
        } else {
            f64::NEG_INFINITY
        };
        let hi = ln_m1.max(ln_m2);
        Ok(hi + ((ln_m1 - hi).exp() + (ln_m2 - hi).exp()).ln())
    }

    /// Delta for a spectrum prepared by [`FieModel::spectrum_at`], eV.
    pub fn delta_at(&self, at: &SpectrumAt, t: f64) -> Result<f64> {
        Ok(-KB * t * self.ln_z_at(at, t)? - self.ebar_r())
    }

    /// Ebar_A(E_IS, T) = -k_B T ln Z, eV (FIE eq. 4).
    pub fn ebar_a(&self, e_is: f64, t: f64) -> Result<f64> {
        Ok(-KB * t * self.ln_z(e_is, t)?)
    }

    /// Ebar_R = e_R, eV (FIE eq. 6).
    pub fn ebar_r(&self) -> f64 {
        self.cfg.spectrum.e_r
    }

    /// Delta = Ebar_A - Ebar_R, eV (FIE eq. 7): < 0 ageing, > 0 rejuvenation.
    pub fn delta(&self, e_is: f64, t: f64) -> Result<f64> {
        Ok(self.ebar_a(e_is, t)? - self.ebar_r())
    }

    /// ln(nu / (1/s)) = ln nu0 + S_E(E_IS)/k_B + S_T(T)/k_B.
    pub fn ln_nu(&self, e_is: f64, t: f64) -> Result<f64> {
        let r = &self.cfg.rate;
        let v = r.nu0.ln() + r.entropy_e_is.eval(e_is) + r.entropy_t.eval(t);
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Error::invalid(format!(
                "ln nu(E_IS = {e_is}, T = {t}) = {v} is not finite"
            )))
        }
    }

    /// nu(E_IS, T) = nu0 exp(S/k_B), 1/s.
    pub fn nu(&self, e_is: f64, t: f64) -> Result<f64> {
        Ok(self.ln_nu(e_is, t)?.exp())
    }

    /// dE_IS/dt = nu Z Delta, eV/atom/s (FIE eq. 2), with Delta.
    pub fn rate_and_delta(&self, e_is: f64, t: f64) -> Result<(f64, f64)> {
        let ln_z = self.ln_z(e_is, t)?;
        let delta = -KB * t * ln_z - self.ebar_r();
        let rate = (self.ln_nu(e_is, t)? + ln_z).exp() * delta;
        if !rate.is_finite() {
            return Err(Error::invalid(format!(
                "dE_IS/dt at E_IS = {e_is}, T = {t} is not finite: nu is too large"
            )));
        }
        Ok((rate, delta))
    }

    /// dE_IS/dt, eV/atom/s (FIE eq. 2).
    pub fn de_dt(&self, e_is: f64, t: f64) -> Result<f64> {
        Ok(self.rate_and_delta(e_is, t)?.0)
    }
}

/// Temperatures must be positive and finite.
pub(crate) fn check_temperature(t: f64) -> Result<()> {
    if t > 0.0 && t.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!("temperature {t} K must be positive and finite")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fie::quad::tests::ln_m2_closed;

    /// The spectrum of the default Cu56Zr44 set with a constant jump frequency, built in code so
    /// that these tests do not depend on files.
    pub(crate) fn test_config() -> FieConfig {
        FieConfig::from_toml(
            r#"
            name = "test"
            [spectrum]
            e_a = 0.5
            s = 0.49
            e_r = 0.32
            w = { kind = "logistic", low = 0.065, high = 0.6, x0 = -4.6554, width = 0.0163 }
            m = { kind = "linear", value = 1.0, slope = -6.25, x0 = -4.64 }
            [rate]
            nu0 = 1e13
            [domain]
            e_is_min = -4.80
            e_is_max = -4.40
            t_min = 300.0
            t_max = 1600.0
            "#,
        )
        .unwrap()
    }

    #[test]
    fn spectrum_is_normalised() {
        let model = FieModel::new(test_config()).unwrap();
        for e_is in [-4.75, -4.68, -4.60] {
            let q = crate::fie::quad::integrate(
                |x| model.pdf_activation(x, e_is).unwrap(),
                &[0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
                1e-13,
                0.0,
                400,
            )
            .unwrap();
            assert!((q.value - 1.0).abs() < 1e-11, "E_IS {e_is}: {}", q.value);
        }
        let er = crate::fie::quad::integrate(|x| model.pdf_relaxation(x) * x, &[0.0, 1.0, 5.0, 20.0], 1e-13, 0.0, 400)
            .unwrap();
        assert!((er.value - model.ebar_r()).abs() < 1e-12);
    }

    #[test]
    fn ebar_a_matches_closed_form_with_both_modes() {
        let model = FieModel::new(test_config()).unwrap();
        let sp = &model.config().spectrum;
        for (e_is, t) in [(-4.70, 500.0), (-4.62, 900.0), (-4.78, 1400.0)] {
            let w = model.w(e_is).unwrap();
            let m = model.m(e_is).unwrap();
            let beta = 1.0 / (KB * t);
            let z = w / (1.0 + beta * sp.e_a)
                + (1.0 - w) * (ln_m2_closed(m, sp.s, beta) - ln_m2_closed(m, sp.s, 0.0)).exp();
            let want = -KB * t * z.ln();
            let got = model.ebar_a(e_is, t).unwrap();
            assert!(((got - want) / want).abs() < 1e-11, "{got} vs {want}");
        }
    }

    #[test]
    fn m1_only_ebar_a_matches_science_closed_form() {
        let mut cfg = test_config();
        cfg.spectrum.m2 = false;
        let model = FieModel::new(cfg).unwrap();
        for (e_is, t) in [(-4.70, 300.0), (-4.62, 760.0), (-4.56, 1500.0)] {
            let w = model.w(e_is).unwrap();
            let kt = KB * t;
            let want = -kt * (w * kt / (kt + 0.5)).ln();
            let got = model.ebar_a(e_is, t).unwrap();
            assert!(((got - want) / want).abs() < 1e-14, "{got} vs {want}");
        }
    }

    #[test]
    fn ageing_at_high_e_is_and_rejuvenation_at_low_e_is() {
        let model = FieModel::new(test_config()).unwrap();
        let (r_hi, d_hi) = model.rate_and_delta(-4.56, 900.0).unwrap();
        let (r_lo, d_lo) = model.rate_and_delta(-4.79, 900.0).unwrap();
        assert!(d_hi < 0.0 && r_hi < 0.0, "{d_hi} {r_hi}");
        assert!(d_lo > 0.0 && r_lo > 0.0, "{d_lo} {r_lo}");
        // rate = nu Z Delta with nu = nu0 here.
        let z = model.ln_z(-4.56, 900.0).unwrap().exp();
        assert!(((r_hi - 1e13 * z * d_hi) / r_hi).abs() < 1e-13);
    }

    #[test]
    fn bad_parameters_give_clear_errors() {
        let mut cfg = test_config();
        cfg.spectrum.w = Func1D::Linear {
            value: 0.5,
            slope: 10.0,
            x0: -4.68,
        };
        let err = FieModel::new(cfg).unwrap_err().to_string();
        assert!(err.contains("is outside [0, 1]"), "{err}");

        let mut cfg = test_config();
        cfg.spectrum.s = 0.0;
        let err = FieModel::new(cfg).unwrap_err().to_string();
        assert_eq!(
            err,
            "spectrum.s = 0 must be positive and finite: the M2 mode E_A exp(-(E_A - m)^2/(2 s^2)) \
             is not normalisable otherwise"
        );
        let mut cfg = test_config();
        cfg.spectrum.e_a = -0.5;
        assert!(FieModel::new(cfg).unwrap_err().to_string().contains("M1 mode"));
        let mut cfg = test_config();
        cfg.spectrum.e_r = 0.0;
        assert!(FieModel::new(cfg).unwrap_err().to_string().contains("P(E_R)"));
        let mut cfg = test_config();
        cfg.rate.nu0 = -1.0;
        assert!(FieModel::new(cfg).unwrap_err().to_string().contains("nu0"));
        let mut cfg = test_config();
        cfg.domain.t_min = 0.0;
        assert!(FieModel::new(cfg).is_err());

        let model = FieModel::new(test_config()).unwrap();
        assert!(model.delta(-4.7, -5.0).is_err());
        let err = FieConfig::from_toml("[spectrum]\ne_a = 0.5\nbogus = 1\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn written_configurations_carry_provenance_and_read_back_unchanged() {
        let cfg = test_config();
        let prov = crate::provenance::Provenance::new(&[std::path::Path::new("configs/fie-cu56zr44.toml")]).unwrap();
        let text = cfg.to_toml_with_provenance("a test model", &prov).unwrap();
        assert!(text.starts_with("# a test model, written by pelx "));
        assert!(text.contains(&format!(
            "# input configs/fie-cu56zr44.toml sha256 {}",
            prov.inputs[0].sha256
        )));
        assert_eq!(FieConfig::from_toml(&text).unwrap(), cfg);
    }
}
