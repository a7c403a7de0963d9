//! SVG figures of a decomposition (MSD and random-walk MSD against time on log-log axes, the
//! convergence curve 1/f(t), the step-length histogram, f against the threshold) and of an
//! Arrhenius analysis (D and D_RW, f, and E_RW, E_f against the threshold).

use super::arrhenius::ArrheniusReport;
use super::Decomposition;
use crate::units::KB;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

type Plot = std::result::Result<(), Box<dyn std::error::Error>>;

const SIZE: (u32, u32) = (820, 580);

/// Colours of the per-species curves (distinct from the blue and red of the totals).
fn species_color(k: usize) -> RGBAColor {
    const C: [RGBColor; 5] = [
        RGBColor(0, 140, 0),
        RGBColor(150, 40, 200),
        RGBColor(230, 130, 0),
        RGBColor(0, 150, 170),
        RGBColor(120, 120, 120),
    ];
    C[k % C.len()].to_rgba()
}

/// `<prefix><suffix>` as a path.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn run(path: PathBuf, f: impl FnOnce(&Path) -> Plot, written: &mut Vec<PathBuf>) -> Result<()> {
    f(&path).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    written.push(path);
    Ok(())
}

/// Writes `<prefix>-msd.svg`, `<prefix>-inverse-f.svg`, `<prefix>-steps.svg` and, with a scan
/// of two thresholds or more, `<prefix>-scan.svg`. Returns the files written.
pub fn write_decomposition_svgs(d: &Decomposition, prefix: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    run(with_suffix(prefix, "-msd.svg"), |p| msd(d, p), &mut written)?;
    run(with_suffix(prefix, "-inverse-f.svg"), |p| inverse_f(d, p), &mut written)?;
    run(with_suffix(prefix, "-steps.svg"), |p| steps(d, p), &mut written)?;
    if d.threshold_scan.len() >= 2 {
        run(with_suffix(prefix, "-scan.svg"), |p| scan(d, p), &mut written)?;
    }
    Ok(written)
}

/// Writes `<prefix>-D.svg`, `<prefix>-f.svg` and, with a threshold scan, `<prefix>-scan.svg`.
pub fn write_arrhenius_svgs(r: &ArrheniusReport, prefix: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    run(with_suffix(prefix, "-D.svg"), |p| arrhenius_d(r, p), &mut written)?;
    run(with_suffix(prefix, "-f.svg"), |p| arrhenius_f(r, p), &mut written)?;
    if r.threshold_scan.len() >= 2 {
        run(with_suffix(prefix, "-scan.svg"), |p| arrhenius_scan(r, p), &mut written)?;
    }
    Ok(written)
}

/// (min, max) of the positive finite values, widened by a factor `pad` on a log axis.
fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.1, 10.0);
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, lo * 2.0) };
    (lo / pad, hi * pad)
}

/// Range of `values` widened by `pad` of its width on each side.
fn lin_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let w = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - pad * w, hi + pad * w)
}

