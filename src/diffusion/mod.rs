//! Diffusion decomposition D = D_RW x f from trajectories (Annamareddy et al. 2026,
//! `science.md` §8; Methods, Fig. M1; Supplement S1-S4).
//!
//! - **D** from the Einstein relation, MSD(t) = 2 n D t with n = 3 (bulk) or 2 (in-plane, for
//!   atoms within a layer of the free surfaces), averaged over atoms and time origins; the
//!   slope is a least-squares line over a fit window that the result reports.
//! - **D_RW** from random-walk reconstructions: the trajectory is cut into intervals; every
//!   displacement longer than the threshold d (an activated hop) is turned in a uniformly
//!   random direction (in the surface plane for the 2D analysis), shorter ones are kept; D_RW
//!   is the Einstein coefficient of the reconstruction, averaged over realizations.
//! - **f = D / D_RW**, the convergence curve 1/f(t) = MSD_RW(t)/MSD(t) (Fig. S1b), everything
//!   per species too, a threshold scan f(d), and Arrhenius fits over temperatures
//!   ([`arrhenius`]).
//!
//! ## Streaming and memory
//! Frames are read one at a time ([`trajectory`]); the MSDs are accumulated by multiple-tau
//! correlators ([`multitau`]), so memory grows only with the logarithm of the number of frames
//! (for 2,000 atoms, p = 10 and 5,000 frames: about 1.8 MB per tracked trajectory), and not
//! at all once a longest lag is set ([`DecomposeOptions::max_lag`]). The lag
//! times are 1..9, 10..90, 100..900, ... intervals; each squared displacement is exact and
//! lag τ is averaged over origins spaced 10^floor(log10 τ) intervals apart instead of every
//! interval. The estimate is unbiased; its statistical error is close to that of the
//! all-origins average because overlapping windows are strongly correlated: over 20
//! independent random walks (100 atoms, 2,000 frames, fit window 200-1,000 intervals) the
//! spread of D was 2.6 % larger than with every origin (test `multiple_tau_precision`).
//! Short lags (below 10 intervals) use every origin and equal the all-origins average.
//!
//! ## Random numbers
//! Realization r draws from `ChaCha8Rng::seed_from_u64(seed)` on stream r, consumed in a fixed
//! order (interval by interval, atoms in the engine's order); realizations run in parallel but
//! each owns its stream, so results do not depend on the number of threads.
//!
//! ## Units
//! Å, ps; coefficients in Å^2/ps (1 Å^2/ps = 1e-4 cm^2/s).

pub mod arrhenius;
mod engine;
pub mod multitau;
pub mod plot;
pub mod quench;
mod result;
pub mod stats;
pub mod trajectory;

pub use arrhenius::{arrhenius_report, ArrheniusReport};
pub use engine::{HISTOGRAM_BIN, HISTOGRAM_MAX};
pub use quench::{CachePolicy, QuenchSpec, QuenchSummary};
pub use result::{
    Coefficients, Curves, FitInfo, Histogram, HopStats, ScanPoint, ScanSpecies, SpeciesCoefficients, SpeciesCurves,
};
pub use trajectory::{SelectedFrame, TrajectoryInfo, TrajectoryOptions, Unwrap};

use crate::structure::io::{Format, Frame};
use crate::structure::Structure;
use crate::{Error, Result};
use engine::Engine;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// The thresholds of the paper's Table S1, Å.
pub const TABLE_S1_THRESHOLDS: [f64; 10] = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

/// Narrowest vacuum gap (Å) accepted as a pair of free surfaces.
pub const MIN_VACUUM: f64 = 4.0;

/// Frames the reader thread may hold ahead of the analysis.
const READ_AHEAD: usize = 4;

/// A Cartesian axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        match self {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        }
    }
}

/// Which atoms and which components enter the MSD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Geometry {
    /// All atoms, 3D displacements.
    Bulk,
    /// Atoms within `layer` Å of either free surface normal to `axis` (chosen in the first
    /// analysed frame), displacements projected on the surface plane; hops are still
    /// recognised by their 3D length and their in-plane part turned in a random in-plane
    /// direction (Eqs. 5 and 7 of the 2026 paper).
    Surface { axis: Axis, layer: f64 },
}

