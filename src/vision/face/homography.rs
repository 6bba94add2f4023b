//! The plane test. A flat picture (a print, a screen) moved in front of a camera maps every
//! point of it between two frames by one homography. Four landmarks — the eyes and the mouth
//! corners — fix that homography; a flat face then puts the fifth, the nose tip, exactly
//! where the homography sends it. A real head's nose stands out of that plane and lands
//! elsewhere when the head turns (parallax).

/// The 3×3 homography (row-major, h33 = 1) mapping four points onto four others, or `None`
/// when three of them are (nearly) on one line.
pub fn from_four(from: &[(f32, f32); 4], to: &[(f32, f32); 4]) -> Option<[f64; 9]> {
    // Eight equations in h11..h32: x' (h31 x + h32 y + 1) = h11 x + h12 y + h13, same for y'.
    let mut a = [[0f64; 9]; 8];
    for (i, (p, q)) in from.iter().zip(to).enumerate() {
        let (x, y) = (f64::from(p.0), f64::from(p.1));
        let (u, v) = (f64::from(q.0), f64::from(q.1));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    let h = solve8(a)?;
    Some([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0])
}

/// Gaussian elimination with partial pivoting on an 8×8 system (the last column is the
/// right-hand side), relative to the matrix's scale so that pixel coordinates in the
/// thousands do not hide a singular system.
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    let scale = a
        .iter()
        .flat_map(|r| r[..8].iter())
        .fold(0f64, |m, v| m.max(v.abs()))
        .max(1.0);
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 * scale {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(pivot_row.iter()).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some(std::array::from_fn(|i| a[i][8] / a[i][i]))
}

pub fn apply(h: &[f64; 9], p: (f32, f32)) -> Option<(f32, f32)> {
    let (x, y) = (f64::from(p.0), f64::from(p.1));
    let w = h[6] * x + h[7] * y + h[8];
    if w.abs() < 1e-12 {
        return None;
    }
    Some((
        ((h[0] * x + h[1] * y + h[2]) / w) as f32,
        ((h[3] * x + h[4] * y + h[5]) / w) as f32,
    ))
}

/// Where the nose tip of frame `b` is against where the plane through eyes and mouth corners
/// of frame `a` puts it: (along the eye line towards the image's right, down the face), in
/// eye distances of `b`. About the landmark noise for a flat picture; for a real head it
/// points the way the head turned.
pub fn nose_parallax(a: &[(f32, f32); 5], b: &[(f32, f32); 5]) -> Option<(f32, f32)> {
    let plane = |l: &[(f32, f32); 5]| [l[0], l[1], l[3], l[4]];
    let h = from_four(&plane(a), &plane(b))?;
    let predicted = apply(&h, a[2])?;
    let eyes = (b[1].0 - b[0].0, b[1].1 - b[0].1);
    let eye = (eyes.0 * eyes.0 + eyes.1 * eyes.1).sqrt();
    if eye < 1.0 {
        return None;
    }
    let along = (eyes.0 / eye, eyes.1 / eye);
    let d = (b[2].0 - predicted.0, b[2].1 - predicted.1);
    Some((
        (d.0 * along.0 + d.1 * along.1) / eye,
        (-d.0 * along.1 + d.1 * along.0) / eye,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FACE: [(f32, f32); 5] = [(40., 50.), (80., 50.), (60., 70.), (45., 90.), (75., 90.)];

    fn moved(h: &[f64; 9], l: &[(f32, f32); 5]) -> [(f32, f32); 5] {
        l.map(|p| apply(h, p).unwrap())
    }

    #[test]
    fn a_flat_face_under_any_homography_has_no_parallax() {
        let tilts = [
            [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            [0.9, 0.2, 30.0, -0.1, 1.1, -12.0, 0.001, -0.0005, 1.0],
            [1.3, -0.4, 5.0, 0.3, 0.8, 40.0, -0.002, 0.001, 1.0],
        ];
        for h in tilts {
            let (x, y) = nose_parallax(&FACE, &moved(&h, &FACE)).unwrap();
            assert!(x.abs() < 1e-3 && y.abs() < 1e-3, "{x} {y}");
        }
    }

    #[test]
    fn a_nose_off_the_plane_shows() {
        let mut turned = FACE;
        turned[2].0 += 8.0; // the nose moves against eyes and mouth: 0.2 eye distances
        let (x, y) = nose_parallax(&FACE, &turned).unwrap();
        assert!((x - 0.2).abs() < 1e-3 && y.abs() < 1e-3, "{x} {y}");
        let mut up = FACE;
        up[2].1 -= 4.0;
        let (x, y) = nose_parallax(&FACE, &up).unwrap();
        assert!(x.abs() < 1e-3 && (y + 0.1).abs() < 1e-3, "{x} {y}");
    }

    #[test]
    fn collinear_points_have_no_homography() {
        let line = [(0., 0.), (1., 1.), (2., 2.), (3., 3.)];
        assert!(from_four(&line, &line).is_none());
    }
}
