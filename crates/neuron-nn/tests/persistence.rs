//! Saving and loading (burnpack), determinism for a seed, and flex ≡ ndarray.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use neuron_nn::*;
use test_support::{assert_close, cpu_devices, require_absent, seed_lock, values};

/// Every stage with parameters, in the essay's order.
#[derive(Module, Debug)]
struct Stages {
    synapses: Synapses,
    dendrites: Dendrites,
    spike: DendriticSpike,
    summation: Summation,
    soma: Soma,
    dropout: PoissonDropout,
    spikes: PoissonSpikes,
    axon: Axon,
}

fn stages(device: &Device, kernel_d: usize) -> Stages {
    Stages {
        synapses: SynapsesConfig::new(6, 2 * 5 * 8).init(device),
        dendrites: DendritesConfig::new(5, 8, [3, kernel_d, 4])
            .with_channels(2)
            .with_bias(true)
            .init(device),
        spike: DendriticSpikeConfig::new().with_window(Some(3)).init(device),
        summation: SummationConfig::new()
            .with_mode(SummationMode::Bistable {
                threshold: 1.0,
                strength: 0.4,
                width: 1.0,
            })
            .with_rate(RateFunction::Softplus)
            .init(device),
        soma: SomaConfig::new().with_rate(RateFunction::Softplus).init(device),
        dropout: PoissonDropoutConfig::new().init(),
        spikes: PoissonSpikesConfig::new().init(),
        axon: AxonConfig::new(3).init(device),
    }
}

impl Stages {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let v = self.spike.forward(self.dendrites.forward(self.synapses.forward(x)));
        let rate = self.soma.forward(self.summation.forward(v)); // [B, 1, T]
        self.axon.forward(self.spikes.forward(self.dropout.forward(rate)))
    }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("neuron-nn-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_then_load_gives_bit_identical_outputs() {
    let _lock = seed_lock();
    let device = Device::flex();
    device.seed(1);
    let model = stages(&device, 8);
    let x = Tensor::<3>::random([2, 6, 7], Distribution::Default, &device);
    let path = tmp("stages.bpk");
    save_module(&model, &path).unwrap();
    device.seed(2); // a differently initialised receiver
    let loaded = load_module(stages(&device, 8), &path).unwrap();
    assert_eq!(values(loaded.forward(x.clone())), values(model.forward(x)));
    assert!(
        !std::fs::read_dir(path.parent().unwrap()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".tmp")),
        "no temporary file left behind"
    );
}

#[test]
fn a_file_of_another_shape_is_an_error_not_a_panic() {
    let _lock = seed_lock();
    let device = Device::flex();
    let path = tmp("kernel8.bpk");
    save_module(&stages(&device, 8), &path).unwrap();
    let err = load_module(stages(&device, 5), &path).unwrap_err();
    assert!(matches!(err, LoadError::Mismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("kernel8.bpk does not fit this module"),
        "{err}"
    );

    let corrupt = tmp("corrupt.bpk");
    std::fs::write(&corrupt, b"not a burnpack at all").unwrap();
    assert!(matches!(
        load_module(stages(&device, 8), &corrupt),
        Err(LoadError::Mismatch { .. })
    ));
    let missing = load_module(stages(&device, 8), tmp("missing.bpk")).unwrap_err();
    assert!(matches!(missing, LoadError::Io { .. }), "{missing}");
}

#[test]
fn the_same_seed_gives_the_same_numbers_including_sampling() {
    let _lock = seed_lock();
    let run = || {
        let device = Device::flex().autodiff();
        device.seed(7);
        let model = stages(&device, 8);
        let x = Tensor::<3>::random([2, 6, 9], Distribution::Default, &device);
        values(model.forward(x))
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.iter().any(|v| *v != 0.0));
}

#[test]
fn flex_and_ndarray_agree_in_evaluation() {
    let _lock = seed_lock();
    let outputs: Vec<Tensor<3>> = cpu_devices()
        .into_iter()
        .map(|(_, device)| {
            device.seed(3); // flex and ndarray draw the same stream for a seed
            let model = stages(&device, 8);
            let x = Tensor::<3>::random([2, 6, 9], Distribution::Default, &device);
            // Evaluation: dropout and spikes are deterministic.
            Tensor::from_data(model.forward(x).into_data(), &Device::flex())
        })
        .collect();
    if outputs.len() < 2 {
        require_absent("ndarray");
        eprintln!("ndarray not compiled in (feature `ndarray`): nothing to compare");
        return;
    }
    assert!(values(outputs[0].clone()).iter().any(|v| *v != 0.0));
    assert_close(outputs[1].clone(), outputs[0].clone(), 1e-5, "ndarray vs flex");
}
