//! ART campaigns: many searches around chosen central atoms, run on every core, written to a
//! JSON-lines catalog in task order.
//!
//! - **Tasks.** The selected central atoms (indices into the structure, 0-based) and the
//!   sampling plan make a task list: task k has central atom `selected[k mod n]` and attempt
//!   `k div n`, so every atom gets its first search before any gets a second one. Each search
//!   draws its random numbers from a seed derived from (master seed, central atom, attempt)
//!   alone ([`search_seed`]).
//! - **Determinism.** Every search starts from a clone of one calculator template (no
//!   neighbour list yet), so its outcome does not depend on which thread ran it or what ran
//!   before; records are written by one thread in task order through a reorder buffer. Same
//!   seed, same catalog, byte for byte, whatever the thread count.
//! - **Resume.** A catalog's records are the tasks done; `--resume` checks that the run record
//!   matches and appends the others. An unterminated last line (a killed run) is cut off.
//! - **Shards.** `--shard I/N` keeps the tasks k with k mod N = I - 1; `pelx catalog merge`
//!   joins the shards into the catalog of an unsharded run.

use super::art::{search, ArtConfig, FoundEvent, InitialMinimum, SearchOutcome};
use crate::catalog::{
    sparse_displacements, CatalogWriter, Event, Failure, FailureReason, InputRelaxation, OtherMinimum, RawCatalog,
    Record, RunRecord, Shard,
};
use crate::minimize::{minimize, MinimizeOptions};
use crate::potential::{fmax, Calculator};
use crate::structure::Structure;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The catalog flag of an event whose search stepped down from a higher-order saddle first.
pub const ESCAPED_FLAG: &str = "escaped_higher_order_saddle";

/// How many searches to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// This many searches with every selected atom as the central atom.
    PerAtom(u32),
    /// This many searches in all, spread over the selected atoms in turn.
    Total(u64),
}

impl Sampling {
    /// Number of tasks for `n_atoms` selected atoms.
    pub fn tasks(&self, n_atoms: usize) -> u64 {
        match *self {
            Sampling::PerAtom(k) => k as u64 * n_atoms as u64,
            Sampling::Total(k) => k,
        }
    }
}

impl FromStr for Sampling {
    type Err = Error;
    /// Parses "100 per atom", "100 per-atom", "100 per_atom", "100/atom", "100 total" or "100"
    /// (total).
    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid(format!(
                "sample '{text}': expected 'N per atom' (also 'N per-atom', 'N/atom') or 'N total'"
            ))
        };
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, rest) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| bad())?;
        let unit: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
        let s = match unit.as_str() {
            "peratom" | "per-atom" | "per_atom" | "/atom" => Sampling::PerAtom(
                u32::try_from(n).map_err(|_| Error::invalid(format!("sample '{text}' is too large")))?,
            ),
            "total" | "" => Sampling::Total(n),
            _ => return Err(bad()),
        };
        if n == 0 {
            return Err(Error::invalid(format!(
                "sample '{text}': the number of searches must be at least 1"
            )));
        }
        Ok(s)
    }
}

/// Which atoms may be central atoms: comma-separated 0-based indices, inclusive ranges `a-b`
/// and species names, or `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomSelection {
    text: String,
    items: Vec<SelItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SelItem {
    All,
    Range(usize, usize),
    Species(String),
}

impl FromStr for AtomSelection {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        let mut items = Vec::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(Error::invalid(format!("atom selection '{text}' has an empty item")));
            }
            let item = if part.eq_ignore_ascii_case("all") {
                SelItem::All
            } else if part.starts_with(|c: char| c.is_ascii_digit()) {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                let parse = |v: &str| {
                    v.trim().parse::<usize>().map_err(|_| {
                        Error::invalid(format!(
                            "atom selection: '{part}' is neither an index, a range a-b nor a species"
                        ))
                    })
                };
                let (a, b) = (parse(a)?, parse(b)?);
                if b < a {
                    return Err(Error::invalid(format!("atom selection: range '{part}' is empty")));
                }
                SelItem::Range(a, b)
            } else if part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                SelItem::Species(part.to_string())
            } else {
                return Err(Error::invalid(format!(
                    "atom selection: '{part}' is neither an index, a range a-b nor a species"
                )));
            };
            items.push(item);
        }
        Ok(AtomSelection {
            text: text.trim().to_string(),
            items,
        })
    }
}

