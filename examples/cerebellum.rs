//! A small cerebellar circuit inside an ordinary Burn model: a granule-cell population feeds a
//! Purkinje-like population through parallel fibres, and a linear readout decodes the Purkinje
//! output. Trained with Burn's Adam on a task generated here: from mossy-fibre spike trains,
//! predict a delayed, non-linear function of them (a coincidence of two delayed inputs plus a
//! delayed third). Prints the loss falling and a held-out score beside a trivial baseline.
//!
//! ```text
//! cargo run --release --example cerebellum [-- --steps 300 --seed 1 --device flex --save circuit.nnn --resume circuit.nnn]
//! ```
//!
//! `--save` writes a checkpoint (config, weights, Adam state and step) at the end; `--resume`
//! continues from one: training 2N steps equals N, save, resume, N more.

mod common;

use std::path::PathBuf;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::AdamConfig;
use burn::tensor::{Device, Distribution, Tensor};
use clap::Parser;
use common::Backend;
use neuron_nn::{
    AxonConfig, DendriteAlgorithm, DendritesConfig, NeuronConfig, Population, PopulationConfig, SynapseMode,
    SynapsesConfig,
};
use serde::{Deserialize, Serialize};
use train::{Run, RunError, Schedule, Step};

/// The circuit's shape: how many cells of each kind, and the time window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CircuitConfig {
    /// Granule cells (each: the essay's 4 mossy fibres onto 16 sites).
    pub granule_cells: usize,
    /// Purkinje-like cells, each reading every granule cell's parallel fibre one-to-one.
    pub purkinje_cells: usize,
    /// Time steps per sample.
    pub time: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// The granule and Purkinje layers' dendrite paths, fixed when a run starts (`Auto`
    /// resolved on that machine), so a resumed run computes what it started with.
    #[serde(default = "auto_paths")]
    pub dendrite_paths: [DendriteAlgorithm; 2],
}

fn auto_paths() -> [DendriteAlgorithm; 2] {
    [DendriteAlgorithm::Auto; 2]
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            granule_cells: 64,
            purkinje_cells: 4,
            time: 16,
            learning_rate: 3e-3,
            dendrite_paths: auto_paths(),
        }
    }
}

/// Granule layer → Purkinje layer → readout, as any Burn model is written.
#[derive(Module, Debug)]
pub struct Cerebellum {
    granule: Population,
    purkinje: Population,
    readout: Linear,
}

impl CircuitConfig {
    fn granule(&self) -> NeuronConfig {
        // One parallel fibre per granule cell here (the essay's ~100 synapses onto Purkinje
        // cells are what one fibre makes along many Purkinje cells).
        let granule = NeuronConfig::granule();
        NeuronConfig {
            axon: AxonConfig::new(1),
            dendrites: granule.dendrites.clone().with_algorithm(self.dendrite_paths[0]),
            ..granule
        }
    }

    fn purkinje(&self) -> NeuronConfig {
        // The Purkinje design at small scale: one-to-one parallel-fibre synapses laid onto
        // positions × dendrites, a kernel as wide as the dendritic tree (the expanded path).
        let sites = self.granule_cells;
        let dendrites = 8;
        NeuronConfig {
            name: "purkinje-like".into(),
            synapses: SynapsesConfig::new(sites, sites).with_mode(SynapseMode::OneToOne),
            dendrites: DendritesConfig::new(sites / dendrites, dendrites, [3, dendrites, 5])
                .with_algorithm(self.dendrite_paths[1]),
            axon: AxonConfig::new(1),
            ..NeuronConfig::purkinje()
        }
    }

    /// The same circuit with each layer's dendrites on the path it takes for a training batch
    /// on `device`.
    pub fn with_paths(mut self, device: &Device) -> Self {
        let path = |cell: NeuronConfig, neurons: usize| {
            cell.dendrites
                .with_neurons(neurons)
                .path(BATCH, self.time, device)
                .unwrap_or_else(|e| fail(e))
        };
        self.dendrite_paths = [
            path(self.granule(), self.granule_cells),
            path(self.purkinje(), self.purkinje_cells),
        ];
        self
    }

