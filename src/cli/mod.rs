//! Command-line interface: one file per subcommand; parsing and printing, no physics.

mod art;
mod asym;
mod bench;
mod catalog;
mod common;
mod convert;
mod decompose;
mod energy;
mod fie;
mod kmc;
mod neb;
mod network;
mod rearrangements;
mod relax;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// pelx: potential-energy-landscape explorer for glasses.
///
/// Saddle searches (ART nouveau, climbing-image NEB) on EAM glasses, event catalogs, barrier
/// asymmetry, the Fan-Iwashita-Egami ageing model and KMC correlation factors.
/// Units: eV, Å, ps, K, amu (LAMMPS "metal"). Results go to stdout as JSON (or -o FILE);
/// logs go to stderr (-v for more, or RUST_LOG=debug).
#[derive(Debug, Parser)]
#[command(name = "pelx", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log only errors on stderr (the one-line summaries of fie, neb, rearrangements and run
    /// still print there; stdout is unchanged).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The quickstart pipeline: ART campaign, statistics, asymmetry + FIE fit, FIE cooling, KMC f.
    #[command(after_help = run::EXAMPLES)]
    Run(run::RunArgs),
    /// Energy (and forces) of a structure.
    #[command(after_help = energy::EXAMPLES)]
    Energy(energy::EnergyArgs),
    /// Relax a structure to a maximum per-atom force (FIRE, L-BFGS or CG).
    #[command(after_help = relax::EXAMPLES)]
    Relax(relax::RelaxArgs),
    /// Convert a structure between extended XYZ, LAMMPS data and LAMMPS dump.
    #[command(after_help = convert::EXAMPLES)]
    Convert(convert::ConvertArgs),
    /// ART nouveau saddle searches around chosen atoms, written to an event catalog.
    #[command(after_help = art::EXAMPLES)]
    Art(art::ArtArgs),
    /// Event catalogs: stats, merge, filter, dedup, extract.
    #[command(after_help = catalog::EXAMPLES)]
    Catalog(catalog::CatalogArgs),
    /// Climbing-image nudged elastic band between two minima: barriers, energy profile, saddle.
    #[command(after_help = neb::EXAMPLES)]
    Neb(neb::NebArgs),
    /// NEB barriers of the rearrangements between consecutive MD frames (the paper's Fig. 3).
    #[command(after_help = rearrangements::EXAMPLES)]
    Rearrangements(rearrangements::RearrangementsArgs),
    /// Basin network of event catalogs: minima as nodes, saddles (both barriers) as edges.
    #[command(after_help = network::EXAMPLES)]
    Network(network::NetworkArgs),
    /// Forward/reverse barrier asymmetry: histograms, statistics, FIE spectrum fits, figures.
    #[command(after_help = asym::EXAMPLES)]
    Asym(asym::AsymArgs),
    Fie(fie::FieArgs),
    /// Kinetic Monte Carlo estimates of the diffusion correlation factor f (lattices, what-if landscapes).
    #[command(after_help = kmc::EXAMPLES)]
    Kmc(kmc::KmcArgs),
    /// Diffusion decomposition D = D_RW x f of MD trajectories (and Arrhenius fits).
    #[command(after_help = decompose::EXAMPLES)]
    Decompose(decompose::DecomposeArgs),
    /// Speed measurements (pelx and LAMMPS side by side).
    #[command(after_help = bench::EXAMPLES)]
    Bench(bench::BenchArgs),
}

/// Installs the stderr log subscriber (only `main` does this; the library only emits events).
pub fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Runs the chosen subcommand.
pub fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Energy(a) => energy::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Relax(a) => relax::run(a),
        Command::Fie(a) => fie::run(a).map(|()| ExitCode::SUCCESS),
        Command::Kmc(a) => kmc::run(a),
        Command::Neb(a) => neb::run(a),
        Command::Rearrangements(a) => rearrangements::run(a),
        Command::Decompose(a) => decompose::run(a),
        Command::Network(a) => network::run(a),
        Command::Asym(a) => asym::run(a),
        Command::Art(a) => art::run(a),
        Command::Catalog(a) => catalog::run(a),
        Command::Run(a) => run::run(a),
    }
}