impl Default for AtomSelection {
    fn default() -> Self {
        AtomSelection {
            text: "all".into(),
            items: vec![SelItem::All],
        }
    }
}

impl std::fmt::Display for AtomSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl AtomSelection {
    /// The selected atom indices of `s`, ascending, each once. Indices beyond the structure,
    /// unknown species and an empty selection are errors.
    pub fn select(&self, s: &Structure) -> Result<Vec<usize>> {
        let mut keep = vec![false; s.len()];
        for item in &self.items {
            match item {
                SelItem::All => keep.iter_mut().for_each(|k| *k = true),
                SelItem::Range(a, b) => {
                    if *b >= s.len() {
                        return Err(Error::invalid(format!(
                            "atom selection '{}': index {b} is beyond the last atom ({}; indices start at 0)",
                            self.text,
                            s.len() - 1
                        )));
                    }
                    keep[*a..=*b].iter_mut().for_each(|k| *k = true);
                }
                SelItem::Species(name) => {
                    let t = s.species.iter().position(|x| x == name).ok_or_else(|| {
                        Error::invalid(format!(
                            "atom selection '{}': no species {name} in the structure (it has {})",
                            self.text,
                            s.species.join(", ")
                        ))
                    })?;
                    for (k, ty) in keep.iter_mut().zip(&s.types) {
                        if *ty == t {
                            *k = true;
                        }
                    }
                }
            }
        }
        let sel: Vec<usize> = (0..s.len()).filter(|&i| keep[i]).collect();
        if sel.is_empty() {
            return Err(Error::invalid(format!(
                "atom selection '{}' selects no atom",
                self.text
            )));
        }
        Ok(sel)
    }
}

/// Parses `I/N` (1-based shard index) into a [`Shard`].
pub fn parse_shard(text: &str) -> Result<Shard> {
    let bad = || Error::invalid(format!("shard '{text}': expected I/N with 1 <= I <= N"));
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok(Shard { index: i - 1, count: n })
}

/// One search of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// Position in the campaign's task list (the catalog order).
    pub index: u64,
    pub central: usize,
    pub attempt: u32,
    /// The search's own random seed.
    pub seed: u64,
}

/// The seed of the search with this central atom and attempt: the first 8 bytes of
/// SHA-256("pelx-art", master, central, attempt), little endian.
pub fn search_seed(master: u64, central: usize, attempt: u32) -> u64 {
    let mut bytes = b"pelx-art".to_vec();
    bytes.extend_from_slice(&master.to_le_bytes());
    bytes.extend_from_slice(&(central as u64).to_le_bytes());
    bytes.extend_from_slice(&attempt.to_le_bytes());
    use sha2::Digest;
    let d = sha2::Sha256::digest(&bytes);
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The task list of a campaign (all shards), in catalog order.
pub fn task_list(selected: &[usize], sampling: Sampling, master_seed: u64) -> Vec<Task> {
    let n = selected.len() as u64;
    (0..sampling.tasks(selected.len()))
        .map(|k| {
            let central = selected[(k % n) as usize];
            let attempt = (k / n) as u32;
            Task {
                index: k,
                central,
                attempt,
                seed: search_seed(master_seed, central, attempt),
            }
        })
        .collect()
}

/// The plan of a campaign as recorded in the run record's `sampling` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingRecord {
    pub sampling: Sampling,
    /// The atom selection as given, and how many atoms it selected.
    pub atoms: String,
    pub selected_atoms: usize,
    /// Tasks of the whole campaign (all shards).
    pub tasks: u64,
}