/// Parameters of the decomposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecomposeOptions {
    /// Time between analysed frames, ps.
    pub interval: f64,
    /// Displacement threshold d of an activated hop, Å.
    pub threshold: f64,
    /// Random-walk realizations averaged (0: use the exact mean over directions).
    pub realizations: usize,
    /// Seed of the random directions.
    pub seed: u64,
    pub geometry: Geometry,
    /// Fit window, ps (default 10 % and 50 % of the trajectory's duration).
    pub fit_start: Option<f64>,
    pub fit_end: Option<f64>,
    /// Thresholds of the scan of D_RW(d) and f(d), Å (the main threshold is always included).
    pub scan: Vec<f64>,
    /// Disjoint atom sets of the jackknife errors (1: no errors).
    pub blocks: usize,
    /// Lags per level of the multiple-tau correlators (p - 1).
    pub lags_per_level: usize,
    /// Longest lag time computed, ps (`None`: up to the whole trajectory). With it, memory
    /// does not depend on the number of frames at all; the lags stop at the end of the
    /// multiple-tau level holding this lag (at most p - 1 times further).
    pub max_lag: Option<f64>,
}

impl Default for DecomposeOptions {
    fn default() -> Self {
        DecomposeOptions {
            interval: 1.0,
            threshold: 1.0,
            realizations: 50,
            seed: 0,
            geometry: Geometry::Bulk,
            fit_start: None,
            fit_end: None,
            scan: Vec::new(),
            blocks: 8,
            lags_per_level: 9,
            max_lag: None,
        }
    }
}

impl DecomposeOptions {
    /// Checks every option once.
    pub fn validate(&self) -> Result<()> {
        if !(self.interval.is_finite() && self.interval > 0.0) {
            return Err(Error::invalid(format!(
                "the interval must be a positive number of ps, got {}",
                self.interval
            )));
        }
        if !(self.threshold.is_finite() && self.threshold >= 0.0) {
            return Err(Error::invalid(format!(
                "the threshold must be >= 0 Å, got {}",
                self.threshold
            )));
        }
        if let Some(d) = self.scan.iter().find(|d| !(d.is_finite() && **d >= 0.0)) {
            return Err(Error::invalid(format!("scan thresholds must be >= 0 Å, got {d}")));
        }
        if self.realizations > 100_000 {
            return Err(Error::invalid(format!(
                "{} realizations is more than 100,000",
                self.realizations
            )));
        }
        if self.blocks == 0 {
            return Err(Error::invalid("blocks must be at least 1"));
        }
        if !(1..=1000).contains(&self.lags_per_level) {
            return Err(Error::invalid(format!(
                "lags per level must be 1 to 1000, got {}",
                self.lags_per_level
            )));
        }
        if let Some(t) = self.max_lag {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::invalid(format!(
                    "the longest lag must be a positive number of ps, got {t}"
                )));
            }
        }
        for t in [self.fit_start, self.fit_end].into_iter().flatten() {
            if !(t.is_finite() && t >= 0.0) {
                return Err(Error::invalid(format!("fit window times must be >= 0 ps, got {t}")));
            }
        }
        if let (Some(a), Some(b)) = (self.fit_start, self.fit_end) {
            if a >= b {
                return Err(Error::invalid(format!(
                    "the fit window must start before it ends ({a} >= {b} ps)"
                )));
            }
        }
        if let Geometry::Surface { layer, .. } = self.geometry {
            if !(layer.is_finite() && layer > 0.0) {
                return Err(Error::invalid(format!(
                    "the surface layer must be a positive thickness in Å, got {layer}"
                )));
            }
        }
        Ok(())
    }
}

/// The free surfaces of a surface analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurfaceInfo {
    pub axis: Axis,
    /// Layer thickness, Å.
    pub layer: f64,
    /// Coordinates of the outermost atoms along the axis (the surfaces), Å.
    pub top: f64,
    pub bottom: f64,
    /// Width of the vacuum gap, Å.
    pub vacuum: f64,
    /// Atoms in the layers (selected in the first analysed frame).
    pub atoms: usize,
}

