//! The fields of an ID card (front and back) and a business licence, parsed from the lines OCR
//! read on the flattened document. The layouts are fixed by the issuers, so each field is
//! found by its printed label and the lines beside or below it, not by absolute position.

use std::collections::BTreeMap;

use serde::Serialize;

use super::geometry::Quad;
use super::TextLine;

/// What the document in the photo turned out to be, by the labels read on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    IdCardFront,
    IdCardBack,
    BusinessLicense,
    Unknown,
}

impl Document {
    pub fn as_str(self) -> &'static str {
        match self {
            Document::IdCardFront => "id_card_front",
            Document::IdCardBack => "id_card_back",
            Document::BusinessLicense => "business_license",
            Document::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Field {
    pub value: String,
    /// The recogniser's mean character probability over the lines the value came from.
    pub confidence: f64,
}

/// Field names, as they appear in the JSON.
pub const NAME: &str = "name";
pub const SEX: &str = "sex";
pub const ETHNICITY: &str = "ethnicity";
pub const BIRTH_DATE: &str = "birth_date";
pub const ADDRESS: &str = "address";
pub const ID_NUMBER: &str = "id_number";
pub const AUTHORITY: &str = "issuing_authority";
pub const VALID_FROM: &str = "valid_from";
pub const VALID_UNTIL: &str = "valid_until";
pub const CREDIT_CODE: &str = "credit_code";
pub const LEGAL_REPRESENTATIVE: &str = "legal_representative";

pub type Fields = BTreeMap<&'static str, Field>;

const FRONT_LABELS: [&str; 6] = ["姓名", "性别", "民族", "出生", "住址", "公民身份号码"];
const BACK_LABELS: [&str; 4] = ["中华人民共和国", "居民身份证", "签发机关", "有效期限"];
const LICENCE_LABELS: [&str; 5] = ["营业执照", "统一社会信用代码", "名称", "法定代表人", "住所"];

/// Which document the lines come from: the one most of whose labels were read.
pub fn identify(lines: &[TextLine]) -> Document {
    let text: String = lines.iter().map(|l| compact(&l.text)).collect();
    let share = |labels: &[&str]| {
        labels.iter().filter(|l| text.contains(*l)).count() as f32 / labels.len() as f32
    };
    let scores = [
        (Document::IdCardFront, share(&FRONT_LABELS)),
        (Document::IdCardBack, share(&BACK_LABELS)),
        (Document::BusinessLicense, share(&LICENCE_LABELS)),
    ];
    scores
        .into_iter()
        .filter(|(_, s)| *s >= 0.5)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(Document::Unknown, |(d, _)| d)
}

/// The region of the portrait on a card front of `w`×`h` (GB/T 18299 layout: the right third,
/// top four fifths), as x0, y0, x1, y1.
pub fn portrait_region(w: u32, h: u32) -> [f32; 4] {
    let (w, h) = (w as f32, h as f32);
    [w * 0.63, h * 0.12, w * 0.97, h * 0.80]
}

pub fn parse(document: Document, lines: &[TextLine], w: u32, h: u32) -> Fields {
    match document {
        Document::IdCardFront => parse_front(lines, w, h),
        Document::IdCardBack => parse_back(lines),
        Document::BusinessLicense => parse_licence(lines),
        Document::Unknown => Fields::new(),
    }
}

fn parse_front(lines: &[TextLine], w: u32, h: u32) -> Fields {
    // Whatever is read inside the portrait is noise (hair, a collar read as a letter).
    let [px0, py0, _, py1] = portrait_region(w, h);
    let lines: Vec<&TextLine> = lines
        .iter()
        .filter(|l| {
            let (cx, cy) = centre(&l.quad);
            !(cx > px0 && cy > py0 && cy < py1)
        })
        .collect();
    let mut f = Fields::new();
    if let Some((v, c)) = after_label(&lines, &["姓名"]) {
        put(&mut f, NAME, name_chars(&v), c);
    }
    if let Some((v, c)) = after_label(&lines, &["性别"]) {
        if let Some(s) = v.chars().find(|c| *c == '男' || *c == '女') {
            put(&mut f, SEX, s.to_string(), c);
        }
    }
    if let Some((v, c)) = after_label(&lines, &["民族"]) {
        put(&mut f, ETHNICITY, cjk_only(&v), c);
    }
    // The label is short and sometimes misread; the line `1990 年 3 月 7 日` is unmistakable
    // on its own.
    let birth = after_label(&lines, &["出生"])
        .and_then(|(v, c)| Some((date_from_digits(&v)?, c)))
        .or_else(|| {
            lines
                .iter()
                .filter(|l| l.text.contains('年') && l.text.contains('月'))
                .find_map(|l| Some((date_from_digits(&l.text)?, l.confidence)))
        });
    if let Some((d, c)) = birth {
        put(&mut f, BIRTH_DATE, d, c);
    }
    if let Some((v, c)) = address(&lines) {
        put(&mut f, ADDRESS, v, c);
    }
    // The number: the line with an 18-character run of digits (and a final X).
    let number = lines
        .iter()
        .filter_map(|l| id_run(&l.text).map(|n| (n, l.confidence)))
        .next();
    if let Some((n, c)) = number {
        put(&mut f, ID_NUMBER, n, c);
    }
    f
}

fn parse_back(lines: &[TextLine]) -> Fields {
    let lines: Vec<&TextLine> = lines.iter().collect();
    let mut f = Fields::new();
    if let Some((v, c)) = after_label(&lines, &["签发机关"]) {
        put(&mut f, AUTHORITY, cjk_only(&v), c);
    }
    if let Some((v, c)) = after_label(&lines, &["有效期限"]) {
        let digits: String = v.chars().filter(char::is_ascii_digit).collect();
        if let Some(from) = digits.get(..8).and_then(date_from_ymd) {
            put(&mut f, VALID_FROM, from, c);
            if v.contains("长期") {
                put(&mut f, VALID_UNTIL, "长期".to_string(), c);
            } else if let Some(until) = digits.get(8..16).and_then(date_from_ymd) {
                put(&mut f, VALID_UNTIL, until, c);
            }
        }
    }
    f
}

fn parse_licence(lines: &[TextLine]) -> Fields {
    let lines: Vec<&TextLine> = lines.iter().collect();
    let mut f = Fields::new();
    let code = lines
        .iter()
        .filter_map(|l| credit_code_run(&l.text).map(|c| (c, l.confidence)))
        .next();
    if let Some((v, c)) = code {
        put(&mut f, CREDIT_CODE, v, c);
    }
    if let Some((v, c)) = after_label(&lines, &["名称"]) {
        put(&mut f, NAME, v, c);
    }
    let representative = ["法定代表人", "负责人", "经营者", "执行事务合伙人"];
    if let Some((v, c)) = after_label(&lines, &representative) {
        put(&mut f, LEGAL_REPRESENTATIVE, name_chars(&v), c);
    }
    if let Some((v, c)) = after_label(&lines, &["住所", "主要经营场所", "经营场所"]) {
        put(&mut f, ADDRESS, v, c);
    }
    f
}

fn put(f: &mut Fields, key: &'static str, value: String, confidence: f32) {
    if !value.is_empty() {
        f.insert(
            key,
            Field {
                value,
                confidence: (f64::from(confidence) * 1000.0).round() / 1000.0,
            },
        );
    }
}

/// Text without spaces (OCR puts spaces between spaced-out characters).
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn centre(q: &Quad) -> (f32, f32) {
    (
        q.iter().map(|p| p.0).sum::<f32>() / 4.0,
        q.iter().map(|p| p.1).sum::<f32>() / 4.0,
    )
}

fn height(q: &Quad) -> f32 {
    ((q[3].1 - q[0].1).abs() + (q[2].1 - q[1].1).abs()) / 2.0
}

/// The value printed after one of `labels`: the rest of the label's own line, or else the
/// nearest line to its right on the same row. With the confidence of the line it came from.
fn after_label(lines: &[&TextLine], labels: &[&str]) -> Option<(String, f32)> {
    for label in labels {
        for (i, line) in lines.iter().enumerate() {
            let text = compact(&line.text);
            let Some(at) = text.find(label) else {
                continue;
            };
            let rest = text[at + label.len()..].trim_start_matches([':', '：']);
            if !rest.is_empty() {
                return Some((rest.to_string(), line.confidence));
            }
            let (cx, cy) = centre(&line.quad);
            let h = height(&line.quad);
            return lines
                .iter()
                .enumerate()
                .filter(|(j, other)| {
                    let (ox, oy) = centre(&other.quad);
                    *j != i && ox > cx && (oy - cy).abs() < h * 0.6
                })
                .min_by(|a, b| centre(&a.1.quad).0.total_cmp(&centre(&b.1.quad).0))
                .map(|(_, l)| (compact(&l.text), l.confidence));
        }
    }
    None
}

/// The address: after 住址 on its row, then the lines below it in the value column, down to
/// the ID number's row.
fn address(lines: &[&TextLine]) -> Option<(String, f32)> {
    let label = lines.iter().find(|l| compact(&l.text).contains("住址"))?;
    let label_text = compact(&label.text);
    let label_top = label.quad[0].1.min(label.quad[1].1);
    let h = height(&label.quad);
    let stop = lines
        .iter()
        .filter(|l| compact(&l.text).contains("公民身份") || id_run(&l.text).is_some())
        .map(|l| l.quad[0].1.min(l.quad[1].1))
        .fold(f32::MAX, f32::min);
    // Where the label ends: its own line's right edge if it is only the label.
    let label_only = label_text.trim_end_matches([':', '：']).ends_with("住址");
    let value_left = if label_only {
        label.quad[1].0 - h * 0.5
    } else {
        label.quad[0].0 + h
    };
    let mut parts: Vec<(String, f32)> = Vec::new();
    if let Some(at) = label_text.find("住址") {
        let rest = &label_text[at + "住址".len()..];
        if !rest.is_empty() {
            parts.push((rest.to_string(), label.confidence));
        }
    }
    for l in lines {
        let top = l.quad[0].1.min(l.quad[1].1);
        let below_label = top > label_top - h * 0.5;
        let above_number = top < stop - h * 0.3;
        if std::ptr::eq(*l, *label) || !below_label || !above_number || l.quad[0].0 < value_left {
            continue;
        }
        parts.push((compact(&l.text), l.confidence));
    }
    if parts.is_empty() {
        return None;
    }
    let confidence = parts.iter().map(|p| p.1).fold(f32::MAX, f32::min);
    Some((parts.into_iter().map(|p| p.0).collect(), confidence))
}

/// An 18-character resident ID number in the text: 17 digits and a digit or X.
fn id_run(text: &str) -> Option<String> {
    let kept: Vec<char> = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'X' || *c == 'x')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits = kept.iter().filter(|c| c.is_ascii_digit()).count();
    if kept.len() == 18 && digits >= 17 && kept[..17].iter().all(char::is_ascii_digit) {
        Some(kept.into_iter().collect())
    } else {
        None
    }
}

/// An 18-character unified social credit code: digits and capitals, found as one run.
fn credit_code_run(text: &str) -> Option<String> {
    let compacted = compact(text).to_ascii_uppercase();
    let chars: Vec<char> = compacted.chars().collect();
    chars
        .split(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        .find(|run| run.len() == 18 && run.iter().filter(|c| c.is_ascii_digit()).count() >= 8)
        .map(|run| run.iter().collect())
}

/// `1990年3月7日` and the like: the first three numbers as a date, `YYYY-MM-DD`.
fn date_from_digits(s: &str) -> Option<String> {
    let numbers: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    match numbers[..] {
        [y, m, d, ..] => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).map(|d| d.to_string()),
        _ => None,
    }
}

/// Eight digits `YYYYMMDD` as `YYYY-MM-DD`.
fn date_from_ymd(s: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(s, "%Y%m%d")
        .ok()
        .map(|d| d.to_string())
}

fn cjk_only(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_ascii() && !c.is_whitespace())
        .collect()
}

