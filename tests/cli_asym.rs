//! `pelx network` and `pelx asym` end to end on the synthetic catalogs of
//! `tests/fixtures/catalogs/` (see its README for what they hold).

use pelx::analysis::asym::AsymDocument;
use pelx::fie::fit::FieSpectrumFit;
use pelx::network::NetworkDocument;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    format!("tests/fixtures/catalogs/{name}")
}

fn pelx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run pelx")
}

fn ok(args: &[&str]) -> serde_json::Value {
    let out = pelx(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Runs pelx expecting failure; returns stderr, checking exit status 2, one line, no panic.
fn fails(args: &[&str]) -> String {
    let out = pelx(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "args {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic on {args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "error should be one line: {err}");
    err
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn network_of_the_fixture_catalogs() {
    let dir = tempfile::tempdir().unwrap();
    let (net, gml, dot) = (tmp(&dir, "net.json"), tmp(&dir, "net.graphml"), tmp(&dir, "net.dot"));
    let v = ok(&[
        "network",
        &fixture("net-s0.jsonl"),
        &fixture("net-s1.jsonl"),
        &fixture("net-a.jsonl"),
        "-o",
        net.to_str().unwrap(),
        "--graphml",
        gml.to_str().unwrap(),
        "--dot",
        dot.to_str().unwrap(),
    ]);
    let s = &v["summary"];
    assert_eq!(
        (s["minima"].as_u64(), s["saddles"].as_u64(), s["components"].as_u64()),
        (Some(6), Some(6), Some(1))
    );
    assert_eq!(s["degree_histogram"], serde_json::json!([[1, 4], [3, 1], [5, 1]]));
    assert_eq!(s["multiplicity_histogram"], serde_json::json!([[1, 4], [2, 1], [4, 1]]));
    let doc: NetworkDocument = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    assert_eq!(doc.schema, "pelx.network/1");
    assert_eq!((doc.nodes.len(), doc.edges.len()), (6, 6));
    assert!(doc.origins.iter().all(|o| o.structure_found));
    assert_eq!(doc.provenance.inputs.len(), 3);
    assert!(std::fs::read_to_string(&gml).unwrap().contains("<graphml"));
    assert!(std::fs::read_to_string(&dot).unwrap().contains("graph pelx {"));
}

#[test]
fn network_needs_the_structures_of_several_starts() {
    // Copies without the structure files next to them.
    let dir = tempfile::tempdir().unwrap();
    for name in ["net-s0.jsonl", "net-a.jsonl"] {
        std::fs::copy(root().join(fixture(name)), tmp(&dir, name)).unwrap();
    }
    let (s0, a) = (tmp(&dir, "net-s0.jsonl"), tmp(&dir, "net-a.jsonl"));
    let net = tmp(&dir, "net.json");
    let err = fails(&[
        "network",
        s0.to_str().unwrap(),
        a.to_str().unwrap(),
        "-o",
        net.to_str().unwrap(),
    ]);
    assert!(
        err.contains("S.extxyz") && err.contains("T.extxyz") && err.contains("--structure"),
        "{err}"
    );
    assert!(!net.exists());
    // Given explicitly, they are used.
    let v = ok(&[
        "network",
        s0.to_str().unwrap(),
        a.to_str().unwrap(),
        "--structure",
        &fixture("S.extxyz"),
        "--structure",
        &fixture("T.extxyz"),
        "-o",
        net.to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["components"], 1);
    // With --force, the two campaigns stay apart.
    let v = ok(&[
        "network",
        s0.to_str().unwrap(),
        a.to_str().unwrap(),
        "--force",
        "-o",
        net.to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["components"], 2);
    // A structure that starts none of the catalogs is refused.
    let err = fails(&[
        "network",
        s0.to_str().unwrap(),
        "--structure",
        &fixture("CuZr20.extxyz"),
        "-o",
        net.to_str().unwrap(),
    ]);
    assert!(err.contains("starting structure of none"), "{err}");
}

#[test]
fn asym_with_fit_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (out, figs) = (tmp(&dir, "asym.json"), tmp(&dir, "figures"));
    let v = ok(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--min-disp",
        "0,1,2.5",
        "--fit",
        "fie",
        "-o",
        out.to_str().unwrap(),
        "--plot",
        figs.to_str().unwrap(),
    ]);
    assert_eq!(v["events"], 1000);
    let n: Vec<u64> = v["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["n_events"].as_u64().unwrap())
        .collect();
    assert_eq!(n[0], 1000);
    assert!(n[0] > n[1] && n[1] > n[2] && n[2] > 100, "{n:?}");
    let doc: AsymDocument = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc.schema, "pelx.asym/1");
    // The spectrum file, next to -o, reads as `pelx fie regress` reads it.
    let spec_path = tmp(&dir, "asym.fie-spectrum.json");
    assert_eq!(v["fie_spectrum"], spec_path.to_str().unwrap());
    let spec = FieSpectrumFit::from_file(&spec_path).unwrap();
    assert_eq!(spec.sample, "CuZr20");
    assert_eq!(spec.n_events, 1000);
    let a = doc.filters[0].fits.as_ref().unwrap().activation.as_ref().unwrap();
    assert_eq!(spec.w, a.w.value);
    // 1,000 draws of W = 0.12, m = 0.9 eV, e_R = 0.32 eV: within 4 sigma.
    assert!((spec.w - 0.12).abs() < 4.0 * spec.uncertainties.w.unwrap());
    assert!((spec.m - 0.9).abs() < 4.0 * spec.uncertainties.m.unwrap());
    assert!((spec.e_r - 0.32).abs() < 4.0 * spec.uncertainties.e_r.unwrap());
    let figures = v["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 13);
    for f in figures {
        assert!(Path::new(f.as_str().unwrap()).is_file());
    }
}

#[test]
fn asym_without_output_prints_the_document() {
    let v = ok(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--min-disp",
        "1",
        "--unique",
        "--species",
        "Zr",
    ]);
    assert_eq!(v["schema"], "pelx.asym/1");
    let sel = &v["selection"];
    assert_eq!(sel["events"], 1000);
    assert_eq!(sel["repeated"], 0);
    let zr = sel["selected"].as_u64().unwrap();
    assert_eq!(zr + sel["other_species"].as_u64().unwrap(), 1000);
    assert!(zr > 300 && zr < 500, "{zr}"); // 8 of 20 atoms are Zr
}

#[test]
fn asym_bad_input_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let figs = tmp(&dir, "figures");
    let e = fails(&["asym", &fixture("empty.jsonl")]);
    assert!(e.contains("empty.jsonl") && e.contains("empty"), "{e}");
    let e = fails(&["asym", &fixture("failures-only.jsonl")]);
    assert!(e.contains("no events") && e.contains("3 no_negative_mode"), "{e}");
    let e = fails(&["asym", &fixture("fie-sample.jsonl"), &fixture("other-structure.jsonl")]);
    assert!(e.contains("different structures") && e.contains("--force"), "{e}");
    let e = fails(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--min-disp",
        "4,5",
        "--plot",
        figs.to_str().unwrap(),
    ]);
    assert!(
        e.contains("no event passes") && e.contains("largest max displacement"),
        "{e}"
    );
    assert!(!figs.exists(), "no figures for an empty selection");
    let e = fails(&["asym", &fixture("fie-sample.jsonl"), "--species", "Ni"]);
    assert!(e.contains("no atom of species Ni"), "{e}");
    let e = fails(&["asym", &fixture("fie-sample.jsonl"), "--bin", "0"]);
    assert!(e.contains("bin width"), "{e}");
    let e = fails(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--fit",
        "fie",
        "--fie-filter",
        "0.7",
    ]);
    assert!(e.contains("--fie-filter"), "{e}");
    // Shards given twice.
    let e = fails(&[
        "network",
        &fixture("net-s0.jsonl"),
        &fixture("net-s0.jsonl"),
        "-o",
        tmp(&dir, "n.json").to_str().unwrap(),
    ]);
    assert!(e.contains("same content"), "{e}");
}

#[test]
fn asym_reports_an_empty_filter_without_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (out, figs) = (tmp(&dir, "asym.json"), tmp(&dir, "figures"));
    let res = pelx(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--min-disp",
        "1,4",
        "-o",
        out.to_str().unwrap(),
        "--plot",
        figs.to_str().unwrap(),
    ]);
    assert!(res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains(">= 4 Å leaves no event"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(v["filters"][1]["n_events"], 0);
    assert!(!figs.join("barriers_ge4A.svg").exists() && figs.join("barriers_ge1A.svg").exists());
}

/// `examples/plot_catalog.py` draws from a catalog and from asym.json (skipped without Python
/// with numpy and matplotlib; set PELX_PYTHON to an interpreter that has them).
#[test]
fn the_matplotlib_example_reads_the_files() {
    let python = std::env::var("PELX_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python)
        .args(["-c", "import numpy, matplotlib"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has {
        eprintln!("skipped: {python} lacks numpy or matplotlib (set PELX_PYTHON)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let asym = tmp(&dir, "asym.json");
    ok(&[
        "asym",
        &fixture("fie-sample.jsonl"),
        "--min-disp",
        "0,1",
        "--fit",
        "fie",
        "-o",
        asym.to_str().unwrap(),
    ]);
    for (input, png) in [
        (fixture("fie-sample.jsonl"), "cat.png"),
        (asym.to_str().unwrap().to_string(), "asym.png"),
    ] {
        let out = Command::new(&python)
            .env("MPLBACKEND", "Agg")
            .args([
                "examples/plot_catalog.py",
                &input,
                "-o",
                tmp(&dir, png).to_str().unwrap(),
            ])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(std::fs::metadata(tmp(&dir, png)).unwrap().len() > 10_000);
    }
}
