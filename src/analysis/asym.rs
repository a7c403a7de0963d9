//! Forward/reverse barrier asymmetry of event catalogs.
//!
//! For each max-displacement filter (an event counts when its largest atomic displacement
//! between the two minima is >= the threshold; Annamareddy et al. 2026 use 1, 1.5 and 2.5 Å):
//! normalised histograms of E_fw, E_rev and E_fw - E_rev = E_final - E_initial, their joint
//! histogram, summary statistics, the fraction of events with E_rev < E_fw, and optionally
//! the FIE fits (eq. 3 to E_A = E_fw, eq. 5 to E_R = E_rev). Histograms of all filters share
//! one grid per quantity, aligned to multiples of the bin width, so they can be compared.
//!
//! Before the filters, events can be selected by species (of the atom that moves most between
//! the two minima, read from the starting structure), to those whose saddle relaxes back to
//! their initial minimum, and to distinct events (`unique`: one event per saddle and
//! direction, recognised as in [`crate::network`]; events whose final minimum is their initial
//! one are then dropped too). Schema: `schemas/asym.schema.json`.

use super::catalogs::{CatalogSet, CatalogSummary, EventId};
use super::fit::{fit_exponential, fit_fie, ExpFit, FieFit, FitOptions};
use super::stats::{correlation, summarize, Grid, Histogram, Histogram2d, Summary, MAX_BINS};
use crate::fie::fit::{FieSpectrumFit, SpectrumUncertainties, SPECTRUM_FIT_SCHEMA};
use crate::network::{Fate, Network, NetworkOptions};
use crate::provenance::Provenance;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Version tag of `asym.json`.
pub const SCHEMA: &str = "pelx.asym/1";

/// Barriers this far below zero (eV) count as zero in the spectrum fits: a saddle converged
/// to 0.05 eV/Å can sit a fraction of a meV below a nearly degenerate final minimum.
pub const BARRIER_ZERO_TOL: f64 = 1e-3;

/// What to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsymOptions {
    /// Max-displacement thresholds, Å (each gives one set of tables).
    pub min_displacements: Vec<f64>,
    /// Bin width of the 1D histograms, eV.
    pub bin: f64,
    /// Bin width of the joint histogram, eV.
    pub bin2d: f64,
    /// Keep events whose most displaced atom is of this species.
    pub species: Option<String>,
    /// Keep only events whose saddle relaxes back to their initial minimum.
    pub reconnecting_only: bool,
    /// Keep only verified events (one negative eigenvalue, force below the threshold,
    /// reconnecting); unverified saddles can carry slightly negative barriers.
    #[serde(default)]
    pub verified_only: bool,
    /// One event per distinct saddle and direction.
    pub unique: bool,
    /// Tolerances that recognise repeated events (with `unique`).
    pub network: NetworkOptions,
    /// Fit the FIE spectra (None: no fits).
    pub fit: Option<FitOptions>,
}

impl Default for AsymOptions {
    fn default() -> Self {
        AsymOptions {
            min_displacements: vec![0.0, 1.0, 1.5, 2.5],
            bin: 0.05,
            bin2d: 0.1,
            species: None,
            reconnecting_only: false,
            verified_only: false,
            unique: false,
            network: NetworkOptions::default(),
            fit: None,
        }
    }
}

impl AsymOptions {
    /// Positive bins, at least one finite non-negative threshold, valid fit options.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("bin", self.bin), ("joint-histogram bin", self.bin2d)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(format!("{name} width {v} eV must be positive")));
            }
        }
        if self.min_displacements.is_empty() {
            return Err(Error::invalid("no max-displacement threshold given"));
        }
        if let Some(d) = self.min_displacements.iter().find(|d| !(d.is_finite() && **d >= 0.0)) {
            return Err(Error::invalid(format!("max-displacement threshold {d} Å must be >= 0")));
        }
        if let Some(f) = &self.fit {
            f.validate()?;
        }
        self.network.validate()
    }
}

/// How many events each selection step removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectionCounts {
    /// Events in the catalogs.
    pub events: usize,
    /// Removed: saddle does not relax back to the initial minimum (`reconnecting_only`).
    pub not_reconnecting: usize,
    /// Removed: not verified (`verified_only`).
    #[serde(default)]
    pub unverified: usize,
    /// Removed: most displaced atom of another species.
    pub other_species: usize,
    /// Removed: a repeat of an earlier event (`unique`).
    pub repeated: usize,
    /// Removed: final minimum identified with the initial one (`unique`).
    pub self_loops: usize,
    /// Events that go on to the displacement filters.
    pub selected: usize,
}

