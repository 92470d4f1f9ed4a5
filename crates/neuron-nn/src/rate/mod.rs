//! The rate non-linearity: a membrane potential becomes an instantaneous firing rate.
//!
//! Essay, Part II ("estimating the cerebellar filter size"): "a non-linearity reduces these inputs
//! to one number per dendrite ... the instantaneous firing rate ... if the potential is too
//! negative no spike is produced (0 Hz); if it is positive enough, the spike size is usually
//! proportional to the potential". That is a rectifier, which is the default.

pub mod fused;

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
            // One op on flex (f32, f64), Burn's ops elsewhere and on the capture device.
            Self::Softplus if fused::fused_softplus_supported(&v) => fused::fused_softplus(v),
            Self::Softplus => softplus(v, 1.0),
            Self::Sigmoid => sigmoid(v),
            Self::Identity => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use test_support::{assert_close_values, values};

    #[test]
    fn the_fused_softplus_is_burns_forward_and_backward() {
        let device = Device::flex().autodiff();
        // Both sides of the threshold (20), large negatives, and zero.
        let xs: Vec<f32> = (-60..60).map(|i| i as f32 * 0.45).collect();
        let run = |fused: bool| {
            let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device).require_grad();
            let y = if fused {
                fused::fused_softplus(x.clone())
            } else {
                softplus(x.clone(), 1.0)
            };
            let g = (y.clone() * y.clone()).sum().backward();
            (values(y.inner()), values(x.grad(&g).unwrap()))
        };
        let ((y, dx), (want_y, want_dx)) = (run(true), run(false));
        assert_close_values(&y, &want_y, 1e-6, "softplus");
        assert_close_values(&dx, &want_dx, 1e-6, "its gradient");
        assert_eq!(
            RateFunction::Softplus
                .apply(Tensor::<1>::zeros([1], &Device::flex()))
                .into_scalar::<f32>(),
            2f32.ln()
        );
    }
}