/// The result of a decomposition: what the JSON of `pelx decompose` holds for one trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decomposition {
    pub parameters: DecomposeOptions,
    pub trajectory: TrajectoryInfo,
    pub quench: Option<QuenchSummary>,
    pub surface: Option<SurfaceInfo>,
    /// 3 (bulk) or 2 (in-plane).
    pub dimension: usize,
    /// Atoms analysed.
    pub atoms: usize,
    /// Intervals between analysed frames.
    pub intervals: u64,
    /// Duration of the analysed trajectory, ps.
    pub duration: f64,
    /// D, D_RW, f of all analysed atoms.
    #[serde(flatten)]
    pub coefficients: Coefficients,
    pub species: Vec<SpeciesCoefficients>,
    pub fit: FitInfo,
    pub hops: HopStats,
    pub threshold_scan: Vec<ScanPoint>,
    pub curves: Curves,
    pub displacement_histogram: Histogram,
    /// Memory held by the correlators, bytes.
    pub correlator_bytes: usize,
    /// Wall time, s.
    pub seconds: f64,
}

/// Streaming decomposition of frames that are already at the interval: the first frame opens
/// it, every further frame adds one interval.
pub struct Decomposer {
    opts: DecomposeOptions,
    first: Structure,
    first_ids: Vec<u64>,
    prev: Vec<[f64; 3]>,
    unwrapped: bool,
    engine: Engine,
    surface: Option<SurfaceInfo>,
    source: String,
    disp: Vec<[f64; 3]>,
    started: Instant,
}

impl Decomposer {
    /// Opens a decomposition at `first`. `unwrapped`: positions are continuous in time
    /// (displacements are plain differences); otherwise minimum image.
    pub fn new(first: &Frame, opts: &DecomposeOptions, unwrapped: bool) -> Result<Self> {
        opts.validate()?;
        let s = &first.structure;
        s.validate()?;
        if first.ids.len() != s.len() {
            return Err(Error::invalid(format!(
                "frame has {} ids for {} atoms",
                first.ids.len(),
                s.len()
            )));
        }
        let (selected, surface) = match opts.geometry {
            Geometry::Bulk => ((0..s.len()).collect::<Vec<_>>(), None),
            Geometry::Surface { axis, layer } => {
                let (sel, info) = surface_atoms(s, axis, layer)?;
                (sel, Some(info))
            }
        };
        let engine = Engine::new(&selected, &s.types, s.species.len(), opts)?;
        Ok(Decomposer {
            opts: opts.clone(),
            first: s.clone(),
            first_ids: first.ids.clone(),
            prev: s.positions.clone(),
            unwrapped,
            engine,
            surface,
            source: "trajectory".to_string(),
            disp: Vec::with_capacity(s.len()),
            started: Instant::now(),
        })
    }

    /// Names the input in messages.
    pub fn with_source(mut self, name: impl Into<String>) -> Self {
        self.source = name.into();
        self
    }

    /// Atoms analysed.
    pub fn atoms(&self) -> usize {
        self.engine.atoms()
    }

    /// Adds the next frame (one interval after the previous one). Fails if it does not hold
    /// the first frame's atoms, or (minimum-image unwrapping) if an atom moved too far.
    pub fn push(&mut self, frame: &Frame) -> Result<()> {
        let what = match frame.timestep {
            Some(t) => format!("timestep {t}"),
            None => format!("frame {}", self.engine.intervals() + 1),
        };
        trajectory::check_same_atoms(&self.first_ids, &self.first, frame, &self.source, &what)?;
        trajectory::displacements(&self.prev, &frame.structure, self.unwrapped, &mut self.disp).map_err(
            |(i, l, w)| {
                Error::invalid(format!(
                    "{}: frame at line {} ({what}): atom id {} moved {l:.3} Å since the previous analysed frame, more than {} of the box width {w:.3} Å, so minimum-image unwrapping is ambiguous; dump unwrapped coordinates (xu yu zu) or image flags (ix iy iz), or use a shorter interval",
                    self.source, frame.line, frame.ids[i], trajectory::MAX_MINIMUM_IMAGE_FRACTION
                ))
            },
        )?;
        self.engine.push(&self.disp);
        self.prev.copy_from_slice(&frame.structure.positions);
        Ok(())
    }

