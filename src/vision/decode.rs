//! Safe intake of an uploaded photo: the format from its magic bytes (never the file name or
//! Content-Type), the structure checked to its end (truncation, other formats appended),
//! the size read from the header and capped *before* any pixel is decoded, decoding under
//! `image::Limits`, the EXIF orientation applied, and a metadata-free re-encoded copy.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::filing::reason::ReasonCode;

#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    /// Smaller than this on the short side is no usable photo of a document.
    pub min_side: u32,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_bytes: 15 * 1024 * 1024,
            max_pixels: 50_000_000,
            min_side: 200,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("the file is empty")]
    Empty,
    #[error("HEIC/HEIF photos are not accepted: set the camera to 'most compatible' (JPEG) or upload a screenshot-free JPEG, PNG or WebP")]
    Heic,
    #[error("not a JPEG, PNG or WebP image (looks like {0})")]
    UnsupportedFormat(&'static str),
    #[error("the image is too large: {0}")]
    TooLarge(String),
    #[error("the image is too small ({width}x{height}): a photo of a document needs at least {min} pixels on its short side")]
    TooSmall { width: u32, height: u32, min: u32 },
    #[error("the file ends before the image does: the upload was cut off")]
    Truncated,
    #[error("the image data is corrupt: {0}")]
    Corrupt(String),
    #[error("the file carries another file after the image ({0}); upload the photo alone")]
    Polyglot(&'static str),
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }

    /// The same as the reason a material is sent back for, when the worker's decode fails.
    pub fn reason(&self) -> ReasonCode {
        match self {
            Self::Empty => ReasonCode::EmptyFile,
            Self::Heic | Self::UnsupportedFormat(_) => ReasonCode::UnsupportedFormat,
            Self::TooLarge(_) => ReasonCode::ImageTooLarge,
            Self::TooSmall { .. } => ReasonCode::ImageTooSmall,
            Self::Truncated => ReasonCode::ImageTruncated,
            Self::Corrupt(_) => ReasonCode::ImageCorrupt,
            Self::Polyglot(_) => ReasonCode::ImagePolyglot,
        }
    }
}

/// What the header says, before decoding.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub format: Format,
    /// As stored; `oriented_size` swaps them for 90° orientations.
    pub width: u32,
    pub height: u32,
    pub orientation: image::metadata::Orientation,
}

impl Probe {
    pub fn oriented_size(&self) -> (u32, u32) {
        use image::metadata::Orientation::*;
        match self.orientation {
            Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (self.height, self.width),
            _ => (self.width, self.height),
        }
    }
}

pub fn sniff(bytes: &[u8]) -> Result<Format, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Format::Webp);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            &b"heic"[..],
            b"heix",
            b"heim",
            b"heis",
            b"hevc",
            b"hevx",
            b"mif1",
            b"msf1",
        ]
        .contains(&brand)
        {
            return Err(IntakeError::Heic);
        }
        if brand == b"avif" {
            return Err(IntakeError::UnsupportedFormat("AVIF"));
        }
        return Err(IntakeError::UnsupportedFormat("a video or MP4 file"));
    }
    let other = match bytes {
        [b'G', b'I', b'F', b'8', ..] => "GIF",
        [b'B', b'M', ..] => "BMP",
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => "TIFF",
        [b'%', b'P', b'D', b'F', ..] => "PDF",
        [b'P', b'K', 3, 4, ..] => "a ZIP archive",
        _ => "an unknown format",
    };
    Err(IntakeError::UnsupportedFormat(other))
}

