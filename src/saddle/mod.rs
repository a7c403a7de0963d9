//! Saddle searches: Lanczos lowest mode, ART nouveau, climbing-image NEB.

pub mod art;
pub mod campaign;
pub mod lanczos;
