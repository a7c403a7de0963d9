//! `pelx kmc` end to end: JSON on stdout with the documented keys, trajectories on disk, and
//! one-line errors with exit status 2 on bad input.

use std::path::Path;
use std::process::{Command, Output};

fn pelx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("run pelx")
}

/// Runs pelx expecting failure; returns stderr, checking exit status 2, one line, no panic.
fn fails(args: &[&str]) -> String {
    let out = pelx(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "args {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic on {args:?}: {err}");
    err
}

#[test]
fn lattice_prints_f_with_its_error_and_speed() {
    let out = pelx(&[
        "kmc",
        "lattice",
        "--lattice",
        "bcc",
        "--size",
        "6",
        "--hops",
        "2e5",
        "--seed",
        "3",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "lattice",
        "f",
        "f_err",
        "hops",
        "hops_per_second",
        "seed",
        "schema",
        "pelx_version",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["lattice"], "bcc");
    assert_eq!(v["hops"], 200_000);
    let (f, err) = (v["f"].as_f64().unwrap(), v["f_err"].as_f64().unwrap());
    assert!((f - 0.72719).abs() < 5.0 * err, "f = {f} ± {err}");
}

#[test]
fn trajectories_are_written_for_both_commands() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("sq.dump");
    let out = pelx(&[
        "kmc",
        "lattice",
        "--lattice",
        "square",
        "--size",
        "4",
        "--hops",
        "64",
        "--blocks",
        "2",
        "--trajectory",
        dump.to_str().unwrap(),
        "--frame-every",
        "16",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&dump).unwrap();
    // Frames at 0, 16, 32, 48, 64 jumps, each with the 15 atoms of a 16-site box.
    assert_eq!(text.matches("ITEM: TIMESTEP").count(), 5);
    assert!(text.contains("ITEM: NUMBER OF ATOMS\n15\n"));

    let xyz = dir.path().join("w.extxyz");
    let out = pelx(&[
        "kmc",
        "whatif",
        "--temperatures",
        "700",
        "--asymmetry",
        "0.5",
        "--walkers",
        "3",
        "--hops",
        "128",
        "--burn-in",
        "0",
        "--trajectory",
        xyz.to_str().unwrap(),
        "--frame-interval",
        "1e4",
    ]);
    assert!(out.status.code() != Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&xyz).unwrap();
    assert!(text.starts_with("3\n") && text.contains("Time="));
}

#[test]
fn bad_input_gives_clear_errors() {
    let e = fails(&["kmc", "lattice", "--lattice", "hcp"]);
    assert!(e.contains("unknown lattice 'hcp'"), "{e}");
    let e = fails(&[
        "kmc",
        "whatif",
        "--temperatures",
        "600,-5",
        "--walkers",
        "2",
        "--hops",
        "64",
    ]);
    assert!(e.contains("temperature -5 K must be positive"), "{e}");
    let e = fails(&["kmc", "whatif", "--temperatures", "0", "--walkers", "2", "--hops", "64"]);
    assert!(e.contains("temperature 0 K must be positive"), "{e}");
    let e = fails(&[
        "kmc",
        "whatif",
        "--catalog",
        "tests/fixtures/kmc-catalog.jsonl",
        "--min-displacement",
        "10",
    ]);
    assert!(
        e.contains("no usable events") && e.contains("below the min displacement 10 Å"),
        "{e}"
    );
    let e = fails(&["kmc", "whatif", "--asymmetry", "1.5", "--walkers", "2", "--hops", "64"]);
    assert!(e.contains("asymmetry 1.5 must lie in [0, 1]"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("x.xyz");
    let e = fails(&[
        "kmc",
        "whatif",
        "--temperatures",
        "600,700",
        "--trajectory",
        xyz.to_str().unwrap(),
        "--frame-interval",
        "1",
    ]);
    assert!(e.contains("exactly one asymmetry level and one temperature"), "{e}");
    assert!(!xyz.exists(), "no file is left behind by a rejected run");
    // The lattice run checks its trajectory options after opening the file: it removes it.
    let e = fails(&[
        "kmc",
        "lattice",
        "--lattice",
        "fcc",
        "--size",
        "4",
        "--hops",
        "1000",
        "--trajectory",
        xyz.to_str().unwrap(),
        "--frame-every",
        "0",
    ]);
    assert!(
        e.contains("frame interval and nearest-neighbour distance must be positive"),
        "{e}"
    );
    assert!(!xyz.exists(), "no file is left behind by a rejected lattice run");
    let e = fails(&["kmc", "lattice", "--hops", "1e30"]);
    assert!(e.contains("'1e30' is too many steps"), "{e}");
}
