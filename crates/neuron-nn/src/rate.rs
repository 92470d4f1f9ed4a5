//! The rate non-linearity: a membrane potential becomes an instantaneous firing rate.
//!
//! Essay, Part II ("estimating the cerebellar filter size"): "a non-linearity reduces these inputs
//! to one number per dendrite ... the instantaneous firing rate ... if the potential is too
//! negative no spike is produced (0 Hz); if it is positive enough, the spike size is usually
//! proportional to the potential". That is a rectifier, which is the default.

use burn::config::Config;
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, sigmoid, softplus};

/// Which function turns a potential into a rate. Rates are non-negative for all but `Identity`.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum RateFunction {
    /// `max(0, v)`: the essay's choice ("very similar to the rectified linear function").
    Relu,
    /// `ln(1 + e^v)`: a smooth rectifier, useful where gradients must not vanish at 0.
    Softplus,
    /// `σ(v)`: a saturating rate (normalised to the maximum rate).
    Sigmoid,
    /// No non-linearity: the potential itself (for linear analyses and tests).
    Identity,
}

impl RateFunction {
    /// Applies the function elementwise.
    pub fn apply<const D: usize>(self, v: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Relu => relu(v),
            Self::Softplus => softplus(v, 1.0),
            Self::Sigmoid => sigmoid(v),
            Self::Identity => v,
        }
    }
}
