//! Tests of the decomposition on synthetic trajectories with known answers: a vacancy-mediated
//! tracer walk on an fcc lattice (f = 0.78145), uncorrelated random walks (f = 1), walks with
//! a known reversal probability (f = (1 - r)/(1 + r)), and the I/O paths (wrapped and
//! unwrapped dumps, bad input, quench cache).

use super::*;
use crate::structure::io::{DumpWriter, WriteOptions};
use crate::structure::{Cell, Structure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// Exact tracer correlation factor of vacancy diffusion on the fcc lattice (Compaan & Haven
/// 1956; Mehrer, Diffusion in Solids, Table 7.2).
const F_FCC: f64 = 0.78145;

pub(super) fn frame(cell: &Cell, types: &[usize], species: &[&str], pos: Vec<[f64; 3]>, step: u64) -> Frame {
    let s = Structure::new(
        cell.clone(),
        species.iter().map(|s| s.to_string()).collect(),
        types.to_vec(),
        pos,
    )
    .unwrap();
    let mut f = Frame::bare(s, 1);
    f.timestep = Some(step);
    f
}

/// One vacancy wandering on a periodic fcc lattice of Cu (a = 3.615 Å), one jump per frame;
/// atoms keep unwrapped positions.
pub(super) struct VacancyWalk {
    pub cell: Cell,
    /// Unwrapped positions of the atoms.
    pub pos: Vec<[f64; 3]>,
    /// Atom on each site (`usize::MAX`: the vacancy).
    occupant: Vec<usize>,
    vacancy: usize,
    /// The 12 neighbours of each site and the vectors to them.
    neighbours: Vec<[(usize, [f64; 3]); 12]>,
    rng: ChaCha8Rng,
}

impl VacancyWalk {
    pub fn new(cells: usize, seed: u64) -> Self {
        let a = 3.615;
        let s = crate::structure::build::cubic(crate::structure::build::Lattice::Fcc, "Cu", a, [cells; 3]).unwrap();
        let n = s.len();
        let nn = a / 2f64.sqrt();
        let neighbours: Vec<[(usize, [f64; 3]); 12]> = (0..n)
            .map(|i| {
                let mut v = Vec::with_capacity(12);
                for j in 0..n {
                    let p = s.positions[i];
                    let q = s.positions[j];
                    let d = s.cell.minimum_image([q[0] - p[0], q[1] - p[1], q[2] - p[2]]);
                    let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                    if (r - nn).abs() < 1e-6 {
                        v.push((j, d));
                    }
                }
                v.try_into().expect("12 nearest neighbours in fcc")
            })
            .collect();
        // The vacancy on site 0; atom k on site k + 1.
        let mut occupant = vec![usize::MAX; n];
        for (site, occ) in occupant.iter_mut().enumerate().skip(1) {
            *occ = site - 1;
        }
        VacancyWalk {
            cell: s.cell.clone(),
            pos: s.positions[1..].to_vec(),
            occupant,
            vacancy: 0,
            neighbours,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
    /// One vacancy jump: a random neighbour atom moves into the vacancy.
    pub fn jump(&mut self) {
        let (site, d) = self.neighbours[self.vacancy][self.rng.random_range(0..12)];
        let atom = self.occupant[site];
        let p = &mut self.pos[atom];
        for k in 0..3 {
            p[k] -= d[k];
        }
        self.occupant[self.vacancy] = atom;
        self.occupant[site] = usize::MAX;
        self.vacancy = site;
    }
}

/// Runs the decomposition on `frames` frames of a generator (`next` gives the positions of
/// frame k >= 1; `first` those of frame 0).
fn run_stream(
    cell: &Cell,
    types: &[usize],
    species: &[&str],
    first: Vec<[f64; 3]>,
    frames: usize,
    opts: &DecomposeOptions,
    mut next: impl FnMut() -> Vec<[f64; 3]>,
) -> Decomposition {
    let f0 = frame(cell, types, species, first, 0);
    let mut d = Decomposer::new(&f0, opts, true).unwrap();
    for k in 1..frames {
        d.push(&frame(cell, types, species, next(), k as u64)).unwrap();
    }
    d.finish().unwrap()
}

fn vacancy_decomposition(cells: usize, jumps: usize, seed: u64, opts: &DecomposeOptions) -> Decomposition {
    let mut w = VacancyWalk::new(cells, seed);
    let n = w.pos.len();
    let cell = w.cell.clone();
    let first = w.pos.clone();
    run_stream(&cell, &vec![0; n], &["Cu"], first, jumps + 1, opts, || {
        w.jump();
        w.pos.clone()
    })
}

#[test]
fn fcc_vacancy_tracer_gives_the_fcc_correlation_factor() {
    // 107 atoms, 60,000 vacancy jumps (about 560 per atom). The tracer correlation decays
    // within a few jumps of each atom (about 3 N = 300 vacancy jumps), so the fit window is
    // 300-3,000 jumps.
    let opts = DecomposeOptions {
        threshold: 1.0,
        realizations: 4,
        fit_start: Some(300.0),
        fit_end: Some(3000.0),
        scan: vec![2.6],
        lags_per_level: 4,
        ..Default::default()
    };
    let d = vacancy_decomposition(3, 60_000, 11, &opts);
    let c = &d.coefficients;
    // Every step is either 0 or the nearest-neighbour distance 2.556 Å.
    assert!((d.hops.max_step - 3.615 / 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(d.hops.long_steps, 60_000);
    assert!((c.f - F_FCC).abs() < 0.02, "f = {} ± {:?}", c.f, c.f_err);
    let err = c.f_err.unwrap();
    assert!(err > 0.0 && err < 0.02, "{err}");
    // The exact random-walk MSD: one hop of length^2 a^2/2 per interval shared by 107 atoms,
    // MSD_RW(t) = t a^2 / (2 x 107), a straight line.
    let want = 3.615f64 * 3.615 / 2.0 / (107.0 * 6.0);
    assert!(
        (c.d_rw_expected - want).abs() < 1e-12 * want,
        "{} vs {want}",
        c.d_rw_expected
    );
    let spread = c.d_rw_realization_std.unwrap() / 2.0;
    assert!((c.d_rw - want).abs() < 4.0 * spread, "{} vs {want} ± {spread}", c.d_rw);
    // A threshold above the hop length sees no hop: the random walk is the trajectory, f = 1.
    let above = d.threshold_scan.iter().find(|p| p.d == 2.6).unwrap();
    assert_eq!((above.f, above.long_fraction), (1.0, 0.0));
}

#[test]
fn uncorrelated_random_walk_gives_f_one() {
    // Each atom, each interval: a hop of 1.2-2.5 Å in a random direction with probability
    // 0.2, else a small Gaussian step; all steps independent, so D_RW = D.
    let n = 400;
    let cell = Cell::orthorhombic(30.0, 30.0, 30.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut pos: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            [
                rng.random::<f64>() * 30.0,
                rng.random::<f64>() * 30.0,
                rng.random::<f64>() * 30.0,
            ]
        })
        .collect();
    let types: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let first = pos.clone();
    let opts = DecomposeOptions {
        realizations: 8,
        scan: vec![0.0, 0.5, 3.0],
        ..Default::default()
    };
    let d = run_stream(&cell, &types, &["Cu", "Zr"], first, 1001, &opts, || {
        for p in pos.iter_mut() {
            let step = if rng.random::<f64>() < 0.2 {
                let l = 1.2 + 1.3 * rng.random::<f64>();
                let u = super::engine::unit_vector(&mut rng);
                [l * u[0], l * u[1], l * u[2]]
            } else {
                let g = |r: &mut ChaCha8Rng| (r.random::<f64>() + r.random::<f64>() + r.random::<f64>() - 1.5) * 0.2;
                [g(&mut rng), g(&mut rng), g(&mut rng)]
            };
            for k in 0..3 {
                p[k] += step[k];
            }
        }
        pos.clone()
    });
    let c = &d.coefficients;
    let err = c.f_err.unwrap();
    assert!(err < 0.05, "{err}");
    assert!((c.f - 1.0).abs() < 3.0 * err, "f = {} ± {err}", c.f);
    for s in &d.species {
        let e = s.coefficients.f_err.unwrap();
        assert!(
            (s.coefficients.f - 1.0).abs() < 3.0 * e,
            "{}: f = {} ± {e}",
            s.species,
            s.coefficients.f
        );
    }
    // The exact hop rate: 0.2 hops of mean square length (2.5^3 - 1.2^3)/(3 x 1.3) per ps,
    // and the small steps' variance 3 x 0.2^2 x 3/12 per ps: MSD = 6 D t.
    let hop2 = (2.5f64.powi(3) - 1.2f64.powi(3)) / (3.0 * 1.3);
    let want = (0.2 * hop2 + 0.8 * 3.0 * 0.04 * 0.25) / 6.0;
    assert!(
        (c.d - want).abs() < 4.0 * c.d_err.unwrap(),
        "D = {} ± {:?}, want {want}",
        c.d,
        c.d_err
    );
    // Realization mean and exact mean agree within the realization spread.
    let spread = c.d_rw_realization_std.unwrap() / (8f64).sqrt();
    assert!(
        (c.d_rw - c.d_rw_expected).abs() < 4.0 * spread,
        "{} {} {spread}",
        c.d_rw,
        c.d_rw_expected
    );
    // d = 0 randomizes every step, d = 3 none: f is exactly 1 at d = 3.
    assert_eq!(d.threshold_scan.last().unwrap().f, 1.0);
    assert_eq!(d.dimension, 3);
    assert_eq!(d.species.len(), 2);
    assert_eq!(d.species[0].atoms + d.species[1].atoms, n);
}

/// Position columns of a hand-written dump.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Cols {
    /// `x y z ix iy iz`
    WrappedImages,
    /// `x y z`
    Wrapped,
    /// `xs ys zs ix iy iz`
    ScaledImages,
}

/// A dump of `frames` (timestep, unwrapped positions) with the given columns, atoms listed in
/// reverse id order (as LAMMPS may write them without `dump_modify sort id`).
fn dump_text(cell: &Cell, types: &[usize], frames: &[(u64, Vec<[f64; 3]>)], cols: Cols) -> String {
    let (lo, hi, _) = cell.lammps_bounds();
    let mut t = String::new();
    for (step, pos) in frames {
        t += &format!(
            "ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{}\nITEM: BOX BOUNDS pp pp pp\n",
            pos.len()
        );
        for k in 0..3 {
            t += &format!("{} {}\n", lo[k], hi[k]);
        }
        t += match cols {
            Cols::WrappedImages => "ITEM: ATOMS id type x y z ix iy iz\n",
            Cols::Wrapped => "ITEM: ATOMS id type x y z\n",
            Cols::ScaledImages => "ITEM: ATOMS id type xs ys zs ix iy iz\n",
        };
        for i in (0..pos.len()).rev() {
            let (w, img) = cell.wrap_with_image(pos[i]);
            let ty = types[i] + 1;
            t += &match cols {
                Cols::WrappedImages => format!(
                    "{} {ty} {} {} {} {} {} {}\n",
                    i + 1,
                    w[0],
                    w[1],
                    w[2],
                    img[0],
                    img[1],
                    img[2]
                ),
                Cols::Wrapped => format!("{} {ty} {} {} {}\n", i + 1, w[0], w[1], w[2]),
                Cols::ScaledImages => {
                    let s = cell.fractional(w);
                    format!(
                        "{} {ty} {} {} {} {} {} {}\n",
                        i + 1,
                        s[0],
                        s[1],
                        s[2],
                        img[0],
                        img[1],
                        img[2]
                    )
                }
            };
        }
    }
    t
}

/// Random walkers in a small periodic box (many boundary crossings): (cell, types, frames at
/// timesteps 0, 1000, 2000, ...).
/// (cell, types, frames as (timestep, positions)).
type Walk = (Cell, Vec<usize>, Vec<(u64, Vec<[f64; 3]>)>);

fn walkers(n: usize, frames: usize, seed: u64) -> Walk {
    let cell = Cell::orthorhombic(9.0, 10.0, 11.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            [
                9.0 * rng.random::<f64>(),
                10.0 * rng.random::<f64>(),
                11.0 * rng.random::<f64>(),
            ]
        })
        .collect();
    let mut out = vec![(0u64, pos.clone())];
    for k in 1..frames {
        for p in pos.iter_mut() {
            let l = if rng.random::<f64>() < 0.3 {
                1.5 + rng.random::<f64>()
            } else {
                0.3 * rng.random::<f64>()
            };
            let u = super::engine::unit_vector(&mut rng);
            for a in 0..3 {
                p[a] += l * u[a];
            }
        }
        out.push((1000 * k as u64, pos.clone()));
    }
    ((cell), (0..n).map(|i| i % 2).collect(), out)
}

fn topts() -> TrajectoryOptions {
    TrajectoryOptions {
        read: crate::structure::io::ReadOptions {
            species: Some(vec!["Cu".into(), "Zr".into()]),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn small_opts() -> DecomposeOptions {
    DecomposeOptions {
        realizations: 3,
        scan: vec![0.5],
        ..Default::default()
    }
}

#[test]
fn wrapped_dumps_and_their_unwrapped_twin_give_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let (cell, types, frames) = walkers(40, 60, 5);
    // The unwrapped twin, written by DumpWriter (xu yu zu).
    let unwrapped = dir.path().join("unwrapped.dump");
    {
        let mut w = DumpWriter::new(std::fs::File::create(&unwrapped).unwrap(), &unwrapped);
        for (step, pos) in &frames {
            let s = Structure::new(cell.clone(), vec!["Cu".into(), "Zr".into()], types.clone(), pos.clone()).unwrap();
            w.write_frame(
                &s,
                &WriteOptions {
                    timestep: *step,
                    ..Default::default()
                },
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    let reference = decompose_trajectory(&unwrapped, &topts(), &small_opts(), None).unwrap();
    assert_eq!(reference.trajectory.unwrap, "unwrapped");
    assert_eq!(reference.trajectory.frames_analysed, 60);
    assert!(reference.hops.long_steps > 0);
    for cols in [Cols::WrappedImages, Cols::Wrapped, Cols::ScaledImages] {
        let p = dir.path().join(format!("{cols:?}.dump"));
        std::fs::write(&p, dump_text(&cell, &types, &frames, cols)).unwrap();
        let d = decompose_trajectory(&p, &topts(), &small_opts(), None).unwrap();
        let want_mode = if cols == Cols::Wrapped {
            "minimum-image"
        } else {
            "unwrapped"
        };
        assert_eq!(d.trajectory.unwrap, want_mode);
        let (a, b) = (&d.coefficients, &reference.coefficients);
        for (x, y, what) in [
            (a.d, b.d, "D"),
            (a.d_rw, b.d_rw, "D_RW"),
            (a.f, b.f, "f"),
            (a.d_rw_expected, b.d_rw_expected, "D_RW_expected"),
        ] {
            assert!((x - y).abs() <= 1e-12 * y.abs(), "{cols:?} {what}: {x} vs {y}");
        }
        assert_eq!(d.hops.long_steps, reference.hops.long_steps);
    }
}

/// A small two-species dump as text, `n` atoms on a grid, frames every 1000 steps, each atom
/// shifted by 0.1 Å per frame along x.
fn grid_dump(n: usize, frames: usize) -> String {
    let cell = Cell::orthorhombic(20.0, 20.0, 20.0).unwrap();
    let types: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let fr: Vec<(u64, Vec<[f64; 3]>)> = (0..frames)
        .map(|k| {
            let pos = (0..n)
                .map(|i| [2.0 * (i % 8) as f64 + 0.1 * k as f64, 2.0 * (i / 8) as f64 + 1.0, 5.0])
                .collect();
            (1000 * k as u64, pos)
        })
        .collect();
    dump_text(&cell, &types, &fr, Cols::WrappedImages)
}

fn analyse_text(dir: &tempfile::TempDir, name: &str, text: &str, interval: f64) -> Result<Decomposition> {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    let opts = DecomposeOptions {
        interval,
        ..small_opts()
    };
    decompose_trajectory(&p, &topts(), &opts, None)
}

fn message(r: Result<Decomposition>) -> String {
    match r {
        Ok(_) => panic!("bad input accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_trajectories_give_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let good = grid_dump(10, 6);
    let frames: Vec<&str> = good.split_inclusive("ITEM: TIMESTEP\n").collect();
    // frames[0] is "ITEM: TIMESTEP\n"; frame k's text is "ITEM: TIMESTEP\n" + frames[k + 1].
    let frame_k = |k: usize| format!("ITEM: TIMESTEP\n{}", frames[k + 1].trim_end_matches("ITEM: TIMESTEP\n"));
    let join = |v: Vec<String>| v.concat();

    // Atom count changes.
    let mut f3 = frame_k(3).replace("ITEM: NUMBER OF ATOMS\n10\n", "ITEM: NUMBER OF ATOMS\n9\n");
    f3 = f3.replacen("\n10 2 ", "\nX ", 1);
    let f3: String = f3
        .lines()
        .filter(|l| !l.starts_with("X "))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = join(vec![frame_k(0), frame_k(1), frame_k(2), f3, frame_k(4)]);
    let m = message(analyse_text(&dir, "count.dump", &text, 1.0));
    assert!(
        m.contains("count.dump:") && m.contains("frame has 9 atoms, the first frame had 10"),
        "{m}"
    );

    // An id changes.
    let f2 = frame_k(2).replace("\n7 1 ", "\n17 1 ");
    let m = message(analyse_text(
        &dir,
        "ids.dump",
        &join(vec![frame_k(0), frame_k(1), f2, frame_k(3)]),
        1.0,
    ));
    assert!(m.contains("ids.dump: frame at line 39 (timestep 2000): atom ids differ from the first frame's: id 17 is new, id 7 is missing"), "{m}");

    // A species changes.
    let f2 = frame_k(2).replace("\n7 1 ", "\n7 2 ");
    let m = message(analyse_text(
        &dir,
        "species.dump",
        &join(vec![frame_k(0), frame_k(1), f2, frame_k(3)]),
        1.0,
    ));
    assert!(m.contains("atom id 7 is Zr here and Cu in the first frame"), "{m}");

    // A missing frame: timesteps 0, 1000, 2000, 4000.
    let m = message(analyse_text(
        &dir,
        "gap.dump",
        &join(vec![frame_k(0), frame_k(1), frame_k(2), frame_k(4), frame_k(5)]),
        1.0,
    ));
    assert!(
        m.contains("non-uniform interval")
            && m.contains("timestep 4000")
            && m.contains("expected one at timestep 3000"),
        "{m}"
    );

    // A repeated frame (a restarted run).
    let m = message(analyse_text(
        &dir,
        "repeat.dump",
        &join(vec![frame_k(0), frame_k(1), frame_k(1), frame_k(2)]),
        1.0,
    ));
    assert!(m.contains("timestep 1000 does not follow timestep 1000"), "{m}");

    // An interval that is not a multiple of the dump spacing, or not a whole number of steps.
    let m = message(analyse_text(&dir, "spacing.dump", &good, 1.5));
    assert!(
        m.contains("non-uniform interval") && m.contains("multiple of their spacing"),
        "{m}"
    );
    let m = message(analyse_text(&dir, "steps.dump", &good, 1.0005));
    assert!(
        m.contains("the interval 1.0005 ps is not a whole number of MD timesteps"),
        "{m}"
    );
    // An interval of two dump spacings analyses every other frame.
    let d = analyse_text(&dir, "every2.dump", &grid_dump(10, 7), 2.0).unwrap();
    assert_eq!(
        (d.trajectory.frames_read, d.trajectory.frames_analysed, d.intervals),
        (7, 4, 3)
    );

    // A truncated last frame: reported, the rest analysed.
    let cut = good.len() - 60;
    let d = analyse_text(&dir, "truncated.dump", &good[..cut], 1.0).unwrap();
    assert_eq!((d.trajectory.frames_read, d.intervals), (5, 4));
    assert_eq!(d.trajectory.warnings.len(), 1);
    let w = &d.trajectory.warnings[0];
    assert!(
        w.starts_with("the last frame is incomplete (") && w.contains("the 5 complete frames before it were analysed"),
        "{w}"
    );
    // A frame cut short inside the file (3 atom lines missing, then the next frame) is an error.
    let lines: Vec<&str> = good.lines().collect();
    let short: String = lines[..lines.len() - 3].iter().map(|l| format!("{l}\n")).collect();
    let d = analyse_text(&dir, "short_last.dump", &short, 1.0).unwrap();
    assert_eq!(d.trajectory.frames_read, 5);
    let bad = format!(
        "{short}{}",
        frame_k(5).replace("ITEM: TIMESTEP\n5000", "ITEM: TIMESTEP\n6000")
    );
    let m = message(analyse_text(&dir, "cut_middle.dump", &bad, 1.0));
    assert!(
        m.contains("cut_middle.dump:112: frame at timestep 5000 (line 96) ends after 7 of its 10 atoms"),
        "{m}"
    );
    // A lone frame is not a trajectory.
    let m = message(analyse_text(&dir, "one.dump", &frame_k(0), 1.0));
    assert!(m.contains("0 intervals analysed"), "{m}");
}

#[test]
fn minimum_image_refuses_steps_near_half_the_box() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::orthorhombic(10.0, 10.0, 10.0).unwrap();
    let mut fr: Vec<(u64, Vec<[f64; 3]>)> = (0..4)
        .map(|k| (1000 * k, vec![[1.0, 1.0, 1.0], [5.0, 5.0, 5.0]]))
        .collect();
    fr[2].1[1] = [9.5, 5.0, 5.0];
    let text = dump_text(&cell, &[0, 1], &fr, Cols::Wrapped);
    let m = message(analyse_text(&dir, "far.dump", &text, 1.0));
    assert!(
        m.contains("atom id 2 moved 4.500 Å") && m.contains("minimum-image unwrapping is ambiguous"),
        "{m}"
    );
}

#[test]
fn extxyz_frames_without_time_are_one_interval_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (cell, types, frames) = walkers(20, 30, 9);
    let p = dir.path().join("walk.extxyz");
    for (k, (_, pos)) in frames.iter().enumerate() {
        let s = Structure::new(cell.clone(), vec!["Cu".into(), "Zr".into()], types.clone(), pos.clone()).unwrap();
        crate::structure::io::write_structure(
            &p,
            &s,
            None,
            &WriteOptions {
                append: k > 0,
                ..Default::default()
            },
        )
        .unwrap();
    }
    let opts = DecomposeOptions {
        interval: 2.5,
        ..small_opts()
    };
    let d = decompose_trajectory(&p, &topts(), &opts, None).unwrap();
    assert_eq!((d.trajectory.frames_analysed, d.duration), (30, 29.0 * 2.5));
    assert_eq!(d.trajectory.unwrap, "minimum-image");
    // The same walk as a dump gives the same D per ps once the interval matches.
    let q = dir.path().join("walk.dump");
    std::fs::write(&q, dump_text(&cell, &types, &frames, Cols::WrappedImages)).unwrap();
    let topts = TrajectoryOptions {
        md_timestep: 0.0025,
        ..topts()
    };
    let e = decompose_trajectory(&q, &topts, &opts, None).unwrap();
    assert!((d.coefficients.d - e.coefficients.d).abs() < 1e-12 * e.coefficients.d);
}

#[test]
fn surface_analysis_uses_in_plane_steps_of_the_outer_layers() {
    // A slab of walkers between z = 10 and 30 Å in a 40 Å periodic box, shifted by 25 Å so
    // that it straddles the boundary: the vacuum is found as the widest gap.
    let n = 300;
    let cell = Cell::orthorhombic(20.0, 20.0, 40.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut pos: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            [
                20.0 * rng.random::<f64>(),
                20.0 * rng.random::<f64>(),
                (35.0 + 20.0 * rng.random::<f64>()) % 40.0,
            ]
        })
        .collect();
    // The outermost atoms and the layer of 2.5 Å inside each surface.
    let h: Vec<f64> = pos.iter().map(|p| (p[2] - 35.0).rem_euclid(40.0)).collect();
    let (lo, hi) = h
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let want_atoms = h.iter().filter(|&&v| v - lo <= 2.5 || hi - v <= 2.5).count();
    let opts = DecomposeOptions {
        geometry: Geometry::Surface {
            axis: Axis::Z,
            layer: 2.5,
        },
        realizations: 4,
        ..Default::default()
    };
    let types = vec![0; n];
    let first = pos.clone();
    // Uniform steps of variance s^2 = 0.04 per component (at most 0.35 Å each) and, with
    // probability 0.05, a 2 Å hop in a random 3D direction (its in-plane part has mean square
    // 4 x 2/3). In-plane: MSD per ps = 2 s^2 + 0.05 x 8/3, D = MSD / 4.
    let d = run_stream(&cell, &types, &["Cu"], first, 801, &opts, || {
        for p in pos.iter_mut() {
            for c in p.iter_mut() {
                *c += (rng.random::<f64>() - 0.5) * 0.2 * 12f64.sqrt();
            }
            if rng.random::<f64>() < 0.05 {
                let u = super::engine::unit_vector(&mut rng);
                for k in 0..3 {
                    p[k] += 2.0 * u[k];
                }
            }
        }
        pos.clone()
    });
    let s = d.surface.as_ref().unwrap();
    assert_eq!((d.dimension, d.atoms, s.atoms), (2, want_atoms, want_atoms));
    assert!((s.vacuum - (40.0 - (hi - lo))).abs() < 1e-9, "{}", s.vacuum);
    let want = (2.0 * 0.04 + 0.05 * 8.0 / 3.0) / 4.0;
    let c = &d.coefficients;
    assert!(
        (c.d - want).abs() < 4.0 * c.d_err.unwrap(),
        "{} ± {:?} vs {want}",
        c.d,
        c.d_err
    );
    // Hops are recognised by their 3D length (every hop, no small step, is above 1 Å) and
    // turned within the plane; the steps are independent, so f = 1.
    let hop_fraction = d.hops.long_fraction;
    assert!((hop_fraction - 0.05).abs() < 0.005, "{hop_fraction}");
    assert!(
        (c.f - 1.0).abs() < 3.0 * c.f_err.unwrap(),
        "f = {} ± {:?}",
        c.f,
        c.f_err
    );
    let spread = c.d_rw_realization_std.unwrap() / 2.0;
    assert!(
        (c.d_rw - c.d_rw_expected).abs() < 4.0 * spread,
        "{} {} {spread}",
        c.d_rw,
        c.d_rw_expected
    );
    // A bulk sample has no surface.
    let bulk = frame(&cell, &[0, 0], &["Cu"], vec![[1.0, 1.0, 1.0], [5.0, 5.0, 21.0]], 0);
    let o = DecomposeOptions {
        geometry: Geometry::Surface {
            axis: Axis::Z,
            layer: 2.5,
        },
        ..Default::default()
    };
    let mut crowded = bulk.clone();
    crowded.structure.positions = (0..20).map(|k| [1.0, 1.0, 2.0 * k as f64]).collect();
    crowded.structure.types = vec![0; 20];
    crowded.ids = (1..=20).collect();
    let e = Decomposer::new(&crowded, &o, true).err().unwrap().to_string();
    assert!(
        e.contains("no free surface normal to Z") && e.contains("widest gap between atoms along it is 2.00 Å"),
        "{e}"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // 400 atoms x 52 tracks: above the size where intervals are processed in parallel.
    let (cell, types, frames) = walkers(400, 40, 13);
    let opts = DecomposeOptions {
        realizations: 50,
        scan: vec![0.5],
        ..Default::default()
    };
    let fr: Vec<Frame> = frames
        .iter()
        .map(|(k, p)| frame(&cell, &types, &["Cu", "Zr"], p.clone(), *k))
        .collect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut d = pool.install(|| decompose_frames(&fr, &opts, true)).unwrap();
        d.seconds = 0.0;
        serde_json::to_string(&d).unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // A different seed gives different random walks.
    let other = DecomposeOptions {
        seed: 1,
        ..opts.clone()
    };
    let d1 = decompose_frames(&fr, &other, true).unwrap();
    let d0 = decompose_frames(&fr, &opts, true).unwrap();
    assert_ne!(d0.coefficients.d_rw, d1.coefficients.d_rw);
    assert_eq!(d0.coefficients.d, d1.coefficients.d);
}

/// A walker that hops a fixed 2 Å with probability `p` per interval and reverses its previous
/// hop with probability `r` (else hops in a uniformly random direction):
/// f = (1 - r) / (1 + r), D_RW = 4 p / 6 per ps.
fn reversal_walk(n: usize, frames: usize, p: f64, r: f64, seed: u64, opts: &DecomposeOptions) -> Decomposition {
    let cell = Cell::orthorhombic(50.0, 50.0, 50.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos = vec![[0.0; 3]; n];
    let mut last: Vec<[f64; 3]> = (0..n).map(|_| super::engine::unit_vector(&mut rng)).collect();
    let first = pos.clone();
    run_stream(&cell, &vec![0; n], &["Cu"], first, frames, opts, || {
        for i in 0..n {
            if rng.random::<f64>() < p {
                let u = if rng.random::<f64>() < r {
                    [-last[i][0], -last[i][1], -last[i][2]]
                } else {
                    super::engine::unit_vector(&mut rng)
                };
                for k in 0..3 {
                    pos[i][k] += 2.0 * u[k];
                }
                last[i] = u;
            }
        }
        pos.clone()
    })
}

#[test]
fn arrhenius_fits_recover_the_activation_energies_of_a_correlated_walk() {
    // Hop probability p(T) with E_RW = 0.2 eV and f(T) with E_f = 0.15 eV, both 1 at 800 K
    // scaled by 0.3 and 0.8: E_D = 0.35 eV.
    use crate::units::KB;
    let (e_rw, e_f) = (0.2, 0.15);
    let arr = |e: f64, t: f64| (-e / KB * (1.0 / t - 1.0 / 800.0)).exp();
    let opts = DecomposeOptions {
        realizations: 4,
        scan: vec![0.5, 2.5],
        ..Default::default()
    };
    let temps = [600.0, 700.0, 800.0];
    let runs: Vec<Decomposition> = temps
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let f = 0.8 * arr(e_f, t);
            reversal_walk(
                300,
                1501,
                0.3 * arr(e_rw, t),
                (1.0 - f) / (1.0 + f),
                40 + k as u64,
                &opts,
            )
        })
        .collect();
    for (d, &t) in runs.iter().zip(&temps) {
        let want = 0.8 * arr(e_f, t);
        let c = &d.coefficients;
        assert!(
            (c.f - want).abs() < 4.0 * c.f_err.unwrap(),
            "T = {t}: f = {} ± {:?}, want {want}",
            c.f,
            c.f_err
        );
    }
    let pairs: Vec<(f64, &Decomposition)> = temps.iter().copied().zip(runs.iter()).collect();
    let r = arrhenius_report(&pairs).unwrap();
    let (ed, erw, ef) = (
        r.energies.e_d.clone().unwrap(),
        r.energies.e_rw.clone().unwrap(),
        r.energies.e_f.clone().unwrap(),
    );
    assert!((ed.energy - erw.energy - ef.energy).abs() < 1e-12);
    for (fit, want, name) in [(&erw, e_rw, "E_RW"), (&ef, e_f, "E_f"), (&ed, e_rw + e_f, "E_D")] {
        let err = fit.energy_err.unwrap();
        assert!(err > 0.0 && err < 0.05, "{name} ± {err}");
        assert!(
            (fit.energy - want).abs() < 4.0 * err,
            "{name} = {} ± {err}, want {want}",
            fit.energy
        );
    }
    // The scan rows: d = 2.5 Å is above every hop (f = 1 at every T, E_f = 0); d = 0.5 Å sees
    // all hops like d = 1 Å.
    let row = |d: f64| r.threshold_scan.iter().find(|x| x.d == d).unwrap();
    assert_eq!(row(2.5).f, vec![1.0; 3]);
    assert!(row(2.5).e_f.as_ref().unwrap().energy.abs() < 1e-12);
    assert_eq!(row(0.5).f, row(1.0).f);
    assert_eq!(r.species.len(), 1);
    assert!(arrhenius_report(&pairs[..1]).is_err());
}

#[test]
fn multiple_tau_matches_all_origins_within_errors() {
    // The brute-force all-origins MSD of the same trajectory, fitted over the same lags.
    let n = 200;
    let frames = 400;
    let (cell, types, fr) = walkers(n, frames, 17);
    let frames_vec: Vec<Frame> = fr
        .iter()
        .map(|(k, p)| frame(&cell, &types, &["Cu", "Zr"], p.clone(), *k))
        .collect();
    let opts = DecomposeOptions {
        realizations: 0,
        ..Default::default()
    };
    let d = decompose_frames(&frames_vec, &opts, true).unwrap();
    let lags: Vec<usize> = d.fit.lag_times.iter().map(|t| *t as usize).collect();
    let msd: Vec<f64> = lags
        .iter()
        .map(|&l| {
            let mut s = 0.0;
            for t in 0..frames - l {
                for i in 0..n {
                    for k in 0..3 {
                        let x = fr[t + l].1[i][k] - fr[t].1[i][k];
                        s += x * x;
                    }
                }
            }
            s / ((frames - l) * n) as f64
        })
        .collect();
    let t: Vec<f64> = lags.iter().map(|&l| l as f64).collect();
    let d_all = super::stats::line_fit(&t, &msd).unwrap().1 / 6.0;
    let c = &d.coefficients;
    assert!(
        (c.d - d_all).abs() < 2.0 * c.d_err.unwrap(),
        "{} vs {d_all} ± {:?}",
        c.d,
        c.d_err
    );
    // Short lags (< 10 intervals) use every origin: identical to the brute force.
    let m1 = d.curves.msd[0];
    let b1: f64 = (0..frames - 1)
        .map(|t| {
            (0..n)
                .map(|i| (0..3).map(|k| (fr[t + 1].1[i][k] - fr[t].1[i][k]).powi(2)).sum::<f64>())
                .sum::<f64>()
        })
        .sum::<f64>()
        / ((frames - 1) * n) as f64;
    assert!((m1 - b1).abs() < 1e-12 * b1);
}

#[test]
fn quench_minimizes_every_frame_once_and_reuses_the_cache() {
    use crate::minimize::{MinimizeOptions, MinimizerKind};
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pot = root.join("potentials/Cu_u3.eam");
    let ff = crate::potential::load(&[pot.as_path()]).unwrap();
    // fcc Cu (3x3x3, one vacancy) with 0.1 Å of thermal noise in every frame.
    let mut w = VacancyWalk::new(3, 2);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut frames = Vec::new();
    for k in 0..6u64 {
        if k == 3 {
            w.jump();
        }
        let noisy: Vec<[f64; 3]> = w
            .pos
            .iter()
            .map(|p| p.map(|x| x + 0.1 * (rng.random::<f64>() - 0.5)))
            .collect();
        frames.push((1000 * k, noisy));
    }
    let traj = dir.path().join("cu.dump");
    std::fs::write(&traj, dump_text(&w.cell, &vec![0; 107], &frames, Cols::WrappedImages)).unwrap();
    let cache = dir.path().join("cache");
    let spec = QuenchSpec {
        force_field: ff,
        potential_files: vec![pot.clone()],
        method: MinimizerKind::Fire,
        options: MinimizeOptions {
            fmax: 1e-3,
            ..Default::default()
        },
        skin: crate::potential::DEFAULT_SKIN,
        cache: CachePolicy::Dir(cache.clone()),
    };
    let topts = TrajectoryOptions {
        read: crate::structure::io::ReadOptions {
            species: Some(vec!["Cu".into()]),
            ..Default::default()
        },
        ..Default::default()
    };
    let opts = DecomposeOptions {
        realizations: 2,
        fit_start: Some(1.0),
        fit_end: Some(5.0),
        ..Default::default()
    };
    let raw = decompose_trajectory(&traj, &topts, &opts, None).unwrap();
    let first = decompose_trajectory(&traj, &topts, &opts, Some(&spec)).unwrap();
    let q = first.quench.as_ref().unwrap();
    assert!(!q.cache_hit && q.force_calls > 0, "{q:?}");
    assert_eq!((q.frames, q.converged), (6, 6));
    // Quenching removes the noise: only the hop of frame 3 is left.
    let hops = first.hops.long_steps;
    assert_eq!(hops, 1);
    assert!(
        first.hops.max_step > 2.4 && first.hops.max_step < 2.7,
        "{}",
        first.hops.max_step
    );
    let below = |d: &Decomposition, bins: usize| d.displacement_histogram.counts[..bins].iter().sum::<u64>();
    // Every other inherent-structure step is below 0.04 Å (the relaxation around the vacancy
    // follows it), most below 0.02 Å; the noise of the raw frames is larger.
    assert_eq!(below(&first, 2), 5 * 107 - 1);
    assert!(
        below(&first, 1) > 500 && below(&raw, 1) < 100,
        "{} {}",
        below(&first, 1),
        below(&raw, 1)
    );
    assert_eq!(raw.hops.long_steps, 1);
    // Unrelaxed-cell energies: E_IS of fcc Cu (Cu_u3) is about -3.54 eV/atom.
    assert!(q.e_is_mean < -3.5 && q.e_is_mean > -3.6, "{}", q.e_is_mean);
    let file = q.cache_file.clone().unwrap();
    assert!(Path::new(&file).is_file());

    // Second run: from the cache, no force call, the same numbers.
    let second = decompose_trajectory(&traj, &topts, &opts, Some(&spec)).unwrap();
    let q2 = second.quench.as_ref().unwrap();
    assert!(q2.cache_hit && q2.force_calls == 0, "{q2:?}");
    assert_eq!(q2.cache_file.as_deref(), Some(file.as_str()));
    assert_eq!(second.coefficients, first.coefficients);
    assert_eq!(second.curves, first.curves);
    assert_eq!(q2.e_is_mean, q.e_is_mean);
    assert_eq!(second.trajectory.sha256, first.trajectory.sha256);
    assert_eq!(second.trajectory.frames_read, 6);

    // Another minimizer setting or a changed trajectory is another cache entry.
    let tighter = QuenchSpec {
        options: MinimizeOptions {
            fmax: 5e-4,
            ..Default::default()
        },
        ..spec.clone()
    };
    let third = decompose_trajectory(&traj, &topts, &opts, Some(&tighter)).unwrap();
    assert!(!third.quench.as_ref().unwrap().cache_hit);
    let entries = std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(entries, 4, "two frames files and two descriptions");
}

/// The acceptance check at higher precision: 1,000,000 vacancy jumps in a 255-atom box
/// (about 4,000 jumps per atom), 50 realizations: about 5.5 minutes of one core in a release
/// build (every frame costs the same whether one atom or all atoms moved).
/// `cargo test --release --lib fcc_vacancy_long -- --ignored --nocapture`
#[test]
#[ignore]
fn fcc_vacancy_long() {
    let opts = DecomposeOptions {
        realizations: 50,
        fit_start: Some(1000.0),
        fit_end: Some(10_000.0),
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let d = vacancy_decomposition(4, 1_000_000, 5, &opts);
    let c = &d.coefficients;
    eprintln!(
        "fcc vacancy, 255 atoms, 1e6 jumps: f = {:.5} ± {:.5} (D_RW mean of 50), f_expected = {:.5}; D = {:.5e}, D_RW = {:.5e}; lags {:?}; {:.1} s",
        c.f,
        c.f_err.unwrap(),
        c.f_expected,
        c.d,
        c.d_rw,
        d.fit.lag_times,
        t.elapsed().as_secs_f64()
    );
    assert!((c.f - F_FCC).abs() < 0.02, "{c:?}");
    assert!((c.f - F_FCC).abs() < 4.0 * c.f_err.unwrap(), "{c:?}");
}

/// How much precision the multiple-tau origins cost: D of 20 independent random walks from
/// the multiple-tau MSD and from the all-origins MSD at the same lags, and their spread.
/// `cargo test --release --lib multiple_tau_precision -- --ignored --nocapture`
#[test]
#[ignore]
fn multiple_tau_precision() {
    let (n, frames) = (100, 2000);
    let opts = DecomposeOptions {
        realizations: 0,
        ..Default::default()
    };
    let mut mt = Vec::new();
    let mut all = Vec::new();
    for seed in 0..20 {
        let (cell, types, fr) = walkers(n, frames, 100 + seed);
        let fv: Vec<Frame> = fr
            .iter()
            .map(|(k, p)| frame(&cell, &types, &["Cu", "Zr"], p.clone(), *k))
            .collect();
        let d = decompose_frames(&fv, &opts, true).unwrap();
        let lags: Vec<usize> = d.fit.lag_times.iter().map(|t| *t as usize).collect();
        let msd: Vec<f64> = lags
            .iter()
            .map(|&l| {
                let mut s = 0.0;
                for t in 0..frames - l {
                    for i in 0..n {
                        for k in 0..3 {
                            let x = fr[t + l].1[i][k] - fr[t].1[i][k];
                            s += x * x;
                        }
                    }
                }
                s / ((frames - l) * n) as f64
            })
            .collect();
        let t: Vec<f64> = lags.iter().map(|&l| l as f64).collect();
        all.push(super::stats::line_fit(&t, &msd).unwrap().1 / 6.0);
        mt.push(d.coefficients.d);
    }
    let (m1, s1) = super::stats::mean_std(&mt);
    let (m2, s2) = super::stats::mean_std(&all);
    let exact = (0.3 * (2.5f64.powi(3) - 1.5f64.powi(3)) / 3.0 + 0.7 * 0.09 / 3.0) / 6.0;
    eprintln!(
        "D over 20 walks (exact {exact:.5}): multiple-tau {m1:.5} ± {:.5} (sd), all origins {m2:.5} ± {:.5} (sd); sd ratio {:.3}",
        s1.unwrap(),
        s2.unwrap(),
        s1.unwrap() / s2.unwrap()
    );
}