/// Prepares the initial minimum: checks the starting structure's largest force and, above
/// `cfg.input.max_fmax`, relaxes it (or refuses when `allow_relax` is false). A relaxed
/// structure is written to `relaxed_path` (recorded by file name: keep it beside the catalog)
/// and read back, so that the catalog's initial minimum is a file others can load
/// (`pelx catalog extract`).
pub fn prepare_initial(
    s: Structure,
    calc: &mut Calculator,
    cfg: &ArtConfig,
    allow_relax: bool,
    relaxed_path: &Path,
) -> Result<(InitialMinimum, Option<InputRelaxation>)> {
    let (e, f) = calc.energy_forces(&s)?;
    let fm = fmax(&f);
    if fm <= cfg.input.max_fmax {
        return Ok((
            InitialMinimum {
                structure: s,
                energy: e,
                free: None,
            },
            None,
        ));
    }
    if !allow_relax {
        return Err(Error::invalid(format!(
            "the starting structure is not a minimum: its largest force is {fm:.3e} eV/Å, above {:.1e} \
             (input.max_fmax); relax it first (pelx relax), or drop --no-relax to let pelx art do it",
            cfg.input.max_fmax
        )));
    }
    tracing::warn!(
        "the starting structure is not a minimum (fmax {fm:.3e} eV/Å > {:.1e}): relaxing it to {:.1e} first",
        cfg.input.max_fmax,
        cfg.input.relax_fmax
    );
    let mut r = s.clone();
    let opts = MinimizeOptions {
        fmax: cfg.input.relax_fmax,
        max_iterations: 100_000,
        max_force_calls: 1_000_000,
        max_step: cfg.relaxation.max_atom_step,
        stall_iterations: 1000,
        ..MinimizeOptions::default()
    };
    let before = calc.calls();
    let res = minimize(cfg.input.method, &mut r, calc, &opts)?;
    if !res.converged {
        return Err(Error::invalid(format!(
            "relaxing the starting structure stopped at fmax {:.3e} eV/Å ({:?}) before {:.1e}",
            res.fmax, res.termination, cfg.input.relax_fmax
        )));
    }
    let (e_after, _) = calc.energy_forces(&r)?;
    // Written under a temporary name and renamed, so that shards of one campaign started at
    // once (a job array) never read a half-written file.
    let tmp = relaxed_path.with_extension(format!("tmp{}", std::process::id()));
    crate::structure::io::write_structure(
        &tmp,
        &r,
        Some(crate::structure::io::Format::ExtXyz),
        &crate::structure::io::WriteOptions {
            energy: Some(e_after),
            ..Default::default()
        },
    )?;
    std::fs::rename(&tmp, relaxed_path).map_err(|e| Error::io(relaxed_path, e))?;
    let back = crate::structure::io::read_structure(relaxed_path, &Default::default())?;
    let (e_back, f_back) = calc.energy_forces(&back)?;
    tracing::info!(
        "relaxed starting structure written to {} (E = {e_back:.6} eV, fmax {:.2e} eV/Å)",
        relaxed_path.display(),
        fmax(&f_back)
    );
    let info = InputRelaxation {
        fmax_before: fm,
        fmax_after: fmax(&f_back),
        energy_before: e,
        energy_after: e_back,
        force_calls: calc.calls() - before,
        initial_structure: relaxed_path.file_name().map_or_else(
            || relaxed_path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        initial_sha256: back.content_hash(),
    };
    Ok((
        InitialMinimum {
            structure: back,
            energy: e_back,
            free: None,
        },
        Some(info),
    ))
}

/// Everything a campaign needs: the initial minimum, the parameters, its run record and the
/// tasks of this shard.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub init: InitialMinimum,
    pub cfg: ArtConfig,
    pub run: RunRecord,
    pub tasks: Vec<Task>,
}

