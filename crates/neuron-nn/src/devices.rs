//! Choosing a backend by name. `Device::default()` prefers wgpu whenever it is compiled in, even
//! on a machine without a GPU, so the examples and tests always name their device.

use burn::tensor::Device;

/// The backends compiled into this build, by name: `flex` always, `ndarray` and `wgpu` with
/// their cargo features.
pub fn available() -> Vec<&'static str> {
    let mut names = vec!["flex"];
    if cfg!(feature = "ndarray") {
        names.push("ndarray");
    }
    if cfg!(feature = "wgpu") {
        names.push("wgpu");
    }
    names
}

/// A device by backend name (`flex`, `ndarray`, `wgpu`), or an error listing what is available.
pub fn by_name(name: &str) -> Result<Device, String> {
    match name {
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        "ndarray" => Ok(ndarray()),
        #[cfg(feature = "wgpu")]
        "wgpu" => wgpu(),
        other => Err(format!(
            "unknown or not compiled-in device `{other}`; this build has: {} (ndarray and wgpu are cargo features)",
            available().join(", ")
        )),
    }
}

/// The ndarray backend: deprecated in Burn 0.22, still supported, and asked for by users.
#[cfg(feature = "ndarray")]
#[allow(deprecated)]
pub fn ndarray() -> Device {
    Device::ndarray()
}

/// The default wgpu adapter, probed first: `Device::wgpu(..)` is lazy and panics on first use
/// when no adapter exists.
#[cfg(feature = "wgpu")]
pub fn wgpu() -> Result<Device, String> {
    Device::wgpu_options()
        .init()
        .map_err(|e| format!("no wgpu adapter available: {e:?}"))
}

/// The CPU backends compiled in, by name: the devices every numeric test runs on.
pub fn cpu() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut v = vec![("flex", Device::flex())];
    #[cfg(feature = "ndarray")]
    v.push(("ndarray", ndarray()));
    v
}
