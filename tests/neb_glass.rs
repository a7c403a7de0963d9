//! A curved path in a glass (pelx issue 3): a nearest-neighbour Cu-Zr exchange in the 500-atom
//! Cu50Zr50 inherent structure (`../shared/refdata`, Mendelev CuZr_mm.eam.fs).
//!
//! The two minima come from relaxing two perturbed copies of the glass: one only jiggled (it
//! relaxes back into the inherent structure's basin), one with a Cu atom and a neighbouring Zr
//! atom exchanged (it relaxes into another minimum). The exchange path is strongly curved (the
//! pair turns around its midpoint, the neighbours give way), so linear interpolation is a poor
//! start and IDPP a good one. Acceptance: the band converges and its climbing image has exactly
//! one negative Hessian eigenvalue (full finite-difference Hessian, 1,500 × 1,500).
//!
//! Slow in the dev profile (a minute or more): `cargo test --test neb_glass -- --ignored --nocapture`.

use pelx::minimize::{minimize, MinimizeOptions, MinimizerKind};
use pelx::potential::{Calculator, ForceField};
use pelx::saddle::neb::{neb, Interpolation, NebOptions};
use pelx::structure::io::{read_structure, ReadOptions};
use pelx::structure::Structure;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::sync::Arc;

fn shared(rel: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join(rel), root.join("../shared").join(rel)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{rel} not found"))
}

fn relax(s: &mut Structure, ff: &Arc<dyn ForceField>) {
    let mut calc = Calculator::new(ff.clone());
    let opts = MinimizeOptions {
        fmax: 1e-4,
        ..MinimizeOptions::default()
    };
    let r = minimize(MinimizerKind::Fire, s, &mut calc, &opts).unwrap();
    assert!(r.converged, "relaxation: {:?}", r.termination);
}

/// Every atom moved by a uniform random amount up to `amp` Å per component.
fn jiggle(s: &mut Structure, amp: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for p in &mut s.positions {
        for x in p.iter_mut() {
            *x += rng.random_range(-amp..amp);
        }
    }
}

#[test]
#[ignore = "a minute or more in the dev profile; run with --ignored"]
fn cu_zr_exchange_in_a_glass_converges_to_a_first_order_saddle() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let glass = read_structure(shared("refdata/CuZr50_500_q13_IS.extxyz"), &ReadOptions::default()).unwrap();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    // The first Cu atom and its nearest Zr neighbour.
    let cu = (0..glass.len()).find(|&i| glass.symbol(i) == "Cu").unwrap();
    let zr = (0..glass.len())
        .filter(|&j| glass.symbol(j) == "Zr")
        .min_by(|&a, &b| {
            let d = |j: usize| glass.cell.distance(glass.positions[cu], glass.positions[j]);
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let mut a = glass.clone();
    jiggle(&mut a, 0.05, 1);
    relax(&mut a, &ff);
    let mut b = glass.clone();
    b.positions.swap(cu, zr);
    jiggle(&mut b, 0.05, 2);
    relax(&mut b, &ff);
    eprintln!(
        "exchange of atoms {cu} (Cu) and {zr} (Zr), {:.3} Å apart; E_A {:.6}, E_B {:.6}, max displacement {:.3} Å",
        glass.cell.distance(glass.positions[cu], glass.positions[zr]),
        Calculator::new(ff.clone()).energy_forces(&a).unwrap().0,
        Calculator::new(ff.clone()).energy_forces(&b).unwrap().0,
        b.max_displacement_from(&a)
    );
    if let Ok(dir) = std::env::var("NEB_DUMP") {
        use pelx::structure::io::{write_structure, WriteOptions};
        write_structure(Path::new(&dir).join("a.extxyz"), &a, None, &WriteOptions::default()).unwrap();
        write_structure(Path::new(&dir).join("b.extxyz"), &b, None, &WriteOptions::default()).unwrap();
    }
    let opts = NebOptions {
        images: 7,
        interpolation: Interpolation::Idpp,
        climb: true,
        max_steps: std::env::var("NEB_STEPS").map(|v| v.parse().unwrap()).unwrap_or(3000),
        ..NebOptions::default()
    };
    let env = |k: &str| std::env::var(k).ok().map(|v| v.parse::<f64>().unwrap());
    let mut opts = opts;
    if let Some(v) = env("NEB_CLIMB_AFTER") { opts.climb_after = if v > 0.0 { Some(v) } else { None }; }
    if let Some(v) = env("NEB_NOCLIMB") { opts.climb = v == 0.0; }
    if let Some(v) = env("NEB_MAXSTEP") { opts.max_step = v; }
    if let Some(v) = env("NEB_DTMAX") { opts.fire.dt_max = v; }
    if let Some(v) = env("NEB_K") { opts.spring = v; }
    if let Some(v) = env("NEB_FMAX") { opts.fmax = v; }
    if let Some(v) = env("NEB_CHECK") { opts.check_curvature = v != 0.0; }
    let t = std::time::Instant::now();
    let r = neb(&a, &b, ff, &opts).unwrap();
    eprintln!(
        "converged {} in {} steps ({} force calls, climbing from step {:?}), barriers {:.4} / {:.4} eV, \
         lowest curvatures {:?}, warnings {:?}, {:.0} s",
        r.converged,
        r.steps,
        r.force_calls.total,
        r.climb_started,
        r.barrier_forward,
        r.barrier_reverse,
        r.curvature.as_ref().map(|c| c.lowest.clone()),
        r.warnings,
        t.elapsed().as_secs_f64()
    );
    let profile: Vec<String> = r.images.iter().map(|i| format!("{:.3}", i.energy_relative)).collect();
    eprintln!("image energies (eV, relative): {}", profile.join(" "));
    assert!(r.converged);
    let c = r.curvature.as_ref().expect("curvature checked");
    assert_eq!(c.negative, 1, "lowest curvatures {:?}", c.lowest);
    assert_eq!(r.saddle_confirmed, Some(true));
}
