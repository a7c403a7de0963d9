//! Events and the JSON-lines event catalog (`../shared/design.md`, "Event catalog").
//!
//! A catalog is a text file with one JSON object per line. The first line is a [`RunRecord`]
//! (pelx version, potential and structure hashes, every parameter, the seed); each further line
//! is the outcome of one search: an [`Event`] (initial minimum → saddle → final minimum) or a
//! [`Failure`] with its reason. Records are appended and flushed one by one in task order, so a
//! killed run loses at most the searches in flight and `--resume` continues it.
//!
//! Schema: `schemas/catalog.schema.json`; the `schema` field of the run record names its
//! version ([`SCHEMA`]).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub mod dedup;
pub mod extract;
pub mod merge;
pub mod stats;

/// Version tag of the catalog format.
pub const SCHEMA: &str = "pelx.catalog/1";

/// One atom's displacement (Å) relative to the initial minimum, for sparse storage.
pub type Displacement = (u32, [f64; 3]);

/// The first line of a catalog: everything needed to reproduce or extend the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub schema: String,
    pub pelx_version: String,
    /// Structure file as given, and the SHA-256 of its content (`Structure::content_hash`).
    pub structure: String,
    pub structure_sha256: String,
    pub natoms: usize,
    /// Force-field description and the SHA-256 of each potential file.
    pub potential: String,
    pub potential_sha256: Vec<String>,
    /// Energy of the initial (relaxed) minimum, eV.
    pub e_initial: f64,
    /// Master seed; every search derives its own stream from (seed, central atom, attempt).
    pub seed: u64,
    /// The search parameters (the ART configuration, serialized).
    pub parameters: serde_json::Value,
    /// The sampling plan: central atoms and attempts per atom.
    pub sampling: serde_json::Value,
    /// How the input structure was prepared (None: used as read, it was already relaxed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_relaxation: Option<InputRelaxation>,
    /// Which part of the task list this catalog holds (`--shard I/N`); absent when whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

impl RunRecord {
    /// The fields in which `other` describes a different campaign: another structure,
    /// potential, pelx version, seed, parameter set, sampling plan or initial minimum (the
    /// file names as typed and, with `ignore_shard`, the shard may differ).
    pub fn differences(&self, other: &RunRecord, ignore_shard: bool) -> Vec<&'static str> {
        let mut d = Vec::new();
        let mut check = |same: bool, name: &'static str| {
            if !same {
                d.push(name);
            }
        };
        check(self.schema == other.schema, "schema");
        check(self.pelx_version == other.pelx_version, "pelx_version");
        check(self.structure_sha256 == other.structure_sha256, "structure_sha256");
        check(self.natoms == other.natoms, "natoms");
        check(self.potential_sha256 == other.potential_sha256, "potential_sha256");
        check(self.e_initial.to_bits() == other.e_initial.to_bits(), "e_initial");
        check(self.seed == other.seed, "seed");
        check(self.parameters == other.parameters, "parameters");
        check(self.sampling == other.sampling, "sampling");
        check(self.input_relaxation == other.input_relaxation, "input_relaxation");
        if !ignore_shard {
            check(self.shard == other.shard, "shard");
        }
        d
    }
}

/// The relaxation applied to an input structure that was not at a minimum.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputRelaxation {
    /// Largest per-atom force before and after, eV/Å.
    pub fmax_before: f64,
    pub fmax_after: f64,
    /// Energy before and after, eV.
    pub energy_before: f64,
    pub energy_after: f64,
    pub force_calls: u64,
    /// Where the relaxed structure (the initial minimum of every search) was written, and
    /// the SHA-256 of its content as read back.
    pub initial_structure: String,
    pub initial_sha256: String,
}

/// Shard `index` (0-based) of `count`: the tasks k with k mod count == index.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether task `k` belongs to this shard.
    pub fn owns(&self, k: u64) -> bool {
        k % self.count as u64 == self.index as u64
    }
}

/// Force calls of one search, split by phase.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallCounts {
    /// Pushes and perpendicular relaxation in the basin.
    pub activation: u64,
    /// Lanczos iterations up to the saddle.
    pub lanczos: u64,
    /// Steps along the mode and perpendicular relaxation near the saddle.
    pub convergence: u64,
    /// Relaxations from the saddle to both minima.
    pub relaxation: u64,
    /// The fresh-Lanczos check of the saddle.
    pub verification: u64,
}

