//! Vacancy migration in fcc Cu by climbing-image NEB, against LAMMPS `fix neb` and ASE's NEB.
//!
//! The system (pelx issue 3): 4x4x4 conventional cells at a = 3.615 Å (fixed volume), the atom at
//! the origin removed, the atom at (a/2, a/2, 0) hopping into the vacancy. The reference
//! barriers in `tests/fixtures/neb/cu_vacancy_hop.json` were made by `scripts/neb_reference.py`
//! (and `cu_vacancy_hop_3x3x3.json` with `--cells 3`) (LAMMPS 22 Jul 2025 `fix neb` with a climbing image on 9 partitions; ASE 3.29 NEB with the
//! improved tangent and a climbing image, LAMMPSlib calculator, FIRE and BFGS). Acceptance:
//! |pelx - reference| <= 1e-3 eV. The NEB runs take tens of seconds in the dev profile, so they
//! are `#[ignore]`d: `cargo test --test neb_cu_vacancy -- --ignored --nocapture`.

use pelx::potential::ForceField;
use pelx::saddle::neb::{neb, BandOptimizer, Interpolation, NebOptions, NebResult};
use pelx::structure::build::{cubic, with_vacancy, Lattice};
use pelx::structure::Structure;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const A: f64 = 3.615;

fn potential(name: &str) -> Arc<dyn ForceField> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        root.join("potentials").join(name),
        root.join("../shared/potentials").join(name),
    ];
    let path = candidates.iter().find(|p| p.exists()).expect("potential file");
    pelx::potential::load(&[path.as_path()]).expect("potential loads")
}

/// Initial and final structures of the hop, atoms in the order of the reference script.
fn endpoints(cells: usize) -> (Structure, Structure) {
    let perfect = cubic(Lattice::Fcc, "Cu", A, [cells; 3]).unwrap();
    let ini = with_vacancy(&perfect, 0).unwrap();
    let mut fin = ini.clone();
    fin.positions[0] = [0.0, 0.0, 0.0];
    (ini, fin)
}

/// The reference file of a box of `cells`^3 conventional cells: 4 (the acceptance size, ASE FIRE
/// only: ASE's BFGS diagonalises the whole band's 5,355 x 5,355 Hessian every step) or 3 (ASE
/// FIRE and BFGS).
fn reference_file(cells: usize) -> PathBuf {
    let name = match cells {
        4 => "cu_vacancy_hop.json".to_string(),
        c => format!("cu_vacancy_hop_{c}x{c}x{c}.json"),
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/neb")
        .join(name)
}

fn reference_of(cells: usize) -> Value {
    let path = reference_file(cells);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("reference file")).expect("reference JSON")
}

fn reference() -> Value {
    reference_of(4)
}

fn run(name: &str, interpolation: Interpolation, optimizer: BandOptimizer) -> NebResult {
    run_cells(4, name, interpolation, optimizer)
}

fn run_cells(cells: usize, name: &str, interpolation: Interpolation, optimizer: BandOptimizer) -> NebResult {
    let (ini, fin) = endpoints(cells);
    let opts = NebOptions {
        images: 7,
        interpolation,
        optimizer,
        climb: true,
        ..NebOptions::default()
    };
    run_with(name, &ini, &fin, opts)
}

fn run_with(name: &str, ini: &Structure, fin: &Structure, opts: NebOptions) -> NebResult {
    let interpolation = opts.interpolation;
    let t = std::time::Instant::now();
    let r = neb(ini, fin, potential(name), &opts).unwrap();
    eprintln!(
        "{name} {interpolation:?}: barrier {:.6} eV (reverse {:.6}), converged {}, steps {}, force calls {} {:?}, climb from step {:?}, curvature {:?}, {:.1} s",
        r.barrier_forward,
        r.barrier_reverse,
        r.converged,
        r.steps,
        r.force_calls.total,
        r.force_calls.per_image,
        r.climb_started,
        r.curvature.as_ref().map(|c| (c.negative, c.lowest.clone())),
        t.elapsed().as_secs_f64()
    );
    r
}

