//! Configurable one-variable functions for W(E_IS), m(E_IS) and the entropy terms of the FIE
//! model: constant, linear, exponential, logistic and tabulated (linear or monotone-cubic
//! interpolation). They are read from TOML as tables tagged by `kind`, for example
//! `{ kind = "logistic", low = 0.065, high = 0.6, x0 = -4.66, width = 0.012 }`.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A function of one variable, as written in a FIE configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Func1D {
    /// f(x) = value.
    Constant { value: f64 },
    /// f(x) = value + slope (x - x0).
    Linear { value: f64, slope: f64, x0: f64 },
    /// f(x) = base + amplitude exp((x - x0) / scale).
    Exponential {
        base: f64,
        amplitude: f64,
        x0: f64,
        scale: f64,
    },
    /// f(x) = low + (high - low) / (1 + exp(-(x - x0) / width)): `low` for x << x0 when
    /// width > 0.
    Logistic { low: f64, high: f64, x0: f64, width: f64 },
    /// Interpolated table (x strictly increasing, at least two points).
    Tabulated {
        x: Vec<f64>,
        y: Vec<f64>,
        #[serde(default)]
        interpolation: Interpolation,
        #[serde(default)]
        extrapolation: Extrapolation,
    },
}

/// How a [`Func1D::Tabulated`] interpolates between its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Piecewise linear.
    #[default]
    Linear,
    /// Fritsch-Carlson monotone piecewise cubic Hermite (C1, no overshoot between points).
    MonotoneCubic,
}

/// What a [`Func1D::Tabulated`] does outside its first and last points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extrapolation {
    /// Hold the end values.
    #[default]
    Clamp,
    /// Continue the end segments' slopes.
    Linear,
}

impl Func1D {
    /// Check that the parameters define a finite function; `what` names it in the message.
    pub fn validate(&self, what: &str) -> Result<()> {
        let bad = |msg: String| Err(Error::invalid(format!("{what}: {msg}")));
        let finite = |name: &str, v: f64| -> Result<()> {
            if v.is_finite() {
                Ok(())
            } else {
                Err(Error::invalid(format!("{what}: {name} = {v} is not finite")))
            }
        };
        match self {
            Func1D::Constant { value } => finite("value", *value),
            Func1D::Linear { value, slope, x0 } => {
                finite("value", *value)?;
                finite("slope", *slope)?;
                finite("x0", *x0)
            }
            Func1D::Exponential {
                base,
                amplitude,
                x0,
                scale,
            } => {
                finite("base", *base)?;
                finite("amplitude", *amplitude)?;
                finite("x0", *x0)?;
                finite("scale", *scale)?;
                if *scale == 0.0 {
                    return bad("exponential scale must be non-zero".into());
                }
                Ok(())
            }
            Func1D::Logistic { low, high, x0, width } => {
                finite("low", *low)?;
                finite("high", *high)?;
                finite("x0", *x0)?;
                finite("width", *width)?;
                if *width == 0.0 {
                    return bad("logistic width must be non-zero".into());
                }
                Ok(())
            }
            Func1D::Tabulated { x, y, .. } => {
                if x.len() != y.len() {
                    return bad(format!("tabulated x has {} points but y has {}", x.len(), y.len()));
                }
                if x.len() < 2 {
                    return bad("a tabulated function needs at least two points".into());
                }
                if let Some(v) = x.iter().chain(y.iter()).find(|v| !v.is_finite()) {
                    return bad(format!("tabulated value {v} is not finite"));
                }
                if let Some(w) = x.windows(2).find(|w| w[1] <= w[0]) {
                    return bad(format!(
                        "tabulated x must be strictly increasing ({} then {})",
                        w[0], w[1]
                    ));
                }
                Ok(())
            }
        }
    }

