//! The cells by name, as `simulate_cell --preset` and the fit take them.

use crate::cell::CellConfig;
use crate::error::{BiophysError, Result};
use crate::l5pc;

/// Every preset's name: `bs4`, `bs4-ampa`, `l5pc`, `l5pc-ampa`.
pub const PRESETS: [&str; 4] = ["bs4", "bs4-ampa", "l5pc", "l5pc-ampa"];

/// A preset cell by name (one of [`PRESETS`]).
///
/// ```
/// let cell = biophys::preset("l5pc")?;
/// assert_eq!(biophys::Synapses::place(&cell).len(), 1278); // NeuronIO's 639 + 639 synapses
/// assert!(biophys::preset("l5").unwrap_err().to_string().contains("bs4, bs4-ampa, l5pc, l5pc-ampa"));
/// # Ok::<(), biophys::BiophysError>(())
/// ```
pub fn preset(name: &str) -> Result<CellConfig> {
    match name {
        "bs4" => Ok(CellConfig::bs4()),
        "bs4-ampa" => Ok(CellConfig::bs4_ampa_only()),
        "l5pc" => l5pc::cell(),
        "l5pc-ampa" => l5pc::cell_ampa(),
        _ => Err(BiophysError::Inputs(format!(
            "unknown preset `{name}`; presets: {}",
            PRESETS.join(", ")
        ))),
    }
}
