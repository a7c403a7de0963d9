//! Streaming trajectory input: frames read one at a time, hashed as they pass, selected at a
//! fixed interval, checked for consistency, and turned into per-interval displacements.
//!
//! Time: a LAMMPS dump frame is at `TIMESTEP x md_timestep` ps; an extended XYZ frame with an
//! integer `timestep=` or `Step=` key likewise; a frame without either is at `index x
//! frame_spacing` (default: the analysis interval, so every frame is analysed). Frames
//! between the multiples of the interval are skipped; a frame past the next expected time (a
//! gap), a time that does not increase, or an interval that is not a whole number of time
//! steps is an error.
//!
//! Unwrapping: dumps with `xu yu zu`, `xsu ysu zsu` or image flags `ix iy iz` carry unwrapped
//! positions (the reader applies the flags) and displacements are plain differences. Wrapped
//! positions without image flags (and extended XYZ, which says nothing) are unwrapped by the
//! minimum image between consecutive analysed frames, which is exact while no atom moves
//! more than half a box width per interval; a step longer than [`MAX_MINIMUM_IMAGE_FRACTION`]
//! of the narrowest periodic width is an error rather than a silent wrong unwrap.
//!
//! A read error at the very end of the file (a truncated last frame, as a killed MD run
//! leaves) is reported as a warning and the frames before it are analysed; any other read
//! error stops the analysis.

use crate::structure::io::{DumpReader, ExtXyzReader, Format, Frame, ReadOptions};
use crate::structure::{Cell, Structure};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// In minimum-image unwrapping, the largest step accepted, as a fraction of the narrowest
/// periodic width of the box.
pub const MAX_MINIMUM_IMAGE_FRACTION: f64 = 0.4;

/// How displacements between consecutive frames are unwrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Unwrap {
    /// Plain differences for dumps with unwrapped coordinates or image flags, minimum image
    /// otherwise.
    #[default]
    Auto,
    /// Minimum image between consecutive frames.
    MinimumImage,
    /// Plain differences: the positions are already unwrapped.
    None,
}

/// How a trajectory is read and sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct TrajectoryOptions {
    /// Format and species names (`--species Cu,Zr` for dumps with types only).
    pub read: ReadOptions,
    /// Time of one dump TIMESTEP, ps (LAMMPS metal units: 0.001).
    pub md_timestep: f64,
    /// Time between consecutive frames that carry no timestep, ps (`None`: the interval).
    pub frame_spacing: Option<f64>,
    /// Frames earlier than this (ps after the first frame) are skipped.
    pub start: f64,
    /// Unwrapping of displacements.
    pub unwrap: Unwrap,
}

impl Default for TrajectoryOptions {
    fn default() -> Self {
        TrajectoryOptions {
            read: ReadOptions::default(),
            md_timestep: 0.001,
            frame_spacing: None,
            start: 0.0,
            unwrap: Unwrap::Auto,
        }
    }
}

impl TrajectoryOptions {
    /// Checks the numbers once.
    pub fn validate(&self) -> Result<()> {
        let pos = |v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "{what} must be a positive number of ps, got {v}"
                )))
            }
        };
        pos(self.md_timestep, "the MD timestep")?;
        if let Some(s) = self.frame_spacing {
            pos(s, "the frame spacing")?;
        }
        if !(self.start.is_finite() && self.start >= 0.0) {
            return Err(Error::invalid(format!(
                "the start time must be >= 0 ps, got {}",
                self.start
            )));
        }
        Ok(())
    }
}

/// What was read, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryInfo {
    pub path: String,
    pub format: String,
    /// SHA-256 of the file's bytes (of all bytes read, when reading stopped at an error).
    pub sha256: String,
    pub atoms: usize,
    pub species: Vec<String>,
    /// Complete frames read.
    pub frames_read: usize,
    /// Frames analysed (at the interval, from the start time on).
    pub frames_analysed: usize,
    /// Timestep (or time index) of the first and last analysed frame.
    pub first_tick: u64,
    pub last_tick: u64,
    /// How displacements were unwrapped: "unwrapped" (plain differences) or "minimum-image".
    pub unwrap: String,
    /// Problems that did not stop the analysis.
    pub warnings: Vec<String>,
}

/// A frame chosen for the analysis.
#[derive(Debug, Clone)]
pub struct SelectedFrame {
    /// Timestep, or frame index for frames without one.
    pub tick: u64,
    pub frame: Frame,
}

/// A `BufRead` over a file that hashes every byte it hands out and notes when the end of the
/// file has been reached (so that a read error there is known to be a truncated last frame).
pub(crate) struct TrackedReader {
    inner: File,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    shared: Arc<Probe>,
}

