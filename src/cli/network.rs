//! `pelx network`: the basin network of event catalogs (parsing and printing only; the work is
//! in `pelx::network`).

use super::common::{emit_json, refuse_overwriting_inputs};
use clap::Args;
use pelx::analysis::catalogs::{CatalogSet, SetOptions};
use pelx::network::export::{write_dot, write_file, write_graphml};
use pelx::network::{Network, NetworkOptions, NetworkSummary};
use pelx::provenance::Provenance;
use pelx::structure::io::ReadOptions;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXAMPLES: &str = "Examples:
  pelx network art-0.jsonl art-1.jsonl art-2.jsonl -o net.json --graphml net.graphml
  pelx network run-a.jsonl run-b.jsonl --structure a.extxyz --structure b.extxyz -o net.json --dot net.dot

Nodes are distinct minima (same energy within --energy-tol and no atom farther than
--distance-tol from a representative), edges distinct saddles with both barriers: e_fw from the
edge's source node, e_rev from its target node; a saddle found again raises its multiplicity.
Catalogs may be shards of one campaign or campaigns from several starting structures; minima of
different starting structures are compared through the structure files (found from the catalogs'
run records or given with --structure). Schema of net.json: schemas/network.schema.json.
stdout: {\"net\", \"graphml\", \"dot\", \"summary\": {\"minima\", \"saddles\", \"degree_histogram\",
\"components\", ...}}.";

#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Event catalogs (JSON lines).
    #[arg(required = true, value_name = "CATALOG")]
    pub catalogs: Vec<PathBuf>,
    /// Write the network (pelx.network/1 JSON) here.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Also write GraphML (networkx, Gephi).
    #[arg(long, value_name = "FILE")]
    pub graphml: Option<PathBuf>,
    /// Also write Graphviz DOT.
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Starting structure of some of the catalogs (repeatable); matched by content hash.
    #[arg(long = "structure", value_name = "FILE")]
    pub structures: Vec<PathBuf>,
    /// Element names of LAMMPS atom types for structure files in LAMMPS data format (type 1
    /// first), e.g. `Cu,Zr`.
    #[arg(long, value_delimiter = ',', value_name = "ELEMENTS")]
    pub elements: Option<Vec<String>>,
    /// Minima closer in energy than this may be the same, eV.
    #[arg(long, default_value_t = 1e-3, value_name = "eV")]
    pub energy_tol: f64,
    /// Configurations are the same when no atom is farther apart than this, Å.
    #[arg(long, default_value_t = 0.1, value_name = "Å")]
    pub distance_tol: f64,
    /// Saddles closer in energy than this may be the same, eV.
    #[arg(long, default_value_t = 1e-3, value_name = "eV")]
    pub saddle_energy_tol: f64,
    /// Keep events whose saddle does not relax back to their initial minimum (left out by
    /// default: they do not connect the two minima they name).
    #[arg(long)]
    pub keep_unconnected: bool,
    /// Combine catalogs of different systems or overlapping shards, and keep the minima of
    /// starting structures whose file is missing apart instead of failing.
    #[arg(long)]
    pub force: bool,
}

#[derive(Serialize)]
struct Stdout<'a> {
    net: String,
    graphml: Option<String>,
    dot: Option<String>,
    summary: &'a NetworkSummary,
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

pub fn run(a: &NetworkArgs) -> anyhow::Result<ExitCode> {
    let inputs = a.catalogs.iter().chain(&a.structures).map(PathBuf::as_path);
    refuse_overwriting_inputs(
        inputs,
        [Some(a.output.as_path()), a.graphml.as_deref(), a.dot.as_deref()],
    )?;
    let opts = NetworkOptions {
        energy_tol: a.energy_tol,
        distance_tol: a.distance_tol,
        saddle_energy_tol: a.saddle_energy_tol,
        keep_unconnected: a.keep_unconnected,
    };
    opts.validate()?;
    let mut set = CatalogSet::read(
        &a.catalogs,
        &SetOptions {
            several_structures: true,
            force: a.force,
        },
    )?;
    let read = ReadOptions {
        species: a.elements.clone(),
        ..Default::default()
    };
    set.locate_structures(&a.structures, &read)?;
    if set.origins.len() > 1 {
        if let Err(e) = set.require_structures("recognising minima shared by catalogs of different starting structures")
        {
            if a.force {
                tracing::warn!("{e}; --force: their minima are kept apart");
            } else {
                anyhow::bail!("{e} (or --force to keep their minima apart)");
            }
        }
    }
    let net = Network::build(&set, &opts)?;
    let mut inputs: Vec<&Path> = a.catalogs.iter().map(PathBuf::as_path).collect();
    inputs.extend(a.structures.iter().map(PathBuf::as_path));
    let doc = net.document(&set, Provenance::new(&inputs)?);
    let text = serde_json::to_string_pretty(&doc)?;
    write_file(&a.output, |w| writeln!(w, "{text}"))?;
    if let Some(p) = &a.graphml {
        write_file(p, |w| write_graphml(&net, w))?;
    }
    if let Some(p) = &a.dot {
        write_file(p, |w| write_dot(&net, w))?;
    }
    let s = &doc.summary;
    tracing::info!(
        "{} minima, {} saddles from {} events ({} repeated, {} self-loops, {} not reconnecting), {} components",
        s.minima,
        s.saddles,
        s.events,
        s.repeated_events,
        s.self_loops,
        s.not_reconnecting,
        s.components
    );
    emit_json(
        &Stdout {
            net: show(&a.output),
            graphml: a.graphml.as_deref().map(show),
            dot: a.dot.as_deref().map(show),
            summary: s,
        },
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}