/// The selected events' numbers, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub ids: Vec<EventId>,
    pub e_fw: Vec<f64>,
    pub e_rev: Vec<f64>,
    pub max_displacement: Vec<f64>,
    pub counts: SelectionCounts,
}

/// Applies the reconnection, species and uniqueness selections.
pub fn select(set: &CatalogSet, opts: &AsymOptions) -> Result<Selection> {
    let species_of: Option<Vec<Vec<String>>> = match &opts.species {
        None => None,
        Some(sp) => {
            set.require_structures("selecting events by species (--species)")?;
            let per_origin: Vec<Vec<String>> = set
                .origins
                .iter()
                .map(|o| {
                    let s = o.structure.as_ref().expect("required above");
                    (0..s.len()).map(|i| s.symbol(i).to_string()).collect()
                })
                .collect();
            if !per_origin.iter().flatten().any(|x| x == sp) {
                let s = set.origins[0].structure.as_ref().expect("required above");
                return Err(Error::invalid(format!(
                    "no atom of species {sp} in the starting structure (species: {})",
                    s.species.join(", ")
                )));
            }
            Some(per_origin)
        }
    };
    let network = if opts.unique {
        let nopts = NetworkOptions {
            keep_unconnected: true,
            ..opts.network
        };
        Some(Network::build(set, &nopts)?)
    } else {
        None
    };
    let mut seen: HashSet<(usize, bool)> = HashSet::new();
    let mut out = Selection::default();
    let mut counts = SelectionCounts {
        events: set.n_events(),
        ..Default::default()
    };
    for (k, cat) in set.catalogs.iter().enumerate() {
        let origin = set.origin_of_catalog(k);
        for (i, e) in cat.events.iter().enumerate() {
            if opts.reconnecting_only && !e.reconnects {
                counts.not_reconnecting += 1;
                continue;
            }
            if opts.verified_only && !e.verified {
                counts.unverified += 1;
                continue;
            }
            if let (Some(species), Some(want)) = (&species_of, &opts.species) {
                let atom = most_displaced_atom(e);
                let Some(sp) = species[origin].get(atom) else {
                    return Err(Error::invalid(format!(
                        "{}: event of task {} moves atom {atom}, but the starting structure has {} atoms",
                        cat.path.display(),
                        e.task,
                        species[origin].len()
                    )));
                };
                if sp != want {
                    counts.other_species += 1;
                    continue;
                }
            }
            if let Some(net) = &network {
                match net.fates[k][i] {
                    Fate::Edge { edge, forward } => {
                        if !seen.insert((edge.index(), forward)) {
                            counts.repeated += 1;
                            continue;
                        }
                    }
                    Fate::SelfLoop => {
                        counts.self_loops += 1;
                        continue;
                    }
                    Fate::NotReconnecting => unreachable!("the network keeps unconnected events"),
                }
            }
            out.ids.push(EventId {
                catalog: k,
                task: e.task,
            });
            out.e_fw.push(e.e_fw);
            out.e_rev.push(e.e_rev);
            out.max_displacement.push(e.max_displacement);
        }
    }
    counts.selected = out.ids.len();
    out.counts = counts;
    Ok(out)
}

/// The atom with the largest displacement between the two minima (the lowest index on a tie;
/// the central atom when the event lists no displacement).
pub fn most_displaced_atom(e: &crate::catalog::Event) -> usize {
    let mut best: Option<(f64, u32)> = None;
    for (i, d) in &e.final_displacements {
        let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if best.is_none_or(|(b, j)| r2 > b || (r2 == b && *i < j)) {
            best = Some((r2, *i));
        }
    }
    best.map(|(_, i)| i as usize).unwrap_or(e.central_atom)
}

/// Statistics of one filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterSummary {
    pub e_fw: Summary,
    pub e_rev: Summary,
    /// E_fw - E_rev = E_final - E_initial.
    pub asymmetry: Summary,
    /// Fraction of events with E_rev < E_fw (the final minimum lies above the initial one).
    pub fraction_rev_below_fw: f64,
    /// Pearson correlation of E_fw and E_rev.
    pub correlation: Option<f64>,
}

/// Histograms of one filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterHistograms {
    pub e_fw: Histogram,
    pub e_rev: Histogram,
    pub asymmetry: Histogram,
    /// x: E_fw, y: E_rev.
    pub joint: Histogram2d,
}

/// Fits of one filter; a fit that could not be made carries its reason instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterFits {
    /// FIE eq. (3) to E_A = E_fw.
    pub activation: Option<FieFit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_error: Option<String>,
    /// FIE eq. (5) to E_R = E_rev.
    pub relaxation: Option<ExpFit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relaxation_error: Option<String>,
}

