//! SVG figures of an [`AsymDocument`] (plotters, SVG backend): for each max-displacement filter
//! with events, the E_fw and E_rev distributions overlaid (Annamareddy et al. 2026, Fig. 4b,
//! c), the E_fw - E_rev distribution, the joint distribution as a heat map, and with fits the
//! fitted M1/M2 decomposition over the E_A histogram (FIE Fig. 2a) beside the exponential over
//! the E_R histogram; across filters, the E_fw and E_rev distributions (2026 paper, Fig. 3).
//! A filter without events gets no figure (and a warning); nothing is drawn from empty data.

use super::asym::{AsymDocument, FilterReport};
use super::stats::Histogram;
use crate::{Error, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

const FW: RGBColor = RGBColor(0, 90, 170);
const REV: RGBColor = RGBColor(200, 60, 0);
const M1: RGBColor = RGBColor(0, 140, 90);
const M2: RGBColor = RGBColor(140, 60, 160);
const FILTER_COLOURS: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 90, 170),
    RGBColor(200, 60, 0),
    RGBColor(0, 140, 90),
    RGBColor(140, 60, 160),
    RGBColor(160, 110, 0),
];

fn plot_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::invalid(format!("{}: plotting failed: {e}", path.display()))
}

/// "1", "1.5", "2.5": a threshold as it appears in file names and titles.
fn fmt_d(d: f64) -> String {
    format!("{d}")
}

/// Writes every figure into `dir` (created if needed); returns the files written.
pub fn write_all(doc: &AsymDocument, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for f in &doc.filters {
        if f.n_events == 0 || f.histograms.is_none() {
            tracing::warn!(
                "max displacement >= {} Å has no events: no figures for it",
                fmt_d(f.min_displacement)
            );
            continue;
        }
        let tag = format!("ge{}A", fmt_d(f.min_displacement));
        let p = dir.join(format!("barriers_{tag}.svg"));
        barriers(f, &p)?;
        out.push(p);
        let p = dir.join(format!("asymmetry_{tag}.svg"));
        asymmetry(f, &p)?;
        out.push(p);
        let p = dir.join(format!("joint_{tag}.svg"));
        joint(f, &p)?;
        out.push(p);
        if let Some(fits) = &f.fits {
            if fits.activation.is_some() || fits.relaxation.is_some() {
                let p = dir.join(format!("fit_{tag}.svg"));
                fit(f, &p)?;
                out.push(p);
            }
        }
    }
    if doc.filters.iter().filter(|f| f.n_events > 0).count() > 1 {
        let p = dir.join("filters.svg");
        filters(doc, &p)?;
        out.push(p);
    }
    Ok(out)
}

/// Upper end of the energy axis: the 99.5th percentile of the counts, so that a few far
/// outliers do not squeeze the distribution.
fn x_max(hs: &[&Histogram]) -> f64 {
    let mut hi: f64 = 0.0;
    for h in hs {
        let total: u64 = h.counts.iter().sum();
        let mut acc = 0;
        for (k, &c) in h.counts.iter().enumerate() {
            acc += c;
            if acc as f64 >= 0.995 * total as f64 {
                hi = hi.max(h.lo + (k + 1) as f64 * h.bin);
                break;
            }
        }
    }
    hi.max(0.1)
}

fn y_max(hs: &[&Histogram]) -> f64 {
    let m = hs.iter().flat_map(|h| h.density.iter().copied()).fold(0.0, f64::max);
    if m > 0.0 {
        1.08 * m
    } else {
        1.0
    }
}

/// The outline of a histogram as a step line.
fn steps(h: &Histogram) -> Vec<(f64, f64)> {
    let mut pts = vec![(h.lo, 0.0)];
    for (k, &d) in h.density.iter().enumerate() {
        let x0 = h.lo + k as f64 * h.bin;
        pts.push((x0, d));
        pts.push((x0 + h.bin, d));
    }
    pts.push((h.lo + h.density.len() as f64 * h.bin, 0.0));
    pts
}

fn bars<'a>(h: &'a Histogram, colour: RGBColor) -> impl Iterator<Item = Rectangle<(f64, f64)>> + 'a {
    h.density
        .iter()
        .enumerate()
        .filter(|(_, &d)| d > 0.0)
        .map(move |(k, &d)| {
            let x0 = h.lo + k as f64 * h.bin;
            Rectangle::new([(x0, 0.0), (x0 + h.bin, d)], colour.mix(0.25).filled())
        })
}

fn title(f: &FilterReport, what: &str) -> String {
    format!(
        "{what}: max displacement ≥ {} Å, {} events",
        fmt_d(f.min_displacement),
        f.n_events
    )
}

