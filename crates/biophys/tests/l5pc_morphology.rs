//! Hay's cell read from its Neurolucida file into the sections NEURON's Import3d makes, with
//! the segment areas and axial resistances NEURON computes from the 3-D points
//! (`scripts/l5pc_morphology_reference.py`, NEURON 9).

use biophys::asc::Neurolucida;
use biophys::pt3d;
use serde_json::Value;

fn reference() -> Vec<Value> {
    let r: Value = serde_json::from_str(include_str!("data/l5pc_sections_neuron.json")).unwrap();
    r["sections"].as_array().unwrap().clone()
}

fn cell() -> Neurolucida {
    Neurolucida::read(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/l5pc/morphologies/cell1.asc"
    )))
    .expect("the shipped morphology reads")
}

/// The template's rule, `nseg = 1 + 2·int(L/40)`.
fn template_nseg(length: f64) -> usize {
    1 + 2 * (length / 40.0) as usize
}

#[test]
fn the_dendrites_are_import3ds_sections_point_for_point() {
    let all = cell().sections();
    let theirs: Vec<Value> = reference()
        .into_iter()
        .filter(|s| {
            let name = s["name"].as_str().unwrap();
            name.starts_with("dend") || name.starts_with("apic")
        })
        .collect();
    // The file's axon is read too; the template replaces it.
    let ours: Vec<_> = all.iter().filter(|s| !s.name.starts_with("axon")).collect();
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours.iter().filter(|s| s.name.starts_with("dend")).count(), 84);
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.name, b["name"].as_str().unwrap());
        let want_parent = b["parent"].as_str().unwrap();
        let got_parent = match a.parent {
            None => "soma[0]".to_string(),
            Some(p) => all[p].name.clone(),
        };
        assert_eq!(got_parent, want_parent, "{}", a.name);
        assert_eq!(a.parent_x, b["parent_x"].as_f64().unwrap(), "{}", a.name);
        let pts = b["points"].as_array().unwrap();
        assert_eq!(a.points.len(), pts.len(), "{}", a.name);
        for (p, q) in a.points.iter().zip(pts) {
            let q: Vec<f64> = q.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            assert_eq!(
                [p.x as f64, p.y as f64, p.z as f64, p.d as f64],
                [q[0], q[1], q[2], q[3]],
                "{}",
                a.name
            );
        }
    }
}

#[test]
fn segment_areas_and_resistances_are_neurons_from_the_points() {
    let (mut worst_area, mut worst_ri, mut segments) = (0.0f64, 0.0f64, 0);
    for s in reference() {
        let pts: Vec<biophys::asc::Point3> = s["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                let q: Vec<f64> = q.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
                biophys::asc::Point3 {
                    x: q[0] as f32,
                    y: q[1] as f32,
                    z: q[2] as f32,
                    d: q[3] as f32,
                }
            })
            .collect();
        if pts.len() < 2 {
            continue; // the template's axon: no points
        }
        let name = s["name"].as_str().unwrap();
        let length = pt3d::length(&pts);
        assert!((length - s["L"].as_f64().unwrap()).abs() < 1e-9, "{name}: L {length}");
        let nseg = s["nseg"].as_u64().unwrap() as usize;
        assert_eq!(template_nseg(length), nseg, "{name}");
        let segs = pt3d::segments(&pts, nseg, s["Ra"].as_f64().unwrap());
        let area: Vec<f64> = s["area"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let ri: Vec<f64> = s["ri"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (i, seg) in segs.iter().enumerate() {
            worst_area = worst_area.max((seg.area - area[i]).abs() / area[i]);
            // NEURON's ri: the previous segment's right half and this one's left half.
            let r = if i == 0 {
                seg.r_left
            } else {
                segs[i - 1].r_right + seg.r_left
            };
            worst_ri = worst_ri.max((r - ri[i]).abs() / ri[i]);
            segments += 1;
        }
    }
    eprintln!("{segments} segments: areas within {worst_area:e}, resistances within {worst_ri:e} (relative)");
    assert!(
        worst_area < 1e-12 && worst_ri < 1e-12,
        "areas {worst_area:e}, ri {worst_ri:e}"
    );
}

#[test]
fn the_soma_is_import3ds_centroid_of_the_contour() {
    let soma = cell().soma().unwrap();
    let theirs = reference().into_iter().find(|s| s["name"] == "soma[0]").unwrap();
    let pts = theirs["points"].as_array().unwrap();
    assert_eq!(soma.len(), pts.len());
    let mut worst = 0.0f64;
    for (p, q) in soma.iter().zip(pts) {
        let q: Vec<f64> = q.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        for (a, b) in [p.x as f64, p.y as f64, p.z as f64, p.d as f64].iter().zip(&q) {
            worst = worst.max((a - b).abs());
        }
    }
    eprintln!("soma: 21 points within {worst:e} um of NEURON's");
    assert!(worst < 1e-4, "the soma's points differ from NEURON's by {worst} um");
    let area: f64 = pt3d::segments(&soma, 1, 100.0).iter().map(|s| s.area).sum();
    let want = theirs["area"][0].as_f64().unwrap();
    eprintln!(
        "soma area {area} um2, NEURON {want}: relative {:e}",
        (area - want).abs() / want
    );
    assert!((area - want).abs() < 1e-6 * want, "soma area {area} vs {want}");
}
