//! The Fan-Iwashita-Egami inherent-structure energy model (Nat. Commun. 8, 15417, 2017).
