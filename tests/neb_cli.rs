//! `pelx neb` end to end: PATH.json contents, the saddle file, and bad input.
//!
//! The system is the small vacancy hop in 3x3x3 fcc Cu cells (107 atoms, Cu_u3.eam), so that
//! the whole run takes about a second in the dev profile.

use pelx::saddle::neb::{neb, NebOptions};
use pelx::structure::build::{cubic, with_vacancy, Lattice};
use pelx::structure::io::{read_structure, write_structure, ReadOptions, WriteOptions};
use pelx::structure::Structure;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn potential() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("potentials/Cu_u3.eam"),
        root.join("../shared/potentials/Cu_u3.eam"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("Cu_u3.eam")
}

fn endpoints() -> (Structure, Structure) {
    let ini = with_vacancy(&cubic(Lattice::Fcc, "Cu", 3.615, [3, 3, 3]).unwrap(), 0).unwrap();
    let mut fin = ini.clone();
    fin.positions[0] = [0.0, 0.0, 0.0];
    (ini, fin)
}

fn pelx(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pelx"))
        .args(args)
        .output()
        .expect("pelx runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn neb_writes_path_json_and_the_saddle() {
    let dir = tempfile::tempdir().unwrap();
    let (ini, fin) = endpoints();
    let (a, b) = (dir.path().join("ini.extxyz"), dir.path().join("fin.extxyz"));
    write_structure(&a, &ini, None, &WriteOptions::default()).unwrap();
    write_structure(&b, &fin, None, &WriteOptions::default()).unwrap();
    let path_json = dir.path().join("PATH.json");
    let band = dir.path().join("band.extxyz");
    let pot = potential();
    let (code, stderr) = pelx(&[
        "neb",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-p",
        pot.to_str().unwrap(),
        "--climb",
        "--images",
        "5",
        "-o",
        path_json.to_str().unwrap(),
        "--band",
        band.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&path_json).unwrap()).unwrap();
    assert_eq!(j["schema"], "pelx.neb/1");
    assert_eq!(j["converged"], true);
    assert_eq!(j["saddle_source"], "climbing_image");
    assert_eq!(j["saddle_confirmed"], true);
    assert_eq!(j["images"].as_array().unwrap().len(), 7);
    assert_eq!(j["parameters"]["images"], 5);
    assert_eq!(j["initial"]["natoms"], 107);
    assert_eq!(j["initial"]["structure_sha256"], ini.content_hash());
    // The same run through the library gives the same barrier (file round trip at full precision).
    let opts = NebOptions {
        images: 5,
        ..NebOptions::default()
    };
    let lib = neb(&ini, &fin, pelx::potential::load(&[pot.as_path()]).unwrap(), &opts).unwrap();
    let barrier = j["barrier_forward"].as_f64().unwrap();
    assert!(
        (barrier - lib.barrier_forward).abs() < 1e-9,
        "{barrier} vs {}",
        lib.barrier_forward
    );
    // A symmetric hop: forward and reverse barriers agree, the saddle is the middle image.
    assert!((barrier - j["barrier_reverse"].as_f64().unwrap()).abs() < 1e-6);
    assert_eq!(j["saddle_index"], 3);
    // Force calls: per image, summing to the total.
    let per: Vec<u64> = j["force_calls"]["per_image"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(per.iter().sum::<u64>(), j["force_calls"]["total"].as_u64().unwrap());
    // One call per image and step at most (converged images are held still, without calls).
    let steps = j["steps"].as_u64().unwrap();
    assert!(
        per.iter().all(|&c| c >= 1 && c <= steps + 1),
        "{per:?} for {steps} steps"
    );
    assert_eq!(per[2], steps + 1, "the climbing image moves at every step");
    // The saddle beside PATH.json, with its energy.
    let saddle = read_structure(dir.path().join("PATH.saddle.extxyz"), &ReadOptions::default()).unwrap();
    assert_eq!(saddle.len(), 107);
    let e = pelx::potential::Calculator::new(pelx::potential::load(&[pot.as_path()]).unwrap())
        .energy_forces(&saddle)
        .unwrap()
        .0;
    assert!((e - j["saddle_energy"].as_f64().unwrap()).abs() < 1e-6);
    // PATH.json and its schema agree: every required key present, no key the schema lacks,
    // at the top level and in the nested objects that forbid unknown keys.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/neb.schema.json")).unwrap(),
    )
    .unwrap();
    let defs = &schema["$defs"];
    let check = |value: &Value, spec: &Value, what: &str| {
        let obj = value.as_object().unwrap_or_else(|| panic!("{what} is not an object"));
        for k in spec["required"].as_array().unwrap() {
            assert!(obj.contains_key(k.as_str().unwrap()), "{what}: missing {k}");
        }
        for k in obj.keys() {
            assert!(spec["properties"].get(k).is_some(), "{what}: {k} not in the schema");
        }
    };
    check(&j, &schema, "PATH.json");
    check(&j["parameters"], &defs["parameters"], "parameters");
    check(
        &j["parameters"]["fire"],
        &defs["parameters"]["properties"]["fire"],
        "parameters.fire",
    );
    check(&j["initial"], &defs["input_structure"], "initial");
    check(&j["force_calls"], &schema["properties"]["force_calls"], "force_calls");
    check(&j["curvature"], &defs["curvature"], "curvature");
    for img in j["images"].as_array().unwrap() {
        check(img, &defs["image"], "image");
    }
    // The band file holds every image.
    let text = std::fs::read_to_string(&band).unwrap();
    assert_eq!(text.lines().filter(|l| l.trim() == "107").count(), 7);
}

#[test]
fn neb_rejects_mismatched_and_identical_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (ini, fin) = endpoints();
    let pot = potential();
    let a = dir.path().join("ini.extxyz");
    write_structure(&a, &ini, None, &WriteOptions::default()).unwrap();
    // One atom fewer.
    let short = with_vacancy(&fin, 5).unwrap();
    let b = dir.path().join("short.extxyz");
    write_structure(&b, &short, None, &WriteOptions::default()).unwrap();
    let (code, stderr) = pelx(&[
        "neb",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-p",
        pot.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("different numbers of atoms: 107 (initial) and 106"),
        "{stderr}"
    );
    // The same structure twice.
    let (code, stderr) = pelx(&[
        "neb",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "-p",
        pot.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("same configuration"), "{stderr}");
    // A band that cannot converge in 3 steps: PATH.json says so and the exit status is 1.
    let b = dir.path().join("fin.extxyz");
    write_structure(&b, &fin, None, &WriteOptions::default()).unwrap();
    let out = dir.path().join("PATH.json");
    let (code, stderr) = pelx(&[
        "neb",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-p",
        pot.to_str().unwrap(),
        "--climb",
        "--max-steps",
        "3",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("NOT converged"), "{stderr}");
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(j["converged"], false);
    assert_eq!(j["steps"], 3);
    assert!(j["saddle_confirmed"].is_null());
}