/// A person's name: CJK characters and the middle dot of transliterated names.
fn name_chars(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_ascii() && !c.is_whitespace())
        .map(|c| {
            if matches!(c, '•' | '・' | '．') {
                '·'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x: f32, y: f32, w: f32) -> TextLine {
        TextLine {
            text: text.to_string(),
            confidence: 0.99,
            quad: [(x, y), (x + w, y), (x + w, y + 30.0), (x, y + 30.0)],
        }
    }

    fn front_lines() -> Vec<TextLine> {
        vec![
            line("姓名", 50.0, 80.0, 60.0),
            line("叶俊浩", 160.0, 75.0, 110.0),
            line("性别女", 45.0, 155.0, 100.0),
            line("民族汉", 295.0, 153.0, 90.0),
            line("0", 660.0, 110.0, 20.0),
            line("出生", 50.0, 238.0, 60.0),
            line("1993 年 5 月 16 日", 167.0, 235.0, 300.0),
            line("住址", 48.0, 317.0, 60.0),
            line("新疆维吾尔自治区巴音郭", 170.0, 314.0, 420.0),
            line("楞蒙古自治州尉犁县解放", 171.0, 368.0, 420.0),
            line("路156号2单元1211室", 171.0, 427.0, 300.0),
            line("公民身份号码", 52.0, 515.0, 200.0),
            line("652823199305167082", 312.0, 513.0, 420.0),
        ]
    }

    #[test]
    fn a_front_is_recognised_and_every_field_parsed() {
        let lines = front_lines();
        assert_eq!(identify(&lines), Document::IdCardFront);
        let f = parse(Document::IdCardFront, &lines, 960, 605);
        let v = |k: &str| f.get(k).map(|x| x.value.as_str());
        assert_eq!(v(NAME), Some("叶俊浩"));
        assert_eq!(v(SEX), Some("女"));
        assert_eq!(v(ETHNICITY), Some("汉"));
        assert_eq!(v(BIRTH_DATE), Some("1993-05-16"));
        assert_eq!(
            v(ADDRESS),
            Some("新疆维吾尔自治区巴音郭楞蒙古自治州尉犁县解放路156号2单元1211室")
        );
        assert_eq!(v(ID_NUMBER), Some("652823199305167082"));
    }

    #[test]
    fn a_misread_birth_label_still_gives_the_date_line() {
        let lines = vec![
            line("EE", 22.0, 244.0, 26.0),
            line("生", 60.0, 246.0, 28.0),
            line("1995 年5 月9日", 128.0, 239.0, 280.0),
        ];
        assert_eq!(
            parse_front(&lines, 960, 605)[BIRTH_DATE].value,
            "1995-05-09"
        );
    }

    #[test]
    fn labels_read_apart_from_their_values_still_find_them() {
        let lines = vec![
            line("性别", 45.0, 155.0, 60.0),
            line("男", 160.0, 152.0, 30.0),
            line("民族", 290.0, 155.0, 60.0),
            line("维吾尔", 380.0, 152.0, 90.0),
        ];
        let f = parse_front(&lines, 960, 605);
        assert_eq!(f[SEX].value, "男");
        assert_eq!(f[ETHNICITY].value, "维吾尔");
    }

    #[test]
    fn a_back_gives_authority_and_validity_including_long_term() {
        let lines = vec![
            line("中华人民共和国", 311.0, 91.0, 300.0),
            line("居民身份证", 364.0, 215.0, 300.0),
            line("签发机关", 174.0, 417.0, 120.0),
            line("灵石县公安局", 368.0, 415.0, 250.0),
            line("有效期限", 174.0, 495.0, 120.0),
            line("2025.12.04-长期", 366.0, 492.0, 260.0),
        ];
        assert_eq!(identify(&lines), Document::IdCardBack);
        let f = parse(Document::IdCardBack, &lines, 960, 605);
        assert_eq!(f[AUTHORITY].value, "灵石县公安局");
        assert_eq!(f[VALID_FROM].value, "2025-12-04");
        assert_eq!(f[VALID_UNTIL].value, "长期");
        let dated = vec![line("有效期限2012.03.11-2022.03.11", 174.0, 495.0, 400.0)];
        let f = parse_back(&dated);
        assert_eq!(f[VALID_UNTIL].value, "2022-03-11");
    }

    #[test]
    fn a_licence_gives_code_name_representative_and_address() {
        let lines = vec![
            line("营业执照", 400.0, 100.0, 300.0),
            line("统一社会信用代码", 80.0, 200.0, 250.0),
            line("91110000802100433B", 80.0, 240.0, 350.0),
            line("名称", 80.0, 320.0, 60.0),
            line("北京示例科技有限公司", 200.0, 318.0, 400.0),
            line("法定代表人张三", 80.0, 380.0, 300.0),
            line("住所：北京市海淀区中关村大街1号", 80.0, 440.0, 500.0),
        ];
        assert_eq!(identify(&lines), Document::BusinessLicense);
        let f = parse(Document::BusinessLicense, &lines, 1400, 1000);
        assert_eq!(f[CREDIT_CODE].value, "91110000802100433B");
        assert_eq!(f[NAME].value, "北京示例科技有限公司");
        assert_eq!(f[LEGAL_REPRESENTATIVE].value, "张三");
        assert_eq!(f[ADDRESS].value, "北京市海淀区中关村大街1号");
    }

    #[test]
    fn unrelated_text_is_no_known_document() {
        let lines = vec![
            line("招商银行", 10.0, 10.0, 200.0),
            line("6225 8801", 10.0, 80.0, 300.0),
        ];
        assert_eq!(identify(&lines), Document::Unknown);
    }
}
