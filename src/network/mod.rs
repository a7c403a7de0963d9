//! The basin network: distinct minima as nodes, saddles as edges carrying both barriers,
//! built from one or many event catalogs (shards of a campaign, or campaigns started from
//! several structures).
//!
//! Every event names an initial minimum (its catalog's starting structure), a saddle and a
//! final minimum, the latter two as sparse displacements from the start. Minima are the same
//! when their energies agree within `energy_tol` and no atom is more than `distance_tol` apart
//! (same atom order, minimum image; the private `ident` module does this in O(moved atoms)). Saddles between the
//! same two minima are the same under `saddle_energy_tol` and `distance_tol`; a saddle found
//! again adds to its edge's multiplicity. Identification is greedy in input order: a new
//! configuration joins the first representative it matches (catalogs in the order given, events
//! in file order), so the result is deterministic.
//!
//! An edge's `e_fw` is the barrier from its `source` node and `e_rev` the barrier from its
//! `target` node, both from the event that first found the saddle. Events whose saddle does
//! not relax back to their initial minimum (`reconnects: false`) do not connect the two minima
//! they name and are left out unless asked for; events whose final minimum is their initial one
//! (a self-loop) are counted and left out.
//!
//! Output: [`NetworkDocument`] (`net.json`, schema `schemas/network.schema.json`), GraphML
//! (networkx, Gephi) and DOT (Graphviz), in [`export`].

pub mod export;
pub(crate) mod ident;

use crate::analysis::catalogs::{CatalogSet, CatalogSummary, EventId};
use crate::provenance::Provenance;
use crate::{Error, Result};
use ident::{Comparer, Config, EnergyIndex};
use petgraph::graph::{EdgeIndex, NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version tag of `net.json`.
pub const SCHEMA: &str = "pelx.network/1";

/// How configurations are recognised and which events count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NetworkOptions {
    /// Two minima with energies closer than this (eV) may be the same.
    pub energy_tol: f64,
    /// Two configurations are the same when no atom is farther apart than this (Å).
    pub distance_tol: f64,
    /// Two saddles with energies closer than this (eV) may be the same.
    pub saddle_energy_tol: f64,
    /// Keep events whose saddle does not relax back to their initial minimum.
    pub keep_unconnected: bool,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            energy_tol: 1e-3,
            distance_tol: 0.1,
            saddle_energy_tol: 1e-3,
            keep_unconnected: false,
        }
    }
}

impl NetworkOptions {
    /// Tolerances must be positive and finite.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("energy tolerance", self.energy_tol),
            ("distance tolerance", self.distance_tol),
            ("saddle energy tolerance", self.saddle_energy_tol),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(format!("{name} {v} must be positive")));
            }
        }
        Ok(())
    }
}

/// A node: a distinct minimum.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// Energy, eV (of the first observation).
    pub energy: f64,
    /// The origin (starting structure) of its representative configuration.
    pub origin: usize,
    /// Whether it is the starting minimum of some catalog.
    pub initial: bool,
    /// Events that ended here.
    pub arrivals: usize,
    /// The event that first reached it (None for a starting minimum).
    pub first_event: Option<EventId>,
    config: Config,
}

/// An edge: a distinct saddle between two minima.
#[derive(Debug, Clone, PartialEq)]
pub struct Saddle {
    /// Saddle energy, eV.
    pub e_saddle: f64,
    /// Barrier from the edge's source minimum and from its target minimum, eV.
    pub e_fw: f64,
    pub e_rev: f64,
    /// Events that crossed it: from source to target, and from target to source.
    pub n_forward: usize,
    pub n_backward: usize,
    /// Largest |E_saddle - e_saddle| over the merged events, eV.
    pub e_saddle_spread: f64,
    /// The events, in input order.
    pub events: Vec<EventId>,
    config: Config,
}