/// Everything about the events with max displacement >= `min_displacement`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterReport {
    /// Å.
    pub min_displacement: f64,
    pub n_events: usize,
    /// Null when the filter leaves no event.
    pub summary: Option<FilterSummary>,
    pub histograms: Option<FilterHistograms>,
    /// Null without fits, or when the filter leaves no event.
    pub fits: Option<FilterFits>,
}

/// The sample behind the catalogs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleInfo {
    /// Starting structure(s) as recorded.
    pub structures: Vec<String>,
    pub natoms: usize,
    /// Inherent-structure energy per atom of the starting minimum (mean over structures), eV.
    pub e_is: f64,
    /// Spread (standard deviation) of E_IS over several structures; 0 for one.
    pub e_is_spread: f64,
}

/// `asym.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsymDocument {
    /// "pelx.asym/1".
    pub schema: String,
    pub pelx_version: String,
    pub parameters: AsymOptions,
    pub inputs: Vec<CatalogSummary>,
    pub sample: SampleInfo,
    pub selection: SelectionCounts,
    pub filters: Vec<FilterReport>,
    pub provenance: Provenance,
}

/// Computes the asymmetry tables (and fits) of a catalog set. Errors when the selection leaves
/// no event or when every filter is empty; a filter that alone is empty is reported with
/// `n_events: 0` and a warning.
pub fn analyse(set: &CatalogSet, opts: &AsymOptions, provenance: Provenance) -> Result<AsymDocument> {
    opts.validate()?;
    let sel = select(set, opts)?;
    let c = &sel.counts;
    if c.selected == 0 {
        return Err(Error::invalid(format!(
            "the selection leaves no event of {} (not reconnecting: {}, other species: {}, repeated: {}, self-loops: {})",
            c.events, c.not_reconnecting, c.other_species, c.repeated, c.self_loops
        )));
    }
    let asym: Vec<f64> = sel.e_fw.iter().zip(&sel.e_rev).map(|(f, r)| f - r).collect();
    let g_fw = Grid::covering(sel.e_fw.iter().copied().chain([0.0]), opts.bin)?;
    let g_rev = Grid::covering(sel.e_rev.iter().copied().chain([0.0]), opts.bin)?;
    let g_asym = Grid::covering(asym.iter().copied(), opts.bin)?;
    let j_fw = Grid::covering(sel.e_fw.iter().copied().chain([0.0]), opts.bin2d)?;
    let j_rev = Grid::covering(sel.e_rev.iter().copied().chain([0.0]), opts.bin2d)?;
    if j_fw.n.saturating_mul(j_rev.n) > MAX_BINS {
        return Err(Error::invalid(format!(
            "a 2D bin width of {} eV makes {} x {} bins of the joint E_fw, E_rev histogram (at most {MAX_BINS} in all); choose a wider --bin2d",
            opts.bin2d, j_fw.n, j_rev.n
        )));
    }
    let largest = sel.max_displacement.iter().copied().fold(0.0, f64::max);
    let keeps: Vec<Vec<usize>> = opts
        .min_displacements
        .iter()
        .map(|&d| (0..sel.ids.len()).filter(|&i| sel.max_displacement[i] >= d).collect())
        .collect();
    if keeps.iter().all(Vec::is_empty) {
        return Err(Error::invalid(format!(
            "no event passes any max-displacement filter ({} Å): the largest max displacement among the {} selected events is {largest:.3} Å",
            opts.min_displacements.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
            c.selected
        )));
    }
    let mut filters = Vec::with_capacity(opts.min_displacements.len());
    for (&d, keep) in opts.min_displacements.iter().zip(&keeps) {
        if keep.is_empty() {
            tracing::warn!(
                "max displacement >= {d} Å leaves no event (largest: {largest:.3} Å of {}): no tables, fits or plots for it",
                c.selected
            );
            filters.push(FilterReport {
                min_displacement: d,
                n_events: 0,
                summary: None,
                histograms: None,
                fits: None,
            });
            continue;
        }
        let fw: Vec<f64> = keep.iter().map(|&i| sel.e_fw[i]).collect();
        let rev: Vec<f64> = keep.iter().map(|&i| sel.e_rev[i]).collect();
        let dif: Vec<f64> = keep.iter().map(|&i| asym[i]).collect();
        let summary = FilterSummary {
            e_fw: summarize(&fw).expect("non-empty"),
            e_rev: summarize(&rev).expect("non-empty"),
            asymmetry: summarize(&dif).expect("non-empty"),
            fraction_rev_below_fw: fw.iter().zip(&rev).filter(|(f, r)| r < f).count() as f64 / fw.len() as f64,
            correlation: correlation(&fw, &rev),
        };
        let histograms = FilterHistograms {
            e_fw: Histogram::new(&fw, g_fw),
            e_rev: Histogram::new(&rev, g_rev),
            asymmetry: Histogram::new(&dif, g_asym),
            joint: Histogram2d::new(&fw, &rev, j_fw, j_rev),
        };
        let fits = opts.fit.as_ref().map(|fo| {
            // Barriers within BARRIER_ZERO_TOL below zero are zero within the precision of a
            // saddle converged to a finite force; the spectra live on E >= 0.
            let clamp = |v: &[f64]| -> Vec<f64> {
                v.iter()
                    .map(|&x| if x < 0.0 && x > -BARRIER_ZERO_TOL { 0.0 } else { x })
                    .collect()
            };
            let (fw_fit, rev_fit) = (clamp(&fw), clamp(&rev));
            let (activation, activation_error) = split(fit_fie(&fw_fit, fo), d, "E_A");
            let (relaxation, relaxation_error) = split(fit_exponential(&rev_fit, fo), d, "E_R");
            FilterFits {
                activation,
                activation_error,
                relaxation,
                relaxation_error,
            }
        });
        filters.push(FilterReport {
            min_displacement: d,
            n_events: keep.len(),
            summary: Some(summary),
            histograms: Some(histograms),
            fits,
        });
    }
    Ok(AsymDocument {
        schema: SCHEMA.to_string(),
        pelx_version: crate::provenance::VERSION.to_string(),
        parameters: opts.clone(),
        inputs: set.summaries(),
        sample: sample_info(set),
        selection: sel.counts,
        filters,
        provenance,
    })
}

