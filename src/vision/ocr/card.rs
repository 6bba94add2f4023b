//! The fields of an ID card (front and back) and a business licence, parsed from the lines OCR
//! read on the flattened document. The layouts are fixed by the issuers, so each field is
//! found by its printed label and the lines beside or below it, not by absolute position.

use super::geometry::Quad;
use super::TextLine;
use crate::filing::division::Divisions;
use crate::filing::reading::{
    Document, Field, Fields, ADDRESS, AUTHORITY, BIRTH_DATE, CREDIT_CODE, ETHNICITY, ID_NUMBER,
    LEGAL_REPRESENTATIVE, NAME, SEX, VALID_FROM, VALID_UNTIL,
};
use crate::filing::text::fold_middle_dot;

const FRONT_LABELS: [&str; 6] = ["姓名", "性别", "民族", "出生", "住址", "公民身份号码"];
const BACK_LABELS: [&str; 4] = ["中华人民共和国", "居民身份证", "签发机关", "有效期限"];
const LICENCE_LABELS: [&str; 5] = ["营业执照", "统一社会信用代码", "名称", "法定代表人", "住所"];

/// Which document the lines come from: the one most of whose labels were read.
pub fn identify(lines: &[TextLine]) -> Document {
    let texts: Vec<String> = lines.iter().map(|l| compact(&l.text)).collect();
    let share = |labels: &[&str]| {
        let found = labels
            .iter()
            .filter(|label| texts.iter().any(|t| label_end(t, label).is_some()))
            .count();
        found as f32 / labels.len() as f32
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
        put(&mut f, ADDRESS, correct_place(&v), c);
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
        put(&mut f, ADDRESS, correct_place(&v), c);
    }
    f
}

fn put(f: &mut Fields, key: &'static str, value: String, confidence: f32) {
    if !value.is_empty() {
        f.insert(
            key,
            Field {
                value: simplified(&value),
                confidence: (f64::from(confidence) * 1000.0).round() / 1000.0,
            },
        );
    }
}

/// Traditional forms the recogniser sometimes gives for a near-identical simplified glyph
/// (measured: 黃 for 黄, 涼 for 凉, 彞 for 彝, 溫 for 温). Mainland cards and licences print only the
/// standard simplified forms (通用规范汉字表), so these never appear on them.
const TRADITIONAL: [(char, char); 6] = [
    ('黃', '黄'),
    ('涼', '凉'),
    ('彞', '彝'),
    ('溫', '温'),
    ('戶', '户'),
    ('內', '内'),
];

fn simplified(s: &str) -> String {
    s.chars()
        .map(|c| {
            TRADITIONAL
                .iter()
                .find(|(t, _)| *t == c)
                .map_or(c, |(_, s)| *s)
        })
        .collect()
}

/// An address starts with a real place name (province, city, county). Where the start of what
/// was read differs from exactly one place name in a character or two (a rare character read
/// as a common look-alike: 埇桥区 as 埔桥区), the place name is the better reading.
fn correct_place(address: &str) -> String {
    static NAMES: std::sync::OnceLock<Vec<Vec<char>>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Divisions::embedded()
            .place_names()
            .iter()
            .map(|n| n.chars().collect())
            .collect()
    });
    let read: Vec<char> = simplified(address).chars().collect();
    let mut best: Option<(usize, &Vec<char>)> = None;
    let mut tied = false;
    for name in names.iter().filter(|n| n.len() <= read.len()) {
        let differ = name.iter().zip(&read).filter(|(a, b)| a != b).count();
        if differ > (name.len() / 6).max(1) {
            continue;
        }
        match best {
            // The longest (most specific) name that fits, then the fewest differences.
            Some((d, n))
                if (std::cmp::Reverse(name.len()), differ) > (std::cmp::Reverse(n.len()), d) => {}
            Some((d, n)) if differ == d && name.len() == n.len() => tied = true,
            _ => {
                best = Some((differ, name));
                tied = false;
            }
        }
    }
    match best {
        Some((differ, name)) if differ > 0 && !tied => {
            name.iter().chain(&read[name.len()..]).collect()
        }
        _ => read.into_iter().collect(),
    }
}

