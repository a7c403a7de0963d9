//! Arrhenius analysis over trajectories at several temperatures: E_D, E_RW and E_f with
//! uncertainties (Fig. 1 of the 2026 paper), per species, and the threshold scan of E_RW(d)
//! and E_f(d) (Table S1).
//!
//! Every fit is ln y = ln y0 - E / (k_B T), unweighted, so that E_D = E_RW + E_f holds exactly
//! as on the paper's lines; uncertainties carry each point's jackknife error through the fit
//! (and are at least the scatter about the line for three or more temperatures). The scan uses
//! D_RW for infinitely many realizations (`D_RW_expected`), the limit of the paper's average
//! over 50.

use super::stats::{arrhenius, ArrheniusFit};
use super::Decomposition;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusPoint {
    /// K.
    pub temperature: f64,
    pub trajectory: String,
    #[serde(rename = "D")]
    pub d: f64,
    #[serde(rename = "D_err")]
    pub d_err: Option<f64>,
    #[serde(rename = "D_RW")]
    pub d_rw: f64,
    #[serde(rename = "D_RW_err")]
    pub d_rw_err: Option<f64>,
    pub f: f64,
    pub f_err: Option<f64>,
}

/// The three activation energies of a set of atoms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Energies {
    #[serde(rename = "E_D")]
    pub e_d: Option<ArrheniusFit>,
    #[serde(rename = "E_RW")]
    pub e_rw: Option<ArrheniusFit>,
    #[serde(rename = "E_f")]
    pub e_f: Option<ArrheniusFit>,
}

/// The activation energies of one species.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeciesEnergies {
    pub species: String,
    pub points: Vec<ArrheniusPoint>,
    #[serde(flatten)]
    pub energies: Energies,
}

/// One threshold of the scan (a row of Table S1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanRow {
    /// Å.
    pub d: f64,
    #[serde(rename = "E_RW")]
    pub e_rw: Option<ArrheniusFit>,
    #[serde(rename = "E_f")]
    pub e_f: Option<ArrheniusFit>,
    /// D_RW (Å^2/ps) and f at each temperature, in the order of `points`.
    #[serde(rename = "D_RW")]
    pub d_rw: Vec<f64>,
    pub f: Vec<f64>,
}

/// The Arrhenius analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrheniusReport {
    /// In increasing temperature.
    pub points: Vec<ArrheniusPoint>,
    #[serde(flatten)]
    pub energies: Energies,
    pub species: Vec<SpeciesEnergies>,
    pub threshold_scan: Vec<ScanRow>,
}

/// Fits D, D_RW and f of `runs` (temperature in K, decomposition) against temperature.
pub fn arrhenius_report(runs: &[(f64, &Decomposition)]) -> Result<ArrheniusReport> {
    if runs.len() < 2 {
        return Err(Error::invalid(format!(
            "an Arrhenius analysis needs trajectories at two temperatures or more, got {}",
            runs.len()
        )));
    }
    if let Some((t, _)) = runs.iter().find(|(t, _)| !(t.is_finite() && *t > 0.0)) {
        return Err(Error::invalid(format!("temperatures must be positive (K), got {t}")));
    }
    let mut runs: Vec<(f64, &Decomposition)> = runs.to_vec();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let Some(w) = runs.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::invalid(format!("temperature {} K is given twice", w[0].0)));
    }
    let temps: Vec<f64> = runs.iter().map(|r| r.0).collect();
    let point = |t: f64, d: &Decomposition, c: &super::Coefficients| ArrheniusPoint {
        temperature: t,
        trajectory: d.trajectory.path.clone(),
        d: c.d,
        d_err: c.d_err,
        d_rw: c.d_rw,
        d_rw_err: c.d_rw_err,
        f: c.f,
        f_err: c.f_err,
    };
    let points: Vec<ArrheniusPoint> = runs.iter().map(|(t, d)| point(*t, d, &d.coefficients)).collect();
    let energies = fit_points(&temps, &points);

    let names: Vec<String> = runs[0].1.species.iter().map(|s| s.species.clone()).collect();
    let mut species = Vec::new();
    for name in names {
        let pts: Option<Vec<ArrheniusPoint>> = runs
            .iter()
            .map(|(t, d)| {
                d.species
                    .iter()
                    .find(|s| s.species == name)
                    .map(|s| point(*t, d, &s.coefficients))
            })
            .collect();
        if let Some(pts) = pts {
            species.push(SpeciesEnergies {
                species: name,
                energies: fit_points(&temps, &pts),
                points: pts,
            });
        }
    }

    // Thresholds every run scanned.
    let mut ds: Vec<f64> = runs[0].1.threshold_scan.iter().map(|p| p.d).collect();
    ds.retain(|d| runs.iter().all(|(_, r)| r.threshold_scan.iter().any(|p| p.d == *d)));
    let threshold_scan = ds
        .into_iter()
        .map(|d| {
            let at: Vec<&super::ScanPoint> = runs
                .iter()
                .map(|(_, r)| r.threshold_scan.iter().find(|p| p.d == d).expect("retained"))
                .collect();
            let d_rw: Vec<f64> = at.iter().map(|p| p.d_rw).collect();
            let f: Vec<f64> = at.iter().map(|p| p.f).collect();
            ScanRow {
                d,
                e_rw: arrhenius(&temps, &d_rw, &at.iter().map(|p| p.d_rw_err).collect::<Vec<_>>()),
                e_f: arrhenius(&temps, &f, &at.iter().map(|p| p.f_err).collect::<Vec<_>>()),
                d_rw,
                f,
            }
        })
        .collect();
    Ok(ArrheniusReport {
        points,
        energies,
        species,
        threshold_scan,
    })
}

fn fit_points(temps: &[f64], pts: &[ArrheniusPoint]) -> Energies {
    let col = |g: fn(&ArrheniusPoint) -> f64| pts.iter().map(g).collect::<Vec<_>>();
    let err = |g: fn(&ArrheniusPoint) -> Option<f64>| pts.iter().map(g).collect::<Vec<_>>();
    Energies {
        e_d: arrhenius(temps, &col(|p| p.d), &err(|p| p.d_err)),
        e_rw: arrhenius(temps, &col(|p| p.d_rw), &err(|p| p.d_rw_err)),
        e_f: arrhenius(temps, &col(|p| p.f), &err(|p| p.f_err)),
    }
}