/// E_fw and E_rev densities overlaid, with their medians.
pub fn barriers(f: &FilterReport, path: &Path) -> Result<()> {
    let (h, s) = match (&f.histograms, &f.summary) {
        (Some(h), Some(s)) => (h, s),
        _ => return Err(Error::invalid(format!("{}: no events to plot", path.display()))),
    };
    let err = plot_err(path);
    let root = SVGBackend::new(path, (820, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let xr = 0.0f64.min(h.e_fw.lo).min(h.e_rev.lo)..x_max(&[&h.e_fw, &h.e_rev]);
    let ymax = y_max(&[&h.e_fw, &h.e_rev]);
    let mut chart = ChartBuilder::on(&root)
        .caption(title(f, "Forward and reverse barriers"), ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xr, 0.0..ymax)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("barrier (eV)")
        .y_desc("probability density (1/eV)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(&err)?;
    for (hist, colour, name, median) in [
        (&h.e_fw, FW, "E_fw", s.e_fw.median),
        (&h.e_rev, REV, "E_rev", s.e_rev.median),
    ] {
        chart.draw_series(bars(hist, colour)).map_err(&err)?;
        chart
            .draw_series(LineSeries::new(steps(hist), colour.stroke_width(2)))
            .map_err(&err)?
            .label(format!("{name} (median {median:.3} eV)"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2)));
        chart
            .draw_series(DashedLineSeries::new(
                vec![(median, 0.0), (median, ymax)],
                5,
                4,
                colour.stroke_width(1),
            ))
            .map_err(&err)?;
    }
    legend(&mut chart, &err)?;
    root.present().map_err(&err)
}

/// A density to draw.
type Curve<'a> = Box<dyn Fn(f64) -> f64 + 'a>;

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    err: &impl Fn(DrawingAreaErrorKind<DB::ErrorType>) -> Error,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)
}

