//! Several catalogs read as one data set (shards of a campaign, or campaigns from several
//! starting structures), with the checks that make combining them meaningful: one system
//! (same potential, same number of atoms), no search counted twice, and, where the analysis
//! needs one sample, one starting structure.

use crate::catalog::{Catalog, Displacement, Event};
use crate::provenance::file_sha256;
use crate::structure::io::{read_structure, ReadOptions};
use crate::structure::Structure;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What a set of catalogs may combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// Catalogs may start from different structures (a network over several samples).
    pub several_structures: bool,
    /// Skip the consistency checks (different potentials or atom counts, the same search in
    /// two catalogs, several structures where one is expected): the user knows better.
    pub force: bool,
}

/// An event's place in a [`CatalogSet`]: the catalog (0-based, in the order given) and the
/// event's task number in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventId {
    pub catalog: usize,
    pub task: u64,
}

/// A starting structure (the initial minimum of one or more catalogs).
#[derive(Debug, Clone)]
pub struct Origin {
    /// `structure_sha256` of its catalogs' run records.
    pub structure_sha256: String,
    /// The structure file as the first of its catalogs recorded it.
    pub structure_path: String,
    /// Energy of the minimum, eV.
    pub e_initial: f64,
    pub natoms: usize,
    /// Catalogs starting here (indices into [`CatalogSet::catalogs`]).
    pub catalogs: Vec<usize>,
    /// The structure itself, once found ([`CatalogSet::locate_structures`]).
    pub structure: Option<Structure>,
}

/// One input catalog as the output files describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSummary {
    pub path: String,
    pub sha256: String,
    pub structure: String,
    pub structure_sha256: String,
    pub natoms: usize,
    pub potential: String,
    pub seed: u64,
    pub events: usize,
    pub failures: usize,
    /// The last line was cut short (an interrupted run) and ignored.
    pub truncated_tail: bool,
}

/// Catalogs read together.
#[derive(Debug, Clone)]
pub struct CatalogSet {
    pub catalogs: Vec<Catalog>,
    /// SHA-256 of each catalog file.
    pub file_sha256: Vec<String>,
    /// Distinct starting structures, in order of first appearance.
    pub origins: Vec<Origin>,
    /// Origin of each catalog.
    pub origin_of: Vec<usize>,
}

const FORCE_HINT: &str = "pass --force to combine them anyway";

impl CatalogSet {
    /// Reads and checks catalogs. Errors: no path; a catalog that cannot be read; two files
    /// with the same content, two catalogs holding the same search (same starting structure,
    /// seed and task: overlapping shards), different potentials or atom counts, different
    /// starting structures when `opts.several_structures` is off (all four unless
    /// `opts.force`); no event at all in the set.
    pub fn read(paths: &[PathBuf], opts: &SetOptions) -> Result<CatalogSet> {
        if paths.is_empty() {
            return Err(Error::invalid("no catalog given"));
        }
        let mut catalogs = Vec::with_capacity(paths.len());
        let mut hashes = Vec::with_capacity(paths.len());
        for p in paths {
            // A `pelx rearrangements` file reads as a catalog of its converged paths.
            let c = crate::rearrange::read_as_catalog(p)?;
            check_events(&c)?;
            catalogs.push(c);
            hashes.push(file_sha256(p)?);
        }
        Self::from_catalogs(catalogs, hashes, opts)
    }