impl Saddle {
    /// Events merged into this edge.
    pub fn multiplicity(&self) -> usize {
        self.n_forward + self.n_backward
    }
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Crossed `edge`, from its source to its target when `forward`.
    Edge { edge: EdgeIndex, forward: bool },
    /// The final minimum is the initial one.
    SelfLoop,
    /// The saddle does not relax back to the initial minimum (left out).
    NotReconnecting,
}

/// The basin network.
#[derive(Debug, Clone)]
pub struct Network {
    pub graph: UnGraph<Minimum, Saddle>,
    /// The node of each origin's starting minimum.
    pub initial_nodes: Vec<NodeIndex>,
    /// fates[catalog][event index in the catalog].
    pub fates: Vec<Vec<Fate>>,
    pub options: NetworkOptions,
}

impl Network {
    /// Builds the network of a catalog set (see the module documentation). Starting structures
    /// attached to the set's origins let minima of different origins be recognised as the
    /// same; without them, origins never share a minimum.
    pub fn build(set: &CatalogSet, opts: &NetworkOptions) -> Result<Network> {
        opts.validate()?;
        let structures = set.origins.iter().map(|o| o.structure.as_ref()).collect();
        let mut cmp = Comparer::new(structures);
        let mut graph: UnGraph<Minimum, Saddle> = UnGraph::default();
        let mut index = EnergyIndex::new(opts.energy_tol);
        let mut find_or_add = |graph: &mut UnGraph<Minimum, Saddle>,
                               cmp: &mut Comparer,
                               config: Config,
                               energy: f64,
                               initial: bool,
                               first_event: Option<EventId>|
         -> NodeIndex {
            for id in index.candidates(energy) {
                let n = NodeIndex::new(id);
                let node = &graph[n];
                if (node.energy - energy).abs() <= opts.energy_tol
                    && cmp.within(&node.config, &config, opts.distance_tol)
                {
                    if initial {
                        graph[n].initial = true;
                    }
                    return n;
                }
            }
            let n = graph.add_node(Minimum {
                energy,
                origin: config.origin,
                initial,
                arrivals: 0,
                first_event,
                config,
            });
            index.insert(energy, n.index());
            n
        };
        let mut initial_nodes = Vec::with_capacity(set.origins.len());
        for (o, origin) in set.origins.iter().enumerate() {
            let n = find_or_add(
                &mut graph,
                &mut cmp,
                Config::new(o, Vec::new())?,
                origin.e_initial,
                true,
                None,
            );
            initial_nodes.push(n);
        }
        let mut fates = Vec::with_capacity(set.catalogs.len());
        for (k, cat) in set.catalogs.iter().enumerate() {
            let o = set.origin_of_catalog(k);
            let u = initial_nodes[o];
            let mut cat_fates = Vec::with_capacity(cat.events.len());
            for e in &cat.events {
                let id = EventId {
                    catalog: k,
                    task: e.task,
                };
                if !e.reconnects && !opts.keep_unconnected {
                    cat_fates.push(Fate::NotReconnecting);
                    continue;
                }
                let fin = Config::new(o, e.final_displacements.clone())
                    .map_err(|err| Error::parse(&cat.path, 0, format!("event of task {}: {err}", e.task)))?;
                let v = find_or_add(&mut graph, &mut cmp, fin, e.e_final, false, Some(id));
                if v == u {
                    cat_fates.push(Fate::SelfLoop);
                    continue;
                }
                graph[v].arrivals += 1;
                let saddle = Config::new(o, e.saddle_displacements.clone())
                    .map_err(|err| Error::parse(&cat.path, 0, format!("event of task {}: {err}", e.task)))?;
                let existing = graph.edges_connecting(u, v).map(|er| er.id()).find(|&eid| {
                    let s = &graph[eid];
                    (s.e_saddle - e.e_saddle).abs() <= opts.saddle_energy_tol
                        && cmp.within(&s.config, &saddle, opts.distance_tol)
                });
                let fate = match existing {
                    Some(eid) => {
                        let forward = graph.edge_endpoints(eid).map(|(a, _)| a) == Some(u);
                        let s = &mut graph[eid];
                        if forward {
                            s.n_forward += 1;
                        } else {
                            s.n_backward += 1;
                        }
                        s.e_saddle_spread = s.e_saddle_spread.max((e.e_saddle - s.e_saddle).abs());
                        s.events.push(id);
                        Fate::Edge { edge: eid, forward }
                    }
                    None => {
                        let eid = graph.add_edge(
                            u,
                            v,
                            Saddle {
                                e_saddle: e.e_saddle,
                                e_fw: e.e_fw,
                                e_rev: e.e_rev,
                                n_forward: 1,
                                n_backward: 0,
                                e_saddle_spread: 0.0,
                                events: vec![id],
                                config: saddle,
                            },
                        );
                        Fate::Edge {
                            edge: eid,
                            forward: true,
                        }
                    }
                };
                cat_fates.push(fate);
            }
            fates.push(cat_fates);
        }
        Ok(Network {
            graph,
            initial_nodes,
            fates,
            options: *opts,
        })
    }

