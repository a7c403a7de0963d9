//! The JSON documents the `pelx fie` commands write, and the CSV of trajectories. Each carries a
//! versioned `schema` tag (JSON Schemas in `schemas/fie-*.schema.json`), the pelx version, the
//! provenance of its inputs (paths and SHA-256) and every parameter that produced it.

use super::equilibrium::{AgeingMap, EquilibriumLine};
use super::fit::{FittedParam, LineFit, Regression, SpectrumRegression};
use super::model::{FieConfig, SolverConfig};
use super::ode::OdeStats;
use super::protocol::{LineCrossing, Piece, PieceSummary, ProtocolFile, State, Trajectory};
use crate::provenance::{Provenance, VERSION};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Schema tag of `pelx fie line` output.
pub const LINE_SCHEMA: &str = "pelx.fie-line/1";
/// Schema tag of `pelx fie map` output.
pub const MAP_SCHEMA: &str = "pelx.fie-map/1";
/// Schema tag of `pelx fie run` output.
pub const RUN_SCHEMA: &str = "pelx.fie-run/1";
/// Schema tag of `pelx fie fit-line` output.
pub const FIT_LINE_SCHEMA: &str = "pelx.fie-fit-line/1";
/// Schema tag of `pelx fie regress` output.
pub const REGRESS_SCHEMA: &str = "pelx.fie-regress/1";

/// `pelx fie line`: the equilibrium line E_IS*(T) and T_c.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineOutput {
    pub schema: String,
    pub pelx_version: String,
    pub provenance: Provenance,
    pub config: FieConfig,
    /// K, or null when Delta = 0 has a solution at every temperature of the domain.
    pub t_c: Option<f64>,
    /// [T in K, E_IS* in eV/atom] pairs by increasing T.
    pub line: Vec<[f64; 2]>,
    pub warnings: Vec<String>,
}

impl LineOutput {
    pub fn new(provenance: Provenance, config: &FieConfig, line: EquilibriumLine) -> Self {
        LineOutput {
            schema: LINE_SCHEMA.into(),
            pelx_version: VERSION.into(),
            provenance,
            config: config.clone(),
            t_c: line.t_c,
            line: line.line,
            warnings: line.warnings,
        }
    }
}

/// `pelx fie map`: Delta on an E_IS-T grid (sign: ageing < 0 < rejuvenation) with the line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapOutput {
    pub schema: String,
    pub pelx_version: String,
    pub provenance: Provenance,
    pub config: FieConfig,
    pub t_c: Option<f64>,
    /// Temperatures, K.
    pub t: Vec<f64>,
    /// E_IS values, eV/atom.
    pub e_is: Vec<f64>,
    /// delta[i][j] = Delta(e_is[j], t[i]), eV.
    pub delta: Vec<Vec<f64>>,
    /// sign[i][j] = +1 (rejuvenation), -1 (ageing) or 0.
    pub sign: Vec<Vec<i8>>,
    pub line: Vec<[f64; 2]>,
}

impl MapOutput {
    pub fn new(provenance: Provenance, config: &FieConfig, map: AgeingMap, line: EquilibriumLine) -> Self {
        let sign = (0..map.t.len())
            .map(|i| (0..map.e_is.len()).map(|j| map.sign(i, j)).collect())
            .collect();
        MapOutput {
            schema: MAP_SCHEMA.into(),
            pelx_version: VERSION.into(),
            provenance,
            config: config.clone(),
            t_c: line.t_c,
            t: map.t,
            e_is: map.e_is,
            delta: map.delta,
            sign,
            line: line.line,
        }
    }
}

/// The states of a trajectory as columns (one entry per output state).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Columns {
    /// s since the protocol's start.
    pub time: Vec<f64>,
    /// K.
    pub temperature: Vec<f64>,
    /// eV/atom.
    pub e_is: Vec<f64>,
    /// eV/atom/s.
    pub de_dt: Vec<f64>,
    /// eV/atom/K (null during holds).
    pub de_dtemp: Vec<Option<f64>>,
    /// eV.
    pub delta: Vec<f64>,
    /// Index into `pieces`.
    pub piece: Vec<usize>,
    /// Index of the protocol-file segment.
    pub segment: Vec<usize>,
}

