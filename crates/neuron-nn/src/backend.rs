//! Which Burn backend a device belongs to, for what differs between backends (the Fourier
//! transforms the FFT dendrite path needs, and the speeds its cost model assumes).

use burn::tensor::Device;
use burn_dispatch::DispatchDevice;

/// A device's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// burn-flex, the pure-Rust CPU backend.
    Flex,
    /// burn-ndarray (CPU; no Fourier transforms).
    NdArray,
    /// A cubecl GPU runtime (wgpu, Vulkan, CUDA...).
    Gpu,
    /// The capture device: records the op graph, executes nothing (FLOP counting).
    Capture,
    /// Any other (remote, libtorch, a backend this build does not name).
    Other,
}

impl Backend {
    /// The backend of `device` (an autodiff device answers for the device it wraps).
    pub fn of(device: &Device) -> Self {
        let inner = device.clone().inner();
        #[allow(unreachable_patterns)]
        match inner.as_dispatch() {
            #[cfg(feature = "flex")]
            DispatchDevice::Flex(_) => Self::Flex,
            #[cfg(feature = "ndarray")]
            DispatchDevice::NdArray(_) => Self::NdArray,
            #[cfg(feature = "wgpu")]
            DispatchDevice::Cube(_) => Self::Gpu,
            #[cfg(feature = "flop-count")]
            DispatchDevice::Capture(_) => Self::Capture,
            _ => Self::Other,
        }
    }

    /// Whether `burn::signal`'s Fourier transforms run here.
    pub fn has_fft(self) -> bool {
        matches!(self, Self::Flex | Self::Gpu | Self::Capture)
    }

    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::NdArray => "ndarray",
            Self::Gpu => "a GPU (cubecl)",
            Self::Capture => "the capture device",
            Self::Other => "this backend",
        }
    }
}