fn msd(d: &Decomposition, path: &Path) -> Plot {
    let c = &d.curves;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = log_range(c.time.iter().copied(), 1.3);
    let all = c
        .msd
        .iter()
        .chain(&c.msd_rw)
        .chain(c.species.iter().flat_map(|s| s.msd.iter().chain(&s.msd_rw)))
        .copied();
    let (y0, y1) = log_range(all, 1.5);
    let title = format!(
        "MSD: D = {:.3e}, D_RW = {:.3e} Å²/ps, f = {:.3} (d = {} Å)",
        d.coefficients.d, d.coefficients.d_rw, d.coefficients.f, d.parameters.threshold
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
    let ylabel = if d.dimension == 2 {
        "in-plane MSD (Å²)"
    } else {
        "MSD (Å²)"
    };
    chart.configure_mesh().x_desc("time (ps)").y_desc(ylabel).draw()?;
    // The fit window.
    let (ws, we) = (d.fit.t_start.max(x0), d.fit.t_end.min(x1));
    if we > ws {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(ws, y0), (we, y1)],
            RGBColor(230, 230, 230).filled(),
        )))?;
    }
    let series = |v: &[f64]| -> Vec<(f64, f64)> {
        c.time
            .iter()
            .zip(v)
            .filter(|(_, y)| **y > 0.0)
            .map(|(x, y)| (*x, *y))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(series(&c.msd), BLUE.stroke_width(3)))?
        .label("MD (all atoms)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(series(&c.msd_rw), RED.stroke_width(3)))?
        .label(match d.parameters.realizations {
            0 => "random walk (exact mean over directions)".to_string(),
            n => format!("random walk (mean of {n})"),
        })
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(3)));
    if c.species.len() > 1 {
        for (k, s) in c.species.iter().enumerate() {
            let col = species_color(k);
            chart
                .draw_series(LineSeries::new(series(&s.msd), col.stroke_width(1)))?
                .label(format!("{} MD / random walk", s.species))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(1)));
            chart.draw_series(DashedLineSeries::new(series(&s.msd_rw), 6, 4, col.stroke_width(1)))?;
        }
    }
    // Unit slope through the MD curve at the end of the fit window.
    if let Some(&(tx, my)) = series(&c.msd).iter().rfind(|(t, _)| *t <= we) {
        let line = vec![(x0, my * x0 / tx), (x1, my * x1 / tx)];
        chart
            .draw_series(DashedLineSeries::new(line, 3, 5, BLACK.stroke_width(1)))?
            .label("slope 1")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

fn inverse_f(d: &Decomposition, path: &Path) -> Plot {
    let c = &d.curves;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = log_range(c.time.iter().copied(), 1.3);
    let vals = c
        .inverse_f
        .iter()
        .chain(c.species.iter().flat_map(|s| s.inverse_f.iter()))
        .flatten()
        .copied()
        .chain([1.0, 1.0 / d.coefficients.f]);
    let (y0, y1) = lin_range(vals, 0.08);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Convergence of the correlation factor: MSD_RW / MSD = 1/f",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((x0..x1).log_scale(), y0.max(0.0)..y1)?;
    chart
        .configure_mesh()
        .x_desc("time (ps)")
        .y_desc("MSD_RW / MSD")
        .draw()?;
    let series = |v: &[Option<f64>]| -> Vec<(f64, f64)> {
        c.time.iter().zip(v).filter_map(|(x, y)| y.map(|y| (*x, y))).collect()
    };
    chart
        .draw_series(LineSeries::new(series(&c.inverse_f), BLUE.stroke_width(3)))?
        .label("all atoms")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(3)));
    if c.species.len() > 1 {
        for (k, s) in c.species.iter().enumerate() {
            let col = species_color(k);
            chart
                .draw_series(LineSeries::new(series(&s.inverse_f), col.stroke_width(2)))?
                .label(s.species.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
        }
    }
    let inv = 1.0 / d.coefficients.f;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(x0, inv), (x1, inv)],
            6,
            4,
            BLACK.stroke_width(1),
        ))?
        .label(format!("1/f from the fits = {inv:.3}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        // 1/f(t) starts at 1 and rises when f < 1 (falls when f > 1): the legend goes where
        // the curves are not.
        .position(if inv >= 1.0 {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::UpperRight
        })
        .draw()?;
    root.present()?;
    Ok(())
}

fn steps(d: &Decomposition, path: &Path) -> Plot {
    let h = &d.displacement_histogram;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let total: u64 = h.counts.iter().sum::<u64>() + h.overflow;
    let dens: Vec<(f64, f64)> = h
        .counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(k, &n)| ((k as f64 + 0.5) * h.bin_width, n as f64 / (total as f64 * h.bin_width)))
        .collect();
    let xmax = (h.counts.len() as f64 * h.bin_width)
        .max(d.parameters.threshold * 1.2)
        .max(0.5);
    let (y0, y1) = log_range(dens.iter().map(|p| p.1), 2.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Step lengths per {} ps interval ({:.2} % longer than d = {} Å)",
                d.parameters.interval,
                100.0 * d.hops.long_fraction,
                d.parameters.threshold
            ),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..xmax, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("|Δr| over one interval (Å)")
        .y_desc("probability density (1/Å)")
        .draw()?;
    chart.draw_series(dens.iter().map(|&p| Circle::new(p, 2, BLUE.filled())))?;
    let t = d.parameters.threshold;
    chart.draw_series(DashedLineSeries::new(vec![(t, y0), (t, y1)], 6, 4, RED.stroke_width(2)))?;
    root.present()?;
    Ok(())
}

