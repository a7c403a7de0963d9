//! A force field of your own: a Morse pair potential implementing [`pelx::potential::ForceField`],
//! used to relax a 13-atom cluster with FIRE.
//!
//!   cargo run --release --example custom_force_field
//!
//! V = Σ_{i<j} D [exp(-2a(r - r0)) - 2 exp(-a(r - r0))] (Morse, Phys. Rev. 34, 57 (1929)),
//! with Cu-like D = 0.3429 eV, a = 1.3588 /Å, r0 = 2.866 Å (Girifalco & Weizer, Phys. Rev. 114,
//! 687 (1959)). All pairs, minimum image: fine for a small open cluster, not for big systems
//! (use the neighbour list in the `Workspace` for those, as the EAM does).

use pelx::minimize::{minimize, MinimizeOptions, MinimizerKind};
use pelx::potential::{fmax, Calculator, ForceField, Workspace};
use pelx::structure::{Cell, Structure};
use std::sync::Arc;

/// The Morse pair potential, one element.
#[derive(Debug)]
struct Morse {
    /// Well depth, eV.
    d: f64,
    /// Inverse width, 1/Å.
    a: f64,
    /// Equilibrium distance, Å.
    r0: f64,
}

impl ForceField for Morse {
    fn describe(&self) -> String {
        format!("morse D={} a={} r0={}", self.d, self.a, self.r0)
    }
    fn cutoff(&self) -> f64 {
        0.0 // all pairs, no neighbour list
    }
    fn elements(&self) -> Vec<String> {
        Vec::new() // any species
    }
    fn compute(
        &self,
        s: &Structure,
        _species_map: &[usize],
        _ws: &mut Workspace,
        forces: &mut [[f64; 3]],
        mut per_atom: Option<&mut [f64]>,
    ) -> pelx::Result<f64> {
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        if let Some(pa) = per_atom.as_deref_mut() {
            pa.iter_mut().for_each(|e| *e = 0.0);
        }
        let mut energy = 0.0;
        let x = &s.positions;
        for i in 0..x.len() {
            for j in i + 1..x.len() {
                let d = s
                    .cell
                    .minimum_image([x[j][0] - x[i][0], x[j][1] - x[i][1], x[j][2] - x[i][2]]);
                let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                let e = (-self.a * (r - self.r0)).exp();
                let v = self.d * (e * e - 2.0 * e);
                // dV/dr = -2 a D (e^2 - e); the force on j is -dV/dr d/r, on i its opposite.
                let dvdr = -2.0 * self.a * self.d * (e * e - e);
                for k in 0..3 {
                    let fk = -dvdr * d[k] / r;
                    forces[j][k] += fk;
                    forces[i][k] -= fk;
                }
                energy += v;
                if let Some(pa) = per_atom.as_deref_mut() {
                    pa[i] += 0.5 * v;
                    pa[j] += 0.5 * v;
                }
            }
        }
        Ok(energy)
    }
}

/// A 13-atom cluster: a centre and the 12 vertices of a cuboctahedron, slightly squeezed.
fn cluster(r: f64) -> pelx::Result<Structure> {
    let mut p = vec![[0.0, 0.0, 0.0]];
    let h = r / 2f64.sqrt();
    for (a, b) in [(h, h), (h, -h), (-h, h), (-h, -h)] {
        p.push([a, b, 0.0]);
        p.push([a, 0.0, b]);
        p.push([0.0, a, b]);
    }
    let cell = Cell::open_box(&p, 10.0)?;
    let n = p.len();
    Structure::new(cell, vec!["Cu".into()], vec![0; n], p)
}

fn main() -> pelx::Result<()> {
    let ff: Arc<dyn ForceField> = Arc::new(Morse {
        d: 0.3429,
        a: 1.3588,
        r0: 2.866,
    });
    let mut calc = Calculator::new(ff);
    let mut s = cluster(2.6)?;
    let (e0, f0) = calc.energy_forces(&s)?;
    println!("start:   E = {e0:.6} eV, fmax = {:.4} eV/Å", fmax(&f0));
    let opts = MinimizeOptions {
        fmax: 1e-6,
        ..MinimizeOptions::default()
    };
    let r = minimize(MinimizerKind::Fire, &mut s, &mut calc, &opts)?;
    println!(
        "relaxed: E = {:.6} eV, fmax = {:.2e} eV/Å, {} force calls, converged: {}",
        r.energy, r.fmax, r.force_calls, r.converged
    );
    let c = s.positions[0];
    let d = s.cell.distance(c, s.positions[1]);
    println!("centre-to-shell distance {d:.4} Å (Morse r0 = 2.866 Å)");
    assert!(r.converged && r.energy < e0);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::main().unwrap();
    }
}
