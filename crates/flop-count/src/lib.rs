//! Counts the operations of any Burn model from its captured op graph (see DESIGN.md,
//! "flop-count"). The counter itself lands with its own issue; the crate exists so the workspace
//! layout and its dependency direction (`flop-count` knows nothing of neurons) are fixed now.
