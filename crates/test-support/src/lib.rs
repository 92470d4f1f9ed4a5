//! Helpers shared by this workspace's tests (a dev-dependency only; not part of any public API).

pub mod gradcheck;

use std::sync::{Mutex, MutexGuard};

use burn::tensor::{Device, Distribution, Tensor};

static SEED_LOCK: Mutex<()> = Mutex::new(());

/// Burn's RNG is process-global and `cargo test` runs tests in parallel: every test that seeds
/// and then draws random numbers holds this lock for its whole body.
pub fn seed_lock() -> MutexGuard<'static, ()> {
    SEED_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tensor's values on the host, as `f64`.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

/// A seeded uniform tensor in `[-1, 1)`; hold [`seed_lock`] around the call.
pub fn uniform<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    device.seed(seed);
    Tensor::<D>::random(shape, Distribution::Uniform(-1.0, 1.0), device)
}

/// Relative agreement `max|a−b| ≤ tol · max(1, max|b|)`, with a message naming what differs.
pub fn assert_close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tol: f64, what: &str) {
    assert_eq!(a.dims(), b.dims(), "{what}: shapes differ");
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
        .fold((0, 0.0), |m, (i, e)| if e > m.1 || e.is_nan() { (i, e) } else { m });
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

/// The CPU backends compiled in, by name: the devices every numeric test runs on. A build
/// without the `ndarray` feature says so on stderr once, and `NEURON_TEST_REQUIRE=ndarray`
/// turns that into a failure (so a CI run cannot pass having silently tested one backend).
pub fn cpu_devices() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut v = vec![("flex", Device::flex())];
    #[cfg(feature = "ndarray")]
    #[allow(deprecated)]
    v.push(("ndarray", Device::ndarray()));
    #[cfg(not(feature = "ndarray"))]
    {
        require_absent("ndarray");
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| eprintln!("test-support: ndarray not compiled in; CPU tests run on flex only"));
    }
    v
}

/// Panics if `NEURON_TEST_REQUIRE` (a comma-separated list of backends) names `backend`, which
/// this build or machine lacks: a demanded backend's tests must not pass by skipping.
pub fn require_absent(backend: &str) {
    if let Ok(list) = std::env::var("NEURON_TEST_REQUIRE")
        && list.split(',').any(|b| b.trim() == backend)
    {
        panic!("NEURON_TEST_REQUIRE names {backend}, which is not available here");
    }
}
