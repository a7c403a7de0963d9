//! From the accumulated sums to D, D_RW and f: Einstein fits, per-species values, jackknife
//! errors, the threshold scan and the curves that the JSON and the plots show.
//!
//! For a selection of atoms S (all, or one species), MSD(τ) = sum over S and origins of
//! |Δr|^2 / (origins x |S|), and D = slope / (2 n_dim) of the least-squares line of MSD(t)
//! over the fit window (Einstein relation, Eq. 4 of the 2026 paper; Eq. 5 in-plane).
//! D_RW is the same fit of the random-walk MSD averaged over the realizations (Eq. 6/7),
//! f = D / D_RW (Eq. 1).
//!
//! The mean over *all* random directions of the random-walk MSD is known exactly: for a window
//! holding short steps s_k (kept) and long steps of lengths L_k turned along independent
//! uniform unit vectors u_k, E|sum s_k + sum L_k u_k|^2 = |sum s_k|^2 + sum L_k^2, because
//! E u_k = 0 and E u_k.u_m = δ_km. `D_RW_expected` is the fit of that MSD; it is the limit of
//! D_RW for infinitely many realizations, and it is what the threshold scan reports (one
//! short-step track per threshold instead of `realizations` tracks).
//!
//! Errors: delete-one jackknife over `blocks` disjoint sets of atoms (atom rank within its
//! species modulo `blocks`), which covers both the sampling of atoms and time origins and, for
//! D_RW, the randomness of the realizations. `D_RW_realization_std` is the spread of D_RW
//! between single realizations.

use super::engine::{Group, Raw, HISTOGRAM_BIN};
use super::stats::{jackknife, line_fit, mean_std};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// D, D_RW and f of a set of atoms. Coefficients in Å^2/ps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficients {
    /// Tracer diffusion coefficient (Einstein), Å^2/ps.
    #[serde(rename = "D")]
    pub d: f64,
    /// Jackknife standard error of D, Å^2/ps.
    #[serde(rename = "D_err")]
    pub d_err: Option<f64>,
    /// Random-walk diffusion coefficient, mean over the realizations, Å^2/ps.
    #[serde(rename = "D_RW")]
    pub d_rw: f64,
    /// Jackknife standard error of D_RW, Å^2/ps.
    #[serde(rename = "D_RW_err")]
    pub d_rw_err: Option<f64>,
    /// Standard deviation of D_RW between single realizations, Å^2/ps.
    #[serde(rename = "D_RW_realization_std")]
    pub d_rw_realization_std: Option<f64>,
    /// D_RW for infinitely many realizations (the exact mean over random directions), Å^2/ps.
    #[serde(rename = "D_RW_expected")]
    pub d_rw_expected: f64,
    /// Correlation factor f = D / D_RW.
    pub f: f64,
    /// Jackknife standard error of f.
    pub f_err: Option<f64>,
    /// D / D_RW_expected.
    pub f_expected: f64,
}

/// The coefficients of one species.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeciesCoefficients {
    pub species: String,
    /// Atoms of this species analysed.
    pub atoms: usize,
    #[serde(flatten)]
    pub coefficients: Coefficients,
}

/// The least-squares window of the Einstein fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitInfo {
    /// Window start and end, ps (the lag times actually used lie inside).
    pub t_start: f64,
    pub t_end: f64,
    /// Lag times used, ps.
    pub lag_times: Vec<f64>,
    /// Slope of log MSD against log t over the window (1 when diffusive).
    pub msd_loglog_slope: Option<f64>,
    /// The same for the random-walk MSD.
    pub msd_rw_loglog_slope: Option<f64>,
    /// Intercept of the MSD line, Å^2 (the plateau of vibrations or intra-basin motion).
    pub msd_intercept: f64,
    /// How the window was chosen when the default did not fit.
    pub note: Option<String>,
}

/// How many steps were activated hops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HopStats {
    /// The threshold d, Å.
    pub threshold: f64,
    /// Atom-intervals analysed.
    pub steps: u64,
    /// Steps longer than d (randomized in the random walks).
    pub long_steps: u64,
    /// long_steps / steps.
    pub long_fraction: f64,
    /// Longest step, Å.
    pub max_step: f64,
}

/// One threshold of the scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanPoint {
    /// Threshold, Å.
    pub d: f64,
    /// D_RW for infinitely many realizations, Å^2/ps.
    #[serde(rename = "D_RW")]
    pub d_rw: f64,
    #[serde(rename = "D_RW_err")]
    pub d_rw_err: Option<f64>,
    /// D / D_RW.
    pub f: f64,
    pub f_err: Option<f64>,
    /// Fraction of steps longer than d.
    pub long_fraction: f64,
    /// The same per species (names in the order of `species`).
    pub species: Vec<ScanSpecies>,
}

