//! Acceptance tests of ART nouveau (pelx issue 4): the documented configuration file, the
//! Müller-Brown saddles, the fcc Cu vacancy hop against climbing-image NEB, the determinism of
//! `pelx art` campaigns (threads, shards, resume) and bad input through the CLI.
//!
//! The default tests take under two seconds each in the dev profile; the campaigns on the
//! shipped 500-atom Cu-Zr glass (about a minute and a half) are `#[ignore]`d:
//! `cargo test --test art -- --ignored --nocapture`.

use pelx::catalog::Catalog;
use pelx::minimize::{minimize, MinimizeOptions, MinimizerKind};
use pelx::potential::analytic::{point, MullerBrown};
use pelx::potential::{fmax, Calculator, ForceField};
use pelx::saddle::art::{search, ArtConfig, InitialMinimum, PushDirection, SearchOutcome};
use pelx::structure::build::{cubic, with_vacancy, Lattice};
use pelx::structure::io::{write_structure, WriteOptions};
use pelx::structure::Structure;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cu_u3() -> PathBuf {
    root().join("potentials/Cu_u3.eam")
}

fn load_potential(p: &Path) -> Arc<dyn ForceField> {
    pelx::potential::load(&[p]).expect("potential loads")
}

/// Runs `pelx` and returns (exit status, stdout, stderr).
fn pelx(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args(args)
        .output()
        .expect("pelx runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Holds `v` to the schema file `name` of `schemas/`.
fn assert_schema(name: &str, v: &Value) {
    let errors = pelx::schema::check(&pelx::schema::load(name), v);
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{v}");
}

// ---------------------------------------------------------------------------------------------
// configs/art.toml

/// `configs/art.toml` holds every key of `ArtConfig` with its default value: parsing it gives
/// the defaults, and its key tree is that of the serialized defaults (no key left to its
/// default by omission, so the file documents them all).
#[test]
fn config_file_lists_every_parameter_with_its_default() {
    let path = root().join("configs/art.toml");
    let cfg = ArtConfig::from_file(&path).unwrap();
    assert_eq!(cfg, ArtConfig::default());
    let file: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let defaults = toml::Value::try_from(ArtConfig::default()).unwrap();
    fn keys(v: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(t) = v {
            for (k, x) in t {
                let name = format!("{prefix}{k}");
                out.push(name.clone());
                keys(x, &format!("{name}."), out);
            }
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    keys(&file, "", &mut a);
    keys(&defaults, "", &mut b);
    a.sort();
    b.sort();
    assert_eq!(a, b, "configs/art.toml and ArtConfig differ in their keys");
}

/// A key left out of a nested table takes the documented default of that table, not the
/// default of its type: `[verification.lanczos]` keeps its residual test when only
/// `max_vectors` is given, while the search's `[lanczos]` has none.
#[test]
fn partial_nested_tables_keep_the_documented_defaults() {
    let text = "[verification.lanczos]\nmax_vectors = 30\n[lanczos]\nmax_vectors = 20\n";
    let cfg = ArtConfig::from_toml_str(text, Path::new("partial.toml")).unwrap();
    let d = ArtConfig::default();
    assert_eq!(cfg.verification.lanczos.max_vectors, 30);
    assert_eq!(
        cfg.verification.lanczos.residual_tol,
        d.verification.lanczos.residual_tol
    );
    assert!(d.verification.lanczos.residual_tol > 0.0 && d.lanczos.residual_tol == 0.0);
    assert_eq!(cfg.lanczos.max_vectors, 20);
    assert_eq!(cfg.lanczos.residual_tol, 0.0);
    // Values outside their range are refused by name.
    for (text, key) in [
        ("[activation]\nmin_overlap = 1.5\n", "activation.min_overlap"),
        ("[activation]\nmin_overlap = -0.1\n", "activation.min_overlap"),
        ("[convergence]\nmemory = 0\n", "convergence.memory"),
        ("[convergence]\nescape_step = 0.0\n", "convergence.escape_step"),
        ("[locality]\ncheck_margin = -1.0\n", "locality.check_margin"),
        ("[locality]\nrelax_join_force = 0.0\n", "locality.relax_join_force"),
        ("[locality]\nactivate_force = 0.01\n", "activate_force"),
    ] {
        let err = ArtConfig::from_toml_str(text, Path::new("range.toml")).unwrap_err();
        assert!(err.to_string().contains(key), "{text}: {err}");
    }
    // Unknown keys are still errors with their line.
    let err = ArtConfig::from_toml_str("[lanczos]\n\nresidual = 1\n", Path::new("bad.toml")).unwrap_err();
    assert!(
        err.to_string().contains("bad.toml") && err.to_string().contains('3'),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Müller-Brown

/// ART parameters for the two-dimensional Müller-Brown surface (energies ~100, lengths ~1,
/// curvatures up to ~10^3): the single "atom" is the perturbed group, moved by 0.1 in (x, y)
/// (z is frozen); pushes of 0.05 along that initial direction (the original ART: the default
/// eigenvector following climbs the soft diagonal of A's basin, which leads up a wall and
/// never to S1); FIRE time steps small enough for the stiff walls (dt^2 k < 1); a saddle
/// converged to |F| < 1e-5, so that its coordinates are exact to ~1e-7; minima told apart at
/// 1e-3; energy rises up to 200 allowed (the barrier A -> S1 is 106).
fn muller_brown_config() -> ArtConfig {
    let mut c = ArtConfig::default();
    c.perturbation.radius = 0.1;
    c.perturbation.norm = 0.1;
    c.activation.push_step = 0.05;
    c.activation.direction = PushDirection::Initial;
    c.activation.push_radius = 0.0;
    c.activation.perp_fmax = 1.0;
    c.convergence.fmax = 1e-5;
    c.convergence.fnorm_max = 1e-5;
    c.convergence.max_step = 0.05;
    c.convergence.perp_fmax_fraction = 0.5;
    c.convergence.max_iterations = 500;
    c.lanczos.scheme = pelx::saddle::lanczos::FdScheme::Central;
    c.lanczos.fd_step = 1e-4;
    c.verification.lanczos = c.lanczos.clone();
    c.perpendicular.fire.dt = 0.005;
    c.perpendicular.fire.dt_max = 0.01;
    c.perpendicular.max_atom_step = 0.02;
    c.relaxation.push = 0.05;
    c.relaxation.fmax = 1e-4;
    c.relaxation.refine_fmax = 1e-6;
    c.relaxation.max_atom_step = 0.02;
    c.relaxation.near_energy = 1.0;
    c.relaxation.near_distance = 0.3;
    c.relaxation.same_distance = 1e-3;
    c.relaxation.same_energy = 1e-4;
    c.input.max_fmax = 1e-6;
    c.input.relax_fmax = 1e-7;
    c.limits.max_energy_rise = 200.0;
    c.validate().unwrap();
    c
}

/// The minimum `m` of the Müller-Brown surface, relaxed to 1e-8 from the tabulated value.
fn muller_brown_minimum(m: usize, calc: &mut Calculator) -> InitialMinimum {
    let (x, y, _) = MullerBrown::MINIMA[m];
    let mut s = point(x, y, 0.0).unwrap();
    let opts = MinimizeOptions {
        fmax: 1e-8,
        ..MinimizeOptions::default()
    };
    let r = minimize(MinimizerKind::Lbfgs, &mut s, calc, &opts).unwrap();
    assert!(r.converged);
    InitialMinimum::new(s, calc)
        .unwrap()
        .with_free_coordinates(vec![true, true, false])
        .unwrap()
}

/// From each minimum ART finds the adjacent saddles (A: S1; B: S2; C: S1 and S2) over seeds
/// 0..12, and every saddle it reports is one of the two known ones, to 1e-4 in energy and
/// coordinates, verified, with the minimum across it as its final minimum. (Measured: A finds
/// S1 5 times in 12, B finds S2 8 times, C finds S1 and S2 6 times each; the other searches
/// fail, mostly by climbing a wall above the energy limit.)
#[test]
fn muller_brown_saddles_from_every_minimum() {
    let cfg = muller_brown_config();
    let mut calc = Calculator::new(Arc::new(MullerBrown));
    let adjacent: [&[usize]; 3] = [&[0], &[1], &[0, 1]];
    for (m, want) in adjacent.iter().enumerate() {
        let init = muller_brown_minimum(m, &mut calc);
        let mut found = [0usize; 2];
        let mut failures = Vec::new();
        for seed in 0..12 {
            match search(&init, &cfg, &mut calc.clone(), 0, seed) {
                SearchOutcome::Event(ev) => {
                    let [x, y, _] = ev.saddle[0];
                    let k = MullerBrown::SADDLES
                        .iter()
                        .position(|s| (s.0 - x).abs() < 1e-4 && (s.1 - y).abs() < 1e-4)
                        .unwrap_or_else(|| panic!("minimum {m}, seed {seed}: saddle ({x}, {y}) is not a known saddle"));
                    let s = MullerBrown::SADDLES[k];
                    assert!(
                        (ev.e_saddle - s.2).abs() < 1e-4,
                        "minimum {m} seed {seed}: E_saddle {} vs {}",
                        ev.e_saddle,
                        s.2
                    );
                    assert!(ev.eigenvalue < 0.0 && ev.saddle_fmax < cfg.convergence.fmax);
                    // The final minimum is the one across that saddle (S1: A-C, S2: C-B).
                    let across = match (m, k) {
                        (0, 0) | (1, 1) => 2,
                        (2, 0) => 0,
                        (2, 1) => 1,
                        _ => panic!("minimum {m}: S{} is not adjacent", k + 1),
                    };
                    let (fx, fy, fe) = MullerBrown::MINIMA[across];
                    let [x, y, _] = ev.final_positions[0];
                    assert!(
                        (x - fx).abs() < 1e-4 && (y - fy).abs() < 1e-4 && (ev.e_final - fe).abs() < 1e-4,
                        "minimum {m} seed {seed}: final minimum ({x}, {y}, {}) is not minimum {across}",
                        ev.e_final
                    );
                    assert!(ev.reconnects && ev.verified, "minimum {m} seed {seed}: {ev:?}");
                    found[k] += 1;
                }
                SearchOutcome::Failure(f) => failures.push((seed, f.reason, f.detail, f.calls.total())),
            }
        }
        eprintln!("minimum {m}: saddles found {found:?}, failures {failures:?}");
        for &k in *want {
            assert!(found[k] > 0, "minimum {m}: saddle S{} never found", k + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// fcc Cu vacancy

const A_CU: f64 = 3.615;

/// Largest distance between the same atom in two configurations (unwrapped positions), Å.
fn max_distance(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt())
        .fold(0.0, f64::max)
}

/// 4x4x4 fcc Cu cells (a = 3.615 Å, fixed volume) without the atom at the origin, relaxed
/// to 1e-6 eV/Å with Cu_u3.eam: the initial structure of `tests/neb_cu_vacancy.rs`, whose atom
/// 0 (at (a/2, a/2, 0)) is a vacancy neighbour.
fn cu_vacancy(cells: usize, calc: &mut Calculator) -> Structure {
    let mut s = with_vacancy(&cubic(Lattice::Fcc, "Cu", A_CU, [cells; 3]).unwrap(), 0).unwrap();
    let opts = MinimizeOptions {
        fmax: 1e-6,
        ..MinimizeOptions::default()
    };
    let r = minimize(MinimizerKind::Lbfgs, &mut s, calc, &opts).unwrap();
    assert!(r.converged);
    s
}

/// ART around a vacancy neighbour finds the vacancy hop (one atom moves by a/sqrt(2) into
/// the vacancy, the final minimum is symmetric to the initial one) with the barrier of the
/// climbing-image NEB (LAMMPS `fix neb` on the same system, tests/fixtures/neb) within 5e-3 eV.
/// The searches start from seeds 0, 1, ... until one finds the hop (other outcomes are
/// reported, not asserted: the perturbation may lead elsewhere). Measured: seed 0 finds it,
/// E_fw = 0.67082 eV against 0.67081 (NEB), 93 force calls to the saddle, 201 in all.
#[test]
fn cu_vacancy_hop_barrier_equals_neb() {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/neb/cu_vacancy_hop.json")).unwrap())
            .unwrap();
    let neb = fixture["potentials"]["Cu_u3.eam"]["lammps"]["barrier_forward"]
        .as_f64()
        .unwrap();
    let mut calc = Calculator::new(load_potential(&cu_u3()));
    let s = cu_vacancy(4, &mut calc);
    let init = InitialMinimum::new(s, &mut calc).unwrap();
    let mut cfg = ArtConfig::default();
    // A tighter saddle than the default 0.05 eV/Å, so that the energy error along the mode,
    // F_par^2 / (2 |λ|), is far below the tolerance.
    cfg.convergence.fmax = 0.005;
    cfg.convergence.fnorm_max = 0.01;
    let hop = A_CU / 2f64.sqrt();
    let t = std::time::Instant::now();
    let mut hits = 0;
    for seed in 0..6u64 {
        let outcome = search(&init, &cfg, &mut calc.clone(), 0, seed);
        match outcome {
            SearchOutcome::Event(ev) => {
                let e_fw = ev.e_saddle - init.energy;
                let moved = max_distance(&ev.final_positions, &init.structure.positions);
                eprintln!(
                    "seed {seed}: E_fw {e_fw:.5} eV (NEB {neb:.5}), E_final - E_initial {:.2e} eV, largest displacement {moved:.3} Å, verified {}, force calls {} to the saddle, {} in all",
                    ev.e_final - init.energy,
                    ev.verified,
                    ev.calls.to_saddle(),
                    ev.calls.total()
                );
                if (moved - hop).abs() < 0.3 && (ev.e_final - init.energy).abs() < 1e-3 {
                    assert!((e_fw - neb).abs() < 5e-3, "seed {seed}: E_fw {e_fw} vs NEB {neb}");
                    assert!(
                        ev.verified && ev.reconnects,
                        "reconnects {} check {:?} fmax {}",
                        ev.reconnects,
                        ev.check,
                        ev.saddle_fmax
                    );
                    hits += 1;
                    break;
                }
            }
            SearchOutcome::Failure(f) => eprintln!("seed {seed}: {} ({})", f.reason, f.detail),
        }
    }
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
    assert!(hits > 0, "no seed found the vacancy hop");
}

/// The default activation does not step over a saddle near the minimum: from a neighbour of a
/// vacancy in fcc Cu (Cu_u3), 24 of the searches with seeds 0-29 reconnect and are verified.
/// With 0.3 Å pushes, 4 perpendicular steps and the first Lanczos after 3 pushes, 9 do: the
/// others hopped once on the way and converged on a saddle beyond. Events that do not reconnect
/// report the minimum on the saddle's other side.
#[test]
fn vacancy_neighbour_searches_reconnect() {
    let mut calc = Calculator::new(load_potential(&cu_u3()));
    let s = cu_vacancy(4, &mut calc);
    let init = InitialMinimum::new(s, &mut calc).unwrap();
    let cfg = ArtConfig::default();
    let (mut events, mut reconnecting, mut verified, mut with_other) = (0, 0, 0, 0);
    for seed in 0..30u64 {
        if let SearchOutcome::Event(ev) = search(&init, &cfg, &mut calc.clone(), 0, seed) {
            events += 1;
            reconnecting += usize::from(ev.reconnects);
            verified += usize::from(ev.verified);
            // A saddle that does not reconnect reports the minimum on its other side, which
            // is not the initial one.
            match (&ev.other, ev.reconnects) {
                // Reconnects; or does not, and the relaxation on the other side did not
                // converge (the record then has no other minimum).
                (None, true) | (None, false) => {}
                (Some(o), false) => {
                    with_other += 1;
                    let d = max_distance(&o.positions, &init.structure.positions);
                    let de = o.energy - init.energy;
                    let r = &cfg.relaxation;
                    assert!(
                        d > r.same_distance || de.abs() > r.same_energy,
                        "seed {seed}: the other minimum is the initial one ({d} Å, {de} eV)"
                    );
                }
                (Some(o), true) => panic!("seed {seed}: reconnects, yet an other minimum at {} eV", o.energy),
            }
        }
    }
    eprintln!(
        "30 searches: {events} events, {reconnecting} reconnect, {verified} verified, {with_other} report the other minimum"
    );
    // The 3 events that do not reconnect all report their other minimum.
    assert!(with_other > 0, "no event reports the minimum on the other side");
    assert!(
        reconnecting >= 20 && verified >= 20,
        "{events} events, {reconnecting} reconnect, {verified} verified"
    );
}

// ---------------------------------------------------------------------------------------------
// Campaigns through the CLI: determinism, shards, resume

/// A relaxed 3x3x3 fcc Cu cell with a vacancy (107 atoms), written as extended XYZ.
fn small_vacancy_file(dir: &Path) -> PathBuf {
    let mut calc = Calculator::new(load_potential(&cu_u3()));
    let s = cu_vacancy(3, &mut calc);
    let p = dir.join("vac.extxyz");
    write_structure(&p, &s, None, &WriteOptions::default()).unwrap();
    p
}

/// Runs `pelx art` and returns the catalog's bytes and the JSON summary.
fn art(structure: &Path, potential: &Path, out: &Path, extra: &[&str]) -> (Vec<u8>, Value) {
    let mut args = vec![
        "art",
        structure.to_str().unwrap(),
        "-p",
        potential.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = pelx(&args);
    assert_eq!(code, 0, "pelx {args:?}: {stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (std::fs::read(out).unwrap(), summary)
}

/// Every line of a catalog held to `schemas/catalog.schema.json`.
fn assert_catalog_schema(bytes: &[u8]) {
    for line in std::str::from_utf8(bytes).unwrap().lines() {
        assert_schema("catalog.schema.json", &serde_json::from_str(line).unwrap());
    }
}

/// The determinism contract on one structure: the same catalog, byte for byte, with 1 and 2
/// threads, from two shards merged, and after an interrupted run (cut after `keep` records and
/// half of the next one) resumed.
fn determinism(structure: &Path, potential: &Path, sample: &[&str], extra: &[&str], keep: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let with = |more: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["--sample".into()];
        v.extend(sample.iter().map(|s| s.to_string()));
        v.extend(extra.iter().map(|s| s.to_string()));
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let run = |out: &Path, more: &[&str]| {
        let a = with(more);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        art(structure, potential, out, &a)
    };
    let t = std::time::Instant::now();
    let (one, summary) = run(&d.join("t1.jsonl"), &["--threads", "1"]);
    eprintln!("1 thread: {:.1} s, {summary}", t.elapsed().as_secs_f64());
    assert_schema("art-summary.schema.json", &summary);
    assert_catalog_schema(&one);
    let t = std::time::Instant::now();
    let (two, _) = run(&d.join("t2.jsonl"), &["--threads", "2"]);
    eprintln!("2 threads: {:.1} s", t.elapsed().as_secs_f64());
    assert!(one == two, "catalogs differ between 1 and 2 threads");

    // Shards 1/2 and 2/2, merged.
    let (s1, s2) = (d.join("s1.jsonl"), d.join("s2.jsonl"));
    run(&s1, &["--threads", "1", "--shard", "1/2"]);
    run(&s2, &["--threads", "1", "--shard", "2/2"]);
    let merged = d.join("merged.jsonl");
    let (code, stdout, stderr) = pelx(&[
        "catalog",
        "merge",
        s1.to_str().unwrap(),
        s2.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["shards"], serde_json::json!([1, 2]));
    assert!(
        std::fs::read(&merged).unwrap() == one,
        "merged shards differ from the unsharded run"
    );

    // Interrupted after `keep` records and half a line, then resumed.
    let text = std::str::from_utf8(&one).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > keep + 2, "too few records to cut");
    let mut cut = lines[..=keep].join("\n");
    cut.push('\n');
    cut.push_str(&lines[keep + 1][..lines[keep + 1].len() / 2]);
    let resumed = d.join("resumed.jsonl");
    std::fs::write(&resumed, cut).unwrap();
    let (bytes, summary) = run(&resumed, &["--threads", "2", "--resume"]);
    assert_eq!(summary["already_done"], keep);
    assert!(bytes == one, "resumed catalog differs from the uninterrupted run");
    one
}

/// The fast form of the determinism contract: 6 searches with the default parameters around
/// atoms 0-5 of a small Cu cell with a vacancy (107 atoms).
#[test]
fn campaign_is_deterministic_across_threads_shards_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let s = small_vacancy_file(dir.path());
    let one = determinism(&s, &cu_u3(), &["6", "total"], &["--atoms", "0-5"], 2);
    assert_eq!(std::str::from_utf8(&one).unwrap().lines().count(), 7);
    let stats = stats_of(&one);
    assert_eq!(stats["searches"], 6);
}

/// Writes `catalog` to a file, checks its saddles (force below the threshold; a verified saddle
/// has exactly one negative eigenvalue) and returns `pelx catalog stats` of it, checked
/// against its schema.
fn stats_of(catalog: &[u8]) -> Value {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), catalog).unwrap();
    let cat = Catalog::read(file.path()).unwrap();
    let cfg: ArtConfig = serde_json::from_value(cat.run.parameters.clone()).unwrap();
    let tol = cfg.verification.negative_tolerance;
    for e in &cat.events {
        assert!(e.saddle_fmax < cfg.convergence.fmax && e.eigenvalue < 0.0, "{e:?}");
        if e.verified {
            let c = e.check.expect("verified events carry their check");
            assert!(c.lowest < -tol && c.second > -tol && e.reconnects, "{e:?}");
        }
    }
    eprintln!(
        "{} searches: {} events ({} verified), failures {:?}",
        cat.searches(),
        cat.events.len(),
        cat.events.iter().filter(|e| e.verified).count(),
        cat.failures.iter().map(|f| f.reason.to_string()).collect::<Vec<_>>()
    );
    let (code, stdout, stderr) = pelx(&["catalog", "stats", file.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let stats: Value = serde_json::from_str(&stdout).unwrap();
    assert_schema("catalog-stats.schema.json", &stats);
    assert_eq!(stats["verified"], cat.events.iter().filter(|e| e.verified).count());
    stats
}

/// The acceptance form on the shipped 500-atom Cu-Zr glass with the default parameters.
#[test]
#[ignore = "minutes in the dev profile; run with --ignored"]
fn glass_campaign_is_deterministic_across_threads_shards_and_resume() {
    let one = determinism(
        &root().join("configs/CuZr50_500.extxyz"),
        &root().join("potentials/CuZr_mm.eam.fs"),
        &["6", "total"],
        &[],
        2,
    );
    let stats = stats_of(&one);
    assert_eq!(stats["searches"], 6);
}

/// A real SIGKILL of `pelx art` once its first records are on disk, then `--resume`: the
/// catalog equals the uninterrupted run's.
#[test]
#[ignore = "minutes in the dev profile; run with --ignored"]
fn glass_campaign_killed_and_resumed_equals_uninterrupted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = root().join("configs/CuZr50_500.extxyz");
    let pot = root().join("potentials/CuZr_mm.eam.fs");
    let (full, _) = art(
        &s,
        &pot,
        &d.join("full.jsonl"),
        &["--sample", "6", "total", "--threads", "2"],
    );
    let killed = d.join("killed.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args([
            "art",
            s.to_str().unwrap(),
            "-p",
            pot.to_str().unwrap(),
            "-o",
            killed.to_str().unwrap(),
            "--no-progress",
            "--sample",
            "6",
            "total",
            "--threads",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the run record and two search records, then kill (SIGKILL on Unix).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        let n = std::fs::read(&killed).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        if n >= 3 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = std::fs::read(&killed).unwrap();
    let n_before = before.iter().filter(|&&c| c == b'\n').count();
    assert!(n_before < 7, "the run finished before it was killed");
    let (resumed, summary) = art(
        &s,
        &pot,
        &killed,
        &["--sample", "6", "total", "--threads", "2", "--resume"],
    );
    eprintln!("killed after {} records; resumed: {summary}", n_before - 1);
    assert!(
        resumed == full,
        "killed and resumed catalog differs from the uninterrupted run"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// A run that fails before any search: exit status 2, the message on stderr, no panic.
fn refused(args: &[&str], expect: &str) {
    let (code, _, stderr) = pelx(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains(&expect.to_lowercase()),
        "{args:?}: expected '{expect}' in: {stderr}"
    );
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = small_vacancy_file(d);
    let (s, pot) = (s.to_str().unwrap(), cu_u3());
    let pot = pot.to_str().unwrap();
    let out = d.join("out.jsonl");
    let out = out.to_str().unwrap();
    let base = |more: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = ["art", s, "-p", pot, "-o", out, "--no-progress"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        v.extend(more.iter().map(|x| x.to_string()));
        v
    };
    let call = |more: &[&'static str], expect: &str| {
        let a = base(more);
        refused(&a.iter().map(String::as_str).collect::<Vec<_>>(), expect);
    };
    call(&["--sample", "0", "total"], "at least 1");
    call(&["--sample", "0", "per", "atom"], "at least 1");
    call(&["--sample", "3", "per", "molecule"], "expected 'N per atom'");
    call(&["--sample", "1", "total", "--atoms", "Zr"], "no species Zr");
    call(
        &["--sample", "1", "total", "--atoms", "500-600"],
        "beyond the last atom",
    );
    call(&["--sample", "1", "total", "--atoms", "7-3"], "is empty");
    call(&["--sample", "1", "total", "--shard", "3/2"], "shard");
    assert!(!Path::new(out).exists(), "a refused run must not create its catalog");

    // An unknown key in --config names the key and its line.
    let cfg = d.join("bad.toml");
    std::fs::write(&cfg, "[activation]\npush_step = 0.1\npush_stepp = 0.2\n").unwrap();
    let cfg_s = cfg.to_str().unwrap().to_string();
    let a = [base(&["--sample", "1", "total", "--config"]), vec![cfg_s]].concat();
    refused(&a.iter().map(String::as_str).collect::<Vec<_>>(), "push_stepp");
    let (_, _, stderr) = pelx(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(stderr.contains("line 3") || stderr.contains(":3"), "{stderr}");
    // A value out of range.
    std::fs::write(&cfg, "[activation]\neigenvalue_threshold = 0.5\n").unwrap();
    refused(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        "eigenvalue_threshold",
    );
}

/// An unrelaxed structure is refused with `--no-relax`, and otherwise relaxed first with a
/// message, the relaxation recorded in the catalog's run record.
#[test]
fn unrelaxed_start_is_relaxed_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut s = with_vacancy(&cubic(Lattice::Fcc, "Cu", A_CU, [3; 3]).unwrap(), 0).unwrap();
    s.positions[5][0] += 0.1;
    let p = d.join("hot.extxyz");
    write_structure(&p, &s, None, &WriteOptions::default()).unwrap();
    let pot = cu_u3();
    let out = d.join("out.jsonl");
    let args = |more: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "art",
            p.to_str().unwrap(),
            "-p",
            pot.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-progress",
            "--sample",
            "1",
            "total",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(more.iter().map(|x| x.to_string()));
        v
    };
    let a = args(&["--no-relax"]);
    refused(&a.iter().map(String::as_str).collect::<Vec<_>>(), "not a minimum");

    let cfg = d.join("art.toml");
    std::fs::write(&cfg, "[limits]\nmax_force_calls = 50\n").unwrap();
    let mut a = args(&["--config"]);
    a.push(cfg.to_str().unwrap().into());
    let (code, stdout, stderr) = pelx(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not a minimum") && stderr.contains("relaxing"),
        "{stderr}"
    );
    assert_schema("art-summary.schema.json", &serde_json::from_str(&stdout).unwrap());
    let cat = Catalog::read(&out).unwrap();
    let r = cat.run.input_relaxation.as_ref().expect("the relaxation is recorded");
    assert!(r.fmax_before > 0.1 && r.fmax_after <= 1e-4, "{r:?}");
    assert!(r.energy_after < r.energy_before);
    let relaxed = d.join(&r.initial_structure);
    let back = pelx::structure::io::read_structure(&relaxed, &Default::default()).unwrap();
    let mut calc = Calculator::new(load_potential(&pot));
    let (e, f) = calc.energy_forces(&back).unwrap();
    assert!(fmax(&f) <= 1e-4);
    assert!((e - cat.run.e_initial).abs() < 1e-9);
    assert_eq!(cat.searches(), 1);
    assert_catalog_schema(&std::fs::read(&out).unwrap());
}

/// `--resume` with a catalog of another structure (or another seed) is refused and names the
/// difference; the catalog is left untouched.
#[test]
fn resume_refuses_a_catalog_of_another_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = small_vacancy_file(d);
    let mut other = pelx::structure::io::read_structure(&s, &Default::default()).unwrap();
    other.positions.swap(1, 2);
    let o = d.join("other.extxyz");
    write_structure(&o, &other, None, &WriteOptions::default()).unwrap();
    let cfg = d.join("art.toml");
    std::fs::write(&cfg, "[limits]\nmax_force_calls = 50\n").unwrap();
    let out = d.join("cat.jsonl");
    let pot = cu_u3();
    let common = ["--sample", "2", "total", "--config", cfg.to_str().unwrap()];
    let (bytes, _) = art(&s, &pot, &out, &common);
    for (structure, seed, expect) in [(&o, "1", "structure_sha256"), (&s, "2", "seed")] {
        let mut a = vec![
            "art",
            structure.to_str().unwrap(),
            "-p",
            pot.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-progress",
            "--resume",
            "--seed",
            seed,
        ];
        a.extend_from_slice(&common);
        refused(&a, expect);
        assert!(
            std::fs::read(&out).unwrap() == bytes,
            "a refused resume changed the catalog"
        );
    }
    // Without --resume or --force an existing catalog is not overwritten.
    let a = [
        "art",
        s.to_str().unwrap(),
        "-p",
        pot.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--sample",
        "1",
        "total",
    ];
    refused(&a, "--resume");
}

/// An atom selection that selects nothing: a species that the structure lists (LAMMPS data,
/// type 2 = Zr in Masses) but that no atom has.
#[test]
fn selection_of_a_species_without_atoms_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = with_vacancy(&cubic(Lattice::Fcc, "Cu", A_CU, [3; 3]).unwrap(), 0).unwrap();
    let mut two = Structure::new(
        s.cell.clone(),
        vec!["Cu".into(), "Zr".into()],
        s.types.clone(),
        s.positions.clone(),
    )
    .unwrap();
    // Relaxed here (with the Cu-Zr potential), so that pelx art uses it as read.
    let pot = root().join("potentials/CuZr_mm.eam.fs");
    let mut calc = Calculator::new(load_potential(&pot));
    let opts = MinimizeOptions {
        fmax: 1e-6,
        ..MinimizeOptions::default()
    };
    assert!(
        minimize(MinimizerKind::Lbfgs, &mut two, &mut calc, &opts)
            .unwrap()
            .converged
    );
    let data = d.join("cu.data");
    write_structure(&data, &two, None, &WriteOptions::default()).unwrap();
    let out = d.join("out.jsonl");
    refused(
        &[
            "art",
            data.to_str().unwrap(),
            "-p",
            pot.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--no-progress",
            "--sample",
            "1",
            "total",
            "--atoms",
            "Zr",
        ],
        "selects no atom",
    );
}

/// The catalog schema has teeth: a failure record with an unknown reason, or an event without
/// its barrier, does not pass.
#[test]
fn catalog_schema_rejects_broken_records() {
    let schema = pelx::schema::load("catalog.schema.json");
    let failure = serde_json::json!({
        "type": "failure", "task": 3, "central_atom": 1, "attempt": 0, "seed": 9,
        "reason": "no_negative_mode", "detail": "40 pushes", "force_calls_total": 100,
        "calls": {"activation": 100, "lanczos": 0, "convergence": 0, "relaxation": 0, "verification": 0}
    });
    assert!(pelx::schema::check(&schema, &failure).is_empty());
    let mut bad = failure.clone();
    bad["reason"] = "tired".into();
    assert!(!pelx::schema::check(&schema, &bad).is_empty());
    let mut bad = failure.clone();
    bad["type"] = "event".into();
    assert!(!pelx::schema::check(&schema, &bad).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Locality (pelx issue 9): active set and local force evaluation

/// Runs `seeds` searches around `central` with local evaluation on and off (active set on in
/// both) and checks, event by event: the same outcome, saddle and final energies equal within
/// 1e-6 eV, a saddle whose largest force over the whole system (a fresh full calculator) is
/// below the saddle threshold and a final minimum below the relaxation threshold (the number of
/// atoms the active set never took in is printed). Returns the number of events.
fn check_locality(
    init: &InitialMinimum,
    ff: Arc<dyn ForceField>,
    cfg: &ArtConfig,
    central: usize,
    seeds: u64,
) -> usize {
    let mut on = cfg.clone();
    on.locality.enabled = true;
    on.locality.local_evaluation = true;
    let mut off = on.clone();
    off.locality.local_evaluation = false;
    let mut fresh = Calculator::new(ff.clone());
    let mut events = 0;
    for seed in 0..seeds {
        let mut calc_on = Calculator::new(ff.clone());
        let a = search(init, &on, &mut calc_on, central, seed);
        let b = search(init, &off, &mut Calculator::new(ff.clone()), central, seed);
        match (&a, &b) {
            (SearchOutcome::Event(x), SearchOutcome::Event(y)) => {
                events += 1;
                let (ds, df) = ((x.e_saddle - y.e_saddle).abs(), (x.e_final - y.e_final).abs());
                eprintln!(
                    "seed {seed}: E_sad - E_ini {:.6} eV, dE_saddle {ds:.1e}, dE_final {df:.1e} eV, verified {}, {} calls ({} local)",
                    x.e_saddle - init.energy,
                    x.verified,
                    x.calls.total(),
                    calc_on.local_calls()
                );
                assert!(
                    ds < 1e-6 && df < 1e-6,
                    "seed {seed}: energies differ by {ds:.2e} / {df:.2e} eV"
                );
                assert_eq!(x.verified, y.verified, "seed {seed}");
                let mut s = init.structure.clone();
                s.positions.clone_from(&x.saddle);
                let (e, f) = fresh.energy_forces(&s).unwrap();
                assert!((e - x.e_saddle).abs() < 1e-9, "seed {seed}: saddle energy not exact");
                assert!(fmax(&f) < cfg.convergence.fmax, "seed {seed}: saddle fmax {}", fmax(&f));
                s.positions.clone_from(&x.final_positions);
                let (e, f) = fresh.energy_forces(&s).unwrap();
                assert!((e - x.e_final).abs() < 1e-9, "seed {seed}: final energy not exact");
                assert!(fmax(&f) < cfg.relaxation.fmax, "seed {seed}: final fmax {}", fmax(&f));
                let frozen = s
                    .positions
                    .iter()
                    .zip(&init.structure.positions)
                    .filter(|(p, q)| p == q)
                    .count();
                eprintln!("seed {seed}: {frozen} of {} atoms never moved", s.len());
            }
            (SearchOutcome::Failure(x), SearchOutcome::Failure(y)) => {
                eprintln!("seed {seed}: {} ({}) both ways", x.reason, x.detail);
                assert_eq!(x.reason, y.reason, "seed {seed}");
            }
            _ => panic!("seed {seed}: outcomes differ: {a:?} vs {b:?}"),
        }
    }
    events
}

/// fcc Cu vacancy, 5x5x5 cells (499 atoms): local evaluation on and off give the same events
/// (see [`check_locality`]), and the hop barrier of seed 0 is that of the NEB fixture.
#[test]
fn locality_local_evaluation_on_and_off_give_the_same_events_cu_vacancy() {
    let ff = load_potential(&cu_u3());
    let mut calc = Calculator::new(ff.clone());
    let s = cu_vacancy(5, &mut calc);
    let init = InitialMinimum::new(s, &mut calc).unwrap();
    let mut cfg = ArtConfig::default();
    cfg.convergence.fmax = 0.005;
    cfg.convergence.fnorm_max = 0.01;
    let t = std::time::Instant::now();
    let events = check_locality(&init, ff, &cfg, 0, 2);
    eprintln!("{:.1} s", t.elapsed().as_secs_f64());
    assert!(events > 0, "no event to compare");
}

/// The shipped 500-atom Cu50Zr50 glass and its Mendelev Cu-Zr potential.
fn glass_500() -> (Arc<dyn ForceField>, Structure) {
    let ff = load_potential(&root().join("potentials/CuZr_mm.eam.fs"));
    let s = pelx::structure::io::read_structure(
        root().join("configs/CuZr50_500.extxyz"),
        &pelx::structure::io::ReadOptions::default(),
    )
    .unwrap();
    (ff, s)
}

/// The same on the shipped 500-atom Cu-Zr glass, six seeds around two atoms.
#[test]
#[ignore = "a minute in the dev profile; run with --ignored"]
fn locality_local_evaluation_on_and_off_give_the_same_events_glass() {
    let (ff, s) = glass_500();
    let mut calc = Calculator::new(ff.clone());
    let init = InitialMinimum::new(s, &mut calc).unwrap();
    let cfg = ArtConfig::default();
    let mut events = 0;
    for central in [7, 300] {
        events += check_locality(&init, ff.clone(), &cfg, central, 3);
    }
    assert!(events > 0, "no event to compare");
}

/// A search of the shipped 500-atom glass (central atom 102, the per-search seed of master seed
/// 7) first converges on a second-order saddle. With the default `max_escapes` it steps down
/// the second mode to a verified first-order saddle and flags the event; with
/// `max_escapes = 0` it reports the second-order saddle, unverified.
#[test]
fn a_higher_order_saddle_is_left_down_its_second_mode() {
    let (ff, s) = glass_500();
    let template = Calculator::new(ff);
    let init = InitialMinimum::new(s, &mut template.clone()).unwrap();
    let (central, seed) = (102, 11939230945004699931);
    let mut cfg = ArtConfig::default();
    let tol = cfg.verification.negative_tolerance;
    let SearchOutcome::Event(ev) = search(&init, &cfg, &mut template.clone(), central, seed) else {
        panic!("no event")
    };
    let c = ev.check.unwrap();
    assert!(
        ev.escapes >= 1 && ev.verified,
        "escapes {}, verified {}, {c:?}",
        ev.escapes,
        ev.verified
    );
    assert!(c.lowest < -tol && c.second > -tol, "{c:?}");
    cfg.convergence.max_escapes = 0;
    let SearchOutcome::Event(ev0) = search(&init, &cfg, &mut template.clone(), central, seed) else {
        panic!("no event without escapes")
    };
    let c0 = ev0.check.unwrap();
    assert!(ev0.escapes == 0 && !ev0.verified, "{c0:?}");
    assert!(
        c0.lowest < -tol && c0.second < -tol,
        "not a higher-order saddle: {c0:?}"
    );
}
