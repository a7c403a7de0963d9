//! SVG figures in the manner of FIE Figs. 3-5: the E_IS-T plane shaded by the sign of Delta
//! (ageing blue, rejuvenation red) with the equilibrium line, trajectories of thermal protocols
//! over it, and their dE_IS/dT. Drawn with plotters' SVG backend (no system fonts needed).

use super::equilibrium::EquilibriumLine;
use super::model::FieModel;
use super::numeric::brent;
use super::protocol::{Extremum, PieceKind, Trajectory};
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;

const AGEING: RGBColor = RGBColor(206, 225, 242);
const REJUVENATION: RGBColor = RGBColor(250, 205, 190);
const LINE: RGBColor = RGBColor(230, 150, 0);
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 90, 170),
    RGBColor(180, 40, 0),
    RGBColor(0, 125, 85),
    RGBColor(125, 60, 150),
    RGBColor(110, 110, 110),
    RGBColor(160, 110, 0),
];

fn plot_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::invalid(format!("{}: plotting failed: {e}", path.display()))
}

/// Plot ranges: the domain's temperatures (widened to the trajectories'), and the E_IS span of
/// the trajectories (or, without trajectories, of the line and markers), padded by 8 %, within the domain.
fn ranges(
    model: &FieModel,
    line: &EquilibriumLine,
    trajs: &[Trajectory],
    markers: &[[f64; 2]],
) -> (Range<f64>, Range<f64>) {
    let d = &model.config().domain;
    let (mut t0, mut t1) = (d.t_min, d.t_max);
    let (mut e0, mut e1) = (f64::INFINITY, f64::NEG_INFINITY);
    for tr in trajs {
        for s in &tr.states {
            t0 = t0.min(s.temperature);
            t1 = t1.max(s.temperature);
            e0 = e0.min(s.e_is);
            e1 = e1.max(s.e_is);
        }
    }
    if trajs.is_empty() {
        for &[_, e] in line.line.iter().chain(markers) {
            e0 = e0.min(e);
            e1 = e1.max(e);
        }
    }
    if e0.partial_cmp(&e1) != Some(std::cmp::Ordering::Less) {
        (e0, e1) = (d.e_is_min, d.e_is_max);
    }
    let pad = 0.08 * (e1 - e0);
    (t0..t1, (e0 - pad).max(d.e_is_min)..(e1 + pad).min(d.e_is_max))
}