/// The single-line fields that follow a label on a card front, when the detector missed the
/// value (a lone character such as 女 is the usual case): where to look again.
pub const REREAD: [(&str, &str); 3] = [(SEX, "性别"), (ETHNICITY, "民族"), (NAME, "姓名")];

/// Where the value of `label` must be: right of the label's own box on its row, up to the
/// next box on the row (or four line heights). None when the label was not read on its own.
pub fn value_region(lines: &[TextLine], label: &str) -> Option<Quad> {
    let l = lines.iter().find(|l| compact(&l.text) == label)?;
    let (_, cy) = centre(&l.quad);
    let h = height(&l.quad);
    let x0 = l.quad[1].0.max(l.quad[2].0) + h * 0.2;
    let next = lines
        .iter()
        .map(|o| (centre(&o.quad), o.quad[0].0.min(o.quad[3].0)))
        .filter(|((_, oy), left)| (oy - cy).abs() < h * 0.6 && *left > x0)
        .map(|(_, left)| left)
        .fold(x0 + h * 4.0, f32::min);
    let x1 = next - h * 0.2;
    if x1 - x0 < h * 0.5 {
        return None;
    }
    let (y0, y1) = (cy - h * 0.75, cy + h * 0.75);
    Some([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
}

/// A value read again in its region, cleaned as the parser cleans that field.
pub fn put_reread(f: &mut Fields, field: &'static str, text: &str, confidence: f32) {
    let value = match field {
        SEX => text
            .chars()
            .find(|c| *c == '男' || *c == '女')
            .map(String::from)
            .unwrap_or_default(),
        NAME => name_chars(text),
        _ => cjk_only(text),
    };
    put(f, field, value, confidence);
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
    let (i, line, end) = labels.iter().find_map(|l| find_label(lines, l))?;
    let text = compact(&line.text);
    let rest = text[end..].trim_start_matches([':', '：']);
    if !rest.is_empty() {
        return Some((rest.to_string(), line.confidence));
    }
    let (cx, cy) = centre(&line.quad);
    let h = height(&line.quad);
    lines
        .iter()
        .enumerate()
        .filter(|(j, other)| {
            let (ox, oy) = centre(&other.quad);
            *j != i && ox > cx && (oy - cy).abs() < h * 0.6
        })
        .min_by(|a, b| centre(&a.1.quad).0.total_cmp(&centre(&b.1.quad).0))
        .map(|(_, l)| (compact(&l.text), l.confidence))
}

/// Where `label` ends in `text`: after the label itself, or (a label whose first characters
/// were cut off at the card's edge or misread: 主址, 生别女) after its last character found
/// among the label's length of first characters.
fn label_end(text: &str, label: &str) -> Option<usize> {
    if let Some(at) = text.find(label) {
        return Some(at + label.len());
    }
    let last = label.chars().last()?;
    text.char_indices()
        .take(label.chars().count())
        .find(|(_, c)| *c == last)
        .map(|(at, c)| at + c.len_utf8())
}

/// The line carrying `label` (the exact label on any line first, then a damaged one) and
/// where the label ends in its compacted text. Alternatives (住所, 经营场所) are tried in order,
/// so a cut-off first one can shadow a later exact one; the lists keep the likeliest first.
fn find_label<'a>(lines: &[&'a TextLine], label: &str) -> Option<(usize, &'a TextLine, usize)> {
    let texts: Vec<String> = lines.iter().map(|l| compact(&l.text)).collect();
    texts
        .iter()
        .position(|t| t.contains(label))
        .or_else(|| texts.iter().position(|t| label_end(t, label).is_some()))
        .and_then(|i| Some((i, lines[i], label_end(&texts[i], label)?)))
}