fn scan(d: &Decomposition, path: &Path) -> Plot {
    let s = &d.threshold_scan;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = lin_range(s.iter().map(|p| p.d), 0.05);
    let (y0, y1) = lin_range(
        s.iter()
            .flat_map(|p| [p.f - p.f_err.unwrap_or(0.0), p.f + p.f_err.unwrap_or(0.0)])
            .chain(s.iter().flat_map(|p| p.species.iter().map(|q| q.f)))
            .chain([1.0]),
        0.08,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption("Correlation factor against the hop threshold", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("threshold d (Å)")
        .y_desc("f = D / D_RW")
        .draw()?;
    let pts: Vec<(f64, f64)> = s.iter().map(|p| (p.d, p.f)).collect();
    chart
        .draw_series(LineSeries::new(pts.clone(), BLUE.stroke_width(2)))?
        .label("all atoms")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))?;
    chart.draw_series(s.iter().filter_map(|p| {
        p.f_err
            .map(|e| PathElement::new(vec![(p.d, p.f - e), (p.d, p.f + e)], BLUE.stroke_width(1)))
    }))?;
    let nsp = s.first().map_or(0, |p| p.species.len());
    if nsp > 1 {
        for k in 0..nsp {
            let col = species_color(k);
            let v: Vec<(f64, f64)> = s.iter().map(|p| (p.d, p.species[k].f)).collect();
            chart
                .draw_series(LineSeries::new(v, col.stroke_width(1)))?
                .label(s[0].species[k].species.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(1)));
        }
    }
    chart.draw_series(DashedLineSeries::new(
        vec![(x0, 1.0), (x1, 1.0)],
        6,
        4,
        BLACK.stroke_width(1),
    ))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

/// The fitted line ln y = ln y0 - E/(k_B T) at 1000/T = x.
fn line_at(fit: &super::stats::ArrheniusFit, x: f64) -> f64 {
    let t = 1000.0 / x;
    fit.prefactor * (-fit.energy / (KB * t)).exp()
}

fn energy_label(name: &str, fit: &Option<super::stats::ArrheniusFit>) -> String {
    match fit {
        Some(f) => match f.energy_err {
            Some(e) => format!("{name} = {:.3} ± {:.3} eV", f.energy, e),
            None => format!("{name} = {:.3} eV", f.energy),
        },
        None => format!("{name}: no fit"),
    }
}

