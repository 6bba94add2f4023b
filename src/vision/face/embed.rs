//! Face embeddings with SFace: the aligned 112×112 face as RGB 0–255 (the model subtracts
//! 127.5 and scales by 1/128 itself) to 128 numbers, L2-normalised so that the cosine
//! similarity of two faces is their dot product.

use image::RgbImage;

use super::align;
use super::detect::Face;
use crate::vision::runtime::Model;

#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Embedding> {
        (bytes.len() == 128 * 4).then(|| {
            Embedding(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        })
    }
}

pub struct Embedder {
    model: Model,
}

impl Embedder {
    pub fn new(model: Model) -> Embedder {
        Embedder { model }
    }

    pub fn embed(&self, img: &RgbImage, face: &Face) -> anyhow::Result<Embedding> {
        let aligned = align::aligned(img, &face.landmarks)
            .ok_or_else(|| anyhow::anyhow!("the landmarks do not define a face"))?;
        let plane = 112 * 112;
        let mut input = vec![0f32; 3 * plane];
        for (x, y, p) in aligned.enumerate_pixels() {
            let i = (y * 112 + x) as usize;
            for c in 0..3 {
                input[c * plane + i] = f32::from(p[c]);
            }
        }
        let (_, out) = self.model.run([1, 3, 112, 112], &input)?;
        let norm = out
            .iter()
            .map(|v| v * v)
            .sum::<f32>()
            .sqrt()
            .max(f32::EPSILON);
        Ok(Embedding(out.iter().map(|v| v / norm).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedding_survives_its_byte_form() {
        let e = Embedding((0..128).map(|i| i as f32 / 128.0).collect());
        assert_eq!(Embedding::from_bytes(&e.to_bytes()), Some(e));
        assert_eq!(Embedding::from_bytes(&[0; 10]), None);
    }
}
