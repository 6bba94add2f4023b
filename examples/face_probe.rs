//! Prints what the face models make of photos: every face with its box, landmarks, pose and
//! passive score, and the cosine similarity of every pair of first faces:
//! `cargo run --release --example face_probe -- IMAGE...`.
use std::path::Path;
use std::time::Instant;

use beian::vision::face::pose::Pose;
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;

fn main() -> anyhow::Result<()> {
    let models = Models::shared(Path::new("models"), OcrModels::Ppocrv6Small, 2)?;
    let f = &models.face;
    let mut embeddings = Vec::new();
    for path in std::env::args().skip(1) {
        let img = image::open(&path)?.to_rgb8();
        let t = Instant::now();
        let faces = f.detector.detect(&img)?;
        let det = t.elapsed();
        println!(
            "{path} {:?}: {} faces, detect {det:.1?}",
            img.dimensions(),
            faces.len()
        );
        for face in &faces {
            let t = Instant::now();
            let passive = f.antispoof.score(&img, face)?;
            let fas = t.elapsed();
            println!(
                "  score {:.3} box {:?} pose {:?} passive {passive:.3} ({fas:.1?})\n  landmarks {:?}",
                face.score,
                face.bbox.map(|v| v.round()),
                Pose::of(&face.landmarks),
                face.landmarks.map(|(x, y)| (x.round(), y.round()))
            );
        }
        if let Some(face) = faces.first() {
            let t = Instant::now();
            embeddings.push((path.clone(), f.embedder.embed(&img, face)?));
            println!("  embed {:.1?}", t.elapsed());
        }
    }
    for (i, (a, ea)) in embeddings.iter().enumerate() {
        for (b, eb) in &embeddings[i + 1..] {
            println!("{:.3}  {a}  {b}", ea.cosine(eb));
        }
    }
    Ok(())
}