fn arrhenius_d(r: &ArrheniusReport, path: &Path) -> Plot {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let xs: Vec<f64> = r.points.iter().map(|p| 1000.0 / p.temperature).collect();
    let (x0, x1) = lin_range(xs.iter().copied(), 0.08);
    let (y0, y1) = log_range(r.points.iter().flat_map(|p| [p.d, p.d_rw]), 2.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("Arrhenius plot of D and D_RW", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("1000 / T (1/K)")
        .y_desc("diffusion coefficient (Å²/ps)")
        .draw()?;
    type Get = fn(&super::arrhenius::ArrheniusPoint) -> (f64, Option<f64>);
    let sets: [(&str, Get, &Option<super::stats::ArrheniusFit>, RGBColor); 2] = [
        ("E_D", |p| (p.d, p.d_err), &r.energies.e_d, BLUE),
        ("E_RW", |p| (p.d_rw, p.d_rw_err), &r.energies.e_rw, RED),
    ];
    for (name, get, fit, col) in sets {
        let pts: Vec<(f64, f64)> = r.points.iter().zip(&xs).map(|(p, &x)| (x, get(p).0)).collect();
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, col.filled())))?;
        chart.draw_series(r.points.iter().zip(&xs).filter_map(|(p, &x)| {
            let (v, e) = get(p);
            e.map(|e| PathElement::new(vec![(x, (v - e).max(y0)), (x, v + e)], col.stroke_width(1)))
        }))?;
        if let Some(f) = fit {
            let line = vec![(x0, line_at(f, x0)), (x1, line_at(f, x1))];
            chart
                .draw_series(LineSeries::new(line, col.stroke_width(2)))?
                .label(energy_label(name, fit))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
        }
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

fn arrhenius_f(r: &ArrheniusReport, path: &Path) -> Plot {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let xs: Vec<f64> = r.points.iter().map(|p| 1000.0 / p.temperature).collect();
    let (x0, x1) = lin_range(xs.iter().copied(), 0.08);
    let (y0, y1) = log_range(
        r.points
            .iter()
            .flat_map(|p| [p.f, p.f + p.f_err.unwrap_or(0.0), p.f - p.f_err.unwrap_or(0.0)]),
        1.3,
    );
    let mut chart = ChartBuilder::on(&root)
        .caption("Correlation factor f = D / D_RW", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    chart.configure_mesh().x_desc("1000 / T (1/K)").y_desc("f").draw()?;
    let pts: Vec<(f64, f64)> = r.points.iter().zip(&xs).map(|(p, &x)| (x, p.f)).collect();
    chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, BLUE.filled())))?;
    chart.draw_series(r.points.iter().zip(&xs).filter_map(|(p, &x)| {
        p.f_err
            .map(|e| PathElement::new(vec![(x, (p.f - e).max(y0)), (x, p.f + e)], BLUE.stroke_width(1)))
    }))?;
    if let Some(f) = &r.energies.e_f {
        let line = vec![(x0, line_at(f, x0)), (x1, line_at(f, x1))];
        chart
            .draw_series(LineSeries::new(line, BLUE.stroke_width(2)))?
            .label(energy_label("E_f", &r.energies.e_f))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
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

fn arrhenius_scan(r: &ArrheniusReport, path: &Path) -> Plot {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let s = &r.threshold_scan;
    let e = |f: &Option<super::stats::ArrheniusFit>| f.as_ref().map_or(f64::NAN, |f| f.energy);
    let ed = e(&r.energies.e_d);
    let (x0, x1) = lin_range(s.iter().map(|p| p.d), 0.05);
    let (y0, y1) = lin_range(s.iter().flat_map(|p| [e(&p.e_rw), e(&p.e_f)]).chain([ed, 0.0]), 0.08);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Activation energies against the hop threshold (Table S1)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("threshold d (Å)")
        .y_desc("activation energy (eV)")
        .draw()?;
    type Row<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);
    let rows: [Row; 2] = [
        ("E_RW", s.iter().map(|p| (p.d, e(&p.e_rw))).collect(), RED),
        ("E_f", s.iter().map(|p| (p.d, e(&p.e_f))).collect(), BLUE),
    ];
    for (name, pts, col) in rows {
        let pts: Vec<(f64, f64)> = pts.into_iter().filter(|p| p.1.is_finite()).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, col.filled())))?;
    }
    if ed.is_finite() {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, ed), (x1, ed)],
                6,
                4,
                BLACK.stroke_width(1),
            ))?
            .label(format!("E_D = {ed:.3} eV"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}