fn check(name: &str) {
    let reference = reference();
    let refs = &reference["potentials"][name];
    let cases = [Interpolation::Linear, Interpolation::Idpp]
        .into_iter()
        .flat_map(|i| [(i, BandOptimizer::Fire), (i, BandOptimizer::Lbfgs)]);
    for (interpolation, optimizer) in cases {
        eprint!("{optimizer:?}: ");
        let r = run(name, interpolation, optimizer);
        assert!(r.converged, "{name}: band did not converge");
        assert_eq!(
            r.saddle_confirmed,
            Some(true),
            "{name}: climbing image is not a first-order saddle"
        );
        let lammps = refs["lammps"]["barrier_forward"].as_f64().unwrap();
        eprintln!(
            "  LAMMPS fix neb {lammps:.6}, pelx - LAMMPS = {:+.2e} eV",
            r.barrier_forward - lammps
        );
        assert!((r.barrier_forward - lammps).abs() <= 1e-3);
        for run in refs["ase_lammpslib"]["runs"].as_array().unwrap() {
            let b = run["barrier_forward"].as_f64().unwrap();
            eprintln!(
                "  ASE {} {}: {b:.6} ({} force calls), pelx - ASE = {:+.2e} eV",
                run["optimizer"],
                run["interpolation"],
                run["force_calls"],
                r.barrier_forward - b
            );
            assert!((r.barrier_forward - b).abs() <= 1e-3);
        }
    }
}

#[test]
#[ignore = "tens of seconds in the dev profile; run with --ignored"]
fn vacancy_hop_cu_u3_matches_lammps_and_ase() {
    check("Cu_u3.eam");
}

#[test]
#[ignore = "tens of seconds in the dev profile; run with --ignored"]
fn vacancy_hop_cu_mishin_matches_lammps_and_ase() {
    check("Cu_mishin1.eam.alloy");
}

/// Force calls to convergence, pelx against ASE's NEB (FIRE and BFGS on the whole band) on the
/// same band: 7 intermediate images, fmax 0.01 eV/Å, climbing image, same interpolation; on the
/// 4x4x4 box (ASE FIRE) and the 3x3x3 box (ASE FIRE and BFGS).
/// pelx with its band L-BFGS (`optimizer = lbfgs`), otherwise default options (spring 1 eV/Å²
/// as the ASE runs of the fixture); its default FIRE is printed beside it.
#[test]
#[ignore = "benchmark: tens of seconds in the dev profile; run with --ignored --nocapture"]
fn force_calls_pelx_versus_ase() {
    let mut rows = Vec::new();
    for cells in [4, 3] {
        let reference = reference_of(cells);
        assert_eq!(reference["cells"][0].as_u64(), Some(cells as u64));
        for name in ["Cu_u3.eam", "Cu_mishin1.eam.alloy"] {
            let refs = &reference["potentials"][name]["ase_lammpslib"]["runs"];
            for (interpolation, key) in [(Interpolation::Linear, "linear"), (Interpolation::Idpp, "idpp")] {
                let r = run_cells(cells, name, interpolation, BandOptimizer::Lbfgs);
                assert!(r.converged);
                let f = run_cells(cells, name, interpolation, BandOptimizer::Fire);
                assert!(f.converged);
                let ase = |opt: &str| {
                    refs.as_array()
                        .unwrap()
                        .iter()
                        .find(|x| x["optimizer"] == opt && x["interpolation"] == key)
                        .map(|x| {
                            assert_eq!(x["converged"], true, "ASE {opt} {key} did not converge");
                            x["force_calls"].as_u64().unwrap()
                        })
                };
                let (fire, bfgs) = (ase("fire"), ase("bfgs"));
                rows.push((
                    cells,
                    name,
                    key,
                    r.force_calls.total,
                    r.steps,
                    f.force_calls.total,
                    fire,
                    bfgs,
                ));
            }
        }
    }
    eprintln!("\nforce calls to convergence (7 images, fmax 0.01 eV/Å, climbing image, endpoints excluded)");
    eprintln!(
        "{:<6} {:<22} {:<7} {:>10} {:>7} {:>10} {:>9} {:>9}",
        "box", "potential", "path", "pelx LBFGS", "(steps)", "pelx FIRE", "ASE FIRE", "ASE BFGS"
    );
    let show = |v: Option<u64>| v.map_or("-".to_string(), |c| c.to_string());
    for (cells, name, key, calls, steps, pelx_fire, fire, bfgs) in &rows {
        eprintln!(
            "{:<6} {name:<22} {key:<7} {calls:>10} {:>7} {pelx_fire:>10} {:>9} {:>9}",
            format!("{cells}^3"),
            format!("({steps})"),
            show(*fire),
            show(*bfgs)
        );
    }
    for (cells, name, key, calls, _, _, fire, bfgs) in &rows {
        let best = [*fire, *bfgs].into_iter().flatten().min().expect("ASE reference runs");
        assert!(
            *calls <= best,
            "{cells}^3 {name} {key}: pelx {calls} force calls, ASE best {best}"
        );
    }
}