/// The address: after 住址 on its row, then the lines below it in the value column, down to
/// the ID number's row.
fn address(lines: &[&TextLine]) -> Option<(String, f32)> {
    let (_, label, end) = find_label(lines, "住址")?;
    let label_text = compact(&label.text);
    let label_top = label.quad[0].1.min(label.quad[1].1);
    let h = height(&label.quad);
    let stop = lines
        .iter()
        .filter(|l| compact(&l.text).contains("公民身份") || id_run(&l.text).is_some())
        .map(|l| l.quad[0].1.min(l.quad[1].1))
        .fold(f32::MAX, f32::min);
    // Where the label ends: its own line's right edge if it is only the label.
    let rest = label_text[end..].trim_start_matches([':', '：']);
    let label_only = rest.is_empty();
    let value_left = if label_only {
        label.quad[1].0 - h * 0.5
    } else {
        label.quad[0].0 + h
    };
    let mut parts: Vec<(String, f32)> = Vec::new();
    if !label_only {
        parts.push((rest.to_string(), label.confidence));
    }
    for l in lines {
        let top = l.quad[0].1.min(l.quad[1].1);
        let below_label = top > label_top - h * 0.5;
        let above_number = top < stop - h * 0.3;
        if std::ptr::eq(*l, label) || !below_label || !above_number || l.quad[0].0 < value_left {
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
        .map(fold_middle_dot)
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
    fn traditional_look_alikes_become_the_simplified_forms_cards_print() {
        let lines = vec![
            line("签发机关", 174.0, 417.0, 120.0),
            line("镶黃旗公安局", 368.0, 415.0, 250.0),
        ];
        assert_eq!(parse_back(&lines)[AUTHORITY].value, "镶黄旗公安局");
    }

    #[test]
    fn a_value_the_detector_missed_is_looked_for_right_of_its_label() {
        let lines = vec![
            line("性别", 50.0, 160.0, 70.0),
            line("民族土家", 293.0, 157.0, 120.0),
        ];
        let q = value_region(&lines, "性别").unwrap();
        assert!(q[0].0 > 120.0 && q[1].0 < 293.0, "{q:?}");
        assert!(q[0].1 < 160.0 && q[2].1 > 190.0, "{q:?}");
        // No label of its own: nothing to look next to.
        assert!(value_region(&lines, "姓名").is_none());
    }

    #[test]
    fn labels_cut_at_the_cards_edge_still_lead_to_their_values() {
        let lines = vec![
            line("生名", 0.0, 83.0, 69.0),
            line("胡建玉", 96.0, 76.0, 113.0),
            line("生别女", 0.0, 156.0, 144.0),
            line("民族满", 229.0, 151.0, 140.0),
            line("主址", 0.0, 311.0, 59.0),
            line("河北省保定市顺平县文化", 97.0, 307.0, 346.0),
            line("路193号1单元2005室", 98.0, 362.0, 258.0),
            line("民身份号码", 0.0, 506.0, 146.0),
            line("130636200206016521", 248.0, 505.0, 422.0),
        ];
        assert_eq!(identify(&lines), Document::IdCardFront);
        let f = parse_front(&lines, 960, 605);
        assert_eq!(f[NAME].value, "胡建玉");
        assert_eq!(f[SEX].value, "女");
        assert_eq!(f[ADDRESS].value, "河北省保定市顺平县文化路193号1单元2005室");
    }

    #[test]
    fn a_misread_rare_character_in_the_place_name_is_corrected_from_the_division_list() {
        assert_eq!(
            correct_place("安徽省宿州市埔桥区黄河大道124号"),
            "安徽省宿州市埇桥区黄河大道124号"
        );
        assert_eq!(
            correct_place("湖北省荊州市洪湖市长江路1号"),
            "湖北省荆州市洪湖市长江路1号"
        );
        // A correct address, and one too far from any place, stay as read.
        assert_eq!(
            correct_place("北京市东城区东华门街道1号"),
            "北京市东城区东华门街道1号"
        );
        assert_eq!(correct_place("火星共和国某某路1号"), "火星共和国某某路1号");
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
