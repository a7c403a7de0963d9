//! Thermal protocols and the E_IS trajectories they produce (FIE eq. 2 integrated in time).
//!
//! A protocol file (TOML, schema "pelx.fie-protocol/1") lists one or more protocols, each a
//! start state and a list of segments:
//!
//! ```toml
//! [[protocol]]
//! name = "cool-1e10"
//! t_start = 1600.0              # K
//! e_is_start = "equilibrium"    # or a number, eV/atom
//! segments = [
//!   { type = "ramp", to = 300.0, rate = 1e10 },                 # linear, K/s (> 0)
//!   { type = "hold", duration = 1e-3 },                         # isothermal anneal, s
//!   { type = "cycle", to = 300.0, back = 1600.0, rate = 1e10, count = 2 },
//!   { type = "truncated", turn = 900.0, to = 300.0, rate = 1e12 },   # heat, then cool
//! ]
//!
//! [[protocol]]
//! name = "reheat-1e12"
//! start_from = "cool-1e10"      # continue from the end state of an earlier protocol
//! segments = [{ type = "ramp", to = 1600.0, rate = 1e12 }]
//! ```
//!
//! Ramps go up or down according to `to`; `rate` is always the magnitude |dT/dt|.

use super::equilibrium::EquilibriumLine;
use super::model::{check_temperature, FieModel, SolverConfig};
use super::numeric::brent;
use super::ode::{integrate, OdeOptions, OdeStats, ScalarOde, Step};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Schema tag of a protocol file.
pub const PROTOCOL_SCHEMA: &str = "pelx.fie-protocol/1";

/// A protocol file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolFile {
    /// "pelx.fie-protocol/1" when given.
    #[serde(default)]
    pub schema: Option<String>,
    /// The protocols, run in order.
    #[serde(default)]
    pub protocol: Vec<ProtocolSpec>,
}

/// One protocol: a start state and segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    pub name: String,
    /// Start temperature, K (not with `start_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_start: Option<f64>,
    /// Start E_IS (not with `start_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_is_start: Option<StartEnergy>,
    /// Name of an earlier protocol whose final state is this one's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_from: Option<String>,
    #[serde(default)]
    pub segments: Vec<SegmentSpec>,
}

/// A start E_IS: a number (eV/atom) or "equilibrium" (on the Delta = 0 line at t_start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StartEnergy {
    Value(f64),
    Keyword(String),
}

/// A segment as written in a protocol file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SegmentSpec {
    /// Isothermal anneal at the current temperature for `duration` s.
    Hold { duration: f64 },
    /// Linear ramp to `to` K at `rate` K/s.
    Ramp { to: f64, rate: f64 },
    /// `count` times: ramp to `to`, then ramp to `back`, at `rate` K/s.
    Cycle {
        to: f64,
        back: f64,
        rate: f64,
        #[serde(default = "one")]
        count: usize,
    },
    /// Truncated scan (FIE Fig. 5): heat to the turning temperature `turn`, then cool to `to`,
    /// both at `rate` K/s.
    Truncated { turn: f64, to: f64, rate: f64 },
}

fn one() -> usize {
    1
}

/// An elementary piece of a protocol: T(t) = t_from + sign * rate * t for `duration` s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    /// Index of the segment in the protocol file that produced this piece.
    pub segment: usize,
    /// "ramp" or "hold".
    pub kind: PieceKind,
    /// Temperature at the start, K.
    pub t_from: f64,
    /// Temperature at the end, K.
    pub t_to: f64,
    /// dT/dt, K/s (negative when cooling, 0 for holds).
    pub dtdt: f64,
    /// Duration, s.
    pub duration: f64,
}

/// The two elementary piece kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceKind {
    Ramp,
    Hold,
}

impl Piece {
    /// T at local time `tau` (s from the piece's start).
    pub fn temperature(&self, tau: f64) -> f64 {
        if self.kind == PieceKind::Hold {
            self.t_from
        } else if tau >= self.duration {
            self.t_to
        } else {
            self.t_from + self.dtdt * tau
        }
    }
}