/// Checks the size caps and the file's structure, and reads the header.
pub fn probe(bytes: &[u8], limits: &IntakeLimits) -> Result<Probe, IntakeError> {
    let format = sniff(bytes)?;
    if bytes.len() > limits.max_bytes {
        return Err(IntakeError::TooLarge(format!(
            "{} bytes, at most {} are accepted",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let end = match format {
        Format::Jpeg => jpeg_end(bytes),
        Format::Png => png_end(bytes),
        Format::Webp => webp_end(bytes),
    }?;
    check_trailer(&bytes[end..])?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(image_limits(limits));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    Ok(Probe {
        format,
        width,
        height,
        orientation,
    })
}

fn check_pixels(width: u32, height: u32, limits: &IntakeLimits) -> Result<(), IntakeError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(IntakeError::TooLarge(format!(
            "{width}x{height} is {:.1} megapixels, at most {:.0} are accepted",
            pixels as f64 / 1e6,
            limits.max_pixels as f64 / 1e6
        )));
    }
    if width.min(height) < limits.min_side {
        return Err(IntakeError::TooSmall {
            width,
            height,
            min: limits.min_side,
        });
    }
    Ok(())
}

fn image_limits(limits: &IntakeLimits) -> Limits {
    let side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    let mut l = Limits::default();
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    // RGBA at the pixel cap, plus room for the decoder's own buffers.
    l.max_alloc = Some(limits.max_pixels * 4 + 64 * 1024 * 1024);
    l
}

fn map_image_error(e: image::ImageError, limits: &IntakeLimits) -> IntakeError {
    match e {
        image::ImageError::Limits(_) => IntakeError::TooLarge(format!(
            "over the decoding limit of {} pixels",
            limits.max_pixels
        )),
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            IntakeError::Truncated
        }
        other => IntakeError::Corrupt(other.to_string()),
    }
}

/// The long side of the copy a decoded photo keeps: the most any stage looks at (a page's
/// print is read at it, and the gate looks for a far-off card's print at it).
pub const WORKING_LONG_SIDE: u32 = 2048;
/// The long side of the image the quality gate looks at.
pub const GATE_LONG_SIDE: u32 = 1024;

/// An uploaded photo, probed once, with the oriented copies the stages look at: `gate` (at
/// most `GATE_LONG_SIDE` on the long side) and a working copy (at most `WORKING_LONG_SIDE`),
/// which the page reader and the gate's search for a far-off card's print use. The full-size
/// pixels are decoded at most once and let go as soon as the copies are made, so judging and
/// reading run beside 15 MB rather than a 12 MP photo's 36 (or a 50 MP one's 150).
///
/// `decode_with` (the worker, which re-encodes the stored copy from the full-size pixels)
/// makes both copies at once. `decode` (the gate alone: `beian check`, calibration, the
/// benchmark) decodes a JPEG only at the gate's scale and makes the working copy the first
/// time a stage asks for it, which most photos never do.
pub struct Photo {
    pub probe: Probe,
    /// For a JPEG, decoded straight to about this size by the IDCT's own 1/2, 1/4, 1/8
    /// scaling, which the gate's thresholds were fitted on (resized from the full decode
    /// with a box filter instead, a fresh held-out seed, 4321 with 800 photos, passed fewer
    /// good photos: docs/quality-calibration.md). Other formats: resized from the full-size
    /// pixels.
    pub gate: RgbImage,
    working: std::sync::OnceLock<Result<RgbImage, IntakeError>>,
    /// The file, while the working copy is still to be made from it.
    bytes: Option<Vec<u8>>,
    limits: IntakeLimits,
    pub timings: DecodeTimings,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeTimings {
    pub probe: Duration,
    /// The decoding done before the photo was handed on: for a JPEG, the gate's scaled
    /// decode (and in `decode_with` the full one and the working copy); otherwise the full
    /// decode and both copies. A working copy made later is not counted.
    pub decode: Duration,
}

impl Photo {
    /// Probes `bytes` (every cap checked before a pixel is decoded), then decodes what the
    /// gate looks at; the working copy waits until a stage asks for it.
    pub fn decode(bytes: &[u8], limits: &IntakeLimits) -> Result<Photo, IntakeError> {
        let start = Instant::now();
        let probe = probe(bytes, limits)?;
        let probed = start.elapsed();
        if probe.format != Format::Jpeg {
            return Self::decode_with(bytes, limits, |_| {});
        }
        let gate = jpeg_gate_image(bytes, &probe)?;
        Ok(Photo {
            probe,
            gate,
            working: std::sync::OnceLock::new(),
            bytes: Some(bytes.to_vec()),
            limits: *limits,
            timings: DecodeTimings {
                probe: probed,
                decode: start.elapsed() - probed,
            },
        })
    }

    /// Probes and decodes `bytes` at full size, shows the full-size image to `full` before
    /// it is let go (the stored copy is re-encoded from it), and makes both copies.
    pub fn decode_with(
        bytes: &[u8],
        limits: &IntakeLimits,
        full: impl FnOnce(&RgbImage),
    ) -> Result<Photo, IntakeError> {
        let start = Instant::now();
        let probe = probe(bytes, limits)?;
        let probed = start.elapsed();
        let decoded = decode_full(bytes, &probe, limits)?;
        full(&decoded);
        let gate = match probe.format {
            Format::Jpeg => jpeg_gate_image(bytes, &probe)?,
            _ => resize_to_long_side(&decoded, GATE_LONG_SIDE),
        };
        Ok(Photo {
            probe,
            gate,
            working: std::sync::OnceLock::from(Ok(working_copy(decoded))),
            bytes: None,
            limits: *limits,
            timings: DecodeTimings {
                probe: probed,
                decode: start.elapsed() - probed,
            },
        })
    }

    /// The photo with at most `long_side` pixels on its long side, from the smallest copy
    /// that has them (the working copy made now if it was not yet).
    pub fn at_long_side(&self, long_side: u32) -> Result<RgbImage, IntakeError> {
        if long_side <= GATE_LONG_SIDE {
            return Ok(resize_to_long_side(&self.gate, long_side));
        }
        let working = self.working.get_or_init(|| {
            let bytes = self.bytes.as_deref().unwrap_or_default();
            decode_full(bytes, &self.probe, &self.limits).map(working_copy)
        });
        Ok(resize_to_long_side(
            working.as_ref().map_err(Clone::clone)?,
            long_side,
        ))
    }
}

/// A JPEG's image for the gate: decoded at the IDCT's scale nearest above `GATE_LONG_SIDE`,
/// then resized to it and oriented.
fn jpeg_gate_image(bytes: &[u8], probe: &Probe) -> Result<RgbImage, IntakeError> {
    Ok(orient(
        resize_to_long_side(
            &decode_jpeg_scaled(bytes, probe, GATE_LONG_SIDE)?,
            GATE_LONG_SIDE,
        ),
        probe,
    ))
}

/// The working copy of the full-size pixels: at most `WORKING_LONG_SIDE` on the long side.
fn working_copy(full: RgbImage) -> RgbImage {
    if full.width().max(full.height()) > WORKING_LONG_SIDE {
        resize_to_long_side(&full, WORKING_LONG_SIDE)
    } else {
        full
    }
}

/// The whole image, oriented, as RGB.
pub fn decode_full(
    bytes: &[u8],
    probe: &Probe,
    limits: &IntakeLimits,
) -> Result<RgbImage, IntakeError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), probe.format.image_format());
    reader.limits(image_limits(limits));
    let mut img = reader.decode().map_err(|e| map_image_error(e, limits))?;
    img.apply_orientation(probe.orientation);
    Ok(img.into_rgb8())
}