    /// The checks of [`CatalogSet::read`] on catalogs already in memory.
    pub fn from_catalogs(catalogs: Vec<Catalog>, file_sha256: Vec<String>, opts: &SetOptions) -> Result<CatalogSet> {
        let Some(first) = catalogs.first() else {
            return Err(Error::invalid("no catalog given"));
        };
        for (k, c) in catalogs.iter().enumerate().skip(1) {
            if let Some(j) = file_sha256[..k].iter().position(|h| *h == file_sha256[k]) {
                if !opts.force {
                    return Err(Error::invalid(format!(
                        "{} and {} have the same content: every event would count twice ({FORCE_HINT})",
                        catalogs[j].path.display(),
                        c.path.display()
                    )));
                }
            }
            if !opts.force && (c.run.natoms != first.run.natoms || c.run.potential_sha256 != first.run.potential_sha256)
            {
                return Err(Error::invalid(format!(
                    "{} ({} atoms, potential {}) and {} ({} atoms, potential {}) describe different systems ({FORCE_HINT})",
                    first.path.display(),
                    first.run.natoms,
                    first.run.potential,
                    c.path.display(),
                    c.run.natoms,
                    c.run.potential
                )));
            }
        }
        // Starting structures.
        let mut origins: Vec<Origin> = Vec::new();
        let mut origin_of = Vec::with_capacity(catalogs.len());
        for (k, c) in catalogs.iter().enumerate() {
            match origins
                .iter()
                .position(|o| o.structure_sha256 == c.run.structure_sha256)
            {
                Some(o) => {
                    let e0 = origins[o].e_initial;
                    if (c.run.e_initial - e0).abs() > 1e-6 * e0.abs().max(1.0) && !opts.force {
                        return Err(Error::invalid(format!(
                            "{}: initial energy {} eV differs from {} eV of another catalog of the same structure ({FORCE_HINT})",
                            c.path.display(),
                            c.run.e_initial,
                            e0
                        )));
                    }
                    origins[o].catalogs.push(k);
                    origin_of.push(o);
                }
                None => {
                    origins.push(Origin {
                        structure_sha256: c.run.structure_sha256.clone(),
                        structure_path: c.run.structure.clone(),
                        e_initial: c.run.e_initial,
                        natoms: c.run.natoms,
                        catalogs: vec![k],
                        structure: None,
                    });
                    origin_of.push(origins.len() - 1);
                }
            }
        }
        if origins.len() > 1 && !opts.several_structures && !opts.force {
            let a = &catalogs[origins[0].catalogs[0]];
            let b = &catalogs[origins[1].catalogs[0]];
            return Err(Error::invalid(format!(
                "{} and {} start from different structures ({} and {}): their statistics describe different samples ({FORCE_HINT})",
                a.path.display(),
                b.path.display(),
                a.run.structure,
                b.run.structure
            )));
        }
        // The same search twice: same starting structure, master seed and task.
        if !opts.force {
            let mut seen: HashMap<(usize, u64, u64), usize> = HashMap::new();
            for (k, c) in catalogs.iter().enumerate() {
                let tasks = c.events.iter().map(|e| e.task).chain(c.failures.iter().map(|f| f.task));
                for task in tasks {
                    if let Some(j) = seen.insert((origin_of[k], c.run.seed, task), k) {
                        let where_ = if j == k {
                            format!("{} holds task {task} twice", c.path.display())
                        } else {
                            format!(
                                "{} and {} both hold task {task}",
                                catalogs[j].path.display(),
                                c.path.display()
                            )
                        };
                        return Err(Error::invalid(format!(
                            "{where_} of the run with seed {} (overlapping shards, or a catalog merged twice; {FORCE_HINT})",
                            c.run.seed
                        )));
                    }
                }
            }
        }
        let set = CatalogSet {
            catalogs,
            file_sha256,
            origins,
            origin_of,
        };
        if set.n_events() == 0 {
            return Err(Error::invalid(format!("no events in {}", set.describe_empty())));
        }
        Ok(set)
    }

    /// "a.jsonl (12 failed searches: 10 no_negative_mode, 2 iteration_limit), b.jsonl (...)".
    fn describe_empty(&self) -> String {
        let parts: Vec<String> = self
            .catalogs
            .iter()
            .map(|c| {
                let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
                for f in &c.failures {
                    *reasons.entry(f.reason.to_string()).or_default() += 1;
                }
                if reasons.is_empty() {
                    format!("{} (no searches recorded)", c.path.display())
                } else {
                    let r: Vec<String> = reasons.iter().map(|(k, n)| format!("{n} {k}")).collect();
                    format!(
                        "{} ({} failed searches: {})",
                        c.path.display(),
                        c.failures.len(),
                        r.join(", ")
                    )
                }
            })
            .collect();
        parts.join(", ")
    }

    /// Number of events in all catalogs.
    pub fn n_events(&self) -> usize {
        self.catalogs.iter().map(|c| c.events.len()).sum()
    }