/// The E_fw - E_rev density with the zero line and the fraction of events with E_rev < E_fw.
pub fn asymmetry(f: &FilterReport, path: &Path) -> Result<()> {
    let (h, s) = match (&f.histograms, &f.summary) {
        (Some(h), Some(s)) => (h, s),
        _ => return Err(Error::invalid(format!("{}: no events to plot", path.display()))),
    };
    let err = plot_err(path);
    let root = SVGBackend::new(path, (820, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let a = &h.asymmetry;
    let lo = a.lo.min(-0.1);
    let hi = (a.lo + a.counts.len() as f64 * a.bin).max(0.1);
    let ymax = y_max(&[a]);
    let mut chart = ChartBuilder::on(&root)
        .caption(title(f, "Barrier asymmetry"), ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(lo..hi, 0.0..ymax)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("E_fw − E_rev = E_final − E_initial (eV)")
        .y_desc("probability density (1/eV)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(&err)?;
    chart.draw_series(bars(a, FW)).map_err(&err)?;
    chart
        .draw_series(LineSeries::new(steps(a), FW.stroke_width(2)))
        .map_err(&err)?
        .label(format!(
            "E_rev < E_fw in {:.1} % of events (median asymmetry {:.3} eV)",
            100.0 * s.fraction_rev_below_fw,
            s.asymmetry.median
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], FW.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(vec![(0.0, 0.0), (0.0, ymax)], BLACK.stroke_width(1)))
        .map_err(&err)?;
    legend(&mut chart, &err)?;
    root.present().map_err(&err)
}

/// A perceptually uniform colour ramp (viridis, interpolated between five of its stops).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let k = (t.floor() as usize).min(3);
    let u = t - k as f64;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    let mix = |x: f64, y: f64| (x + u * (y - x)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The joint density of (E_fw, E_rev) as a heat map (empty cells white), with the diagonal
/// E_rev = E_fw and a colour bar.
pub fn joint(f: &FilterReport, path: &Path) -> Result<()> {
    let h = match &f.histograms {
        Some(h) => &h.joint,
        None => return Err(Error::invalid(format!("{}: no events to plot", path.display()))),
    };
    let err = plot_err(path);
    let root = SVGBackend::new(path, (860, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (main, bar) = root.split_horizontally(760);
    let dmax = h.density.iter().flatten().copied().fold(0.0, f64::max);
    let xr = h.x.lo..h.x.lo + h.x.n as f64 * h.x.bin;
    let yr = h.y.lo..h.y.lo + h.y.n as f64 * h.y.bin;
    let mut chart = ChartBuilder::on(&main)
        .caption(title(f, "Joint distribution"), ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xr.clone(), yr.clone())
        .map_err(&err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("E_fw (eV)")
        .y_desc("E_rev (eV)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(&err)?;
    let cells = h.density.iter().enumerate().flat_map(|(i, row)| {
        row.iter().enumerate().filter(|(_, &d)| d > 0.0).map(move |(j, &d)| {
            let x0 = h.x.lo + i as f64 * h.x.bin;
            let y0 = h.y.lo + j as f64 * h.y.bin;
            Rectangle::new([(x0, y0), (x0 + h.x.bin, y0 + h.y.bin)], viridis(d / dmax).filled())
        })
    });
    chart.draw_series(cells).map_err(&err)?;
    let top = xr.end.min(yr.end);
    let bottom = xr.start.max(yr.start);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(bottom, bottom), (top, top)],
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(&err)?
        .label("E_rev = E_fw")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(1)));
    legend(&mut chart, &err)?;
    colour_bar(&bar, dmax, "density (1/eV²)", &err)?;
    root.present().map_err(&err)
}

fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    max: f64,
    label: &str,
    err: &impl Fn(DrawingAreaErrorKind<DB::ErrorType>) -> Error,
) -> Result<()> {
    let mut c = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(58)
        .margin_right(44)
        .y_label_area_size(0)
        .right_y_label_area_size(40)
        .build_cartesian_2d(0.0..1.0, 0.0..max)
        .map_err(err)?;
    c.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(label)
        .label_style(("sans-serif", 12))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()
        .map_err(err)?;
    let n = 64;
    c.draw_series((0..n).map(|k| {
        let (a, b) = (max * k as f64 / n as f64, max * (k + 1) as f64 / n as f64);
        Rectangle::new([(0.0, a), (1.0, b)], viridis((k as f64 + 0.5) / n as f64).filled())
    }))
    .map_err(err)?;
    Ok(())
}

/// Left: the E_A = E_fw histogram with the fitted FIE eq. (3) and its M1 and M2 parts (FIE
/// Fig. 2a). Right: the E_R = E_rev histogram with the fitted exponential, eq. (5).
pub fn fit(f: &FilterReport, path: &Path) -> Result<()> {
    let (h, fits) = match (&f.histograms, &f.fits) {
        (Some(h), Some(fits)) => (h, fits),
        _ => return Err(Error::invalid(format!("{}: no fit to plot", path.display()))),
    };
    let err = plot_err(path);
    let root = SVGBackend::new(path, (1240, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let root = root
        .titled(&title(f, "FIE spectra"), ("sans-serif", 20))
        .map_err(&err)?;
    let (left, right) = root.split_horizontally(640);
    if let Some(a) = &fits.activation {
        let sp = a.spectrum();
        let xmax = x_max(&[&h.e_fw]);
        let grid: Vec<f64> = (0..=400).map(|k| xmax * k as f64 / 400.0).collect();
        let ymax = y_max(&[&h.e_fw]).max(1.05 * grid.iter().map(|&e| sp.pdf(e)).fold(0.0, f64::max));
        let mut chart = ChartBuilder::on(&left)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("E_A = E_fw (eV)")
            .y_desc("probability density (1/eV)")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&err)?;
        chart.draw_series(bars(&h.e_fw, FW)).map_err(&err)?;
        chart
            .draw_series(LineSeries::new(steps(&h.e_fw), FW.mix(0.6).stroke_width(1)))
            .map_err(&err)?
            .label(format!("events ({})", a.n))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 24, y + 5)], FW.mix(0.25).filled()));
        let sig = |s: Option<f64>| s.map(|v| format!(" ± {v:.3}")).unwrap_or_default();
        let curves: [(RGBColor, String, Curve); 3] = [
            (
                BLACK,
                format!("fit: M1 + M2 (KS p = {:.2})", a.ks.p_value),
                Box::new(|e| sp.pdf(e)),
            ),
            (
                M1,
                format!(
                    "M1: W = {:.3}{}, e_A = {:.3}{} eV",
                    sp.w,
                    sig(a.w.best_sigma()),
                    sp.e_a,
                    if a.e_a.fixed {
                        " (fixed)".into()
                    } else {
                        sig(a.e_a.best_sigma())
                    }
                ),
                Box::new(|e| sp.pdf_m1(e)),
            ),
            (
                M2,
                format!(
                    "M2: m = {:.3}{}, s = {:.3}{} eV",
                    sp.m,
                    sig(a.m.best_sigma()),
                    sp.s,
                    if a.s.fixed {
                        " (fixed)".into()
                    } else {
                        sig(a.s.best_sigma())
                    }
                ),
                Box::new(|e| sp.pdf_m2(e)),
            ),
        ];
        for (colour, label, fun) in curves {
            chart
                .draw_series(LineSeries::new(
                    grid.iter().map(|&e| (e, fun(e))),
                    colour.stroke_width(2),
                ))
                .map_err(&err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2)));
        }
        legend(&mut chart, &err)?;
    }
    if let Some(r) = &fits.relaxation {
        let xmax = x_max(&[&h.e_rev]);
        let e_r = r.e_r.value;
        let ymax = y_max(&[&h.e_rev]).max(1.05 / e_r);
        let mut chart = ChartBuilder::on(&right)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("E_R = E_rev (eV)")
            .y_desc("probability density (1/eV)")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&err)?;
        chart.draw_series(bars(&h.e_rev, REV)).map_err(&err)?;
        chart
            .draw_series(LineSeries::new(steps(&h.e_rev), REV.mix(0.6).stroke_width(1)))
            .map_err(&err)?
            .label(format!("events ({})", r.n))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 24, y + 5)], REV.mix(0.25).filled()));
        let sigma = r.e_r.best_sigma().map(|v| format!(" ± {v:.3}")).unwrap_or_default();
        chart
            .draw_series(LineSeries::new(
                (0..=400).map(|k| {
                    let e = xmax * k as f64 / 400.0;
                    (e, (-e / e_r).exp() / e_r)
                }),
                BLACK.stroke_width(2),
            ))
            .map_err(&err)?
            .label(format!("fit: e_R = {e_r:.3}{sigma} eV (KS p = {:.2})", r.ks.p_value))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2)));
        legend(&mut chart, &err)?;
    }
    root.present().map_err(&err)
}

