//! `pelx fie`: the Fan-Iwashita-Egami E_IS evolution model (parsing and printing only; the
//! physics lives in `pelx::fie`).

use super::common::refuse_overwriting_inputs;
use anyhow::{bail, Context, Result};
use pelx::fie::anchor::anchored_model;
use pelx::fie::equilibrium::EquilibriumLine;
use pelx::fie::fit::{fit_line, read_line_csv, regress_spectra, FieSpectrumFit, RegressForm};
use pelx::fie::model::{FieConfig, FieModel};
use pelx::fie::output::{
    write_json, write_trajectories_csv, FitLineOutput, LineOutput, MapOutput, RegressOutput, RunOutput,
};
use pelx::fie::plot::{plot_map, plot_run};
use pelx::fie::protocol::{run_file, ProtocolFile};
use pelx::provenance::Provenance;
use std::path::{Path, PathBuf};

/// The Fan-Iwashita-Egami model of inherent-structure energy evolution.
#[derive(clap::Args, Debug)]
#[command(
    about = "Fan-Iwashita-Egami E_IS evolution: equilibrium line, T_c, ageing map, thermal protocols, fits",
    long_about = "The Fan-Iwashita-Egami model (Nat. Commun. 8, 15417, 2017): \
dE_IS/dt = nu exp(-Ebar_A/k_B T) (Ebar_A - Ebar_R) with the activation spectrum \
P(E_A | E_IS) = W M1 + W0 M2. Parameters (W(E_IS), m(E_IS), entropy, domain, solver) come from a \
TOML configuration such as configs/fie-cu56zr44.toml. Results are JSON on stdout (or -o FILE).",
    after_help = "Examples:\n  pelx fie line --config configs/fie-cu56zr44.toml\n  \
pelx fie run --config configs/fie-cu56zr44.toml --protocol configs/fie-protocol-fig4-hysteresis.toml --plot results/fie"
)]
pub struct FieArgs {
    #[command(subcommand)]
    pub command: FieCommand,
}

/// The `pelx fie` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum FieCommand {
    Line(LineArgs),
    Map(MapArgs),
    Run(RunArgs),
    FitLine(FitLineArgs),
    Regress(RegressArgs),
    Anchor(AnchorArgs),
}

