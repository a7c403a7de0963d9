use super::*;
use crate::analysis::catalogs::testing::{event, network_fixture, run, spectrum_fixture, write, FIE_TRUTH};
use crate::analysis::catalogs::SetOptions;
use crate::structure::io::ReadOptions;
use std::path::Path;

fn schema(name: &str) -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn assert_valid<T: Serialize>(schema_file: &str, doc: &T) {
    let errors = crate::schema::check(&schema(schema_file), &serde_json::to_value(doc).unwrap());
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Five events with known barriers and displacements.
fn small_set(dir: &Path) -> CatalogSet {
    let x = |d: f64| vec![(0, [d, 0.0, 0.0])];
    let events = vec![
        event(0, -50.0, 1.0, 0.2, vec![], x(0.5)),
        event(1, -50.0, 0.6, 0.9, vec![], x(1.2)),
        event(2, -50.0, 1.5, 0.1, vec![], x(1.6)),
        event(3, -50.0, 0.8, 0.3, vec![], x(2.0)),
        event(4, -50.0, 2.0, 0.4, vec![], x(3.0)),
    ];
    let p = dir.join("c.jsonl");
    write(&p, &run("S", 4, -50.0), &events);
    CatalogSet::read(&[p], &SetOptions::default()).unwrap()
}

#[test]
fn tables_per_filter_hold_the_known_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let set = small_set(dir.path());
    let opts = AsymOptions {
        min_displacements: vec![0.0, 1.0, 1.5, 2.5],
        ..Default::default()
    };
    let doc = analyse(&set, &opts, Provenance::new(&[]).unwrap()).unwrap();
    assert_eq!(doc.schema, SCHEMA);
    let n: Vec<usize> = doc.filters.iter().map(|f| f.n_events).collect();
    assert_eq!(n, vec![5, 4, 3, 1]);
    // >= 1 Å: E_fw {0.6, 1.5, 0.8, 2.0}, E_rev {0.9, 0.1, 0.3, 0.4}.
    let f = &doc.filters[1];
    let s = f.summary.as_ref().unwrap();
    assert!((s.e_fw.median - 1.15).abs() < 1e-12);
    assert!((s.e_rev.median - 0.35).abs() < 1e-12);
    assert!((s.e_fw.mean - 1.225).abs() < 1e-12);
    assert!((s.fraction_rev_below_fw - 0.75).abs() < 1e-12);
    assert!((s.asymmetry.min + 0.3).abs() < 1e-12 && (s.asymmetry.max - 1.6).abs() < 1e-12);
    let h = f.histograms.as_ref().unwrap();
    assert_eq!(h.e_fw.counts.iter().sum::<u64>(), 4);
    assert_eq!(h.e_fw.lo, 0.0);
    // The grids are shared by the filters.
    assert_eq!(h.e_fw.grid(), doc.filters[0].histograms.as_ref().unwrap().e_fw.grid());
    assert_eq!(h.joint.counts.iter().flatten().sum::<u64>(), 4);
    assert!((doc.sample.e_is + 12.5).abs() < 1e-12);
    assert_valid("asym.schema.json", &doc);
}

#[test]
fn empty_filters_are_reported_and_all_empty_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let set = small_set(dir.path());
    let opts = AsymOptions {
        min_displacements: vec![1.0, 5.0],
        ..Default::default()
    };
    let doc = analyse(&set, &opts, Provenance::new(&[]).unwrap()).unwrap();
    assert_eq!(doc.filters[1].n_events, 0);
    assert!(doc.filters[1].summary.is_none() && doc.filters[1].histograms.is_none());
    assert_valid("asym.schema.json", &doc);
    let opts = AsymOptions {
        min_displacements: vec![3.5, 5.0],
        ..Default::default()
    };
    let e = analyse(&set, &opts, Provenance::new(&[]).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no event passes") && e.contains("3.000 Å"), "{e}");
    let bad = AsymOptions {
        bin: 0.0,
        ..Default::default()
    };
    assert!(analyse(&set, &bad, Provenance::new(&[]).unwrap()).is_err());
}

