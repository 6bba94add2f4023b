//! What was read off a document: which document it is and its fields by name. The reader
//! (`vision::ocr::card`) fills these in; the cross-check and the order's prefill use them.

use std::collections::BTreeMap;

use serde::Serialize;

/// What the document in the photo turned out to be, by the labels read on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
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

const ALL_FIELDS: [&str; 11] = [
    NAME,
    SEX,
    ETHNICITY,
    BIRTH_DATE,
    ADDRESS,
    ID_NUMBER,
    AUTHORITY,
    VALID_FROM,
    VALID_UNTIL,
    CREDIT_CODE,
    LEGAL_REPRESENTATIVE,
];

/// Fields back from their stored JSON (unknown names are dropped).
pub fn fields_from_json(v: &serde_json::Value) -> Fields {
    ALL_FIELDS
        .iter()
        .filter_map(|&k| Some((k, serde_json::from_value(v.get(k)?.clone()).ok()?)))
        .collect()
}
