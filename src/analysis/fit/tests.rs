use super::*;

fn draws(sp: &FieSpectrum, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| sp.sample(&mut rng)).collect()
}

/// A Cu56Zr44-like activation spectrum: FIE's shape with W and m in the range of their Fig. 2b.
fn truth() -> FieSpectrum {
    FieSpectrum::new(0.12, 0.9, FieSpectrum::FIE_E_A, FieSpectrum::FIE_S).unwrap()
}

/// |fit - truth| within `tol` and within 3.5 reported sigma (a 1-in-2000 event per parameter).
fn check(name: &str, e: &Estimate, truth: f64, tol: f64) {
    let sigma = e.sigma.unwrap_or_else(|| panic!("{name}: no uncertainty"));
    let dev = (e.value - truth).abs();
    assert!(dev < tol, "{name} = {} vs {truth}: off by {dev} > {tol}", e.value);
    assert!(dev < 3.5 * sigma, "{name} = {} ± {sigma} vs {truth}", e.value);
}

#[test]
fn recovers_w_and_m_from_50000_draws_with_the_shape_fixed() {
    let data = draws(&truth(), 50_000, 1);
    let fit = fit_fie(&data, &FitOptions::default()).unwrap();
    assert!(fit.converged && !fit.at_boundary);
    check("W", &fit.w, 0.12, 0.01);
    check("m", &fit.m, 0.9, 0.02);
    assert!(fit.e_a.fixed && fit.e_a.value == 0.5 && fit.s.fixed && fit.s.value == 0.49);
    // The expected size of the errors for this n: sigma_W ~ 0.0024, sigma_m ~ 0.0031 eV.
    let (sw, sm) = (fit.w.sigma.unwrap(), fit.m.sigma.unwrap());
    assert!(
        (0.0015..0.0035).contains(&sw) && (0.002..0.0045).contains(&sm),
        "{sw} {sm}"
    );
    // A sample from the fitted form is not rejected.
    assert!(fit.ks.p_value > 0.01, "{:?}", fit.ks);
    // ln L at the maximum beats ln L at the truth, by about half a chi^2 with 2 dof.
    let ll_truth: f64 = data.iter().map(|&e| truth().ln_pdf(e)).sum();
    assert!(fit.log_likelihood >= ll_truth && fit.log_likelihood - ll_truth < 10.0);
}

#[test]
fn recovers_all_four_parameters_with_a_free_shape() {
    let data = draws(&truth(), 50_000, 2);
    let opts = FitOptions {
        free_shape: true,
        e_a: 0.4,
        s: 0.6,
        ..Default::default()
    };
    let fit = fit_fie(&data, &opts).unwrap();
    assert!(fit.converged);
    check("W", &fit.w, 0.12, 0.01);
    check("m", &fit.m, 0.9, 0.02);
    check("e_A", &fit.e_a, 0.5, 0.06);
    check("s", &fit.s, 0.49, 0.015);
    let cov = fit.covariance.as_ref().unwrap();
    assert_eq!(cov.len(), 4);
    // W and e_A trade off (a larger M1 weight with a longer tail): positive correlation.
    assert!(cov[0][2] > 0.0);
}

#[test]
fn recovers_e_r_from_50000_draws() {
    let sp = ExpSpectrum::new(ExpSpectrum::FIE_E_R).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let data: Vec<f64> = (0..50_000).map(|_| sp.sample(&mut rng)).collect();
    let fit = fit_exponential(&data, &FitOptions::default()).unwrap();
    check("e_R", &fit.e_r, 0.32, 0.005);
    assert!((fit.e_r.sigma.unwrap() - 0.32 / 50_000f64.sqrt()).abs() < 1e-4);
    assert!(fit.ks.p_value > 0.01);
    // The maximum log-likelihood in closed form equals the direct sum.
    let direct: f64 = data.iter().map(|&e| (sp_at(fit.e_r.value).pdf(e)).ln()).sum();
    assert!((fit.log_likelihood - direct).abs() < 1e-6 * direct.abs());
}

fn sp_at(e_r: f64) -> ExpSpectrum {
    ExpSpectrum::new(e_r).unwrap()
}