    /// Counts and distributions.
    pub fn summary(&self) -> NetworkSummary {
        let g = &self.graph;
        let mut degrees: BTreeMap<usize, usize> = BTreeMap::new();
        for n in g.node_indices() {
            *degrees.entry(g.edges(n).count()).or_default() += 1;
        }
        let mut mult: BTreeMap<usize, usize> = BTreeMap::new();
        for e in g.edge_weights() {
            *mult.entry(e.multiplicity()).or_default() += 1;
        }
        let mut uf = UnionFind::<usize>::new(g.node_count());
        for e in g.edge_references() {
            uf.union(e.source().index(), e.target().index());
        }
        let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
        for n in 0..g.node_count() {
            *sizes.entry(uf.find(n)).or_default() += 1;
        }
        let mut component_sizes: Vec<usize> = sizes.into_values().collect();
        component_sizes.sort_unstable_by(|a, b| b.cmp(a));
        let count = |f: &dyn Fn(&Fate) -> bool| self.fates.iter().flatten().filter(|x| f(x)).count();
        let events_on_edges = count(&|f| matches!(f, Fate::Edge { .. }));
        NetworkSummary {
            minima: g.node_count(),
            initial_minima: g.node_weights().filter(|m| m.initial).count(),
            saddles: g.edge_count(),
            events: self.fates.iter().map(Vec::len).sum(),
            events_on_edges,
            repeated_events: events_on_edges - g.edge_count(),
            self_loops: count(&|f| *f == Fate::SelfLoop),
            not_reconnecting: count(&|f| *f == Fate::NotReconnecting),
            mean_degree: if g.node_count() > 0 {
                2.0 * g.edge_count() as f64 / g.node_count() as f64
            } else {
                0.0
            },
            max_degree: degrees.keys().next_back().copied().unwrap_or(0),
            degree_histogram: degrees.into_iter().map(|(d, n)| [d, n]).collect(),
            multiplicity_histogram: mult.into_iter().map(|(m, n)| [m, n]).collect(),
            components: component_sizes.len(),
            component_sizes,
        }
    }

