//! The cable tree as NEURON lays it out, and its O(N) Hines solve.
//!
//! Each section of `nseg` segments has one node per segment centre, plus a zero-area node at
//! its 1-end (and the root section one at its 0-end). Adjacent centres of a section are coupled
//! through the axial resistance of one segment (two half-segments); a section's first centre
//! connects to its parent's node at `parent_x` through half of its first segment; the end
//! nodes connect to the nearest centre through half a segment. Zero-area nodes carry no
//! membrane: a sealed end with nothing attached follows its neighbour exactly, as in NEURON.
//!
//! Nodes are numbered so that every node's parent has a smaller index (node 0 is the root),
//! which is all the Hines elimination needs.

use crate::cell::{CellConfig, Section};
use crate::pt3d;
use crate::simd::{lanes, lanes_mut};

/// Marks the root's missing parent.
pub const NO_PARENT: usize = usize::MAX;

/// The discretised cell.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Parent node of each node ([`NO_PARENT`] for node 0).
    pub parent: Vec<usize>,
    /// Axial conductance between each node and its parent, µS (0 for the root).
    pub g_axial: Vec<f64>,
    /// Membrane area of each node, µm² (0 for end nodes).
    pub area: Vec<f64>,
    /// Membrane capacitance of each node, nF.
    pub capacitance: Vec<f64>,
    /// Centre nodes of each section, from its 0-end.
    pub centres: Vec<Vec<usize>>,
    /// The node at each section's 0-end: the root's own end node, else the node it attaches to.
    pub end0: Vec<usize>,
    /// Each section's 1-end node.
    pub end1: Vec<usize>,
}

/// Each segment's area (µm²), the conductance (µS) from the node before it (the attachment,
/// or the previous centre) to its centre, and the conductance from the last centre to the
/// 1-end: from the 3-D points where the section has them, else for a cylinder.
fn segments(sec: &Section, ra: f64) -> (Vec<f64>, Vec<f64>, f64) {
    if sec.points.len() >= 2 {
        let segs = pt3d::segments(&sec.points, sec.nseg, ra);
        let g_in = (0..segs.len())
            .map(|k| {
                1.0 / if k == 0 {
                    segs[0].r_left
                } else {
                    segs[k - 1].r_right + segs[k].r_left
                }
            })
            .collect();
        let g_end = 1.0 / segs[segs.len() - 1].r_right;
        return (segs.iter().map(|g| g.area).collect(), g_in, g_end);
    }
    let seg = sec.length / sec.nseg as f64;
    let half_g = 1.0 / axial_resistance(ra, seg / 2.0, sec.diam);
    let full_g = 1.0 / axial_resistance(ra, seg, sec.diam);
    let area = std::f64::consts::PI * sec.diam * seg;
    let g_in = (0..sec.nseg).map(|k| if k == 0 { half_g } else { full_g }).collect();
    (vec![area; sec.nseg], g_in, half_g)
}

/// Axial resistance of a cylinder, MΩ: `ra` Ω·cm, `length` and `diam` µm.
pub fn axial_resistance(ra: f64, length: f64, diam: f64) -> f64 {
    ra * length * 4e-2 / (std::f64::consts::PI * diam * diam)
}