fn orient(img: RgbImage, probe: &Probe) -> RgbImage {
    let mut d = DynamicImage::ImageRgb8(img);
    d.apply_orientation(probe.orientation);
    d.into_rgb8()
}

fn decode_jpeg_scaled(
    bytes: &[u8],
    probe: &Probe,
    long_side: u32,
) -> Result<RgbImage, IntakeError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(map_jpeg_error)?;
    let long = probe.width.max(probe.height).max(1);
    let factor = f64::from(long_side) / f64::from(long);
    let want_w = ((f64::from(probe.width) * factor).ceil() as u32).clamp(1, u32::from(u16::MAX));
    let want_h = ((f64::from(probe.height) * factor).ceil() as u32).clamp(1, u32::from(u16::MAX));
    let (w, h) = decoder
        .scale(want_w as u16, want_h as u16)
        .map_err(map_jpeg_error)?;
    let pixels = decoder.decode().map_err(map_jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| IntakeError::Corrupt("no frame header".into()))?;
    let (w, h) = (u32::from(w), u32::from(h));
    let rgb: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|c| [c[0], c[0], c[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                let k = u16::from(c[3]);
                [c[0], c[1], c[2]].map(|v| ((u16::from(v) * k) / 255) as u8)
            })
            .collect(),
    };
    RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| IntakeError::Corrupt("decoded size does not match the header".into()))
}

