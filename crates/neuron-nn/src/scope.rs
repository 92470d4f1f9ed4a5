//! Names for the FLOP counter's rows. With the `flop-count` feature, [`scope`] marks the ops a
//! stage records on Burn's capture device with the stage's name (flop_count::scope); without
//! it, a user importing the layers does not compile the capture machinery, and it only runs `f`.

use burn::tensor::Device;

/// Runs `f`, naming its recorded ops `name` when counting.
#[cfg(feature = "flop-count")]
pub fn scope<R>(device: &Device, name: &str, f: impl FnOnce() -> R) -> R {
    flop_count::scope(device, name, f)
}

/// Runs `f` (this build counts nothing: the `flop-count` feature is off).
#[cfg(not(feature = "flop-count"))]
pub fn scope<R>(_device: &Device, _name: &str, f: impl FnOnce() -> R) -> R {
    f()
}

/// Runs `f`, whose recorded ops are arithmetic that replaces a matmul or a convolution (an FFT
/// convolution's spectral products): flop-count counts their elementwise ops under every
/// convention (flop_count::counted_scope).
#[cfg(feature = "flop-count")]
pub fn counted_scope<R>(device: &Device, name: &str, f: impl FnOnce() -> R) -> R {
    flop_count::counted_scope(device, name, f)
}

/// Runs `f` (this build counts nothing: the `flop-count` feature is off).
#[cfg(not(feature = "flop-count"))]
pub fn counted_scope<R>(_device: &Device, _name: &str, f: impl FnOnce() -> R) -> R {
    f()
}