    /// f(x). Call [`Func1D::validate`] once before evaluating user input.
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Func1D::Constant { value } => *value,
            Func1D::Linear { value, slope, x0 } => value + slope * (x - x0),
            Func1D::Exponential {
                base,
                amplitude,
                x0,
                scale,
            } => base + amplitude * ((x - x0) / scale).exp(),
            Func1D::Logistic { low, high, x0, width } => {
                // 1/(1+e^{-u}) written so that neither branch overflows.
                let u = (x - x0) / width;
                let sig = if u >= 0.0 {
                    1.0 / (1.0 + (-u).exp())
                } else {
                    let e = u.exp();
                    e / (1.0 + e)
                };
                low + (high - low) * sig
            }
            Func1D::Tabulated {
                x: xs,
                y: ys,
                interpolation,
                extrapolation,
            } => tabulated(xs, ys, *interpolation, *extrapolation, x),
        }
    }

    /// The names and values of the scalar parameters, in a fixed order (tables have none).
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        match self {
            Func1D::Constant { value } => vec![("value", *value)],
            Func1D::Linear { value, slope, x0 } => {
                vec![("value", *value), ("slope", *slope), ("x0", *x0)]
            }
            Func1D::Exponential {
                base,
                amplitude,
                x0,
                scale,
            } => vec![
                ("base", *base),
                ("amplitude", *amplitude),
                ("x0", *x0),
                ("scale", *scale),
            ],
            Func1D::Logistic { low, high, x0, width } => {
                vec![("low", *low), ("high", *high), ("x0", *x0), ("width", *width)]
            }
            Func1D::Tabulated { .. } => vec![],
        }
    }

    /// A mutable reference to the parameter `name`, or an error listing the valid names.
    pub fn param_mut(&mut self, name: &str) -> Result<&mut f64> {
        let names: Vec<&str> = self.params().iter().map(|(n, _)| *n).collect();
        let slot = match (self, name) {
            (Func1D::Constant { value }, "value") => Some(value),
            (Func1D::Linear { value, .. }, "value") => Some(value),
            (Func1D::Linear { slope, .. }, "slope") => Some(slope),
            (Func1D::Linear { x0, .. }, "x0") => Some(x0),
            (Func1D::Exponential { base, .. }, "base") => Some(base),
            (Func1D::Exponential { amplitude, .. }, "amplitude") => Some(amplitude),
            (Func1D::Exponential { x0, .. }, "x0") => Some(x0),
            (Func1D::Exponential { scale, .. }, "scale") => Some(scale),
            (Func1D::Logistic { low, .. }, "low") => Some(low),
            (Func1D::Logistic { high, .. }, "high") => Some(high),
            (Func1D::Logistic { x0, .. }, "x0") => Some(x0),
            (Func1D::Logistic { width, .. }, "width") => Some(width),
            _ => None,
        };
        slot.ok_or_else(|| {
            Error::invalid(format!(
                "no parameter '{name}' (this function has: {})",
                if names.is_empty() {
                    "none; tabulated functions cannot be fitted".to_string()
                } else {
                    names.join(", ")
                }
            ))
        })
    }
}

/// Interpolate a validated table at `x`.
fn tabulated(xs: &[f64], ys: &[f64], interp: Interpolation, extrap: Extrapolation, x: f64) -> f64 {
    let n = xs.len();
    if x <= xs[0] || x >= xs[n - 1] {
        let (i, xe, ye) = if x <= xs[0] {
            (0, xs[0], ys[0])
        } else {
            (n - 2, xs[n - 1], ys[n - 1])
        };
        return match extrap {
            Extrapolation::Clamp => ye,
            Extrapolation::Linear => {
                let slope = match interp {
                    Interpolation::Linear => (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]),
                    Interpolation::MonotoneCubic => {
                        let d = monotone_slopes(xs, ys);
                        if x <= xs[0] {
                            d[0]
                        } else {
                            d[n - 1]
                        }
                    }
                };
                ye + slope * (x - xe)
            }
        };
    }
    // Interval i with xs[i] <= x < xs[i+1].
    let i = xs.partition_point(|&v| v <= x) - 1;
    let h = xs[i + 1] - xs[i];
    let t = (x - xs[i]) / h;
    match interp {
        Interpolation::Linear => ys[i] + t * (ys[i + 1] - ys[i]),
        Interpolation::MonotoneCubic => {
            let d = monotone_slopes(xs, ys);
            let (t2, t3) = (t * t, t * t * t);
            let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
            let h10 = t3 - 2.0 * t2 + t;
            let h01 = -2.0 * t3 + 3.0 * t2;
            let h11 = t3 - t2;
            h00 * ys[i] + h10 * h * d[i] + h01 * ys[i + 1] + h11 * h * d[i + 1]
        }
    }
}