fn split<T>(r: Result<T>, d: f64, what: &str) -> (Option<T>, Option<String>) {
    match r {
        Ok(v) => (Some(v), None),
        Err(e) => {
            tracing::warn!("max displacement >= {d} Å: no {what} fit: {e}");
            (None, Some(e.to_string()))
        }
    }
}

fn sample_info(set: &CatalogSet) -> SampleInfo {
    let e: Vec<f64> = set.origins.iter().map(|o| o.e_initial / o.natoms as f64).collect();
    let mean = e.iter().sum::<f64>() / e.len() as f64;
    let spread = if e.len() > 1 {
        (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (e.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    SampleInfo {
        structures: set.origins.iter().map(|o| o.structure_path.clone()).collect(),
        natoms: set.origins[0].natoms,
        e_is: mean,
        e_is_spread: spread,
    }
}

impl AsymDocument {
    /// The index of the filter with threshold `d` (within 1e-9 Å).
    pub fn filter_index(&self, d: f64) -> Option<usize> {
        self.filters.iter().position(|f| (f.min_displacement - d).abs() < 1e-9)
    }

    /// The fits of filter `k` in the form `pelx fie regress` reads ([`FieSpectrumFit`]):
    /// uncertainties from the bootstrap when there was one, else from the Hessian.
    pub fn fie_spectrum_fit(&self, k: usize, sample: &str) -> Result<FieSpectrumFit> {
        let f = &self.filters[k];
        let d = f.min_displacement;
        let fits = f.fits.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "max displacement >= {d} Å has no fits (no events, or no --fit)"
            ))
        })?;
        let a = fits.activation.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "max displacement >= {d} Å: no E_A fit ({})",
                fits.activation_error.as_deref().unwrap_or("not made")
            ))
        })?;
        let r = fits.relaxation.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "max displacement >= {d} Å: no E_R fit ({})",
                fits.relaxation_error.as_deref().unwrap_or("not made")
            ))
        })?;
        let mut fixed = Vec::new();
        if a.e_a.fixed {
            fixed.push("e_a".to_string());
        }
        if a.s.fixed {
            fixed.push("s".to_string());
        }
        let out = FieSpectrumFit {
            schema: SPECTRUM_FIT_SCHEMA.to_string(),
            sample: sample.to_string(),
            e_is: self.sample.e_is,
            w: a.w.value,
            m: a.m.value,
            e_a: a.e_a.value,
            s: a.s.value,
            e_r: r.e_r.value,
            fixed,
            uncertainties: SpectrumUncertainties {
                e_is: (self.sample.e_is_spread > 0.0).then_some(self.sample.e_is_spread),
                w: a.w.best_sigma(),
                m: a.m.best_sigma(),
                e_a: a.e_a.best_sigma(),
                s: a.s.best_sigma(),
                e_r: r.e_r.best_sigma(),
            },
            n_events: a.n,
            log_likelihood: Some(a.log_likelihood),
            provenance: Some(self.provenance.clone()),
        };
        out.validate()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
