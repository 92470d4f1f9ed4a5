//! Finite-difference gradient checks in f64: autodiff's gradient of a scalar function of flat
//! arguments against central differences, on every CPU backend.
//!
//! A test binary that uses them must keep to f64 ([`f64_devices`] configures the default float
//! type once per process): give the checks their own `tests/*.rs` file.

use burn::tensor::{Device, FloatDType, Tensor, TensorData};

/// The CPU devices, their default float type set to f64 (plain and autodiff).
pub fn f64_devices() -> Vec<(&'static str, Device)> {
    crate::cpu_devices()
        .into_iter()
        .map(|(name, mut d)| {
            // Several tests share the process: only the first configure succeeds, which is fine.
            let _ = d.configure(FloatDType::F64);
            let mut ad = d.clone().autodiff();
            let _ = ad.configure(FloatDType::F64);
            (name, d)
        })
        .collect()
}

/// A deterministic pseudo-random vector in (-1, 1) (no RNG: no lock needed).
pub fn data(n: usize, salt: u64) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let z = (i + 1)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
            ((z >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// A flat tensor of `v` on `device`.
pub fn flat(v: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), device)
}

/// Checks autodiff's gradient of the scalar `f(args)` against central differences, per argument.
pub fn check(name: &str, args: Vec<Vec<f64>>, f: impl Fn(&[Tensor<1>]) -> Tensor<1>) {
    check_with(name, args, f, false)
}

/// burn-ndarray 0.22.1 evaluates `sigmoid` in f32 precision even on f64 tensors (its values
/// differ from the exact ones by ~1e-8; flex's agree to 1e-16), which swamps a 1e-6 step.
/// Stages through a sigmoid use a 1e-3 step and a 1e-4 tolerance there.
pub fn check_with(name: &str, args: Vec<Vec<f64>>, f: impl Fn(&[Tensor<1>]) -> Tensor<1>, uses_sigmoid: bool) {
    let devices = f64_devices();
    let steps = devices
        .into_iter()
        .map(|(n, d)| {
            let step = if uses_sigmoid && n == "ndarray" {
                (1e-3, 1e-4)
            } else {
                (1e-6, 1e-6)
            };
            (n, d, step)
        })
        .collect();
    check_on(name, args, f, steps)
}

/// [`check`] on the given devices, each with its finite-difference step and tolerance.
pub fn check_on(
    name: &str,
    args: Vec<Vec<f64>>,
    f: impl Fn(&[Tensor<1>]) -> Tensor<1>,
    devices: Vec<(&'static str, Device, (f64, f64))>,
) {
    for (dev_name, device, (h, tol)) in devices {
        let ad = device.clone().autodiff();
        let tensors: Vec<Tensor<1>> = args.iter().map(|a| flat(a, &ad).require_grad()).collect();
        assert_eq!(tensors[0].dtype(), burn::tensor::DType::F64, "gradient checks need f64");
        let grads = f(&tensors).backward();
        let eval = |args: &[Vec<f64>]| {
            let t: Vec<Tensor<1>> = args.iter().map(|a| flat(a, &device)).collect();
            f(&t).into_scalar::<f64>()
        };
        for (a, t) in tensors.iter().enumerate() {
            let analytic: Vec<f64> = t
                .grad(&grads)
                .unwrap_or_else(|| panic!("{name}: no gradient for argument {a}"))
                .into_data()
                .iter::<f64>()
                .collect();
            for i in 0..args[a].len() {
                let mut plus = args.clone();
                plus[a][i] += h;
                let mut minus = args.clone();
                minus[a][i] -= h;
                let numeric = (eval(&plus) - eval(&minus)) / (2.0 * h);
                let err = (numeric - analytic[i]).abs();
                assert!(
                    err <= tol * (1.0 + numeric.abs()),
                    "{dev_name} {name}: ∂/∂arg{a}[{i}] autodiff {} vs finite difference {numeric}",
                    analytic[i]
                );
            }
        }
    }
}

/// Projects an output onto fixed weights so the loss depends on every element differently.
pub fn project<const D: usize>(y: Tensor<D>, salt: u64) -> Tensor<1> {
    let n = y.shape().num_elements();
    let w = flat(&data(n, salt), &y.device());
    (y.reshape([n]) * w).sum()
}