/// Fraction of replicate fits whose 1- and 2-sigma intervals cover the truth, for W and m.
fn coverage(reps: usize, n: usize, opts: &FitOptions) -> [[f64; 2]; 2] {
    let hits: Vec<[[bool; 2]; 2]> = (0..reps)
        .into_par_iter()
        .map(|r| {
            let data = draws(&truth(), n, 1000 + r as u64);
            let fit = fit_fie(&data, opts).unwrap();
            let cover = |e: &Estimate, t: f64| {
                let z = (e.value - t).abs() / e.sigma.unwrap();
                [z < 1.0, z < 2.0]
            };
            [cover(&fit.w, 0.12), cover(&fit.m, 0.9)]
        })
        .collect();
    let frac = |p: usize, k: usize| hits.iter().filter(|h| h[p][k]).count() as f64 / reps as f64;
    [[frac(0, 0), frac(0, 1)], [frac(1, 0), frac(1, 1)]]
}

#[test]
fn hessian_intervals_cover_the_truth_at_their_level() {
    // 100 replicate samples of 1,500 barriers: the binomial sd of a 68.3 % coverage is 4.7 %,
    // of a 95.4 % one 2.1 %; the bounds below are ~3 sd wide. (A sigma off by a factor 1.5
    // either way would give 1-sigma coverages of 50 % or 87 %.)
    let c = coverage(100, 1500, &FitOptions::default());
    for (name, [one, two]) in ["W", "m"].iter().zip(c) {
        assert!((0.54..=0.82).contains(&one), "{name}: 1-sigma coverage {one}");
        assert!((0.89..=1.0).contains(&two), "{name}: 2-sigma coverage {two}");
    }
}

/// The long version of the coverage check (run with --ignored): 1,000 replicates of 2,000
/// barriers with the shape fixed, 300 replicates of 20,000 with it free. (With the shape free
/// and only 2,000 barriers the Hessian intervals are ~15 % too narrow for W and e_A: the
/// likelihood is not yet quadratic along the W-e_A valley; 20,000 barriers are enough.)
#[test]
#[ignore = "about three minutes"]
fn hessian_coverage_long() {
    for (free_shape, reps, n) in [(false, 1000, 2000), (true, 300, 20_000)] {
        let opts = FitOptions {
            free_shape,
            ..Default::default()
        };
        let c = coverage(reps, n, &opts);
        eprintln!(
            "free_shape {free_shape}, {reps} x {n}: W 1σ {:.3} 2σ {:.3}; m 1σ {:.3} 2σ {:.3}",
            c[0][0], c[0][1], c[1][0], c[1][1]
        );
        // Bounds at 3 binomial standard deviations around 68.3 % and 95.4 %.
        let sd1 = (0.683 * 0.317 / reps as f64).sqrt();
        let sd2 = (0.954 * 0.046 / reps as f64).sqrt();
        for [one, two] in c {
            assert!(
                (one - 0.683).abs() < 3.0 * sd1 && (two - 0.954).abs() < 3.0 * sd2,
                "{c:?}"
            );
        }
    }
}

#[test]
fn bootstrap_agrees_with_the_hessian_and_ignores_the_thread_count() {
    let data = draws(&truth(), 4000, 4);
    let opts = FitOptions {
        bootstrap: 60,
        seed: 9,
        ..Default::default()
    };
    let fit = fit_fie(&data, &opts).unwrap();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| fit_fie(&data, &opts).unwrap());
    assert_eq!(fit, one_thread);
    // With 60 replicates a standard deviation is known to ~9 %: allow 30 %.
    for e in [&fit.w, &fit.m] {
        let (h, b) = (e.sigma.unwrap(), e.sigma_bootstrap.unwrap());
        assert!((b / h - 1.0).abs() < 0.3, "hessian {h} bootstrap {b}");
        assert_eq!(e.best_sigma(), Some(b));
    }
    assert_eq!(fit.bootstrap, 60);
}

