//! The Fan-Iwashita-Egami inherent-structure energy model (Y. Fan, T. Iwashita, T. Egami,
//! Nat. Commun. 8, 15417, 2017; equation numbers below are the paper's).
//!
//! A glass at inherent-structure energy E_IS hops over barriers E_A drawn from
//! P(E_A | E_IS) = W (1/e_A) e^{-E_A/e_A} + W0 E_A e^{-(E_A - m)^2/(2 s^2)} (eq. 3) and then
//! relaxes by E_R drawn from P(E_R) = e^{-E_R/e_R}/e_R (eq. 5). In mean field (eq. 2)
//!
//!   dE_IS/dt = nu(E_IS, T) exp(-Ebar_A/k_B T) (Ebar_A - Ebar_R),
//!   Ebar_A = -k_B T ln integral P(E_A | E_IS) e^{-E_A/k_B T} dE_A (eq. 4),  Ebar_R = e_R (eq. 6),
//!
//! so the system ages where Delta = Ebar_A - Ebar_R < 0 and rejuvenates where Delta > 0; the
//! line Delta = 0 (eq. 7) is the supercooled liquid's equilibrium line, and with a floor on the
//! M1 weight W it ends at a critical temperature T_c.
//!
//! | module | what lives there |
//! |---|---|
//! | [`anchor`] | the model of one sample: the base set's W(E_IS) and m(E_IS) moved onto its spectrum fit |
//! | [`func`] | configurable functions W(E_IS), m(E_IS), S(E_IS)/k_B, S(T)/k_B: constant, linear, exponential, logistic, tabulated |
//! | [`model`] | the TOML configuration ([`model::FieConfig`]) and [`model::FieModel`]: P(E_A), Z, Ebar_A, Delta, nu, dE_IS/dt |
//! | [`quad`] | adaptive Gauss-Kronrod quadrature; the M2 integral in log space to 1e-12 relative |
//! | [`equilibrium`] | the line E_IS*(T), T_c and the ageing/rejuvenation map |
//! | [`ode`] | the stiff integrator: Radau IIA (order 5, L-stable, stiffly accurate) with step doubling |
//! | [`protocol`] | thermal protocols (ramps, holds, cycles, truncated scans) and their trajectories |
//! | [`fit`] | the per-sample spectrum-fit format ([`fit::FieSpectrumFit`]), regression of W and m, the inverse strategy ([`fit::fit_line`]) |
//! | [`output`] | the versioned JSON documents (schemas in `schemas/fie-*.schema.json`) and CSV |
//! | [`plot`] | SVG figures after the paper's Figs. 3-5 |
//!
//! Units: E_IS in eV/atom, energies in eV, temperatures in K, times in s, rates in K/s, nu0 in
//! 1/s; k_B is [`crate::units::KB`].
//!
//! ```
//! use pelx::fie::model::{FieConfig, FieModel};
//! let cfg = FieConfig::from_toml(r#"
//!     [spectrum]
//!     e_a = 0.5
//!     s = 0.49
//!     e_r = 0.32
//!     w = { kind = "constant", value = 0.065 }
//!     m = { kind = "constant", value = 1.0 }
//!     m2 = false
//!     [rate]
//!     nu0 = 1e13
//!     [domain]
//!     e_is_min = -4.8
//!     e_is_max = -4.4
//!     t_min = 300.0
//!     t_max = 1600.0
//! "#).unwrap();
//! let model = FieModel::new(cfg).unwrap();
//! // The M1 term alone: Ebar_A = -k_B T ln(W k_B T/(k_B T + e_A)) (science.md §7).
//! let kt = pelx::units::KB * 760.0;
//! let closed = -kt * (0.065 * kt / (kt + 0.5)).ln();
//! assert!((model.ebar_a(-4.7, 760.0).unwrap() - closed).abs() < 1e-14);
//! ```

pub mod anchor;
pub mod equilibrium;
pub mod fit;
pub mod func;
pub mod model;
pub mod numeric;
pub mod ode;
pub mod output;
pub mod plot;
pub mod protocol;
pub mod quad;

#[cfg(test)]
pub(crate) mod schema_check;

pub use equilibrium::{AgeingMap, EquilibriumLine};
pub use fit::{FieSpectrumFit, SPECTRUM_FIT_SCHEMA};
pub use model::{FieConfig, FieModel};
pub use protocol::{ProtocolFile, Trajectory};
