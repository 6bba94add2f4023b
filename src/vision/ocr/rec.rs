//! Text recognition: PP-OCR's CRNN-style recogniser and greedy CTC decoding.

use image::RgbImage;

use super::tensor::write_bgr_chw;
use crate::vision::runtime::Model;

/// The recogniser's input height; widths follow each line.
pub const HEIGHT: u32 = 48;
/// Most lines run together in one inference.
const MAX_BATCH: usize = 8;
/// A line joins a batch only if padding it to the batch's widest line adds at most this share:
/// on a CPU the padding costs as much as text, so batches are of lines of nearly one width
/// (measured on an ID card front: one line per run 105 ms, six per run 186 ms).
const MAX_PADDING: f32 = 0.15;

/// The characters a recogniser can emit, in its output order (index 0 is CTC's blank, the
/// last a space).
pub struct Dictionary(Vec<String>);

impl Dictionary {
    /// One character per line, as the model metadata and the dictionary files carry them.
    pub fn parse(text: &str) -> Dictionary {
        Dictionary(
            text.split('\n')
                .map(|s| s.trim_end_matches('\r').to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    /// blank + characters + space.
    pub fn classes(&self) -> usize {
        self.0.len() + 2
    }

    fn symbol(&self, class: usize) -> Option<&str> {
        match class {
            0 => None,
            c if c == self.0.len() + 1 => Some(" "),
            c => self.0.get(c - 1).map(String::as_str),
        }
    }
}

/// Text and mean character confidence for each line (cut out at `HEIGHT`).
pub fn recognise(
    model: &Model,
    dict: &Dictionary,
    lines: &[RgbImage],
) -> anyhow::Result<Vec<(String, f32)>> {
    let mut results = vec![(String::new(), 0.0); lines.len()];
    for batch in batches_by_width(lines) {
        let batch = &batch[..];
        let width = batch.iter().map(|&i| lines[i].width()).max().unwrap_or(1);
        let plane = (3 * HEIGHT * width) as usize;
        let mut input = vec![0f32; batch.len() * plane];
        for (k, &i) in batch.iter().enumerate() {
            write_bgr_chw(&lines[i], &mut input[k * plane..(k + 1) * plane], width);
        }
        let (shape, probs) =
            model.run([batch.len(), 3, HEIGHT as usize, width as usize], &input)?;
        anyhow::ensure!(
            shape.len() == 3 && shape[0] == batch.len() && shape[2] == dict.classes(),
            "recogniser output {shape:?} does not fit a dictionary of {} classes",
            dict.classes()
        );
        let (steps, classes) = (shape[1], shape[2]);
        for (k, &i) in batch.iter().enumerate() {
            let one = &probs[k * steps * classes..(k + 1) * steps * classes];
            results[i] = ctc_decode(one, classes, dict);
        }
    }
    Ok(results)
}

/// Line indices grouped into batches of similar width, narrowest first.
fn batches_by_width(lines: &[RgbImage]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| lines[i].width());
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let width = lines[i].width() as f32;
        match batches.last_mut() {
            Some(b)
                if b.len() < MAX_BATCH
                    && width <= lines[b[0]].width() as f32 * (1.0 + MAX_PADDING) =>
            {
                b.push(i)
            }
            _ => batches.push(vec![i]),
        }
    }
    batches
}

/// Greedy CTC: the best class at each step, repeats merged, blanks dropped; the confidence is
/// the mean probability of the characters kept.
pub fn ctc_decode(probs: &[f32], classes: usize, dict: &Dictionary) -> (String, f32) {
    let mut text = String::new();
    let (mut sum, mut kept) = (0f32, 0u32);
    let mut previous = 0usize;
    for step in probs.chunks(classes) {
        let (best, p) =
            step.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
        if best != previous {
            if let Some(s) = dict.symbol(best) {
                text.push_str(s);
                sum += p;
                kept += 1;
            }
        }
        previous = best;
    }
    let confidence = if kept == 0 { 0.0 } else { sum / kept as f32 };
    (text, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(classes: usize, seq: &[usize]) -> Vec<f32> {
        seq.iter()
            .flat_map(|&c| {
                (0..classes).map(move |i| if i == c { 0.9 } else { 0.1 / classes as f32 })
            })
            .collect()
    }

    #[test]
    fn ctc_merges_repeats_drops_blanks_and_keeps_doubled_letters_split_by_a_blank() {
        let dict = Dictionary::parse("a\nb\n张\n");
        assert_eq!(dict.classes(), 5);
        // a a _ a b b _ 张 space
        let probs = one_hot(5, &[1, 1, 0, 1, 2, 2, 0, 3, 4]);
        let (text, conf) = ctc_decode(&probs, 5, &dict);
        assert_eq!(text, "aab张 ");
        assert!((conf - 0.9).abs() < 1e-6);
    }

    #[test]
    fn batches_hold_lines_of_nearly_one_width() {
        let widths = [100, 400, 110, 105, 300, 420, 90];
        let lines: Vec<RgbImage> = widths.iter().map(|&w| RgbImage::new(w, HEIGHT)).collect();
        let batches = batches_by_width(&lines);
        let as_widths: Vec<Vec<u32>> = batches
            .iter()
            .map(|b| b.iter().map(|&i| widths[i]).collect())
            .collect();
        assert_eq!(
            as_widths,
            vec![vec![90, 100], vec![105, 110], vec![300], vec![400, 420]]
        );
    }

    #[test]
    fn an_all_blank_line_is_empty_with_zero_confidence() {
        let dict = Dictionary::parse("a\n");
        assert_eq!(
            ctc_decode(&one_hot(3, &[0, 0, 0]), 3, &dict),
            (String::new(), 0.0)
        );
    }
}
