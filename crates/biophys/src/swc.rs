//! Morphologies from SWC files (`id type x y z radius parent`, one point per line, `#` comments),
//! the standard format of NeuroMorpho.org reconstructions.
//!
//! Conversion, close to NEURON's Import3d: the soma points (type 1) become one section (a single
//! point of radius r: a cylinder of length and diameter 2r, which has the sphere's area; several
//! points: their path length and mean diameter); every unbranched run of other points becomes a
//! section whose length is the path through its points (from the branch point it leaves, for
//! branches off a neurite) and whose diameter is the length-weighted mean, so its membrane area
//! matches the reconstruction's. Branches off the soma attach at its middle, branches off a
//! neurite at the parent section's end. Segments follow NEURON's d_lambda rule (0.1 of the
//! length constant at 100 Hz, odd counts).

use std::collections::BTreeMap;
use std::path::Path;

use crate::cell::{CellConfig, Section};
use crate::error::{BiophysError, Result};

#[derive(Debug, Clone)]
struct Point {
    kind: i64,
    xyz: [f64; 3],
    radius: f64,
    parent: i64,
}

fn dist(a: &Point, b: &Point) -> f64 {
    a.xyz
        .iter()
        .zip(&b.xyz)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Segments for a section by the d_lambda rule (NEURON's `geom_nseg`): `d_lambda` of the AC
/// length constant at 100 Hz, rounded up to an odd count.
/// Saturates at `usize::MAX` (odd) for absurd geometry rather than overflowing.
pub fn d_lambda_nseg(length: f64, diam: f64, ra: f64, cm: f64, d_lambda: f64) -> usize {
    let lambda = 1e5 * (diam / (4.0 * std::f64::consts::PI * 100.0 * ra * cm)).sqrt();
    let half = ((length / (d_lambda * lambda) + 0.9) / 2.0) as usize;
    half.saturating_mul(2).saturating_add(1) | 1
}

/// More segments than this in one section means the file's units or radii are wrong.
const MAX_NSEG: usize = 100_000;

/// Reads `path` into the sections of a cell: the soma's mechanisms are `template`'s soma's, every
/// other section gets `template`'s first dendrite's (passive if it has none); everything else
/// (temperature, Ra, receptors, placement, inputs) is `template`'s.
pub fn load(path: impl AsRef<Path>, template: &CellConfig) -> Result<CellConfig> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| BiophysError::Io {
        path: path.into(),
        source,
    })?;
    parse(&text, template).map_err(|message| BiophysError::Format {
        path: path.into(),
        message,
    })
}