fn map_jpeg_error(e: jpeg_decoder::Error) -> IntakeError {
    match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            IntakeError::Truncated
        }
        other => IntakeError::Corrupt(other.to_string()),
    }
}

/// Resizes (area-averaging, SIMD) so the long side is at most `long_side`.
pub fn resize_to_long_side(img: &RgbImage, long_side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= long_side {
        return img.clone();
    }
    let (nw, nh) = if w >= h {
        (
            long_side,
            ((u64::from(h) * u64::from(long_side)) / u64::from(w)).max(1) as u32,
        )
    } else {
        (
            ((u64::from(w) * u64::from(long_side)) / u64::from(h)).max(1) as u32,
            long_side,
        )
    };
    resize(img, nw, nh)
}

pub fn resize(img: &RgbImage, nw: u32, nh: u32) -> RgbImage {
    use fast_image_resize::{
        images::Image, images::ImageRef, PixelType, ResizeAlg, ResizeOptions, Resizer,
    };
    let (w, h) = img.dimensions();
    let src = ImageRef::new(w, h, img.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer fits its size");
    let mut dst = Image::new(nw, nh, PixelType::U8x3);
    let options =
        ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Box));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("resizing between RGB buffers of known sizes cannot fail");
    RgbImage::from_raw(nw, nh, dst.into_vec()).expect("the resizer fills the whole buffer")
}

/// A JPEG of the image with no metadata at all (EXIF, GPS, maker notes are gone).
pub fn reencode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(encoder)
        .expect("encoding an RGB buffer into memory cannot fail");
    out
}

/// End offset of a JPEG: walks the marker segments and the entropy-coded data to EOI.
fn jpeg_end(b: &[u8]) -> Result<usize, IntakeError> {
    let mut i = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while i < b.len() && b[i] == 0xFF && i + 1 < b.len() && b[i + 1] == 0xFF {
            i += 1;
        }
        if i + 1 >= b.len() {
            return Err(IntakeError::Truncated);
        }
        if b[i] != 0xFF {
            return Err(IntakeError::Corrupt(format!(
                "expected a marker at byte {i}"
            )));
        }
        let marker = b[i + 1];
        i += 2;
        match marker {
            0xD9 => return Ok(i),
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        if i + 2 > b.len() {
            return Err(IntakeError::Truncated);
        }
        let len = usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
        if len < 2 {
            return Err(IntakeError::Corrupt("a segment length below 2".into()));
        }
        i += len;
        if i > b.len() {
            return Err(IntakeError::Truncated);
        }
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00
            // nor a restart marker.
            loop {
                let Some(p) = b[i..].iter().position(|&x| x == 0xFF) else {
                    return Err(IntakeError::Truncated);
                };
                i += p;
                if i + 1 >= b.len() {
                    return Err(IntakeError::Truncated);
                }
                match b[i + 1] {
                    0x00 | 0xD0..=0xD7 | 0xFF => i += if b[i + 1] == 0xFF { 1 } else { 2 },
                    _ => break,
                }
            }
        }
    }
}

