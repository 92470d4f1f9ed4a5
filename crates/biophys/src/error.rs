//! Errors that name what was wrong: which section, which field, which file and array.

use std::path::PathBuf;

/// Everything `biophys` can reject.
#[derive(Debug, thiserror::Error)]
pub enum BiophysError {
    /// A number outside its valid range (non-positive sizes, NaN, a dt that is too large).
    #[error("{what}: `{field}` must be {expected}, got {value}")]
    Invalid {
        /// The object (`section 2 (basal1)`, `receptor ampa`, `simulation`).
        what: String,
        /// The field.
        field: &'static str,
        /// The valid range, in words.
        expected: &'static str,
        /// The value given.
        value: f64,
    },
    /// A morphology whose sections do not form one tree rooted at the soma.
    #[error("morphology: {0}")]
    Morphology(String),
    /// Synapse sites or an input raster that do not fit the cell or each other.
    #[error("inputs: {0}")]
    Inputs(String),
    /// A file that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file whose contents are not what was expected (missing array, wrong type or shape,
    /// malformed SWC line, bad JSON).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, BiophysError>;

/// `Ok` when `v` is finite and `> 0`.
pub(crate) fn positive(what: impl Fn() -> String, field: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(BiophysError::Invalid {
            what: what(),
            field,
            expected: "a finite number > 0",
            value: v,
        })
    }
}

/// `Ok` when `v` is finite.
pub(crate) fn finite(what: impl Fn() -> String, field: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(BiophysError::Invalid {
            what: what(),
            field,
            expected: "a finite number",
            value: v,
        })
    }
}

/// `Ok` when `v` is finite and `≥ 0`.
pub(crate) fn non_negative(what: impl Fn() -> String, field: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(BiophysError::Invalid {
            what: what(),
            field,
            expected: "a finite number ≥ 0",
            value: v,
        })
    }
}
