//! Whole neurons, the essay's presets, and populations.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Gradients;
use burn::tensor::{Device, Distribution, Tensor};
use neuron_nn::*;
use test_support::{assert_close, cpu_devices, seed_lock, values};

/// A small cell that exercises every mode a preset does not: dense synapses, two channels,
/// a wide (expanded-path) dendrite kernel, dendrite bias, bistable summation, smooth rates,
/// a soma with after-spike currents.
fn small_cell() -> NeuronConfig {
    NeuronConfig::new(
        "test cell".into(),
        SynapsesConfig::new(3, 2 * 3 * 8),
        DendritesConfig::new(3, 8, [2, 8, 3])
            .with_channels(2)
            .with_out_channels(2)
            .with_bias(true),
        DendriticSpikeConfig::new().with_window(Some(2)),
        SummationConfig::new()
            .with_mode(SummationMode::Bistable {
                threshold: 1.0,
                strength: 0.3,
                width: 1.0,
            })
            .with_rate(RateFunction::Softplus),
        SomaConfig::new()
            .with_rate(RateFunction::Softplus)
            .with_after_spike_taus(vec![2.0, 6.0]),
        PoissonDropoutConfig::new(),
        PoissonSpikesConfig::new(),
        AxonConfig::new(4),
    )
}

/// The granule cell with sub- or superlinear summation and smooth rates.
fn granule_with(mode: SummationMode) -> NeuronConfig {
    NeuronConfig {
        summation: SummationConfig::new().with_mode(mode).with_rate(RateFunction::Softplus),
        soma: SomaConfig::new().with_rate(RateFunction::Softplus),
        ..NeuronConfig::granule()
    }
}

/// Gives every neuron distinct spike and summation scalars (the initialisers make them equal),
/// so a population that routed one neuron's scalar to another would differ from its members.
fn distinct_scalars(mut p: Population) -> Population {
    let n = p.len();
    let device = p.device();
    let ramp = |lo: f32, step: f32| {
        Param::from_tensor(Tensor::<1>::from_floats(
            (0..n).map(|i| lo + step * i as f32).collect::<Vec<_>>().as_slice(),
            &device,
        ))
    };
    p.spike.gain = ramp(0.2, 0.15);
    p.spike.threshold = ramp(-0.3, 0.1);
    if p.summation.log_scale.is_some() {
        p.summation.log_scale = Some(ramp(-0.5, 0.4));
    }
    if p.summation.threshold.is_some() {
        p.summation.threshold = Some(ramp(0.5, 0.3));
        p.summation.strength = Some(ramp(0.1, 0.15));
    }
    if let Some(w) = &p.soma.after_spike {
        let currents = w.dims()[1];
        let amplitudes: Vec<f32> = (0..n * currents).map(|i| -1.5 + 0.4 * i as f32).collect();
        p.soma.after_spike = Some(Param::from_tensor(
            Tensor::<1>::from_floats(amplitudes.as_slice(), &device).reshape([n, currents]),
        ));
    }
    p
}

#[test]
fn presets_have_the_documented_sizes_and_parameter_counts() {
    let device = Device::flex();
    // By hand: synapse gains + dendrite kernel + spike (gain, threshold) + summation + soma (5 + bias) + axon.
    let cases = [
        (NeuronConfig::granule(), 4, 16, 100, 16 + 3 * 4 * 5 + 2 + 6 + 100),
        (
            NeuronConfig::purkinje(),
            100_000,
            100_000,
            1000,
            100_000 + 10 * 1000 * 5 + 2 + 6 + 1000,
        ),
        (
            NeuronConfig::pyramidal(),
            10_000,
            10_000,
            1000,
            10_000 + 5 * 10 * 5 + 2 + 2 + 6 + 1000,
        ),
    ];
    for (config, inputs, sites, terminals, params) in cases {
        assert_eq!(
            (config.synapses.inputs, config.synapses.sites, config.axon.terminals),
            (inputs, sites, terminals)
        );
        assert_eq!(config.dendrites.sites(), sites, "{}", config.name);
        assert_eq!(config.num_params(), params, "{}: config count", config.name);
        assert_eq!(
            config.init(&device).num_params(),
            params,
            "{}: module count",
            config.name
        );
        let population = PopulationConfig::new(config.clone(), 3);
        assert_eq!(population.num_params(), 3 * params);
        assert_eq!(population.init(&device).num_params(), 3 * params, "{}", config.name);
        let json = serde_json::to_string(&config).unwrap();
        let back: NeuronConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            json,
            "{}: JSON round trip",
            config.name
        );
    }
    assert_eq!(NeuronConfig::granule().dendrites.kernel, [3, 4, 5]);
    assert_eq!(NeuronConfig::purkinje().dendrites.kernel, [10, 1000, 5]);
    assert_eq!(
        NeuronConfig::purkinje()
            .init(&device)
            .dendrites
            .plan(1, 5, &device)
            .algorithm,
        DendriteAlgorithm::Fft
    );
}