#[test]
fn a_wrong_form_is_rejected_by_ks() {
    // Uniform barriers on [0, 3] eV are no FIE spectrum.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let data: Vec<f64> = (0..5000).map(|_| 3.0 * rng.random::<f64>()).collect();
    let fit = fit_fie(&data, &FitOptions::default()).unwrap();
    assert!(fit.ks.p_value < 1e-6, "{:?}", fit.ks);
}

#[test]
fn bad_samples_are_errors() {
    let few = vec![0.5; MIN_EVENTS - 1];
    assert!(fit_fie(&few, &FitOptions::default())
        .unwrap_err()
        .to_string()
        .contains("too few"));
    let mut neg = vec![0.5; 50];
    neg[7] = -0.1;
    assert!(fit_fie(&neg, &FitOptions::default())
        .unwrap_err()
        .to_string()
        .contains("negative"));
    assert!(fit_exponential(&neg, &FitOptions::default()).is_err());
    let zeros = vec![0.0; 50];
    assert!(fit_exponential(&zeros, &FitOptions::default()).is_err());
    let bad = FitOptions {
        e_a: 0.0,
        ..Default::default()
    };
    assert!(fit_fie(&vec![0.5; 50], &bad).is_err());
}

#[test]
fn a_spectrum_without_m1_or_without_m2_fits_without_garbage() {
    // No M1 at all: W goes to the boundary; every number stays finite and the flag says so.
    let no_m1 = FieSpectrum::new(0.0, 1.1, 0.5, 0.49).unwrap();
    let fit = fit_fie(&draws(&no_m1, 5000, 6), &FitOptions::default()).unwrap();
    assert!(fit.w.value < 0.01, "{:?}", fit.w);
    assert!((fit.m.value - 1.1).abs() < 0.05, "{:?}", fit.m);
    assert!(fit.log_likelihood.is_finite() && fit.ks.p_value > 1e-3);
    if fit.at_boundary {
        assert!(fit.w.sigma.is_none() && fit.covariance.is_none());
    }
    // Only M1 (an exponential), shape free: M2 can then mimic part of the exponential, so W is
    // poorly determined (and its sigma says so), but the maximum is found: ln L is at least
    // that of the truth.
    let only_m1 = FieSpectrum::new(1.0, 1.0, 0.4, 0.49).unwrap();
    let opts = FitOptions {
        free_shape: true,
        ..Default::default()
    };
    let data = draws(&only_m1, 5000, 7);
    let fit = fit_fie(&data, &opts).unwrap();
    let ll_truth: f64 = data.iter().map(|&e| only_m1.ln_pdf(e)).sum();
    assert!(
        fit.log_likelihood >= ll_truth - 1e-6,
        "{} < {ll_truth}",
        fit.log_likelihood
    );
    assert!(fit.w.value > 0.5 && fit.w.sigma.is_none_or(|s| s > 0.05), "{:?}", fit.w);
}

/// Prints the recovery of the FIE parameters from 50,000 draws for three seeds (run with
/// `cargo test --lib fit_recovery_report -- --ignored --nocapture`; the numbers of the report).
#[test]
#[ignore = "a report, not a check"]
fn fit_recovery_report() {
    for seed in [1, 2, 3] {
        let data = draws(&truth(), 50_000, seed);
        for free_shape in [false, true] {
            let f = fit_fie(
                &data,
                &FitOptions {
                    free_shape,
                    ..Default::default()
                },
            )
            .unwrap();
            let show = |e: &Estimate| format!("{:.4} ± {:.4}", e.value, e.sigma.unwrap_or(f64::NAN));
            eprintln!(
                "seed {seed} free_shape {free_shape}: W {} m {} e_A {} s {} KS p {:.2}",
                show(&f.w),
                show(&f.m),
                show(&f.e_a),
                show(&f.s),
                f.ks.p_value
            );
        }
        let sp = ExpSpectrum::new(0.32).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        let r: Vec<f64> = (0..50_000).map(|_| sp.sample(&mut rng)).collect();
        let f = fit_exponential(&r, &FitOptions::default()).unwrap();
        eprintln!(
            "seed {seed}: e_R {:.4} ± {:.4} KS p {:.2}",
            f.e_r.value,
            f.e_r.sigma.unwrap(),
            f.ks.p_value
        );
    }
}
