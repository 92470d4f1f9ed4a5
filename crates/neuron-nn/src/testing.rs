//! Helpers for this workspace's tests (not part of the public API).

use std::sync::{Mutex, MutexGuard};

static SEED_LOCK: Mutex<()> = Mutex::new(());

/// Burn's RNG is process-global and `cargo test` runs tests in parallel: every test that seeds
/// and then draws random numbers holds this lock for its whole body.
pub fn seed_lock() -> MutexGuard<'static, ()> {
    SEED_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tensor's values on the host, as `f64`.
pub fn values<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

/// A seeded uniform tensor in `[-1, 1)`; hold [`seed_lock`] around the call.
pub fn uniform<const D: usize>(shape: [usize; D], seed: u64, device: &burn::tensor::Device) -> burn::tensor::Tensor<D> {
    device.seed(seed);
    burn::tensor::Tensor::<D>::random(shape, burn::tensor::Distribution::Uniform(-1.0, 1.0), device)
}

/// Relative agreement `max|a−b| ≤ tol · max(1, max|b|)`, with a message naming what differs.
pub fn assert_close<const D: usize>(a: burn::tensor::Tensor<D>, b: burn::tensor::Tensor<D>, tol: f64, what: &str) {
    assert_close_values(&values(a), &values(b), tol, what)
}

/// [`assert_close`] on host values (from tensors on different devices, say).
pub fn assert_close_values(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: sizes differ");
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let (i, err) = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .enumerate()
        .fold((0, 0.0), |m, (i, e)| if e > m.1 { (i, e) } else { m });
    assert!(
        err <= tol * scale,
        "{what}: max |a−b| = {err:e} at {i} (a = {}, b = {}), tolerance {:e}",
        a[i],
        b[i],
        tol * scale
    );
}

/// Pearson's chi-square statistic of observed counts against expected probabilities.
pub fn chi_square(observed: &[usize], probabilities: &[f64]) -> f64 {
    let n: usize = observed.iter().sum();
    observed
        .iter()
        .zip(probabilities)
        .map(|(&o, &p)| {
            let e = p * n as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}
