//! The quickstart pipeline behind `pelx run`: one configuration file runs, on one sample, an ART
//! campaign, the catalog statistics, the barrier-asymmetry analysis with its FIE spectrum fit and
//! figures, an FIE cooling curve built from that fit, and the KMC correlation factor f of the
//! harvested barriers, into one folder with an index (`summary.json`, `README.md`).
//!
//! Every step calls the library directly and writes what the corresponding subcommand writes
//! (`pelx art`, `pelx catalog stats`, `pelx asym --fit fie --plot`, `pelx fie run`,
//! `pelx kmc whatif --catalog`), provenance included. A step after the campaign that cannot run
//! (say, too few events for a fit) is recorded as skipped with its reason; it does not stop the
//! steps that do not need it.

use crate::analysis::asym::{analyse, AsymOptions};
use crate::analysis::catalogs::{CatalogSet, SetOptions};
use crate::analysis::fit::FitOptions;
use crate::catalog::dedup::DedupOptions;
use crate::catalog::stats::catalog_stats;
use crate::catalog::{Catalog, RunRecord, SCHEMA};
use crate::fie::anchor::anchored_model;
use crate::fie::fit::FieSpectrumFit;
use crate::fie::model::FieConfig;
use crate::fie::output::{write_json, write_trajectories_csv, RunOutput};
use crate::fie::plot::plot_run;
use crate::fie::protocol::{run_file, ProtocolFile};
use crate::kmc::plot::write_whatif_svgs;
use crate::kmc::whatif::{run_whatif, CatalogConfig, WhatifConfig};
use crate::network::NetworkOptions;
use crate::potential::{Calculator, DEFAULT_SKIN};
use crate::provenance::{file_sha256, Provenance, VERSION};
use crate::saddle::art::ArtConfig;
use crate::saddle::campaign::{prepare_initial, run_campaign, AtomSelection, Campaign, OutputMode, Sampling};
use crate::structure::io::{read_structure, ReadOptions};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Schema tag of the quickstart configuration.
pub const CONFIG_SCHEMA: &str = "pelx.quickstart/1";
/// Schema tag of `summary.json`.
pub const SUMMARY_SCHEMA: &str = "pelx.run-summary/1";

/// The quickstart configuration (`configs/quickstart.toml` documents every key). Relative paths
/// are taken relative to the current directory, as on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Must be "pelx.quickstart/1" when given.
    #[serde(default = "config_schema")]
    pub schema: String,
    /// The starting structure (extended XYZ, LAMMPS data or dump).
    pub structure: PathBuf,
    /// Potential file(s), as `pelx art -p`.
    pub potential: Vec<PathBuf>,
    /// Output folder when `-o` is not given.
    #[serde(default = "default_output")]
    pub output: PathBuf,
    pub art: ArtStep,
    #[serde(default)]
    pub asym: AsymStep,
    #[serde(default)]
    pub fie: FieStep,
    #[serde(default)]
    pub kmc: KmcStep,
}

fn config_schema() -> String {
    CONFIG_SCHEMA.into()
}
fn default_output() -> PathBuf {
    PathBuf::from("results/quickstart")
}

/// The ART campaign (as `pelx art`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtStep {
    /// Searches: "N per atom" or "N total".
    pub sample: String,
    /// Central atoms: indices, ranges, species or "all".
    #[serde(default = "default_atoms")]
    pub atoms: String,
    /// Master seed.
    #[serde(default = "one")]
    pub seed: u64,
    /// TOML file of ART parameters (default: the built-in defaults of configs/art.toml).
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// Worker threads (0: every core).
    #[serde(default)]
    pub threads: usize,
}

fn default_atoms() -> String {
    "all".into()
}
fn one() -> u64 {
    1
}

/// The asymmetry analysis and FIE spectrum fit (as `pelx asym --fit fie --plot`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsymStep {
    /// Max-displacement thresholds, Å.
    pub min_disp: Vec<f64>,
    /// Bin widths of the 1D and joint histograms, eV.
    pub bin: f64,
    pub bin2d: f64,
    /// Count each distinct event once.
    pub unique: bool,
    /// The threshold whose fit feeds the FIE step, Å (one of `min_disp`).
    pub fit_filter: f64,
    /// Fit e_A and s too (otherwise fixed at `e_a`, `s`).
    pub free_shape: bool,
    pub e_a: f64,
    pub s: f64,
}