impl ProtocolFile {
    /// Moves the start of every protocol that starts on the equilibrium line above the line's
    /// highest temperature inside the model's domain (where it would fail) down onto the line's
    /// smooth part: coming down from the top, the first line point whose step is no steeper
    /// than `STEEP_FACTOR` times the line's median slope (a line leaving the domain usually turns
    /// nearly vertical first, a stiff and meaningless start). Lets a model whose line leaves the E_IS
    /// domain early (one sample's spectrum fit, `pelx run`) still be cooled from its liquid.
    /// Returns one note per protocol moved.
    pub fn clip_starts_to_line(&mut self, line: &EquilibriumLine) -> Vec<String> {
        const STEEP_FACTOR: f64 = 5.0;
        let pts = &line.line;
        let Some(t_max) = pts.iter().map(|p| p[0]).reduce(f64::max) else {
            return Vec::new();
        };
        let slopes: Vec<f64> = pts
            .windows(2)
            .filter(|w| w[1][0] > w[0][0])
            .map(|w| ((w[1][1] - w[0][1]) / (w[1][0] - w[0][0])).abs())
            .collect();
        let mut sorted = slopes.clone();
        sorted.sort_by(f64::total_cmp);
        let t_top = match sorted.get(sorted.len() / 2) {
            Some(&median) => pts
                .windows(2)
                .filter(|w| w[1][0] > w[0][0])
                .zip(&slopes)
                .filter(|(_, &s)| s <= STEEP_FACTOR * median)
                .last()
                .map_or(t_max, |(w, _)| w[0][0]),
            None => t_max,
        };
        let mut notes = Vec::new();
        for p in &mut self.protocol {
            let on_line = matches!(&p.e_is_start, Some(StartEnergy::Keyword(k)) if k == "equilibrium");
            if let (true, Some(t)) = (on_line, p.t_start) {
                if t > t_max {
                    notes.push(format!(
                        "protocol '{}': the equilibrium line leaves the E_IS domain at {t_max:.1} K, \
                         below the start {t} K; start moved to {t_top:.1} K, the top of the line's \
                         smooth part",
                        p.name
                    ));
                    p.t_start = Some(t_top);
                }
            }
        }
        notes
    }

    /// Read and check a protocol file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let pf: ProtocolFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(0);
            Error::parse(path, line, e.message().to_string())
        })?;
        pf.validate().map_err(|e| match e {
            Error::Invalid(msg) => Error::parse(path, 0, msg),
            other => other,
        })?;
        Ok(pf)
    }

    /// Check names, start states and every segment (positive rates and durations, positive
    /// temperatures, at least one segment per protocol).
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = &self.schema {
            if s != PROTOCOL_SCHEMA {
                return Err(Error::invalid(format!(
                    "protocol schema '{s}' is not '{PROTOCOL_SCHEMA}'"
                )));
            }
        }
        if self.protocol.is_empty() {
            return Err(Error::invalid("the file defines no [[protocol]]"));
        }
        // (name, final temperature) of the protocols checked so far.
        let mut seen: Vec<(&str, f64)> = Vec::new();
        for p in &self.protocol {
            if seen.iter().any(|(n, _)| *n == p.name) {
                return Err(Error::invalid(format!("protocol name '{}' is used twice", p.name)));
            }
            let t0 = match (&p.start_from, p.t_start, &p.e_is_start) {
                (Some(from), None, None) => seen.iter().find(|(n, _)| n == from).map(|(_, t)| *t).ok_or_else(|| {
                    Error::invalid(format!(
                        "protocol '{}': start_from = '{from}' names no earlier protocol",
                        p.name
                    ))
                })?,
                (None, Some(t), Some(e)) => {
                    check_temperature(t).map_err(|e| Error::invalid(format!("protocol '{}': {e}", p.name)))?;
                    match e {
                        StartEnergy::Value(v) if v.is_finite() => {}
                        StartEnergy::Keyword(k) if k == "equilibrium" => {}
                        _ => {
                            return Err(Error::invalid(format!(
                                "protocol '{}': e_is_start must be a number (eV/atom) or \
                                 \"equilibrium\"",
                                p.name
                            )))
                        }
                    }
                    t
                }
                _ => {
                    return Err(Error::invalid(format!(
                        "protocol '{}': give either start_from, or both t_start and e_is_start",
                        p.name
                    )))
                }
            };
            let pieces = p.pieces(t0)?;
            seen.push((&p.name, pieces[pieces.len() - 1].t_to));
        }
        Ok(())
    }
}