    /// The analysis of the intervals added so far.
    pub fn finish(self) -> Result<Decomposition> {
        let intervals = self.engine.intervals();
        let raw = self.engine.finish();
        let dim = if self.surface.is_some() { 2 } else { 3 };
        let a = result::analyse(
            &raw,
            &self.first.species,
            self.opts.threshold,
            self.opts.interval,
            dim,
            (self.opts.fit_start, self.opts.fit_end),
        )?;
        Ok(Decomposition {
            parameters: self.opts.clone(),
            trajectory: TrajectoryInfo {
                atoms: self.first.len(),
                species: self.first.species.clone(),
                frames_analysed: intervals as usize + 1,
                unwrap: if self.unwrapped { "unwrapped" } else { "minimum-image" }.to_string(),
                ..Default::default()
            },
            quench: None,
            surface: self.surface,
            dimension: dim,
            atoms: raw.groups.iter().map(|g| g.atoms).sum(),
            intervals,
            duration: intervals as f64 * self.opts.interval,
            coefficients: a.all,
            species: a.species,
            fit: a.fit,
            hops: a.hops,
            threshold_scan: a.scan,
            curves: a.curves,
            displacement_histogram: a.histogram,
            correlator_bytes: raw.footprint * std::mem::size_of::<f64>(),
            seconds: self.started.elapsed().as_secs_f64(),
        })
    }
}

/// Decomposition of in-memory frames at the interval (see [`Decomposer`]).
pub fn decompose_frames<'a>(
    frames: impl IntoIterator<Item = &'a Frame>,
    opts: &DecomposeOptions,
    unwrapped: bool,
) -> Result<Decomposition> {
    let mut it = frames.into_iter();
    let first = it.next().ok_or_else(|| Error::invalid("no frames"))?;
    let mut d = Decomposer::new(first, opts, unwrapped)?;
    for f in it {
        d.push(f)?;
    }
    d.finish()
}

/// The atoms within `layer` Å of the free surfaces normal to `axis`.
fn surface_atoms(s: &Structure, axis: Axis, layer: f64) -> Result<(Vec<usize>, SurfaceInfo)> {
    let k = axis.index();
    let cell = &s.cell;
    for e in (0..3).filter(|&e| e != k) {
        let v = cell.edge(e);
        let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        if v[k].abs() > 1e-9 * len {
            return Err(Error::invalid(format!(
                "a surface analysis along {axis:?} needs the other two cell edges perpendicular to it (edge {} has a {axis:?} component {})",
                ["a", "b", "c"][e],
                v[k]
            )));
        }
    }
    let origin = cell.origin()[k];
    let period = cell.edge(k)[k];
    let periodic = cell.pbc()[k];
    let h: Vec<f64> = s
        .positions
        .iter()
        .map(|p| {
            let x = p[k] - origin;
            if periodic {
                x.rem_euclid(period)
            } else {
                x
            }
        })
        .collect();
    let mut sorted = h.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    // (top, bottom, vacuum): the atoms on either side of the widest gap.
    let (top, bottom, vacuum) = if periodic {
        let mut best = (sorted[n - 1], sorted[0], sorted[0] + period - sorted[n - 1]);
        for w in sorted.windows(2) {
            if w[1] - w[0] > best.2 {
                best = (w[0], w[1], w[1] - w[0]);
            }
        }
        best
    } else {
        (sorted[n - 1], sorted[0], f64::INFINITY)
    };
    if vacuum < MIN_VACUUM {
        return Err(Error::invalid(format!(
            "no free surface normal to {axis:?}: the widest gap between atoms along it is {vacuum:.2} Å (a slab needs at least {MIN_VACUUM} Å of vacuum)"
        )));
    }
    let depth = |x: f64| {
        if periodic {
            (top - x).rem_euclid(period).min((x - bottom).rem_euclid(period))
        } else {
            (top - x).min(x - bottom)
        }
    };
    let selected: Vec<usize> = (0..n).filter(|&i| depth(h[i]) <= layer).collect();
    let info = SurfaceInfo {
        axis,
        layer,
        top: top + origin,
        bottom: bottom + origin,
        vacuum,
        atoms: selected.len(),
    };
    Ok((selected, info))
}

