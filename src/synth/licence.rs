//! Renders a synthetic business licence (营业执照, the 2016+ layout: red border and title,
//! the unified social credit code top left, labelled fields in two columns, a red seal) and
//! photographs it lying on a desk.

use ab_glyph::{FontArc, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_circle_mut, draw_text_mut, text_size};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use imageproc::rect::Rect;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::filing::credit_code::check_character;

/// A4 landscape at 6 px/mm.
pub const PAGE_W: u32 = 1782;
pub const PAGE_H: u32 = 1260;
const PX_PER_MM: f32 = 6.0;

fn mm(v: f32) -> i32 {
    (v * PX_PER_MM).round() as i32
}

#[derive(Debug, Clone)]
pub struct Licence {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
}

const TRADE_NAMES: &[&str] = &[
    "启明", "星河", "青松", "云帆", "金穗", "博远", "华创", "睿智", "恒信", "长风", "翰林", "致远",
];
const INDUSTRIES: &[&str] = &[
    "科技",
    "信息技术",
    "网络科技",
    "文化传媒",
    "软件",
    "电子商务",
];
const CITIES: &[(&str, &str)] = &[
    ("110108", "北京市海淀区"),
    ("310115", "上海市浦东新区"),
    ("440305", "深圳市南山区"),
    ("330106", "杭州市西湖区"),
    ("510107", "成都市武侯区"),
    ("420111", "武汉市洪山区"),
];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰涛明超华建国志红玉梅文辉鑫宇浩";

impl Licence {
    pub fn random(rng: &mut impl Rng) -> Licence {
        let (division, city) = *CITIES.choose(rng).unwrap_or(&CITIES[0]);
        // Registration authority 1 (market regulation), type 1 (enterprise), the division,
        // a nine-character organisation code, then the check character.
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let org: String = (0..9)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        let first17 = format!("91{division}{org}");
        let credit_code = format!(
            "{first17}{}",
            check_character(first17.as_bytes()).unwrap_or('0')
        );
        let pick = |s: &str, rng: &mut dyn rand::RngCore| {
            let chars: Vec<char> = s.chars().collect();
            chars[rng.gen_range(0..chars.len())]
        };
        let legal_representative: String =
            [pick(SURNAMES, rng), pick(GIVEN, rng), pick(GIVEN, rng)]
                .iter()
                .take(if rng.gen_bool(0.7) { 3 } else { 2 })
                .collect();
        let city_short = city.chars().take(2).collect::<String>();
        Licence {
            credit_code,
            name: format!(
                "{city_short}{}{}有限公司",
                TRADE_NAMES.choose(rng).copied().unwrap_or("启明"),
                INDUSTRIES.choose(rng).copied().unwrap_or("科技")
            ),
            legal_representative,
            address: format!(
                "{city}{}路{}号{}室",
                ["科技", "创业", "文化", "学院", "中山"][rng.gen_range(0..5)],
                rng.gen_range(1..300),
                rng.gen_range(101..1800)
            ),
        }
    }
}

