//! Writing a [`Network`] as GraphML (networkx `read_graphml`, Gephi, yEd) and as DOT
//! (Graphviz). Both are undirected: an edge's `e_fw` is the barrier from its `source` and
//! `e_rev` the barrier from its `target`; parallel edges (distinct saddles between the same two
//! minima) are kept (networkx returns a `MultiGraph` then).

use super::Network;
use crate::{Error, Result};
use petgraph::visit::EdgeRef;
use std::io::Write;
use std::path::Path;

/// GraphML attribute keys: (id, domain, name, type).
const KEYS: [(&str, &str, &str, &str); 11] = [
    ("d0", "node", "energy", "double"),
    ("d1", "node", "initial", "boolean"),
    ("d2", "node", "origin", "int"),
    ("d3", "node", "arrivals", "int"),
    ("d4", "node", "degree", "int"),
    ("d5", "edge", "e_saddle", "double"),
    ("d6", "edge", "e_fw", "double"),
    ("d7", "edge", "e_rev", "double"),
    ("d8", "edge", "multiplicity", "int"),
    ("d9", "edge", "n_forward", "int"),
    ("d10", "edge", "n_backward", "int"),
];

/// A float as GraphML/DOT text: shortest round-trip form, never NaN (energies are finite).
fn num(x: f64) -> String {
    format!("{x:?}")
}

/// Writes GraphML 1.0 (<http://graphml.graphdrawing.org/>).
pub fn write_graphml<W: Write + ?Sized>(net: &Network, out: &mut W) -> std::io::Result<()> {
    let g = &net.graph;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">"#
    )?;
    writeln!(
        out,
        "  <!-- pelx {} basin network: nodes are minima (energy in eV), edges are saddles; e_fw is the barrier from the source node, e_rev from the target node (eV). -->",
        crate::provenance::VERSION
    )?;
    for (id, domain, name, ty) in KEYS {
        writeln!(
            out,
            r#"  <key id="{id}" for="{domain}" attr.name="{name}" attr.type="{ty}"/>"#
        )?;
    }
    writeln!(out, r#"  <graph id="pelx" edgedefault="undirected">"#)?;
    for n in g.node_indices() {
        let m = &g[n];
        writeln!(
            out,
            r#"    <node id="n{}"><data key="d0">{}</data><data key="d1">{}</data><data key="d2">{}</data><data key="d3">{}</data><data key="d4">{}</data></node>"#,
            n.index(),
            num(m.energy),
            m.initial,
            m.origin,
            m.arrivals,
            g.edges(n).count()
        )?;
    }
    for e in g.edge_references() {
        let s = e.weight();
        writeln!(
            out,
            r#"    <edge id="e{}" source="n{}" target="n{}"><data key="d5">{}</data><data key="d6">{}</data><data key="d7">{}</data><data key="d8">{}</data><data key="d9">{}</data><data key="d10">{}</data></edge>"#,
            e.id().index(),
            e.source().index(),
            e.target().index(),
            num(s.e_saddle),
            num(s.e_fw),
            num(s.e_rev),
            s.multiplicity(),
            s.n_forward,
            s.n_backward
        )?;
    }
    writeln!(out, "  </graph>")?;
    writeln!(out, "</graphml>")
}

/// Writes a Graphviz DOT graph: nodes labelled with their energy relative to the lowest
/// starting minimum, edges with "E_fw / E_rev" (eV); starting minima drawn as boxes. The raw
/// numbers are attributes too (`energy`, `e_saddle`, `e_fw`, `e_rev`, `multiplicity`).
pub fn write_dot<W: Write + ?Sized>(net: &Network, out: &mut W) -> std::io::Result<()> {
    let g = &net.graph;
    let e0 = net
        .initial_nodes
        .iter()
        .map(|&n| g[n].energy)
        .fold(f64::INFINITY, f64::min);
    writeln!(
        out,
        "// pelx {} basin network (energies in eV)",
        crate::provenance::VERSION
    )?;
    writeln!(out, "graph pelx {{")?;
    writeln!(out, "  node [shape=ellipse, fontsize=10];")?;
    writeln!(out, "  edge [fontsize=8];")?;
    for n in g.node_indices() {
        let m = &g[n];
        let shape = if m.initial { ", shape=box" } else { "" };
        writeln!(
            out,
            "  n{} [label=\"{}\\n{:+.3}\", energy={}{shape}];",
            n.index(),
            n.index(),
            m.energy - e0,
            num(m.energy)
        )?;
    }
    for e in g.edge_references() {
        let s = e.weight();
        writeln!(
            out,
            "  n{} -- n{} [label=\"{:.3} / {:.3}\", e_saddle={}, e_fw={}, e_rev={}, multiplicity={}];",
            e.source().index(),
            e.target().index(),
            s.e_fw,
            s.e_rev,
            num(s.e_saddle),
            num(s.e_fw),
            num(s.e_rev),
            s.multiplicity()
        )?;
    }
    writeln!(out, "}}")
}

/// Writes a file through `writer`, atomically (a temporary file renamed into place).
pub fn write_file(path: &Path, writer: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::invalid(format!(
            "{}: folder {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    // tempfile's own message names the random temporary file; the user named `path`.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
        let why = format!("cannot create a file in {}: {}", dir.display(), e.kind());
        Error::io(path, std::io::Error::new(e.kind(), why))
    })?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        writer(&mut w).map_err(|e| Error::io(path, e))?;
        w.flush().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}