#[test]
fn a_population_equals_its_neurons_run_one_by_one() {
    let _lock = seed_lock();
    for (name, device) in cpu_devices() {
        for config in [
            NeuronConfig::granule(),
            small_cell(),
            granule_with(SummationMode::Sublinear { scale: 2.0 }),
            granule_with(SummationMode::Superlinear { scale: 2.0 }),
        ] {
            device.seed(5);
            let population = distinct_scalars(PopulationConfig::new(config.clone(), 5).init(&device));
            let (inputs, terminals) = (config.synapses.inputs, config.axon.terminals);
            let what = |how: &str| format!("{name} {} ({:?}): {how}", config.name, config.summation.mode);
            // Every neuron on the same input.
            let x = Tensor::<3>::random([2, inputs, 7], Distribution::Default, &device);
            let y = population.forward(x.clone());
            assert_eq!(y.dims(), [2, 5 * terminals, 7]);
            let each: Vec<Tensor<3>> = (0..5).map(|i| population.neuron(i).forward(x.clone())).collect();
            assert_close(y, Tensor::cat(each, 1), 1e-5, &what("shared input"));

            // Each neuron on its own input block.
            let xs = Tensor::<3>::random([2, 5 * inputs, 7], Distribution::Default, &device);
            let y = population.forward(xs.clone());
            let each: Vec<Tensor<3>> = (0..5)
                .map(|i| population.neuron(i).forward(xs.clone().narrow(1, i * inputs, inputs)))
                .collect();
            assert_close(y, Tensor::cat(each, 1), 1e-5, &what("per-neuron input"));

            // And back, in another order: neurons → population → the outputs in that order.
            let order = [3, 0, 4, 1, 2];
            let neurons: Vec<Neuron> = order.iter().map(|&i| population.neuron(i)).collect();
            let again = Population::from_neurons(&neurons);
            let y = values(again.forward(x.clone()));
            let want = values(population.forward(x.clone()));
            for (k, &i) in order.iter().enumerate() {
                for b in 0..2 {
                    let row = |n: usize| b * 5 * terminals * 7 + n * terminals * 7;
                    assert_eq!(
                        y[row(k)..row(k) + terminals * 7],
                        want[row(i)..row(i) + terminals * 7],
                        "{}: neuron {k} of the joined population is neuron {i}",
                        what("from_neurons order")
                    );
                }
            }
            // Joining populations: sizes add up.
            let two = Population::from_neurons(&[population.neuron(0), again.clone()]);
            assert_eq!(two.len(), 6);
        }
    }
}

#[test]
fn populations_of_different_cell_types_do_not_join() {
    let device = Device::flex();
    let a = NeuronConfig::granule().init(&device);
    let b = small_cell().init(&device);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Population::from_neurons(&[a, b])));
    let msg = r.unwrap_err().downcast_ref::<String>().cloned().unwrap();
    assert!(msg.contains("part 1 is a test cell cell, part 0 a granule"), "{msg}");
}

struct AllGrads<'a> {
    grads: &'a Gradients,
    missing: Vec<String>,
    seen: usize,
}

impl ModuleVisitor for AllGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.seen += 1;
        match param.val().grad(self.grads) {
            Some(g) if values(g.clone().abs().sum())[0] > 0.0 => {}
            _ => self.missing.push(format!("{:?} {:?}", param.id, param.dims())),
        }
    }
}

#[test]
fn gradients_reach_every_parameter_of_a_neuron() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    for config in [small_cell(), granule_with(SummationMode::Sublinear { scale: 3.0 })] {
        device.seed(9);
        let neuron = config.init(&device);
        let x = Tensor::<3>::random([4, config.synapses.inputs, 9], Distribution::Default, &device);
        let grads = neuron.forward(x).sum().backward();
        let mut v = AllGrads {
            grads: &grads,
            missing: vec![],
            seen: 0,
        };
        neuron.visit(&mut v);
        assert!(v.seen >= 8, "{}: visited only {} parameters", config.name, v.seen);
        assert!(v.missing.is_empty(), "{}: no gradient for {:?}", config.name, v.missing);
    }
}

