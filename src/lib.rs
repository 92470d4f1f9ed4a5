#![doc = include_str!("../README.md")]
//!
//! This root package re-exports the workspace's crates and owns the examples and cross-crate
//! tests: [`neuron_nn`] (the stages as Burn modules), [`flop_count`] (operation counting) and
//! [`train`] (diffusion kernels learned by backprop).

pub mod brain;

pub use flop_count;
pub use neuron_nn;
pub use train;
