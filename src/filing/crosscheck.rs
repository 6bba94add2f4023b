//! What a document read by OCR says against itself and against what the filer typed: the
//! ID number's own checks, printed birth date and sex against the number, expiry, the wrong
//! side, and every typed value that differs from the read one.

use chrono::NaiveDate;
use serde::Serialize;

use super::division::Divisions;
use super::id_number::ResidentId;
use super::materials::MaterialKind;
use super::reason::ReasonCode;
use super::text::{fold_middle_dot, fold_width};
use crate::filing::reading::{self, Document, Fields};

/// Below this a read field is not trusted enough to decide anything on its own.
pub const MIN_FIELD_CONFIDENCE: f64 = 0.80;

/// What the filer typed that a document can confirm.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
}

/// Something a person must look at.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Flag {
    pub code: ReasonCode,
    pub field: Option<String>,
    pub message: String,
    /// For `ocr_mismatch`: the value read and the value typed (personal data: these travel
    /// only encrypted at rest, and ID numbers are masked in responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typed: Option<String>,
}

fn flag(code: ReasonCode, field: Option<&str>, message: String) -> Flag {
    Flag {
        code,
        field: field.map(Into::into),
        message,
        read: None,
        typed: None,
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// A capture problem the phone can fix at once (`wrong_side`).
    pub retake: Vec<ReasonCode>,
    pub flags: Vec<Flag>,
}

fn expected(kind: MaterialKind) -> Option<(Document, &'static [&'static str])> {
    match kind {
        MaterialKind::IdCardFront => Some((
            Document::IdCardFront,
            &[
                reading::NAME,
                reading::ID_NUMBER,
                reading::BIRTH_DATE,
                reading::SEX,
            ],
        )),
        MaterialKind::IdCardBack => Some((Document::IdCardBack, &[reading::VALID_UNTIL])),
        MaterialKind::BusinessLicense => Some((
            Document::BusinessLicense,
            &[reading::CREDIT_CODE, reading::NAME],
        )),
        _ => None,
    }
}

pub fn check(
    kind: MaterialKind,
    document: Document,
    fields: &Fields,
    typed: &Typed,
    divisions: &Divisions,
    today: NaiveDate,
) -> Outcome {
    let mut out = Outcome::default();
    let Some((want, required)) = expected(kind) else {
        return out;
    };
    if document != want {
        let other_side = matches!(
            (want, document),
            (Document::IdCardFront, Document::IdCardBack)
                | (Document::IdCardBack, Document::IdCardFront)
        );
        if other_side {
            out.retake.push(ReasonCode::WrongSide);
        } else {
            out.flags.push(flag(
                ReasonCode::LowConfidence,
                None,
                format!(
                    "the text read does not look like a {} ({} recognised)",
                    want.as_str(),
                    document.as_str()
                ),
            ));
        }
        return out;
    }
    for &field in required {
        match fields.get(field) {
            None => out.flags.push(flag(
                ReasonCode::LowConfidence,
                Some(field),
                format!("{field} could not be read"),
            )),
            Some(f) if f.confidence < MIN_FIELD_CONFIDENCE => out.flags.push(flag(
                ReasonCode::LowConfidence,
                Some(field),
                format!(
                    "{field} was read with confidence {:.2} (below {MIN_FIELD_CONFIDENCE})",
                    f.confidence
                ),
            )),
            Some(_) => {}
        }
    }
    let value = |k: &str| fields.get(k).map(|f| f.value.as_str());
    if kind == MaterialKind::IdCardFront {
        check_id_number(fields, divisions, today, &mut out);
    }
    if kind == MaterialKind::IdCardBack {
        let until =
            value(reading::VALID_UNTIL).and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok());
        if let Some(until) = until.filter(|u| *u < today) {
            out.flags.push(flag(
                ReasonCode::IdExpired,
                Some(reading::VALID_UNTIL),
                format!("the card expired on {until}"),
            ));
        }
    }
    let compared: &[(&str, &Option<String>)] = match kind {
        MaterialKind::IdCardFront => &[
            (reading::NAME, &typed.name),
            (reading::ID_NUMBER, &typed.id_number),
        ],
        MaterialKind::BusinessLicense => &[
            (reading::NAME, &typed.name),
            (reading::CREDIT_CODE, &typed.credit_code),
            (reading::LEGAL_REPRESENTATIVE, &typed.legal_representative),
        ],
        _ => &[],
    };
    for (field, typed) in compared {
        compare(&mut out, field, value(field), typed.as_deref());
    }
    out
}

/// The number's own checks, then the printed birth date and sex against it.
fn check_id_number(fields: &Fields, divisions: &Divisions, today: NaiveDate, out: &mut Outcome) {
    let Some(read) = fields.get(reading::ID_NUMBER) else {
        return;
    };
    let id = match ResidentId::parse(&read.value, divisions, today) {
        Ok(id) => id,
        Err(e) => {
            out.flags.push(flag(
                ReasonCode::IdInvalid,
                Some(reading::ID_NUMBER),
                format!("the number read is not a valid ID number: {e}"),
            ));
            return;
        }
    };
    if let Some(birth) = fields.get(reading::BIRTH_DATE) {
        let encoded = id.birth_date().to_string();
        if birth.value != encoded {
            out.flags.push(flag(
                ReasonCode::IdInvalid,
                Some(reading::BIRTH_DATE),
                format!(
                    "the printed birth date {} differs from the number's {encoded}",
                    birth.value
                ),
            ));
        }
    }
    if let Some(sex) = fields.get(reading::SEX) {
        let encoded = if id.is_male() { "男" } else { "女" };
        if sex.value != encoded {
            out.flags.push(flag(
                ReasonCode::IdInvalid,
                Some(reading::SEX),
                format!(
                    "the printed sex {} differs from the number's {encoded}",
                    sex.value
                ),
            ));
        }
    }
}