/// The parts of a polyline (T, E_IS) inside the band E_IS in `band`, with the crossing points
/// interpolated (plotters does not clip series to the plotting area).
fn clip_to_band(points: &[[f64; 2]], band: &Range<f64>) -> Vec<Vec<(f64, f64)>> {
    let inside = |e: f64| e >= band.start && e <= band.end;
    let cross = |a: [f64; 2], b: [f64; 2]| {
        let edge = if a[1].min(b[1]) < band.start {
            band.start
        } else {
            band.end
        };
        let f = (edge - a[1]) / (b[1] - a[1]);
        (a[0] + f * (b[0] - a[0]), edge)
    };
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for (i, &p) in points.iter().enumerate() {
        if inside(p[1]) {
            if cur.is_empty() && i > 0 && !inside(points[i - 1][1]) {
                cur.push(cross(points[i - 1], p));
            }
            cur.push((p[0], p[1]));
        } else if !cur.is_empty() {
            cur.push(cross(points[i - 1], p));
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Shade the E_IS-T plane by the sign of Delta, draw the line and T_c.
fn draw_plane<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    model: &FieModel,
    line: &EquilibriumLine,
    trajs: &[Trajectory],
    markers: &[[f64; 2]],
    title: &str,
    path: &Path,
) -> Result<()> {
    let err = plot_err(path);
    let (tr, er) = ranges(model, line, trajs, markers);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(72)
        .build_cartesian_2d(tr.clone(), er.clone())
        .map_err(&err)?;
    // Background: runs of one sign along E_IS in each temperature column, with the boundaries
    // between runs located by Brent's method so that the shading meets the line exactly.
    let (nt, ne) = (240, 120);
    let es: Vec<f64> = (0..=ne)
        .map(|j| er.start + (er.end - er.start) * j as f64 / ne as f64)
        .collect();
    let spectra = es.iter().map(|&e| model.spectrum_at(e)).collect::<Result<Vec<_>>>()?;
    let dt = (tr.end - tr.start) / nt as f64;
    let mut rects = Vec::new();
    for i in 0..nt {
        let (ta, tb) = (tr.start + i as f64 * dt, tr.start + (i + 1) as f64 * dt);
        let tc = 0.5 * (ta + tb);
        let vals = spectra
            .iter()
            .map(|s| model.delta_at(s, tc))
            .collect::<Result<Vec<f64>>>()?;
        let mut lo = es[0];
        for j in 1..=ne {
            let change = j < ne && (vals[j] > 0.0) != (vals[j - 1] > 0.0);
            if j == ne || change {
                let hi = if j == ne {
                    es[ne]
                } else {
                    brent(|e| model.delta(e, tc), es[j - 1], es[j], vals[j - 1], vals[j], 1e-7)?
                };
                let colour = if vals[j - 1] > 0.0 { REJUVENATION } else { AGEING };
                rects.push(Rectangle::new([(ta, lo), (tb, hi)], colour.filled()));
                lo = hi;
            }
        }
    }
    chart.draw_series(rects).map_err(&err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("T (K)")
        .y_desc("E_IS (eV/atom)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.3}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(&err)?;
    let mut pieces = clip_to_band(&line.line, &er).into_iter();
    let first = pieces.next().unwrap_or_default();
    for piece in pieces {
        chart
            .draw_series(LineSeries::new(piece, LINE.stroke_width(4)))
            .map_err(&err)?;
    }
    chart
        .draw_series(LineSeries::new(first, LINE.stroke_width(4)))
        .map_err(&err)?
        .label("equilibrium line (Delta = 0)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], LINE.stroke_width(4)));
    if let Some(tc) = line.t_c {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(tc, er.start), (tc, er.end)],
                6,
                4,
                RGBColor(90, 90, 90).stroke_width(1),
            ))
            .map_err(&err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("T_c = {tc:.0} K"),
                (tc + 0.01 * (tr.end - tr.start), er.end - 0.03 * (er.end - er.start)),
                ("sans-serif", 14),
            )))
            .map_err(&err)?;
    }
    for (k, t) in trajs.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        for (p, piece) in t.pieces.iter().enumerate() {
            let pts: Vec<(f64, f64)> = t.piece_states(p).iter().map(|s| (s.temperature, s.e_is)).collect();
            if piece.kind == PieceKind::Ramp && piece.dtdt < 0.0 {
                chart
                    .draw_series(DashedLineSeries::new(pts, 5, 3, colour.stroke_width(2)))
                    .map_err(&err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                    .map_err(&err)?;
            }
        }
        chart
            .draw_series(
                t.crossings
                    .iter()
                    .filter(|c| c.extremum == Extremum::Max)
                    .map(|c| Circle::new((c.temperature, c.e_is), 5, colour.stroke_width(2))),
            )
            .map_err(&err)?
            .label(t.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2)));
    }
    if !markers.is_empty() {
        chart
            .draw_series(
                markers
                    .iter()
                    .map(|&[t, e]| Cross::new((t, e), 5, BLACK.stroke_width(2))),
            )
            .map_err(&err)?
            .label("given points")
            .legend(|(x, y)| Cross::new((x + 12, y), 5, BLACK.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(&err)?;
    Ok(())
}

/// FIE Fig. 3: the ageing (blue) and rejuvenation (red) regions, the equilibrium line, T_c and
/// any trajectories (heating solid, cooling dashed; circles mark E_IS maxima on the line) and
/// marker points (T, E_IS), such as a line given to `fit-line`.
pub fn plot_map(
    path: &Path,
    model: &FieModel,
    line: &EquilibriumLine,
    trajs: &[Trajectory],
    markers: &[[f64; 2]],
    title: &str,
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(path))?;
    draw_plane(&root, model, line, trajs, markers, title, path)?;
    root.present().map_err(plot_err(path))
}

/// FIE Figs. 4-5: the plane with the trajectories above, dE_IS/dT of every ramp below.
pub fn plot_run(
    path: &Path,
    model: &FieModel,
    line: &EquilibriumLine,
    trajs: &[Trajectory],
    title: &str,
) -> Result<()> {
    let err = plot_err(path);
    let root = SVGBackend::new(path, (900, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (upper, lower) = root.split_vertically(600);
    draw_plane(&upper, model, line, trajs, &[], title, path)?;
    let (tr, _) = ranges(model, line, trajs, &[]);
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for t in trajs {
        for v in t.states.iter().filter_map(|s| s.de_dtemp) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if hi <= lo {
        hi = lo + 1e-6;
    }
    let pad = 0.05 * (hi - lo);
    let scale = 1e4; // plot in 1e-4 eV/atom/K
    let mut chart = ChartBuilder::on(&lower)
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(72)
        .build_cartesian_2d(tr.clone(), (lo - pad) * scale..(hi + pad) * scale)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("T (K)")
        .y_desc("dE_IS/dT (1e-4 eV/atom/K)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .draw()
        .map_err(&err)?;
    chart
        .draw_series(LineSeries::new(
            vec![(tr.start, 0.0), (tr.end, 0.0)],
            RGBColor(150, 150, 150).stroke_width(1),
        ))
        .map_err(&err)?;
    for (k, t) in trajs.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        for (p, piece) in t.pieces.iter().enumerate() {
            if piece.kind != PieceKind::Ramp {
                continue;
            }
            let pts: Vec<(f64, f64)> = t.piece_states(p)[1..]
                .iter()
                .filter_map(|s| s.de_dtemp.map(|d| (s.temperature, d * scale)))
                .collect();
            if piece.dtdt < 0.0 {
                chart
                    .draw_series(DashedLineSeries::new(pts, 5, 3, colour.stroke_width(2)))
                    .map_err(&err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                    .map_err(&err)?;
            }
        }
    }
    root.present().map_err(&err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polylines_are_clipped_to_the_band() {
        let pts = [[0.0, -2.0], [1.0, 0.0], [2.0, 0.5], [3.0, 2.0], [4.0, 0.0]];
        let parts = clip_to_band(&pts, &(-1.0..1.0));
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            vec![(0.5, -1.0), (1.0, 0.0), (2.0, 0.5), (2.0 + 1.0 / 3.0, 1.0)]
        );
        assert_eq!(parts[1], vec![(3.5, 1.0), (4.0, 0.0)]);
    }

    #[test]
    fn figures_are_written() {
        let model = crate::fie::protocol::tests::default_model();
        let line = EquilibriumLine {
            t_c: Some(760.0),
            line: vec![[760.0, -4.80], [900.0, -4.69], [1600.0, -4.64]],
            warnings: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("map.svg");
        plot_map(&p, &model, &line, &[], &[[900.0, -4.69]], "test").unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("T_c = 760 K"),
            "{}",
            &svg[..200]
        );
    }
}