    /// Builds the circuit.
    pub fn init(&self, device: &Device) -> Cerebellum {
        Cerebellum {
            granule: PopulationConfig::new(self.granule(), self.granule_cells).init(device),
            purkinje: PopulationConfig::new(self.purkinje(), self.purkinje_cells).init(device),
            readout: LinearConfig::new(self.purkinje_cells, 1).init(device),
        }
    }
}

impl Cerebellum {
    /// # Shapes
    ///
    /// - input: `[batch, 4 mossy fibres, time]`
    /// - output: `[batch, time]`
    pub fn forward(&self, mossy: Tensor<3>) -> Tensor<2> {
        let [b, _, t] = mossy.dims();
        // Each layer's output, [batch, cells × 1 terminal, time], is the next layer's input.
        let parallel = self.granule.forward(mossy);
        let purkinje = self.purkinje.forward(parallel);
        self.readout.forward(purkinje.swap_dims(1, 2)).reshape([b, t])
    }
}

/// Mossy-fibre spike trains and the target: `y[t] = 2·x0[t−2]·x1[t−3] + x2[t−1]`.
fn task(batch: usize, time: usize, device: &Device) -> (Tensor<3>, Tensor<2>) {
    let x = Tensor::<3>::random([batch, 4, time], Distribution::Bernoulli(0.4), device);
    let delayed = |axon: usize, d: usize| {
        x.clone()
            .narrow(1, axon, 1)
            .reshape([batch, time])
            .narrow(1, 0, time - d)
            .pad([(d, 0)], burn::tensor::ops::PadMode::Constant(0.0))
    };
    let y = delayed(0, 2) * delayed(1, 3) * 2.0 + delayed(2, 1);
    (x, y)
}

fn mse(a: Tensor<2>, b: Tensor<2>) -> f64 {
    (a - b).square().mean().into_scalar::<f64>()
}

/// Samples per training batch.
const BATCH: usize = 32;

/// Trains `run` until step `until` on the training loop, reseeding the device per step so a
/// resumed run draws the same batches as an uninterrupted one; `report(step, loss)` after each.
pub fn train(
    config: &CircuitConfig,
    run: Run<Cerebellum, f64>,
    until: u64,
    seed: u64,
    device: &Device,
    mut report: impl FnMut(u64, f64),
) -> Result<Run<Cerebellum, f64>, RunError> {
    let schedule = Schedule {
        steps: u64::MAX,
        learning_rate: config.learning_rate,
        final_learning_rate: config.learning_rate,
        warmup_steps: 0,
    };
    run.train(
        &schedule,
        until,
        None,
        0,
        |model: &Cerebellum, s, _lr, _history: &[f64]| {
            device.seed(seed.wrapping_mul(1_000_003).wrapping_add(s));
            let (x, y) = task(BATCH, config.time, device);
            let loss = (model.forward(x) - y).square().mean();
            let value = loss.clone().into_scalar::<f64>();
            Ok::<_, RunError>(Step {
                loss,
                value,
                record: value,
            })
        },
        |_, _| Ok(()),
        |run| report(run.step, *run.history.last().expect("a step was recorded")),
    )
}

/// Train a granule → Purkinje → readout circuit on a delayed coincidence task.
#[derive(Parser, Debug)]
#[command(name = "cerebellum", version)]
struct Cli {
    /// Adam steps to run.
    #[arg(long, default_value_t = 300)]
    steps: u64,
    /// Seed of the weights and of every batch.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Write a checkpoint (config, weights, Adam state, step) here at the end.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Continue from this checkpoint.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("cerebellum: {msg}");
    std::process::exit(1)
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let (steps, seed) = (cli.steps, cli.seed);
    let device = cli.device.device_or_exit("cerebellum").autodiff();

