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
use pelx::saddle::neb::{interpolate, lowest_curvatures, neb, CurvatureOptions, Interpolation, NebOptions};
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
#[ignore = "several minutes in the dev profile; run with --ignored"]
fn exchange_step_in_a_glass_converges_to_a_first_order_saddle() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let t = std::time::Instant::now();
    let glass = read_structure(shared("refdata/CuZr50_500_q13_IS.extxyz"), &ReadOptions::default()).unwrap();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    let energy = |s: &Structure| Calculator::new(ff.clone()).energy_forces(s).unwrap().0;
    // Minimum A: the glass; minimum B: a Cu atom and its nearest Zr neighbour exchanged.
    let mut a = glass.clone();
    relax(&mut a, &ff);
    let cu = (0..a.len()).find(|&i| a.symbol(i) == "Cu").unwrap();
    let zr = (0..a.len())
        .filter(|&j| a.symbol(j) == "Zr")
        .min_by(|&p, &q| {
            let d = |j: usize| a.cell.distance(a.positions[cu], a.positions[j]);
            d(p).total_cmp(&d(q))
        })
        .unwrap();
    let mut b = a.clone();
    b.positions.swap(cu, zr);
    relax(&mut b, &ff);
    // The exchange is not one event: relaxing the middle of its IDPP path gives an
    // intermediate minimum M, and the band from M to B still has a few minima along it.
    let path = interpolate(&a, &b, &NebOptions::default()).unwrap();
    let mut m = path[4].clone();
    relax(&mut m, &ff);
    assert!(m.max_displacement_from(&b) > 1.0 && m.max_displacement_from(&a) > 0.1);
    let coarse = neb(
        &m,
        &b,
        ff.clone(),
        &NebOptions {
            images: 13,
            spring: 5.0,
            check_curvature: false,
            ..NebOptions::default()
        },
    )
    .unwrap();
    assert!(coarse.converged, "{:?}", coarse.warnings);
    // Its climbing image is a saddle: two copies pushed off it along the unstable mode, one
    // each way, relax into the two minima that this saddle joins.
    let saddle = coarse.saddle();
    let check = lowest_curvatures(ff.clone(), saddle, &CurvatureOptions::default()).unwrap();
    assert_eq!(check.negative, 1, "{:?}", check.lowest);
    let longest = check
        .lowest_mode
        .iter()
        .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .fold(0.0, f64::max);
    let pushed = |sign: f64| {
        let mut s = saddle.clone();
        for (p, v) in s.positions.iter_mut().zip(&check.lowest_mode) {
            for k in 0..3 {
                p[k] += sign * 0.15 * v[k] / longest;
            }
        }
        relax(&mut s, &ff);
        s
    };
    let (p, q) = (pushed(-1.0), pushed(1.0));
    let (ep, eq, es) = (energy(&p), energy(&q), coarse.saddle_energy);
    eprintln!(
        "event: E_P {ep:.6}, E_saddle {es:.6}, E_Q {eq:.6} eV; max displacement P-Q {:.3} Å ({:.0} s so far)",
        q.max_displacement_from(&p),
        t.elapsed().as_secs_f64()
    );
    assert!(q.max_displacement_from(&p) > 0.5);
    if let Ok(dir) = std::env::var("NEB_DUMP") {
        use pelx::structure::io::{write_structure, WriteOptions};
        write_structure(Path::new(&dir).join("p.extxyz"), &p, None, &WriteOptions::default()).unwrap();
        write_structure(Path::new(&dir).join("q.extxyz"), &q, None, &WriteOptions::default()).unwrap();
    }
    // The acceptance run: default options (IDPP, 7 images, climbing) from P to Q.
    let r = neb(&p, &q, ff.clone(), &NebOptions::default()).unwrap();
    let profile: Vec<String> = r.images.iter().map(|i| format!("{:.3}", i.energy_relative)).collect();
    eprintln!(
        "P -> Q: converged {} in {} steps ({} force calls, climbing from step {:?}), barriers {:.4} / {:.4} eV \
         (saddle found from the coarse band: {:.4} / {:.4}), lowest curvatures {:?}, warnings {:?}\n  image energies {}\n  {:.0} s",
        r.converged,
        r.steps,
        r.force_calls.total,
        r.climb_started,
        r.barrier_forward,
        r.barrier_reverse,
        es - ep,
        es - eq,
        r.curvature.as_ref().map(|c| c.lowest.clone()),
        r.warnings,
        profile.join(" "),
        t.elapsed().as_secs_f64()
    );
    assert!(r.converged);
    let c = r.curvature.as_ref().expect("curvature checked");
    assert_eq!(c.negative, 1, "lowest curvatures {:?}", c.lowest);
    assert_eq!(r.saddle_confirmed, Some(true));
    // The climbing image joins P and Q: pushed off it along its unstable mode, one way and
    // the other, the system relaxes back into P and into Q.
    let mode = &c.lowest_mode;
    let longest = mode
        .iter()
        .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .fold(0.0, f64::max);
    let ends: Vec<Structure> = [-1.0, 1.0]
        .iter()
        .map(|sign| {
            let mut s = r.saddle().clone();
            for (x, v) in s.positions.iter_mut().zip(mode) {
                for k in 0..3 {
                    x[k] += sign * 0.15 * v[k] / longest;
                }
            }
            relax(&mut s, &ff);
            s
        })
        .collect();
    let d = |s: &Structure, t: &Structure| s.max_displacement_from(t);
    let (to_p, to_q) = if d(&ends[0], &p) < d(&ends[1], &p) {
        (&ends[0], &ends[1])
    } else {
        (&ends[1], &ends[0])
    };
    eprintln!(
        "pushed off the climbing image: {:.2e} Å from P and {:.2e} Å from Q after relaxation; \
         climbing image {:.3} Å from the coarse band's, energy {:+.2e} eV",
        d(to_p, &p),
        d(to_q, &q),
        d(r.saddle(), saddle),
        r.saddle_energy - es
    );
    assert!(d(to_p, &p) < 0.05 && d(to_q, &q) < 0.05);
}