impl Tree {
    /// Lays out a validated cell.
    pub fn new(cell: &CellConfig) -> Self {
        let n_sec = cell.sections.len();
        let mut t = Tree {
            parent: Vec::new(),
            g_axial: Vec::new(),
            area: Vec::new(),
            capacitance: Vec::new(),
            centres: vec![Vec::new(); n_sec],
            end0: vec![NO_PARENT; n_sec],
            end1: vec![NO_PARENT; n_sec],
        };
        // Sections breadth-first from the soma, so parents are laid out before children.
        let mut order = vec![0usize];
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            order.extend((0..n_sec).filter(|&c| cell.sections[c].parent == Some(s)));
            i += 1;
        }
        for s in order {
            let sec = &cell.sections[s];
            let cm = sec.cm.unwrap_or(cell.cm);
            let (areas, g_in, g_end) = segments(sec, cell.ra);
            let attach = match sec.parent {
                None => t.push(NO_PARENT, 0.0, 0.0, 0.0),
                Some(p) => t.node_at(p, sec.parent_x),
            };
            t.end0[s] = attach;
            let mut prev = attach;
            for (area, g) in areas.into_iter().zip(g_in) {
                prev = t.push(prev, g, area, cm * area * 1e-5);
                t.centres[s].push(prev);
            }
            t.end1[s] = t.push(prev, g_end, 0.0, 0.0);
        }
        t
    }

    fn push(&mut self, parent: usize, g: f64, area: f64, capacitance: f64) -> usize {
        self.parent.push(parent);
        self.g_axial.push(g);
        self.area.push(area);
        self.capacitance.push(capacitance);
        self.parent.len() - 1
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether there are no nodes (never, for a built tree).
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The node holding location `x` of `section`, as NEURON's `node_exact`: the 0- or 1-end node
    /// at the ends, else the centre of the segment containing `x`.
    pub fn node_at(&self, section: usize, x: f64) -> usize {
        let centres = &self.centres[section];
        if x <= 0.0 {
            self.end0[section]
        } else if x >= 1.0 {
            self.end1[section]
        } else {
            centres[((x * centres.len() as f64) as usize).min(centres.len() - 1)]
        }
    }

    /// Solves the tree system in place by Hines elimination: row `i` is
    /// `d[i]·x[i] − g[i]·x[parent(i)] − Σ_children g[c]·x[c] = rhs[i]`. On return `rhs` holds `x`;
    /// `d` is overwritten.
    pub fn solve(&self, d: &mut [f64], rhs: &mut [f64]) {
        self.solve_lanes::<1>(d, rhs)
    }

    /// [`Tree::solve`] for `K` independent systems on the same tree at once (trials of a batch),
    /// stored node-major: entry `(node, lane)` at `node · K + lane`.
    #[inline(always)]
    pub fn solve_lanes<const K: usize>(&self, d: &mut [f64], rhs: &mut [f64]) {
        let n = self.len();
        let k = K;
        for i in (1..n).rev() {
            let (p, g) = (self.parent[i], self.g_axial[i]);
            let (d_lo, d_hi) = d.split_at_mut(i * k);
            let (r_lo, r_hi) = rhs.split_at_mut(i * k);
            let (dp, rp) = (&mut d_lo[p * k..(p + 1) * k], &mut r_lo[p * k..(p + 1) * k]);
            for (((dp, rp), di), ri) in dp.iter_mut().zip(rp).zip(&d_hi[..k]).zip(&r_hi[..k]) {
                let f = g / di;
                *dp -= f * g;
                *rp += f * ri;
            }
        }
        for (r, d) in rhs[..k].iter_mut().zip(&d[..k]) {
            *r /= d;
        }
        for i in 1..n {
            let (p, g) = (self.parent[i], self.g_axial[i]);
            let (r_lo, r_hi) = rhs.split_at_mut(i * k);
            // Whole lanes as arrays, so the lane loop vectorises.
            let (rp, di, ri) = (lanes::<K>(r_lo, p), lanes::<K>(d, i), lanes_mut::<K>(r_hi, 0));
            for l in 0..K {
                ri[l] = (ri[l] + g * rp[l]) / di[l];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Gaussian elimination with partial pivoting on a dense copy.
    fn dense_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for c in 0..n {
            let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
            a.swap(c, p);
            b.swap(c, p);
            for r in c + 1..n {
                let f = a[r][c] / a[c][c];
                let pivot = a[c].clone();
                for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * p;
                }
                b[r] -= f * b[c];
            }
        }
        let mut x = vec![0.0; n];
        for r in (0..n).rev() {
            x[r] = (b[r] - (r + 1..n).map(|k| a[r][k] * x[k]).sum::<f64>()) / a[r][r];
        }
        x
    }

    #[test]
    fn hines_equals_a_dense_solve_on_random_trees() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for trial in 0..50 {
            let n = rng.random_range(1..60);
            let parent: Vec<usize> = (0..n)
                .map(|i| if i == 0 { NO_PARENT } else { rng.random_range(0..i) })
                .collect();
            let g: Vec<f64> = (0..n)
                .map(|i| if i == 0 { 0.0 } else { rng.random_range(0.01..10.0) })
                .collect();
            let t = Tree {
                parent,
                g_axial: g.clone(),
                area: vec![1.0; n],
                capacitance: vec![1.0; n],
                centres: vec![],
                end0: vec![],
                end1: vec![],
            };
            // Diagonal: the coupling it must contain plus a random membrane term (some zero:
            // zero-area nodes).
            let mut d: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.random::<f64>() < 0.2 {
                        0.0
                    } else {
                        rng.random_range(0.0..5.0)
                    }
                })
                .collect();
            for i in 1..n {
                d[i] += g[i];
                d[t.parent[i]] += g[i];
            }
            d[0] += 1e-3; // keep an all-zero-area tree non-singular
            let rhs: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut a = vec![vec![0.0; n]; n];
            for i in 0..n {
                a[i][i] = d[i];
                if i > 0 {
                    a[i][t.parent[i]] = -g[i];
                    a[t.parent[i]][i] = -g[i];
                }
            }
            let want = dense_solve(a, rhs.clone());
            let (mut dd, mut x) = (d.clone(), rhs.clone());
            t.solve(&mut dd, &mut x);
            for i in 0..n {
                assert!(
                    (x[i] - want[i]).abs() < 1e-9 * want[i].abs().max(1.0),
                    "trial {trial}, node {i}: {} vs {}",
                    x[i],
                    want[i]
                );
            }
        }
    }

    #[test]
    fn bs4_has_neurons_layout() {
        let cell = CellConfig::bs4();
        let t = Tree::new(&cell);
        // Root 0-end, soma centre, soma 1-end, then 10 + 10 + 20 + 20 centres and 4 end nodes.
        assert_eq!(t.len(), 3 + 60 + 4);
        let soma = t.centres[0][0];
        assert_eq!(t.parent[soma], 0);
        for d in 1..=4 {
            // Every dendrite attaches to the soma's centre through half its first segment.
            let first = t.centres[d][0];
            assert_eq!(t.parent[first], soma);
            let seg = cell.sections[d].length / cell.sections[d].nseg as f64;
            assert!((1.0 / t.g_axial[first] - axial_resistance(150.0, seg / 2.0, 1.0)).abs() < 1e-9);
            assert!(t.parent.iter().enumerate().skip(1).all(|(i, &p)| p < i));
        }
        // A 20 µm, 1 µm segment: π·20 µm² of membrane, 1 µF/cm² → 6.28e-4 nF.
        let c = t.capacitance[t.centres[1][0]];
        assert!((c - std::f64::consts::PI * 20.0 * 1e-5).abs() < 1e-15);
        // node_exact: x = 0.05 → first centre, 0.95 → last, 1 → end node.
        assert_eq!(t.node_at(1, 0.05), t.centres[1][0]);
        assert_eq!(t.node_at(1, 0.95), t.centres[1][9]);
        assert_eq!(t.node_at(1, 1.0), t.end1[1]);
        assert_eq!(t.node_at(1, 0.0), soma);
    }
}
