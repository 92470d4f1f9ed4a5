//! The cable experiment: backprop learns the diffusion kernels that brain simulators integrate
//! with Euler steps. A forward-Euler [`physics`] simulator generates [`data`]; two [`learners`]
//! (a plain convolution and `neuron_nn::Dendrites`) learn the `k`-step kernel on the training
//! loop ([`session`]); a [`report`] reads D and τ back from what they learned; [`plot`] draws it.

pub mod data;
pub mod learners;
pub mod physics;
pub mod plot;
pub mod report;
pub mod session;

pub use learners::{Learner, Learners};
pub use physics::{CableConfig, Kernel, Physics, propagator};
pub use report::{LearnerReport, Report, evaluate};
pub use session::{Progress, Session, TrainConfig, TrainError};