impl Default for AsymStep {
    fn default() -> Self {
        AsymStep {
            min_disp: vec![0.0, 1.0, 1.5, 2.5],
            bin: 0.05,
            bin2d: 0.1,
            unique: false,
            fit_filter: 0.0,
            free_shape: false,
            e_a: 0.5,
            s: 0.49,
        }
    }
}

/// The FIE cooling curves built from the sample's spectrum fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieStep {
    /// Run this step.
    pub enabled: bool,
    /// The model whose E_IS dependence of W and m (and rate, domain, solver) is kept.
    pub base_config: PathBuf,
    /// E_IS at which W and m of the base set are made to equal the sample's fit, eV/atom.
    pub anchor_e_is: f64,
    /// Thermal protocols to integrate (cooling ramps).
    pub protocol: PathBuf,
}

impl Default for FieStep {
    fn default() -> Self {
        FieStep {
            enabled: true,
            base_config: "configs/fie-cu56zr44.toml".into(),
            anchor_e_is: -4.6797,
            protocol: "configs/fie-protocol-fig3-cooling.toml".into(),
        }
    }
}

/// The KMC f estimate on the harvested barriers (as `pelx kmc whatif --catalog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KmcStep {
    pub enabled: bool,
    /// Temperatures, K.
    pub temperatures: Vec<f64>,
    /// Keep events with max displacement >= this, Å.
    pub min_displacement: f64,
    pub walkers: usize,
    /// Measured hops per walker (a multiple of 64) and burn-in hops.
    pub hops: u64,
    pub burn_in: u64,
    pub seed: u64,
}

impl Default for KmcStep {
    fn default() -> Self {
        KmcStep {
            enabled: true,
            temperatures: vec![600.0, 700.0, 800.0],
            min_displacement: 0.0,
            walkers: 64,
            hops: 8192,
            burn_in: 2048,
            seed: 1,
        }
    }
}

impl RunConfig {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
    }

    /// Parses and checks a configuration.
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: RunConfig = toml::from_str(text).map_err(|e| Error::invalid(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Checks what can be checked before running.
    pub fn validate(&self) -> Result<()> {
        if self.schema != CONFIG_SCHEMA {
            return Err(Error::invalid(format!(
                "schema '{}' (expected {CONFIG_SCHEMA})",
                self.schema
            )));
        }
        if self.potential.is_empty() {
            return Err(Error::invalid("potential: give at least one file"));
        }
        self.art.sample.parse::<Sampling>()?;
        self.art.atoms.parse::<AtomSelection>()?;
        if !self
            .asym
            .min_disp
            .iter()
            .any(|d| (d - self.asym.fit_filter).abs() < 1e-9)
        {
            return Err(Error::invalid(format!(
                "asym.fit_filter {} is not one of asym.min_disp {:?}",
                self.asym.fit_filter, self.asym.min_disp
            )));
        }
        self.asym_options().validate()
    }

    /// The KMC what-if run of the KMC step on `catalog`.
    fn kmc_config(&self, catalog: &Path) -> WhatifConfig {
        let k = &self.kmc;
        WhatifConfig {
            temperatures: k.temperatures.clone(),
            walkers: k.walkers,
            hops: k.hops,
            burn_in: k.burn_in,
            seed: k.seed,
            parametric: None,
            catalog: Some(CatalogConfig {
                path: catalog.to_path_buf(),
                min_displacement: k.min_displacement,
                verified_only: true,
            }),
            ..WhatifConfig::default()
        }
    }

    /// Checks the settings of the steps after the ART campaign (the FIE base configuration and
    /// protocol files, the anchor, the KMC run) before the campaign starts, so that a mistake
    /// there does not surface only after hours of searches.
    pub fn check_later_steps(&self, catalog: &Path) -> Result<()> {
        if self.fie.enabled {
            let base = FieConfig::from_file(&self.fie.base_config)?;
            ProtocolFile::from_file(&self.fie.protocol)?;
            let (e, d) = (self.fie.anchor_e_is, &base.domain);
            if !d.contains_e_is(e) {
                return Err(Error::invalid(format!(
                    "fie.anchor_e_is = {e} eV/atom lies outside the domain [{}, {}] eV/atom of {}",
                    d.e_is_min,
                    d.e_is_max,
                    self.fie.base_config.display()
                )));
            }
        }
        if self.kmc.enabled {
            self.kmc_config(catalog)
                .validate()
                .map_err(|e| Error::invalid(format!("kmc: {e}")))?;
        }
        Ok(())
    }

    fn asym_options(&self) -> AsymOptions {
        let a = &self.asym;
        AsymOptions {
            min_displacements: a.min_disp.clone(),
            bin: a.bin,
            bin2d: a.bin2d,
            species: None,
            reconnecting_only: false,
            verified_only: true,
            unique: a.unique,
            network: NetworkOptions {
                energy_tol: 1e-3,
                distance_tol: 0.1,
                saddle_energy_tol: 1e-3,
                keep_unconnected: true,
            },
            fit: Some(FitOptions {
                free_shape: a.free_shape,
                e_a: a.e_a,
                s: a.s,
                bootstrap: 0,
                seed: 0,
            }),
        }
    }
}

/// What to do with an existing output folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to write into a folder that holds a catalog.
    Refuse,
    /// Start again, overwriting the catalog.
    Overwrite,
    /// Continue the catalog's campaign and redo every later step.
    Resume,
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub name: String,
    /// "ok" or "skipped".
    pub status: String,
    /// Why a step was skipped, or a one-line result.
    pub message: String,
    pub seconds: f64,
}

