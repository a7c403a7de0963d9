//! Climbing-image NEB on the Müller-Brown surface (Müller & Brown, Theor. Chim. Acta 53, 75
//! (1979)) between minima A and C, printing the saddle next to the published one.
//!
//!   cargo run --release --example neb_muller_brown
//!
//! One "atom" moves on V(x, y) (z is inert); energies in the surface's own units.

use pelx::potential::analytic::{point, MullerBrown};
use pelx::saddle::neb::{neb, NebOptions};
use std::sync::Arc;

fn main() -> pelx::Result<()> {
    let [a, _b, c] = MullerBrown::MINIMA;
    let [s1, _s2] = MullerBrown::SADDLES;
    let initial = point(a.0, a.1, 0.0)?;
    let final_ = point(c.0, c.1, 0.0)?;
    let opts = NebOptions {
        images: 9,
        spring: 20.0,
        fmax: 1e-3,
        max_step: 0.02,
        relax_fmax: 1e-6,
        ..NebOptions::default()
    };
    let r = neb(&initial, &final_, Arc::new(MullerBrown), &opts)?;
    let p = r.saddle().positions[0];
    println!(
        "converged: {} after {} band steps, {} force calls",
        r.converged, r.steps, r.force_calls.total
    );
    println!("saddle at ({:.6}, {:.6}), V = {:.6}", p[0], p[1], r.saddle_energy);
    println!("published S1 ({:.6}, {:.6}), V = {:.6}", s1.0, s1.1, s1.2);
    println!(
        "E_fw = {:.4}, E_rev = {:.4} (E_saddle - E_initial, E_saddle - E_final)",
        r.barrier_forward, r.barrier_reverse
    );
    assert!(r.converged && (p[0] - s1.0).abs() < 1e-3 && (p[1] - s1.1).abs() < 1e-3);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::main().unwrap();
    }
}