    /// Every event with its catalog index, in catalog order then file order.
    pub fn events(&self) -> impl Iterator<Item = (usize, &Event)> {
        self.catalogs
            .iter()
            .enumerate()
            .flat_map(|(k, c)| c.events.iter().map(move |e| (k, e)))
    }

    /// The origin an event starts from.
    pub fn origin_of_catalog(&self, catalog: usize) -> usize {
        self.origin_of[catalog]
    }

    /// Per-catalog descriptions for output files.
    pub fn summaries(&self) -> Vec<CatalogSummary> {
        self.catalogs
            .iter()
            .zip(&self.file_sha256)
            .map(|(c, h)| CatalogSummary {
                path: c.path.display().to_string(),
                sha256: h.clone(),
                structure: c.run.structure.clone(),
                structure_sha256: c.run.structure_sha256.clone(),
                natoms: c.run.natoms,
                potential: c.run.potential.clone(),
                seed: c.run.seed,
                events: c.events.len(),
                failures: c.failures.len(),
                truncated_tail: c.truncated_tail,
            })
            .collect()
    }

    /// Finds the starting structures: first the `explicit` files (each must be the starting
    /// structure of some catalog, by content hash), then, for origins still without one, the
    /// path recorded in the run record (as given, then relative to the catalog's folder),
    /// used only when its content hash matches.
    pub fn locate_structures(&mut self, explicit: &[PathBuf], read: &ReadOptions) -> Result<()> {
        for p in explicit {
            let s = read_structure(p, read)?;
            let h = s.content_hash();
            let o = self
                .origins
                .iter()
                .position(|o| o.structure_sha256 == h)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{}: this structure (sha256 {}) is the starting structure of none of the catalogs",
                        p.display(),
                        short(&h)
                    ))
                })?;
            self.origins[o].structure = Some(s);
        }
        for o in 0..self.origins.len() {
            if self.origins[o].structure.is_some() {
                continue;
            }
            let recorded = PathBuf::from(&self.origins[o].structure_path);
            let mut candidates = vec![recorded.clone()];
            for &k in &self.origins[o].catalogs {
                if let Some(dir) = self.catalogs[k].path.parent() {
                    candidates.push(dir.join(&recorded));
                }
            }
            for c in candidates {
                if !c.is_file() {
                    continue;
                }
                match read_structure(&c, read) {
                    Ok(s) if s.content_hash() == self.origins[o].structure_sha256 => {
                        tracing::info!(
                            "starting structure {} found at {}",
                            short(&self.origins[o].structure_sha256),
                            c.display()
                        );
                        self.origins[o].structure = Some(s);
                        break;
                    }
                    Ok(_) => tracing::warn!(
                        "{}: content differs from the starting structure recorded in the catalog (sha256 {}); not used",
                        c.display(),
                        short(&self.origins[o].structure_sha256)
                    ),
                    Err(e) => tracing::warn!("{}: {e}", c.display()),
                }
            }
        }
        Ok(())
    }

    /// An error naming the origins whose structure is missing, when any is.
    pub fn require_structures(&self, why: &str) -> Result<()> {
        let missing: Vec<String> = self
            .origins
            .iter()
            .filter(|o| o.structure.is_none())
            .map(|o| format!("{} (sha256 {})", o.structure_path, short(&o.structure_sha256)))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{why} needs the starting structure, not found: {}; pass it with --structure FILE",
                missing.join(", ")
            )))
        }
    }
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// Events must carry finite energies and displacement lists that name real atoms.
fn check_events(c: &Catalog) -> Result<()> {
    let n = c.run.natoms;
    for e in &c.events {
        let bad = |what: String| Error::parse(&c.path, 0, format!("event of task {}: {what}", e.task));
        for (name, v) in [
            ("e_initial", e.e_initial),
            ("e_saddle", e.e_saddle),
            ("e_final", e.e_final),
            ("e_fw", e.e_fw),
            ("e_rev", e.e_rev),
            ("max_displacement", e.max_displacement),
        ] {
            if !v.is_finite() {
                return Err(bad(format!("{name} = {v} is not finite")));
            }
        }
        let check = |list: &[Displacement], what: &str| -> Result<()> {
            if let Some((i, _)) = list
                .iter()
                .find(|(i, d)| *i as usize >= n || d.iter().any(|x| !x.is_finite()))
            {
                return Err(bad(format!("{what} lists atom {i} (of {n}) or a non-finite vector")));
            }
            Ok(())
        };
        check(&e.saddle_displacements, "saddle_displacements")?;
        check(&e.final_displacements, "final_displacements")?;
    }
    Ok(())
}