/// State shared between a [`TrackedReader`] (which the frame reader owns) and its caller.
#[derive(Default)]
pub(crate) struct Probe {
    eof: AtomicBool,
    hasher: Mutex<Sha256>,
}

impl Probe {
    pub(crate) fn at_eof(&self) -> bool {
        self.eof.load(Ordering::SeqCst)
    }
    pub(crate) fn hex_digest(&self) -> String {
        let h = self.hasher.lock().expect("hasher lock").clone();
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl TrackedReader {
    pub(crate) fn open(path: &Path) -> Result<(Self, Arc<Probe>)> {
        let inner = File::open(path).map_err(|e| Error::io(path, e))?;
        let shared = Arc::new(Probe::default());
        Ok((
            TrackedReader {
                inner,
                buf: vec![0; 1 << 16],
                pos: 0,
                len: 0,
                shared: shared.clone(),
            },
            shared,
        ))
    }
}

impl Read for TrackedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for TrackedReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            // The previous buffer is used up: hash it, then refill.
            if self.len > 0 {
                self.shared
                    .hasher
                    .lock()
                    .expect("hasher lock")
                    .update(&self.buf[..self.len]);
            }
            self.pos = 0;
            self.len = 0;
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.len = n;
            if n == 0 {
                self.shared.eof.store(true, Ordering::SeqCst);
            }
        }
        Ok(&self.buf[self.pos..self.len])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

/// The format of `path` as `opts` names it or its extension says; only trajectory formats.
pub(crate) fn trajectory_format(path: &Path, opts: &ReadOptions) -> Result<Format> {
    let f = match opts.format {
        Some(f) => f,
        None => Format::from_path(path)?,
    };
    if f == Format::LammpsData {
        return Err(Error::invalid(format!(
            "{}: a LAMMPS data file holds one structure, not a trajectory (use a dump or extended XYZ)",
            path.display()
        )));
    }
    Ok(f)
}

/// Whether the positions of `path` come unwrapped (`true`) or need minimum-image unwrapping.
pub(crate) fn resolve_unwrap(path: &Path, format: Format, unwrap: Unwrap) -> Result<bool> {
    match unwrap {
        Unwrap::None => Ok(true),
        Unwrap::MinimumImage => Ok(false),
        Unwrap::Auto => match format {
            Format::LammpsDump => {
                let cols = dump_columns(path)?;
                let has = |n: &str| cols.iter().any(|c| c == n);
                Ok(["xu", "yu", "zu"].iter().all(|n| has(n))
                    || ["xsu", "ysu", "zsu"].iter().all(|n| has(n))
                    || ["ix", "iy", "iz"].iter().all(|n| has(n)))
            }
            _ => Ok(false),
        },
    }
}

/// The column names of the first `ITEM: ATOMS` line of a dump (empty when there is none in
/// the first 64 lines; the frame reader reports the problem then).
fn dump_columns(path: &Path) -> Result<Vec<String>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    for _ in 0..64 {
        line.clear();
        // Invalid text is left for the frame reader to report with its line number.
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix("ITEM: ATOMS") {
            return Ok(rest.split_ascii_whitespace().map(str::to_string).collect());
        }
    }
    Ok(Vec::new())
}

/// Frames read one at a time on any thread.
pub(crate) type FrameStream = Box<dyn Iterator<Item = Result<Frame>> + Send>;

/// Opens `path` as a stream of frames with a probe for the end of file and the hash.
pub(crate) fn open_frames(
    path: &Path,
    format: Format,
    species: Option<Vec<String>>,
) -> Result<(FrameStream, Arc<Probe>)> {
    let (reader, probe) = TrackedReader::open(path)?;
    let it: FrameStream = match format {
        Format::ExtXyz => Box::new(ExtXyzReader::new(reader, path).with_species(species)),
        Format::LammpsDump => Box::new(DumpReader::new(reader, path).with_species(species)),
        Format::LammpsData => unreachable!("checked by trajectory_format"),
    };
    Ok((it, probe))
}

/// The time tick of a frame: the dump TIMESTEP, an extended XYZ `timestep=`/`Step=` key, or
/// `None`.
pub(crate) fn frame_tick(frame: &Frame) -> Result<Option<u64>> {
    if let Some(t) = frame.timestep {
        return Ok(Some(t));
    }
    for (k, v) in &frame.info {
        if k.eq_ignore_ascii_case("timestep") || k.eq_ignore_ascii_case("step") {
            return v.trim().parse::<u64>().map(Some).map_err(|_| {
                Error::invalid(format!(
                    "frame at line {}: {k}={v} is not a non-negative integer",
                    frame.line
                ))
            });
        }
    }
    Ok(None)
}

