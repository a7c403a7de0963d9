//! SVG figures of a what-if study: f against 1000/T for every asymmetry level (or the
//! catalog), and the activation energies E_f, E_D, E_RW against the asymmetry dial.

use super::landscape::Dial;
use super::whatif::{AsymmetryPoint, WhatifReport};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

type Plot = std::result::Result<(), Box<dyn std::error::Error>>;
/// A curve of the energy figure: label, value of a point, colour.
type EnergySeries = (&'static str, fn(&AsymmetryPoint) -> f64, RGBAColor);

/// Writes `<prefix>-f.svg` and, with fits at two or more asymmetry levels, `<prefix>-ef.svg`.
/// Returns the files written.
pub fn write_whatif_svgs(report: &WhatifReport, prefix: &Path) -> Result<Vec<PathBuf>> {
    let name = |suffix: &str| {
        let mut s = prefix.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let mut written = Vec::new();
    let f_path = name("-f.svg");
    f_versus_temperature(report, &f_path).map_err(|e| Error::invalid(format!("{}: {e}", f_path.display())))?;
    written.push(f_path);
    if report.e_f_vs_asymmetry.len() >= 2 {
        let e_path = name("-ef.svg");
        energies_versus_asymmetry(report, &e_path).map_err(|e| Error::invalid(format!("{}: {e}", e_path.display())))?;
        written.push(e_path);
    }
    Ok(written)
}

/// Range of `values` widened by `pad` of its width on each side (a unit range if flat).
fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let w = if hi > lo { hi - lo } else { 1.0 };
    (lo - pad * w, hi + pad * w)
}

fn f_versus_temperature(report: &WhatifReport, path: &Path) -> Plot {
    let root = SVGBackend::new(path, (820, 580)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = report.levels.iter().flat_map(|l| &l.scan.points);
    let (x0, x1) = padded(all.clone().map(|p| 1000.0 / p.temperature), 0.05);
    let lo = all
        .clone()
        .map(|p| (p.f - p.f_err).max(0.5 * p.f))
        .fold(f64::INFINITY, f64::min);
    let hi = all.map(|p| p.f + p.f_err).fold(0.0, f64::max);
    let (y0, y1) = (lo / 1.3, (hi * 1.3).max(1.05));
    let mut chart = ChartBuilder::on(&root)
        .caption("Correlation factor f = D / D_RW", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale().with_key_points(log_ticks(y0, y1)))?;
    chart
        .configure_mesh()
        .x_desc("1000 / T (1/K)")
        .y_desc("f (log scale)")
        .y_label_formatter(&|v| format!("{v}"))
        .draw()?;
    for (i, level) in report.levels.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let data: Vec<(f64, f64)> = level
            .scan
            .points
            .iter()
            .map(|p| (1000.0 / p.temperature, p.f))
            .collect();
        let label = match level.asymmetry {
            Some(a) => format!("asymmetry a = {a}"),
            None => "catalog".to_string(),
        };
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(data.iter().map(|&xy| Circle::new(xy, 4, color.filled())))?;
        chart.draw_series(level.scan.points.iter().map(|p| {
            let x = 1000.0 / p.temperature;
            PathElement::new(
                vec![(x, (p.f - p.f_err).max(y0)), (x, p.f + p.f_err)],
                color.stroke_width(1),
            )
        }))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Round values (1, 2, 3, 5, 7 times powers of ten) between `lo` and `hi`, as log-axis ticks.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut k = lo.log10().floor() as i32;
    while 10f64.powi(k) <= hi {
        for m in [1.0, 2.0, 3.0, 5.0, 7.0] {
            // m / 10^-k rounds correctly (0.3, not 0.30000000000000004).
            let v = if k >= 0 { m * 10f64.powi(k) } else { m / 10f64.powi(-k) };
            if (lo..=hi).contains(&v) {
                ticks.push(v);
            }
        }
        k += 1;
    }
    ticks
}

fn energies_versus_asymmetry(report: &WhatifReport, path: &Path) -> Plot {
    let root = SVGBackend::new(path, (820, 580)).into_drawing_area();
    root.fill(&WHITE)?;
    let pts = &report.e_f_vs_asymmetry;
    let (x0, x1) = padded(pts.iter().map(|p| p.asymmetry), 0.05);
    let (y0, y1) = padded(
        pts.iter()
            .flat_map(|p| [p.e_f - p.e_f_err, p.e_f + p.e_f_err, p.e_d, p.e_rw, 0.0]),
        0.08,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption("Activation energies against barrier asymmetry", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let x_desc = match report.config.parametric.as_ref().map(|p| p.dial) {
        Some(Dial::FixedSaddle) => "asymmetry dial a, fixed saddle disorder (corr(E_fw, E_rev) = (1 - a)/(1 + a))",
        _ => "asymmetry dial a, fixed forward barriers (corr(E_fw, E_rev) = 1 - 2a)",
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("activation energy (eV)")
        .draw()?;
    let series: [EnergySeries; 3] = [
        ("E_f", |p| p.e_f, RED.to_rgba()),
        ("E_D", |p| p.e_d, BLUE.to_rgba()),
        ("E_RW", |p| p.e_rw, GREEN.to_rgba()),
    ];
    for (label, get, color) in series {
        let data: Vec<(f64, f64)> = pts.iter().map(|p| (p.asymmetry, get(p))).collect();
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(data.iter().map(|&xy| Circle::new(xy, 4, color.filled())))?;
    }
    chart.draw_series(pts.iter().map(|p| {
        PathElement::new(
            vec![(p.asymmetry, p.e_f - p.e_f_err), (p.asymmetry, p.e_f + p.e_f_err)],
            RED.stroke_width(1),
        )
    }))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_ticks_are_round_numbers_in_range() {
        assert_eq!(super::log_ticks(0.12, 1.05), vec![0.2, 0.3, 0.5, 0.7, 1.0]);
        assert_eq!(super::log_ticks(0.04, 0.25), vec![0.05, 0.07, 0.1, 0.2]);
    }
}