pub fn render(l: &Licence, font: &FontArc, rng: &mut impl Rng) -> RgbImage {
    let paper = Rgb([
        rng.gen_range(244..252),
        rng.gen_range(240..248),
        rng.gen_range(228..240),
    ]);
    let red = Rgb([190, 40, 40]);
    let ink = Rgb([30, 30, 35]);
    let mut img = RgbImage::from_pixel(PAGE_W, PAGE_H, paper);
    // The patterned red border.
    for (inset, width) in [(mm(6.0), mm(3.0)), (mm(11.0), mm(0.8))] {
        let (w, h) = (PAGE_W as i32 - 2 * inset, PAGE_H as i32 - 2 * inset);
        for r in [
            Rect::at(inset, inset).of_size(w as u32, width as u32),
            Rect::at(inset, inset + h - width).of_size(w as u32, width as u32),
            Rect::at(inset, inset).of_size(width as u32, h as u32),
            Rect::at(inset + w - width, inset).of_size(width as u32, h as u32),
        ] {
            draw_filled_rect_mut(&mut img, r, red);
        }
    }
    let title = "营业执照";
    let size = PxScale::from(mm(16.0) as f32);
    let (tw, _) = text_size(size, font, title);
    draw_text_mut(
        &mut img,
        red,
        (PAGE_W as i32 - tw as i32) / 2,
        mm(30.0),
        size,
        font,
        title,
    );
    let small = PxScale::from(mm(4.2) as f32);
    draw_text_mut(
        &mut img,
        ink,
        mm(24.0),
        mm(24.0),
        small,
        font,
        "统一社会信用代码",
    );
    draw_text_mut(
        &mut img,
        ink,
        mm(24.0),
        mm(31.0),
        small,
        font,
        &l.credit_code,
    );

    let text = PxScale::from(mm(4.6) as f32);
    let left: [(&str, &str); 4] = [
        ("名称", &l.name),
        ("类型", "有限责任公司（自然人投资或控股）"),
        ("法定代表人", &l.legal_representative),
        ("经营范围", "技术开发、技术咨询、技术服务"),
    ];
    let right: [(&str, &str); 3] = [
        ("注册资本", "人民币100万元"),
        ("成立日期", "2019年06月18日"),
        ("住所", &l.address),
    ];
    for (i, (label, value)) in left.iter().enumerate() {
        let y = mm(78.0 + i as f32 * 16.0);
        draw_text_mut(&mut img, ink, mm(30.0), y, text, font, label);
        draw_text_mut(&mut img, ink, mm(62.0), y, text, font, value);
    }
    for (i, (label, value)) in right.iter().enumerate() {
        let y = mm(78.0 + i as f32 * 16.0);
        draw_text_mut(&mut img, ink, mm(165.0), y, text, font, label);
        draw_text_mut(&mut img, ink, mm(190.0), y, text, font, value);
    }
    // The registration authority's seal, bottom right.
    for k in 0..4 {
        draw_hollow_circle_mut(&mut img, (mm(235.0), mm(168.0)), mm(18.0) + k, red);
    }
    draw_text_mut(&mut img, red, mm(222.0), mm(165.0), text, font, "登记机关");
    img
}

/// The page lying on a desk, photographed from slightly off-axis: `w`×`h`, the page filling
/// most of the frame.
pub fn photo(page: &RgbImage, w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let desk = Rgb([
        rng.gen_range(60..120),
        rng.gen_range(50..100),
        rng.gen_range(40..80),
    ]);
    let mut out = RgbImage::from_pixel(w, h, desk);
    let (wf, hf) = (w as f32, h as f32);
    let pw = wf * rng.gen_range(0.72..0.86);
    let ph = pw * PAGE_H as f32 / PAGE_W as f32;
    let (cx, cy) = (wf / 2.0, hf / 2.0);
    let angle: f32 = rng.gen_range(-0.06..0.06);
    let (sin, cos) = angle.sin_cos();
    let jitter = pw * 0.02;
    let corners =
        [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy): (f32, f32)| {
            let (x, y) = (sx * pw / 2.0, sy * ph / 2.0);
            (
                cx + x * cos - y * sin + rng.gen_range(-jitter..jitter),
                cy + x * sin + y * cos + rng.gen_range(-jitter..jitter),
            )
        });
    let from = [
        (0.0, 0.0),
        (PAGE_W as f32, 0.0),
        (PAGE_W as f32, PAGE_H as f32),
        (0.0, PAGE_H as f32),
    ];
    // Everything off the page is the (plain) desk.
    if let Some(p) = Projection::from_control_points(from, corners) {
        warp_into(
            page,
            p,
            Interpolation::Bilinear,
            Border::Constant(desk),
            &mut out,
        );
    }
    out
}