fn check_rate(name: &str, rate: f64) -> Result<()> {
    if rate > 0.0 && rate.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "protocol '{name}': rate {rate} K/s must be positive and finite (the direction \
             comes from the target temperature)"
        )))
    }
}

impl ProtocolSpec {
    /// The elementary pieces of this protocol from start temperature `t0`.
    pub fn pieces(&self, t0: f64) -> Result<Vec<Piece>> {
        if self.segments.is_empty() {
            return Err(Error::invalid(format!("protocol '{}' has no segments", self.name)));
        }
        let name = &self.name;
        let mut out = Vec::new();
        let mut t = t0;
        let ramp = |seg: usize, from: f64, to: f64, rate: f64| -> Result<Piece> {
            check_rate(name, rate)?;
            check_temperature(to).map_err(|e| Error::invalid(format!("protocol '{name}': {e}")))?;
            if to == from {
                return Err(Error::invalid(format!(
                    "protocol '{name}', segment {}: ramp to the current temperature {to} K",
                    seg + 1
                )));
            }
            Ok(Piece {
                segment: seg,
                kind: PieceKind::Ramp,
                t_from: from,
                t_to: to,
                dtdt: rate * (to - from).signum(),
                duration: (to - from).abs() / rate,
            })
        };
        for (i, seg) in self.segments.iter().enumerate() {
            match *seg {
                SegmentSpec::Hold { duration } => {
                    if !(duration > 0.0 && duration.is_finite()) {
                        return Err(Error::invalid(format!(
                            "protocol '{name}', segment {}: hold duration {duration} s must be \
                             positive and finite",
                            i + 1
                        )));
                    }
                    out.push(Piece {
                        segment: i,
                        kind: PieceKind::Hold,
                        t_from: t,
                        t_to: t,
                        dtdt: 0.0,
                        duration,
                    });
                }
                SegmentSpec::Ramp { to, rate } => {
                    out.push(ramp(i, t, to, rate)?);
                    t = to;
                }
                SegmentSpec::Cycle { to, back, rate, count } => {
                    if count == 0 {
                        return Err(Error::invalid(format!(
                            "protocol '{name}', segment {}: a cycle needs count >= 1",
                            i + 1
                        )));
                    }
                    for _ in 0..count {
                        out.push(ramp(i, t, to, rate)?);
                        out.push(ramp(i, to, back, rate)?);
                        t = back;
                    }
                }
                SegmentSpec::Truncated { turn, to, rate } => {
                    if !(turn > t && to < turn) {
                        return Err(Error::invalid(format!(
                            "protocol '{name}', segment {}: a truncated scan heats from {t} K to \
                             turn = {turn} K and then cools to to = {to} K, so it needs \
                             turn above both",
                            i + 1
                        )));
                    }
                    out.push(ramp(i, t, turn, rate)?);
                    out.push(ramp(i, turn, to, rate)?);
                    t = to;
                }
            }
        }
        Ok(out)
    }
}

/// The integration problem of one piece: y = E_IS, t = local time.
struct PieceOde<'a> {
    model: &'a FieModel,
    piece: Piece,
}

/// E_IS step of the finite-difference df/dE_IS, eV/atom.
const JAC_STEP: f64 = 1e-6;

impl ScalarOde for PieceOde<'_> {
    fn rhs(&mut self, t: f64, y: f64) -> Result<f64> {
        self.model.de_dt(y, self.piece.temperature(t))
    }
    fn jacobian(&mut self, t: f64, y: f64, _f: f64) -> Result<f64> {
        let temp = self.piece.temperature(t);
        let hi = self.model.de_dt(y + JAC_STEP, temp)?;
        let lo = self.model.de_dt(y - JAC_STEP, temp)?;
        Ok((hi - lo) / (2.0 * JAC_STEP))
    }
}

/// The state at one output time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Index of the elementary piece ([`Trajectory::pieces`]).
    pub piece: usize,
    /// Index of the protocol-file segment.
    pub segment: usize,
    /// Time since the protocol's start, s.
    pub time: f64,
    /// K.
    pub temperature: f64,
    /// eV/atom.
    pub e_is: f64,
    /// dE_IS/dt, eV/atom/s.
    pub de_dt: f64,
    /// dE_IS/dT, eV/atom/K (ramps only).
    pub de_dtemp: Option<f64>,
    /// Delta = Ebar_A - Ebar_R, eV.
    pub delta: f64,
}

