//! A CJK font for rendering synthetic documents: `BEIAN_CJK_FONT`, or the first of the Debian
//! packages' fonts (fonts-wqy-zenhei, fonts-noto-cjk, fonts-wqy-microhei) found under the
//! system font directory.

use std::path::{Path, PathBuf};

use ab_glyph::FontArc;
use anyhow::{anyhow, Context};

use super::desk::Family;

const SYSTEM_FONT_DIR: &str = "/usr/share/fonts";
const CANDIDATES: [&str; 4] = [
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSerifCJK-Regular.ttc",
    "wqy-microhei.ttc",
];

/// The fonts the held-out scenes are rendered in (Debian fonts-noto-cjk), so no held-out card
/// shares the tuning cards' font: (file, index of the Simplified Chinese face in it).
pub const HELD_OUT_FONTS: [(&str, u32); 2] = [
    ("NotoSansCJK-Regular.ttc", 2),
    ("NotoSerifCJK-Regular.ttc", 2),
];

/// The fonts cards are rendered in: the default font for the tuning families, the held-out
/// fonts in turn for the held-out families.
pub struct CardFonts {
    tuning: FontArc,
    held_out: Vec<FontArc>,
}

impl CardFonts {
    /// Loads the held-out fonts only when one of `families` is held out, so runs on the
    /// tuning families need no Noto fonts installed.
    pub fn load(families: &[Family]) -> anyhow::Result<Self> {
        let held_out = if families.iter().any(|f| f.is_held_out()) {
            HELD_OUT_FONTS
                .iter()
                .map(|(file, index)| load_system_font(file, *index))
                .collect::<anyhow::Result<_>>()?
        } else {
            Vec::new()
        };
        Ok(Self {
            tuning: load_cjk_font()?,
            held_out,
        })
    }

    /// The font of the `i`th card photographed in `family`.
    pub fn for_card(&self, family: Family, i: usize) -> &FontArc {
        if family.is_held_out() && !self.held_out.is_empty() {
            &self.held_out[i % self.held_out.len()]
        } else {
            &self.tuning
        }
    }
}

/// One of the system's fonts by file name and face index.
pub fn load_system_font(file: &str, index: u32) -> anyhow::Result<FontArc> {
    let path = search(Path::new(SYSTEM_FONT_DIR), file, 4).ok_or_else(|| {
        anyhow!("font {file} not found: install fonts-noto-cjk (scripts/setup does)")
    })?;
    load(&path, index)
}

fn load(path: &Path, index: u32) -> anyhow::Result<FontArc> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let font = ab_glyph::FontVec::try_from_vec_and_index(data, index)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(FontArc::new(font))
}

pub fn load_cjk_font() -> anyhow::Result<FontArc> {
    let path = match std::env::var_os("BEIAN_CJK_FONT") {
        Some(p) => PathBuf::from(p),
        None => find(Path::new(SYSTEM_FONT_DIR)).ok_or_else(|| {
            anyhow!("no CJK font found: install fonts-wqy-zenhei (scripts/setup does) or set BEIAN_CJK_FONT")
        })?,
    };
    load(&path, 0)
}

fn find(dir: &Path) -> Option<PathBuf> {
    for name in CANDIDATES {
        if let Some(p) = search(dir, name, 4) {
            return Some(p);
        }
    }
    None
}

fn search(dir: &Path, name: &str, depth: u32) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
        if depth > 0 && path.is_dir() {
            subdirs.push(path);
        }
    }
    subdirs
        .into_iter()
        .find_map(|d| search(&d, name, depth - 1))
}