#[test]
#[ignore = "experiment"]
fn glass_event_search() {
    let glass = read_structure(shared("refdata/CuZr50_500_q13_IS.extxyz"), &ReadOptions::default()).unwrap();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    let e0 = Calculator::new(ff.clone()).energy_forces(&glass).unwrap().0;
    let center: usize = std::env::var("CENTER").map(|v| v.parse().unwrap()).unwrap_or(2);
    let amp: f64 = std::env::var("AMP").map(|v| v.parse().unwrap()).unwrap_or(1.0);
    for seed in 0..std::env::var("SEEDS").map(|v| v.parse().unwrap()).unwrap_or(8u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut b = glass.clone();
        let c = glass.positions[center];
        let mut dir = [0.0f64; 3];
        for d in dir.iter_mut() {
            *d = rng.random_range(-1.0..1.0);
        }
        let n = (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]).sqrt();
        for (i, p) in b.positions.iter_mut().enumerate() {
            let r = glass.cell.distance(c, glass.positions[i]);
            if i == center {
                for k in 0..3 {
                    p[k] += amp * dir[k] / n;
                }
            } else if r < 3.6 {
                for x in p.iter_mut() {
                    *x += rng.random_range(-0.3..0.3) * amp;
                }
            }
        }
        relax(&mut b, &ff);
        let e = Calculator::new(ff.clone()).energy_forces(&b).unwrap().0;
        let d = b.max_displacement_from(&glass);
        let moved = b
            .displacements_from(&glass)
            .iter()
            .filter(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt() > 0.3)
            .count();
        eprintln!(
            "seed {seed}: dE {:.4} eV, max displacement {d:.3} Å, {moved} atoms > 0.3 Å",
            e - e0
        );
    }
}

#[test]
#[ignore = "experiment"]
fn glass_jiggle_search() {
    let glass = read_structure(shared("refdata/CuZr50_500_q13_IS.extxyz"), &ReadOptions::default()).unwrap();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    let e0 = Calculator::new(ff.clone()).energy_forces(&glass).unwrap().0;
    let amp: f64 = std::env::var("AMP").map(|v| v.parse().unwrap()).unwrap_or(0.3);
    for seed in 0..std::env::var("SEEDS").map(|v| v.parse().unwrap()).unwrap_or(8u64) {
        let mut b = glass.clone();
        jiggle(&mut b, amp, 100 + seed);
        relax(&mut b, &ff);
        let e = Calculator::new(ff.clone()).energy_forces(&b).unwrap().0;
        let d = b.max_displacement_from(&glass);
        let moved = b
            .displacements_from(&glass)
            .iter()
            .filter(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt() > 0.3)
            .count();
        eprintln!(
            "seed {seed}: dE {:.4} eV, max displacement {d:.3} Å, {moved} atoms > 0.3 Å",
            e - e0
        );
    }
}