#[test]
fn a_population_trains_on_an_autodiff_device() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    device.seed(12);
    let config = small_cell();
    let population = PopulationConfig::new(config.clone(), 3).init(&device);
    let x = Tensor::<3>::random([2, 3, 6], Distribution::Default, &device);
    let grads = population.forward(x).sum().backward();
    let mut v = AllGrads {
        grads: &grads,
        missing: vec![],
        seen: 0,
    };
    population.visit(&mut v);
    assert!(
        v.seen >= 10 && v.missing.is_empty(),
        "visited {}, no gradient for {:?}",
        v.seen,
        v.missing
    );
    // And a neuron taken out of it is trainable on its own.
    let one = population.neuron(1);
    let grads = one
        .forward(Tensor::<3>::random([2, 3, 6], Distribution::Default, &device))
        .sum()
        .backward();
    assert!(one.dendrites.weight.val().grad(&grads).is_some());
}

#[test]
fn evaluation_turns_poisson_dropout_and_spikes_off() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    device.seed(10);
    let config = small_cell();
    let neuron = config.init(&device);
    let x = Tensor::<3>::random([3, 3, 12], Distribution::Default, &device);
    let eval = neuron.valid();
    let (a, b) = (
        values(eval.forward(x.clone().inner())),
        values(eval.forward(x.clone().inner())),
    );
    assert_eq!(a, b, "evaluation is deterministic");
    // Training samples: two draws differ, and blocked steps are exact zeros at the axon.
    let (t1, t2) = (values(neuron.forward(x.clone())), values(neuron.forward(x)));
    assert_ne!(t1, t2, "training samples");
    assert!(t1.contains(&0.0), "some steps blocked");
    assert!(
        a.iter().all(|v| *v > 0.0),
        "evaluation outputs expected counts of a softplus rate (> 0)"
    );
}

#[test]
fn bad_input_names_the_cell() {
    let device = Device::flex();
    let neuron = NeuronConfig::granule().init(&device);
    let e = neuron.try_forward(Tensor::<3>::zeros([1, 5, 5], &device)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "granule > Synapses: expected input of shape [batch, 4, time], got [1, 5, 5]"
    );
    let population = PopulationConfig::new(NeuronConfig::granule(), 3).init(&device);
    let e = population
        .try_forward(Tensor::<3>::zeros([1, 5, 5], &device))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "granule population > Synapses: expected input of shape [batch, 4 (shared), time] or [batch, 12 (3 neurons × 4), time], got [1, 5, 5]"
    );
}

#[test]
fn config_errors_keep_their_structure() {
    let mut bad = NeuronConfig::granule();
    bad.dendrites.positions = 3;
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("granule: synapses produce 16 drives (sites × receptor types: 16 × 1) but the dendrites lay out 12"),
        "{e}"
    );
    // A stage's own error: which cell, which stage, what — as data, not only as text.
    let mut bad = NeuronConfig::granule();
    bad.soma.kernel = 0;
    match bad.validate().unwrap_err() {
        ConfigError::InStage { cell, stage, source } => {
            assert_eq!((cell.as_str(), stage), ("granule", "soma"));
            assert_eq!(
                *source,
                ConfigError::Zero {
                    module: "Soma",
                    field: "kernel"
                }
            );
        }
        other => panic!("expected InStage, got {other:?}"),
    }
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "granule > soma: Soma: `kernel` must be at least 1, got 0"
    );
    // A count inside a cell type is a mistake: the count belongs to the population.
    let mut bad = NeuronConfig::granule();
    bad.dendrites.neurons = 4;
    let e = bad.validate().unwrap_err().to_string();
    assert!(e.contains("set the count with PopulationConfig"), "{e}");
    assert!(PopulationConfig::new(NeuronConfig::granule(), 0).validate().is_err());
}

#[test]
fn a_saved_population_rebuilds_from_the_file_alone() {
    let _lock = seed_lock();
    let device = Device::flex();
    device.seed(11);
    let dir = std::env::temp_dir().join(format!("neuron-nn-cells-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for n in [1, 3] {
        let population = PopulationConfig::new(small_cell(), n).init(&device);
        let path = dir.join(format!("cells{n}.nnn"));
        population.save(&path).unwrap();
        let loaded = Population::load(&path, &device).unwrap();
        assert_eq!(loaded.len(), n);
        assert_eq!(
            serde_json::to_string(&loaded.config).unwrap(),
            serde_json::to_string(&small_cell()).unwrap()
        );
        let x = Tensor::<3>::random([2, 3, 6], Distribution::Default, &device);
        assert_eq!(values(loaded.forward(x.clone())), values(population.forward(x)));

        // A truncated file is an error.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(
            Population::load(&path, &device),
            Err(LoadError::Mismatch { .. })
        ));
    }
}
