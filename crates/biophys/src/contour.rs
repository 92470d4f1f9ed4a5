//! A soma outlined by a contour, turned into a line of 3-D points with diameters as NEURON's
//! Import3d does it (`contour2centroid` in `import3d_gui.hoc`): the contour resampled to 101
//! points evenly spaced along its perimeter (measured in the x–y plane), its centre their mean,
//! the major axis the principal axis of their scatter; the soma runs along that axis over the
//! range both sides of the outline cover (21 points), each point's diameter the outline's width
//! across it in the x–y plane, the two end diameters averaged with their neighbours.

use crate::asc::Point3;

/// The soma's points (single precision, as NEURON stores them) from a closed contour of
/// `[x, y, z, d]` points; an error if the contour has no extent to find an axis in.
pub fn soma_centroid(contour: &[[f64; 4]]) -> std::result::Result<Vec<Point3>, String> {
    if contour.len() < 3 {
        return Err(format!("a soma contour needs 3 points, got {}", contour.len()));
    }
    let (resampled, mean) = contour_center(contour);
    let n = resampled[0].len();
    let pts: [Vec<f64>; 3] = std::array::from_fn(|r| resampled[r].iter().map(|v| v - mean[r]).collect());
    let mut m = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in i..3 {
            m[i][j] = pts[i].iter().zip(&pts[j]).map(|(a, b)| a * b).fold(0.0, |s, x| s + x);
            m[j][i] = m[i][j];
        }
    }
    let (values, vectors) = symmetric_eigen(m);
    let max_ind = first_index(&values, |a, b| a > b);
    let min_ind = first_index(&values, |a, b| a < b);
    let mut major: [f64; 3] = std::array::from_fn(|r| vectors[r][max_ind]);
    let largest = first_index(&major.map(f64::abs), |a, b| a > b);
    if major[largest] < 0.0 {
        major = major.map(|x| -x);
    }
    let middle = 3 - min_ind - max_ind;
    let mut minor: [f64; 3] = std::array::from_fn(|r| vectors[r][middle]);
    minor[2] = 0.0;
    let mag = |v: &[f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let ratio = mag(&minor) / (mag(&major) + 1e-100);
    if ratio.is_nan() || ratio < 1e-6 {
        return Err("failed to compute the soma's centroid from its contour (no width in x-y)".into());
    }
    let minor_mag = mag(&minor);
    let minor = minor.map(|x| x / minor_mag);
    let dot = |i: usize, v: &[f64; 3]| pts[0][i] * v[0] + pts[1][i] * v[1] + pts[2][i] * v[2];
    let mut d: Vec<f64> = (0..n).map(|i| dot(i, &major)).collect();
    let mut rad: Vec<f64> = (0..n).map(|i| dot(i, &minor)).collect();
    let imax = first_index(&d, |a, b| a > b);
    d.rotate_left(imax);
    rad.rotate_left(imax);
    let imin = first_index(&d, |a, b| a < b);
    let (mut side2, mut rad2) = (d[imin..].to_vec(), rad[imin..].to_vec());
    d.truncate(imin);
    rad.truncate(imin);
    d.reverse();
    rad.reverse();
    make_increasing(&mut d, &mut rad);
    make_increasing(&mut side2, &mut rad2);
    if d.is_empty() || side2.len() < 2 {
        return Err("the soma contour is not convex enough to find its two sides".into());
    }
    let mut all: Vec<f64> = d.iter().chain(&side2).copied().collect();
    all.sort_by(f64::total_cmp);
    let (lo, hi) = (all[1], all[all.len() - 2]);
    let grid = indgen(lo, hi, (hi - lo) / 20.0);
    let rad = interpolate(&grid, &d, &rad);
    let rad2 = interpolate(&grid, &side2, &rad2);
    let mut diam: Vec<f64> = rad.iter().zip(&rad2).map(|(a, b)| (a - b).abs()).collect();
    let last = diam.len() - 1;
    diam[0] = (diam[0] + diam[1]) / 2.0;
    diam[last] = (diam[last] + diam[last - 1]) / 2.0;
    Ok(grid
        .iter()
        .zip(&diam)
        .map(|(&t, &dd)| {
            let p: [f64; 3] = std::array::from_fn(|r| major[r] * t + mean[r]);
            Point3 {
                x: p[0] as f32,
                y: p[1] as f32,
                z: p[2] as f32,
                d: dd as f32,
            }
        })
        .collect())
}

/// Import3d's `contourcenter`: 101 points evenly spaced along the perimeter through the points
/// in order (the closing edge not walked; lengths in the x–y plane), and their mean.
fn contour_center(contour: &[[f64; 4]]) -> ([Vec<f64>; 3], [f64; 3]) {
    let n = contour.len();
    let mut perim = vec![0.0; n];
    for i in 1..n {
        let (dx, dy) = (contour[i][0] - contour[i - 1][0], contour[i][1] - contour[i - 1][1]);
        perim[i] = perim[i - 1] + (dx * dx + dy * dy).sqrt();
    }
    let step = perim[n - 1] / 100.0;
    let at: Vec<f64> = (0..101).map(|i| i as f64 * step).collect();
    let resampled: [Vec<f64>; 3] = std::array::from_fn(|r| {
        let ys: Vec<f64> = contour.iter().map(|p| p[r]).collect();
        interpolate(&at, &perim, &ys)
    });
    let mean = std::array::from_fn(|r| resampled[r].iter().fold(0.0, |s, x| s + x) / 101.0);
    (resampled, mean)
}

