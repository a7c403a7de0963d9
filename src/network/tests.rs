//! A synthetic landscape with known minima, saddles and duplicates, seen from two shards of
//! one campaign and from a second campaign started in one of the minima the first one found.

use super::export::{write_dot, write_graphml};
use super::*;
use crate::analysis::catalogs::testing::{network_fixture, NETWORK_E0};
use crate::analysis::catalogs::SetOptions;
use crate::structure::io::ReadOptions;
use std::path::PathBuf;

const E0: f64 = NETWORK_E0;

struct Fixture {
    _dir: tempfile::TempDir,
    catalogs: Vec<PathBuf>,
    structures: Vec<PathBuf>,
}

/// See [`network_fixture`] for the landscape.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (catalogs, structures) = network_fixture(dir.path());
    Fixture {
        _dir: dir,
        catalogs,
        structures,
    }
}

fn several() -> SetOptions {
    SetOptions {
        several_structures: true,
        force: false,
    }
}

#[test]
fn synthetic_catalogs_give_the_known_graph() {
    let fx = fixture();
    let mut set = CatalogSet::read(&fx.catalogs, &several()).unwrap();
    // The structures are found next to the catalogs (the recorded relative paths).
    set.locate_structures(&[], &ReadOptions::default()).unwrap();
    set.require_structures("test").unwrap();
    let net = Network::build(&set, &NetworkOptions::default()).unwrap();
    let sum = net.summary();
    assert_eq!(sum.minima, 6, "{sum:?}");
    assert_eq!(sum.initial_minima, 2);
    assert_eq!(sum.saddles, 6);
    assert_eq!(sum.events, 12);
    assert_eq!(sum.events_on_edges, 10);
    assert_eq!(sum.repeated_events, 4);
    assert_eq!(sum.self_loops, 1);
    assert_eq!(sum.not_reconnecting, 1);
    assert_eq!(sum.components, 1);
    assert_eq!(sum.degree_histogram, vec![[1, 4], [3, 1], [5, 1]]);
    assert_eq!(sum.multiplicity_histogram, vec![[1, 4], [2, 1], [4, 1]]);
    // The starting structure of the second campaign is minimum A.
    let g = &net.graph;
    let (s, a) = (net.initial_nodes[0], net.initial_nodes[1]);
    assert!((g[a].energy - (E0 + 0.2)).abs() < 1e-12 && g[a].initial && g[a].arrivals == 4);
    // s1 was crossed three times from S and once from A, and carries both barriers.
    let s1 = g
        .edges_connecting(s, a)
        .find(|e| e.weight().multiplicity() == 4)
        .expect("s1");
    let w = s1.weight();
    assert_eq!((w.n_forward, w.n_backward), (3, 1));
    assert_eq!(g.edge_endpoints(s1.id()), Some((s, a)));
    assert!((w.e_fw - 0.5).abs() < 1e-12 && (w.e_rev - 0.3).abs() < 1e-12);
    assert!((w.e_saddle_spread - 1e-4).abs() < 1e-9);
    assert_eq!(
        w.events.iter().map(|e| (e.catalog, e.task)).collect::<Vec<_>>(),
        vec![(0, 0), (0, 1), (1, 8), (2, 0)]
    );
    // s2 is a second, parallel edge between S and A.
    assert_eq!(g.edges_connecting(s, a).count(), 2);
    // Fates line up with the events.
    assert_eq!(net.fates[0][5], Fate::SelfLoop);
    assert_eq!(net.fates[0][6], Fate::NotReconnecting);
    assert_eq!(
        net.fates[2][0],
        Fate::Edge {
            edge: s1.id(),
            forward: false
        }
    );
}

#[test]
fn without_the_structures_the_campaigns_stay_apart() {
    let fx = fixture();
    let set = CatalogSet::read(&fx.catalogs, &several()).unwrap();
    let net = Network::build(&set, &NetworkOptions::default()).unwrap();
    let sum = net.summary();
    // T and the S it returns to are new minima: 8 minima in two components.
    assert_eq!((sum.minima, sum.saddles, sum.components), (8, 7, 2), "{sum:?}");
    assert_eq!(sum.component_sizes, vec![5, 3]);
}