/// A species at one threshold of the scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSpecies {
    pub species: String,
    #[serde(rename = "D_RW")]
    pub d_rw: f64,
    pub f: f64,
}

/// MSD curves against lag time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Lag times, ps.
    pub time: Vec<f64>,
    /// Time origins averaged at each lag.
    pub origins: Vec<u64>,
    /// MD MSD, Å^2.
    pub msd: Vec<f64>,
    /// Random-walk MSD, mean over realizations, Å^2.
    pub msd_rw: Vec<f64>,
    /// Standard deviation of the random-walk MSD between realizations, Å^2.
    pub msd_rw_std: Vec<Option<f64>>,
    /// Random-walk MSD for infinitely many realizations, Å^2.
    pub msd_rw_expected: Vec<f64>,
    /// msd_rw / msd: the convergence curve 1/f(t) of the paper's Fig. S1b.
    pub inverse_f: Vec<Option<f64>>,
    /// Per species.
    pub species: Vec<SpeciesCurves>,
}

/// MSD curves of one species.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeciesCurves {
    pub species: String,
    pub msd: Vec<f64>,
    pub msd_rw: Vec<f64>,
    pub inverse_f: Vec<Option<f64>>,
}

/// Histogram of the 3D step lengths per interval (the paper's Fig. S2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin width, Å; bin k holds lengths in [k w, (k + 1) w).
    pub bin_width: f64,
    pub counts: Vec<u64>,
    /// Steps longer than the last bin.
    pub overflow: u64,
}

/// Everything the accumulated sums give.
pub(crate) struct Analysed {
    pub all: Coefficients,
    pub species: Vec<SpeciesCoefficients>,
    pub fit: FitInfo,
    pub hops: HopStats,
    pub scan: Vec<ScanPoint>,
    pub curves: Curves,
    pub histogram: Histogram,
}

/// Per-lag sums of a quantity for every group: `[lag][group]`.
type Sums = Vec<Vec<f64>>;

struct Ctx<'a> {
    groups: &'a [Group],
    origins: &'a [u64],
    window: Vec<usize>,
    times: Vec<f64>,
    dim: f64,
}

impl Ctx<'_> {
    /// MSD per lag of the groups `sel` accepts.
    fn msd(&self, sums: &Sums, sel: &dyn Fn(&Group) -> bool) -> Vec<f64> {
        let atoms: usize = self.groups.iter().filter(|g| sel(g)).map(|g| g.atoms).sum();
        sums.iter()
            .zip(self.origins)
            .map(|(row, &n)| {
                let s: f64 = row
                    .iter()
                    .zip(self.groups)
                    .filter(|(_, g)| sel(g))
                    .map(|(v, _)| v)
                    .sum();
                s / (n as f64 * atoms as f64)
            })
            .collect()
    }
    /// D from the MSD over the window, Å^2/ps.
    fn coefficient(&self, msd: &[f64]) -> f64 {
        let t: Vec<f64> = self.window.iter().map(|&k| self.times[k]).collect();
        let y: Vec<f64> = self.window.iter().map(|&k| msd[k]).collect();
        line_fit(&t, &y).map_or(f64::NAN, |(_, b)| b / (2.0 * self.dim))
    }
}

/// Sums of several tracks added element-wise and scaled.
fn combine(parts: &[&Sums], scale: f64) -> Sums {
    let mut out = parts[0].clone();
    for p in &parts[1..] {
        for (o, r) in out.iter_mut().zip(p.iter()) {
            for (a, b) in o.iter_mut().zip(r) {
                *a += b;
            }
        }
    }
    for row in out.iter_mut() {
        for v in row.iter_mut() {
            *v *= scale;
        }
    }
    out
}