impl Columns {
    fn from_states(states: &[State]) -> Self {
        Columns {
            time: states.iter().map(|s| s.time).collect(),
            temperature: states.iter().map(|s| s.temperature).collect(),
            e_is: states.iter().map(|s| s.e_is).collect(),
            de_dt: states.iter().map(|s| s.de_dt).collect(),
            de_dtemp: states.iter().map(|s| s.de_dtemp).collect(),
            delta: states.iter().map(|s| s.delta).collect(),
            piece: states.iter().map(|s| s.piece).collect(),
            segment: states.iter().map(|s| s.segment).collect(),
        }
    }
}

/// One elementary piece with what happened in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PieceOutput {
    #[serde(flatten)]
    pub piece: Piece,
    pub summary: PieceSummary,
}

/// One protocol's trajectory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrajectoryOutput {
    pub name: String,
    pub pieces: Vec<PieceOutput>,
    pub crossings: Vec<LineCrossing>,
    /// Integrator work: accepted and rejected steps, right-hand-side evaluations.
    pub steps: OdeStats,
    pub final_state: State,
    pub states: Columns,
}

impl TrajectoryOutput {
    pub fn new(t: &Trajectory) -> Self {
        TrajectoryOutput {
            name: t.name.clone(),
            pieces: t
                .pieces
                .iter()
                .enumerate()
                .map(|(k, p)| PieceOutput {
                    piece: *p,
                    summary: t.summary(k),
                })
                .collect(),
            crossings: t.crossings.clone(),
            steps: t.stats,
            final_state: *t.last(),
            states: Columns::from_states(&t.states),
        }
    }
}

/// `pelx fie run`: E_IS(T, t) and dE_IS/dT along every protocol of a protocol file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOutput {
    pub schema: String,
    pub pelx_version: String,
    pub provenance: Provenance,
    pub config: FieConfig,
    pub protocol_file: ProtocolFile,
    /// The solver settings actually used (configuration plus command-line overrides).
    pub solver: SolverConfig,
    pub t_c: Option<f64>,
    pub protocols: Vec<TrajectoryOutput>,
}

impl RunOutput {
    pub fn new(
        provenance: Provenance,
        config: &FieConfig,
        protocol_file: &ProtocolFile,
        solver: SolverConfig,
        t_c: Option<f64>,
        trajectories: &[Trajectory],
    ) -> Self {
        RunOutput {
            schema: RUN_SCHEMA.into(),
            pelx_version: VERSION.into(),
            provenance,
            config: config.clone(),
            protocol_file: protocol_file.clone(),
            solver,
            t_c,
            protocols: trajectories.iter().map(TrajectoryOutput::new).collect(),
        }
    }
}

/// Write every state of every trajectory as CSV (one header line, then one row per state).
pub fn write_trajectories_csv(path: &Path, trajectories: &[Trajectory]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let io = |e| Error::io(path, e);
    writeln!(
        w,
        "protocol,piece,segment,time_s,temperature_K,e_is_eV,de_dt_eV_per_s,de_dT_eV_per_K,delta_eV"
    )
    .map_err(io)?;
    for t in trajectories {
        let name = t.name.replace('"', "\"\"");
        for s in &t.states {
            let dtemp = s.de_dtemp.map(|v| format!("{v:e}")).unwrap_or_default();
            writeln!(
                w,
                "\"{name}\",{},{},{:e},{},{},{:e},{dtemp},{:e}",
                s.piece, s.segment, s.time, s.temperature, s.e_is, s.de_dt, s.delta
            )
            .map_err(io)?;
        }
    }
    w.flush().map_err(io)
}

/// One point of a fitted line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitLinePoint {
    /// K.
    pub t: f64,
    /// The given E_IS, eV/atom.
    pub e_is: f64,
    /// Delta(e_is, t) of the fitted model, eV.
    pub delta: f64,
    /// E_IS*(t) of the fitted model, eV/atom (null where it has no single root).
    pub e_is_fit: Option<f64>,
}