/// The 3x3x3 box: the same barrier checks against its own LAMMPS and ASE references.
#[test]
#[ignore = "seconds in the dev profile; run with --ignored"]
fn vacancy_hop_3x3x3_matches_lammps_and_ase() {
    let reference = reference_of(3);
    for name in ["Cu_u3.eam", "Cu_mishin1.eam.alloy"] {
        let refs = &reference["potentials"][name];
        let r = run_cells(3, name, Interpolation::Idpp, BandOptimizer::Lbfgs);
        assert!(r.converged);
        assert_eq!(r.saddle_confirmed, Some(true));
        let lammps = refs["lammps"]["barrier_forward"].as_f64().unwrap();
        assert!(
            (r.barrier_forward - lammps).abs() <= 1e-3,
            "{name}: pelx {} LAMMPS {lammps}",
            r.barrier_forward
        );
        for run in refs["ase_lammpslib"]["runs"].as_array().unwrap() {
            let b = run["barrier_forward"].as_f64().unwrap();
            assert!(
                (r.barrier_forward - b).abs() <= 1e-3,
                "{name}: pelx {} ASE {b}",
                r.barrier_forward
            );
        }
    }
}

#[test]
#[ignore = "experiment"]
fn vacancy_hop_quick() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let name = std::env::var("POT").unwrap_or("Cu_u3.eam".into());
    let env = |k: &str| std::env::var(k).ok().map(|v| v.parse::<f64>().unwrap());
    let mut o = NebOptions {
        images: 7,
        climb: true,
        check_curvature: false,
        ..NebOptions::default()
    };
    if let Some(v) = env("LINEAR") {
        if v != 0.0 {
            o.interpolation = Interpolation::Linear;
        }
    }
    if let Some(v) = env("CLIMB_AFTER") {
        o.climb_after = if v > 0.0 { Some(v) } else { None };
    }
    if let Some(v) = env("MAXSTEP") {
        o.max_step = v;
    }
    if let Some(v) = env("DT") {
        o.fire.dt = v;
    }
    if let Some(v) = env("DTMAX") {
        o.fire.dt_max = v;
    }
    if let Some(v) = env("NMIN") {
        o.fire.n_min = v as u32;
    }
    if let Some(v) = env("FINC") {
        o.fire.f_inc = v;
    }
    if let Some(v) = env("ASTART") {
        o.fire.alpha_start = v;
    }
    if let Some(v) = env("K") {
        o.spring = v;
    }
    if let Some(v) = env("FA") {
        o.fire.f_alpha = v;
    }
    if let Some(v) = env("FMAX") {
        o.fmax = v;
    }
    let (ini, fin) = endpoints(4);
    run_with(&name, &ini, &fin, o);
}