impl Campaign {
    /// Builds the task list and checks the plan. `run` is the run record (its `e_initial`,
    /// `parameters`, `seed`, `sampling` and `shard` fields are filled in here).
    pub fn new(
        init: InitialMinimum,
        cfg: ArtConfig,
        mut run: RunRecord,
        selection: &AtomSelection,
        sampling: Sampling,
        seed: u64,
        shard: Option<Shard>,
    ) -> Result<Campaign> {
        cfg.validate()?;
        let selected = selection.select(&init.structure)?;
        let all = task_list(&selected, sampling, seed);
        let tasks: Vec<Task> = match shard {
            Some(s) => all.into_iter().filter(|t| s.owns(t.index)).collect(),
            None => all,
        };
        run.natoms = init.structure.len();
        run.e_initial = init.energy;
        run.seed = seed;
        run.parameters =
            serde_json::to_value(&cfg).map_err(|e| Error::invalid(format!("serializing the parameters: {e}")))?;
        run.sampling = serde_json::to_value(SamplingRecord {
            sampling,
            atoms: selection.to_string(),
            selected_atoms: selected.len(),
            tasks: sampling.tasks(selected.len()),
        })
        .map_err(|e| Error::invalid(format!("serializing the sampling plan: {e}")))?;
        run.shard = shard;
        Ok(Campaign { init, cfg, run, tasks })
    }
}

/// Whether to start a new catalog or continue one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Create (or overwrite) the catalog.
    Create,
    /// Continue an existing catalog of the same campaign.
    Resume,
}

/// What a campaign run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignSummary {
    /// Tasks of this run (this shard), already present when resuming, and run now.
    pub tasks: usize,
    pub already_done: usize,
    pub searches: usize,
    pub events: usize,
    pub verified: usize,
    pub failures: BTreeMap<FailureReason, usize>,
    pub force_calls: u64,
    pub threads: usize,
    pub wall_seconds: f64,
    pub searches_per_second: f64,
    pub events_per_second: f64,
}

/// Runs the campaign's tasks (those not yet in the catalog when resuming) on `threads` worker
/// threads (0: rayon's default), each search with a clone of `template`, and writes each
/// record in task order as soon as every earlier one is written. `on_record` sees every record
/// written (for a progress bar).
pub fn run_campaign(
    c: &Campaign,
    template: &Calculator,
    catalog: &Path,
    mode: OutputMode,
    threads: usize,
    on_record: &mut dyn FnMut(&Record),
) -> Result<CampaignSummary> {
    let start = std::time::Instant::now();
    let (mut writer, done) = match mode {
        OutputMode::Create => (CatalogWriter::create(catalog, &c.run)?, HashSet::new()),
        OutputMode::Resume => {
            // Streamed: only the task numbers are kept, not the records.
            let mut tasks = Vec::new();
            let (run, _) = RawCatalog::visit(catalog, |rec, _| {
                tasks.push(rec.task().expect("search records have a task"));
                Ok(())
            })?;
            let diff = run.differences(&c.run, false);
            if !diff.is_empty() {
                return Err(Error::invalid(format!(
                    "--resume: {} is not a catalog of this campaign (different {}); start a new catalog \
                     or give the same structure, potential, parameters, seed, sampling and shard",
                    catalog.display(),
                    diff.join(", ")
                )));
            }
            let planned: HashSet<u64> = c.tasks.iter().map(|t| t.index).collect();
            let mut done = HashSet::new();
            for t in tasks {
                if !planned.contains(&t) || !done.insert(t) {
                    return Err(Error::invalid(format!(
                        "--resume: {} holds task {t} twice or outside this campaign's task list",
                        catalog.display()
                    )));
                }
            }
            (CatalogWriter::append_to(catalog)?, done)
        }
    };
    let todo: Vec<Task> = c.tasks.iter().filter(|t| !done.contains(&t.index)).copied().collect();
    // More threads than searches would only idle (and cost their start-up).
    let threads = if threads == 0 {
        0
    } else {
        threads.min(todo.len().max(1))
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::invalid(format!("cannot start the worker threads: {e}")))?;
    let n_threads = pool.current_num_threads();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Record)>();
    let mut summary = CampaignSummary {
        tasks: c.tasks.len(),
        already_done: done.len(),
        searches: 0,
        events: 0,
        verified: 0,
        failures: BTreeMap::new(),
        force_calls: 0,
        threads: n_threads,
        wall_seconds: 0.0,
        searches_per_second: 0.0,
        events_per_second: 0.0,
    };
    let mut write_result = Ok(());
    std::thread::scope(|scope| {
        let tx = tx;
        let (todo, next, stop) = (&todo, &next, &stop);
        scope.spawn(move || {
            pool.broadcast(|_| loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(task) = todo.get(k) else { break };
                let mut calc = template.clone();
                let outcome = search(&c.init, &c.cfg, &mut calc, task.central, task.seed);
                let rec = to_record(task, outcome, &c.init, &c.cfg);
                if tx.send((k, rec)).is_err() {
                    break;
                }
            });
        });
        let mut pending: BTreeMap<usize, Record> = BTreeMap::new();
        let mut next_write = 0usize;
        for (k, rec) in rx.iter() {
            pending.insert(k, rec);
            while let Some(rec) = pending.remove(&next_write) {
                if let Err(e) = writer.append(&rec) {
                    write_result = Err(e);
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
                tally(&mut summary, &rec);
                on_record(&rec);
                next_write += 1;
            }
        }
    });
    write_result?;
    let secs = start.elapsed().as_secs_f64();
    summary.wall_seconds = secs;
    summary.searches_per_second = summary.searches as f64 / secs.max(1e-9);
    summary.events_per_second = summary.events as f64 / secs.max(1e-9);
    Ok(summary)
}