/// Decomposition of a trajectory file, read as a stream: frames at the interval, optionally
/// quenched to inherent structures first (with the cache of [`quench`]).
pub fn decompose_trajectory(
    path: &Path,
    topts: &TrajectoryOptions,
    opts: &DecomposeOptions,
    quench: Option<&QuenchSpec>,
) -> Result<Decomposition> {
    let started = Instant::now();
    topts.validate()?;
    opts.validate()?;
    if let Some(q) = quench {
        q.options.validate()?;
    }
    let format = trajectory::trajectory_format(path, &topts.read)?;
    let unwrapped = trajectory::resolve_unwrap(path, format, topts.unwrap)?;
    let source = path.display().to_string();

    let mut out = match quench {
        None => {
            let mut dec: Option<Decomposer> = None;
            let stats = stream(path, format, topts.read.species.clone(), topts, opts.interval, |sf| {
                feed(&mut dec, &sf.frame, opts, unwrapped, &source)
            })?;
            let mut d = finish(dec, &source)?;
            stats.fill(&mut d.trajectory);
            d
        }
        Some(q) => decompose_quenched(path, format, unwrapped, topts, opts, q)?,
    };
    out.trajectory.path = source;
    out.trajectory.format = format.name().to_string();
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Adds a frame to the decomposition, opening it at the first frame.
fn feed(
    dec: &mut Option<Decomposer>,
    frame: &Frame,
    opts: &DecomposeOptions,
    unwrapped: bool,
    source: &str,
) -> Result<()> {
    match dec {
        Some(d) => d.push(frame),
        None => {
            *dec = Some(Decomposer::new(frame, opts, unwrapped)?.with_source(source));
            Ok(())
        }
    }
}

fn finish(dec: Option<Decomposer>, source: &str) -> Result<Decomposition> {
    dec.ok_or_else(|| Error::invalid(format!("{source}: no frame to analyse (after the start time)")))?
        .finish()
        .map_err(|e| Error::invalid(format!("{source}: {e}")))
}

/// What the reader of a trajectory saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    pub frames_read: usize,
    pub frames_kept: usize,
    /// ps per tick of the frames.
    pub tick_ps: f64,
    pub first_tick: u64,
    pub last_tick: u64,
    pub warnings: Vec<String>,
    /// SHA-256 of the trajectory file.
    pub sha256: String,
}

impl StreamStats {
    fn fill(self, t: &mut TrajectoryInfo) {
        t.frames_read = self.frames_read;
        t.frames_analysed = self.frames_kept;
        t.first_tick = self.first_tick;
        t.last_tick = self.last_tick;
        t.warnings = self.warnings;
        t.sha256 = self.sha256;
    }
}

/// Reads `path` on a separate thread, selects the frames at the interval and hands them to
/// `consume` in order; stops at the first error of either side.
fn stream(
    path: &Path,
    format: Format,
    species: Option<Vec<String>>,
    topts: &TrajectoryOptions,
    interval: f64,
    mut consume: impl FnMut(SelectedFrame) -> Result<()>,
) -> Result<StreamStats> {
    let (frames, probe) = trajectory::open_frames(path, format, species)?;
    let mut sel = trajectory::Selector::new(frames, Some(probe.clone()), path, topts, interval);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<SelectedFrame>>(READ_AHEAD);
        let reader = scope.spawn(move || {
            for item in sel.by_ref() {
                let stop = item.is_err();
                if tx.send(item).is_err() || stop {
                    break;
                }
            }
            let ticks = (sel.tick_ps(), sel.first_kept.unwrap_or(0), sel.last_kept.unwrap_or(0));
            (sel.frames_read, sel.frames_kept, sel.warnings, ticks)
        });
        let mut result = Ok(());
        for item in rx.iter() {
            if let Err(e) = item.and_then(&mut consume) {
                result = Err(e);
                break;
            }
        }
        drop(rx);
        let (frames_read, frames_kept, warnings, (tick_ps, first_tick, last_tick)) =
            reader.join().expect("the reader thread does not panic");
        result?;
        Ok(StreamStats {
            frames_read,
            frames_kept,
            tick_ps,
            first_tick,
            last_tick,
            warnings,
            sha256: probe.hex_digest(),
        })
    })
}

