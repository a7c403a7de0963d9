use super::*;
use crate::potential::analytic::MullerBrown;
use crate::structure::io::{ExtXyzWriter, WriteOptions};
use crate::structure::Cell;
use std::path::PathBuf;

/// One-atom frames on the Müller-Brown surface, all in one open box.
fn mb_frames(points: &[(f64, f64)]) -> Vec<Structure> {
    let all: Vec<[f64; 3]> = points.iter().map(|&(x, y)| [x, y, 0.0]).collect();
    let cell = Cell::open_box(&all, 5.0).unwrap();
    all.iter()
        .map(|&p| Structure::new(cell.clone(), vec!["X".into()], vec![0], vec![p]).unwrap())
        .collect()
}

fn write_traj(path: &Path, frames: &[Structure]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = ExtXyzWriter::new(std::io::BufWriter::new(f), path);
    for s in frames {
        w.write_frame(s, &WriteOptions::default()).unwrap();
    }
    w.finish().unwrap();
}

fn mb() -> Arc<dyn ForceField> {
    Arc::new(MullerBrown)
}

fn mb_options() -> RearrangeOptions {
    RearrangeOptions {
        min_disp: 0.5,
        neb: NebOptions {
            images: 9,
            spring: 20.0,
            fmax: 1e-3,
            max_step: 0.02,
            relax_fmax: 1e-6,
            ..NebOptions::default()
        },
        ..RearrangeOptions::default()
    }
}

fn topts() -> TrajectoryOptions {
    TrajectoryOptions::default()
}

/// Frames A, C, B, B, A on Müller-Brown: A→C and C→B are elementary hops, B→B no hop,
/// B→A two hops through the intermediate minimum C.
fn mb_trajectory(dir: &Path) -> PathBuf {
    let [a, b, c] = MullerBrown::MINIMA;
    let frames = mb_frames(&[(a.0, a.1), (c.0, c.1), (b.0, b.1), (b.0, b.1), (a.0, a.1)]);
    let p = dir.join("mb.extxyz");
    write_traj(&p, &frames);
    p
}

fn analyse(traj: &Path, out: &Path, opts: &RearrangeOptions, threads: usize, mode: OutputMode) -> RunSummary {
    let pairs = find_pairs(traj, &topts(), 1.0, None, opts).unwrap();
    let chosen = sample_pairs(pairs.candidates.len(), opts.sample, opts.seed);
    let info = run_info(&pairs, traj, 1.0, &MullerBrown, vec![], opts, chosen.len());
    run(&pairs, &info, mb(), out, mode, threads, &mut |_| {}).unwrap()
}

fn records(out: &Path) -> Vec<Rearrangement> {
    read_lines(out)
        .unwrap()
        .1
        .into_iter()
        .map(|l| match l {
            Line::Rearrangement(r) => *r,
            other => panic!("not a rearrangement: {other:?}"),
        })
        .collect()
}