#[test]
fn tolerances_decide_identity() {
    let fx = fixture();
    let mut set = CatalogSet::read(&fx.catalogs[..1], &SetOptions::default()).unwrap();
    set.locate_structures(&fx.structures[..1], &ReadOptions::default())
        .unwrap();
    // 0.005 Å: the noisy copy of s1 (0.01 Å off) is a new minimum and a new saddle.
    let tight = NetworkOptions {
        distance_tol: 0.005,
        ..Default::default()
    };
    // The near-self-loop (0.05 Å from S) becomes a minimum of its own as well.
    let sum = Network::build(&set, &tight).unwrap().summary();
    assert_eq!((sum.minima, sum.saddles, sum.self_loops), (6, 6, 0), "{sum:?}");
    // With unconnected events kept, task 6 adds a minimum and a saddle.
    let keep = NetworkOptions {
        keep_unconnected: true,
        ..Default::default()
    };
    let sum = Network::build(&set, &keep).unwrap().summary();
    assert_eq!((sum.minima, sum.saddles, sum.not_reconnecting), (5, 5, 0), "{sum:?}");
    let bad = NetworkOptions {
        energy_tol: 0.0,
        ..Default::default()
    };
    assert!(Network::build(&set, &bad).is_err());
}

#[test]
fn document_graphml_and_dot_carry_the_graph() {
    let fx = fixture();
    let mut set = CatalogSet::read(&fx.catalogs, &several()).unwrap();
    set.locate_structures(&fx.structures, &ReadOptions::default()).unwrap();
    let net = Network::build(&set, &NetworkOptions::default()).unwrap();
    let doc = net.document(&set, Provenance::new(&[]).unwrap());
    assert_eq!(doc.schema, SCHEMA);
    assert_eq!((doc.nodes.len(), doc.edges.len()), (6, 6));
    let text = serde_json::to_string(&doc).unwrap();
    let back: NetworkDocument = serde_json::from_str(&text).unwrap();
    assert_eq!(back, doc);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/network.schema.json")).unwrap(),
    )
    .unwrap();
    let errors = crate::schema::check(&schema, &serde_json::to_value(&doc).unwrap());
    assert!(errors.is_empty(), "{errors:#?}");

    let mut gml = Vec::new();
    write_graphml(&net, &mut gml).unwrap();
    let gml = String::from_utf8(gml).unwrap();
    assert_eq!(gml.matches("<node ").count(), 6);
    assert_eq!(gml.matches("<edge ").count(), 6);
    // Every data key used is declared.
    for key in gml.split("key=\"").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(gml.contains(&format!("<key id=\"{key}\"")), "{key}");
    }
    let mut dot = Vec::new();
    write_dot(&net, &mut dot).unwrap();
    let dot = String::from_utf8(dot).unwrap();
    assert_eq!(dot.matches(" -- ").count(), 6);
    assert!(dot.starts_with("// pelx") && dot.trim_end().ends_with('}'));
}

/// networkx reads the GraphML back with every attribute (skipped without Python and networkx;
/// set PELX_PYTHON to an interpreter that has it).
#[test]
fn graphml_loads_in_networkx() {
    let python = std::env::var("PELX_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_nx = std::process::Command::new(&python)
        .args(["-c", "import networkx"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_nx {
        eprintln!("skipped: {python} has no networkx (set PELX_PYTHON)");
        return;
    }
    let fx = fixture();
    let mut set = CatalogSet::read(&fx.catalogs, &several()).unwrap();
    set.locate_structures(&fx.structures, &ReadOptions::default()).unwrap();
    let net = Network::build(&set, &NetworkOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("net.graphml");
    export::write_file(&p, |w| write_graphml(&net, w)).unwrap();
    let script = r#"
import sys, networkx as nx
g = nx.read_graphml(sys.argv[1])
assert g.is_multigraph() and not g.is_directed(), type(g)
mult = sorted(d["multiplicity"] for _, _, d in g.edges(data=True))
s1 = [d for _, _, d in g.edges(data=True) if d["multiplicity"] == 4][0]
print(g.number_of_nodes(), g.number_of_edges(), nx.number_connected_components(g),
      sum(1 for _, d in g.nodes(data=True) if d["initial"]), mult, s1["e_fw"], s1["e_rev"],
      type(s1["e_fw"]).__name__, type(s1["multiplicity"]).__name__)
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script, p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "6 6 1 2 [1, 1, 1, 1, 2, 4] 0.5 0.3 float int"
    );
}