/// Node slopes of the Fritsch-Carlson monotone cubic (Fritsch & Carlson, SIAM J. Numer. Anal.
/// 17, 238, 1980), with the harmonic-mean interior slopes of Fritsch & Butland (1984).
fn monotone_slopes(xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let n = xs.len();
    let delta: Vec<f64> = (0..n - 1).map(|i| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])).collect();
    let mut d = vec![0.0; n];
    d[0] = delta[0];
    d[n - 1] = delta[n - 2];
    for i in 1..n - 1 {
        let (a, b) = (delta[i - 1], delta[i]);
        if a * b > 0.0 {
            let (h0, h1) = (xs[i] - xs[i - 1], xs[i + 1] - xs[i]);
            let (w1, w2) = (2.0 * h1 + h0, h1 + 2.0 * h0);
            d[i] = (w1 + w2) / (w1 / a + w2 / b);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Func1D, toml::de::Error> {
        #[derive(Deserialize)]
        struct Wrap {
            f: Func1D,
        }
        toml::from_str::<Wrap>(&format!("f = {s}")).map(|w| w.f)
    }

    #[test]
    fn closed_forms_evaluate_as_documented() {
        let lin = parse("{ kind = \"linear\", value = 1.0, slope = -7.5, x0 = -4.68 }").unwrap();
        assert!((lin.eval(-4.70) - 1.15).abs() < 1e-12);
        let exp = parse("{ kind = \"exponential\", base = 0.05, amplitude = 0.1, x0 = 0.0, scale = 0.5 }").unwrap();
        assert!((exp.eval(1.0) - (0.05 + 0.1 * 2f64.exp())).abs() < 1e-15);
        let log = Func1D::Logistic {
            low: 0.05,
            high: 0.6,
            x0: -4.66,
            width: 0.01,
        };
        assert!((log.eval(-4.66) - 0.325).abs() < 1e-15);
        assert!((log.eval(-10.0) - 0.05).abs() < 1e-15);
        assert!((log.eval(10.0) - 0.6).abs() < 1e-15);
        assert_eq!(parse("{ kind = \"constant\", value = 2.5 }").unwrap().eval(9.0), 2.5);
    }

    #[test]
    fn tabulated_interpolates_and_extrapolates() {
        let lin = Func1D::Tabulated {
            x: vec![0.0, 1.0, 3.0],
            y: vec![0.0, 2.0, 3.0],
            interpolation: Interpolation::Linear,
            extrapolation: Extrapolation::Clamp,
        };
        lin.validate("t").unwrap();
        assert!((lin.eval(0.5) - 1.0).abs() < 1e-15);
        assert!((lin.eval(2.0) - 2.5).abs() < 1e-15);
        assert_eq!(lin.eval(-1.0), 0.0);
        assert_eq!(lin.eval(5.0), 3.0);
        let ext = Func1D::Tabulated {
            x: vec![0.0, 1.0, 3.0],
            y: vec![0.0, 2.0, 3.0],
            interpolation: Interpolation::Linear,
            extrapolation: Extrapolation::Linear,
        };
        assert!((ext.eval(-1.0) + 2.0).abs() < 1e-15);
        assert!((ext.eval(5.0) - 4.0).abs() < 1e-15);
        // The monotone cubic passes through the nodes, reproduces a straight line exactly and
        // does not overshoot a step.
        let cub = Func1D::Tabulated {
            x: vec![0.0, 1.0, 2.0, 3.0],
            y: vec![0.0, 0.0, 1.0, 1.0],
            interpolation: Interpolation::MonotoneCubic,
            extrapolation: Extrapolation::Clamp,
        };
        for k in 0..=300 {
            let v = cub.eval(k as f64 * 0.01);
            assert!((0.0..=1.0).contains(&v), "overshoot {v}");
        }
        assert_eq!(cub.eval(2.0), 1.0);
        let line = Func1D::Tabulated {
            x: vec![0.0, 0.5, 2.0],
            y: vec![1.0, 2.0, 5.0],
            interpolation: Interpolation::MonotoneCubic,
            extrapolation: Extrapolation::Clamp,
        };
        assert!((line.eval(1.3) - 3.6).abs() < 1e-14);
    }

    #[test]
    fn bad_functions_are_rejected_with_their_reason() {
        let err = parse("{ kind = \"logistic\", low = 0.1, high = 0.5, x0 = 0.0, width = 0.0 }")
            .unwrap()
            .validate("W")
            .unwrap_err();
        assert_eq!(err.to_string(), "W: logistic width must be non-zero");
        let err = Func1D::Tabulated {
            x: vec![0.0, 0.0],
            y: vec![1.0, 2.0],
            interpolation: Interpolation::Linear,
            extrapolation: Extrapolation::Clamp,
        }
        .validate("m")
        .unwrap_err();
        assert!(err.to_string().contains("strictly increasing"), "{err}");
        assert!(parse("{ kind = \"linear\", value = 1.0, slope = 1.0 }").is_err());
        assert!(parse("{ kind = \"constant\", value = 1.0, extra = 2.0 }").is_err());
        assert!(parse("{ kind = \"cosine\", value = 1.0 }").is_err());
    }

    #[test]
    fn parameters_can_be_named_and_set() {
        let mut f = Func1D::Logistic {
            low: 0.05,
            high: 0.6,
            x0: -4.66,
            width: 0.01,
        };
        *f.param_mut("x0").unwrap() = -4.7;
        assert_eq!(f.params()[2], ("x0", -4.7));
        let err = f.param_mut("slope").unwrap_err().to_string();
        assert!(err.contains("low, high, x0, width"), "{err}");
    }
}
