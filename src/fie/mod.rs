//! The Fan-Iwashita-Egami inherent-structure energy model (Nat. Commun. 8, 15417, 2017).
pub mod equilibrium;
pub mod fit;
pub mod func;
pub mod model;
pub mod numeric;
pub mod ode;
pub mod protocol;
pub mod quad;
