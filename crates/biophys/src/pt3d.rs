//! A section's geometry from its 3-D points, as NEURON computes it (`nrn_pt3dmodified`,
//! `diam_from_list` in `treeset.cpp`): arc lengths from single-precision points, then per
//! segment the membrane area and the axial resistance of each half by trapezoidal integration
//! along the points, the diameter interpolated linearly between them and each piece a frustum
//! (its slant counted in the area).

use crate::asc::Point3;

/// Arc length (µm) of every point from the first, as NEURON accumulates it: differences taken
/// in single precision, their squares summed and rooted in double.
pub fn arc_lengths(points: &[Point3]) -> Vec<f64> {
    let mut arc = Vec::with_capacity(points.len());
    let mut total = 0.0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            let q = &points[i - 1];
            let (t1, t2, t3) = ((p.x - q.x) as f64, (p.y - q.y) as f64, (p.z - q.z) as f64);
            total += (t1 * t1 + t2 * t2 + t3 * t3).sqrt();
        }
        arc.push(total);
    }
    arc
}

/// The length of the section: the last point's arc length (0 without points).
pub fn length(points: &[Point3]) -> f64 {
    arc_lengths(points).last().copied().unwrap_or(0.0)
}

/// One segment's geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Membrane area, µm².
    pub area: f64,
    /// Mean diameter, µm.
    pub diam: f64,
    /// Axial resistance of the left half (from the segment's start to its centre), MΩ.
    pub r_left: f64,
    /// Axial resistance of the right half, MΩ.
    pub r_right: f64,
}

/// The geometry of `nseg` equal segments of a section with `points` (at least 2) and axial
/// resistivity `ra` (Ω·cm).
pub fn segments(points: &[Point3], nseg: usize, ra: f64) -> Vec<Segment> {
    assert!(
        points.len() >= 2 && nseg >= 1,
        "pt3d::segments needs 2 points and a segment"
    );
    let arc = arc_lengths(points);
    let npt = points.len();
    let ds = arc[npt - 1] / nseg as f64;
    let d = |i: usize| (points[i].d as f64).abs();
    let (mut j, mut x1, mut y1) = (0usize, arc[0], d(0));
    let mut out = Vec::with_capacity(nseg);
    for inode in 0..nseg {
        let mut si = inode as f64 * ds;
        let (mut diam, mut area) = (0.0, 0.0);
        let mut halves = [0.0; 2];
        for half in &mut halves {
            let mut ri = 0.0;
            let sip = si + ds / 2.0;
            loop {
                let jp = j + 1;
                let (xj, xjp) = (arc[j], arc[jp]);
                let (x2, y2, jnext) = if xjp > sip || jp == npt - 1 {
                    let frac = if (xjp - xj).abs() < 1e-10 {
                        1.0
                    } else {
                        (sip - xj) / (xjp - xj)
                    };
                    (sip, (1.0 - frac) * d(j) + frac * d(jp), j)
                } else {
                    (xjp, d(jp), jp)
                };
                let mut delta = x2 - x1;
                diam += (y2 + y1) * delta;
                if delta < 1e-15 {
                    delta = 1e-15;
                }
                let mut temp = y2 * y1 / delta;
                if temp == 0.0 {
                    temp = 1e-15;
                }
                ri += 1.0 / temp;
                let taper = 0.5 * (y2 - y1);
                area += (y2 + y1) * (delta * delta + taper * taper).sqrt();
                x1 = x2;
                y1 = y2;
                if j == jnext {
                    break;
                }
                j = jnext;
            }
            *half = ri * ra / std::f64::consts::PI * (4.0 * 0.01);
            si = sip;
        }
        out.push(Segment {
            area: area * 0.5 * std::f64::consts::PI,
            diam: diam * 0.5 / ds,
            r_left: halves[0],
            r_right: halves[1],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f32, d: f32) -> Point3 {
        Point3 { x, y: 0.0, z: 0.0, d }
    }

    #[test]
    fn a_straight_cylinder_has_the_cylinders_area_and_resistance() {
        let pts = [p(0.0, 2.0), p(3.0, 2.0), p(10.0, 2.0)];
        let segs = segments(&pts, 5, 100.0);
        for s in &segs {
            assert!((s.area - std::f64::consts::PI * 2.0 * 2.0).abs() < 1e-12);
            assert!((s.diam - 2.0).abs() < 1e-12);
            // 1 µm of 2 µm diameter at 100 Ω·cm: 100 · 1e-4 / (π · 1e-8) Ω = 0.3183 MΩ per µm.
            let half = 100.0 * 1e-4 / (std::f64::consts::PI * 1e-8) * 1e-6;
            assert!((s.r_left - half).abs() < 1e-12 && (s.r_right - half).abs() < 1e-12);
        }
    }

    #[test]
    fn a_cone_has_the_frustums_lateral_area() {
        let pts = [p(0.0, 1.0), p(4.0, 3.0)];
        let segs = segments(&pts, 1, 100.0);
        let slant = (16.0f64 + 1.0).sqrt();
        assert!((segs[0].area - std::f64::consts::PI * (0.5 + 1.5) * slant).abs() < 1e-12);
        assert_eq!(length(&pts), 4.0);
    }
}