impl CallCounts {
    /// Force calls to reach the saddle (Lanczos included).
    pub fn to_saddle(&self) -> u64 {
        self.activation + self.lanczos + self.convergence
    }
    /// All force calls of the search.
    pub fn total(&self) -> u64 {
        self.to_saddle() + self.relaxation + self.verification
    }
}

/// The independent check of a saddle: a fresh Lanczos from a random start, and a second one
/// with the lowest mode deflated.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct SaddleCheck {
    /// Lowest and second-lowest Hessian eigenvalues, eV/Å^2.
    pub lowest: f64,
    pub second: f64,
    /// |cos| of the angle between the fresh lowest mode and the search's own mode.
    pub overlap: f64,
}

/// Why a search produced no event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// Activation ended without the lowest eigenvalue falling below the threshold.
    NoNegativeMode,
    /// The negative mode was lost during convergence (eigenvalue turned positive).
    ModeLost,
    /// The step limit was reached.
    IterationLimit,
    /// The force at the saddle did not fall below the threshold.
    SaddleNotConverged,
    /// Relaxing over the saddle led back to the initial minimum.
    FinalEqualsInitial,
    /// The minimization to the final minimum did not converge.
    FinalNotRelaxed,
    /// The saddle does not relax back to the initial minimum (only with
    /// `relaxation.require_reconnect`; otherwise such events are kept, flagged `reconnects: false`).
    NotReconnecting,
    /// The force field could not be evaluated (atoms on top of each other, ...), or the energy
    /// ran away.
    PotentialError,
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        write!(f, "{}", s.unwrap_or_else(|| format!("{self:?}")))
    }
}

/// A converged saddle and the minima it connects.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// Position of this search in the campaign's task list (the order of the catalog).
    pub task: u64,
    pub central_atom: usize,
    pub attempt: u32,
    /// The search's own seed (derived from the master seed, central atom and attempt).
    pub seed: u64,
    /// Energies, eV.
    pub e_initial: f64,
    pub e_saddle: f64,
    pub e_final: f64,
    /// Forward barrier E_saddle - E_initial and reverse barrier E_saddle - E_final, eV.
    pub e_fw: f64,
    pub e_rev: f64,
    /// Lowest Hessian eigenvalue at the saddle, eV/Å^2.
    pub eigenvalue: f64,
    /// Largest per-atom force at the saddle, eV/Å.
    pub saddle_fmax: f64,
    /// Largest minimum-image displacement between initial and final minima, Å.
    pub max_displacement: f64,
    /// Atoms displaced by more than the run's `moved_threshold` (Å) between the minima.
    pub n_moved: usize,
    /// Whether relaxing from the saddle the other way leads back to the initial minimum.
    pub reconnects: bool,
    /// Saddle checked: fmax below threshold, one negative eigenvalue from a fresh Lanczos
    /// run, one side relaxes to the initial minimum and the other to a different one.
    pub verified: bool,
    /// Force calls to reach the saddle (Lanczos included) and for the whole search.
    pub force_calls_saddle: u64,
    pub force_calls_total: u64,
    /// The same force calls split by phase.
    #[serde(default)]
    pub calls: CallCounts,
    /// The fresh-Lanczos check of the saddle (absent when verification was off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<SaddleCheck>,
    /// Sparse displacements of the saddle and of the final minimum from the initial minimum.
    pub saddle_displacements: Vec<Displacement>,
    pub final_displacements: Vec<Displacement>,
    /// For an event that does not reconnect, the minimum on the other side of the saddle
    /// (absent when that side leads back to the initial minimum or did not converge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_minimum: Option<OtherMinimum>,
    /// Free-form flags: `"escaped_higher_order_saddle"` when the search first converged on a
    /// point with two negative eigenvalues and stepped down its second mode (ART
    /// `max_escapes`); others may follow (e.g. after an NEB check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// The minimum on the other side of a saddle that does not reconnect: often a near-degenerate
/// neighbour of the initial minimum that the search slipped into on its way up.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct OtherMinimum {
    /// Its energy, eV.
    pub energy: f64,
    /// Its largest minimum-image displacement from the initial minimum, Å.
    pub max_displacement: f64,
}

/// A search that ended without an event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub task: u64,
    pub central_atom: usize,
    pub attempt: u32,
    pub seed: u64,
    pub reason: FailureReason,
    /// Human-readable detail (the last eigenvalue, the step count, the error text).
    pub detail: String,
    pub force_calls_total: u64,
    /// The same force calls split by phase.
    #[serde(default)]
    pub calls: CallCounts,
}

/// One line of a catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Run(Box<RunRecord>),
    Event(Box<Event>),
    Failure(Failure),
}