#[test]
#[ignore = "experiment"]
fn glass_exchange_intermediates() {
    let glass = read_structure(shared("refdata/CuZr50_500_q13_IS.extxyz"), &ReadOptions::default()).unwrap();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    let e0 = Calculator::new(ff.clone()).energy_forces(&glass).unwrap().0;
    let cu = 2;
    let zr = 165;
    let mut b = glass.clone();
    b.positions.swap(cu, zr);
    relax(&mut b, &ff);
    let opts = NebOptions {
        images: 7,
        max_steps: 1,
        check_curvature: false,
        relax_ends: false,
        ..NebOptions::default()
    };
    let r = neb(&glass, &b, ff.clone(), &opts).unwrap();
    for (k, s) in r.structures.iter().enumerate() {
        let mut m = s.clone();
        relax(&mut m, &ff);
        let e = Calculator::new(ff.clone()).energy_forces(&m).unwrap().0;
        let moved = m
            .displacements_from(&glass)
            .iter()
            .filter(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt() > 0.3)
            .count();
        eprintln!(
            "image {k}: relaxed dE {:.4} eV, max displacement from A {:.3} Å ({moved} atoms > 0.3 Å), from B {:.3} Å",
            e - e0,
            m.max_displacement_from(&glass),
            m.max_displacement_from(&b)
        );
        if let Ok(dir) = std::env::var("NEB_DUMP") {
            use pelx::structure::io::{write_structure, WriteOptions};
            write_structure(
                Path::new(&dir).join(format!("m{k}.extxyz")),
                &m,
                None,
                &WriteOptions::default(),
            )
            .unwrap();
        }
    }
}

#[test]
#[ignore = "experiment"]
fn glass_pair_from_files() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let ff = pelx::potential::load(&[shared("potentials/CuZr_mm.eam.fs").as_path()]).unwrap();
    let a = read_structure(std::env::var("A").unwrap(), &ReadOptions::default()).unwrap();
    let b = read_structure(std::env::var("B").unwrap(), &ReadOptions::default()).unwrap();
    let env = |k: &str| std::env::var(k).ok().map(|v| v.parse::<f64>().unwrap());
    let mut opts = NebOptions {
        images: 7,
        climb: true,
        max_steps: 1500,
        check_curvature: env("CHECK").is_some(),
        ..NebOptions::default()
    };
    if let Some(v) = env("IMAGES") {
        opts.images = v as usize;
    }
    if let Some(v) = env("LINEAR") {
        if v != 0.0 {
            opts.interpolation = Interpolation::Linear;
        }
    }
    if let Some(v) = env("K") {
        opts.spring = v;
    }
    if let Some(v) = env("MAXSTEP") {
        opts.max_step = v;
    }
    if let Some(v) = env("DT") {
        opts.fire.dt = v;
    }
    if let Some(v) = env("DTMAX") {
        opts.fire.dt_max = v;
    }
    if let Some(v) = env("NMIN") {
        opts.fire.n_min = v as u32;
    }
    if let Some(v) = env("ASTART") {
        opts.fire.alpha_start = v;
    }
    if let Some(v) = env("FA") {
        opts.fire.f_alpha = v;
    }
    if let Some(v) = env("CLIMB_AFTER") {
        opts.climb_after = if v > 0.0 { Some(v) } else { None };
    }
    let t = std::time::Instant::now();
    let r = neb(&a, &b, ff, &opts).unwrap();
    let profile: Vec<String> = r.images.iter().map(|i| format!("{:.3}", i.energy_relative)).collect();
    eprintln!(
        "converged {} steps {} calls {} climb {:?} barrier {:.4}/{:.4} curvature {:?} warnings {:?} {:.0}s\n  {}",
        r.converged,
        r.steps,
        r.force_calls.total,
        r.climb_started,
        r.barrier_forward,
        r.barrier_reverse,
        r.curvature.as_ref().map(|c| c.lowest.clone()),
        r.warnings,
        t.elapsed().as_secs_f64(),
        profile.join(" ")
    );
}