/// Equilibrium line E_IS*(T) (Delta = 0) and critical temperature T_c.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  pelx fie line --config configs/fie-cu56zr44.toml -o line.json --plot line.svg\n\n\
Output (pelx.fie-line/1): {\"t_c\": K or null, \"line\": [[T, E_IS*], ...], ...}"
)]
pub struct LineArgs {
    /// FIE model configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also draw the line over the ageing/rejuvenation map (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Ageing/rejuvenation map: the sign of Delta on an E_IS-T grid (FIE Fig. 3).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  pelx fie map --config configs/fie-cu56zr44.toml --nt 131 --ne 81 -o map.json --plot map.svg"
)]
pub struct MapArgs {
    /// FIE model configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Temperatures in the grid (from domain.t_min to domain.t_max).
    #[arg(long, default_value_t = 131)]
    pub nt: usize,
    /// E_IS values in the grid (from domain.e_is_min to domain.e_is_max).
    #[arg(long, default_value_t = 81)]
    pub ne: usize,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Draw the map with the equilibrium line (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Integrate dE_IS/dt along the thermal protocols of a protocol file (FIE Figs. 3-5).
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  pelx fie run --config configs/fie-cu56zr44.toml \
--protocol configs/fie-protocol-fig5-truncated.toml -o run.json --csv run.csv --plot results/fie\n\n\
Protocol files list [[protocol]] tables with segments of type ramp {to, rate}, hold {duration}, \
cycle {to, back, rate, count} and truncated {turn, to, rate}; see pelx::fie::protocol.")]
pub struct RunArgs {
    /// FIE model configuration (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Protocol file (TOML).
    #[arg(long)]
    pub protocol: PathBuf,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write every state as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write <protocol-file-stem>.svg (trajectories over the map, and dE_IS/dT) into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Override solver.atol (eV/atom per step).
    #[arg(long)]
    pub atol: Option<f64>,
    /// Override solver.max_temperature_step (K per step on ramps).
    #[arg(long)]
    pub max_temperature_step: Option<f64>,
    /// Start protocols that begin on the equilibrium line above its highest temperature inside
    /// the E_IS domain at that temperature instead of failing (useful for one sample's model).
    #[arg(long)]
    pub clip_start: bool,
}

/// The inverse strategy: fit W and m parameters so that Delta = 0 passes through a given line.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  pelx fie fit-line --config configs/fie-cu56zr44.toml \
--line md-line.csv --free w.x0,w.width,m.value -o fit.json --write-config fitted.toml\n\n\
The CSV has two columns, T (K) and E_IS (eV/atom); a header line and # comments are allowed. \
Free parameters are named <function>.<parameter> with function w or m and the parameter names of \
its kind (linear: value, slope, x0; logistic: low, high, x0, width; exponential: base, amplitude, \
x0, scale; constant: value).")]
pub struct FitLineArgs {
    /// Starting FIE model configuration (TOML); its W and m forms are kept.
    #[arg(long)]
    pub config: PathBuf,
    /// Equilibrium line to reproduce (CSV of T, E_IS).
    #[arg(long)]
    pub line: PathBuf,
    /// Comma-separated free parameters, e.g. w.x0,w.width,m.value.
    #[arg(long, value_delimiter = ',', required = true)]
    pub free: Vec<String>,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the fitted configuration as TOML.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// Draw the fitted line with the given points over the map (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Regress W(E_IS) and m(E_IS) from per-sample spectrum fits (pelx.fie-spectrum/1 JSON).
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  pelx fie regress fits/q9.json fits/q10.json fits/q11.json fits/q12.json \
--w-form logistic --m-form linear --config configs/fie-cu56zr44.toml --write-config regressed.toml\n\n\
Each input is what `pelx asym --fit fie` writes for one sample: {\"schema\": \"pelx.fie-spectrum/1\", \
\"sample\", \"e_is\", \"w\", \"m\", \"e_a\", \"s\", \"e_r\", \"uncertainties\": {...}, \"n_events\", ...}."
)]
pub struct RegressArgs {
    /// Spectrum-fit files, one per sample.
    #[arg(required = true)]
    pub fits: Vec<PathBuf>,
    /// Form of W(E_IS): linear, exponential, logistic or tabulated.
    #[arg(long, default_value = "linear")]
    pub w_form: RegressForm,
    /// Form of m(E_IS): linear, exponential, logistic or tabulated.
    #[arg(long, default_value = "linear")]
    pub m_form: RegressForm,
    /// A configuration whose W and m are replaced by the regressed ones (reported in the JSON).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Write that configuration as TOML (needs --config).
    #[arg(long, requires = "config")]
    pub write_config: Option<PathBuf>,
    /// Write the JSON here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Build the model of one sample: the base set's W(E_IS) and m(E_IS) moved onto its spectrum fit.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Build the FIE model of one sample from its spectrum fit (what `pelx asym --fit fie \
--fie-out FIT.json` writes): e_A, s and e_R become the fitted values, m(E_IS) is shifted and the odds \
W/(1-W) of W(E_IS) scaled so that at --anchor-e-is they equal the fitted m and W; the rest (E_IS \
dependence, rate, domain, solver) is the base configuration's. This is the model `pelx run` builds \
in its FIE step.",
    after_help = "Example:\n  pelx fie anchor --fit results/campaign-cu56zr44/fie-fit.json \
--base configs/fie-cu56zr44.toml -o model.toml\n  \
pelx fie run --config model.toml --protocol configs/fie-protocol-fig3-cooling.toml --plot figures"
)]
pub struct AnchorArgs {
    /// Spectrum fit of the sample (pelx.fie-spectrum/1 JSON).
    #[arg(long)]
    pub fit: PathBuf,
    /// Base FIE configuration giving the E_IS dependence, rate, domain and solver (TOML).
    #[arg(long)]
    pub base: PathBuf,
    /// E_IS where W and m take the fitted values, eV/atom, inside the base set's domain
    /// [default: the fit's own e_is, the sample's inherent-structure energy per atom; a sample
    /// of another composition, such as CuZr50 on the Cu56Zr44 base set, needs one given here].
    #[arg(long, allow_hyphen_values = true)]
    pub anchor_e_is: Option<f64>,
    /// Write the model configuration (TOML) here.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Run a `pelx fie` subcommand.
pub fn run(args: &FieArgs) -> Result<()> {
    match &args.command {
        FieCommand::Line(a) => line(a),
        FieCommand::Map(a) => map(a),
        FieCommand::Run(a) => run_protocols(a),
        FieCommand::FitLine(a) => fit(a),
        FieCommand::Regress(a) => regress(a),
        FieCommand::Anchor(a) => anchor(a),
    }
}

fn load(path: &Path) -> Result<FieModel> {
    Ok(FieModel::from_file(path)?)
}

fn title(model: &FieModel) -> String {
    let name = &model.config().name;
    if name.is_empty() {
        "FIE model".to_string()
    } else {
        name.clone()
    }
}

fn report_line(line: &EquilibriumLine) {
    match line.t_c {
        Some(tc) => eprintln!("T_c = {tc:.3} K"),
        None => {
            eprintln!("T_c: none (Delta = 0 has a solution at every temperature of the domain)")
        }
    }
    if let (Some(a), Some(b)) = (line.line.first(), line.line.last()) {
        eprintln!(
            "equilibrium line: {} points, E_IS* = {:.5} eV/atom at {:.1} K to {:.5} at {:.1} K",
            line.line.len(),
            a[1],
            a[0],
            b[1],
            b[0]
        );
    }
    for w in &line.warnings {
        eprintln!("warning: {w}");
    }
}

fn line(a: &LineArgs) -> Result<()> {
    let model = load(&a.config)?;
    let line = model.equilibrium_line()?;
    report_line(&line);
    if let Some(p) = &a.plot {
        plot_map(p, &model, &line, &[], &[], &title(&model))?;
        eprintln!("wrote {}", p.display());
    }
    let prov = Provenance::new(&[&a.config])?;
    write_json(a.output.as_deref(), &LineOutput::new(prov, model.config(), line))?;
    Ok(())
}

fn map(a: &MapArgs) -> Result<()> {
    let model = load(&a.config)?;
    let line = model.equilibrium_line()?;
    report_line(&line);
    let grid = model.ageing_map(a.nt, a.ne)?;
    if let Some(p) = &a.plot {
        plot_map(p, &model, &line, &[], &[], &title(&model))?;
        eprintln!("wrote {}", p.display());
    }
    let prov = Provenance::new(&[&a.config])?;
    write_json(a.output.as_deref(), &MapOutput::new(prov, model.config(), grid, line))?;
    Ok(())
}

fn run_protocols(a: &RunArgs) -> Result<()> {
    let model = load(&a.config)?;
    let mut file = ProtocolFile::from_file(&a.protocol)?;
    let mut solver = model.config().solver;
    if let Some(v) = a.atol {
        solver.atol = v;
    }
    if let Some(v) = a.max_temperature_step {
        solver.max_temperature_step = v;
    }
    // Validate the overrides through the model's own checks.
    let mut cfg: FieConfig = model.config().clone();
    cfg.solver = solver;
    let model = FieModel::new(cfg).context("solver overrides")?;
    let line = model.equilibrium_line()?;
    if a.clip_start {
        for note in file.clip_starts_to_line(&line) {
            eprintln!("{note}");
        }
    }
    let trajs = run_file(&model, &file, &solver)?;
    for t in &trajs {
        let s = t.last();
        eprintln!(
            "{}: final T = {:.1} K, E_IS = {:.8} eV/atom; {} steps ({} rejected), {} rhs evaluations",
            t.name, s.temperature, s.e_is, t.stats.accepted, t.stats.rejected, t.stats.rhs_evals
        );
        for (k, p) in t.pieces.iter().enumerate() {
            if let Some(pk) = t.summary(k).peak_de_dtemp {
                eprintln!(
                    "  piece {k}: {:.0} -> {:.0} K at {:.1e} K/s, dE_IS/dT peak {:.4e} eV/atom/K at {:.1} K",
                    p.t_from,
                    p.t_to,
                    p.dtdt.abs(),
                    pk.value,
                    pk.temperature
                );
            }
        }
        for c in &t.crossings {
            eprintln!(
                "  crosses the line at {:.2} K, E_IS = {:.6} ({:?})",
                c.temperature, c.e_is, c.extremum
            );
        }
    }
    if let Some(dir) = &a.plot {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let stem = a
            .protocol
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let p = dir.join(format!("{stem}.svg"));
        plot_run(&p, &model, &line, &trajs, &title(&model))?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.csv {
        write_trajectories_csv(p, &trajs)?;
        eprintln!("wrote {}", p.display());
    }
    let prov = Provenance::new(&[&a.config, &a.protocol])?;
    let out = RunOutput::new(prov, model.config(), &file, solver, line.t_c, &trajs);
    write_json(a.output.as_deref(), &out)?;
    Ok(())
}

fn fit(a: &FitLineArgs) -> Result<()> {
    let base = FieConfig::from_file(&a.config)?;
    let points = read_line_csv(&a.line)?;
    let fit = fit_line(&base, &points, &a.free)?;
    for p in &fit.params {
        eprintln!(
            "{} = {:.8} (start {:.8}){}",
            p.name,
            p.value,
            p.initial,
            p.uncertainty.map(|u| format!(" +- {u:.2e}")).unwrap_or_default()
        );
    }
    let model = FieModel::new(fit.config.clone())?;
    let line = model.equilibrium_line()?;
    report_line(&line);
    if let Some(p) = &a.write_config {
        let prov = Provenance::new(&[a.config.as_path(), a.line.as_path()])?;
        let text = fit
            .config
            .to_toml_with_provenance("FIE model fitted to an equilibrium line", &prov)?;
        std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.plot {
        plot_map(p, &model, &line, &[], &points, &format!("{} (fitted)", title(&model)))?;
        eprintln!("wrote {}", p.display());
    }
    let prov = Provenance::new(&[&a.config, &a.line])?;
    let out = FitLineOutput::new(prov, &points, fit, line.t_c);
    eprintln!(
        "rms Delta = {:.3e} eV, rms E_IS misfit = {}",
        out.rms_delta,
        out.rms_e_is.map(|v| format!("{v:.3e} eV/atom")).unwrap_or("n/a".into())
    );
    write_json(a.output.as_deref(), &out)?;
    Ok(())
}

fn regress(a: &RegressArgs) -> Result<()> {
    if a.write_config.is_some() && a.config.is_none() {
        bail!("--write-config needs --config");
    }
    let fits = a
        .fits
        .iter()
        .map(|p| FieSpectrumFit::from_file(p))
        .collect::<pelx::Result<Vec<_>>>()?;
    let r = regress_spectra(&fits, a.w_form, a.m_form)?;
    for reg in [&r.w, &r.m] {
        for p in &reg.params {
            eprintln!(
                "{} = {:.6}{}",
                p.name,
                p.value,
                p.uncertainty.map(|u| format!(" +- {u:.2e}")).unwrap_or_default()
            );
        }
    }
    let config = match &a.config {
        Some(path) => {
            let mut cfg = FieConfig::from_file(path)?;
            cfg.spectrum.w = r.w.func.clone();
            cfg.spectrum.m = r.m.func.clone();
            let cfg = FieModel::new(cfg)
                .context("the regressed W and m do not make a valid model in this domain")?
                .config()
                .clone();
            if let Some(out) = &a.write_config {
                let mut inputs: Vec<&Path> = a.fits.iter().map(|p| p.as_path()).collect();
                inputs.push(path);
                let text =
                    cfg.to_toml_with_provenance("FIE model with regressed W and m", &Provenance::new(&inputs)?)?;
                std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
                eprintln!("wrote {}", out.display());
            }
            Some(cfg)
        }
        None => None,
    };
    let mut inputs: Vec<&Path> = a.fits.iter().map(|p| p.as_path()).collect();
    if let Some(c) = &a.config {
        inputs.push(c);
    }
    let prov = Provenance::new(&inputs)?;
    write_json(a.output.as_deref(), &RegressOutput::new(prov, &fits, r, config))?;
    Ok(())
}

fn anchor(a: &AnchorArgs) -> Result<()> {
    refuse_overwriting_inputs([a.fit.as_path(), a.base.as_path()], [Some(a.output.as_path())])?;
    let fit = FieSpectrumFit::from_file(&a.fit)?;
    let base = FieConfig::from_file(&a.base)?;
    let e = a.anchor_e_is.unwrap_or(fit.e_is);
    let model = anchored_model(&base, &fit, e)?;
    let prov = Provenance::new(&[a.fit.as_path(), a.base.as_path()])?;
    let text = model
        .config()
        .to_toml_with_provenance("FIE model of one sample", &prov)?;
    std::fs::write(&a.output, text).with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!(
        "W({e}) = {:.4}, m({e}) = {:.4} eV; wrote {}",
        model.w(e)?,
        model.m(e)?,
        a.output.display(),
    );
    Ok(())
}
