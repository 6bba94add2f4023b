//! Renders synthetic resident ID cards (front and back) at 20 px/mm: the layout, colours and
//! fields of the second-generation card, in a real CJK font, with a drawn portrait.

use ab_glyph::{FontArc, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_ellipse_mut, draw_filled_rect_mut, draw_polygon_mut,
    draw_text_mut, text_size,
};
use imageproc::point::Point;
use imageproc::rect::Rect;
use rand::Rng;

use super::identity::Identity;

/// 85.6 x 54 mm at 20 px/mm.
pub const CARD_W: u32 = 1712;
pub const CARD_H: u32 = 1080;
const PX_PER_MM: f32 = 20.0;

fn mm(v: f32) -> i32 {
    (v * PX_PER_MM).round() as i32
}

const LABEL: Rgb<u8> = Rgb([60, 110, 170]);
const INK: Rgb<u8> = Rgb([25, 25, 30]);

/// The pale guilloche background both sides share.
fn background(rng: &mut impl Rng) -> RgbImage {
    let tint: f32 = rng.gen_range(-1.0..1.0);
    let mut img = RgbImage::from_fn(CARD_W, CARD_H, |x, y| {
        let t = x as f32 / CARD_W as f32;
        let u = y as f32 / CARD_H as f32;
        let wave = ((x as f32 / 23.0 + (y as f32 / 41.0).sin() * 3.0).sin() * 0.5 + 0.5) * 10.0;
        let r = 226.0 + 10.0 * t * tint - wave * 0.4;
        let g = 232.0 + 4.0 * u - wave * 0.3;
        let b = 238.0 - 8.0 * t * tint - wave * 0.1;
        Rgb([r as u8, g as u8, b as u8])
    });
    // Fine interference lines.
    for k in 0..40 {
        let phase = k as f32 * 0.7;
        for x in (0..CARD_W).step_by(2) {
            let y = (CARD_H as f32 * (0.5 + 0.45 * ((x as f32 / 180.0) + phase).sin())) as u32;
            if y < CARD_H {
                let p = img.get_pixel_mut(x, y);
                *p = Rgb([
                    p[0].saturating_sub(18),
                    p[1].saturating_sub(10),
                    p[2].saturating_sub(2),
                ]);
            }
        }
    }
    img
}

/// Rounded corners: outside the radius the card is transparent; we paint it with `outside`
/// and the compositor uses the same mask.
pub fn corner_mask(x: u32, y: u32) -> bool {
    let r = mm(3.0) as f32;
    let (w, h) = (CARD_W as f32, CARD_H as f32);
    let (fx, fy) = (x as f32, y as f32);
    let cx = if fx < r {
        r
    } else if fx > w - r {
        w - r
    } else {
        return true;
    };
    let cy = if fy < r {
        r
    } else if fy > h - r {
        h - r
    } else {
        return true;
    };
    (fx - cx).powi(2) + (fy - cy).powi(2) <= r * r
}

fn text(img: &mut RgbImage, font: &FontArc, x: i32, y: i32, size: f32, colour: Rgb<u8>, s: &str) {
    draw_text_mut(img, colour, x, y, PxScale::from(size), font, s);
}

/// Spaced label text, as the card prints 姓 名 and 性 别.
fn label(img: &mut RgbImage, font: &FontArc, x: i32, y: i32, s: &str) {
    let spaced: String = s
        .chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(if s.chars().count() == 2 { "  " } else { "" });
    text(img, font, x, y, mm(2.9) as f32, LABEL, &spaced);
}

/// The portrait, drawn in its own frame so nothing spills onto the text around it.
fn portrait(card: &mut RgbImage, rng: &mut impl Rng) {
    let (px, py, w, h) = (mm(56.0), mm(9.0), mm(26.0), mm(32.0));
    let mut img = RgbImage::from_pixel(w as u32, h as u32, Rgb([236, 240, 246]));
    let img = &mut img;
    let (x0, y0) = (0, 0);
    let skin = Rgb([
        rng.gen_range(205..235),
        rng.gen_range(160..190),
        rng.gen_range(130..160),
    ]);
    let cx = x0 + w / 2;
    // Shoulders, neck, head, hair.
    draw_filled_ellipse_mut(
        img,
        (cx, y0 + h),
        w / 2 - mm(1.0),
        mm(9.0),
        Rgb([40, 45, 60]),
    );
    draw_filled_rect_mut(
        img,
        Rect::at(cx - mm(3.0), y0 + h - mm(13.0)).of_size(mm(6.0) as u32, mm(6.0) as u32),
        skin,
    );
    draw_filled_ellipse_mut(img, (cx, y0 + mm(14.0)), mm(7.5), mm(9.5), skin);
    draw_filled_ellipse_mut(img, (cx, y0 + mm(7.0)), mm(8.0), mm(4.5), Rgb([25, 20, 20]));
    for dx in [-mm(3.0), mm(3.0)] {
        draw_filled_circle_mut(img, (cx + dx, y0 + mm(13.0)), mm(0.7), Rgb([30, 25, 25]));
    }
    draw_filled_ellipse_mut(
        img,
        (cx, y0 + mm(19.0)),
        mm(2.2),
        mm(0.6),
        Rgb([170, 80, 80]),
    );
    image::imageops::replace(card, img, i64::from(px), i64::from(py));
}

