//! Experiment behind docs/fit.md ("the smallest change to the stages"): the default neuron
//! (`4-1`) with a causal filter of K ms per synapse in front (a depthwise Conv1d, started as the
//! identity), trained like `FitSession` (same batches, loss and learning-rate schedule) and
//! scored on the four held-out trials (mean of per-trial AUCs and explained variances).
//! K=1 is the control (a gain per synapse). Not part of the build; to run it:
//!
//!     cp scripts/fit_per_site_filters.rs examples/zz_per_site.rs
//!     K=20 STEPS=500 cargo run --release --example zz_per_site   # then K=1
//!     rm examples/zz_per_site.rs
//!
//! It reads the trials `fit_neuron` cached in target/fit_neuron/data (run that first).
use burn::module::{Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::PaddingConfig1d;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};
use train::fit::*;

#[derive(Module, Debug)]
struct PerSite {
    pre: Conv1d,
    net: NeuronNet,
}
impl PerSite {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.net.forward(self.pre.forward(x))
    }
}

fn main() {
    let device = Device::flex();
    let k: usize = std::env::var("K").map(|s| s.parse().unwrap()).unwrap_or(20);
    let steps: u64 = std::env::var("STEPS").map(|s| s.parse().unwrap()).unwrap_or(500);
    let config = DataConfig::standard(biophys::CellConfig::bs4(), "target/fit_neuron/data");
    let data = load_or_simulate(&config, |_, _| {}).unwrap();
    let size = sizes(Family::Neuron, 250, 4).into_iter().find(|s| s.label == "4-1").unwrap();
    let fc = FitConfig::new(size.model.clone()).with_steps(steps);
    let s = FitSession::new(fc.clone(), &data, &device).unwrap();
    let header = s.header.clone();
    let adev = s.device().clone();
    let net = match s.model.clone() {
        FitModel::Neuron(n) => n,
        _ => unreachable!(),
    };
    let mut pre = Conv1dConfig::new(250, 250, k)
        .with_groups(250)
        .with_bias(false)
        .with_padding(PaddingConfig1d::Explicit(k - 1, 0))
        .init(&adev);
    // Start as the plain neuron: a delta at lag 0 (the last tap under left padding).
    let mut w = vec![0.0f32; 250 * k];
    for i in 0..250 {
        w[i * k + k - 1] = 1.0;
    }
    pre.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [250, 1, k]), &adev));
    let mut model = PerSite { pre, net };
    let mut opt = AdamConfig::new().init();
    let reach = fc.model.reach();
    let skip = k - 1;
    let t0 = std::time::Instant::now();
    for step in 0..steps {
        let lr = fc.learning_rate_at(step);
        let (x, spikes, volts) = s.batch(&data, step).unwrap();
        let out = model.forward(x).narrow(2, reach + skip, fc.window - skip);
        let [b, _, w] = out.dims();
        let logit = out.clone().narrow(1, 0, 1).reshape([b, w]);
        let v = out.narrow(1, 1, 1).reshape([b, w]);
        let spikes = spikes.narrow(1, skip, w);
        let volts = volts.narrow(1, skip, w);
        let sl = (softplus(logit.clone(), 1.0) - logit * spikes).mean();
        let vl = (v - volts).square().mean();
        if step % 100 == 0 {
            eprintln!("step {step} spike {:.4} voltage {:.4} {:.0}s", sl.clone().into_scalar::<f64>(), vl.clone().into_scalar::<f64>(), t0.elapsed().as_secs_f64());
        }
        let grads = GradientsParams::from_grads((sl + vl * fc.voltage_weight).backward(), &model);
        model = opt.step(lr, model, grads);
    }
    let train_s = t0.elapsed().as_secs_f64();
    let m = model.valid();
    let (mut aucs, mut evs) = (Vec::new(), Vec::new());
    for t in &data.test {
        let mut x = Vec::new();
        train::fit::session::raster_window(t, 0, t.ms(), header.input_scale, &mut x);
        let out = m.forward(Tensor::from_data(TensorData::new(x, [1, 250, t.ms()]), &device));
        let vals: Vec<f64> = out.into_data().iter::<f64>().collect();
        let n = t.ms();
        let logit = &vals[..n];
        let v: Vec<f64> = vals[n..].iter().map(|z| z * header.voltage.std + header.voltage.mean).collect();
        let labels: Vec<bool> = t.spikes.iter().map(|&s| s != 0).collect();
        let target: Vec<f64> = t.voltage.iter().map(|v| v.min(CLIP_MV)).collect();
        aucs.push(metrics::roc_auc(&logit[SKIP_MS..], &labels[SKIP_MS..]).unwrap());
        evs.push(metrics::explained_variance(&v[SKIP_MS..], &target[SKIP_MS..]).unwrap());
    }
    // Pooled AUC over all bins as score() does would differ slightly; report the mean of trials.
    println!(
        "per-site filters k={k}, {steps} steps, {train_s:.0} s: held-out AUC per trial {:?} mean {:.4}, EV mean {:.1} %, params {}",
        aucs.iter().map(|a| format!("{a:.4}")).collect::<Vec<_>>(),
        aucs.iter().sum::<f64>() / 4.0,
        100.0 * evs.iter().sum::<f64>() / 4.0,
        model.num_params()
    );
}