/// Picks the frames at the interval from a stream and checks them.
pub(crate) struct Selector<I> {
    frames: I,
    probe: Option<Arc<Probe>>,
    path: PathBuf,
    opts: TrajectoryOptions,
    /// Time between analysed frames, ps.
    interval: f64,
    /// ps per tick; set by the first frame.
    tick_ps: Option<f64>,
    interval_ticks: u64,
    start_tick: u64,
    first_tick: Option<u64>,
    has_ticks: bool,
    /// Tick of the first and the last analysed frame.
    pub(crate) first_kept: Option<u64>,
    pub(crate) last_kept: Option<u64>,
    /// Tick of the last frame read.
    last_seen: Option<u64>,
    index: u64,
    pub(crate) frames_read: usize,
    pub(crate) frames_kept: usize,
    pub(crate) warnings: Vec<String>,
    done: bool,
}

impl<I: Iterator<Item = Result<Frame>>> Selector<I> {
    pub(crate) fn new(
        frames: I,
        probe: Option<Arc<Probe>>,
        path: &Path,
        opts: &TrajectoryOptions,
        interval: f64,
    ) -> Self {
        Selector {
            frames,
            probe,
            path: path.to_path_buf(),
            opts: opts.clone(),
            interval,
            tick_ps: None,
            interval_ticks: 0,
            start_tick: 0,
            first_tick: None,
            has_ticks: false,
            first_kept: None,
            last_kept: None,
            last_seen: None,
            index: 0,
            frames_read: 0,
            frames_kept: 0,
            warnings: Vec::new(),
            done: false,
        }
    }

    /// ps per tick (NaN before the first frame).
    pub(crate) fn tick_ps(&self) -> f64 {
        self.tick_ps.unwrap_or(f64::NAN)
    }

    /// The interval in ticks, checked to be a whole number.
    fn ticks_of(&self, ps: f64, what: &str, tick_ps: f64, unit: &str) -> Result<u64> {
        let n = ps / tick_ps;
        let r = n.round();
        if r < 1.0 || (n - r).abs() > 1e-6 * r.max(1.0) {
            return Err(Error::invalid(format!(
                "{}: {what} {ps} ps is not a whole number of {unit} ({tick_ps} ps each)",
                self.path.display()
            )));
        }
        Ok(r as u64)
    }

    fn describe(&self, tick: u64) -> String {
        if self.has_ticks {
            format!("timestep {tick}")
        } else {
            format!("frame {tick}")
        }
    }

    /// Handles one frame: `Some` if it is analysed.
    fn take(&mut self, frame: Frame) -> Result<Option<SelectedFrame>> {
        let explicit = frame_tick(&frame)?;
        if self.tick_ps.is_none() {
            self.has_ticks = explicit.is_some();
            let (tick_ps, unit) = if self.has_ticks {
                (self.opts.md_timestep, "MD timesteps")
            } else {
                (self.opts.frame_spacing.unwrap_or(self.interval), "frame spacings")
            };
            self.interval_ticks = self.ticks_of(self.interval, "the interval", tick_ps, unit)?;
            self.start_tick = if self.opts.start > 0.0 {
                self.ticks_of(self.opts.start, "the start time", tick_ps, unit)?
            } else {
                0
            };
            self.tick_ps = Some(tick_ps);
        }
        let tick = match (explicit, self.has_ticks) {
            (Some(t), true) => t,
            (None, false) => self.index,
            (Some(_), false) | (None, true) => {
                return Err(Error::invalid(format!(
                    "{}: frame at line {} {} a timestep while the first frame {}",
                    self.path.display(),
                    frame.line,
                    if explicit.is_some() { "has" } else { "has no" },
                    if self.has_ticks { "has one" } else { "has none" }
                )))
            }
        };
        self.index += 1;
        if let Some(prev) = self.last_seen {
            if tick <= prev {
                return Err(Error::invalid(format!(
                    "{}: frame at line {}: {} does not follow {} (times must increase; a restarted run repeats frames?)",
                    self.path.display(),
                    frame.line,
                    self.describe(tick),
                    self.describe(prev)
                )));
            }
        }
        self.last_seen = Some(tick);
        let first = *self.first_tick.get_or_insert(tick);
        let origin = first + self.start_tick;
        let keep = match self.last_kept {
            // The first frame at or after the start time opens the analysis.
            None => tick >= origin,
            Some(last) => {
                let expected = last + self.interval_ticks;
                if tick < expected {
                    false
                } else if tick == expected {
                    true
                } else {
                    let ps = self.tick_ps.expect("set above");
                    return Err(Error::invalid(format!(
                        "{}: non-uniform interval: the frame at line {} is at {}, {} ps after the frame analysed before it ({}); expected one at {} (interval {} ps). Frames must be evenly spaced and the interval a multiple of their spacing",
                        self.path.display(),
                        frame.line,
                        self.describe(tick),
                        (tick - last) as f64 * ps,
                        self.describe(last),
                        self.describe(expected),
                        self.interval
                    )));
                }
            }
        };
        if !keep {
            return Ok(None);
        }
        self.first_kept.get_or_insert(tick);
        self.last_kept = Some(tick);
        self.frames_kept += 1;
        Ok(Some(SelectedFrame { tick, frame }))
    }
}