fn tally(s: &mut CampaignSummary, rec: &Record) {
    s.searches += 1;
    match rec {
        Record::Event(e) => {
            s.events += 1;
            s.verified += e.verified as usize;
            s.force_calls += e.force_calls_total;
        }
        Record::Failure(f) => {
            *s.failures.entry(f.reason.clone()).or_insert(0) += 1;
            s.force_calls += f.force_calls_total;
        }
        Record::Run(_) => {}
    }
}

/// The catalog record of a search's outcome.
pub fn to_record(task: &Task, outcome: SearchOutcome, init: &InitialMinimum, cfg: &ArtConfig) -> Record {
    match outcome {
        SearchOutcome::Event(ev) => Record::Event(Box::new(event_record(task, &ev, init, cfg))),
        SearchOutcome::Failure(f) => Record::Failure(Failure {
            task: task.index,
            central_atom: task.central,
            attempt: task.attempt,
            seed: task.seed,
            reason: f.reason,
            detail: f.detail,
            force_calls_total: f.calls.total(),
            calls: f.calls,
        }),
    }
}

fn event_record(task: &Task, ev: &FoundEvent, init: &InitialMinimum, cfg: &ArtConfig) -> Event {
    let x0 = &init.structure.positions;
    let diff = |p: &[[f64; 3]]| -> Vec<[f64; 3]> {
        p.iter()
            .zip(x0)
            .map(|(a, b)| [a[0] - b[0], a[1] - b[1], a[2] - b[2]])
            .collect()
    };
    let scale = 10f64.powi(cfg.catalog.displacement_decimals as i32);
    let sparse = |d: &[[f64; 3]]| {
        let mut s = sparse_displacements(d, cfg.catalog.displacement_cutoff);
        for (_, v) in s.iter_mut() {
            for x in v.iter_mut() {
                *x = (*x * scale).round() / scale;
            }
        }
        s
    };
    let d_sad = diff(&ev.saddle);
    let d_fin = diff(&ev.final_positions);
    let norm = |v: &[f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let max_displacement = d_fin.iter().map(norm).fold(0.0, f64::max);
    let n_moved = d_fin.iter().filter(|v| norm(v) > cfg.catalog.moved_threshold).count();
    Event {
        task: task.index,
        central_atom: task.central,
        attempt: task.attempt,
        seed: task.seed,
        e_initial: init.energy,
        e_saddle: ev.e_saddle,
        e_final: ev.e_final,
        e_fw: ev.e_saddle - init.energy,
        e_rev: ev.e_saddle - ev.e_final,
        eigenvalue: ev.eigenvalue,
        saddle_fmax: ev.saddle_fmax,
        max_displacement,
        n_moved,
        reconnects: ev.reconnects,
        verified: ev.verified,
        force_calls_saddle: ev.calls.to_saddle(),
        force_calls_total: ev.calls.total(),
        calls: ev.calls,
        check: ev.check,
        saddle_displacements: sparse(&d_sad),
        final_displacements: sparse(&d_fin),
        other_minimum: ev.other.as_ref().map(|o| OtherMinimum {
            energy: o.energy,
            max_displacement: diff(&o.positions).iter().map(norm).fold(0.0, f64::max),
        }),
        flags: if ev.escapes > 0 {
            vec![ESCAPED_FLAG.to_string()]
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::{Cell, Structure};

    #[test]
    fn sampling_accepts_the_users_words() {
        for t in [
            "100 per atom",
            "100 per-atom",
            "100/atom",
            "100 /atom",
            "100 per_atom",
            " 100  PER  ATOM ",
        ] {
            assert_eq!(t.parse::<Sampling>().unwrap(), Sampling::PerAtom(100), "{t}");
        }
        assert_eq!("500 total".parse::<Sampling>().unwrap(), Sampling::Total(500));
        assert_eq!("500".parse::<Sampling>().unwrap(), Sampling::Total(500));
        for t in ["0 per atom", "0 total"] {
            assert!(
                t.parse::<Sampling>().unwrap_err().to_string().contains("at least 1"),
                "{t}"
            );
        }
        for t in ["per atom", "10 per molecule", "-3 total", "ten total"] {
            assert!(
                t.parse::<Sampling>().unwrap_err().to_string().contains("expected"),
                "{t}"
            );
        }
    }

    fn three_species() -> Structure {
        let c = Cell::orthorhombic(10.0, 10.0, 10.0).unwrap();
        let pos = (0..6).map(|i| [i as f64, 0.0, 0.0]).collect();
        Structure::from_symbols(c, &["Cu", "Zr", "Cu", "Al", "Zr", "Cu"], pos).unwrap()
    }

    #[test]
    fn atom_selection_by_index_range_and_species() {
        let s = three_species();
        let sel = |t: &str| t.parse::<AtomSelection>().and_then(|a| a.select(&s));
        assert_eq!(sel("all").unwrap(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(sel("1-3").unwrap(), vec![1, 2, 3]);
        assert_eq!(sel("Zr").unwrap(), vec![1, 4]);
        assert_eq!(sel("Al, 0, 4-5").unwrap(), vec![0, 3, 4, 5]);
        assert!(sel("6").unwrap_err().to_string().contains("beyond the last atom"));
        assert!(sel("Ni").unwrap_err().to_string().contains("no species Ni"));
        assert!(sel("3-1").unwrap_err().to_string().contains("empty"));
        assert!(sel("1,,2").unwrap_err().to_string().contains("empty item"));
        assert!(sel("x-y?").unwrap_err().to_string().contains("neither"));
    }

    #[test]
    fn tasks_visit_every_atom_before_a_second_attempt() {
        let t = task_list(&[2, 5, 7], Sampling::PerAtom(2), 42);
        let pairs: Vec<(usize, u32)> = t.iter().map(|t| (t.central, t.attempt)).collect();
        assert_eq!(pairs, vec![(2, 0), (5, 0), (7, 0), (2, 1), (5, 1), (7, 1)]);
        assert_eq!(t[4].seed, search_seed(42, 5, 1));
        assert_ne!(search_seed(42, 5, 1), search_seed(42, 1, 5));
        assert_ne!(search_seed(42, 5, 1), search_seed(43, 5, 1));
        assert_eq!(task_list(&[2, 5, 7], Sampling::Total(4), 42).len(), 4);
    }

    #[test]
    fn shards_partition_the_tasks() {
        let s = parse_shard("2/3").unwrap();
        assert_eq!((s.index, s.count), (1, 3));
        let owned: Vec<u64> = (0..9).filter(|&k| s.owns(k)).collect();
        assert_eq!(owned, vec![1, 4, 7]);
        for bad in ["0/3", "4/3", "1/0", "a/b", "3"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