/// E_fw (left) and E_rev (right) densities of every non-empty filter.
pub fn filters(doc: &AsymDocument, path: &Path) -> Result<()> {
    let shown: Vec<&FilterReport> = doc.filters.iter().filter(|f| f.histograms.is_some()).collect();
    if shown.is_empty() {
        return Err(Error::invalid(format!("{}: no events to plot", path.display())));
    }
    let err = plot_err(path);
    let root = SVGBackend::new(path, (1240, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let root = root
        .titled("Barriers by max-displacement filter", ("sans-serif", 20))
        .map_err(&err)?;
    let (left, right) = root.split_horizontally(620);
    for (area, name, pick) in [(&left, "E_fw (eV)", 0usize), (&right, "E_rev (eV)", 1usize)] {
        let hs: Vec<&Histogram> = shown
            .iter()
            .map(|f| {
                let h = f.histograms.as_ref().expect("filtered");
                if pick == 0 {
                    &h.e_fw
                } else {
                    &h.e_rev
                }
            })
            .collect();
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max(&hs), 0.0..y_max(&hs))
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(name)
            .y_desc("probability density (1/eV)")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(&err)?;
        for (k, (f, h)) in shown.iter().zip(&hs).enumerate() {
            let colour = FILTER_COLOURS[k % FILTER_COLOURS.len()];
            chart
                .draw_series(LineSeries::new(steps(h), colour.stroke_width(2)))
                .map_err(&err)?
                .label(format!("≥ {} Å ({} events)", fmt_d(f.min_displacement), f.n_events))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2)));
        }
        legend(&mut chart, &err)?;
    }
    root.present().map_err(&err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::asym::{analyse, AsymOptions};
    use crate::analysis::catalogs::testing::spectrum_fixture;
    use crate::analysis::catalogs::{CatalogSet, SetOptions};
    use crate::analysis::fit::FitOptions;
    use crate::provenance::Provenance;

    #[test]
    fn figures_are_written_for_non_empty_filters_only() {
        let dir = tempfile::tempdir().unwrap();
        let (cat, _) = spectrum_fixture(dir.path(), "c.jsonl", 600, 8);
        let set = CatalogSet::read(&[cat], &SetOptions::default()).unwrap();
        let opts = AsymOptions {
            min_displacements: vec![1.0, 2.5, 9.0],
            fit: Some(FitOptions::default()),
            ..Default::default()
        };
        let doc = analyse(&set, &opts, Provenance::new(&[]).unwrap()).unwrap();
        let out = dir.path().join("plots");
        let files = write_all(&doc, &out).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "barriers_ge1A.svg",
                "asymmetry_ge1A.svg",
                "joint_ge1A.svg",
                "fit_ge1A.svg",
                "barriers_ge2.5A.svg",
                "asymmetry_ge2.5A.svg",
                "joint_ge2.5A.svg",
                "fit_ge2.5A.svg",
                "filters.svg"
            ]
        );
        for p in &files {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(
                text.starts_with("<svg") && text.contains("</svg>") && text.len() > 2000,
                "{}",
                p.display()
            );
        }
        let fit = std::fs::read_to_string(out.join("fit_ge1A.svg")).unwrap();
        assert!(fit.contains("M1: W = ") && fit.contains("e_R = "));
        // Nothing for the empty filter, and a direct call refuses it.
        assert!(!out.join("barriers_ge9A.svg").exists());
        assert!(barriers(&doc.filters[2], &out.join("x.svg")).is_err());
    }
}