impl<I: Iterator<Item = Result<Frame>>> Iterator for Selector<I> {
    type Item = Result<SelectedFrame>;
    fn next(&mut self) -> Option<Result<SelectedFrame>> {
        while !self.done {
            match self.frames.next() {
                None => {
                    self.done = true;
                }
                Some(Ok(frame)) => {
                    self.frames_read += 1;
                    match self.take(frame) {
                        Ok(Some(s)) => return Some(Ok(s)),
                        Ok(None) => {}
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e));
                        }
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    let at_end = self.probe.as_ref().is_some_and(|p| p.at_eof());
                    if at_end && self.frames_read > 0 {
                        self.warnings.push(format!(
                            "the last frame is incomplete ({e}); the {} complete frame{} before it {} analysed",
                            self.frames_read,
                            if self.frames_read == 1 { "" } else { "s" },
                            if self.frames_read == 1 { "was" } else { "were" }
                        ));
                        tracing::warn!("{}", self.warnings.last().expect("just pushed"));
                    } else {
                        return Some(Err(e));
                    }
                }
            }
        }
        None
    }
}

/// Checks that `frame` holds the atoms of the first frame: the same ids in the same order
/// and the same species.
pub(crate) fn check_same_atoms(
    first_ids: &[u64],
    first: &Structure,
    frame: &Frame,
    source: &str,
    what: &str,
) -> Result<()> {
    let s = &frame.structure;
    let at = || format!("{source}: frame at line {} ({what})", frame.line);
    if s.len() != first.len() {
        return Err(Error::invalid(format!(
            "{}: {} atoms, the first frame had {}",
            at(),
            s.len(),
            first.len()
        )));
    }
    if frame.ids != first_ids {
        let old: std::collections::HashSet<u64> = first_ids.iter().copied().collect();
        let new: std::collections::HashSet<u64> = frame.ids.iter().copied().collect();
        let added = frame.ids.iter().find(|i| !old.contains(i));
        let missing = first_ids.iter().find(|i| !new.contains(i));
        let detail = match (added, missing) {
            (Some(a), Some(m)) => format!("id {a} is new, id {m} is missing"),
            (Some(a), None) => format!("id {a} is new"),
            (None, Some(m)) => format!("id {m} is missing"),
            (None, None) => "an id appears twice".to_string(),
        };
        return Err(Error::invalid(format!(
            "{}: atom ids differ from the first frame's: {detail}",
            at()
        )));
    }
    let same = if s.species == first.species {
        s.types == first.types
    } else {
        (0..s.len()).all(|i| s.symbol(i) == first.symbol(i))
    };
    for i in (0..s.len()).filter(|_| !same) {
        if s.symbol(i) != first.symbol(i) {
            return Err(Error::invalid(format!(
                "{}: atom id {} is {} here and {} in the first frame",
                at(),
                frame.ids[i],
                s.symbol(i),
                first.symbol(i)
            )));
        }
    }
    if s.cell.pbc() != first.cell.pbc() {
        return Err(Error::invalid(format!(
            "{}: the periodic axes differ from the first frame's",
            at()
        )));
    }
    Ok(())
}

/// Displacements of every atom from `prev` to `cur`: plain differences, or minimum image in
/// the cell of `cur` (checked against [`MAX_MINIMUM_IMAGE_FRACTION`]).
pub(crate) fn displacements(
    prev: &[[f64; 3]],
    cur: &Structure,
    unwrapped: bool,
    out: &mut Vec<[f64; 3]>,
) -> std::result::Result<(), (usize, f64, f64)> {
    out.clear();
    let cell: &Cell = &cur.cell;
    if unwrapped || !cell.any_periodic() {
        out.extend(
            cur.positions
                .iter()
                .zip(prev)
                .map(|(a, b)| [a[0] - b[0], a[1] - b[1], a[2] - b[2]]),
        );
        return Ok(());
    }
    let width = (0..3)
        .filter(|&k| cell.pbc()[k])
        .map(|k| cell.perpendicular_width(k))
        .fold(f64::INFINITY, f64::min);
    let limit = MAX_MINIMUM_IMAGE_FRACTION * width;
    for (i, (a, b)) in cur.positions.iter().zip(prev).enumerate() {
        let d = cell.minimum_image([a[0] - b[0], a[1] - b[1], a[2] - b[2]]);
        let l = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if l > limit {
            return Err((i, l, width));
        }
        out.push(d);
    }
    Ok(())
}
