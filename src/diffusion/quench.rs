//! Inherent-structure conversion: every analysed frame minimized before the analysis, as the
//! 2026 paper does (Methods: "All results ... are based on analyses of inherent structures"),
//! in parallel, with a cache so that a second analysis of the same trajectory does not
//! minimize again.
//!
//! The cache is an extended XYZ trajectory of the inherent structures (each frame with its
//! `energy=`, `timestep=`, `fmax=` and `converged=`), written beside a JSON description, both
//! named after a key: the SHA-256 of the trajectory file, of the potential files, the species
//! list, the minimizer and its options, the frame selection (interval, start, time units) and
//! the unwrapping. Any change of these makes a new entry. The files are written under a
//! temporary name and renamed when complete, so an interrupted run leaves no partial entry.

use super::trajectory::{SelectedFrame, TrajectoryOptions};
use crate::minimize::{minimize, MinimizeOptions, MinimizerKind};
use crate::potential::{Calculator, ForceField};
use crate::structure::io::{ExtXyzWriter, WriteOptions};
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Version of the cache layout; part of the key.
const CACHE_VERSION: &str = "pelx.quench-cache/1";

/// Where quenched frames are cached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CachePolicy {
    /// In `<trajectory>.pelx-quench/` beside the trajectory file.
    #[default]
    BesideTrajectory,
    /// In this directory.
    Dir(PathBuf),
    /// No cache.
    Off,
}

/// How to quench.
#[derive(Clone)]
pub struct QuenchSpec {
    pub force_field: Arc<dyn ForceField>,
    /// Potential files (hashed into the cache key).
    pub potential_files: Vec<PathBuf>,
    pub method: MinimizerKind,
    pub options: MinimizeOptions,
    /// Verlet skin of the neighbour lists, Å.
    pub skin: f64,
    pub cache: CachePolicy,
}

/// What the quench did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuenchSummary {
    pub method: MinimizerKind,
    /// Convergence threshold, eV/Å.
    pub fmax: f64,
    /// Potential files and their SHA-256.
    pub potential: Vec<(String, String)>,
    pub frames: usize,
    /// Frames whose minimization reached fmax.
    pub converged: usize,
    /// Force calls over all frames (0 when read from the cache).
    pub force_calls: u64,
    /// Inherent-structure energy of the first and last analysed frame and the mean, eV/atom.
    pub e_is_first: f64,
    pub e_is_last: f64,
    pub e_is_mean: f64,
    /// The cache file, when there is one.
    pub cache_file: Option<String>,
    /// Whether the frames came from the cache.
    pub cache_hit: bool,
    /// The cache key (SHA-256 of the key fields).
    pub key: String,
    /// Wall time of the minimizations, s.
    pub seconds: f64,
}

/// The fields hashed into the cache key (also written into the cache's JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CacheKey {
    pub version: String,
    pub trajectory_sha256: String,
    pub potential_sha256: Vec<String>,
    pub species: Option<Vec<String>>,
    pub method: MinimizerKind,
    pub options: MinimizeOptions,
    pub skin: f64,
    pub interval: f64,
    pub md_timestep: f64,
    pub frame_spacing: Option<f64>,
    pub start: f64,
    pub unwrapped: bool,
}

impl CacheKey {
    pub(crate) fn new(
        trajectory_sha256: String,
        q: &QuenchSpec,
        t: &TrajectoryOptions,
        interval: f64,
        unwrapped: bool,
    ) -> Result<Self> {
        let potential_sha256 = q
            .potential_files
            .iter()
            .map(|p| crate::provenance::file_sha256(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(CacheKey {
            version: CACHE_VERSION.to_string(),
            trajectory_sha256,
            potential_sha256,
            species: t.read.species.clone(),
            method: q.method,
            options: q.options.clone(),
            skin: q.skin,
            interval,
            md_timestep: t.md_timestep,
            frame_spacing: t.frame_spacing,
            start: t.start,
            unwrapped,
        })
    }
    /// SHA-256 of the key's JSON.
    pub(crate) fn digest(&self) -> String {
        let text = serde_json::to_string(self).expect("key serializes");
        crate::provenance::sha256_hex(text.as_bytes())
    }
}

/// The JSON beside a cached trajectory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CacheMeta {
    pub key: CacheKey,
    pub digest: String,
    pub trajectory: String,
    pub frames: usize,
    pub frames_read: usize,
    /// ps per timestep of the cached frames' `timestep=` values.
    pub tick_ps: f64,
    pub converged: usize,
    pub force_calls: u64,
    pub species: Vec<String>,
    pub warnings: Vec<String>,
}

/// The cache directory for a trajectory under a policy (`None`: no cache).
pub(crate) fn cache_dir(policy: &CachePolicy, trajectory: &Path) -> Option<PathBuf> {
    match policy {
        CachePolicy::Off => None,
        CachePolicy::Dir(d) => Some(d.clone()),
        CachePolicy::BesideTrajectory => {
            let mut name = trajectory.file_name()?.to_os_string();
            name.push(".pelx-quench");
            Some(trajectory.with_file_name(name))
        }
    }
}

/// The files of a cache entry: (frames, description).
pub(crate) fn cache_files(dir: &Path, digest: &str) -> (PathBuf, PathBuf) {
    let stem = &digest[..16];
    (dir.join(format!("{stem}.extxyz")), dir.join(format!("{stem}.json")))
}

/// A complete cache entry for `key`, if there is one.
pub(crate) fn lookup(dir: &Path, key: &CacheKey) -> Option<(PathBuf, CacheMeta)> {
    let digest = key.digest();
    let (frames, meta) = cache_files(dir, &digest);
    let text = std::fs::read_to_string(&meta).ok()?;
    let m: CacheMeta = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(
                "{}: unreadable quench cache description ({e}); quenching again",
                meta.display()
            );
            return None;
        }
    };
    if m.key != *key || !frames.is_file() {
        return None;
    }
    Some((frames, m))
}

