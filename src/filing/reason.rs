//! Reason codes: why a material is sent back or put before a reviewer, and why the
//! pre-review flags an order. One closed set, so a code is compared as a value and can
//! only be one the catalogue (rules/reasons.toml) has words for; it is a plain string in
//! JSON, stored and shown exactly as before.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares the codes once: the variant and its spelling in JSON and the catalogue.
macro_rules! reason_codes {
    ($($variant:ident = $code:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ReasonCode {
            $($variant,)*
        }

        impl ReasonCode {
            /// Every code, in the catalogue's order.
            pub const ALL: &'static [ReasonCode] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The code spelled `code`, if there is one.
            pub fn parse(code: &str) -> Option<ReasonCode> {
                match code {
                    $($code => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

reason_codes! {
    DomainRegistrantMismatch = "domain_registrant_mismatch",
    SiteNameTooFewHan = "site_name_too_few_han",
    SiteNameLatinOrDigits = "site_name_latin_or_digits",
    SiteNameSymbols = "site_name_symbols",
    SiteNameIsDomain = "site_name_is_domain",
    SiteNameNationalPrefix = "site_name_national_prefix",
    SiteNameSensitiveWord = "site_name_sensitive_word",
    SiteNamePersonalForbiddenWord = "site_name_personal_forbidden_word",
    SiteNamePattern = "site_name_pattern",
    CrossProvince = "cross_province",
    ResidencePermitNeeded = "residence_permit_needed",
    CrossProvinceUnverifiable = "cross_province_unverifiable",
    PreApprovalRequired = "pre_approval_required",
    PreApprovalNotNeeded = "pre_approval_not_needed",
    PreApprovalDocumentNeeded = "pre_approval_document_needed",
    DocumentsUnacceptable = "documents_unacceptable",
    MaterialsMissing = "materials_missing",
    PrincipalNotLegalRep = "principal_not_legal_rep",
    AuthorizationLetterNeeded = "authorization_letter_needed",
    LegalRepUnknown = "legal_rep_unknown",
    WebsitePrincipalNotLegalRep = "website_principal_not_legal_rep",
    WebsitePrincipalSameAsSubject = "website_principal_same_as_subject",
    PhoneVirtualOperator = "phone_virtual_operator",
    PhoneNotLocal = "phone_not_local",
    PhoneUnknownRange = "phone_unknown_range",
    VerificationFormWrong = "verification_form_wrong",
    PhoneUsedByOtherSubject = "phone_used_by_other_subject",
    SubjectNameMismatch = "subject_name_mismatch",
    DomainFiledByOtherSubject = "domain_filed_by_other_subject",
    AlreadyFiledHere = "already_filed_here",
    PrincipalNotSubject = "principal_not_subject",
    Underage = "underage",
    UnderageProofNeeded = "underage_proof_needed",
    IdRegionHistoric = "id_region_historic",
    ResidencePermitNumber = "residence_permit_number",
    DomainNotRegisteredLevel = "domain_not_registered_level",
    DuplicateDomain = "duplicate_domain",
    Blurry = "blurry",
    TooDark = "too_dark",
    Overexposed = "overexposed",
    Glare = "glare",
    CutOff = "cut_off",
    TooSmall = "too_small",
    NotADocument = "not_a_document",
    WrongSide = "wrong_side",
    BlackAndWhite = "black_and_white",
    EmptyFile = "empty_file",
    UnsupportedFormat = "unsupported_format",
    ImageTooLarge = "image_too_large",
    ImageTooSmall = "image_too_small",
    ImageTruncated = "image_truncated",
    ImageCorrupt = "image_corrupt",
    ImagePolyglot = "image_polyglot",
    AnalysisFailed = "analysis_failed",
    OcrMismatch = "ocr_mismatch",
    IdInvalid = "id_invalid",
    IdExpired = "id_expired",
    LowConfidence = "low_confidence",
    NoFace = "no_face",
    MultipleFaces = "multiple_faces",
    FaceTooSmall = "face_too_small",
    FaceCutOff = "face_cut_off",
    FaceTurned = "face_turned",
    LivenessChallengeFailed = "liveness_challenge_failed",
    LivenessUncertain = "liveness_uncertain",
    FaceMismatch = "face_mismatch",
}

impl ReasonCode {
    /// The codes spelled out, `separator` between them.
    pub fn join(codes: &[ReasonCode], separator: &str) -> String {
        let spelled: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        spelled.join(separator)
    }
}

/// In the order of their spelling, as the codes were sorted when they were strings (the
/// catalogue's map, and so the reviewer's list of reasons, keeps that order).
impl Ord for ReasonCode {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for ReasonCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        ReasonCode::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown reason code {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_spelled_once_and_reads_back() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ReasonCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ReasonCode>(json).unwrap(), code);
        }
        assert!(serde_json::from_value::<ReasonCode>(serde_json::json!("made_up")).is_err());
    }

    #[test]
    fn codes_sort_by_their_spelling() {
        let mut codes = ReasonCode::ALL.to_vec();
        codes.sort();
        let spelled: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        let mut sorted = spelled.clone();
        sorted.sort_unstable();
        assert_eq!(spelled, sorted);
        // Declared after it in the catalogue, spelled before it.
        assert!(ReasonCode::AnalysisFailed < ReasonCode::DomainRegistrantMismatch);
    }
}