/// Values compared after folding width and middle dots, dropping spaces and upper-casing
/// (x/X).
fn normalise(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| fold_middle_dot(c).to_ascii_uppercase())
        .collect()
}

fn compare(out: &mut Outcome, field: &str, read: Option<&str>, typed: Option<&str>) {
    let (Some(read), Some(typed)) = (read, typed) else {
        return;
    };
    if normalise(read) != normalise(typed) {
        out.flags.push(Flag {
            code: ReasonCode::OcrMismatch,
            field: Some(field.into()),
            message: format!("the {field} read from the photo differs from the one typed"),
            read: Some(read.to_string()),
            typed: Some(typed.to_string()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::reading::Field;

    fn fields(pairs: &[(&'static str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    Field {
                        value: v.to_string(),
                        confidence: 0.99,
                    },
                )
            })
            .collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn front(number: &str, birth: &str, sex: &str) -> Fields {
        fields(&[
            (reading::NAME, "张三"),
            (reading::ID_NUMBER, number),
            (reading::BIRTH_DATE, birth),
            (reading::SEX, sex),
        ])
    }

    fn codes(o: &Outcome) -> Vec<&str> {
        o.flags.iter().map(|f| f.code.as_str()).collect()
    }

    fn run(kind: MaterialKind, doc: Document, f: &Fields, typed: &Typed) -> Outcome {
        check(kind, doc, f, typed, Divisions::embedded(), today())
    }

    #[test]
    fn a_consistent_front_matching_what_was_typed_has_no_flags() {
        let typed = Typed {
            name: Some("张 三".into()),
            id_number: Some("11010119900307803x".into()),
            ..Typed::default()
        };
        let f = front("11010119900307803X", "1990-03-07", "男");
        let o = run(MaterialKind::IdCardFront, Document::IdCardFront, &f, &typed);
        assert!(o.flags.is_empty() && o.retake.is_empty(), "{o:?}");
    }

    #[test]
    fn a_bad_check_character_and_printed_dates_or_sex_that_disagree_are_id_invalid() {
        let t = Typed::default();
        let bad = front("110101199003078031", "1990-03-07", "男");
        assert_eq!(
            codes(&run(
                MaterialKind::IdCardFront,
                Document::IdCardFront,
                &bad,
                &t
            )),
            ["id_invalid"]
        );
        let birth = front("11010119900307803X", "1990-03-08", "女");
        let o = run(MaterialKind::IdCardFront, Document::IdCardFront, &birth, &t);
        assert_eq!(codes(&o), ["id_invalid", "id_invalid"]);
        assert_eq!(o.flags[0].field.as_deref(), Some(reading::BIRTH_DATE));
        assert_eq!(o.flags[1].field.as_deref(), Some(reading::SEX));
    }

    #[test]
    fn a_typed_value_that_differs_is_ocr_mismatch_with_both_values() {
        let typed = Typed {
            name: Some("张山".into()),
            ..Typed::default()
        };
        let f = front("11010119900307803X", "1990-03-07", "男");
        let o = run(MaterialKind::IdCardFront, Document::IdCardFront, &f, &typed);
        assert_eq!(codes(&o), ["ocr_mismatch"]);
        assert_eq!(o.flags[0].read.as_deref(), Some("张三"));
        assert_eq!(o.flags[0].typed.as_deref(), Some("张山"));
    }

    #[test]
    fn the_other_side_is_a_retake_and_an_expired_card_is_flagged() {
        let f = fields(&[(reading::VALID_UNTIL, "2022-03-11")]);
        let o = run(
            MaterialKind::IdCardFront,
            Document::IdCardBack,
            &f,
            &Typed::default(),
        );
        assert_eq!(o.retake, [ReasonCode::WrongSide]);
        let o = run(
            MaterialKind::IdCardBack,
            Document::IdCardBack,
            &f,
            &Typed::default(),
        );
        assert_eq!(codes(&o), ["id_expired"]);
        let long = fields(&[(reading::VALID_UNTIL, "长期")]);
        let o = run(
            MaterialKind::IdCardBack,
            Document::IdCardBack,
            &long,
            &Typed::default(),
        );
        assert!(o.flags.is_empty());
    }

    #[test]
    fn unread_or_doubtful_required_fields_are_low_confidence() {
        let mut f = front("11010119900307803X", "1990-03-07", "男");
        f.remove(reading::NAME);
        if let Some(x) = f.get_mut(reading::SEX) {
            x.confidence = 0.5;
        }
        let o = run(
            MaterialKind::IdCardFront,
            Document::IdCardFront,
            &f,
            &Typed::default(),
        );
        assert_eq!(codes(&o), ["low_confidence", "low_confidence"]);
        let o = run(
            MaterialKind::BusinessLicense,
            Document::Unknown,
            &f,
            &Typed::default(),
        );
        assert_eq!(codes(&o), ["low_confidence"]);
    }
}
