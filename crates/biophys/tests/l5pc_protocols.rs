//! Hay's firing protocols (ModelDB 139653: `Step_current_firing.hoc`, `BAC_firing.hoc`) on
//! NeuronIO's cell, against NEURON 9 at fixed step (`scripts/l5pc_protocols_reference.py`): a
//! 2 s somatic step, and back-propagation-activated calcium firing (a somatic pulse, then an
//! EPSP-like current 620 µm up the apical dendrite).

use biophys::{
    Branch, CurrentClamp, EpspCurrent, Raster, SectionKind, SectionName, SimConfig, Simulator, Site, Synapses, l5pc,
};
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("data/l5pc_protocols_neuron.json")).expect("the reference parses")
}

fn series(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// The cell at the protocols' −80 mV, and the site `x` of `apic[index]`.
fn cell_and_site(index: &Value, x: &Value) -> (biophys::CellConfig, Site) {
    let mut cell = l5pc::body().unwrap();
    cell.v_init = reference()["v_init"].as_f64().unwrap();
    let section = cell
        .section_named(SectionName {
            kind: SectionKind::Apic,
            index: index.as_u64().unwrap() as usize,
        })
        .unwrap();
    let site = Site {
        branch: Branch::Dendrite(section - 1),
        pos: x.as_f64().unwrap(),
    };
    (cell, site)
}

fn soma_pulse(p: &Value) -> CurrentClamp {
    CurrentClamp {
        site: Site {
            branch: Branch::Soma,
            pos: 0.5,
        },
        delay: p["delay"].as_f64().unwrap(),
        duration: p["duration"].as_f64().unwrap(),
        amplitude: p["amplitude"].as_f64().unwrap(),
    }
}

/// The cell without synapses under `config` for the protocol's `tstop`.
fn run(cell: &biophys::CellConfig, config: &SimConfig, protocol: &Value) -> biophys::Output {
    let ms = protocol["tstop"].as_u64().unwrap() as usize;
    Simulator::new(cell, &Synapses::empty(), config)
        .unwrap()
        .run(&Raster::zeros(0, ms))
        .unwrap()
}

fn assert_spikes_agree(ours: &[f64], theirs: &[f64], tolerance_ms: f64, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: {ours:?} vs NEURON's {theirs:?}");
    for (a, b) in ours.iter().zip(theirs) {
        assert!(
            (a - b).abs() < tolerance_ms,
            "{what}: spike at {a} ms, NEURON's at {b} ms"
        );
    }
}

#[test]
fn a_somatic_step_fires_as_in_neuron() {
    let r = &reference()["step"];
    let (cell, _) = cell_and_site(&Value::from(0), &Value::from(0.5));
    let config = SimConfig {
        clamps: vec![soma_pulse(r)],
        ..SimConfig::default()
    };
    let out = run(&cell, &config, r);
    let want = series(&r["spike_times_ms"]);
    assert!(want.len() > 5, "the step makes the cell fire repetitively");
    assert_spikes_agree(&out.spike_times_ms, &want, 1e-3, "step");
    let soma = rms(&out.v_soma_1ms, &series(&r["v_soma_1ms"]));
    assert!(soma < 1e-3, "somatic RMS {soma:e} mV");
}

#[test]
fn bac_firing_follows_neuron() {
    let r = &reference()["bac"];
    let e = &r["epsp"];
    let (cell, distal) = cell_and_site(&e["apic"], &e["x"]);
    let (_, proximal) = cell_and_site(&r["proximal"]["apic"], &r["proximal"]["x"]);
    let config = SimConfig {
        clamps: vec![soma_pulse(&r["soma_pulse"])],
        epsps: vec![EpspCurrent {
            site: distal,
            onset: e["onset"].as_f64().unwrap(),
            tau0: e["tau0"].as_f64().unwrap(),
            tau1: e["tau1"].as_f64().unwrap(),
            imax: e["imax"].as_f64().unwrap(),
        }],
        record: vec![distal, proximal],
        ..SimConfig::default()
    };
    let out = run(&cell, &config, r);
    let want = series(&r["spike_times_ms"]);
    assert!(want.len() >= 2, "BAC firing is a burst: {want:?}");
    assert_spikes_agree(&out.spike_times_ms, &want, 1e-3, "BAC");
    for (name, ours, theirs) in [
        ("soma", &out.v_soma_1ms, "v_soma_1ms"),
        ("distal apical site", &out.v_sites_1ms[0], "v_distal_1ms"),
        ("proximal apical site", &out.v_sites_1ms[1], "v_proximal_1ms"),
    ] {
        let d = rms(ours, &series(&r[theirs]));
        assert!(d < 1e-3, "{name}: RMS {d:e} mV");
    }
    // The dendritic calcium spike: the distal site rises far above what the EPSP alone gives.
    let peak = out.v_sites_1ms[0].iter().copied().fold(f64::MIN, f64::max);
    assert!(peak > -20.0, "distal peak {peak} mV");
}

#[test]
fn the_epsp_current_peaks_at_imax() {
    let c = EpspCurrent {
        site: Site {
            branch: Branch::Soma,
            pos: 0.5,
        },
        onset: 10.0,
        tau0: 0.5,
        tau1: 5.0,
        imax: 0.5,
    };
    let tpeak = 0.5 * 5.0 * (0.5f64 / 5.0).ln() / (0.5 - 5.0);
    assert!((c.at(10.0 + tpeak) - 0.5).abs() < 1e-12);
    assert!(c.at(10.0 + tpeak - 0.01) < 0.5 && c.at(10.0 + tpeak + 0.01) < 0.5);
    assert_eq!(c.at(9.99), 0.0);
    assert!(c.at(1e6).abs() < 1e-12, "decayed");
    // Bad settings are errors naming the current and the field, at construction.
    let cell = l5pc::body().unwrap();
    for (bad, field) in [
        (EpspCurrent { tau1: 0.5, ..c }, "tau1"),
        (EpspCurrent { tau0: -1.0, ..c }, "tau0"),
        (EpspCurrent { imax: f64::NAN, ..c }, "imax"),
    ] {
        let config = SimConfig {
            epsps: vec![c, bad],
            ..SimConfig::default()
        };
        let e = Simulator::new(&cell, &Synapses::empty(), &config)
            .unwrap_err()
            .to_string();
        assert!(e.contains("epsp 1") && e.contains(field), "{e}");
    }
}