    /// The `net.json` document.
    pub fn document(&self, set: &CatalogSet, provenance: Provenance) -> NetworkDocument {
        let g = &self.graph;
        let nodes = g
            .node_indices()
            .map(|n| {
                let m = &g[n];
                NodeOut {
                    id: n.index(),
                    energy: m.energy,
                    origin: m.origin,
                    initial: m.initial,
                    degree: g.edges(n).count(),
                    arrivals: m.arrivals,
                    n_moved: m.config.disp.len(),
                    first_event: m.first_event,
                }
            })
            .collect();
        let edges = g
            .edge_references()
            .map(|e| {
                let s = e.weight();
                EdgeOut {
                    id: e.id().index(),
                    source: e.source().index(),
                    target: e.target().index(),
                    e_saddle: s.e_saddle,
                    e_fw: s.e_fw,
                    e_rev: s.e_rev,
                    multiplicity: s.multiplicity(),
                    n_forward: s.n_forward,
                    n_backward: s.n_backward,
                    e_saddle_spread: s.e_saddle_spread,
                    events: s.events.clone(),
                }
            })
            .collect();
        let origins = set
            .origins
            .iter()
            .zip(&self.initial_nodes)
            .map(|(o, n)| OriginOut {
                structure: o.structure_path.clone(),
                structure_sha256: o.structure_sha256.clone(),
                e_initial: o.e_initial,
                natoms: o.natoms,
                node: n.index(),
                structure_found: o.structure.is_some(),
            })
            .collect();
        NetworkDocument {
            schema: SCHEMA.to_string(),
            pelx_version: crate::provenance::VERSION.to_string(),
            parameters: self.options,
            inputs: set.summaries(),
            origins,
            summary: self.summary(),
            nodes,
            edges,
            provenance,
        }
    }
}

/// Counts and distributions of a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    pub minima: usize,
    /// Minima that are the starting structure of some catalog.
    pub initial_minima: usize,
    /// Distinct saddles (edges).
    pub saddles: usize,
    /// Events in the catalogs.
    pub events: usize,
    /// Events that became or joined an edge.
    pub events_on_edges: usize,
    /// Events that found a saddle already in the network (events_on_edges - saddles).
    pub repeated_events: usize,
    /// Events whose final minimum is their initial one (left out).
    pub self_loops: usize,
    /// Events whose saddle does not relax back to their initial minimum (left out unless
    /// `keep_unconnected`).
    pub not_reconnecting: usize,
    /// Mean number of saddles per minimum.
    pub mean_degree: f64,
    pub max_degree: usize,
    /// [degree, number of minima] pairs, by degree.
    pub degree_histogram: Vec<[usize; 2]>,
    /// [multiplicity, number of saddles] pairs.
    pub multiplicity_histogram: Vec<[usize; 2]>,
    /// Connected components and their sizes (minima), largest first.
    pub components: usize,
    pub component_sizes: Vec<usize>,
}

/// A starting structure in `net.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginOut {
    pub structure: String,
    pub structure_sha256: String,
    pub e_initial: f64,
    pub natoms: usize,
    /// Its node.
    pub node: usize,
    /// Whether the structure file was available (needed to compare minima across origins).
    pub structure_found: bool,
}

/// A minimum in `net.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeOut {
    pub id: usize,
    /// eV.
    pub energy: f64,
    /// Index into `origins` of the structure its displacements refer to.
    pub origin: usize,
    pub initial: bool,
    /// Distinct saddles at this minimum.
    pub degree: usize,
    /// Events that ended here.
    pub arrivals: usize,
    /// Atoms displaced from the origin (sparse list length).
    pub n_moved: usize,
    /// The event that first reached it (`pelx catalog extract` rebuilds it); null for a
    /// starting minimum.
    pub first_event: Option<EventId>,
}

/// A saddle in `net.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeOut {
    pub id: usize,
    pub source: usize,
    pub target: usize,
    /// eV.
    pub e_saddle: f64,
    /// Barrier from `source`, eV.
    pub e_fw: f64,
    /// Barrier from `target`, eV.
    pub e_rev: f64,
    pub multiplicity: usize,
    pub n_forward: usize,
    pub n_backward: usize,
    pub e_saddle_spread: f64,
    pub events: Vec<EventId>,
}

/// `net.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkDocument {
    /// "pelx.network/1".
    pub schema: String,
    pub pelx_version: String,
    pub parameters: NetworkOptions,
    pub inputs: Vec<CatalogSummary>,
    pub origins: Vec<OriginOut>,
    pub summary: NetworkSummary,
    pub nodes: Vec<NodeOut>,
    pub edges: Vec<EdgeOut>,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests;