/// The analysis of the sums. `interval` in ps, `dim` 3 or 2, `window` the fit window in ps
/// (`None` ends: 10 % and 50 % of the trajectory's duration).
pub(crate) fn analyse(
    raw: &Raw,
    species: &[String],
    threshold: f64,
    interval: f64,
    dim: usize,
    window: (Option<f64>, Option<f64>),
) -> Result<Analysed> {
    let duration = raw.intervals as f64 * interval;
    if raw.lags.len() < 2 {
        return Err(Error::invalid(format!(
            "{} interval{} analysed: an MSD needs at least 3 frames at the interval",
            raw.intervals,
            if raw.intervals == 1 { "" } else { "s" }
        )));
    }
    let times: Vec<f64> = raw.lags.iter().map(|&l| l as f64 * interval).collect();
    let mut t_start = window.0.unwrap_or(duration / 10.0);
    let mut t_end = window.1.unwrap_or(duration / 2.0);
    // A relative tolerance so that a window ending exactly on a lag time includes it.
    let tol = 1e-9 * duration;
    let inside = |a: f64, b: f64| -> Vec<usize> {
        (0..times.len())
            .filter(|&k| times[k] >= a - tol && times[k] <= b + tol)
            .collect()
    };
    let mut idx = inside(t_start, t_end);
    let mut note = None;
    if idx.len() < 2 && window.0.is_none() && window.1.is_none() {
        // A short trajectory: fit every lag rather than fail.
        (t_start, t_end) = (times[0], times[times.len() - 1]);
        idx = inside(t_start, t_end);
        note = Some(format!(
            "the default window (10-50 % of {duration} ps) holds fewer than 2 lag times; every lag was fitted"
        ));
    }
    if idx.len() < 2 {
        return Err(Error::invalid(format!(
            "the fit window {t_start}-{t_end} ps holds {} lag time{} (lags at {}); widen it (--fit START:END) or give a longer trajectory",
            idx.len(),
            if idx.len() == 1 { "" } else { "s" },
            short_list(&times)
        )));
    }
    let ctx = Ctx {
        groups: &raw.groups,
        origins: &raw.origins,
        window: idx.clone(),
        times: times.clone(),
        dim: dim as f64,
    };
    let nr = raw.rw.len();
    let main = raw
        .scan
        .iter()
        .find(|s| s.d == threshold)
        .expect("the main threshold is always scanned");
    let expected_of = |s: &super::engine::ScanRaw| combine(&[&s.short, &s.long], 1.0);
    let expected_main = expected_of(main);
    let rw_mean: Sums = if nr > 0 {
        combine(&raw.rw.iter().collect::<Vec<_>>(), 1.0 / nr as f64)
    } else {
        expected_main.clone()
    };

    let nblocks = raw.groups.iter().map(|g| g.block + 1).max().unwrap_or(1);
    // Coefficients of the groups `sel` accepts, with jackknife errors over blocks.
    let coefficients = |sel: &dyn Fn(&Group) -> bool| -> Coefficients {
        let est = |s: &dyn Fn(&Group) -> bool| {
            let d = ctx.coefficient(&ctx.msd(&raw.md, s));
            let drw = ctx.coefficient(&ctx.msd(&rw_mean, s));
            let dexp = ctx.coefficient(&ctx.msd(&expected_main, s));
            [d, drw, dexp, d / drw]
        };
        let full = est(sel);
        let present: Vec<usize> = (0..nblocks)
            .filter(|&b| raw.groups.iter().any(|g| g.block == b && sel(g)))
            .collect();
        let loo: Vec<[f64; 4]> = present
            .iter()
            .map(|&b| est(&|g: &Group| sel(g) && g.block != b))
            .collect();
        let err = |k: usize| {
            if present.len() < 2 {
                None
            } else {
                jackknife(&loo.iter().map(|v| v[k]).collect::<Vec<_>>())
            }
        };
        let per_real: Vec<f64> = raw.rw.iter().map(|r| ctx.coefficient(&ctx.msd(r, sel))).collect();
        Coefficients {
            d: full[0],
            d_err: err(0),
            d_rw: full[1],
            d_rw_err: err(1),
            d_rw_realization_std: mean_std(&per_real).1,
            d_rw_expected: full[2],
            f: full[3],
            f_err: err(3),
            f_expected: full[0] / full[2],
        }
    };
    let all = coefficients(&|_| true);
    let nspecies = species.len();
    let present_species: Vec<usize> = (0..nspecies)
        .filter(|&s| raw.groups.iter().any(|g| g.species == s))
        .collect();
    let species_coeffs: Vec<SpeciesCoefficients> = present_species
        .iter()
        .map(|&s| SpeciesCoefficients {
            species: species[s].clone(),
            atoms: raw.groups.iter().filter(|g| g.species == s).map(|g| g.atoms).sum(),
            coefficients: coefficients(&|g: &Group| g.species == s),
        })
        .collect();

    // Curves.
    let all_sel = |_: &Group| true;
    let msd = ctx.msd(&raw.md, &all_sel);
    let msd_rw = ctx.msd(&rw_mean, &all_sel);
    let per_real: Vec<Vec<f64>> = raw.rw.iter().map(|r| ctx.msd(r, &all_sel)).collect();
    let msd_rw_std: Vec<Option<f64>> = (0..times.len())
        .map(|k| mean_std(&per_real.iter().map(|m| m[k]).collect::<Vec<_>>()).1)
        .collect();
    let ratio = |a: &[f64], b: &[f64]| -> Vec<Option<f64>> {
        a.iter()
            .zip(b)
            .map(|(x, y)| if *y > 0.0 { Some(x / y) } else { None })
            .collect()
    };
    let species_curves = present_species
        .iter()
        .map(|&s| {
            let sel = |g: &Group| g.species == s;
            let m = ctx.msd(&raw.md, &sel);
            let r = ctx.msd(&rw_mean, &sel);
            SpeciesCurves {
                species: species[s].clone(),
                inverse_f: ratio(&r, &m),
                msd: m,
                msd_rw: r,
            }
        })
        .collect();
    let curves = Curves {
        time: times.clone(),
        origins: raw.origins.clone(),
        inverse_f: ratio(&msd_rw, &msd),
        msd_rw_expected: ctx.msd(&expected_main, &all_sel),
        msd: msd.clone(),
        msd_rw: msd_rw.clone(),
        msd_rw_std,
        species: species_curves,
    };

    // Fit diagnostics.
    let loglog = |m: &[f64]| {
        let pts: Vec<(f64, f64)> = idx
            .iter()
            .filter(|&&k| m[k] > 0.0)
            .map(|&k| (times[k].ln(), m[k].ln()))
            .collect();
        let (x, y): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
        line_fit(&x, &y).map(|(_, b)| b)
    };
    let (tw, mw): (Vec<f64>, Vec<f64>) = idx.iter().map(|&k| (times[k], msd[k])).unzip();
    let fit = FitInfo {
        t_start,
        t_end,
        lag_times: tw.clone(),
        msd_loglog_slope: loglog(&msd),
        msd_rw_loglog_slope: loglog(&msd_rw),
        msd_intercept: line_fit(&tw, &mw).map_or(f64::NAN, |(a, _)| a),
        note,
    };

    let steps = raw.intervals * raw.groups.iter().map(|g| g.atoms as u64).sum::<u64>();
    let frac = |n: u64| if steps > 0 { n as f64 / steps as f64 } else { 0.0 };
    let hops = HopStats {
        threshold,
        steps,
        long_steps: main.long_steps,
        long_fraction: frac(main.long_steps),
        max_step: raw.max_step,
    };

    let scan = raw
        .scan
        .iter()
        .map(|s| {
            let e = expected_of(s);
            let est = |sel: &dyn Fn(&Group) -> bool| {
                let d = ctx.coefficient(&ctx.msd(&raw.md, sel));
                let drw = ctx.coefficient(&ctx.msd(&e, sel));
                [drw, d / drw]
            };
            let full = est(&|_| true);
            let loo: Vec<[f64; 2]> = (0..nblocks).map(|b| est(&|g: &Group| g.block != b)).collect();
            let err = |k: usize| {
                if nblocks < 2 {
                    None
                } else {
                    jackknife(&loo.iter().map(|v| v[k]).collect::<Vec<_>>())
                }
            };
            ScanPoint {
                d: s.d,
                d_rw: full[0],
                d_rw_err: err(0),
                f: full[1],
                f_err: err(1),
                long_fraction: frac(s.long_steps),
                species: present_species
                    .iter()
                    .map(|&sp| {
                        let v = est(&|g: &Group| g.species == sp);
                        ScanSpecies {
                            species: species[sp].clone(),
                            d_rw: v[0],
                            f: v[1],
                        }
                    })
                    .collect(),
            }
        })
        .collect();

    Ok(Analysed {
        all,
        species: species_coeffs,
        fit,
        hops,
        scan,
        curves,
        histogram: Histogram {
            bin_width: HISTOGRAM_BIN,
            counts: trim_zeros(&raw.histogram),
            overflow: raw.histogram_overflow,
        },
    })
}

/// The counts without the trailing empty bins.
fn trim_zeros(h: &[u64]) -> Vec<u64> {
    let end = h.iter().rposition(|&c| c > 0).map_or(0, |k| k + 1);
    h[..end].to_vec()
}

/// "1, 2, 3, ..., 900" for messages.
fn short_list(times: &[f64]) -> String {
    let f = |t: f64| format!("{t}");
    match times.len() {
        0 => "none".into(),
        1..=4 => times.iter().map(|&t| f(t)).collect::<Vec<_>>().join(", "),
        n => format!("{}, {}, ..., {} ps", f(times[0]), f(times[1]), f(times[n - 1])),
    }
}