/// The quench path: the inherent structures of [`stream_quenched`] fed to a decomposition.
fn decompose_quenched(
    path: &Path,
    format: Format,
    unwrapped: bool,
    topts: &TrajectoryOptions,
    opts: &DecomposeOptions,
    q: &QuenchSpec,
) -> Result<Decomposition> {
    let source = path.display().to_string();
    let mut dec: Option<Decomposer> = None;
    let (stats, summary) = stream_quenched(path, format, unwrapped, topts, opts.interval, q, |sf| {
        feed(&mut dec, &sf.frame, opts, unwrapped, &source)
    })?;
    let mut d = finish(dec, &source)?;
    let warnings = std::mem::take(&mut d.trajectory.warnings);
    stats.fill(&mut d.trajectory);
    d.trajectory.warnings.extend(warnings);
    d.quench = Some(summary);
    Ok(d)
}

/// Frames of a trajectory at `interval`, read as a stream and handed to `consume` in order:
/// quenched to inherent structures first (with the cache of [`quench`]) when `quench` is
/// given, as read otherwise. For analyses other than the decomposition (`pelx
/// rearrangements`) that need the same frames.
pub fn for_each_frame(
    path: &Path,
    topts: &TrajectoryOptions,
    interval: f64,
    quench: Option<&QuenchSpec>,
    mut consume: impl FnMut(&SelectedFrame) -> Result<()>,
) -> Result<(StreamStats, Option<QuenchSummary>)> {
    topts.validate()?;
    if !(interval > 0.0 && interval.is_finite()) {
        return Err(Error::invalid(format!(
            "the interval must be positive, got {interval} ps"
        )));
    }
    let format = trajectory::trajectory_format(path, &topts.read)?;
    let unwrapped = trajectory::resolve_unwrap(path, format, topts.unwrap)?;
    match quench {
        None => {
            let stats = stream(path, format, topts.read.species.clone(), topts, interval, |sf| {
                consume(&sf)
            })?;
            Ok((stats, None))
        }
        Some(q) => {
            q.options.validate()?;
            let (stats, summary) = stream_quenched(path, format, unwrapped, topts, interval, q, consume)?;
            Ok((stats, Some(summary)))
        }
    }
}

