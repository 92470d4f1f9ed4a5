//! The essay's brain estimate from the counted presets.

use neuron_convnet::brain::{Census, estimate, projection};

#[test]
fn the_essay_convention_gives_1_075e21() {
    let e = estimate(&Census::essay(), &[1.8, 3.0]).unwrap();
    let rel = (e.essay_total_flops_per_s - 1.075e21).abs() / 1.075e21;
    assert!(rel < 1e-9, "{} (relative error {rel})", e.essay_total_flops_per_s);
    assert_eq!(e.essay_flops_per_synapse_s, 1e8);
}

#[test]
fn the_counted_purkinje_window_is_the_dendrite_plus_the_soma() {
    let e = estimate(&Census::essay(), &[]).unwrap();
    let p = e.by_cell.iter().find(|r| r.cell == "purkinje").unwrap();
    // Dendrite 2·(100·1000·5 outputs)·(10·1000·5 taps); soma 2·5 taps·5 steps; the axon's
    // per-terminal scaling is elementwise (0 in torch's convention).
    assert_eq!(p.dendrite_flops_per_window, 2 * 500_000 * 50_000);
    assert_eq!(p.flops_per_window, 50_000_000_000 + 50);
    let g = e.by_cell.iter().find(|r| r.cell == "granule").unwrap();
    assert_eq!(g.flops_per_window, 2 * 80 * 60 + 50);
    // Per-cell: Purkinje ≈ 1.0e21, granule ≈ 1e17.
    assert!((p.flops_per_s - 1.0e21).abs() / 1.0e21 < 1e-6, "{}", p.flops_per_s);
    assert!(
        (g.flops_per_s - (9_650.0 * 200.0 * 5e10)).abs() < 1.0,
        "{}",
        g.flops_per_s
    );
}

#[test]
fn projection_years_match_the_essay() {
    let e = 1.075e21;
    assert_eq!(projection(e, 1.8).doublings, 21);
    assert_eq!(projection(e, 1.8).year, 2053);
    assert_eq!(projection(e, 3.0).year, 2078);
    assert_eq!(projection(e, 1.0).year, 2036);
    let est = estimate(&Census::essay(), &[]).unwrap();
    assert!((est.period_for_2037 - 22.0 / 21.0).abs() < 1e-12);
}

#[test]
fn overrides_move_the_totals_as_the_formula_says() {
    let base = estimate(&Census::essay(), &[]).unwrap();
    let mut census = Census::essay();
    census.cell_mut("purkinje").unwrap().count = 1.5e7;
    let fewer = estimate(&census, &[]).unwrap();
    let p = |e: &neuron_convnet::brain::Estimate| e.by_cell.iter().find(|r| r.cell == "purkinje").unwrap().flops_per_s;
    assert!((p(&fewer) / p(&base) - 0.15).abs() < 1e-12);
    // Essay convention: (1e8 × 1e5 × 1.5e7 + 1e8 × 15 × 5e10) per second.
    assert!((fewer.essay_total_flops_per_s - (1e8 * 1e5 * 1.5e7 + 1e8 * 15.0 * 5e10)).abs() / 1e20 < 1e-9);

    let mut census = Census::essay();
    census.cells.iter_mut().for_each(|c| c.windows_per_s = 100.0);
    let slower = estimate(&census, &[]).unwrap();
    assert!((slower.total_flops_per_s / base.total_flops_per_s - 0.5).abs() < 1e-12);
    // Per synapse halves, so the essay total halves too.
    assert!((slower.essay_total_flops_per_s / base.essay_total_flops_per_s - 0.5).abs() < 1e-12);
}

#[test]
fn bad_assumptions_are_rejected_with_a_message() {
    let mut census = Census::essay();
    census.cell_mut("granule").unwrap().count = -1.0;
    let e = estimate(&census, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "brain estimate: granule count must be a finite number ≥ 0, got -1"
    );
    let mut census = Census::essay();
    census.cell_mut("purkinje").unwrap().windows_per_s = 0.0;
    assert!(
        estimate(&census, &[])
            .unwrap_err()
            .to_string()
            .contains("purkinje windows per second must be a finite number > 0")
    );
    let mut census = Census::essay();
    census.cell_mut("purkinje").unwrap().synapses = f64::NAN;
    assert!(estimate(&census, &[]).is_err());
}

#[test]
fn kurzweil_memory_and_accelerators_follow_their_formulas() {
    let e = estimate(&Census::essay(), &[]).unwrap();
    assert_eq!(e.kurzweil_flops_per_s, 2e15, "1e13 synapses × 200 Hz");
    let bytes: f64 = e
        .by_cell
        .iter()
        .map(|r| r.bytes_per_window as f64 * r.windows_per_s * r.count)
        .sum();
    assert_eq!(e.bytes_per_s, bytes);
    // The Purkinje window moves at least its input, kernel and output once (4 bytes each).
    let p = e.by_cell.iter().find(|r| r.cell == "purkinje").unwrap();
    assert!(p.bytes_per_window >= 4 * (500_000 + 50_000 + 500_000));
    let h100 = &e.accelerators[0];
    assert_eq!(h100.name, "NVIDIA H100 SXM");
    assert_eq!(h100.by_flops, e.total_flops_per_s / 67e12);
    assert_eq!(h100.by_bandwidth, e.bytes_per_s / 3.35e12);
}

#[test]
fn the_fft_path_counts_the_dendrites_true_work() {
    use neuron_nn::DendriteAlgorithm;
    let mut census = Census::essay();
    census.dendrite_algorithm = DendriteAlgorithm::Fft;
    let e = estimate(&census, &[1.8]).unwrap();
    let p = e.by_cell.iter().find(|r| r.cell == "purkinje").unwrap();
    // tests/capture.rs derives the 145 338 500 by hand.
    assert_eq!(p.dendrite_flops_per_window, 145_338_500);
    assert_eq!(p.flops_per_window, 145_338_500 + 50);
    // The essay's convention: every synapse at the Purkinje cost per synapse.
    let per_synapse = 145_338_500.0 / 1e5 * 200.0;
    assert_eq!(e.essay_flops_per_synapse_s, per_synapse);
    let total = per_synapse * (1e5 * 1e8 + 15.0 * 5e10);
    assert!((e.essay_total_flops_per_s - total).abs() / total < 1e-12);
    // 1.075e21 / 3.1e18: the essay's estimate falls by the Purkinje dendrite's ratio.
    let direct = estimate(&Census::essay(), &[]).unwrap();
    let ratio = direct.essay_total_flops_per_s / e.essay_total_flops_per_s;
    assert!((ratio - 5e10 / 145_338_500.0).abs() < 1e-6 * ratio, "{ratio}");
}