/// Test helpers: small synthetic catalogs, and the generators of the fixture catalogs in
/// `tests/fixtures/catalogs/` (see its README).
#[cfg(test)]
pub(crate) mod testing {
    use crate::analysis::spectrum::{ExpSpectrum, FieSpectrum};
    use crate::catalog::{CatalogWriter, Event, Record, RunRecord, SCHEMA};
    use crate::structure::io::{read_structure, write_structure, ReadOptions, WriteOptions};
    use crate::structure::{Cell, Structure};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::path::{Path, PathBuf};

    pub fn run(structure_sha256: &str, natoms: usize, e_initial: f64) -> RunRecord {
        RunRecord {
            input_relaxation: None,
            shard: None,
            schema: SCHEMA.into(),
            pelx_version: "test".into(),
            structure: format!("{structure_sha256}.extxyz"),
            structure_sha256: structure_sha256.into(),
            natoms,
            potential: "eam/fs test".into(),
            potential_sha256: vec!["pot".into()],
            e_initial,
            seed: 1,
            parameters: serde_json::json!({}),
            sampling: serde_json::json!({}),
        }
    }

    /// An event from the initial minimum (energy `e0`) over a saddle at `e0 + e_fw` to a final
    /// minimum at `e0 + e_fw - e_rev`, with the given sparse displacements.
    pub fn event(
        task: u64,
        e0: f64,
        e_fw: f64,
        e_rev: f64,
        saddle: Vec<(u32, [f64; 3])>,
        fin: Vec<(u32, [f64; 3])>,
    ) -> Event {
        let max_d = fin
            .iter()
            .map(|(_, d)| (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
            .fold(0.0, f64::max);
        Event {
            calls: Default::default(),
            check: None,
            task,
            central_atom: fin.first().map(|x| x.0 as usize).unwrap_or(0),
            attempt: 0,
            seed: task,
            e_initial: e0,
            e_saddle: e0 + e_fw,
            e_final: e0 + e_fw - e_rev,
            e_fw,
            e_rev,
            eigenvalue: -0.5,
            saddle_fmax: 0.01,
            max_displacement: max_d,
            n_moved: fin.len(),
            reconnects: true,
            verified: true,
            force_calls_saddle: 100,
            force_calls_total: 200,
            saddle_displacements: saddle,
            final_displacements: fin,
            other_minimum: None,
            flags: vec![],
        }
    }

    pub fn write(path: &Path, run: &RunRecord, events: &[Event]) {
        let mut w = CatalogWriter::create(path, run).unwrap();
        for e in events {
            w.append(&Record::Event(Box::new(e.clone()))).unwrap();
        }
    }

    /// Writes a structure and returns the content hash of what reads back.
    pub fn save(path: &Path, s: &Structure) -> String {
        write_structure(path, s, None, &WriteOptions::default()).unwrap();
        read_structure(path, &ReadOptions::default()).unwrap().content_hash()
    }

    /// Energy of the starting minimum S of the network fixture, eV.
    pub const NETWORK_E0: f64 = -100.0;

    /// The network fixture: a landscape with known minima, saddles and duplicates, seen from
    /// two shards of one campaign (`net-s0.jsonl`, `net-s1.jsonl`, from structure `S.extxyz`)
    /// and from a second campaign (`net-a.jsonl`) started in one of the minima the first found
    /// (`T.extxyz`). Returns (catalogs, structures).
    ///
    /// Minima (energies relative to S): S 0, A +0.2 (atom 1 moved +1.0 Å in x), B -0.2 (atoms
    /// 2 and 3), C +0.2 (atom 5: A's energy, another atom), D -0.1 (atom 8), E +0.1 (from A,
    /// atom 7). Saddles: s1 and s2 between S and A, one each S-B, S-C, S-D, A-E. Events: s1 four
    /// times (three from S, one with 0.01 Å and 0.1 meV of noise, one back from A), S-B twice,
    /// one self-loop (0.05 Å from S) and one event that does not reconnect.
    pub fn network_fixture(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let e0 = NETWORK_E0;
        let cell = Cell::orthorhombic(20.0, 20.0, 20.0).unwrap();
        let p = (0..10).map(|i| [1.0 + 1.9 * i as f64, 10.0, 10.0]).collect();
        let s = Structure::from_symbols(cell, &["Cu"; 10], p).unwrap();
        let mut t = s.clone();
        t.positions[1][0] += 1.0; // minimum A as a starting structure
        let (ps, pt) = (dir.join("S.extxyz"), dir.join("T.extxyz"));
        let (hs, ht) = (save(&ps, &s), save(&pt, &t));
        let x = |v: f64| [v, 0.0, 0.0];
        let a = vec![(1, x(1.0))];
        let s1 = vec![(1, x(0.4))];
        let s2 = vec![(1, x(0.5)), (0, [0.0, 0.3, 0.0])];
        let b = vec![(2, [0.0, 1.2, 0.0]), (3, x(0.5))];
        let sb = vec![(2, [0.0, 0.6, 0.0]), (3, x(0.2))];
        let mut shard0 = vec![
            event(0, e0, 0.5, 0.3, s1.clone(), a.clone()),
            event(1, e0, 0.5001, 0.3001, vec![(1, x(0.41))], vec![(1, x(1.01))]),
            event(2, e0, 0.7, 0.5, s2, a.clone()),
            event(3, e0, 0.4, 0.6, sb.clone(), b.clone()),
            event(4, e0, 0.5, 0.3, vec![(5, x(0.4))], vec![(5, x(1.0))]),
            event(5, e0, 0.3, 0.2999, vec![(1, x(0.2))], vec![(1, x(0.05))]),
            event(6, e0, 0.9, 0.9, vec![(9, x(0.3))], vec![(9, x(0.6))]),
            event(7, e0, 0.4, 0.6, sb, b),
        ];
        shard0[6].reconnects = false;
        let shard1 = vec![
            event(8, e0, 0.5, 0.3, s1, a),
            event(9, e0, 0.8, 0.9, vec![(8, x(0.3))], vec![(8, x(0.7))]),
        ];
        let ea = e0 + 0.2;
        let from_a = vec![
            event(0, ea, 0.3, 0.5, vec![(1, x(-0.6))], vec![(1, x(-1.0))]),
            event(1, ea, 0.35, 0.25, vec![(7, x(0.5))], vec![(7, x(0.9))]),
        ];
        let mut catalogs = Vec::new();
        for (name, h, e_init, events) in [
            ("net-s0.jsonl", &hs, e0, shard0),
            ("net-s1.jsonl", &hs, e0, shard1),
            ("net-a.jsonl", &ht, ea, from_a),
        ] {
            let path = dir.join(name);
            let mut r = run(h, 10, e_init);
            r.structure = if h == &hs { "S.extxyz".into() } else { "T.extxyz".into() };
            if name == "net-a.jsonl" {
                r.seed = 2;
            }
            write(&path, &r, &events);
            catalogs.push(path);
        }
        (catalogs, vec![ps, pt])
    }

    /// Parameters of the spectrum fixture: FIE eq. (3) with W = 0.12, m = 0.9 eV and FIE's
    /// e_A = 0.5, s = 0.49 eV; eq. (5) with e_R = 0.32 eV.
    pub const FIE_TRUTH: (f64, f64, f64, f64, f64) = (0.12, 0.9, 0.5, 0.49, 0.32);

    /// Writes every fixture of `tests/fixtures/catalogs/` into `dir`.
    pub fn all_fixtures(dir: &Path) {
        network_fixture(dir);
        spectrum_fixture(dir, "fie-sample.jsonl", 1000, 2026);
        // Bad inputs: an empty file, a catalog whose searches all failed, and a catalog of
        // another structure.
        std::fs::write(dir.join("empty.jsonl"), "").unwrap();
        let mut w = CatalogWriter::create(&dir.join("failures-only.jsonl"), &run("f0", 20, -95.0)).unwrap();
        for task in 0..3 {
            w.append(&Record::Failure(crate::catalog::Failure {
                calls: Default::default(),
                task,
                central_atom: task as usize,
                attempt: 0,
                seed: task,
                reason: crate::catalog::FailureReason::NoNegativeMode,
                detail: "lowest eigenvalue stayed above the threshold".into(),
                force_calls_total: 500,
            }))
            .unwrap();
        }
        let other = vec![event(
            0,
            -96.0,
            0.7,
            0.2,
            vec![(3, [0.4, 0.0, 0.0])],
            vec![(3, [1.1, 0.0, 0.0])],
        )];
        let mut r = run("other-structure", 20, -96.0);
        r.structure = "other.extxyz".into();
        write(&dir.join("other-structure.jsonl"), &r, &other);
    }

    /// The spectrum fixture: `n` events on a 20-atom Cu12Zr8 structure (`CuZr20.extxyz`), E_fw
    /// and E_rev drawn independently from [`FIE_TRUTH`], the most displaced atom uniform over
    /// the atoms and its displacement uniform in [0.3, 3.3] Å, a second atom moved half as far.
    /// Returns (catalog, structure).
    pub fn spectrum_fixture(dir: &Path, name: &str, n: usize, seed: u64) -> (PathBuf, PathBuf) {
        let cell = Cell::orthorhombic(12.0, 12.0, 12.0).unwrap();
        let mut p = Vec::new();
        for i in 0..20 {
            p.push([1.0 + 2.4 * (i % 5) as f64, 1.5 + 3.0 * ((i / 5) % 4) as f64, 6.0]);
        }
        let symbols: Vec<&str> = (0..20).map(|i| if i % 5 < 3 { "Cu" } else { "Zr" }).collect();
        let s = Structure::from_symbols(cell, &symbols, p).unwrap();
        let sp = dir.join("CuZr20.extxyz");
        let h = save(&sp, &s);
        let (w, m, e_a, sw, e_r) = FIE_TRUTH;
        let act = FieSpectrum::new(w, m, e_a, sw).unwrap();
        let rel = ExpSpectrum::new(e_r).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let e0 = -95.0;
        let round = |v: f64| (v * 1e6).round() / 1e6;
        let events: Vec<Event> = (0..n as u64)
            .map(|task| {
                let e_fw = round(act.sample(&mut rng));
                let e_rev = round(rel.sample(&mut rng)).min(e_fw + 2.0);
                let atom = rng.random_range(0..20u32);
                let other = (atom + 1 + rng.random_range(0..19u32)) % 20;
                let d = round(0.3 + 3.0 * rng.random::<f64>());
                let fin = vec![(atom, [d, 0.0, 0.0]), (other, [0.0, round(0.5 * d), 0.0])];
                let sad = vec![(atom, [round(0.4 * d), 0.0, 0.0])];
                event(task, e0, e_fw, e_rev, sad, fin)
            })
            .collect();
        let mut r = run(&h, 20, e0);
        r.structure = "CuZr20.extxyz".into();
        let path = dir.join(name);
        write(&path, &r, &events);
        (path, sp)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::catalog::{CatalogWriter, Failure, FailureReason, Record};

    fn ev(task: u64) -> Event {
        event(
            task,
            -100.0,
            0.5,
            0.3,
            vec![(0, [0.2, 0.0, 0.0])],
            vec![(0, [0.5, 0.0, 0.0])],
        )
    }

    #[test]
    fn shards_combine_and_overlaps_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.jsonl"),
            dir.path().join("b.jsonl"),
            dir.path().join("c.jsonl"),
        );
        write(&a, &run("S", 4, -100.0), &[ev(0), ev(2)]);
        write(&b, &run("S", 4, -100.0), &[ev(1), ev(3)]);
        write(&c, &run("S", 4, -100.0), &[ev(3), ev(5)]);
        let set = CatalogSet::read(&[a.clone(), b.clone()], &SetOptions::default()).unwrap();
        assert_eq!(set.n_events(), 4);
        assert_eq!(set.origins.len(), 1);
        assert_eq!(set.origins[0].catalogs, vec![0, 1]);
        let e = CatalogSet::read(&[b.clone(), c.clone()], &SetOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("both hold task 3") && e.contains("--force"), "{e}");
        let forced = SetOptions {
            force: true,
            ..Default::default()
        };
        assert_eq!(CatalogSet::read(&[b.clone(), c], &forced).unwrap().n_events(), 4);
        let e = CatalogSet::read(&[a.clone(), a.clone()], &SetOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("same content"), "{e}");
    }

    #[test]
    fn different_structures_and_systems_need_force() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.jsonl"),
            dir.path().join("b.jsonl"),
            dir.path().join("c.jsonl"),
        );
        write(&a, &run("S", 4, -100.0), &[ev(0)]);
        write(&b, &run("T", 4, -101.0), &[ev(0)]);
        write(&c, &run("U", 5, -101.0), &[ev(0)]);
        let e = CatalogSet::read(&[a.clone(), b.clone()], &SetOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("different structures") && e.contains("--force"), "{e}");
        let several = SetOptions {
            several_structures: true,
            force: false,
        };
        let set = CatalogSet::read(&[a.clone(), b.clone()], &several).unwrap();
        assert_eq!(set.origins.len(), 2);
        assert_eq!(set.origin_of, vec![0, 1]);
        let e = CatalogSet::read(&[a, c], &several).unwrap_err().to_string();
        assert!(e.contains("different systems"), "{e}");
    }

    #[test]
    fn a_set_without_events_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let mut w = CatalogWriter::create(&a, &run("S", 4, -100.0)).unwrap();
        for (task, reason) in [
            (0, FailureReason::NoNegativeMode),
            (1, FailureReason::NoNegativeMode),
            (2, FailureReason::IterationLimit),
        ] {
            w.append(&Record::Failure(Failure {
                calls: Default::default(),
                task,
                central_atom: 0,
                attempt: 0,
                seed: 0,
                reason,
                detail: String::new(),
                force_calls_total: 10,
            }))
            .unwrap();
        }
        drop(w);
        let e = CatalogSet::read(&[a], &SetOptions::default()).unwrap_err().to_string();
        assert!(
            e.contains("no events") && e.contains("3 failed searches: 1 iteration_limit, 2 no_negative_mode"),
            "{e}"
        );
        let b = dir.path().join("b.jsonl");
        write(&b, &run("S", 4, -100.0), &[]);
        let e = CatalogSet::read(&[b], &SetOptions::default()).unwrap_err().to_string();
        assert!(e.contains("no searches recorded"), "{e}");
        assert!(CatalogSet::read(&[], &SetOptions::default()).is_err());
    }

    /// The files in `tests/fixtures/catalogs/` are what [`testing::all_fixtures`] writes.
    #[test]
    fn fixture_catalogs_are_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        super::testing::all_fixtures(dir.path());
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalogs");
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap();
            let want = std::fs::read(&p).unwrap();
            let have = std::fs::read(shipped.join(name)).unwrap_or_default();
            assert!(
                want == have,
                "tests/fixtures/catalogs/{} is stale: run `cargo test --lib regenerate_fixture_catalogs -- --ignored`",
                name.to_string_lossy()
            );
        }
    }

    /// Rewrites `tests/fixtures/catalogs/`.
    #[test]
    #[ignore = "writes into the repository"]
    fn regenerate_fixture_catalogs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalogs");
        std::fs::create_dir_all(&dir).unwrap();
        super::testing::all_fixtures(&dir);
    }

    #[test]
    fn displacements_must_name_real_atoms() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.jsonl");
        let bad = event(0, -100.0, 0.5, 0.3, vec![], vec![(9, [0.5, 0.0, 0.0])]);
        write(&a, &run("S", 4, -100.0), &[bad]);
        let e = CatalogSet::read(&[a], &SetOptions::default()).unwrap_err().to_string();
        assert!(e.contains("task 0") && e.contains("atom 9"), "{e}");
    }
}