/// A crossing of the equilibrium line (Delta = 0): an extremum of E_IS in time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineCrossing {
    pub segment: usize,
    /// s since the protocol's start.
    pub time: f64,
    /// K.
    pub temperature: f64,
    /// eV/atom.
    pub e_is: f64,
    /// "max" (rejuvenation turns into ageing) or "min" (ageing turns into rejuvenation).
    pub extremum: Extremum,
}

/// Kind of E_IS extremum at a line crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extremum {
    Max,
    Min,
}

/// The result of running one protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub name: String,
    /// The elementary pieces run.
    pub pieces: Vec<Piece>,
    /// The initial state and the state at the end of every half step.
    pub states: Vec<State>,
    /// Crossings of the equilibrium line, located on the Hermite interpolant to 1e-12 relative
    /// in time.
    pub crossings: Vec<LineCrossing>,
    /// Integrator work, summed over pieces.
    pub stats: OdeStats,
}

/// A sampled extremum: where and how large.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Extreme {
    /// K.
    pub temperature: f64,
    /// s since the protocol's start.
    pub time: f64,
    pub value: f64,
}

/// What happened during one piece.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PieceSummary {
    pub e_is_start: f64,
    pub e_is_end: f64,
    /// Largest E_IS reached (eV/atom).
    pub e_is_max: Extreme,
    /// Smallest E_IS reached (eV/atom).
    pub e_is_min: Extreme,
    /// Largest dE_IS/dT (eV/atom/K) on ramps: the heat-capacity-like peak of FIE Fig. 4.
    pub peak_de_dtemp: Option<Extreme>,
}

impl Trajectory {
    /// The final state.
    pub fn last(&self) -> &State {
        self.states.last().expect("a trajectory has at least its initial state")
    }

    /// The states of piece `k`, including the one it starts from.
    pub fn piece_states(&self, k: usize) -> &[State] {
        let first = self
            .states
            .iter()
            .position(|s| s.piece == k)
            .unwrap_or(self.states.len());
        let last = self.states.iter().rposition(|s| s.piece == k).map_or(first, |i| i + 1);
        &self.states[first.saturating_sub(1)..last]
    }

    /// Extremes of E_IS and of dE_IS/dT over piece `k`, sampled at the output states (their
    /// spacing is at most solver.max_temperature_step / 2 on ramps).
    pub fn summary(&self, k: usize) -> PieceSummary {
        let st = self.piece_states(k);
        let ext = |s: &State, v: f64| Extreme {
            temperature: s.temperature,
            time: s.time,
            value: v,
        };
        let mut max = ext(&st[0], st[0].e_is);
        let mut min = max;
        let mut peak: Option<Extreme> = None;
        for (i, s) in st.iter().enumerate() {
            if s.e_is > max.value {
                max = ext(s, s.e_is);
            }
            if s.e_is < min.value {
                min = ext(s, s.e_is);
            }
            // dE/dT of the piece itself (the first state belongs to the previous piece).
            if i > 0 && self.pieces[k].kind == PieceKind::Ramp {
                let d = s.de_dt / self.pieces[k].dtdt;
                if peak.is_none_or(|p| d > p.value) {
                    peak = Some(ext(s, d));
                }
            }
        }
        PieceSummary {
            e_is_start: st[0].e_is,
            e_is_end: st[st.len() - 1].e_is,
            e_is_max: max,
            e_is_min: min,
            peak_de_dtemp: peak,
        }
    }
}

fn state(model: &FieModel, (index, piece): (usize, &Piece), time: f64, tau: f64, e_is: f64) -> Result<State> {
    let temperature = piece.temperature(tau);
    let (de_dt, delta) = model.rate_and_delta(e_is, temperature)?;
    Ok(State {
        piece: index,
        segment: piece.segment,
        time,
        temperature,
        e_is,
        de_dt,
        de_dtemp: (piece.kind == PieceKind::Ramp).then(|| de_dt / piece.dtdt),
        delta,
    })
}

