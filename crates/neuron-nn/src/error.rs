//! Typed errors shared by every stage: invalid configurations and wrong input shapes.

/// A configuration that cannot build a working module.
///
/// Every stage's `validate()` returns this; `init` panics with its message, so a bad config never
/// reaches Burn's own (less specific) checks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A size that must be at least one was zero.
    #[error("{module}: `{field}` must be at least 1, got 0")]
    Zero {
        /// Stage that rejected the config.
        module: &'static str,
        /// Offending field.
        field: &'static str,
    },
    /// A number was NaN or infinite.
    #[error("{module}: `{field}` must be a finite number, got {value}")]
    NotFinite {
        /// Stage that rejected the config.
        module: &'static str,
        /// Offending field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number lies outside its valid range.
    #[error("{module}: `{field}` must be {expected}, got {value}")]
    OutOfRange {
        /// Stage that rejected the config.
        module: &'static str,
        /// Offending field.
        field: &'static str,
        /// The valid range, in words.
        expected: String,
        /// The value given.
        value: f64,
    },
    /// Fields that are valid alone but inconsistent together.
    #[error("{module}: {message}")]
    Inconsistent {
        /// Stage that rejected the config.
        module: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A stage of a cell type rejected its config (the structure is kept: match on `source`).
    #[error("{cell} > {stage}: {source}")]
    InStage {
        /// The cell type's name.
        cell: String,
        /// The stage's field in [`crate::NeuronConfig`] (`dendrites`, `soma`).
        stage: &'static str,
        /// What the stage said.
        #[source]
        source: Box<ConfigError>,
    },
}

/// An input whose shape does not match what the module was built for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{module}: expected input of shape {expected}, got {got:?}")]
pub struct ShapeError {
    /// Stage (or cell) that rejected the input.
    pub module: String,
    /// The expected shape, in words (`[batch, 16, time]`).
    pub expected: String,
    /// The shape that came.
    pub got: Vec<usize>,
}

impl ShapeError {
    /// A shape error for `module`.
    pub fn new(module: impl Into<String>, expected: impl Into<String>, got: &[usize]) -> Self {
        Self {
            module: module.into(),
            expected: expected.into(),
            got: got.to_vec(),
        }
    }

    /// The same error, reported by an enclosing module (a cell names the stage that failed).
    pub fn within(mut self, outer: &str) -> Self {
        self.module = format!("{outer} > {}", self.module);
        self
    }
}

/// `Ok` when `v ≥ 1`, else [`ConfigError::Zero`] naming `module` and `field`.
pub fn check_nonzero(module: &'static str, field: &'static str, v: usize) -> Result<(), ConfigError> {
    if v == 0 {
        Err(ConfigError::Zero { module, field })
    } else {
        Ok(())
    }
}

/// `Ok` when `v` is finite, else [`ConfigError::NotFinite`].
pub fn check_finite(module: &'static str, field: &'static str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ConfigError::NotFinite {
            module,
            field,
            value: v,
        })
    }
}

/// `Ok` when `v` is finite and strictly positive, else the error naming `module` and `field`.
pub fn check_positive(module: &'static str, field: &'static str, v: f64) -> Result<(), ConfigError> {
    check_finite(module, field, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            module,
            field,
            expected: "greater than 0".into(),
            value: v,
        })
    }
}

/// Unwraps a `validate()` result inside `init`, where Burn's convention is to panic.
pub(crate) fn expect_valid(r: Result<(), ConfigError>) {
    if let Err(e) = r {
        panic!("invalid config: {e}");
    }
}

/// Unwraps a `try_forward` result inside `forward`.
pub(crate) fn expect_shape<T>(r: Result<T, ShapeError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}
