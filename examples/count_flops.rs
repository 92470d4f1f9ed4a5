//! Counts the operations of one of the essay's cells (or a population of them) from its
//! captured op graph: nothing executes and no tensor data is allocated.
//!
//! ```text
//! cargo run --release --example count_flops -- --model granule|purkinje|pyramidal \
//!     [--population N] [--convention torch|macs|full|padding-aware] [--json]
//! ```

mod common;

use std::time::Instant;

use common::Args;

use burn::tensor::Tensor;
use flop_count::{Convention, capture};
use neuron_nn::{NeuronConfig, PopulationConfig};

fn main() {
    let args = Args::parse("count_flops", &["--model", "--population", "--convention", "--json"]);
    let fail = |msg: &str| -> ! { args.fail(msg) };
    let value = |name: &str| args.value(name);
    let model = value("--model").unwrap_or_else(|| "purkinje".into());
    let config = match model.as_str() {
        "granule" => NeuronConfig::granule(),
        "purkinje" => NeuronConfig::purkinje(),
        "pyramidal" => NeuronConfig::pyramidal(),
        other => fail(&format!("unknown --model {other}: granule, purkinje or pyramidal")),
    };
    let convention = match value("--convention").as_deref().unwrap_or("torch") {
        "torch" => Convention::torch(),
        "macs" => Convention::macs(),
        "full" => Convention::full(),
        "padding-aware" => Convention::padding_aware(),
        other => fail(&format!(
            "unknown --convention {other}: torch, macs, full or padding-aware"
        )),
    };
    let population: Option<usize> = value("--population").map(|n| {
        n.parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| fail("--population takes a positive count"))
    });
    let steps = 5; // one window: the essay's 5 time steps

    let started = Instant::now();
    let graph = capture(|cx| {
        let inputs = config.synapses.inputs;
        let device = cx.device().clone();
        let x = cx.input(Tensor::<3>::zeros([1, inputs, steps], &device));
        match population {
            Some(n) => {
                let cells = PopulationConfig::new(config.clone(), n).init(&device);
                cx.params(&cells);
                let _ = cells.forward(x);
            }
            None => {
                let cell = config.init(&device);
                cx.params(&cell);
                let _ = cell.forward(x);
            }
        }
    })
    .unwrap_or_else(|e| fail(&e.to_string()));
    let report = graph.count(&convention);
    let seconds = started.elapsed().as_secs_f64();

    if args.flag("--json") {
        let mut json = report.to_json();
        json["model"] = model.clone().into();
        json["population"] = population.unwrap_or(1).into();
        json["time_steps"] = steps.into();
        json["forward_flops"] = json["forward"].clone();
        json["backward_params_flops"] = json["backward_params"].clone();
        json["backward_params_and_input_flops"] = json["backward_params_and_input"].clone();
        json["count_seconds"] = seconds.into();
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        println!(
            "{model}{} , one window of {steps} steps, {:?}",
            population.map_or(String::new(), |n| format!(" × {n}")),
            convention
        );
        print!("{}", report.to_table());
        println!(
            "arithmetic intensity {:.3} FLOP/byte; captured and counted in {:.1} ms",
            report.arithmetic_intensity(),
            seconds * 1e3
        );
    }
}