/// `pelx fie fit-line`: W and m parameters whose Delta = 0 line reproduces a given line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitLineOutput {
    pub schema: String,
    pub pelx_version: String,
    pub provenance: Provenance,
    /// The free parameters with start values, fitted values and one-sigma uncertainties.
    pub params: Vec<FittedParam>,
    pub points: Vec<FitLinePoint>,
    /// Root mean square of Delta over the points, eV.
    pub rms_delta: f64,
    /// Root mean square of E_IS*(T) - E_IS over the points with a root, eV/atom.
    pub rms_e_is: Option<f64>,
    pub iterations: usize,
    /// T_c of the fitted model.
    pub t_c: Option<f64>,
    /// The fitted configuration (the input configuration with the free parameters replaced).
    pub config: FieConfig,
}

impl FitLineOutput {
    pub fn new(provenance: Provenance, line: &[[f64; 2]], fit: LineFit, t_c: Option<f64>) -> Self {
        let points: Vec<FitLinePoint> = line
            .iter()
            .zip(fit.delta.iter().zip(&fit.e_is_fit))
            .map(|(&[t, e], (&d, &ef))| FitLinePoint {
                t,
                e_is: e,
                delta: d,
                e_is_fit: ef,
            })
            .collect();
        let rms_delta = (points.iter().map(|p| p.delta * p.delta).sum::<f64>() / points.len() as f64).sqrt();
        let de: Vec<f64> = points.iter().filter_map(|p| p.e_is_fit.map(|f| f - p.e_is)).collect();
        let rms_e_is = (!de.is_empty()).then(|| (de.iter().map(|v| v * v).sum::<f64>() / de.len() as f64).sqrt());
        FitLineOutput {
            schema: FIT_LINE_SCHEMA.into(),
            pelx_version: VERSION.into(),
            provenance,
            params: fit.params,
            points,
            rms_delta,
            rms_e_is,
            iterations: fit.iterations,
            t_c,
            config: fit.config,
        }
    }
}

/// One input sample of a regression.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressSample {
    pub sample: String,
    pub e_is: f64,
    pub w: f64,
    pub w_err: Option<f64>,
    pub m: f64,
    pub m_err: Option<f64>,
}

/// `pelx fie regress`: W(E_IS) and m(E_IS) regressed from per-sample spectrum fits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegressOutput {
    pub schema: String,
    pub pelx_version: String,
    pub provenance: Provenance,
    pub samples: Vec<RegressSample>,
    pub w: Regression,
    pub m: Regression,
    /// Sample means of the shared spectrum constants, eV.
    pub mean_e_a: f64,
    pub mean_s: f64,
    pub mean_e_r: f64,
    /// The base configuration with W and m replaced, when one was given.
    pub config: Option<FieConfig>,
}

impl RegressOutput {
    pub fn new(
        provenance: Provenance,
        fits: &[super::fit::FieSpectrumFit],
        r: SpectrumRegression,
        config: Option<FieConfig>,
    ) -> Self {
        RegressOutput {
            schema: REGRESS_SCHEMA.into(),
            pelx_version: VERSION.into(),
            provenance,
            samples: fits
                .iter()
                .map(|f| RegressSample {
                    sample: f.sample.clone(),
                    e_is: f.e_is,
                    w: f.w,
                    w_err: f.uncertainties.w,
                    m: f.m,
                    m_err: f.uncertainties.m,
                })
                .collect(),
            w: r.w,
            m: r.m,
            mean_e_a: r.mean_e_a,
            mean_s: r.mean_s,
            mean_e_r: r.mean_e_r,
            config,
        }
    }
}

/// Serialize `value` as pretty JSON to `path`, or to stdout when `path` is `None`.
pub fn write_json<T: Serialize>(path: Option<&Path>, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::invalid(format!("JSON serialisation: {e}")))?;
    match path {
        Some(p) => std::fs::write(p, text + "\n").map_err(|e| Error::io(p, e)),
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}").map_err(|e| Error::io("<stdout>", e))
        }
    }
}
