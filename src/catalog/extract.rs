//! Rebuilding the structures of an event from its sparse displacements.

use super::{Displacement, Event};
use crate::structure::Structure;
use crate::{Error, Result};

/// The three configurations of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventStructures {
    pub initial: Structure,
    pub saddle: Structure,
    pub final_minimum: Structure,
}

/// The saddle and final minimum of `ev`: the initial minimum plus the recorded displacements
/// (atoms absent from a sparse list moved less than the catalog's storage cutoff and keep
/// their initial positions).
pub fn rebuild(initial: &Structure, ev: &Event) -> Result<EventStructures> {
    let apply = |d: &[Displacement], what: &str| -> Result<Structure> {
        let mut s = initial.clone();
        for (i, v) in d {
            let p = s.positions.get_mut(*i as usize).ok_or_else(|| {
                Error::invalid(format!(
                    "event {}: {what} displacement of atom {i}, but the structure has {} atoms",
                    ev.task,
                    initial.len()
                ))
            })?;
            for k in 0..3 {
                p[k] += v[k];
            }
        }
        Ok(s)
    };
    Ok(EventStructures {
        initial: initial.clone(),
        saddle: apply(&ev.saddle_displacements, "saddle")?,
        final_minimum: apply(&ev.final_displacements, "final")?,
    })
}