/// A frame after minimization.
pub(crate) struct Quenched {
    pub frame: SelectedFrame,
    pub energy: f64,
    pub fmax: f64,
    pub converged: bool,
    pub force_calls: u64,
}

/// Minimizes a batch of frames in parallel; results in input order. Each frame has its own
/// calculator, so the outcome does not depend on the thread count.
pub(crate) fn quench_batch(batch: Vec<SelectedFrame>, q: &QuenchSpec) -> Result<Vec<Quenched>> {
    batch
        .into_par_iter()
        .map(|mut sf| {
            let mut calc = Calculator::new(q.force_field.clone()).with_skin(q.skin);
            let r = minimize(q.method, &mut sf.frame.structure, &mut calc, &q.options).map_err(|e| {
                Error::invalid(format!(
                    "quench of the frame at line {} (tick {}): {e}",
                    sf.frame.line, sf.tick
                ))
            })?;
            Ok(Quenched {
                frame: sf,
                energy: r.energy,
                fmax: r.fmax,
                converged: r.converged,
                force_calls: r.force_calls,
            })
        })
        .collect()
}

/// Writes the inherent structures of a run into a cache entry, under temporary names until
/// [`CacheWriter::commit`].
pub(crate) struct CacheWriter {
    frames_path: PathBuf,
    meta_path: PathBuf,
    tmp_frames: PathBuf,
    writer: ExtXyzWriter<BufWriter<File>>,
}

impl CacheWriter {
    pub(crate) fn create(dir: &Path, key: &CacheKey) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (frames_path, meta_path) = cache_files(dir, &key.digest());
        let tmp_frames = frames_path.with_extension(format!("extxyz.tmp{}", std::process::id()));
        let f = File::create(&tmp_frames).map_err(|e| Error::io(&tmp_frames, e))?;
        Ok(CacheWriter {
            writer: ExtXyzWriter::new(BufWriter::new(f), &tmp_frames),
            frames_path,
            meta_path,
            tmp_frames,
        })
    }

    pub(crate) fn write(&mut self, q: &Quenched) -> Result<()> {
        let opts = WriteOptions {
            energy: Some(q.energy),
            info: vec![
                ("timestep".to_string(), q.frame.tick.to_string()),
                ("fmax".to_string(), format!("{:e}", q.fmax)),
                ("converged".to_string(), if q.converged { "T" } else { "F" }.to_string()),
            ],
            ..Default::default()
        };
        self.writer.write_frame(&q.frame.frame.structure, &opts)
    }

    /// Flushes the frames and renames both files into place.
    pub(crate) fn commit(self, meta: &CacheMeta) -> Result<PathBuf> {
        self.writer.finish()?;
        std::fs::rename(&self.tmp_frames, &self.frames_path).map_err(|e| Error::io(&self.frames_path, e))?;
        let tmp_meta = self.meta_path.with_extension(format!("json.tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(meta).expect("meta serializes");
        std::fs::write(&tmp_meta, text + "\n").map_err(|e| Error::io(&tmp_meta, e))?;
        std::fs::rename(&tmp_meta, &self.meta_path).map_err(|e| Error::io(&self.meta_path, e))?;
        Ok(self.frames_path)
    }

    /// Removes the temporary file of an entry that will not be completed.
    pub(crate) fn abandon(self) {
        drop(self.writer);
        let _ = std::fs::remove_file(&self.tmp_frames);
    }
}