    let started = std::time::Instant::now();
    let (config, run) = match &cli.resume {
        Some(path) => {
            let (config, run) = Run::load(path, |c: &CircuitConfig| Ok(c.init(&device)), AdamConfig::new().init())
                .unwrap_or_else(|e| fail(e));
            println!("resumed {} at step {}", path.display(), run.step);
            (config, run)
        }
        None => {
            let config = CircuitConfig::default().with_paths(&device);
            device.seed(seed);
            let model = config.init(&device);
            (config, Run::new(model, AdamConfig::new().init()))
        }
    };
    println!(
        "cerebellum: {} granule cells → {} Purkinje-like cells → readout; {} parameters; dendrites on {:?}",
        config.granule_cells,
        config.purkinje_cells,
        run.model.num_params(),
        config.dendrite_paths
    );
    let until = run.step + steps;
    let mut window = Vec::new();
    let run = train(&config, run, until, seed, &device, |s, loss| {
        window.push(loss);
        if s % 25 == 0 || s == until {
            println!(
                "step {s:>5}  training loss {:.4}",
                window.iter().sum::<f64>() / window.len() as f64
            );
            window.clear();
        }
    })
    .unwrap_or_else(|e| fail(e));

    // Held out: fresh samples, evaluation mode (no dropout, expected spike counts).
    device.seed(seed.wrapping_add(0xE7A1));
    let eval_device = device.clone().inner();
    let (x, y) = task(512, config.time, &eval_device);
    // In chunks of 128: the whole batch at once needs a 480 MB buffer, more than some wgpu
    // adapters allow in one allocation (Mesa's software Vulkan).
    let evaluated = run.model.valid();
    let predicted = Tensor::cat(
        (0..4)
            .map(|i| evaluated.forward(x.clone().narrow(0, 128 * i, 128)))
            .collect(),
        0,
    );
    let baseline = y.clone().mean().into_scalar::<f64>();
    let (err, trivial) = (mse(predicted, y.clone()), mse(y.ones_like() * baseline, y));
    println!(
        "held out: circuit MSE {err:.4}, predict-the-mean baseline {trivial:.4}, R² {:.3}",
        1.0 - err / trivial
    );
    println!("{:.1} s", started.elapsed().as_secs_f64());
    if let Some(path) = &cli.save {
        run.save(path, &config).unwrap_or_else(|e| fail(e));
        println!(
            "saved {} (config, weights, Adam state, step {})",
            path.display(),
            run.step
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::{seed_lock, values};

    fn small(device: &Device) -> CircuitConfig {
        CircuitConfig {
            granule_cells: 32,
            purkinje_cells: 2,
            time: 8,
            learning_rate: 1e-2,
            dendrite_paths: auto_paths(),
        }
        .with_paths(device)
    }

    #[test]
    fn training_resumed_from_a_checkpoint_equals_training_straight_through() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        let config = small(&device);
        assert!(!config.dendrite_paths.contains(&DendriteAlgorithm::Auto));
        device.seed(3);
        let start = config.init(&device);
        // Parameters initialise lazily, drawing from the device's RNG at first use: run one
        // forward so both branches start from the same drawn weights and the same RNG use.
        let _ = start.forward(Tensor::<3>::zeros([1, 4, config.time], &device));
        let fresh = || Run::new(start.clone(), AdamConfig::new().init());
        let mut losses = Vec::new();
        let straight = train(&config, fresh(), 6, 7, &device, |_, l| losses.push(l)).unwrap();
        assert_eq!(straight.history, losses);

        let half = train(&config, fresh(), 3, 7, &device, |_, _| {}).unwrap();
        let path = std::env::temp_dir().join(format!("cerebellum-{}.nnn", std::process::id()));
        half.save(&path, &config).unwrap();
        let (saved, loaded) =
            Run::<Cerebellum, f64>::load(&path, |c: &CircuitConfig| Ok(c.init(&device)), AdamConfig::new().init())
                .unwrap();
        assert_eq!((loaded.step, saved.dendrite_paths), (3, config.dendrite_paths));
        device.seed(99);
        let x = Tensor::<3>::random([4, 4, 8], Distribution::Bernoulli(0.4), &device.clone().inner());
        assert_eq!(
            values(loaded.model.valid().forward(x.clone())),
            values(half.model.valid().forward(x.clone())),
            "the loaded circuit computes what was saved"
        );
        let resumed = train(&saved, loaded, 6, 7, &device, |_, _| {}).unwrap();
        assert_eq!(resumed.history, straight.history);
        assert_eq!(
            values(resumed.model.valid().forward(x.clone())),
            values(straight.model.valid().forward(x)),
            "3 steps + save + load + 3 steps must equal 6 steps (Adam state and step travel)"
        );
        std::fs::remove_file(path).unwrap();
    }
}