/// The inherent structures of the frames at `interval`, in order: from the cache when it
/// holds this trajectory, else by minimizing every selected frame (in parallel batches) while
/// writing the cache.
fn stream_quenched(
    path: &Path,
    format: Format,
    unwrapped: bool,
    topts: &TrajectoryOptions,
    interval: f64,
    q: &QuenchSpec,
    mut consume: impl FnMut(&SelectedFrame) -> Result<()>,
) -> Result<(StreamStats, QuenchSummary)> {
    let source = path.display().to_string();
    let sha = crate::provenance::file_sha256(path)?;
    let key = quench::CacheKey::new(sha.clone(), q, topts, interval, unwrapped)?;
    let digest = key.digest();
    let dir = quench::cache_dir(&q.cache, path);
    let potential: Vec<(String, String)> = q
        .potential_files
        .iter()
        .map(|p| p.display().to_string())
        .zip(key.potential_sha256.iter().cloned())
        .collect();
    let mut energies = EnergyStats::default();

    if let Some((file, meta)) = dir.as_deref().and_then(|d| quench::lookup(d, &key)) {
        tracing::info!("inherent structures from the cache {}", file.display());
        let t0 = Instant::now();
        // The cache holds exactly the analysed frames, with their original ticks.
        let cached_topts = TrajectoryOptions {
            read: crate::structure::io::ReadOptions {
                format: Some(Format::ExtXyz),
                species: Some(meta.species.clone()),
                ..topts.read.clone()
            },
            md_timestep: meta.tick_ps,
            frame_spacing: None,
            start: 0.0,
            unwrap: topts.unwrap,
        };
        let mut stats = stream(
            &file,
            Format::ExtXyz,
            Some(meta.species.clone()),
            &cached_topts,
            interval,
            |sf| {
                if let Some(e) = sf.frame.energy {
                    energies.add(e / sf.frame.structure.len() as f64);
                }
                consume(&sf)
            },
        )?;
        stats.frames_read = meta.frames_read;
        stats.warnings = meta.warnings.clone();
        stats.sha256 = sha;
        let summary = QuenchSummary {
            method: q.method,
            fmax: q.options.fmax,
            potential,
            frames: meta.frames,
            converged: meta.converged,
            force_calls: 0,
            e_is_first: energies.first,
            e_is_last: energies.last,
            e_is_mean: energies.mean(),
            cache_file: Some(file.display().to_string()),
            cache_hit: true,
            key: digest,
            seconds: t0.elapsed().as_secs_f64(),
        };
        return Ok((stats, summary));
    }

    let mut writer = match &dir {
        Some(d) => match quench::CacheWriter::create(d, &key) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("no quench cache ({e}); continuing without");
                None
            }
        },
        None => None,
    };
    let batch_size = (2 * rayon::current_num_threads()).max(2);
    let mut batch: Vec<SelectedFrame> = Vec::with_capacity(batch_size);
    let mut converged = 0usize;
    let mut frames = 0usize;
    let mut force_calls = 0u64;
    let mut qseconds = 0.0;
    let mut species: Vec<String> = Vec::new();
    let mut run_batch = |batch: Vec<SelectedFrame>, writer: &mut Option<quench::CacheWriter>| -> Result<()> {
        let t0 = Instant::now();
        let done = quench::quench_batch(batch, q)?;
        qseconds += t0.elapsed().as_secs_f64();
        for qf in done {
            frames += 1;
            converged += qf.converged as usize;
            force_calls += qf.force_calls;
            energies.add(qf.energy / qf.frame.frame.structure.len() as f64);
            if !qf.converged {
                tracing::warn!(
                    "quench of tick {} stopped at fmax {:.3e} eV/Å (asked {})",
                    qf.frame.tick,
                    qf.fmax,
                    q.options.fmax
                );
            }
            if species.is_empty() {
                species = qf.frame.frame.structure.species.clone();
            }
            if let Some(w) = writer.as_mut() {
                if let Err(e) = w.write(&qf) {
                    tracing::warn!("quench cache not written ({e})");
                    writer.take().expect("present").abandon();
                }
            }
            let mut sf = qf.frame;
            sf.frame.energy = Some(qf.energy);
            consume(&sf)?;
        }
        Ok(())
    };
    let streamed = stream(path, format, topts.read.species.clone(), topts, interval, |sf| {
        batch.push(sf);
        if batch.len() == batch_size {
            run_batch(std::mem::take(&mut batch), &mut writer)?;
        }
        Ok(())
    });
    let mut stats = match streamed.and_then(|s| run_batch(std::mem::take(&mut batch), &mut writer).map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            if let Some(w) = writer {
                w.abandon();
            }
            return Err(e);
        }
    };
    let mut cache_file = None;
    if let (Some(w), Some(dir)) = (writer, &dir) {
        let meta = quench::CacheMeta {
            key: key.clone(),
            digest: digest.clone(),
            trajectory: source.clone(),
            frames,
            frames_read: stats.frames_read,
            tick_ps: stats.tick_ps,
            converged,
            force_calls,
            species,
            warnings: stats.warnings.clone(),
        };
        match w.commit(&meta) {
            Ok(p) => cache_file = Some(p.display().to_string()),
            Err(e) => tracing::warn!("quench cache in {} not completed ({e})", dir.display()),
        }
    }
    if converged < frames {
        stats.warnings.push(format!(
            "{} of {frames} quenches stopped before fmax {} eV/Å",
            frames - converged,
            q.options.fmax
        ));
    }
    let summary = QuenchSummary {
        method: q.method,
        fmax: q.options.fmax,
        potential,
        frames,
        converged,
        force_calls,
        e_is_first: energies.first,
        e_is_last: energies.last,
        e_is_mean: energies.mean(),
        cache_file,
        cache_hit: false,
        key: digest,
        seconds: qseconds,
    };
    Ok((stats, summary))
}

/// First, last and mean of a stream of energies.
#[derive(Default)]
struct EnergyStats {
    first: f64,
    last: f64,
    sum: f64,
    n: usize,
}

impl EnergyStats {
    fn add(&mut self, e: f64) {
        if self.n == 0 {
            self.first = e;
        }
        self.last = e;
        self.sum += e;
        self.n += 1;
    }
    fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum / self.n as f64
        }
    }
}

#[cfg(test)]
mod tests;
