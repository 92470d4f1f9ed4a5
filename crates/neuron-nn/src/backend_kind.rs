//! Which Burn backend a device belongs to, for what differs between backends: which dendrite
//! paths run there (the Fourier transforms, flex's fused loop) and which machine's costs the
//! dendrite plan measures.

use burn::tensor::{DType, Device};
use burn_dispatch::DispatchDevice;

/// The kind of backend behind a [`Device`] (not Burn's `Backend` trait: a plain tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
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

impl BackendKind {
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

    /// Whether `burn::signal`'s Fourier transforms run here (the capture device records them).
    pub fn has_fft(self) -> bool {
        matches!(self, Self::Flex | Self::Gpu | Self::Capture)
    }

    /// Whether the fused dendrite loop runs here on tensors of `dtype`: flex's f32 and f64.
    /// The capture device does not run it, but records the same convolution (the plan says so).
    pub fn has_fused_loop(self, dtype: DType) -> bool {
        self == Self::Flex && matches!(dtype, DType::F32 | DType::F64)
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
