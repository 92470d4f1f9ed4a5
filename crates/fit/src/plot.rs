//! SVG plots of a fit: spike AUC against FLOPs per ms (the Pareto plot), and predicted against
//! true voltage and spikes on a held-out stretch.

use std::path::Path;

use plotters::prelude::*;
use train::plot::{draw_err, svg};

use crate::data::{CLIP_MV, TrialData};
use crate::evaluate::Prediction;
use crate::model::Family;
use crate::report::FitResult;

const COLOURS: [RGBColor; 4] = [
    RGBColor(200, 40, 40),
    RGBColor(30, 90, 200),
    RGBColor(90, 90, 90),
    RGBColor(40, 150, 70),
];

/// One per model in the traces (the default run shows four).
const TRACE_COLOURS: [RGBColor; 6] = [
    RGBColor(230, 130, 20),
    RGBColor(200, 40, 40),
    RGBColor(30, 90, 200),
    RGBColor(90, 90, 90),
    RGBColor(40, 150, 70),
    RGBColor(140, 60, 170),
];

fn colour(family: Family) -> RGBColor {
    COLOURS[Family::ALL.iter().position(|f| *f == family).expect("a family")]
}

/// A published model's point, drawn apart from the measured ones: other data, other training,
/// its FLOPs computed by hand from the architecture (torch's convention), not counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// What it is and where it comes from.
    pub label: &'static str,
    /// Forward FLOPs per simulated ms, by hand (2 per multiply-add of its matmuls and convolutions).
    pub flops_per_ms: f64,
    /// Its reported spike AUC on its own test set.
    pub auc: f64,
}

impl Published {
    /// The published fits of NeuronIO's layer-5 pyramidal cell (NMDA): Beniaguev et al.'s 7-layer
    /// temporal convnet (7 × 128 filters of 35 ms on 1 278 inputs: 9.2 M weights) and the
    /// Branch-ELM with 20 memory units (`models/eval_results.csv`; 45 branches, MLP 65 → 40 → 20).
    pub const L5PC: [Published; 2] = [
        Published {
            label: "published: Beniaguev et al. 7-layer TCN (NeuronIO data; FLOPs by hand)",
            flops_per_ms: 1.83e7,
            auc: 0.991,
        },
        Published {
            label: "published: Branch-ELM, 20 units (NeuronIO data; FLOPs by hand)",
            flops_per_ms: 6.9e3,
            auc: 0.9922,
        },
    ];
}

/// Held-out spike AUC against forward FLOPs per simulated ms (log x): one series per family and
/// cell (NMDA solid circles, other cells hollow triangles), the simulator's own cost per cell as
/// a vertical line.
pub fn pareto(path: impl AsRef<Path>, results: &[FitResult], simulator: &[(String, f64)]) -> std::io::Result<()> {
    pareto_with(path, results, simulator, &[])
}