impl Record {
    /// The task index of a search record (None for the run record).
    pub fn task(&self) -> Option<u64> {
        match self {
            Record::Run(_) => None,
            Record::Event(e) => Some(e.task),
            Record::Failure(f) => Some(f.task),
        }
    }
}

/// A catalog read into memory.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub path: PathBuf,
    pub run: RunRecord,
    pub events: Vec<Event>,
    pub failures: Vec<Failure>,
    /// True when the last line was cut short (a killed run) and was ignored.
    pub truncated_tail: bool,
}

/// A catalog's records with the exact text of each line (for merging without re-serializing).
#[derive(Debug, Clone)]
pub struct RawCatalog {
    pub run: RunRecord,
    /// Every search record and its line, in file order.
    pub records: Vec<(Record, String)>,
    /// True when an unterminated last line was ignored.
    pub truncated_tail: bool,
}

impl RawCatalog {
    /// Reads a catalog. Only newline-terminated lines count: an unterminated last line (a run
    /// killed mid-write) is ignored with a warning, exactly the part that
    /// [`CatalogWriter::append_to`] cuts off. Any other malformed line is an error naming its
    /// line number.
    pub fn read(path: &Path) -> Result<RawCatalog> {
        let mut records = Vec::new();
        let (run, truncated_tail) = Self::visit(path, |rec, line| {
            records.push((rec, line.to_string()));
            Ok(())
        })?;
        Ok(RawCatalog {
            run,
            records,
            truncated_tail,
        })
    }

    /// Streams a catalog: checks it as [`RawCatalog::read`] does and hands each search record
    /// and its line to `each`, holding one line at a time (a week's campaign writes gigabytes).
    /// Returns the run record and whether an unterminated last line was ignored.
    pub fn visit(path: &Path, mut each: impl FnMut(Record, &str) -> Result<()>) -> Result<(RunRecord, bool)> {
        use std::io::BufRead;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut run = None;
        let mut searches = 0usize;
        let mut buf = String::new();
        let mut lineno = 0;
        let mut truncated_tail = false;
        loop {
            buf.clear();
            let n = reader.read_line(&mut buf).map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidData => Error::parse(path, lineno + 1, "catalog is not UTF-8 text"),
                _ => Error::io(path, e),
            })?;
            if n == 0 {
                break;
            }
            lineno += 1;
            let Some(line) = buf.strip_suffix('\n') else {
                truncated_tail = !buf.trim().is_empty();
                break;
            };
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let rec: Record = serde_json::from_str(line)
                .map_err(|e| Error::parse(path, lineno, format!("not a catalog record: {e}")))?;
            match rec {
                Record::Run(r) if run.is_none() && searches == 0 => {
                    if r.schema != SCHEMA {
                        return Err(Error::parse(
                            path,
                            lineno,
                            format!("catalog schema {} is not the supported {SCHEMA}", r.schema),
                        ));
                    }
                    run = Some(*r);
                }
                Record::Run(_) => return Err(Error::parse(path, lineno, "a second run record inside the catalog")),
                _ if run.is_none() => return Err(Error::parse(path, lineno, "the first line must be the run record")),
                rec => {
                    searches += 1;
                    each(rec, line)?;
                }
            }
        }
        if truncated_tail {
            tracing::warn!("{}: incomplete last record ignored (interrupted run)", path.display());
        }
        let run = run.ok_or_else(|| Error::parse(path, 0, "catalog is empty (no run record)"))?;
        Ok((run, truncated_tail))
    }
}

impl Catalog {
    /// Reads a catalog (see [`RawCatalog::read`] for what counts as a record).
    pub fn read(path: &Path) -> Result<Catalog> {
        let raw = RawCatalog::read(path)?;
        let mut events = Vec::new();
        let mut failures = Vec::new();
        for (rec, _) in raw.records {
            match rec {
                Record::Event(e) => events.push(*e),
                Record::Failure(f) => failures.push(f),
                Record::Run(_) => unreachable!("run records are rejected by RawCatalog::read"),
            }
        }
        Ok(Catalog {
            path: path.to_path_buf(),
            run: raw.run,
            events,
            failures,
            truncated_tail: raw.truncated_tail,
        })
    }

    /// Number of search records.
    pub fn searches(&self) -> usize {
        self.events.len() + self.failures.len()
    }

    /// The task indices present, ascending.
    pub fn tasks(&self) -> Vec<u64> {
        let mut t: Vec<u64> = self
            .events
            .iter()
            .map(|e| e.task)
            .chain(self.failures.iter().map(|f| f.task))
            .collect();
        t.sort_unstable();
        t
    }
}

