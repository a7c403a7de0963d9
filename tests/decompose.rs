//! `pelx decompose` end to end on the real LAMMPS MD fixture (a 500-atom Cu50Zr50 liquid at
//! 1000 K, 101 frames 1 ps apart, made by `scripts/make_md_trajectory.py`): JSON matching
//! `schemas/decompose.schema.json`, figures, wrapped/unwrapped twins, bad input, quench cache.

use pelx::diffusion::{decompose_trajectory, DecomposeOptions, TrajectoryOptions};
use pelx::structure::io::{read_frames, DumpWriter, ReadOptions, WriteOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURE: &str = "tests/fixtures/md/CuZr50_500_1000K.dump";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pelx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run pelx")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Runs pelx expecting failure: exit status 2, one line on stderr, no panic.
fn fails(args: &[&str]) -> String {
    let out = pelx(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "args {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic on {args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "error should be one line: {err}");
    err
}

/// Checks `v` against the subset of JSON Schema that `schemas/decompose.schema.json` uses:
/// type, const, enum, required, properties, additionalProperties: false, items, oneOf,
/// minItems/maxItems and local $refs. Returns the violations.
fn check(root: &Value, schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/")
            .and_then(|p| p.split('/').try_fold(root, |s, k| s.get(k)));
        match target {
            Some(t) => check(root, t, v, path, errs),
            None => errs.push(format!("{path}: unresolvable {r}")),
        }
        return;
    }
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let ok = alts
            .iter()
            .filter(|a| {
                let mut e = Vec::new();
                check(root, a, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if ok != 1 {
            errs.push(format!("{path}: matches {ok} of the oneOf alternatives"));
        }
        return;
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "number" => v.is_number(),
            "integer" => v.is_u64() || v.is_i64(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            errs.push(format!("{path}: {v} is not of type {types:?}"));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            errs.push(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{path}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(obj), Some(props)) = (v.as_object(), schema.get("properties").and_then(Value::as_object)) {
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let k = r.as_str().unwrap();
            if !obj.contains_key(k) {
                errs.push(format!("{path}: missing {k}"));
            }
        }
        for (k, x) in obj {
            match props.get(k) {
                Some(s) => check(root, s, x, &format!("{path}.{k}"), errs),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errs.push(format!("{path}: unexpected {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(arr), Some(items)) = (v.as_array(), schema.get("items")) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), errs);
        }
        let n = arr.len() as u64;
        if schema.get("minItems").and_then(Value::as_u64).is_some_and(|m| n < m)
            || schema.get("maxItems").and_then(Value::as_u64).is_some_and(|m| n > m)
        {
            errs.push(format!("{path}: {n} items out of bounds"));
        }
    }
}

fn assert_matches_schema(v: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schemas/decompose.schema.json")).unwrap()).unwrap();
    let mut errs = Vec::new();
    check(&schema, &schema, v, "$", &mut errs);
    assert!(errs.is_empty(), "schema violations: {errs:#?}");
}

#[test]
fn md_fixture_end_to_end_with_figures() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("figs");
    let v = json_of(&pelx(&[
        "decompose",
        FIXTURE,
        "--species",
        "Cu,Zr",
        "--interval",
        "1",
        "--threshold",
        "1",
        "--scan",
        "0,0.5,1,1.5,2,3",
        "--plots",
        plots.to_str().unwrap(),
    ]));
    assert_matches_schema(&v);
    assert_eq!(v["schema"], "pelx.decompose/1");
    assert_eq!(v["mode"], "single");
    assert_eq!(v["trajectory"]["frames_analysed"], 101);
    assert_eq!(
        (
            v["trajectory"]["first_tick"].as_u64(),
            v["trajectory"]["last_tick"].as_u64()
        ),
        (Some(0), Some(100_000))
    );
    assert_eq!(v["atoms"], 500);
    assert_eq!(v["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    let (d, drw, f) = (
        v["D"].as_f64().unwrap(),
        v["D_RW"].as_f64().unwrap(),
        v["f"].as_f64().unwrap(),
    );
    assert!((f - d / drw).abs() < 1e-15);
    // A supercooled liquid: diffusion well under the random-walk rate (raw MD frames).
    assert!(d > 1e-3 && d < 2e-2, "D = {d}");
    assert!(f > 0.05 && f < 0.5, "f = {f}");
    // Per species: Cu diffuses faster than Zr.
    let sp = v["species"].as_array().unwrap();
    assert_eq!(
        (sp[0]["species"].as_str(), sp[1]["species"].as_str()),
        (Some("Cu"), Some("Zr"))
    );
    assert!(sp[0]["D"].as_f64().unwrap() > sp[1]["D"].as_f64().unwrap());
    // f(d) rises to 1 as d grows: no step of 1 ps is longer than 3 Å.
    let scan: Vec<f64> = v["threshold_scan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["f"].as_f64().unwrap())
        .collect();
    assert!(scan.windows(2).all(|w| w[1] >= w[0]), "{scan:?}");
    assert_eq!(*scan.last().unwrap(), 1.0);
    let files: Vec<PathBuf> = v["plots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| PathBuf::from(p.as_str().unwrap()))
        .collect();
    assert_eq!(files.len(), 4);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.starts_with("<svg") && text.len() > 5000, "{}", f.display());
    }
}

/// The fixture rewritten: unwrapped (`xu yu zu`, DumpWriter) and wrapped without image flags.
fn twins(dir: &Path) -> (PathBuf, PathBuf) {
    let opts = ReadOptions {
        species: Some(vec!["Cu".into(), "Zr".into()]),
        ..Default::default()
    };
    let unwrapped = dir.join("unwrapped.dump");
    let mut w = DumpWriter::new(std::fs::File::create(&unwrapped).unwrap(), &unwrapped);
    for f in read_frames(root().join(FIXTURE), &opts).unwrap() {
        let f = f.unwrap();
        let wo = WriteOptions {
            timestep: f.timestep.unwrap(),
            ..Default::default()
        };
        w.write_frame(&f.structure, &wo).unwrap();
    }
    w.finish().unwrap();
    // Drop the image flags: wrapped coordinates that only minimum image can unwrap.
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line == "ITEM: ATOMS id type x y z ix iy iz" {
            out.push_str("ITEM: ATOMS id type x y z\n");
        } else {
            let toks: Vec<&str> = line.split_ascii_whitespace().collect();
            if toks.len() == 8 {
                out.push_str(&toks[..5].join(" "));
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
    }
    let wrapped = dir.join("wrapped_no_images.dump");
    std::fs::write(&wrapped, out).unwrap();
    (unwrapped, wrapped)
}

#[test]
fn md_fixture_wrapped_and_unwrapped_twins_give_identical_d() {
    let dir = tempfile::tempdir().unwrap();
    let (unwrapped, wrapped) = twins(dir.path());
    let topts = TrajectoryOptions {
        read: ReadOptions {
            species: Some(vec!["Cu".into(), "Zr".into()]),
            ..Default::default()
        },
        ..Default::default()
    };
    let opts = DecomposeOptions {
        realizations: 5,
        scan: vec![0.5, 2.0],
        ..Default::default()
    };
    let a = decompose_trajectory(&root().join(FIXTURE), &topts, &opts, None).unwrap();
    let b = decompose_trajectory(&unwrapped, &topts, &opts, None).unwrap();
    let c = decompose_trajectory(&wrapped, &topts, &opts, None).unwrap();
    assert_eq!(
        (a.trajectory.unwrap.as_str(), c.trajectory.unwrap.as_str()),
        ("unwrapped", "minimum-image")
    );
    for x in [&b, &c] {
        for (p, q, what) in [
            (x.coefficients.d, a.coefficients.d, "D"),
            (x.coefficients.d_rw, a.coefficients.d_rw, "D_RW"),
            (x.coefficients.f, a.coefficients.f, "f"),
        ] {
            assert!((p - q).abs() <= 1e-12 * q, "{what}: {p} vs {q} ({})", x.trajectory.path);
        }
        assert_eq!(x.hops.long_steps, a.hops.long_steps);
    }
}

#[test]
fn bad_input_gives_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["decompose", FIXTURE, "--species", "Cu,Zr", "--threshold", "1"];
    let with = |extra: &[&str]| -> Vec<String> { base.iter().chain(extra).map(|s| s.to_string()).collect() };
    let run = |args: Vec<String>| fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let e = run(with(&["--interval", "1.5"]));
    assert!(
        e.contains("non-uniform interval") && e.contains("multiple of their spacing"),
        "{e}"
    );
    let e = run(with(&["--interval", "1", "--fit", "200:300"]));
    assert!(e.contains("the fit window 200-300 ps holds 0 lag times"), "{e}");
    let e = run(with(&["--interval", "1", "--fit", "10-50"]));
    assert!(e.contains("--fit must be START:END"), "{e}");
    let e = run(with(&["--interval", "1", "--scan", "0,x"]));
    assert!(e.contains("--scan: 'x' is not a threshold"), "{e}");
    let e = run(vec![
        "decompose".into(),
        FIXTURE.into(),
        FIXTURE.into(),
        "--interval".into(),
        "1".into(),
        "--threshold".into(),
        "1".into(),
    ]);
    assert!(e.contains("several trajectories need --arrhenius"), "{e}");
    let e = run(with(&["--interval", "1", "--arrhenius", "--temperatures", "900,1000"]));
    assert!(
        e.contains("--temperatures lists 2 temperatures for 1 trajectories"),
        "{e}"
    );
    // A truncated copy: the last frame is reported, the 100 before it analysed.
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let cut = dir.path().join("cut.dump");
    std::fs::write(&cut, &text[..text.len() - 1000]).unwrap();
    let v = json_of(&pelx(&[
        "decompose",
        cut.to_str().unwrap(),
        "--species",
        "Cu,Zr",
        "--interval",
        "1",
        "--threshold",
        "1",
    ]));
    assert_eq!(v["trajectory"]["frames_analysed"], 100);
    let w = v["trajectory"]["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("the last frame is incomplete (") && w.contains("cut.dump:51383: expected 8 fields"),
        "{w}"
    );
    let no_species = run(vec![
        "decompose".into(),
        FIXTURE.into(),
        "--interval".into(),
        "1".into(),
        "--threshold".into(),
        "1".into(),
    ]);
    assert!(no_species.contains("give a species list (--species)"), "{no_species}");
}

#[test]
fn arrhenius_mode_writes_fits_and_figures() {
    // The same trajectory at two nominal temperatures: the plumbing, not the physics (every
    // activation energy is zero).
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("figs");
    let v = json_of(&pelx(&[
        "decompose",
        "--arrhenius",
        FIXTURE,
        FIXTURE,
        "--temperatures",
        "1000,900",
        "--species",
        "Cu,Zr",
        "--interval",
        "1",
        "--threshold",
        "1",
        "--realizations",
        "4",
        "--plots",
        plots.to_str().unwrap(),
    ]));
    assert_matches_schema(&v);
    assert_eq!(v["mode"], "arrhenius");
    let a = &v["arrhenius"];
    assert_eq!(a["points"][0]["temperature"], 900.0);
    assert!(a["E_D"]["energy"].as_f64().unwrap().abs() < 1e-12);
    assert_eq!(
        a["threshold_scan"].as_array().unwrap().len(),
        10,
        "Table S1 thresholds by default"
    );
    assert_eq!(v["runs"].as_array().unwrap().len(), 2);
    assert_eq!(v["plots"].as_array().unwrap().len(), 2 * 4 + 3);
    assert!(plots.join("arrhenius-D.svg").is_file() && plots.join("arrhenius-scan.svg").is_file());
}

#[test]
fn quench_through_the_cli_uses_its_cache_the_second_time() {
    // The first 4 frames of the fixture, quenched with the Mendelev Cu-Zr potential.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let starts: Vec<usize> = text.match_indices("ITEM: TIMESTEP").map(|(i, _)| i).collect();
    let short = dir.path().join("short.dump");
    std::fs::write(&short, &text[..starts[4]]).unwrap();
    let cache = dir.path().join("cache");
    let args = [
        "decompose",
        short.to_str().unwrap(),
        "--species",
        "Cu,Zr",
        "--interval",
        "1",
        "--threshold",
        "1",
        "--realizations",
        "2",
        "--quench",
        "potentials/CuZr_mm.eam.fs",
        "--quench-fmax",
        "0.05",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    let first = json_of(&pelx(&args));
    assert_matches_schema(&first);
    let q = &first["quench"];
    assert_eq!((q["frames"].as_u64(), q["cache_hit"].as_bool()), (Some(4), Some(false)));
    assert!(q["force_calls"].as_u64().unwrap() > 4);
    // E_IS of this glass former is near -4.9 eV/atom.
    let e = q["e_is_mean"].as_f64().unwrap();
    assert!(e < -4.8 && e > -5.0, "{e}");
    assert_eq!(first["inputs"].as_array().unwrap().len(), 2);
    let second = json_of(&pelx(&args));
    assert_eq!(
        (
            second["quench"]["cache_hit"].as_bool(),
            second["quench"]["force_calls"].as_u64()
        ),
        (Some(true), Some(0))
    );
    assert_eq!(second["D"], first["D"]);
    assert_eq!(second["curves"], first["curves"]);
}

/// Drops the fields that are not results (wall time) from a decompose JSON, recursively.
fn without_timings(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("seconds");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

#[test]
fn one_and_two_threads_print_identical_numbers() {
    // The streaming path from a file, 50 realizations, a scan and per-species results: the
    // random directions are drawn per (atom, realization), never per thread.
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_pelx"))
            .args([
                "decompose",
                FIXTURE,
                "--species",
                "Cu,Zr",
                "--interval",
                "1",
                "--threshold",
                "1",
                "--scan",
                "0,1,2",
                "--seed",
                "7",
            ])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(root())
            .output()
            .expect("run pelx");
        without_timings(json_of(&out))
    };
    let one = run("1");
    assert_eq!(one["parameters"]["realizations"], 50);
    assert!(one["D_RW"].as_f64().unwrap() > 0.0);
    assert_eq!(one, run("2"));
}

/// Acceptance through the two commands: `pelx kmc lattice` writes a vacancy-mediated tracer
/// trajectory on fcc (107 atoms, 60,000 jumps, one frame per jump, TIMESTEP = jump count;
/// a 276 MB dump in a temporary directory), `pelx decompose` gives f = 0.7815 within 0.02
/// (Compaan & Haven 1956). About 10 s in the dev profile.
/// `cargo test --test decompose kmc_lattice -- --ignored --nocapture`
#[test]
#[ignore]
fn kmc_lattice_tracer_trajectory_gives_the_fcc_correlation_factor() {
    const F_FCC: f64 = 0.78145;
    let dir = tempfile::tempdir().unwrap();
    let traj = dir.path().join("fcc.dump");
    let kmc = json_of(&pelx(&[
        "kmc",
        "lattice",
        "--lattice",
        "fcc",
        "--size",
        "3",
        "--hops",
        "60000",
        "--frame-every",
        "1",
        "--seed",
        "11",
        "--trajectory",
        traj.to_str().unwrap(),
    ]));
    let v = json_of(&pelx(&[
        "decompose",
        traj.to_str().unwrap(),
        "--species",
        "Cu",
        "--md-timestep",
        "1",
        "--interval",
        "1",
        "--threshold",
        "1",
        "--fit",
        "300:3000",
        "--realizations",
        "50",
        "--scan",
        "0,1,2,2.6",
    ]));
    let (f, err) = (v["f"].as_f64().unwrap(), v["f_err"].as_f64().unwrap());
    eprintln!(
        "kmc lattice fcc, 107 atoms, 60,000 jumps: decompose f = {f:.4} ± {err:.4}; kmc's own estimate {:.4}; D = {:.5e}, D_RW = {:.5e} Å² per vacancy jump",
        kmc["f"].as_f64().unwrap(),
        v["D"].as_f64().unwrap(),
        v["D_RW"].as_f64().unwrap()
    );
    assert_eq!(v["trajectory"]["frames_analysed"], 60_001);
    assert_eq!(v["hops"]["long_steps"], 60_000);
    assert!((f - F_FCC).abs() < 0.02, "f = {f} ± {err}");
    assert!((f - F_FCC).abs() < 3.0 * err, "f = {f} ± {err}");
    // f(d): every step is 0 or 2.556 Å, so d = 0 and 1 see the same hops; d = 2.6 sees none.
    let scan: Vec<f64> = v["threshold_scan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["f"].as_f64().unwrap())
        .collect();
    assert!(
        (scan[0] - F_FCC).abs() < 0.02 && (scan[1] - F_FCC).abs() < 0.02,
        "{scan:?}"
    );
    assert_eq!(scan[3], 1.0);
}

#[test]
fn surface_flags_select_the_outer_layers_of_a_slab() {
    // The fixture opened into a slab: unwrapped positions, the box 20 Å taller on each side
    // along z (`pp pp pp` kept: the vacuum is found as the widest gap between atoms).
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(FIXTURE)).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut bounds = 0;
    let mut first: Vec<f64> = Vec::new();
    let mut frames = 0;
    // The box edge (cubic, constant under NVT) from the first bounds line.
    let l = {
        let b: Vec<f64> = text
            .lines()
            .nth(5)
            .unwrap()
            .split_ascii_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        b[1] - b[0]
    };
    for line in text.lines() {
        let t: Vec<&str> = line.split_ascii_whitespace().collect();
        if line.starts_with("ITEM: BOX BOUNDS") {
            bounds = 3;
            frames += 1;
            out.push_str(line);
        } else if bounds > 0 {
            bounds -= 1;
            if bounds == 0 {
                let (lo, hi): (f64, f64) = (t[0].parse().unwrap(), t[1].parse().unwrap());
                out.push_str(&format!("{} {}", lo - 20.0, hi + 20.0));
            } else {
                out.push_str(line);
            }
        } else if line == "ITEM: ATOMS id type x y z ix iy iz" {
            out.push_str("ITEM: ATOMS id type xu yu zu");
        } else if t.len() == 8 {
            let u: Vec<f64> = (0..3)
                .map(|k| t[2 + k].parse::<f64>().unwrap() + l * t[5 + k].parse::<f64>().unwrap())
                .collect();
            if frames == 1 {
                // As written, 5 decimals.
                first.push(format!("{:.5}", u[2]).parse().unwrap());
            }
            out.push_str(&format!("{} {} {:.5} {:.5} {:.5}", t[0], t[1], u[0], u[1], u[2]));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let slab = dir.path().join("slab.dump");
    std::fs::write(&slab, out).unwrap();
    let (lo, hi) = first
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &z| (a.min(z), b.max(z)));
    let run = |layer: &str| {
        json_of(&pelx(&[
            "decompose",
            slab.to_str().unwrap(),
            "--species",
            "Cu,Zr",
            "--interval",
            "1",
            "--threshold",
            "1",
            "--realizations",
            "4",
            "--surface",
            "z",
            "--layer",
            layer,
        ]))
    };
    for layer in [2.5, 5.0] {
        let v = run(&layer.to_string());
        assert_matches_schema(&v);
        let want = first.iter().filter(|&&z| z - lo <= layer || hi - z <= layer).count();
        let s = &v["surface"];
        assert_eq!(
            (v["dimension"].as_u64(), s["atoms"].as_u64()),
            (Some(2), Some(want as u64))
        );
        assert_eq!(v["atoms"].as_u64(), Some(want as u64));
        assert!(
            (s["top"].as_f64().unwrap() - hi).abs() < 1e-9 && (s["bottom"].as_f64().unwrap() - lo).abs() < 1e-9,
            "{s} vs {lo} {hi}"
        );
        assert!(v["D"].as_f64().unwrap() > 0.0 && v["f"].as_f64().unwrap() > 0.0);
    }
    // --layer without --surface is refused by the parser.
    let out = pelx(&[
        "decompose",
        FIXTURE,
        "--interval",
        "1",
        "--threshold",
        "1",
        "--layer",
        "2.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--surface"));
}