/// Run one protocol from temperature `t0` and E_IS `e0` with the given solver settings.
pub fn run_protocol(
    model: &FieModel,
    spec: &ProtocolSpec,
    t0: f64,
    e0: f64,
    solver: &SolverConfig,
) -> Result<Trajectory> {
    let pieces = spec.pieces(t0)?;
    let mut states = vec![state(model, (0, &pieces[0]), 0.0, 0.0, e0)?];
    let mut crossings = Vec::new();
    let mut stats = OdeStats::default();
    let mut offset = 0.0;
    let mut e = e0;
    for (index, piece) in pieces.iter().enumerate() {
        let opts = OdeOptions {
            atol: solver.atol,
            h_init: None,
            h_max: (piece.kind == PieceKind::Ramp).then(|| solver.max_temperature_step / piece.dtdt.abs()),
            max_steps: solver.max_steps,
        };
        let mut ode = PieceOde { model, piece: *piece };
        let mut prev_delta = states.last().expect("initial state").delta;
        let mut observe = |s: &Step| -> Result<()> {
            let st = state(model, (index, piece), offset + s.t1, s.t1, s.y1)?;
            if prev_delta != 0.0 && st.delta != 0.0 && prev_delta.signum() != st.delta.signum() {
                let g = |tau: f64| model.delta(s.interpolate(tau), piece.temperature(tau));
                let tau = brent(g, s.t0, s.t1, prev_delta, st.delta, 1e-12 * (s.t1 - s.t0))?;
                crossings.push(LineCrossing {
                    segment: piece.segment,
                    time: offset + tau,
                    temperature: piece.temperature(tau),
                    e_is: s.interpolate(tau),
                    extremum: if prev_delta > 0.0 { Extremum::Max } else { Extremum::Min },
                });
            }
            prev_delta = st.delta;
            states.push(st);
            Ok(())
        };
        e = integrate(&mut ode, 0.0, e, piece.duration, &opts, &mut stats, &mut observe).map_err(|err| {
            Error::invalid(format!(
                "protocol '{}', segment {}: {err}",
                spec.name,
                piece.segment + 1
            ))
        })?;
        offset += piece.duration;
    }
    Ok(Trajectory {
        name: spec.name.clone(),
        pieces,
        states,
        crossings,
        stats,
    })
}