/// A file of the results folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the results folder.
    pub path: String,
    pub description: String,
}

/// The index of a results folder (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: String,
    pub provenance: Provenance,
    pub config: RunConfig,
    pub steps: Vec<StepReport>,
    pub files: Vec<FileEntry>,
    /// The numbers a reader looks for first (see README.md of the folder).
    pub headline: serde_json::Value,
    pub wall_seconds: f64,
}

/// Collects the files and step reports while the pipeline runs.
struct Index {
    dir: PathBuf,
    files: Vec<FileEntry>,
    steps: Vec<StepReport>,
    headline: serde_json::Map<String, serde_json::Value>,
}

impl Index {
    fn add(&mut self, path: &Path, description: &str) {
        let rel = path.strip_prefix(&self.dir).unwrap_or(path);
        self.files.push(FileEntry {
            path: rel.display().to_string(),
            description: description.into(),
        });
    }

    fn step(&mut self, name: &str, start: Instant, outcome: Result<String>) {
        let (status, message) = match outcome {
            Ok(m) => ("ok", m),
            Err(e) => {
                tracing::warn!("{name}: skipped ({e})");
                ("skipped", e.to_string())
            }
        };
        tracing::info!("{name}: {status} ({message})");
        self.steps.push(StepReport {
            name: name.into(),
            status: status.into(),
            message,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
}

fn write_pretty<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_json(Some(path), value)
}

/// Runs the whole pipeline into `out` (created if needed) and returns its index, which is also
/// written to `out/summary.json` (with `out/README.md`). `on_search` is called after each ART
/// search is written (for a progress bar). Only the ART campaign and the catalog statistics are
/// required; later steps that cannot run are recorded as skipped.
pub fn run_pipeline(
    cfg: &RunConfig,
    out: &Path,
    existing: Existing,
    on_search: &mut dyn FnMut(),
) -> Result<RunSummary> {
    cfg.validate()?;
    cfg.check_later_steps(&out.join("art.jsonl"))?;
    let start = Instant::now();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut ix = Index {
        dir: out.to_path_buf(),
        files: Vec::new(),
        steps: Vec::new(),
        headline: serde_json::Map::new(),
    };
    let catalog = out.join("art.jsonl");

    // 1. The ART campaign.
    let t = Instant::now();
    let summary = art_step(cfg, &catalog, existing, on_search)?;
    let relaxed = relaxed_path(&cfg.structure, &catalog);
    if relaxed.exists() {
        ix.add(
            &relaxed,
            "the starting structure relaxed to a minimum (the catalog's initial minimum)",
        );
    }
    ix.add(
        &catalog,
        "ART event catalog (pelx art), JSON lines: a run record, then one event or failure record per search",
    );
    let art_summary = out.join("art-summary.json");
    write_pretty(&art_summary, &summary)?;
    ix.add(
        &art_summary,
        "what the ART campaign run did: searches, events, failures by reason, wall time",
    );
    ix.step(
        "art",
        t,
        Ok(format!(
            "{} searches run now ({} already in the catalog), {} events, {} verified, {:.1} s",
            summary["searches"],
            summary["already_done"],
            summary["events"],
            summary["verified"],
            summary["wall_seconds"].as_f64().unwrap_or(f64::NAN)
        )),
    );

    // 2. Catalog statistics.
    let t = Instant::now();
    let cat = Catalog::read(&catalog)?;
    let stats = catalog_stats(&cat, &DedupOptions::default());
    let stats_path = out.join("catalog-stats.json");
    write_pretty(&stats_path, &stats)?;
    ix.add(
        &stats_path,
        "catalog statistics (pelx catalog stats): success rate, distinct events, force calls, barriers",
    );
    for (k, v) in [
        ("searches", serde_json::json!(stats.searches)),
        ("converged_saddles", serde_json::json!(stats.converged_saddles)),
        ("verified", serde_json::json!(stats.verified)),
        ("distinct_events", serde_json::json!(stats.distinct_events)),
        ("success_rate", serde_json::json!(stats.success_rate)),
    ] {
        ix.headline.insert(k.into(), v);
    }
    ix.step(
        "catalog-stats",
        t,
        Ok(format!(
            "{} searches, {} converged saddles, {} distinct events",
            stats.searches, stats.converged_saddles, stats.distinct_events
        )),
    );

    // 3. Asymmetry analysis, FIE spectrum fit, figures.
    let t = Instant::now();
    let fit = asym_step(cfg, out, &catalog, &mut ix);
    let fit = match fit {
        Ok((fit, msg)) => {
            ix.step("asym", t, Ok(msg));
            fit
        }
        Err(e) => {
            ix.step("asym", t, Err(e));
            None
        }
    };

    // 4. FIE cooling curves from the fit.
    let t = Instant::now();
    let outcome = if !cfg.fie.enabled {
        Err(Error::invalid("disabled (fie.enabled = false)"))
    } else {
        match &fit {
            Some(f) => fie_step(cfg, out, f, &mut ix),
            None => Err(Error::invalid(
                "no FIE spectrum fit to build the model from (see the asym step)",
            )),
        }
    };
    ix.step("fie", t, outcome);

    // 5. KMC f from the catalog's barriers.
    let t = Instant::now();
    let outcome = if cfg.kmc.enabled {
        kmc_step(cfg, out, &catalog, &mut ix)
    } else {
        Err(Error::invalid("disabled (kmc.enabled = false)"))
    };
    ix.step("kmc", t, outcome);

    // The index.
    let summary_path = out.join("summary.json");
    let readme_path = out.join("README.md");
    ix.add(
        &summary_path,
        "this index: configuration, steps, files, headline numbers",
    );
    ix.add(&readme_path, "a short human-readable account of this folder");
    let mut inputs: Vec<&Path> = vec![cfg.structure.as_path()];
    inputs.extend(cfg.potential.iter().map(PathBuf::as_path));
    let run = RunSummary {
        schema: SUMMARY_SCHEMA.into(),
        provenance: Provenance::new(&inputs)?,
        config: cfg.clone(),
        steps: ix.steps,
        files: ix.files,
        headline: serde_json::Value::Object(ix.headline),
        wall_seconds: start.elapsed().as_secs_f64(),
    };
    write_pretty(&summary_path, &run)?;
    std::fs::write(&readme_path, readme(&run)).map_err(|e| Error::io(&readme_path, e))?;
    Ok(run)
}

/// Where an unrelaxed input's relaxed version goes: beside the catalog, as `pelx art` puts it.
fn relaxed_path(structure: &Path, catalog: &Path) -> PathBuf {
    let stem = structure
        .file_stem()
        .map_or_else(|| "initial".into(), |s| s.to_string_lossy().into_owned());
    catalog
        .parent()
        .unwrap_or(Path::new(""))
        .join(format!("{stem}.relaxed.extxyz"))
}

/// The ART campaign, as `pelx art STRUCTURE -p POT --sample ... -o out/art.jsonl`.
fn art_step(
    cfg: &RunConfig,
    catalog: &Path,
    existing: Existing,
    on_search: &mut dyn FnMut(),
) -> Result<serde_json::Value> {
    let mode = match existing {
        Existing::Resume if catalog.exists() => OutputMode::Resume,
        Existing::Resume => {
            return Err(Error::invalid(format!(
                "--resume: {} does not exist (nothing to continue; run without --resume to start)",
                catalog.display()
            )))
        }
        Existing::Refuse if catalog.exists() => {
            return Err(Error::invalid(format!(
                "{} exists: give --resume to continue it or --force to start again",
                catalog.display()
            )))
        }
        _ => OutputMode::Create,
    };
    let sampling: Sampling = cfg.art.sample.parse()?;
    let selection: AtomSelection = cfg.art.atoms.parse()?;
    let art_cfg = match &cfg.art.config {
        Some(p) => ArtConfig::from_file(p)?,
        None => ArtConfig::default(),
    };
    art_cfg.validate()?;
    let s = read_structure(&cfg.structure, &ReadOptions::default())?;
    let structure_sha256 = s.content_hash();
    let paths: Vec<&Path> = cfg.potential.iter().map(PathBuf::as_path).collect();
    let ff = crate::potential::load(&paths)?;
    let template = Calculator::new(ff.clone()).with_skin(DEFAULT_SKIN);
    let mut calc = template.clone();
    let (init, relaxation) = prepare_initial(s, &mut calc, &art_cfg, true, &relaxed_path(&cfg.structure, catalog))?;
    let run = RunRecord {
        schema: SCHEMA.into(),
        pelx_version: VERSION.into(),
        structure: cfg.structure.display().to_string(),
        structure_sha256,
        natoms: 0,
        potential: ff.describe(),
        potential_sha256: paths.iter().map(|p| file_sha256(p)).collect::<Result<Vec<_>>>()?,
        e_initial: 0.0,
        seed: 0,
        parameters: serde_json::Value::Null,
        sampling: serde_json::Value::Null,
        input_relaxation: relaxation,
        shard: None,
    };
    let campaign = Campaign::new(init, art_cfg, run, &selection, sampling, cfg.art.seed, None)?;
    tracing::info!("ART: {} searches on {}", campaign.tasks.len(), cfg.structure.display());
    let summary = run_campaign(&campaign, &template, catalog, mode, cfg.art.threads, &mut |_| {
        on_search()
    })?;
    let mut v = serde_json::to_value(&summary).map_err(|e| Error::invalid(e.to_string()))?;
    v["schema"] = "pelx.art-summary/1".into();
    v["catalog"] = catalog.display().to_string().into();
    Ok(v)
}

/// The asymmetry analysis with the FIE fit and figures; returns the spectrum fit of
/// `asym.fit_filter` when it succeeded.
fn asym_step(cfg: &RunConfig, out: &Path, catalog: &Path, ix: &mut Index) -> Result<(Option<FieSpectrumFit>, String)> {
    let set = CatalogSet::read(
        &[catalog.to_path_buf()],
        &SetOptions {
            several_structures: false,
            force: false,
        },
    )?;
    let doc = analyse(&set, &cfg.asym_options(), Provenance::new(&[catalog])?)?;
    let asym_path = out.join("asym.json");
    write_pretty(&asym_path, &doc)?;
    ix.add(
        &asym_path,
        "barrier asymmetry (pelx asym, schemas/asym.schema.json): E_fw, E_rev histograms, statistics, FIE fits per max-displacement filter",
    );
    let figures = crate::analysis::plot::write_all(&doc, &out.join("figures"))?;
    for f in &figures {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ix.add(
            f,
            &format!("figure (SVG) of the asymmetry analysis: {}", figure_description(&name)),
        );
    }
    let k = doc
        .filter_index(cfg.asym.fit_filter)
        .expect("validated: fit_filter is one of min_disp");
    let f = &doc.filters[k];
    if let Some(s) = &f.summary {
        ix.headline
            .insert("median_e_fw".into(), serde_json::json!(s.e_fw.median));
        ix.headline
            .insert("median_e_rev".into(), serde_json::json!(s.e_rev.median));
        ix.headline.insert(
            "fraction_rev_below_fw".into(),
            serde_json::json!(s.fraction_rev_below_fw),
        );
    }
    let sample = cfg
        .structure
        .file_stem()
        .map_or_else(|| "sample".into(), |s| s.to_string_lossy().into_owned());
    match doc.fie_spectrum_fit(k, &sample) {
        Ok(spec) => {
            let p = out.join("asym.fie-spectrum.json");
            write_pretty(&p, &spec)?;
            ix.add(
                &p,
                "FIE spectrum fit (pelx.fie-spectrum/1): W, m, e_A, s, e_R of the sample, read by pelx fie regress",
            );
            ix.headline.insert(
                "fie_fit".into(),
                serde_json::json!({"w": spec.w, "m": spec.m, "e_a": spec.e_a, "s": spec.s, "e_r": spec.e_r, "n_events": spec.n_events}),
            );
            let msg = format!(
                "{} events at max displacement >= {} Å; W = {:.3}, m = {:.3} eV, e_R = {:.3} eV; {} figures",
                spec.n_events,
                f.min_displacement,
                spec.w,
                spec.m,
                spec.e_r,
                figures.len()
            );
            Ok((Some(spec), msg))
        }
        Err(e) => Ok((None, format!("{} figures; no FIE spectrum fit: {e}", figures.len()))),
    }
}

fn figure_description(name: &str) -> String {
    let n = name.trim_end_matches(".svg");
    if n.contains("joint") {
        format!("{n}: joint E_fw-E_rev histogram")
    } else if n.contains("fit") {
        format!("{n}: E_fw and E_rev histograms with the fitted FIE spectra (M1 + M2, exponential)")
    } else {
        format!("{n}: E_fw, E_rev and asymmetry distributions")
    }
}

/// The FIE step: the anchored model, its configuration, and the cooling curves of the protocol.
fn fie_step(cfg: &RunConfig, out: &Path, fit: &FieSpectrumFit, ix: &mut Index) -> Result<String> {
    let base = FieConfig::from_file(&cfg.fie.base_config)?;
    let model = anchored_model(&base, fit, cfg.fie.anchor_e_is)?;
    let dir = out.join("fie");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let model_path = dir.join("model.toml");
    let fit_file = out.join("asym.fie-spectrum.json");
    let mut inputs = vec![cfg.fie.base_config.as_path()];
    if fit_file.is_file() {
        inputs.push(fit_file.as_path());
    }
    let text = model
        .config()
        .to_toml_with_provenance("FIE model of the quickstart sample", &Provenance::new(&inputs)?)?;
    std::fs::write(&model_path, text).map_err(|e| Error::io(&model_path, e))?;
    ix.add(
        &model_path,
        "FIE model configuration built from the spectrum fit (pelx fie ... --config reads it)",
    );
    let mut file = ProtocolFile::from_file(&cfg.fie.protocol)?;
    let solver = model.config().solver;
    let line = model.equilibrium_line()?;
    // One sample's model can have its liquid line leave the base set's E_IS domain below the
    // protocol's start temperature: cool from the highest temperature where the line exists.
    let notes = file.clip_starts_to_line(&line);
    for n in &notes {
        tracing::warn!("{n}");
    }
    let trajs = run_file(&model, &file, &solver)?;
    let svg = dir.join("cooling.svg");
    plot_run(&svg, &model, &line, &trajs, &model.config().name)?;
    ix.add(
        &svg,
        "figure (SVG): FIE cooling curves E_IS(T) over the ageing map, and dE_IS/dT",
    );
    let csv = dir.join("cooling.csv");
    write_trajectories_csv(&csv, &trajs)?;
    ix.add(&csv, "FIE cooling curves, every state as CSV");
    let prov = Provenance::new(&[&cfg.fie.base_config, &cfg.fie.protocol, &model_path])?;
    let json = dir.join("cooling.json");
    write_pretty(
        &json,
        &RunOutput::new(prov, model.config(), &file, solver, line.t_c, &trajs),
    )?;
    ix.add(
        &json,
        "FIE cooling curves (pelx fie run output): final E_IS per rate, T_c, line crossings",
    );
    let finals: Vec<serde_json::Value> = trajs
        .iter()
        .map(|t| serde_json::json!({"protocol": t.name, "final_e_is": t.last().e_is}))
        .collect();
    ix.headline.insert("fie_t_c".into(), serde_json::json!(line.t_c));
    if !notes.is_empty() {
        ix.headline.insert("fie_start_notes".into(), serde_json::json!(notes));
    }
    ix.headline
        .insert("fie_cooling".into(), serde_json::Value::Array(finals));
    Ok(format!(
        "{} cooling curves; T_c = {}",
        trajs.len(),
        line.t_c.map_or("none".into(), |t| format!("{t:.1} K"))
    ))
}

/// The KMC step: D, D_RW and f of the catalog's barriers on a quenched landscape.
fn kmc_step(cfg: &RunConfig, out: &Path, catalog: &Path, ix: &mut Index) -> Result<String> {
    let report = run_whatif(&cfg.kmc_config(catalog), None)?;
    let json = out.join("kmc-f.json");
    write_pretty(&json, &report)?;
    ix.add(
        &json,
        "KMC correlation factor (pelx kmc whatif --catalog): D, D_RW, f = D/D_RW per temperature",
    );
    for p in write_whatif_svgs(&report, &out.join("figures").join("kmc"))? {
        ix.add(&p, "figure (SVG): KMC f against 1/T");
    }
    let points: Vec<serde_json::Value> = report
        .levels
        .iter()
        .flat_map(|l| l.scan.points.iter())
        .map(
            |p| serde_json::json!({"temperature": p.temperature, "f": p.f, "f_err": p.f_err, "converged": p.converged}),
        )
        .collect();
    let msg = points
        .iter()
        .map(|p| format!("f({} K) = {:.3}", p["temperature"], p["f"].as_f64().unwrap_or(f64::NAN)))
        .collect::<Vec<_>>()
        .join(", ");
    ix.headline.insert("kmc_f".into(), serde_json::Value::Array(points));
    Ok(msg)
}

/// The folder's README.md.
fn readme(s: &RunSummary) -> String {
    let mut t = String::new();
    t.push_str("# pelx run results\n\n");
    t.push_str(&format!(
        "Written by pelx {} (`{}`) in {:.1} s from `{}` on `{}` with `{}`.\n\n",
        s.provenance.pelx_version,
        s.provenance.command.join(" "),
        s.wall_seconds,
        s.config.art.sample,
        s.config.structure.display(),
        s.config
            .potential
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    t.push_str("## Steps\n\n| step | status | seconds | result |\n|---|---|---|---|\n");
    for st in &s.steps {
        t.push_str(&format!(
            "| {} | {} | {:.1} | {} |\n",
            st.name,
            st.status,
            st.seconds,
            st.message.replace('|', "\\|")
        ));
    }
    t.push_str("\n## Headline numbers\n\n```json\n");
    t.push_str(&serde_json::to_string_pretty(&s.headline).unwrap_or_default());
    t.push_str("\n```\n\nEnergies in eV (E_IS in eV/atom), temperatures in K; see docs/units-and-conventions.md.\n\n");
    t.push_str("## Files\n\n| file | what it is |\n|---|---|\n");
    for f in &s.files {
        t.push_str(&format!("| `{}` | {} |\n", f.path, f.description));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_quickstart_config_parses() {
        let c = RunConfig::from_file(Path::new("configs/quickstart.toml")).unwrap();
        assert_eq!(c.structure, PathBuf::from("configs/CuZr50_500.extxyz"));
        assert!(c.fie.enabled && c.kmc.enabled);
    }

    #[test]
    fn bad_fit_filter_and_unknown_keys_are_refused() {
        let base = "structure = 'a.extxyz'\npotential = ['p.eam.fs']\n[art]\nsample = '4 total'\n";
        assert!(RunConfig::from_toml(base).is_ok());
        assert!(RunConfig::from_toml(&format!("{base}[asym]\nfit_filter = 0.7\n")).is_err());
        assert!(RunConfig::from_toml(&format!("{base}colour = 1\n")).is_err());
        assert!(RunConfig::from_toml(&base.replace("4 total", "four")).is_err());
    }

    #[test]
    fn later_steps_are_checked_before_the_campaign() {
        let base = "structure = 'a.extxyz'\npotential = ['p.eam.fs']\n[art]\nsample = '4 total'\n";
        let ok = RunConfig::from_toml(base).unwrap();
        ok.check_later_steps(Path::new("art.jsonl")).unwrap();
        let bad_t = RunConfig::from_toml(&format!("{base}[kmc]\ntemperatures = [-5.0]\n")).unwrap();
        let e = bad_t.check_later_steps(Path::new("art.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with("kmc: ") && e.contains("-5"), "{e}");
        let far = RunConfig::from_toml(&format!("{base}[fie]\nanchor_e_is = -4.866\n")).unwrap();
        let e = far.check_later_steps(Path::new("art.jsonl")).unwrap_err().to_string();
        assert!(
            e.contains("fie.anchor_e_is = -4.866 eV/atom lies outside the domain"),
            "{e}"
        );
        let no_file = RunConfig::from_toml(&format!("{base}[fie]\nprotocol = 'missing.toml'\n")).unwrap();
        let e = no_file
            .check_later_steps(Path::new("art.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.toml"), "{e}");
        let off = RunConfig::from_toml(&format!("{base}[fie]\nenabled = false\nprotocol = 'missing.toml'\n")).unwrap();
        off.check_later_steps(Path::new("art.jsonl")).unwrap();
    }
}