/// [`pareto`] with published points marked as such (black hollow squares, each in the legend).
pub fn pareto_with(
    path: impl AsRef<Path>,
    results: &[FitResult],
    simulator: &[(String, f64)],
    published: &[Published],
) -> std::io::Result<()> {
    if results.is_empty() {
        return Err(std::io::Error::other("plotting: no results to plot"));
    }
    let xs = results
        .iter()
        .map(|r| r.flops_per_ms)
        .chain(simulator.iter().map(|s| s.1))
        .chain(published.iter().map(|p| p.flops_per_ms));
    let (lo, hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let ymin = results
        .iter()
        .filter_map(|r| r.headline().map(|s| s.auc))
        .fold(1.0f64, f64::min)
        .min(0.9)
        - 0.01;
    let cells: Vec<String> = {
        let mut c: Vec<String> = results.iter().map(|r| r.cell.clone()).collect();
        c.dedup();
        c
    };
    svg(path.as_ref(), (900, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "held-out spike AUC against forward FLOPs per simulated ms",
                ("sans-serif", 22),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((lo / 3.0..hi * 3.0).log_scale(), ymin..1.0)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("FLOPs per simulated ms (log)")
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_desc("spike ROC AUC")
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()
            .map_err(draw_err)?;
        for (ci, cell) in cells.iter().enumerate() {
            for family in Family::ALL {
                let mut points: Vec<(f64, f64)> = results
                    .iter()
                    .filter(|r| &r.cell == cell && r.family == family)
                    .filter_map(|r| Some((r.flops_per_ms, r.headline()?.auc)))
                    .collect();
                if points.is_empty() {
                    continue;
                }
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                let c = colour(family);
                let style = if ci == 0 { c.stroke_width(2) } else { c.stroke_width(1) };
                chart
                    .draw_series(LineSeries::new(points.clone(), style))
                    .map_err(draw_err)?
                    .label(format!("{} ({cell})", family.title()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                if ci == 0 {
                    chart
                        .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
                        .map_err(draw_err)?;
                } else {
                    chart
                        .draw_series(points.iter().map(|&p| TriangleMarker::new(p, 5, c.stroke_width(1))))
                        .map_err(draw_err)?;
                }
            }
        }
        for p in published {
            let point = (p.flops_per_ms, p.auc);
            chart
                .draw_series([Rectangle::new(
                    [(point.0 / 1.12, point.1 - 0.002), (point.0 * 1.12, point.1 + 0.002)],
                    BLACK.stroke_width(2),
                )])
                .map_err(draw_err)?
                .label(p.label)
                .legend(|(x, y)| Rectangle::new([(x + 6, y - 4), (x + 14, y + 4)], BLACK.stroke_width(2)));
        }
        for (cell, f) in simulator {
            chart
                .draw_series(LineSeries::new([(*f, ymin), (*f, 1.0)], BLACK.stroke_width(1)))
                .map_err(draw_err)?
                .label(format!("simulator ({cell})"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)
    })
}

/// Voltage (clipped at −55 mV) and spike probability of each labelled model against the truth
/// on `[start, start + len)` ms of a held-out trial: voltage above, spike probability below with
/// the true spikes as ticks.
pub fn traces(
    path: impl AsRef<Path>,
    trial: &TrialData,
    predictions: &[(&str, &Prediction)],
    start: usize,
    len: usize,
) -> std::io::Result<()> {
    let end = (start + len).min(trial.ms());
    if end <= start {
        return Err(std::io::Error::other("plotting: empty stretch"));
    }
    let t = |i: usize| i as f64;
    svg(path.as_ref(), (1000, 640), |root| {
        let (upper, lower) = root.split_vertically(400);
        let clipped: Vec<f64> = trial.voltage[start..end].iter().map(|v| v.min(CLIP_MV)).collect();
        let vlo = clipped.iter().copied().fold(f64::MAX, f64::min) - 2.0;
        let mut chart = ChartBuilder::on(&upper)
            .caption(
                format!(
                    "held-out trial (seed {}): somatic voltage, clipped at {CLIP_MV} mV",
                    trial.seed
                ),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(t(start)..t(end), vlo..CLIP_MV + 2.0)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .y_desc("mV")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(LineSeries::new(
                clipped.iter().enumerate().map(|(i, v)| (t(start + i), *v)),
                BLACK.stroke_width(2),
            ))
            .map_err(draw_err)?
            .label("biophys")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        for (k, &(label, p)) in predictions.iter().enumerate() {
            let c = TRACE_COLOURS[k % TRACE_COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    (start..end).map(|i| (t(i), p.voltage[i].min(CLIP_MV))),
                    c.stroke_width(1),
                ))
                .map_err(draw_err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;

        let mut chart = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(t(start)..t(end), 0.0..1.05)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("ms")
            .y_desc("P(spike)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(draw_err)?;
        let spikes = (start..end).filter(|&i| trial.spikes[i] != 0);
        chart
            .draw_series(spikes.map(|i| PathElement::new(vec![(t(i), 0.0), (t(i), 1.05)], BLACK.stroke_width(1))))
            .map_err(draw_err)?;
        for (k, &(_, p)) in predictions.iter().enumerate() {
            let c = TRACE_COLOURS[k % TRACE_COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    (start..end).map(|i| (t(i), 1.0 / (1.0 + (-p.logit[i]).exp()))),
                    c.stroke_width(1),
                ))
                .map_err(draw_err)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Scores;
    use crate::sizes::Size;
    use biophys::{Raster, Synapses};

    fn result(cell: &str, family: Family, flops: f64, auc: f64) -> FitResult {
        let size = Size::defaults_for(family)[0];
        FitResult {
            cell: cell.into(),
            family,
            size,
            model: size.model(250, 4),
            params: 1,
            flops_per_ms: flops,
            all_ops_flops_per_ms: flops,
            reach_ms: 1,
            steps: 1,
            train_seconds: 1.0,
            dendrite_paths: Vec::new(),
            validation: None,
            scores: Some(Scores {
                auc,
                tpr_at_1pct_fpr: 0.1,
                voltage_rmse_mv: 2.0,
                voltage_explained_variance: 0.4,
                bins: 10,
                spikes: 1,
                neuronio: None,
            }),
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("fit-plot-{}-{name}", std::process::id()))
    }

    #[test]
    fn the_pareto_plot_names_every_family_cell_and_simulator_and_refuses_no_results() {
        let path = temp("pareto.svg");
        let results = vec![
            result("bs4", Family::Neuron, 4.8e4, 0.925),
            result("bs4", Family::Tcn, 5.8e5, 0.937),
            result("bs4-ampa", Family::Ln, 4.0e4, 0.93),
        ];
        pareto(&path, &results, &[("bs4".into(), 2.1e5)]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        for label in [
            "library neuron (bs4)",
            "temporal convnet (bs4)",
            "linear-nonlinear (bs4-ampa)",
            "simulator (bs4)",
        ] {
            assert!(svg.contains(label), "the legend lacks {label}");
        }
        std::fs::remove_file(&path).unwrap();
        // Published points are marked as such, inside the axes.
        pareto_with(&path, &results, &[], &Published::L5PC).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for p in Published::L5PC {
            assert!(svg.contains(p.label), "the legend lacks {}", p.label);
        }
        std::fs::remove_file(&path).unwrap();
        let e = pareto(&path, &[], &[]).unwrap_err().to_string();
        assert!(e.contains("no results to plot"), "{e}");
        assert!(!path.exists(), "nothing written on error");
    }

    #[test]
    fn traces_show_the_truth_and_each_model_and_refuse_an_empty_stretch() {
        let ms = 100;
        let trial = TrialData {
            seed: 3,
            synapses: Synapses::empty(),
            raster: Raster::zeros(0, ms),
            spikes: (0..ms).map(|t| (t % 40 == 7) as i8).collect(),
            voltage: (0..ms).map(|t| -70.0 + (t % 40) as f64).collect(),
        };
        let p = Prediction {
            logit: vec![0.0; ms],
            voltage: vec![-65.0; ms],
        };
        let path = temp("traces.svg");
        let labels = ["library neuron 4-1", "library neuron 4-4+m40", "linear-nonlinear k80"];
        traces(&path, &trial, &labels.map(|l| (l, &p)), 10, 50).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for label in ["held-out trial (seed 3)", "biophys"].iter().chain(&labels) {
            assert!(svg.contains(label), "the traces lack {label}");
        }
        std::fs::remove_file(&path).unwrap();
        let e = traces(&path, &trial, &[], ms, 50).unwrap_err().to_string();
        assert!(e.contains("empty stretch"), "{e}");
        assert!(!path.exists());
    }
}
