//! Hay's channels and calcium pool inside the step loop, against NEURON 9: one compartment
//! with the somatic (and the axonal) membrane of `L5PCbiophys5b.hoc` under a current step
//! (`scripts/l5pc_soma_reference.py`).

use biophys::mechanisms::ca_dynamics_e2::CaDynamicsE2;
use biophys::mechanisms::hay::{ChannelDensity, HayChannel, Reversals};
use biophys::{
    Branch, CellConfig, CurrentClamp, Mechanism, Placement, Raster, Section, SimConfig, Simulator, Site, Synapses,
};
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("data/l5pc_soma_neuron.json")).expect("the reference parses")
}

/// The script's membrane (`{"pas": {"g_pas": …}, "NaTs2_t": {"gNaTs2_tbar_NaTs2_t": …}, …}`) as
/// this crate's mechanisms.
fn mechanisms(membrane: &Value) -> Vec<Mechanism> {
    let mut out = vec![Mechanism::Reversals(Reversals { ena: 50.0, ek: -85.0 })];
    for (name, params) in membrane.as_object().unwrap() {
        let p = |key: &str| params[format!("{key}_{name}")].as_f64().unwrap();
        out.push(match name.as_str() {
            "pas" => Mechanism::pas(p("g"), p("e")),
            "CaDynamics_E2" => Mechanism::CaDynamicsE2(CaDynamicsE2 {
                gamma: p("gamma"),
                decay: p("decay"),
                ..Default::default()
            }),
            channel => Mechanism::Channel(ChannelDensity::uniform(
                serde_json::from_value::<HayChannel>(Value::String(channel.into())).unwrap(),
                p(&format!("g{channel}bar")),
            )),
        });
    }
    out
}

fn cell(r: &Value, membrane: &Value) -> CellConfig {
    let mut cell = CellConfig::bs4();
    cell.name = "hay-compartment".into();
    cell.celsius = r["celsius"].as_f64().unwrap();
    cell.v_init = r["v_init"].as_f64().unwrap();
    cell.cm = 1.0;
    cell.ra = 100.0;
    cell.sections = vec![Section {
        name: "soma".into(),
        length: r["length"].as_f64().unwrap(),
        diam: r["diam"].as_f64().unwrap(),
        nseg: 1,
        parent: None,
        parent_x: 1.0,
        mechanisms: mechanisms(membrane),
        points: Vec::new(),
        cm: None,
    }];
    cell.placement = Placement::none();
    cell
}

fn compare(membrane: &str) {
    let r = reference();
    let run = &r[membrane];
    let c = &r["clamp"];
    let config = SimConfig {
        dt: r["dt"].as_f64().unwrap(),
        clamps: vec![CurrentClamp {
            site: Site {
                branch: Branch::Soma,
                pos: 0.5,
            },
            delay: c["delay"].as_f64().unwrap(),
            duration: c["duration"].as_f64().unwrap(),
            amplitude: c["amplitude"].as_f64().unwrap(),
        }],
        ..SimConfig::default()
    };
    let synapses = Synapses {
        branch: vec![],
        pos: vec![],
        kind: vec![],
    };
    let sim = Simulator::new(&cell(&r, &run["membrane"]), &synapses, &config).unwrap();
    let ms = r["end"].as_f64().unwrap() as usize;
    let out = sim.run(&Raster::zeros(0, ms)).unwrap();
    let want = |k: &str| -> Vec<f64> { run[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    let spikes = want("spike_times_ms");
    assert_eq!(
        out.spike_times_ms.len(),
        spikes.len(),
        "{membrane}: {:?} vs {spikes:?}",
        out.spike_times_ms
    );
    let worst_spike = out
        .spike_times_ms
        .iter()
        .zip(&spikes)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let worst_v = out
        .v_soma_1ms
        .iter()
        .zip(want("v_1ms"))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "{membrane}: {} spikes, worst spike-time difference {worst_spike:e} ms, worst voltage {worst_v:e} mV",
        spikes.len()
    );
    assert!(worst_spike < 1e-9, "{membrane}: spike times differ by {worst_spike} ms");
    assert!(worst_v < 1e-7, "{membrane}: the voltage differs by {worst_v} mV");
}

#[test]
fn the_somatic_membrane_fires_as_in_neuron() {
    compare("somatic");
}

#[test]
fn the_axonal_membrane_fires_as_in_neuron() {
    compare("axonal");
}

#[test]
fn mechanisms_read_their_json_and_bad_values_are_errors_naming_the_section() {
    let m: Mechanism = serde_json::from_str(r#"{"kind": "channel", "name": "NaTs2_t", "gbar": 0.998912}"#).unwrap();
    assert_eq!(
        m,
        Mechanism::Channel(ChannelDensity::uniform(HayChannel::NaTs2T, 0.998912))
    );
    let m: Mechanism = serde_json::from_str(
        r#"{"kind": "ca_dynamics_e2", "gamma": 0.0005, "decay": 80, "depth": 0.1, "min_cai": 1e-4}"#,
    )
    .unwrap();
    assert!(matches!(m, Mechanism::CaDynamicsE2(_)));
    assert!(serde_json::from_str::<Mechanism>(r#"{"kind": "channel", "name": "NaV", "gbar": 1}"#).is_err());
    let bad = Mechanism::Channel(ChannelDensity::uniform(HayChannel::Ih, f64::NAN));
    let e = bad.validate(&|| "apic[3]".into()).unwrap_err().to_string();
    assert!(e.contains("apic[3]") && e.contains("gbar"), "{e}");
    let bad = Mechanism::Channel(ChannelDensity {
        per_segment: Some(vec![1e-4, -1.0]),
        ..ChannelDensity::uniform(HayChannel::Ih, 1e-4)
    });
    let e = bad.validate(&|| "apic[3]".into()).unwrap_err().to_string();
    assert!(e.contains("per_segment"), "{e}");
    let bad = Mechanism::CaDynamicsE2(CaDynamicsE2 {
        decay: 0.0,
        ..Default::default()
    });
    assert!(
        bad.validate(&|| "soma".into())
            .unwrap_err()
            .to_string()
            .contains("decay")
    );
}
