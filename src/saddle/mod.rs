//! Saddle searches: Lanczos lowest mode, ART nouveau, climbing-image NEB.

pub mod art;
pub mod campaign;
pub mod idpp;
pub mod lanczos;
pub mod neb;
