//! Residence-time kinetic Monte Carlo and diffusion correlation factors.
