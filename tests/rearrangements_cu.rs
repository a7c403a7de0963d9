//! `pelx rearrangements` on fcc Cu vacancy hops (Cu_u3.eam, 4x4x4 cells, a = 3.615 Å): the
//! frames are the vacancy before, after one hop and after a second hop; each hop's NEB barrier
//! is 0.6708 eV (`tests/neb_cu_vacancy.rs`, against LAMMPS and ASE). Compared one interval
//! apart the pairs are single hops; two intervals apart the pair hides both hops and must split
//! at the intermediate minimum. Tens of seconds in the dev profile, hence `#[ignore]`:
//! `cargo test --test rearrangements_cu -- --ignored --nocapture`.

use pelx::diffusion::TrajectoryOptions;
use pelx::potential::ForceField;
use pelx::rearrange::{find_pairs, read_lines, run, run_info, Line, OutputMode, RearrangeOptions};
use pelx::structure::build::{cubic, with_vacancy, Lattice};
use pelx::structure::io::{ExtXyzWriter, WriteOptions};
use pelx::structure::Structure;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const A: f64 = 3.615;
/// NEB barrier of the hop with Cu_u3.eam (LAMMPS 0.670812, pelx 0.670829).
const BARRIER: f64 = 0.6708;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn potential() -> Arc<dyn ForceField> {
    pelx::potential::load(&[root().join("potentials/Cu_u3.eam").as_path()]).unwrap()
}

/// The vacancy at the origin; atom 0 (at (a/2, a/2, 0)) hops into it; then the atom at
/// (a, a, 0) hops into the site atom 0 left.
fn frames() -> Vec<Structure> {
    let perfect = cubic(Lattice::Fcc, "Cu", A, [4; 3]).unwrap();
    let f0 = with_vacancy(&perfect, 0).unwrap();
    assert!(f0.positions[0]
        .iter()
        .zip([A / 2.0, A / 2.0, 0.0])
        .all(|(x, y)| (x - y).abs() < 1e-9));
    let mut f1 = f0.clone();
    f1.positions[0] = [0.0; 3];
    let k = f1
        .positions
        .iter()
        .position(|p| (p[0] - A).abs() < 1e-9 && (p[1] - A).abs() < 1e-9 && p[2].abs() < 1e-9)
        .unwrap();
    let mut f2 = f1.clone();
    f2.positions[k] = [A / 2.0, A / 2.0, 0.0];
    vec![f0, f1, f2]
}

fn write(path: &Path, frames: &[Structure]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = ExtXyzWriter::new(std::io::BufWriter::new(f), path);
    for (k, s) in frames.iter().enumerate() {
        let o = WriteOptions {
            info: vec![("timestep".into(), (1000 * k).to_string())],
            ..WriteOptions::default()
        };
        w.write_frame(s, &o).unwrap();
    }
    w.finish().unwrap();
}

fn analyse(traj: &Path, interval: f64, out: &Path) -> Vec<Line> {
    let opts = RearrangeOptions::default();
    let topts = TrajectoryOptions::default();
    let pairs = find_pairs(traj, &topts, interval, None, &opts).unwrap();
    let ff = potential();
    let info = run_info(
        &pairs,
        traj,
        interval,
        ff.as_ref(),
        vec![],
        &opts,
        pairs.candidates.len(),
    );
    let t = std::time::Instant::now();
    let s = run(&pairs, &info, ff, out, OutputMode::Create, 0, &mut |_| {}).unwrap();
    eprintln!("{s:?} in {:.1} s", t.elapsed().as_secs_f64());
    read_lines(out).unwrap().1
}

#[test]
#[ignore = "tens of seconds in the dev profile"]
fn single_hops_give_the_known_barrier_and_a_double_hop_splits() {
    let dir = tempfile::tempdir().unwrap();
    let traj = dir.path().join("cu.extxyz");
    write(&traj, &frames());
    // One interval (1 ps: 1000 steps of 1 fs): two single hops.
    let lines = analyse(&traj, 1.0, &dir.path().join("one.jsonl"));
    assert_eq!(lines.len(), 2);
    for l in &lines {
        let Line::Rearrangement(r) = l else { panic!("{l:?}") };
        eprintln!(
            "single: E_fw {:.6} E_rev {:.6} calls {}",
            r.e_fw, r.e_rev, r.force_calls
        );
        assert!(r.converged && r.intermediate_minima == 0);
        assert!((r.e_fw - BARRIER).abs() < 1e-3 && (r.e_rev - BARRIER).abs() < 1e-3);
        assert!((r.pair.max_displacement - A / 2f64.sqrt()).abs() < 1e-9);
    }
    // Two intervals: one pair hiding both hops.
    let lines = analyse(&traj, 2.0, &dir.path().join("two.jsonl"));
    assert_eq!(lines.len(), 1);
    let Line::Rearrangement(r) = &lines[0] else {
        panic!("{:?}", lines[0])
    };
    eprintln!(
        "double: E_fw {:.6} E_rev {:.6}, {} intermediate minima, elementary {:?}, calls {}",
        r.e_fw,
        r.e_rev,
        r.intermediate_minima,
        r.elementary.iter().map(|e| (e.e_fw, e.e_rev)).collect::<Vec<_>>(),
        r.force_calls
    );
    assert_eq!(r.intermediate_minima, 1);
    assert_eq!(r.elementary.len(), 2);
    for e in &r.elementary {
        assert!(e.converged);
        assert!(
            (e.e_fw - BARRIER).abs() < 1e-3 && (e.e_rev - BARRIER).abs() < 1e-3,
            "{e:?}"
        );
    }
}

/// Writes `examples/rearrangements/cu_vacancy_hops.extxyz` (the README example).
#[test]
#[ignore = "writes the example file"]
fn write_example_trajectory() {
    write(
        &root().join("examples/rearrangements/cu_vacancy_hops.extxyz"),
        &frames(),
    );
}