/// Appends records to a catalog file. Each record goes out as one `write` of its line and the
/// newline, unbuffered, so that a killed run leaves at most one unterminated line.
#[derive(Debug)]
pub struct CatalogWriter {
    path: PathBuf,
    out: std::fs::File,
}

impl CatalogWriter {
    /// Creates (or truncates) a catalog and writes its run record.
    pub fn create(path: &Path, run: &RunRecord) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = CatalogWriter {
            path: path.to_path_buf(),
            out: file,
        };
        w.append(&Record::Run(Box::new(run.clone())))?;
        Ok(w)
    }

    /// Opens an existing catalog for appending (after `--resume` has read it). An unterminated
    /// last line is cut off first so that the file stays valid JSON lines.
    pub fn append_to(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.set_len(keep as u64).map_err(|e| Error::io(path, e))?;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0)).map_err(|e| Error::io(path, e))?;
        Ok(CatalogWriter {
            path: path.to_path_buf(),
            out: file,
        })
    }

    /// Appends one record.
    pub fn append(&mut self, rec: &Record) -> Result<()> {
        let line = serde_json::to_string(rec).map_err(|e| Error::invalid(format!("serializing a record: {e}")))?;
        self.append_line(&line)
    }

    /// Appends one line of JSON text as it is (a record copied from another catalog).
    pub fn append_line(&mut self, line: &str) -> Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.out.write_all(&buf).map_err(|e| Error::io(&self.path, e))
    }
}

/// Sparse form of a displacement field: atoms moved by more than `cutoff` Å.
pub fn sparse_displacements(d: &[[f64; 3]], cutoff: f64) -> Vec<Displacement> {
    let c2 = cutoff * cutoff;
    d.iter()
        .enumerate()
        .filter(|(_, v)| v[0] * v[0] + v[1] * v[1] + v[2] * v[2] > c2)
        .map(|(i, v)| (i as u32, *v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunRecord {
        RunRecord {
            schema: SCHEMA.into(),
            pelx_version: "test".into(),
            structure: "s.extxyz".into(),
            structure_sha256: "ab".into(),
            natoms: 3,
            potential: "eam/fs x".into(),
            potential_sha256: vec!["cd".into()],
            e_initial: -10.0,
            seed: 7,
            parameters: serde_json::json!({"a": 1}),
            sampling: serde_json::json!({"per_atom": 1}),
            input_relaxation: None,
            shard: None,
        }
    }

    fn failure(task: u64) -> Record {
        Record::Failure(Failure {
            task,
            central_atom: 1,
            attempt: 0,
            seed: 9,
            reason: FailureReason::NoNegativeMode,
            detail: "lambda 0.3".into(),
            force_calls_total: 100,
            calls: CallCounts {
                activation: 100,
                ..Default::default()
            },
        })
    }

    #[test]
    fn write_read_round_trip_and_truncated_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let mut w = CatalogWriter::create(&p, &run()).unwrap();
        w.append(&failure(0)).unwrap();
        w.append(&failure(1)).unwrap();
        drop(w);
        let c = Catalog::read(&p).unwrap();
        assert_eq!(c.run, run());
        assert_eq!(c.failures.len(), 2);
        // A killed writer leaves half a line: reading drops it, appending cuts it off.
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("{\"type\":\"failure\",\"task\":2,");
        std::fs::write(&p, &text).unwrap();
        let c = Catalog::read(&p).unwrap();
        assert!(c.truncated_tail);
        assert_eq!(c.failures.len(), 2);
        let mut w = CatalogWriter::append_to(&p).unwrap();
        w.append(&failure(2)).unwrap();
        drop(w);
        let c = Catalog::read(&p).unwrap();
        assert!(!c.truncated_tail);
        assert_eq!(c.failures.iter().map(|f| f.task).collect::<Vec<_>>(), vec![0, 1, 2]);
    }

    #[test]
    fn malformed_line_names_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        let mut w = CatalogWriter::create(&p, &run()).unwrap();
        w.append(&failure(0)).unwrap();
        drop(w);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("not json\n");
        text.push_str(&serde_json::to_string(&failure(1)).unwrap());
        text.push('\n');
        std::fs::write(&p, text).unwrap();
        let e = Catalog::read(&p).unwrap_err().to_string();
        assert!(e.contains(":3:"), "{e}");
    }

    #[test]
    fn empty_catalog_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.jsonl");
        std::fs::write(&p, "").unwrap();
        assert!(Catalog::read(&p).unwrap_err().to_string().contains("empty"));
    }
}