/// The front: name, sex, ethnicity, birth date, address, ID number and a drawn portrait.
pub fn front(id: &Identity, font: &FontArc, rng: &mut impl Rng) -> RgbImage {
    let mut img = front_text(id, font, rng);
    portrait(&mut img, rng);
    img
}

/// The front with a photograph as the portrait (scaled to fill the portrait's frame).
pub fn front_with_portrait(
    id: &Identity,
    font: &FontArc,
    rng: &mut impl Rng,
    photo: &RgbImage,
) -> RgbImage {
    let mut img = front_text(id, font, rng);
    let (w, h) = (mm(26.0) as u32, mm(32.0) as u32);
    let scaled = crate::vision::decode::resize(photo, w, h);
    image::imageops::replace(&mut img, &scaled, i64::from(mm(56.0)), i64::from(mm(9.0)));
    img
}

fn front_text(id: &Identity, font: &FontArc, rng: &mut impl Rng) -> RgbImage {
    let mut img = background(rng);
    let value = mm(3.6) as f32;
    let (lx, vx) = (mm(5.0), mm(15.5));
    label(&mut img, font, lx, mm(7.5), "姓名");
    text(&mut img, font, vx, mm(7.0), value, INK, &id.name);
    label(&mut img, font, lx, mm(14.5), "性别");
    text(
        &mut img,
        font,
        vx,
        mm(14.0),
        value * 0.9,
        INK,
        if id.male { "男" } else { "女" },
    );
    label(&mut img, font, mm(27.0), mm(14.5), "民族");
    text(
        &mut img,
        font,
        mm(35.0),
        mm(14.0),
        value * 0.9,
        INK,
        &id.ethnicity,
    );
    label(&mut img, font, lx, mm(21.5), "出生");
    let birth = format!(
        "{}  年  {}  月  {}  日",
        id.birth.format("%Y"),
        id.birth.format("%-m"),
        id.birth.format("%-d")
    );
    text(&mut img, font, vx, mm(21.0), value * 0.9, INK, &birth);
    label(&mut img, font, lx, mm(28.5), "住址");
    // The address wraps at 11 characters a line, three lines at most (the generator keeps
    // addresses that short).
    let chars: Vec<char> = id.address.chars().collect();
    for (i, line) in chars.chunks(11).take(3).enumerate() {
        let s: String = line.iter().collect();
        text(
            &mut img,
            font,
            vx,
            mm(28.0) + i as i32 * mm(5.0),
            value * 0.9,
            INK,
            &s,
        );
    }
    label(&mut img, font, lx, mm(46.0), "公民身份号码");
    let digits: String = id
        .id_number
        .chars()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("");
    text(
        &mut img,
        font,
        mm(28.0),
        mm(45.3),
        mm(4.0) as f32,
        INK,
        &digits,
    );
    img
}

/// The back: the emblem, the card's title, the issuing authority and the validity period.
pub fn back(id: &Identity, font: &FontArc, rng: &mut impl Rng) -> RgbImage {
    let mut img = background(rng);
    let red = Rgb([200, 30, 35]);
    let gold = Rgb([245, 200, 60]);
    let (ex, ey) = (mm(13.0), mm(13.0));
    draw_filled_circle_mut(&mut img, (ex, ey), mm(8.5), red);
    star(
        &mut img,
        (ex as f32, ey as f32 - mm(2.0) as f32),
        mm(3.0) as f32,
        gold,
    );
    for k in 0..4 {
        let a = -0.9 + k as f32 * 0.6;
        star(
            &mut img,
            (
                ex as f32 + mm(5.5) as f32 * a.cos(),
                ey as f32 + mm(5.5) as f32 * a.sin() - mm(2.0) as f32,
            ),
            mm(1.0) as f32,
            gold,
        );
    }
    text(
        &mut img,
        font,
        mm(28.0),
        mm(8.0),
        mm(5.0) as f32,
        INK,
        "中华人民共和国",
    );
    let title = "居民身份证";
    let size = PxScale::from(mm(8.0) as f32);
    let (tw, _) = text_size(size, font, title);
    draw_text_mut(
        &mut img,
        INK,
        (CARD_W as i32 - tw as i32) / 2 + mm(6.0),
        mm(19.0),
        size,
        font,
        title,
    );
    label(&mut img, font, mm(16.0), mm(37.5), "签发机关");
    text(
        &mut img,
        font,
        mm(33.0),
        mm(37.0),
        mm(3.4) as f32,
        INK,
        &id.authority,
    );
    label(&mut img, font, mm(16.0), mm(44.5), "有效期限");
    let until = id
        .valid_until
        .map_or("长期".to_string(), |d| d.format("%Y.%m.%d").to_string());
    text(
        &mut img,
        font,
        mm(33.0),
        mm(44.0),
        mm(3.4) as f32,
        INK,
        &format!("{}-{until}", id.valid_from.format("%Y.%m.%d")),
    );
    img
}

fn star(img: &mut RgbImage, c: (f32, f32), r: f32, colour: Rgb<u8>) {
    let pts: Vec<Point<i32>> = (0..10)
        .map(|i| {
            let a = -std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
            let rr = if i % 2 == 0 { r } else { r * 0.4 };
            Point::new(
                (c.0 + rr * a.cos()).round() as i32,
                (c.1 + rr * a.sin()).round() as i32,
            )
        })
        .collect();
    draw_polygon_mut(img, &pts, colour);
}
