//! One ART nouveau search on the shipped 500-atom Cu50Zr50 glass, printing the event.
//!
//!   cargo run --release --example art_single_search [CENTRAL_ATOM] [SEED]
//!
//! The structure is relaxed first when it is not a minimum (as `pelx art` does); a search may
//! end without an event (the failure reason is printed), which is normal: try another seed.
//! Energies in eV, distances in Å.

use pelx::potential::{load, Calculator};
use pelx::saddle::art::{search, ArtConfig, SearchOutcome};
use pelx::saddle::campaign::prepare_initial;
use pelx::structure::io::read_structure;
use std::path::Path;

fn main() -> pelx::Result<()> {
    let mut args = std::env::args().skip(1);
    let central: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    single_search(central, seed)
}

/// Relaxes the shipped glass if needed and runs one search around `central`.
fn single_search(central: usize, seed: u64) -> pelx::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let s = read_structure(root.join("configs/CuZr50_500.extxyz"), &Default::default())?;
    let ff = load(&[root.join("potentials/CuZr_mm.eam.fs").as_path()])?;
    let mut calc = Calculator::new(ff);
    let cfg = ArtConfig::default();
    let relaxed = std::env::temp_dir().join(format!("pelx-art-example-{}.extxyz", std::process::id()));
    let (init, _) = prepare_initial(s, &mut calc, &cfg, true, &relaxed)?;
    let _ = std::fs::remove_file(&relaxed);
    println!(
        "initial minimum: E = {:.6} eV, {} atoms",
        init.energy,
        init.structure.len()
    );
    match search(&init, &cfg, &mut calc, central, seed) {
        SearchOutcome::Event(ev) => {
            let max_disp = ev
                .final_positions
                .iter()
                .zip(&init.structure.positions)
                .map(|(a, b)| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt())
                .fold(0.0, f64::max);
            println!("event around atom {central} (seed {seed}):");
            println!("  E_fw  = E_saddle - E_initial = {:.4} eV", ev.e_saddle - init.energy);
            println!("  E_rev = E_saddle - E_final   = {:.4} eV", ev.e_saddle - ev.e_final);
            println!(
                "  lowest eigenvalue at the saddle {:.4} eV/Å^2, fmax {:.2e} eV/Å",
                ev.eigenvalue, ev.saddle_fmax
            );
            println!("  largest displacement between the minima {max_disp:.3} Å");
            println!(
                "  reconnects: {}, verified: {}, force calls: {:?}",
                ev.reconnects, ev.verified, ev.calls
            );
        }
        SearchOutcome::Failure(f) => {
            println!(
                "no event around atom {central} (seed {seed}): {:?}: {}",
                f.reason, f.detail
            );
            println!("force calls: {:?}", f.calls);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_search_runs() {
        super::single_search(0, 1).unwrap();
    }
}
