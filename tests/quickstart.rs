//! Smoke test of `pelx run`: the quickstart pipeline on a tiny sample (two ART searches) writes
//! every file its index lists, each of which parses, and `--resume` redoes the later steps
//! without new searches.

use pelx::pipeline::{run_pipeline, Existing, RunConfig, SUMMARY_SCHEMA};
use std::path::Path;

/// The shipped quickstart with the sample cut to two searches and a short KMC run.
fn tiny_config() -> RunConfig {
    let mut c = RunConfig::from_file(Path::new("configs/quickstart.toml")).expect("the shipped quickstart parses");
    c.art.sample = "2 total".into();
    c.art.threads = 2;
    c.kmc.walkers = 8;
    c.kmc.hops = 512;
    c.kmc.burn_in = 128;
    c
}

/// Checks that a results file parses according to its extension.
fn check_parses(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!text.trim().is_empty(), "{} is empty", path.display());
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "json" => {
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        "jsonl" => {
            for (k, line) in text.lines().enumerate() {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), k + 1));
            }
        }
        "toml" => {
            toml::from_str::<toml::Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        "svg" => assert!(
            text.contains("<svg") && text.trim_end().ends_with("</svg>"),
            "{} is not a whole SVG",
            path.display()
        ),
        "extxyz" => {
            pelx::structure::io::read_structure(path, &Default::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        "md" | "csv" => {}
        other => panic!("{}: unexpected kind of file '{other}'", path.display()),
    }
}

#[test]
fn quickstart_on_a_tiny_sample_writes_every_indexed_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = tiny_config();
    let mut searches = 0;
    let s = run_pipeline(&cfg, &out, Existing::Refuse, &mut || searches += 1).unwrap();
    assert_eq!(searches, 2);
    assert_eq!(s.schema, SUMMARY_SCHEMA);
    let names: Vec<&str> = s.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["art", "catalog-stats", "asym", "fie", "kmc"]);
    assert_eq!(s.steps[0].status, "ok");
    assert_eq!(s.steps[1].status, "ok");
    assert_eq!(s.headline["searches"], 2);
    // The index on disk is the one returned, and lists itself, the README and the catalog.
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(on_disk["files"].as_array().unwrap().len(), s.files.len());
    let errors = pelx::schema::check(&pelx::schema::load("run-summary.schema.json"), &on_disk);
    assert!(errors.is_empty(), "summary.json against its schema: {errors:?}");
    for must in [
        "summary.json",
        "README.md",
        "art.jsonl",
        "catalog-stats.json",
        "art-summary.json",
    ] {
        assert!(s.files.iter().any(|f| f.path == must), "{must} not indexed");
    }
    for f in &s.files {
        assert!(!f.description.is_empty());
        check_parses(&out.join(&f.path));
    }
    // Provenance of the inputs is recorded.
    assert_eq!(s.provenance.inputs.len(), 2);

    // A second run refuses to overwrite; --resume runs no new search and redoes the rest.
    assert!(run_pipeline(&cfg, &out, Existing::Refuse, &mut || {}).is_err());
    let mut again = 0;
    let r = run_pipeline(&cfg, &out, Existing::Resume, &mut || again += 1).unwrap();
    assert_eq!(again, 0);
    assert_eq!(r.headline["searches"], 2);
    assert_eq!(r.steps.len(), 5);
}
