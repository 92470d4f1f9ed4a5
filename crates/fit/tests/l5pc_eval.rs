//! `--eval` on Hay's cell: a saved neuron reads any trial of the cell by its section placement
//! (`syn_sec_kind`, `syn_sec_index`, `syn_x`), whatever the row order; a model that reads
//! synapses by raster row refuses a file whose rows are in another order.

use biophys::{Synapses, Trial};
use burn::tensor::Device;
use fit::grid::{GridLayout, GridRule};
use fit::{BranchElmConfig, DendriteStageConfig, LinearNonlinearConfig};
use fit::{DataConfig, FitModel, ModelConfig, ModelHeader, NeuronNetConfig, Normalisation};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fit-l5pc-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The same trial with its rows in another order (raster, synapses and placement together).
fn shuffled(t: &Trial) -> Trial {
    let n = t.synapses.len();
    let order: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect(); // 7 is prime to 1278
    let mut out = t.clone();
    out.synapses = Synapses {
        branch: order.iter().map(|&i| t.synapses.branch[i]).collect(),
        pos: order.iter().map(|&i| t.synapses.pos[i]).collect(),
        kind: order.iter().map(|&i| t.synapses.kind[i]).collect(),
    };
    out.placement = t.placement.as_ref().map(|p| order.iter().map(|&i| p[i]).collect());
    let ms = t.raster.ms;
    out.raster.bits = order
        .iter()
        .flat_map(|&i| t.raster.bits[i * ms..(i + 1) * ms].iter().copied())
        .collect();
    out
}

#[test]
fn a_saved_neuron_scores_an_l5pc_trial_in_any_row_order_and_a_baseline_refuses_it() {
    let device = Device::flex();
    let cell = biophys::preset("l5pc").unwrap();
    // A 1.5 s trial with spikes after the skipped 500 ms.
    let dir = temp("data");
    let (config, seed) = (1..=8)
        .find_map(|seed| {
            let config = DataConfig {
                train_seeds: vec![seed],
                valid_seeds: vec![],
                test_seeds: vec![],
                seconds: 1.5,
                ..DataConfig::neuronio(cell.clone(), &dir, 1)
            };
            let data = fit::load_or_simulate(&config, |_, _| {}).unwrap();
            data.train[0].spikes[500..].contains(&1).then_some((config, seed))
        })
        .expect("one of 8 trials spikes");
    let path = config.path(seed);
    let original = Trial::load_for(&path, &cell).unwrap();
    let moved = temp("moved").join("shuffled.npz");
    shuffled(&original).save(&moved).unwrap();

    let synapses = original.synapses.clone();
    let layout = GridLayout::of(&cell, GridRule::Stems, 3).unwrap();
    let neuron = ModelConfig::Neuron(
        NeuronNetConfig::new(1)
            .with_stages(vec![DendriteStageConfig::new(2, 4, 2)])
            .with_grid(layout),
    );
    let ln = ModelConfig::Ln(LinearNonlinearConfig::new(synapses.len()).with_kernel(8));
    // The published Branch-ELM, which reads rows by index as the baselines do.
    let elm = ModelConfig::Elm(BranchElmConfig::new(synapses.len()).with_units(4));
    let saved = temp("models");
    for (name, config) in [("neuron", &neuron), ("ln", &ln), ("elm", &elm)] {
        let header = ModelHeader {
            model: config.clone(),
            cell: "l5pc".into(),
            synapses: synapses.clone(),
            voltage: Normalisation { mean: -70.0, std: 3.0 },
            input_scale: 5.0,
        };
        let model: FitModel = config.init(&synapses, &device).unwrap();
        model.save(&header, saved.join(format!("{name}.model"))).unwrap();
    }

    let neuron_file = saved.join("neuron.model");
    let as_made = fit::evaluate_file(&neuron_file, &path, &device).unwrap();
    let reordered = fit::evaluate_file(&neuron_file, &moved, &device).unwrap();
    assert_eq!(as_made.header.cell, "l5pc");
    assert!(as_made.scores.spikes > 0);
    // Every row lands on the same grid site: the same prediction, up to the summation order.
    for (a, b) in [
        (as_made.scores.auc, reordered.scores.auc),
        (as_made.scores.voltage_rmse_mv, reordered.scores.voltage_rmse_mv),
    ] {
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{a} against {b}");
    }
    // A 1.5 s trial with few spikes is within NeuronIO's rule: its protocol scores it too.
    assert_eq!(as_made.scores.neuronio.map(|n| n.trials_kept), Some(1));

    // Several files are scored together, as the test set is.
    let both = fit::evaluate_files(&neuron_file, &[&path, &moved], &device).unwrap();
    assert_eq!((both.trials, both.ms), (2, 3000));
    assert_eq!(both.scores.bins, 2 * as_made.scores.bins);
    assert!(
        (both.scores.auc - as_made.scores.auc).abs() < 1e-4,
        "the same trial twice"
    );

    for family in ["ln", "elm"] {
        let file = saved.join(format!("{family}.model"));
        assert!(fit::evaluate_file(&file, &path, &device).is_ok(), "{family}");
        let e = fit::evaluate_file(&file, &moved, &device).unwrap_err().to_string();
        assert!(e.contains("placement differs"), "{family}: {e}");
    }
}
