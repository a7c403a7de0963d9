//! Barrier statistics from event catalogs.
pub mod special;
pub mod spectrum;
pub mod fit;
pub mod catalogs;