/// Run every protocol of a file in order (resolving `start_from` and "equilibrium" starts).
pub fn run_file(model: &FieModel, file: &ProtocolFile, solver: &SolverConfig) -> Result<Vec<Trajectory>> {
    file.validate()?;
    let mut out: Vec<Trajectory> = Vec::new();
    for spec in &file.protocol {
        let (t0, e0) = match (&spec.start_from, spec.t_start, &spec.e_is_start) {
            (Some(from), _, _) => {
                let prev = out
                    .iter()
                    .find(|t| &t.name == from)
                    .expect("validated: start_from names an earlier protocol");
                (prev.last().temperature, prev.last().e_is)
            }
            (None, Some(t), Some(StartEnergy::Value(e))) => (t, *e),
            (None, Some(t), Some(StartEnergy::Keyword(_))) => {
                let e = model.equilibrium_e_is(t)?.ok_or_else(|| {
                    Error::invalid(format!(
                        "protocol '{}': no equilibrium E_IS at t_start = {t} K in the domain \
                         (below T_c, or the line leaves the domain)",
                        spec.name
                    ))
                })?;
                (t, e)
            }
            _ => unreachable!("validated start states"),
        };
        let d = &model.config().domain;
        if !d.contains_e_is(e0) {
            return Err(Error::invalid(format!(
                "protocol '{}': start E_IS {e0} eV/atom lies outside the model's domain [{}, {}] eV/atom",
                spec.name, d.e_is_min, d.e_is_max
            )));
        }
        out.push(run_protocol(model, spec, t0, e0, solver)?);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fie::func::Func1D;
    use crate::fie::model::FieConfig;

    /// The documented default parameter set, `configs/fie-cu56zr44.toml`.
    pub(crate) fn default_model() -> FieModel {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/fie-cu56zr44.toml");
        FieModel::from_file(&path).unwrap()
    }

    /// Solver settings of the tests: the default tolerance, 2 K output spacing on ramps.
    pub(crate) fn test_solver(model: &FieModel) -> SolverConfig {
        SolverConfig {
            max_temperature_step: 2.0,
            ..model.config().solver
        }
    }

    fn spec(segments: Vec<SegmentSpec>) -> ProtocolSpec {
        ProtocolSpec {
            name: "test".into(),
            t_start: None,
            e_is_start: None,
            start_from: None,
            segments,
        }
    }

    fn ramp(to: f64, rate: f64) -> SegmentSpec {
        SegmentSpec::Ramp { to, rate }
    }

    /// The glass C of FIE Fig. 4: equilibrium at 1600 K cooled at 1e10 K/s to 300 K.
    fn glass_c(model: &FieModel, solver: &SolverConfig) -> Trajectory {
        let e0 = model.equilibrium_e_is(1600.0).unwrap().unwrap();
        run_protocol(model, &spec(vec![ramp(300.0, 1e10)]), 1600.0, e0, solver).unwrap()
    }

    #[test]
    fn a_start_outside_the_domain_is_an_error() {
        let model = default_model();
        let file = ProtocolFile {
            schema: None,
            protocol: vec![ProtocolSpec {
                t_start: Some(600.0),
                e_is_start: Some(StartEnergy::Value(-10.0)),
                ..spec(vec![ramp(300.0, 1e10)])
            }],
        };
        let e = run_file(&model, &file, &test_solver(&model)).unwrap_err().to_string();
        assert!(
            e.contains("start E_IS -10 eV/atom lies outside the model's domain"),
            "{e}"
        );
    }

    #[test]
    fn cool_then_heat_shows_hysteresis() {
        let model = default_model();
        let solver = test_solver(&model);
        let cool = glass_c(&model, &solver);
        let c = cool.last().e_is;
        let heat = run_protocol(&model, &spec(vec![ramp(1600.0, 1e10)]), 300.0, c, &solver).unwrap();
        let pc = cool.summary(0).peak_de_dtemp.unwrap();
        let ph = heat.summary(0).peak_de_dtemp.unwrap();
        eprintln!("cooling peak {pc:?}\nheating peak {ph:?}");
        assert!(ph.value > 1.5 * pc.value, "heating peak not larger: {ph:?} vs {pc:?}");
        assert!(
            ph.temperature > pc.temperature + 5.0,
            "heating peak not hotter: {ph:?} vs {pc:?}"
        );
        // On heating E_IS first keeps falling (ageing) until it meets the line at D.
        let d = heat.summary(0).e_is_min;
        assert!(d.value < c - 1e-3 && d.temperature > 700.0, "{d:?}");
        // Back in the liquid both ramps end on the equilibrium line.
        let e_eq = model.equilibrium_e_is(1600.0).unwrap().unwrap();
        assert!((heat.last().e_is - e_eq).abs() < 1e-6);
    }

    #[test]
    fn faster_heating_moves_the_peak_up() {
        let model = default_model();
        let solver = test_solver(&model);
        let c = glass_c(&model, &solver).last().e_is;
        let peak = |rate: f64| {
            run_protocol(&model, &spec(vec![ramp(1600.0, rate)]), 300.0, c, &solver)
                .unwrap()
                .summary(0)
                .peak_de_dtemp
                .unwrap()
        };
        let (slow, fast) = (peak(1e10), peak(1e12));
        eprintln!("1e10 K/s peak {slow:?}\n1e12 K/s peak {fast:?}");
        assert!(fast.temperature > slow.temperature + 50.0, "{slow:?} {fast:?}");
    }

    #[test]
    fn truncated_scan_peaks_on_the_equilibrium_line() {
        let model = default_model();
        let solver = test_solver(&model);
        let c = glass_c(&model, &solver).last().e_is;
        for turn in [950.0, 1050.0] {
            let seg = SegmentSpec::Truncated {
                turn,
                to: 300.0,
                rate: 1e12,
            };
            let tr = run_protocol(&model, &spec(vec![seg]), 300.0, c, &solver).unwrap();
            // E_IS keeps rising after the turn: its maximum lies inside the cooling piece ...
            let cooling = tr.summary(1);
            let p = cooling.e_is_max;
            assert!(p.temperature < turn - 10.0 && p.value > cooling.e_is_start, "{p:?}");
            // ... and on the line: where Delta(E_max, T) = 0.
            let t_line = model.equilibrium_temperature(p.value).unwrap().unwrap();
            eprintln!(
                "turn {turn} K: E_IS max {:.6} at {:.2} K, line at {t_line:.2} K",
                p.value, p.temperature
            );
            assert!((p.temperature - t_line).abs() < 2.0, "{p:?} vs line {t_line}");
            // The located crossing is that maximum.
            let x = tr.crossings.iter().find(|x| x.extremum == Extremum::Max).unwrap();
            assert!((x.temperature - t_line).abs() < 1e-3, "{x:?} vs {t_line}");
        }
    }

    #[test]
    fn default_set_has_tc_near_760_k_and_w_zero_has_none() {
        let model = default_model();
        let tc = model.critical_temperature().unwrap().unwrap();
        assert!((tc - 760.0).abs() < 10.0, "T_c = {tc}");
        let mut cfg: FieConfig = model.config().clone();
        cfg.spectrum.w = Func1D::Constant { value: 0.0 };
        let m0 = FieModel::new(cfg).unwrap();
        assert_eq!(m0.critical_temperature().unwrap(), None);
        let line = m0.equilibrium_line().unwrap();
        assert!(line.warnings.is_empty(), "{:?}", line.warnings);
        // One root at every temperature of the grid, t_min and t_max included.
        let d = &m0.config().domain;
        assert_eq!(line.line.len(), d.n_t);
        assert_eq!(line.line[0][0], d.t_min);
        assert_eq!(line.line[d.n_t - 1][0], d.t_max);
    }

    #[test]
    fn isothermal_anneal_spans_many_decades_in_few_steps() {
        let model = default_model();
        let solver = test_solver(&model);
        let t = 1000.0;
        let e_eq = model.equilibrium_e_is(t).unwrap().unwrap();
        let hold = spec(vec![SegmentSpec::Hold { duration: 1.0 }]);
        let tr = run_protocol(&model, &hold, t, e_eq + 0.01, &solver).unwrap();
        // Monotone ageing towards the line, reached to the tolerance after 1 s (~1e10 relaxation
        // times), with steps growing geometrically from ~1e-13 s.
        for w in tr.states.windows(2) {
            assert!(w[1].e_is <= w[0].e_is + 1e-12, "{:?} -> {:?}", w[0], w[1]);
        }
        assert!((tr.last().e_is - e_eq).abs() < 1e-8, "{} vs {e_eq}", tr.last().e_is);
        assert!(tr.states[1].time < 1e-11, "first output at {}", tr.states[1].time);
        assert!(tr.stats.accepted < 300, "{:?}", tr.stats);
        assert!(tr.states.iter().all(|s| s.de_dtemp.is_none()));
    }

    /// Acceptance: halving the tolerance changes the final E_IS of every test protocol by less
    /// than 1e-6 eV/atom. No output-resolution cap on the step: the error control alone.
    #[test]
    fn halving_the_tolerance_changes_final_e_is_by_less_than_1e_6() {
        let model = default_model();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let cooling = ProtocolFile::from_file(&dir.join("fie-protocol-fig3-cooling.toml")).unwrap();
        let mut scans = ProtocolFile::from_file(&dir.join("fie-protocol-fig5-truncated.toml")).unwrap();
        scans.protocol.push(ProtocolSpec {
            name: "reheat, anneal, cycle".into(),
            start_from: Some("glass C (cool 1e10 K/s)".into()),
            t_start: None,
            e_is_start: None,
            segments: vec![
                ramp(700.0, 1e8),
                SegmentSpec::Hold { duration: 1e-3 },
                SegmentSpec::Cycle {
                    to: 1300.0,
                    back: 300.0,
                    rate: 1e13,
                    count: 1,
                },
            ],
        });
        let solver = SolverConfig {
            max_temperature_step: 1e9,
            ..model.config().solver
        };
        let half = SolverConfig {
            atol: solver.atol / 2.0,
            ..solver
        };
        for file in [&cooling, &scans] {
            let a = run_file(&model, file, &solver).unwrap();
            let b = run_file(&model, file, &half).unwrap();
            for (x, y) in a.iter().zip(&b) {
                let diff = (x.last().e_is - y.last().e_is).abs();
                eprintln!(
                    "{}: {} / {} steps, final E_IS {:.10}, change {diff:.2e}",
                    x.name,
                    x.stats.accepted,
                    y.stats.accepted,
                    x.last().e_is
                );
                assert!(diff < 1e-6, "{}: {diff}", x.name);
            }
        }
    }

    fn parse(text: &str) -> Result<ProtocolFile> {
        let pf: ProtocolFile = toml::from_str(text).map_err(|e| Error::invalid(e.to_string()))?;
        pf.validate()?;
        Ok(pf)
    }

    #[test]
    fn bad_protocols_are_rejected_with_clear_messages() {
        let head = "[[protocol]]\nname = \"p\"\nt_start = 1000.0\ne_is_start = -4.7\n";
        let err = parse(&format!(
            "{head}segments = [{{ type = \"ramp\", to = 300.0, rate = -1e10 }}]"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "protocol 'p': rate -10000000000 K/s must be positive and finite (the direction \
             comes from the target temperature)"
        );
        let err = parse(&format!("{head}segments = []")).unwrap_err();
        assert_eq!(err.to_string(), "protocol 'p' has no segments");
        let err = parse(head).unwrap_err();
        assert_eq!(err.to_string(), "protocol 'p' has no segments");
        let err = parse(&format!("{head}segments = [{{ type = \"hold\", duration = 0.0 }}]")).unwrap_err();
        assert!(err.to_string().contains("hold duration 0 s must be positive"), "{err}");
        let err = parse(&format!(
            "{head}segments = [{{ type = \"ramp\", to = 1000.0, rate = 1e10 }}]"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("ramp to the current temperature"), "{err}");
        let err = parse(&format!(
            "{head}segments = [{{ type = \"truncated\", turn = 900.0, to = 300.0, rate = 1e12 }}]"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("needs turn above both"), "{err}");
        let err =
            parse("[[protocol]]\nname = \"p\"\nstart_from = \"q\"\nsegments = [{ type = \"hold\", duration = 1.0 }]")
                .unwrap_err();
        assert!(err.to_string().contains("names no earlier protocol"), "{err}");
        let err = parse("[[protocol]]\nname = \"p\"\nt_start = 900.0\ne_is_start = \"hot\"\nsegments = [{ type = \"hold\", duration = 1.0 }]")
            .unwrap_err();
        assert!(err.to_string().contains("\"equilibrium\""), "{err}");
        assert!(parse("").unwrap_err().to_string().contains("no [[protocol]]"));
        assert!(parse(&format!(
            "{head}segments = [{{ type = \"ramp\", to = 300.0, speed = 1e10 }}]"
        ))
        .is_err());
        // Starting below T_c on the (non-existent) line.
        let model = default_model();
        let pf = parse("[[protocol]]\nname = \"p\"\nt_start = 500.0\ne_is_start = \"equilibrium\"\nsegments = [{ type = \"hold\", duration = 1.0 }]").unwrap();
        let err = run_file(&model, &pf, &model.config().solver).unwrap_err();
        assert!(
            err.to_string().contains("no equilibrium E_IS at t_start = 500 K"),
            "{err}"
        );
    }

    #[test]
    fn starts_above_a_line_that_leaves_the_domain_move_to_its_smooth_part() {
        let mut file: ProtocolFile = toml::from_str(
            "[[protocol]]\nname = 'cool'\nt_start = 1600.0\ne_is_start = 'equilibrium'\n\
             segments = [{ type = 'ramp', to = 300.0, rate = 1e10 }]\n\
             [[protocol]]\nname = 'fixed'\nt_start = 1600.0\ne_is_start = -4.7\n\
             segments = [{ type = 'ramp', to = 300.0, rate = 1e10 }]\n",
        )
        .unwrap();
        // Slope 1e-4 eV/atom/K from 800 to 1200 K (steps of 50 K), then 100 times steeper.
        let mut pts: Vec<[f64; 2]> = (0..=8)
            .map(|k| [800.0 + 50.0 * k as f64, -4.75 + 5e-3 * k as f64])
            .collect();
        pts.push([1210.0, -4.71 + 0.1]);
        pts.push([1220.0, -4.71 + 0.2]);
        let line = EquilibriumLine {
            t_c: Some(800.0),
            line: pts.clone(),
            warnings: vec![],
        };
        let notes = file.clip_starts_to_line(&line);
        assert_eq!(notes.len(), 1, "{notes:?}");
        // The last smooth step is 1150 -> 1200 K; its lower end is the new start.
        assert_eq!(file.protocol[0].t_start, Some(1150.0));
        assert_eq!(
            file.protocol[1].t_start,
            Some(1600.0),
            "a fixed E_IS start is left alone"
        );
        // A start below the line's top is left alone.
        let mut inside = file.clone();
        inside.protocol[0].t_start = Some(1000.0);
        assert!(inside.clip_starts_to_line(&line).is_empty());
        assert_eq!(inside.protocol[0].t_start, Some(1000.0));
    }
}
