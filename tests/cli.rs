//! The `pelx` binary end to end: results on stdout, one-line errors with exit status 2 on bad
//! input (never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Runs pelx expecting failure; returns stderr, checking exit status 2 and no panic.
fn fails(args: &[&str]) -> String {
    let out = pelx(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "args {args:?}: stderr {err}");
    assert!(!err.contains("panicked"), "panic on {args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "error should be one line: {err}");
    err
}

fn tmp_file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A single Cu atom in a 10 Å box.
fn one_cu_atom(dir: &tempfile::TempDir) -> PathBuf {
    tmp_file(
        dir,
        "cu.xyz",
        "1\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3\nCu 0 0 0\n",
    )
}

/// A copy of the shipped potential `shipped`, named `name`, with line `index` (from 0) replaced.
fn edited_potential(dir: &tempfile::TempDir, shipped: &str, name: &str, index: usize, line: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join(shipped)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[index] = line.into();
    tmp_file(dir, name, &(lines.join("\n") + "\n"))
}

#[test]
fn energy_of_the_shipped_glass_is_json_on_stdout() {
    let out = pelx(&[
        "energy",
        "configs/CuZr50_500.extxyz",
        "-p",
        "potentials/CuZr_mm.eam.fs",
        "--forces",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["natoms"], 500);
    assert_eq!(v["forces"].as_array().unwrap().len(), 500);
    // The LAMMPS energy of this inherent structure (tests/fixtures/lammps/CuZr_mm__glass500.json).
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/lammps/CuZr_mm__glass500.json")).unwrap(),
    )
    .unwrap();
    let de = (v["energy"].as_f64().unwrap() - fx["energy"].as_f64().unwrap()).abs();
    assert!(de < 1e-8, "{de}");
    assert!(v["provenance"]["pelx_version"].is_string());
    let errors = pelx::schema::check(&pelx::schema::load("energy.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn bench_output_follows_its_schema() {
    let out = pelx(&[
        "bench",
        "forces",
        "configs/CuZr50_500.extxyz",
        "-p",
        "potentials/CuZr_mm.eam.fs",
        "--calls",
        "2",
        "--repeat",
        "1",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = pelx::schema::check(&pelx::schema::load("bench-forces.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn data_file_and_extxyz_twin_give_the_same_energy() {
    let a = pelx(&["energy", "configs/CuZr50_500.extxyz", "-p", "potentials/CuZr_mm.eam.fs"]);
    let b = pelx(&[
        "energy",
        "configs/CuZr50_500.data",
        "--species",
        "Cu,Zr",
        "-p",
        "potentials/CuZr_mm.eam.fs",
    ]);
    let ea = serde_json::from_slice::<serde_json::Value>(&a.stdout).unwrap()["energy"]
        .as_f64()
        .unwrap();
    let eb = serde_json::from_slice::<serde_json::Value>(&b.stdout).unwrap()["energy"]
        .as_f64()
        .unwrap();
    assert!((ea - eb).abs() < 1e-9, "{ea} {eb}");
}

#[test]
fn convert_then_relax_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("g.data");
    let out = pelx(&["convert", "configs/CuZr50_500.extxyz", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let relaxed = dir.path().join("r.extxyz");
    let out = pelx(&[
        "relax",
        data.to_str().unwrap(),
        "--species",
        "Cu,Zr",
        "-p",
        "potentials/CuZr_mm.eam.fs",
        "--fmax",
        "1e-3",
        "-o",
        relaxed.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["converged"], true);
    let errors = pelx::schema::check(&pelx::schema::load("relax.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(relaxed.exists());
}

#[test]
fn missing_structure_file() {
    let e = fails(&["energy", "no/such.extxyz", "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("no/such.extxyz"), "{e}");
}

#[test]
fn unknown_structure_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "x.pdb", "ATOM\n");
    let e = fails(&["energy", p.to_str().unwrap(), "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("known formats"), "{e}");
}

#[test]
fn species_missing_from_the_potential() {
    let e = fails(&["energy", "configs/CuZr50_500.extxyz", "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("species Zr is not in"), "{e}");
}

#[test]
fn truncated_potential_table() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("potentials/Cu_u3.eam")).unwrap();
    let cut: String = text.lines().take(60).map(|l| format!("{l}\n")).collect();
    let p = tmp_file(&dir, "Cu_cut.eam", &cut);
    let xyz = tmp_file(
        &dir,
        "cu.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3\nCu 0 0 0\nCu 2.5 0 0\n",
    );
    let e = fails(&["energy", xyz.to_str().unwrap(), "-p", p.to_str().unwrap()]);
    assert!(e.contains("Cu_cut.eam") && e.contains("truncated"), "{e}");
}

#[test]
fn malformed_number_in_potential_table() {
    let dir = tempfile::tempdir().unwrap();
    let p = edited_potential(
        &dir,
        "potentials/Cu_mishin1.eam.alloy",
        "bad.eam.alloy",
        9,
        "0.1 0.2 abc 0.4 0.5",
    );
    let xyz = one_cu_atom(&dir);
    let e = fails(&["energy", xyz.to_str().unwrap(), "-p", p.to_str().unwrap()]);
    assert!(e.contains("bad.eam.alloy:10:") && e.contains("'abc'"), "{e}");
}

#[test]
fn potential_cutoff_beyond_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    // Line 3 is "Nrho drho Nr dr cutoff": the r tables end at 500 x 0.01 = 5 Å.
    let text = std::fs::read_to_string(root().join("potentials/Cu_u3.eam")).unwrap();
    let mut words: Vec<&str> = text.lines().nth(2).unwrap().split_whitespace().collect();
    words[4] = "50.0";
    let p = edited_potential(&dir, "potentials/Cu_u3.eam", "Cu_far.eam", 2, &words.join(" "));
    let xyz = one_cu_atom(&dir);
    let e = fails(&["energy", xyz.to_str().unwrap(), "-p", p.to_str().unwrap()]);
    assert!(
        e.contains("Cu_far.eam:3:") && e.contains("beyond the tabulated range"),
        "{e}"
    );
}

#[test]
fn potential_with_a_bad_mass_or_a_repeated_element() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = one_cu_atom(&dir);
    let p = edited_potential(&dir, "potentials/Cu_u3.eam", "Cu_m0.eam", 1, "29 0.0 3.615 FCC");
    let e = fails(&["energy", xyz.to_str().unwrap(), "-p", p.to_str().unwrap()]);
    assert!(
        e.contains("Cu_m0.eam:2:") && e.contains("mass 0 of the element must be positive"),
        "{e}"
    );

    let p = edited_potential(&dir, "potentials/CuZr_mm.eam.fs", "CuCu.eam.fs", 3, "2 Cu Cu");
    let e = fails(&["energy", xyz.to_str().unwrap(), "-p", p.to_str().unwrap()]);
    assert!(
        e.contains("CuCu.eam.fs:4:") && e.contains("element Cu is named twice"),
        "{e}"
    );
}

#[test]
fn potential_of_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(&dir, "CuZr.txt", "not a potential\n");
    let e = fails(&["energy", "configs/CuZr50_500.extxyz", "-p", p.to_str().unwrap()]);
    assert!(
        e.contains("CuZr.txt: unknown potential format") && e.contains("*.eam.fs"),
        "{e}"
    );
}

#[test]
fn skin_out_of_range() {
    // Checked by the argument parser (clap), whose message ends with a pointer to --help.
    for skin in ["-1", "nan", "1e6", "inf"] {
        let arg = format!("--skin={skin}");
        let out = pelx(&[
            "energy",
            "configs/CuZr50_500.extxyz",
            "-p",
            "potentials/CuZr_mm.eam.fs",
            &arg,
        ]);
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{skin}: {e}");
        assert!(
            e.contains("Verlet skin") && e.contains("between 0 and 5"),
            "{skin}: {e}"
        );
    }
}

#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("net.jsonl");
    std::fs::copy(root().join("tests/fixtures/catalogs/net-a.jsonl"), &cat).unwrap();
    let before = std::fs::read(&cat).unwrap();
    let c = cat.to_str().unwrap();
    let e = fails(&["network", c, "-o", c]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
    let other = dir.path().join("n.json");
    let e = fails(&["network", c, "-o", other.to_str().unwrap(), "--graphml", c]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
    let e = fails(&["asym", c, "-o", c]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
    assert_eq!(std::fs::read(&cat).unwrap(), before, "the catalog was changed");

    let xyz = dir.path().join("s.extxyz");
    std::fs::copy(root().join("configs/CuZr50_500.extxyz"), &xyz).unwrap();
    let x = xyz.to_str().unwrap();
    let e = fails(&["energy", x, "-p", "potentials/CuZr_mm.eam.fs", "-o", x]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
    let e = fails(&["relax", x, "-p", "potentials/CuZr_mm.eam.fs", "--json", x]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
    let e = fails(&["convert", x, x]);
    assert!(e.contains("writing it would destroy the input"), "{e}");
}

#[test]
fn catalog_filter_refuses_a_nan_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.jsonl");
    let args = [
        "catalog",
        "filter",
        "tests/fixtures/catalogs/net-a.jsonl",
        "--min-displacement",
        "nan",
        "-o",
    ];
    let o = pelx(&[&args[..], &[out.to_str().unwrap()]].concat());
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("'nan' is not a finite number") && !out.exists(), "{e}");
}

#[test]
fn rearrangements_refuse_an_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = tmp_file(&dir, "old.jsonl", "precious\n");
    let e = fails(&[
        "rearrangements",
        "examples/rearrangements/cu_vacancy_hops.extxyz",
        "-p",
        "potentials/Cu_u3.eam",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(e.contains("exists: give --resume") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious\n");
}

#[test]
fn structure_without_atoms() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(
        &dir,
        "e.xyz",
        "0\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3\n",
    );
    let e = fails(&["energy", p.to_str().unwrap(), "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("0 atoms"), "{e}");
}

#[test]
fn nan_coordinate() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(
        &dir,
        "n.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3\nCu 0 0 0\nCu nan 0 0\n",
    );
    let e = fails(&["energy", p.to_str().unwrap(), "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("n.xyz:4"), "{e}");
}

#[test]
fn two_atoms_on_the_same_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(
        &dir,
        "d.xyz",
        "2\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3\nCu 1 1 1\nCu 1 1 1\n",
    );
    let e = fails(&["energy", p.to_str().unwrap(), "-p", "potentials/Cu_u3.eam"]);
    assert!(e.contains("apart") || e.contains("same position"), "{e}");
}

#[test]
fn dump_frame_with_missing_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = tmp_file(
        &dir,
        "m.dump",
        "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\nITEM: ATOMS id type x y\n1 1 0 0\n",
    );
    let e = fails(&[
        "energy",
        p.to_str().unwrap(),
        "--species",
        "Cu",
        "-p",
        "potentials/Cu_u3.eam",
    ]);
    assert!(e.contains("m.dump:9"), "{e}");
}
