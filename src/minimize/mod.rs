//! Minimizers: FIRE and the argmin-backed L-BFGS and CG.