fn png_end(b: &[u8]) -> Result<usize, IntakeError> {
    let mut i = 8;
    loop {
        if i + 8 > b.len() {
            return Err(IntakeError::Truncated);
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        i = i.checked_add(12 + len).ok_or(IntakeError::Truncated)?;
        if i > b.len() {
            return Err(IntakeError::Truncated);
        }
        if kind == b"IEND" {
            return Ok(i);
        }
    }
}

fn webp_end(b: &[u8]) -> Result<usize, IntakeError> {
    let size = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    let end = 8 + size + (size & 1);
    if end > b.len() + (size & 1) {
        return Err(IntakeError::Truncated);
    }
    Ok(end.min(b.len()))
}

/// Bytes after the image's end. Phones append harmless trailers (motion-photo videos, vendor
/// blocks) and the stored copy is re-encoded anyway; what we refuse is another document or
/// program riding along, which is how image/ZIP, image/PDF and image/HTML polyglots work.
fn check_trailer(trailer: &[u8]) -> Result<(), IntakeError> {
    const SIGNATURES: [(&[u8], &str); 9] = [
        (b"PK\x03\x04", "a ZIP archive"),
        (b"%PDF", "a PDF document"),
        (b"<?php", "a PHP script"),
        (b"<script", "a script"),
        (b"<html", "an HTML page"),
        (b"<!DOCTYPE", "an HTML page"),
        (b"\x7fELF", "a program"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ];
    if trailer.starts_with(b"MZ") {
        return Err(IntakeError::Polyglot("a Windows program"));
    }
    for (sig, what) in SIGNATURES {
        if trailer
            .windows(sig.len())
            .any(|w| w.eq_ignore_ascii_case(sig))
        {
            return Err(IntakeError::Polyglot(what));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        reencode_jpeg(&img, 85)
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn code(r: Result<Probe, IntakeError>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn accepts_jpeg_and_png_by_content_not_name() {
        let limits = IntakeLimits::default();
        let p = probe(&jpeg(640, 480), &limits).unwrap();
        assert_eq!((p.format, p.width, p.height), (Format::Jpeg, 640, 480));
        assert_eq!(probe(&png(300, 300), &limits).unwrap().format, Format::Png);
    }

    #[test]
    fn refuses_each_hostile_file_with_its_code() {
        let limits = IntakeLimits::default();
        let good = jpeg(640, 480);
        assert_eq!(code(probe(b"", &limits)), "empty_file");
        assert_eq!(code(probe(b"GIF89a....", &limits)), "unsupported_format");
        assert_eq!(
            code(probe(b"\0\0\0\x18ftypheic\0\0\0\0", &limits)),
            "unsupported_format"
        );
        assert!(probe(b"\0\0\0\x18ftypheic\0\0\0\0", &limits)
            .unwrap_err()
            .to_string()
            .contains("HEIC"));
        assert_eq!(
            code(probe(&good[..good.len() / 2], &limits)),
            "image_truncated"
        );
        assert_eq!(code(probe(&good[..3], &limits)), "image_truncated");
        assert_eq!(code(probe(&jpeg(1, 1), &limits)), "image_too_small");
        let mut polyglot = good.clone();
        polyglot.extend_from_slice(b"PK\x03\x04 zip payload");
        assert_eq!(code(probe(&polyglot, &limits)), "image_polyglot");
        let mut trailer = good.clone();
        trailer.extend_from_slice(b"\0\0\0\x18ftypmp42 motion photo");
        assert_eq!(
            code(probe(&trailer, &limits)),
            "ok",
            "a phone's motion-photo trailer is fine"
        );
        let mut p = png(300, 300);
        p.truncate(p.len() - 20);
        assert_eq!(code(probe(&p, &limits)), "image_truncated");
    }

    #[test]
    fn webp_is_accepted_and_corrupt_data_is_an_error() {
        let img = RgbImage::from_fn(320, 240, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 9])
        });
        let mut webp = Vec::new();
        img.write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)
            .unwrap();
        let limits = IntakeLimits::default();
        let p = probe(&webp, &limits).unwrap();
        assert_eq!((p.format, p.width, p.height), (Format::Webp, 320, 240));
        assert_eq!(
            Photo::decode(&webp, &limits)
                .unwrap()
                .at_long_side(160)
                .unwrap()
                .dimensions(),
            (160, 120)
        );

        // A JPEG whose frame header says 0 components: the structure is whole, the data not.
        let mut bad = jpeg(320, 240);
        let sof = bad.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bad[sof + 9] = 0;
        let err = probe(&bad, &limits)
            .and_then(|p| decode_full(&bad, &p, &limits))
            .unwrap_err();
        assert_eq!(err.code(), "image_corrupt", "{err}");
    }

    #[test]
    fn a_pixel_flood_is_refused_from_the_header_alone() {
        // A valid PNG header claiming 100000 x 100000 pixels and almost no data.
        let mut p = png(300, 300);
        p[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        p[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&p[12..29]);
        p[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = probe(&p, &IntakeLimits::default()).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "{err}");
        let big = jpeg(1000, 1000);
        let small_cap = IntakeLimits {
            max_pixels: 500_000,
            ..Default::default()
        };
        assert_eq!(code(probe(&big, &small_cap)), "image_too_large");
        let byte_cap = IntakeLimits {
            max_bytes: 1000,
            ..Default::default()
        };
        assert_eq!(code(probe(&big, &byte_cap)), "image_too_large");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_photo_is_decoded_once_and_keeps_a_working_copy_that_smaller_ones_come_from() {
        let limits = IntakeLimits::default();
        let mut full = (0, 0);
        let bytes = jpeg(3000, 2000);
        let photo = Photo::decode_with(&bytes, &limits, |f| full = f.dimensions()).unwrap();
        assert_eq!(full, (3000, 2000));
        assert_eq!(photo.gate.dimensions(), (GATE_LONG_SIDE, 682));
        let working = photo.at_long_side(WORKING_LONG_SIDE).unwrap();
        assert_eq!(working.dimensions(), (WORKING_LONG_SIDE, 1365));
        assert_eq!(photo.at_long_side(1000).unwrap().dimensions(), (1000, 666));
        assert_eq!(photo.at_long_side(1500).unwrap().dimensions(), (1500, 999));

        // Decoded for the gate alone, the same copies: the working one made when asked for.
        let lazy = Photo::decode(&bytes, &limits).unwrap();
        assert_eq!(lazy.gate, photo.gate);
        assert!(lazy.working.get().is_none(), "no full decode for the gate");
        assert_eq!(lazy.at_long_side(WORKING_LONG_SIDE).unwrap(), working);
        let small = Photo::decode(&jpeg(2000, 1500), &limits).unwrap();
        assert_eq!(small.at_long_side(4000).unwrap().dimensions(), (2000, 1500));
    }

    /// A JPEG with an EXIF block whose orientation tag says "rotate 90° clockwise" (6).
    fn jpeg_with_orientation(w: u32, h: u32, orientation: u16) -> Vec<u8> {
        let plain = jpeg(w, h);
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&0x0112u16.to_be_bytes());
        tiff.extend_from_slice(&3u16.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn the_exif_orientation_is_applied() {
        let bytes = jpeg_with_orientation(640, 400, 6);
        let limits = IntakeLimits::default();
        let p = probe(&bytes, &limits).unwrap();
        assert_eq!((p.width, p.height), (640, 400));
        assert_eq!(p.oriented_size(), (400, 640));
        assert_eq!(
            decode_full(&bytes, &p, &limits).unwrap().dimensions(),
            (400, 640)
        );
        assert_eq!(
            Photo::decode(&bytes, &limits)
                .unwrap()
                .at_long_side(320)
                .unwrap()
                .dimensions(),
            (200, 320)
        );
        assert_eq!(
            Photo::decode(&bytes, &limits)
                .unwrap()
                .at_long_side(GATE_LONG_SIDE + 1)
                .unwrap()
                .dimensions(),
            (400, 640),
            "the working copy made later is oriented too"
        );
        let stored = reencode_jpeg(&decode_full(&bytes, &p, &limits).unwrap(), 90);
        assert!(
            !stored.windows(4).any(|w| w == b"Exif"),
            "the stored copy has no EXIF left"
        );
    }

    #[test]
    fn reencoding_drops_metadata() {
        let bytes = jpeg(400, 300);
        assert!(!bytes.windows(4).any(|w| w == b"Exif"));
        assert_eq!(sniff(&bytes).unwrap(), Format::Jpeg);
    }
}