#[test]
fn known_hops_give_the_known_barriers_and_two_hops_split_at_the_intermediate_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let out = dir.path().join("r.jsonl");
    let s = analyse(&traj, &out, &mb_options(), 2, OutputMode::Create);
    assert_eq!((s.tasks, s.analysed, s.failures, s.split), (3, 3, 0, 1));
    let [(_, _, ea), (_, _, eb), (_, _, ec)] = MullerBrown::MINIMA;
    let [(_, _, s1), (_, _, s2)] = MullerBrown::SADDLES;
    let r = records(&out);
    let close = |x: f64, y: f64| (x - y).abs() < 1e-3;
    // A → C over S1; C → B over S2.
    assert_eq!((r[0].pair.frame, r[1].pair.frame, r[2].pair.frame), (0, 1, 3));
    assert!(
        close(r[0].e_fw, s1 - ea) && close(r[0].e_rev, s1 - ec),
        "{:?}",
        (r[0].e_fw, r[0].e_rev)
    );
    assert!(
        close(r[1].e_fw, s2 - ec) && close(r[1].e_rev, s2 - eb),
        "{:?}",
        (r[1].e_fw, r[1].e_rev)
    );
    for x in &r[..2] {
        assert!(x.converged && x.intermediate_minima == 0 && x.elementary.is_empty());
        assert_eq!(x.saddle_confirmed, Some(true));
    }
    // B → A: the whole path's barrier is S1 - E_B; elementary hops B → C → A.
    let w = &r[2];
    assert!(w.converged);
    assert_eq!(w.intermediate_minima, 1);
    assert!(
        close(w.e_fw, s1 - eb) && close(w.e_rev, s1 - ea),
        "{:?}",
        (w.e_fw, w.e_rev)
    );
    assert_eq!(w.elementary.len(), 2);
    let (h1, h2) = (&w.elementary[0], &w.elementary[1]);
    assert!(close(h1.e_fw, s2 - eb) && close(h1.e_rev, s2 - ec), "{h1:?}");
    assert!(close(h2.e_fw, s1 - ec) && close(h2.e_rev, s1 - ea), "{h2:?}");
    assert!(close(h1.e_final, ec) && close(h2.e_initial, ec));
    // The path's barrier: the highest elementary saddle (S1), whatever the whole band did.
    let b = w.path_barrier();
    assert!(b.converged && b.saddle_confirmed == Some(true));
    assert!(close(b.e_fw, s1 - eb) && close(b.e_rev, s1 - ea), "{b:?}");
    let runaway = Rearrangement {
        e_saddle: w.e_initial + 2.5,
        e_fw: 2.5,
        converged: false,
        ..w.clone()
    };
    assert_eq!(runaway.path_barrier(), b);
    let mut broken = w.clone();
    broken.elementary[1].converged = false;
    assert!(!broken.path_barrier().converged);
    // An unconverged segment without a barrier (no image above both its minima) does not
    // make the path's barrier uncertain.
    let mut flat = w.clone();
    flat.elementary.push(Elementary {
        e_initial: ea,
        e_saddle: ea - 0.001,
        e_final: ea - 0.002,
        e_fw: -0.001,
        e_rev: 0.001,
        max_displacement: 0.2,
        converged: false,
        saddle_confirmed: None,
    });
    assert!(flat.path_barrier().converged);
    // A single hop's path barrier is its band's.
    let b0 = r[0].path_barrier();
    assert_eq!((b0.e_fw, b0.e_rev, b0.converged), (r[0].e_fw, r[0].e_rev, true));
    // Frames A and B differ by |(1.18, -1.41)| Å.
    let d = ((ea - ea) + (0.623499f64 + 0.558224).hypot(0.028038 - 1.441726)).abs();
    assert!(
        (w.pair.max_displacement - d).abs() < 1e-5,
        "{}",
        w.pair.max_displacement
    );
}

#[test]
fn same_records_whatever_the_thread_count_and_resume_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let opts = mb_options();
    let (one, two) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    analyse(&traj, &one, &opts, 1, OutputMode::Create);
    analyse(&traj, &two, &opts, 2, OutputMode::Create);
    let full = std::fs::read(&one).unwrap();
    assert_eq!(full, std::fs::read(&two).unwrap());
    // Cut in the middle of the third line (the second record), as a killed run leaves it.
    let ends: Vec<usize> = full
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(k, _)| k)
        .collect();
    let cut = ends[1] + 1 + (ends[2] - ends[1]) / 2;
    std::fs::write(&two, &full[..cut]).unwrap();
    let s = analyse(&traj, &two, &opts, 2, OutputMode::Resume);
    assert_eq!((s.already_done, s.analysed), (1, 2));
    assert_eq!(std::fs::read(&two).unwrap(), full);
    // A different plan is refused.
    let other = RearrangeOptions {
        seed: 9,
        ..opts.clone()
    };
    let pairs = find_pairs(&traj, &topts(), 1.0, None, &other).unwrap();
    let info = run_info(&pairs, &traj, 1.0, &MullerBrown, vec![], &other, 3);
    let e = run(&pairs, &info, mb(), &two, OutputMode::Resume, 1, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("different options"), "{e}");
}

#[test]
fn sampling_is_reproducible_and_in_trajectory_order() {
    let a = sample_pairs(100, Some(10), 7);
    assert_eq!(a, sample_pairs(100, Some(10), 7));
    assert_ne!(a, sample_pairs(100, Some(10), 8));
    assert_eq!(a.len(), 10);
    assert!(a.windows(2).all(|w| w[0] < w[1]) && a[9] < 100);
    assert_eq!(sample_pairs(3, Some(10), 7), vec![0, 1, 2]);
    assert_eq!(sample_pairs(3, None, 7), vec![0, 1, 2]);
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let err = |p: &Path, o: &RearrangeOptions| find_pairs(p, &topts(), 1.0, None, o).err().unwrap().to_string();
    let e = err(
        &traj,
        &RearrangeOptions {
            sample: Some(0),
            ..mb_options()
        },
    );
    assert!(e.contains("--sample 0"), "{e}");
    let e = err(
        &traj,
        &RearrangeOptions {
            min_disp: 5.0,
            ..mb_options()
        },
    );
    assert!(
        e.contains("none of the 4 frame pairs") && e.contains("largest displacement 1.84"),
        "{e}"
    );
    // One frame.
    let [a, _, _] = MullerBrown::MINIMA;
    let one = dir.path().join("one.extxyz");
    write_traj(&one, &mb_frames(&[(a.0, a.1)]));
    let e = err(&one, &mb_options());
    assert!(e.contains("1 frame(s)") && e.contains("at least two"), "{e}");
    // Different atom counts.
    let cell = Cell::open_box(&[[0.0; 3], [3.0, 0.0, 0.0]], 5.0).unwrap();
    let s1 = Structure::new(cell.clone(), vec!["X".into()], vec![0], vec![[0.0; 3]]).unwrap();
    let s2 = Structure::new(cell, vec!["X".into()], vec![0, 0], vec![[0.0; 3], [3.0, 0.0, 0.0]]).unwrap();
    let mixed = dir.path().join("mixed.extxyz");
    write_traj(&mixed, &[s1, s2]);
    let e = err(&mixed, &mb_options());
    assert!(e.contains("atoms"), "{e}");
}

