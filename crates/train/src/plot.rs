//! SVG output for every experiment's plots: plotters' SVG backend (it needs no system fonts),
//! rendered into a string and written atomically.

use std::path::Path;

use plotters::prelude::*;

/// A plotting error as an I/O error (what the callers report).
pub fn draw_err<E: std::error::Error>(e: E) -> std::io::Error {
    std::io::Error::other(format!("plotting: {e}"))
}

/// Renders with `draw` into an SVG string, then writes it to `path` atomically.
pub fn svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    crate::write_atomic(path, out.as_bytes())
}