/// NEURON's `Vector.interpolate`: `ys` over increasing `xs` (repeated abscissae skipped),
/// linear inside, the end values outside.
fn interpolate(xd: &[f64], xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let (nd, ns) = (xd.len(), xs.len());
    let mut yd = vec![0.0; nd];
    let mut id = 0;
    while id < nd && xd[id] <= xs[0] {
        yd[id] = ys[0];
        id += 1;
    }
    let mut is = 1;
    while is < ns && id < nd {
        if xs[is] > xs[is - 1] {
            while id < nd && xd[id] <= xs[is] {
                let theta = (xd[id] - xs[is - 1]) / (xs[is] - xs[is - 1]);
                yd[id] = (1.0 - theta) * ys[is - 1] + theta * ys[is];
                id += 1;
            }
        }
        is += 1;
    }
    for y in &mut yd[id..] {
        *y = ys[ns - 1];
    }
    yd
}

/// NEURON's `Vector.indgen(start, stop, step)`.
fn indgen(start: f64, end: f64, step: f64) -> Vec<f64> {
    if step == 0.0 {
        return vec![start];
    }
    let n = ((end - start) / step + 1e-9).floor() as usize + 1;
    (0..n).map(|i| i as f64 * step + start).collect()
}

/// Import3d's convexity pass: drops every position not above the one before it (and its
/// radius), from the end backwards, re-checking after each removal.
fn make_increasing(d: &mut Vec<f64>, rad: &mut Vec<f64>) {
    let mut j = d.len() as isize - 1;
    while j > 0 {
        let u = j as usize;
        if d[u] <= d[u - 1] {
            d.remove(u);
            rad.remove(u);
            if u != d.len() {
                j += 1;
            }
        }
        j -= 1;
    }
}

/// The first index whose value beats every other by `better` (NEURON's `max_ind`/`min_ind`).
fn first_index(v: &[f64], better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if better(x, v[best]) {
            best = i;
        }
    }
    best
}

/// Eigenvalues and unit eigenvectors (columns) of a symmetric 3×3 matrix, by Jacobi rotations.
fn symmetric_eigen(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..100 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        let scale = a[0][0].abs() + a[1][1].abs() + a[2][2].abs();
        if off <= 1e-300 || off <= f64::EPSILON * 1e-3 * scale {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for row in &mut a {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (row_p, row_q) = (a[p], a[q]);
            for (k, (apk, aqk)) in row_p.into_iter().zip(row_q).enumerate() {
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in &mut v {
                let (vkp, vkq) = (row[p], row[q]);
                row[p] = c * vkp - s * vkq;
                row[q] = s * vkp + c * vkq;
            }
        }
    }
    ([a[0][0], a[1][1], a[2][2]], v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_finds_the_eigenpairs_of_a_symmetric_matrix() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (values, vectors) = symmetric_eigen(m);
        for k in 0..3 {
            let v: [f64; 3] = std::array::from_fn(|r| vectors[r][k]);
            for r in 0..3 {
                let mv: f64 = (0..3).map(|c| m[r][c] * v[c]).sum();
                assert!((mv - values[k] * v[r]).abs() < 1e-12, "pair {k}");
            }
        }
    }

    #[test]
    fn an_ellipse_gives_a_soma_along_its_long_axis_as_wide_as_the_ellipse() {
        // An ellipse with semi-axes 10 (along x) and 4, tilted by nothing, 60 points.
        let contour: Vec<[f64; 4]> = (0..60)
            .map(|i| {
                let t = i as f64 / 60.0 * std::f64::consts::TAU;
                [10.0 * t.cos(), 4.0 * t.sin(), 5.0, 0.1]
            })
            .collect();
        let soma = soma_centroid(&contour).unwrap();
        assert_eq!(soma.len(), 21);
        // Along x, through the middle, about 8 wide where it is widest.
        assert!(soma.iter().all(|p| p.y.abs() < 0.2 && (p.z - 5.0).abs() < 1e-6));
        let widest = soma.iter().map(|p| p.d).fold(0.0f32, f32::max);
        assert!((widest - 8.0).abs() < 0.1, "{widest}");
        assert!(soma.first().unwrap().x < -9.0 && soma.last().unwrap().x > 9.0);
    }

    #[test]
    fn degenerate_contours_are_errors() {
        assert!(soma_centroid(&[[0.0, 0.0, 0.0, 1.0]; 2]).is_err());
        let line: Vec<[f64; 4]> = (0..10).map(|i| [i as f64, 0.0, 0.0, 1.0]).collect();
        assert!(soma_centroid(&line).is_err());
    }

    #[test]
    fn interpolate_and_indgen_are_neurons() {
        assert_eq!(
            interpolate(&[-1.0, 0.5, 3.0], &[0.0, 1.0, 1.0, 2.0], &[0.0, 2.0, 9.0, 4.0]),
            [0.0, 1.0, 4.0]
        );
        assert_eq!(indgen(1.0, 2.0, 0.25), [1.0, 1.25, 1.5, 1.75, 2.0]);
    }
}