#[test]
fn output_matches_its_schema_and_reads_as_a_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let out = dir.path().join("r.jsonl");
    analyse(&traj, &out, &mb_options(), 2, OutputMode::Create);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/rearrangements.schema.json").unwrap()).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors = crate::schema::check(&schema, &v);
        assert!(errors.is_empty(), "{errors:?}\n{line}");
    }
    let c = read_as_catalog(&out).unwrap();
    assert_eq!((c.events.len(), c.failures.len()), (3, 0));
    assert_eq!(c.run.structure_sha256, crate::provenance::file_sha256(&traj).unwrap());
    assert!(c.events[2].flags.contains(&"intermediate_minima".to_string()));
    assert_eq!(c.events[0].e_fw, records(&out)[0].e_fw);
}

#[test]
fn the_default_interval_is_the_first_frame_spacing() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    assert_eq!(first_spacing(&traj, &topts()).unwrap(), 1.0);
    let t = TrajectoryOptions {
        frame_spacing: Some(0.5),
        ..topts()
    };
    assert_eq!(first_spacing(&traj, &t).unwrap(), 0.5);
}

#[test]
fn the_default_interval_follows_frame_timesteps_and_refuses_malformed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let text = std::fs::read_to_string(&traj).unwrap();
    // One-atom frames: the comment is line 1 of every 3; give them timesteps 100, 150, ...
    let with_steps = |step: &dyn Fn(usize) -> String| -> String {
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            out.push_str(line);
            if i % 3 == 1 {
                out.push_str(&format!(" timestep={}", step(i / 3)));
            }
            out.push('\n');
        }
        out
    };
    let ticks = dir.path().join("ticks.extxyz");
    std::fs::write(&ticks, with_steps(&|k| (100 + 50 * k).to_string())).unwrap();
    let t = TrajectoryOptions {
        md_timestep: 0.002,
        ..topts()
    };
    assert!((first_spacing(&ticks, &t).unwrap() - 50.0 * 0.002).abs() < 1e-12);
    let bad = dir.path().join("bad.extxyz");
    std::fs::write(&bad, with_steps(&|_| "abc".to_string())).unwrap();
    let e = first_spacing(&bad, &t).unwrap_err().to_string();
    assert!(e.contains("timestep=abc"), "{e}");
}

#[test]
fn quenched_frames_come_from_the_decompose_cache_the_second_time() {
    use crate::diffusion::{CachePolicy, QuenchSpec};
    use crate::minimize::MinimizerKind;
    let dir = tempfile::tempdir().unwrap();
    // Thermal frames: near A, C, B (not minima); their inherent structures are the minima.
    let [a, b, c] = MullerBrown::MINIMA;
    let frames = mb_frames(&[
        (a.0 + 0.03, a.1 - 0.02),
        (c.0 - 0.02, c.1 + 0.03),
        (b.0 + 0.02, b.1 + 0.02),
    ]);
    let traj = dir.path().join("hot.extxyz");
    write_traj(&traj, &frames);
    let q = QuenchSpec {
        force_field: mb(),
        potential_files: vec![],
        method: MinimizerKind::Fire,
        options: MinimizeOptions {
            fmax: 1e-6,
            ..MinimizeOptions::default()
        },
        skin: 0.0,
        cache: CachePolicy::Dir(dir.path().join("cache")),
    };
    let opts = mb_options();
    let first = find_pairs(&traj, &topts(), 1.0, Some(&q), &opts).unwrap();
    let second = find_pairs(&traj, &topts(), 1.0, Some(&q), &opts).unwrap();
    let (q1, q2) = (first.quench.as_ref().unwrap(), second.quench.as_ref().unwrap());
    assert!(!q1.cache_hit && q2.cache_hit && q1.key == q2.key);
    assert_eq!(first.candidates, second.candidates);
    // Pairs compare inherent structures: A → C is |A - C| apart, not the thermal distance.
    let d = (a.0 - c.0).hypot(a.1 - c.1);
    assert!(
        (first.candidates[0].max_displacement - d).abs() < 1e-4,
        "{:?}",
        first.candidates[0]
    );
}

