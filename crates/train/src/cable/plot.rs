//! SVG plots of a cable run: the loss curves and the learned kernels against the analytic one.

use std::path::Path;

use plotters::prelude::*;

use super::learners::Learner;
use super::report::Report;
use crate::plot::{draw_err, svg};

const COLOURS: [RGBColor; 2] = [RGBColor(200, 40, 40), RGBColor(30, 90, 200)];

/// Both learners' training loss per step, log scale.
pub fn loss_curve(path: impl AsRef<Path>, losses: &[[f64; 2]]) -> std::io::Result<()> {
    let positive = losses.iter().flatten().copied().filter(|v| *v > 0.0 && v.is_finite());
    let (lo, hi) = positive.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return Err(std::io::Error::other("plotting: no positive finite loss to plot"));
    }
    svg(path.as_ref(), (800, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("training loss (MSE on interior cells)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..losses.len().max(2) as f64, (lo / 2.0..hi * 2.0).log_scale())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("step")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("loss")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(draw_err)?;
        for (learner, colour) in Learner::ALL.iter().zip(COLOURS) {
            let (i, name) = (learner.index(), learner.name());
            let points = losses.iter().enumerate().map(|(s, l)| (s as f64, l[i].max(lo)));
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)
    })
}

/// The analytic kernel and both learned kernels along the positions axis (through the centre
/// in 2-D), with the learned-minus-true error below.
pub fn kernels(path: impl AsRef<Path>, report: &Report) -> std::io::Result<()> {
    let [kp, kd] = report.kernel_shape;
    let half = (kp / 2) as f64;
    // Row-major [kp, kd]: the centre column is every kd-th tap from kd/2.
    let row = |taps: &[f64]| -> Vec<(f64, f64)> { (0..kp).map(|i| (i as f64 - half, taps[i * kd + kd / 2])).collect() };
    let truth = row(&report.kernel_true);
    let learned: Vec<Vec<(f64, f64)>> = report.learners.iter().map(|l| row(&l.kernel)).collect();
    let errors: Vec<Vec<(f64, f64)>> = learned
        .iter()
        .map(|l| l.iter().zip(&truth).map(|(a, b)| (a.0, a.1 - b.1)).collect())
        .collect();
    let top = truth
        .iter()
        .chain(learned.iter().flatten())
        .fold(0f64, |m, p| m.max(p.1.abs()));
    let err = errors.iter().flatten().fold(1e-12f64, |m, p| m.max(p.1.abs()));
    let axis = if kd > 1 { " (centre row of the 2-D kernel)" } else { "" };
    svg(path.as_ref(), (800, 700), |root| {
        let (upper, lower) = root.split_vertically(430);
        let mut chart = ChartBuilder::on(&upper)
            .caption(
                format!("{}-step propagator: learned vs analytic{axis}", report.k),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(-half - 0.5..half + 0.5, -0.05 * top..top * 1.1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("offset (cells)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("tap")
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new(truth.clone(), BLACK.stroke_width(1)))
            .map_err(draw_err)?
            .label("analytic (Euler^k)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        // Filled dots for the first learner, rings for the second: both stay visible on top of
        // each other (they agree to ~1e-7).
        for (i, ((learner, colour), points)) in Learner::ALL.iter().zip(COLOURS).zip(&learned).enumerate() {
            let name = learner.name();
            let style = move || {
                if i == 0 {
                    colour.filled()
                } else {
                    colour.stroke_width(2)
                }
            };
            let size = if i == 0 { 4 } else { 7 };
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, size, style())))
                .map_err(draw_err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), size, style()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;

        let mut chart = ChartBuilder::on(&lower)
            .caption("learned − analytic", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(70)
            .build_cartesian_2d(-half - 0.5..half + 0.5, -1.2 * err..1.2 * err)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("offset (cells)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .draw()
            .map_err(draw_err)?;
        for (colour, points) in COLOURS.iter().zip(&errors) {
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(1)))
                .map_err(draw_err)?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(draw_err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_plot_is_an_svg_naming_both_learners_and_empty_histories_are_errors() {
        let path = std::env::temp_dir().join(format!("train-plot-{}.svg", std::process::id()));
        let losses: Vec<[f64; 2]> = (0..50).map(|s| [1.0 / (1 + s) as f64, 2.0 / (1 + s) as f64]).collect();
        loss_curve(&path, &losses).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(
            Learner::ALL.iter().all(|l| svg.contains(l.name())),
            "legend names both learners"
        );
        std::fs::remove_file(&path).unwrap();
        let e = loss_curve(&path, &[[f64::NAN, 0.0]]).unwrap_err().to_string();
        assert!(e.contains("no positive finite loss"), "{e}");
        assert!(!path.exists(), "nothing written on error");
    }
}