/// [`load`] from the text of an SWC file; errors name the line.
pub fn parse(text: &str, template: &CellConfig) -> std::result::Result<CellConfig, String> {
    let mut points: BTreeMap<i64, Point> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 7 {
            return Err(format!(
                "line {}: expected 7 fields (id type x y z radius parent), got {}",
                n + 1,
                fields.len()
            ));
        }
        let num = |i: usize, what: &str| -> std::result::Result<f64, String> {
            fields[i]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("line {}: {what} `{}` is not a finite number", n + 1, fields[i]))
        };
        let id = num(0, "id")? as i64;
        let point = Point {
            kind: num(1, "type")? as i64,
            xyz: [num(2, "x")?, num(3, "y")?, num(4, "z")?],
            radius: num(5, "radius")?,
            parent: num(6, "parent")? as i64,
        };
        if point.radius <= 0.0 {
            return Err(format!("line {}: radius {} must be positive", n + 1, point.radius));
        }
        if points.insert(id, point).is_some() {
            return Err(format!("line {}: point {id} is defined twice", n + 1));
        }
    }
    for (id, p) in &points {
        if p.parent != -1 && !points.contains_key(&p.parent) {
            return Err(format!("point {id} names parent {}, which does not exist", p.parent));
        }
    }
    let soma_ids: Vec<i64> = points.iter().filter(|(_, p)| p.kind == 1).map(|(&i, _)| i).collect();
    if soma_ids.is_empty() {
        return Err("no soma (type 1) points".into());
    }
    let roots: Vec<i64> = points.iter().filter(|(_, p)| p.parent == -1).map(|(&i, _)| i).collect();
    if roots.len() != 1 || points[&roots[0]].kind != 1 {
        return Err(format!("expected one root point, on the soma; found roots {roots:?}"));
    }
    let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (&id, p) in &points {
        children.entry(p.parent).or_default().push(id);
    }
    // Every point must reach the root (no cycles).
    for &id in points.keys() {
        let (mut at, mut steps) = (id, 0);
        while at != -1 {
            at = points[&at].parent;
            steps += 1;
            if steps > points.len() {
                return Err(format!("points form a cycle through point {id}"));
            }
        }
    }
    let soma_len: f64 = soma_ids
        .iter()
        .filter(|&&i| points[&i].parent != -1 && points[&points[&i].parent].kind == 1)
        .map(|&i| dist(&points[&i], &points[&points[&i].parent]))
        .sum();
    let soma_diam = 2.0 * soma_ids.iter().map(|i| points[i].radius).sum::<f64>() / soma_ids.len() as f64;
    let soma_len = if soma_len > 0.0 { soma_len } else { soma_diam };
    let dend_mech = template
        .sections
        .get(1)
        .map(|s| s.mechanisms.clone())
        .unwrap_or_else(|| vec![crate::mechanisms::Mechanism::pas(5e-5, -65.0)]);
    let mut sections = vec![Section {
        name: "soma".into(),
        length: soma_len,
        diam: soma_diam,
        nseg: 1,
        parent: None,
        parent_x: 1.0,
        mechanisms: template.sections[0].mechanisms.clone(),
        points: Vec::new(),
        cm: None,
    }];
    // Unbranched runs, breadth-first: (first point, parent section, start from the branch point).
    let mut queue: std::collections::VecDeque<(i64, usize, Option<i64>)> = soma_ids
        .iter()
        .flat_map(|s| children.get(s).cloned().unwrap_or_default())
        .filter(|c| points[c].kind != 1)
        .map(|c| (c, 0, None))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    while let Some((first, parent, from)) = queue.pop_front() {
        let mut run = Vec::new();
        if let Some(b) = from {
            run.push(b);
        }
        let mut at = first;
        loop {
            run.push(at);
            match children.get(&at).map(Vec::as_slice) {
                Some([only]) => at = *only,
                _ => break,
            }
        }
        let (mut length, mut area_len) = (0.0, 0.0);
        for w in run.windows(2) {
            let (a, b) = (&points[&w[0]], &points[&w[1]]);
            let l = dist(a, b);
            length += l;
            area_len += l * (a.radius + b.radius);
        }
        let diam = if length > 0.0 {
            area_len / length
        } else {
            2.0 * points[&first].radius
        };
        let length = length.max(1e-3);
        let kind = match points[&first].kind {
            2 => "axon",
            3 => "basal",
            4 => "apical",
            _ => "neurite",
        };
        let k = counts.entry(kind).or_insert(0);
        let name = format!("{kind}{k}");
        *k += 1;
        let nseg = d_lambda_nseg(length, diam, template.ra, template.cm, 0.1);
        if nseg > MAX_NSEG {
            return Err(format!(
                "section {name} (from point {first}): {length:e} µm long and {diam:e} µm thick, the d_lambda \
                 rule asks for {nseg} segments (at most {MAX_NSEG}); are the file's units µm?"
            ));
        }
        sections.push(Section {
            name,
            length,
            diam,
            nseg,
            parent: Some(parent),
            parent_x: if parent == 0 { 0.5 } else { 1.0 },
            mechanisms: dend_mech.clone(),
            points: Vec::new(),
            cm: None,
        });
        let me = sections.len() - 1;
        for &c in children.get(&at).map(Vec::as_slice).unwrap_or(&[]) {
            queue.push_back((c, me, Some(at)));
        }
    }
    let cell = CellConfig {
        sections,
        ..template.clone()
    };
    cell.validate().map_err(|e| e.to_string())?;
    Ok(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A soma (r = 10) with a 100 µm dendrite that forks into two 50 µm branches.
    const Y_CELL: &str = "# a test cell
1 1 0 0 0 10 -1
2 3 10 0 0 1 1
3 3 60 0 0 1 2
4 3 110 0 0 1 3
5 3 140 40 0 0.5 4
6 3 140 -40 0 0.5 4
";

    #[test]
    fn a_forked_dendrite_becomes_three_sections() {
        let cell = parse(Y_CELL, &CellConfig::bs4()).unwrap();
        let s = &cell.sections;
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(
            (s[0].length, s[0].diam),
            (20.0, 20.0),
            "a one-point soma: L = diam = 2r"
        );
        assert_eq!(s[1].name, "basal0");
        assert!((s[1].length - 100.0).abs() < 1e-12);
        assert!((s[1].diam - 2.0).abs() < 1e-12);
        assert_eq!((s[1].parent, s[1].parent_x), (Some(0), 0.5));
        for b in [2, 3] {
            assert!(
                (s[b].length - 50.0).abs() < 1e-12,
                "from the fork point: 30-40-50 triangle"
            );
            // Radii 1 → 0.5 over the piece: mean diameter 1.5.
            assert!((s[b].diam - 1.5).abs() < 1e-12);
            assert_eq!((s[b].parent, s[b].parent_x), (Some(1), 1.0));
            assert_eq!(s[b].mechanisms, CellConfig::bs4().sections[1].mechanisms);
        }
        assert_eq!(s[0].mechanisms, CellConfig::bs4().sections[0].mechanisms);
        assert!(s.iter().all(|x| x.nseg % 2 == 1));
    }

    #[test]
    fn d_lambda_gives_more_segments_to_thin_long_sections() {
        // λ(100 Hz) for 1 µm, Ra 150, cm 1: 1e5·sqrt(1/(4π·100·150)) ≈ 230 µm.
        assert_eq!(d_lambda_nseg(10.0, 1.0, 150.0, 1.0, 0.1), 1);
        let n = d_lambda_nseg(400.0, 1.0, 150.0, 1.0, 0.1);
        assert!((17..=19).contains(&n) && n % 2 == 1, "{n}");
        assert!(d_lambda_nseg(400.0, 4.0, 150.0, 1.0, 0.1) < n);
    }

    /// A reconstruction-like file: a soma and `n` points of three dendrites that wander and fork.
    fn wandering_tree(n: usize, rng: &mut rand_chacha::ChaCha8Rng) -> String {
        use rand::Rng;
        let mut text = String::from("# generated\n1 1 0 0 0 8 -1\n");
        let mut points = vec![(0.0f64, 0.0f64, 0.0f64)];
        for id in 2..n as u32 + 2 {
            let parent = if id <= 4 {
                1
            } else {
                rng.random_range(id.saturating_sub(8).max(2)..id)
            };
            let (x, y, z) = points[parent as usize - 1];
            let step = |r: &mut rand_chacha::ChaCha8Rng| r.random_range(-6.0..6.0);
            let p = (x + step(rng) + 3.0, y + step(rng), z + step(rng));
            points.push(p);
            let kind = if id % 2 == 0 { 3 } else { 4 };
            text += &format!(
                "{id} {kind} {:.3} {:.3} {:.3} {:.3} {parent}\n",
                p.0,
                p.1,
                p.2,
                rng.random_range(0.2..1.5)
            );
        }
        text
    }

    /// Every mutation of a file (bytes dropped, changed, inserted, the file cut short) gives a
    /// cell or an error, never a panic.
    #[test]
    fn no_mutated_or_truncated_file_panics() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let template = CellConfig::bs4();
        let file = wandering_tree(300, &mut rng);
        parse(&file, &template).expect("the unmutated file is a cell");
        let bytes = file.as_bytes();
        let alphabet = b"0123456789 -.eE\n#\t+x";
        let (mut ok, mut errors) = (0, 0);
        for case in 0..3000 {
            let mut m: Vec<u8> = if case % 2 == 0 {
                bytes[..rng.random_range(0..bytes.len())].to_vec()
            } else {
                bytes.to_vec()
            };
            crate::mutation::mutate(&mut m, &mut rng, alphabet, 6);
            match parse(&String::from_utf8_lossy(&m), &template) {
                Ok(cell) => {
                    cell.validate().expect("a parsed cell is valid");
                    ok += 1;
                }
                Err(e) => {
                    assert!(!e.is_empty());
                    errors += 1;
                }
            }
        }
        assert!(ok > 100 && errors > 100, "{ok} parsed, {errors} errors");
    }

    #[test]
    fn bad_swc_files_name_the_line() {
        let t = CellConfig::bs4();
        let e = parse("1 1 0 0 0 10\n", &t).unwrap_err();
        assert!(e.contains("line 1: expected 7 fields"), "{e}");
        let e = parse("1 1 0 0 0 10 -1\n2 3 0 x 0 1 1\n", &t).unwrap_err();
        assert!(e.contains("line 2: y `x` is not a finite number"), "{e}");
        let e = parse("1 1 0 0 0 10 -1\n2 3 0 0 0 1 7\n", &t).unwrap_err();
        assert!(e.contains("point 2 names parent 7"), "{e}");
        let e = parse("1 3 0 0 0 1 -1\n", &t).unwrap_err();
        assert!(e.contains("no soma"), "{e}");
        let e = parse("1 1 0 0 0 10 -1\n2 3 0 0 0 -1 1\n", &t).unwrap_err();
        assert!(e.contains("line 2: radius -1 must be positive"), "{e}");
        let e = parse("1 1 0 0 0 10 -1\n2 3 0 0 0 1 1\n3 3 1e9 0 0 1 2\n", &t).unwrap_err();
        assert!(e.contains("segments (at most 100000); are the file's units µm?"), "{e}");
    }
}