/// Müller-Brown that counts its calls and, from call `fail_at` on (1-based), fails.
#[derive(Debug)]
struct Flaky {
    calls: AtomicU64,
    fail_at: u64,
}

impl ForceField for Flaky {
    fn describe(&self) -> String {
        "flaky Müller-Brown".into()
    }
    fn cutoff(&self) -> f64 {
        0.0
    }
    fn elements(&self) -> Vec<String> {
        Vec::new()
    }
    fn compute(
        &self,
        s: &Structure,
        species_map: &[usize],
        ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        per_atom: Option<&mut [f64]>,
    ) -> Result<f64> {
        let k = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if k >= self.fail_at {
            return Err(Error::Potential(format!("call {k} fails")));
        }
        MullerBrown.compute(s, species_map, ws, forces, per_atom)
    }
}

fn flaky(fail_at: u64) -> Arc<Flaky> {
    Arc::new(Flaky {
        calls: AtomicU64::new(0),
        fail_at,
    })
}

/// The pair of frames 0-1 of [`mb_trajectory`] (A → C), with its frames.
fn first_pair(dir: &Path) -> (Pair, Arc<Structure>, Arc<Structure>) {
    let pairs = find_pairs(&mb_trajectory(dir), &topts(), 1.0, None, &mb_options()).unwrap();
    let p = pairs.candidates[0];
    (p, pairs.frames[&0].clone(), pairs.frames[&1].clone())
}

#[test]
fn records_count_every_force_call_and_failures_keep_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let (p, a, b) = first_pair(dir.path());
    // A converged pair: the record's count is every evaluation made.
    let ok = flaky(u64::MAX);
    let ff: Arc<dyn ForceField> = ok.clone();
    let Line::Rearrangement(r) = analyse_pair(0, &p, &a, &b, &ff, &mb_options()) else {
        panic!("the A → C hop must succeed");
    };
    let total = ok.calls.load(Ordering::Relaxed);
    assert!(r.converged && total > 100, "{total}");
    assert_eq!(r.force_calls, total);
    // The field fails mid-band: the failure keeps the reason and the calls spent, the failing
    // one included, and those of the band step's other images (evaluated in parallel, at
    // most one each).
    let fail_at = total / 2;
    let bad = flaky(fail_at);
    let ff: Arc<dyn ForceField> = bad.clone();
    let Line::Failure(f) = analyse_pair(7, &p, &a, &b, &ff, &mb_options()) else {
        panic!("the field fails at call {fail_at}");
    };
    assert_eq!((f.task, f.pair), (7, p));
    assert!(f.reason.contains(&format!("call {fail_at} fails")), "{}", f.reason);
    let images = mb_options().neb.images as u64;
    assert!(
        (fail_at..fail_at + images).contains(&f.force_calls),
        "{} calls, failing from {fail_at}",
        f.force_calls
    );
    // Both frames relax to the same minimum: the relaxations are counted.
    let [(x, y, _), _, _] = MullerBrown::MINIMA;
    let near = mb_frames(&[(x + 0.05, y), (x, y - 0.04)]);
    let same = flaky(u64::MAX);
    let ff: Arc<dyn ForceField> = same.clone();
    let Line::Failure(f) = analyse_pair(0, &p, &near[0], &near[1], &ff, &mb_options()) else {
        panic!("both frames relax to minimum A");
    };
    assert!(f.reason.contains("same minimum"), "{}", f.reason);
    let spent = same.calls.load(Ordering::Relaxed);
    assert!(spent > 10, "{spent}");
    assert_eq!(f.force_calls, spent);
}

#[test]
fn resume_refuses_another_species_order_or_frame_selection() {
    let dir = tempfile::tempdir().unwrap();
    let traj = mb_trajectory(dir.path());
    let opts = RearrangeOptions::default();
    let pairs = find_pairs(&traj, &topts(), 1.0, None, &opts).unwrap();
    let n = sample_pairs(pairs.candidates.len(), opts.sample, opts.seed).len();
    let info = run_info(&pairs, &traj, 1.0, &MullerBrown, vec![], &opts, n);
    assert!(info.differences(&info.clone()).is_empty());
    let mut other = info.clone();
    other.species = vec!["Y".into()];
    assert_eq!(other.differences(&info), vec!["species"]);
    let mut other = info.clone();
    other.frames_analysed -= 1;
    other.pairs_total -= 1;
    assert_eq!(other.differences(&info), vec!["frames_analysed", "pairs_total"]);
}