#[test]
fn species_selection_uses_the_most_displaced_atom() {
    let dir = tempfile::tempdir().unwrap();
    let (cat, structure) = spectrum_fixture(dir.path(), "sp.jsonl", 200, 3);
    let mut set = CatalogSet::read(&[cat], &SetOptions::default()).unwrap();
    let opts = AsymOptions {
        species: Some("Zr".into()),
        ..Default::default()
    };
    // The structure is found next to the catalog.
    set.locate_structures(&[], &ReadOptions::default()).unwrap();
    let zr = select(&set, &opts).unwrap();
    let s = set.origins[0].structure.as_ref().unwrap();
    let expected = set.catalogs[0]
        .events
        .iter()
        .filter(|e| s.symbol(most_displaced_atom(e)) == "Zr")
        .count();
    assert_eq!(zr.counts.selected, expected);
    assert_eq!(zr.counts.other_species, 200 - expected);
    assert!(expected > 40 && expected < 120, "{expected}"); // 8 of 20 atoms are Zr
    let cu = select(
        &set,
        &AsymOptions {
            species: Some("Cu".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(cu.counts.selected + zr.counts.selected, 200);
    let e = select(
        &set,
        &AsymOptions {
            species: Some("Ni".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no atom of species Ni") && e.contains("Cu, Zr"), "{e}");
    // Without the structure, a clear message.
    set.origins[0].structure = None;
    let e = select(&set, &opts).unwrap_err().to_string();
    assert!(e.contains("--structure") && e.contains("CuZr20.extxyz"), "{e}");
    let _ = structure;
}

#[test]
fn unique_keeps_one_event_per_saddle_and_direction() {
    let dir = tempfile::tempdir().unwrap();
    let (cats, _) = network_fixture(dir.path());
    let set = CatalogSet::read(&cats[..2], &SetOptions::default()).unwrap();
    let opts = AsymOptions {
        unique: true,
        min_displacements: vec![0.0],
        ..Default::default()
    };
    let sel = select(&set, &opts).unwrap();
    // 10 events: s1 three times (2 repeats), S-B twice (1 repeat), one self-loop; the event
    // that does not reconnect is a saddle of its own here.
    assert_eq!(
        (sel.counts.repeated, sel.counts.self_loops, sel.counts.selected),
        (3, 1, 6),
        "{:?}",
        sel.counts
    );
    let reconnecting = AsymOptions {
        reconnecting_only: true,
        ..opts
    };
    let sel = select(&set, &reconnecting).unwrap();
    assert_eq!((sel.counts.not_reconnecting, sel.counts.selected), (1, 5));
}

#[test]
fn fits_give_the_fie_spectrum_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cat, _) = spectrum_fixture(dir.path(), "fie.jsonl", 3000, 5);
    let set = CatalogSet::read(&[cat], &SetOptions::default()).unwrap();
    let opts = AsymOptions {
        min_displacements: vec![0.0, 3.29],
        fit: Some(FitOptions::default()),
        ..Default::default()
    };
    let doc = analyse(&set, &opts, Provenance::new(&[]).unwrap()).unwrap();
    assert_valid("asym.schema.json", &doc);
    let fits = doc.filters[0].fits.as_ref().unwrap();
    let a = fits.activation.as_ref().unwrap();
    let r = fits.relaxation.as_ref().unwrap();
    let (w, m, _, _, e_r) = FIE_TRUTH;
    // 3,000 events: within 3.5 sigma of the truth.
    assert!((a.w.value - w).abs() < 3.5 * a.w.sigma.unwrap(), "{:?}", a.w);
    assert!((a.m.value - m).abs() < 3.5 * a.m.sigma.unwrap(), "{:?}", a.m);
    assert!((r.e_r.value - e_r).abs() < 3.5 * r.e_r.sigma.unwrap(), "{:?}", r.e_r);
    // >= 3.29 Å keeps ~0.3 % of the events: too few for a fit, said so.
    let small = doc.filters[1].fits.as_ref().unwrap();
    assert!(small.activation.is_none() && small.activation_error.as_ref().unwrap().contains("too few"));
    let spec = doc.fie_spectrum_fit(0, "fixture").unwrap();
    assert_eq!(spec.fixed, vec!["e_a".to_string(), "s".to_string()]);
    assert!((spec.e_is + 95.0 / 20.0).abs() < 1e-12);
    assert_eq!(spec.uncertainties.w, a.w.sigma);
    assert_valid("fie-spectrum.schema.json", &spec);
    // `pelx fie regress` reads it back (compared through the same JSON parser: serde_json's
    // default float parsing may differ from the written value in the last bit).
    let p = dir.path().join("spec.json");
    let text = serde_json::to_string_pretty(&spec).unwrap();
    std::fs::write(&p, &text).unwrap();
    let parsed: FieSpectrumFit = serde_json::from_str(&text).unwrap();
    assert_eq!(FieSpectrumFit::from_file(&p).unwrap(), parsed);
    assert!((parsed.w - spec.w).abs() <= 1e-15 * spec.w);
    assert!(doc
        .fie_spectrum_fit(1, "fixture")
        .unwrap_err()
        .to_string()
        .contains("too few"));
}
