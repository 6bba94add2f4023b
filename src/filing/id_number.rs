//! Resident identity card numbers (居民身份证号码, GB 11643-1999).
//!
//! Policy at the edge (documented in the README):
//! - 18 characters; spaces and full-width digits are folded; a lower-case `x` is accepted and
//!   stored as `X` (the standard writes `X`, phones often type `x`).
//! - 15-digit first-generation numbers are refused with their own code: those cards stopped
//!   being valid on 2013-01-01 and the bureaus want the 18-digit number.
//! - The check character must match (ISO 7064 MOD 11-2), the birth date must be a real date,
//!   not in the future and not before 1800.
//! - The province (first two digits) must exist. A county code that is not in the current
//!   GB/T 2260 list is accepted (cards keep the code of the county they were issued in, even
//!   after it was merged or renamed) and the pre-review reports it for a reviewer.
//! - 81/82/83 are Hong Kong, Macao and Taiwan residence permits (港澳台居民居住证): same format
//!   and check character; accepted, marked as such (they carry no province of issue).

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::division::{Divisions, RegionStatus};
use super::text::compact;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters")]
    Length,
    #[error("15-digit first-generation ID numbers are no longer valid: use the 18-digit number on the current card")]
    Legacy15,
    #[error("an ID number has 17 digits and a final digit or X")]
    Characters,
    #[error("the check character does not match: a character is mistyped")]
    CheckCharacter,
    #[error("the birth date in the number is not a real date")]
    BirthDate,
    #[error("the birth date in the number is in the future")]
    BirthDateInFuture,
    #[error("the region code in the number is not a province of China")]
    Region,
}

impl IdNumberError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Length => "id_length",
            Self::Legacy15 => "id_legacy_15_digit",
            Self::Characters => "id_characters",
            Self::CheckCharacter => "id_check_character",
            Self::BirthDate => "id_birth_date",
            Self::BirthDateInFuture => "id_birth_date_future",
            Self::Region => "id_region",
        }
    }
}

/// The check character for the first 17 digits (which must be ASCII digits).
pub fn check_character(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize] as char
}

impl ResidentId {
    /// Parses a typed or read number; `today` bounds the birth date.
    pub fn parse(
        raw: &str,
        divisions: &Divisions,
        today: NaiveDate,
    ) -> Result<Self, IdNumberError> {
        let s = compact(raw).to_ascii_uppercase();
        if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::Legacy15);
        }
        if s.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let bytes = s.as_bytes();
        let last = bytes[17];
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(last.is_ascii_digit() || last == b'X') {
            return Err(IdNumberError::Characters);
        }
        if check_character(&bytes[..17]) as u8 != last {
            return Err(IdNumberError::CheckCharacter);
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d")
            .ok()
            .filter(|d| d.year() >= 1800)
            .ok_or(IdNumberError::BirthDate)?;
        if birth > today {
            return Err(IdNumberError::BirthDateInFuture);
        }
        if divisions.region_status(&s[..6]) == RegionStatus::Unknown {
            return Err(IdNumberError::Region);
        }
        Ok(ResidentId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn province_code(&self) -> &str {
        &self.0[..2]
    }

    pub fn region_status(&self, divisions: &Divisions) -> RegionStatus {
        divisions.region_status(self.region_code())
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Checked in parse().
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// The sequence digit (17th character) is odd for men.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// Full years of age on `day`.
    pub fn age_on(&self, day: NaiveDate) -> u32 {
        day.years_since(self.birth_date()).unwrap_or(0)
    }

    /// `110101********803X`: region and the last four stay, the birth date and sequence go.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }
}

/// Masks any stored certificate-like number the same way: first 6 and last 4 visible.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Debug never prints the number: it ends up in logs.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn parse(s: &str) -> Result<ResidentId, IdNumberError> {
        ResidentId::parse(s, Divisions::embedded(), today())
    }

    #[test]
    fn accepts_the_public_vectors() {
        // The two examples printed in GB 11643-1999 itself, and the one of DESIGN.md.
        for s in [
            "11010519491231002X",
            "440524188001010014",
            "11010119900307803X",
        ] {
            assert!(parse(s).is_ok(), "{s}");
        }
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert!(!id.is_male());
        assert!(parse("440524188001010014").unwrap().is_male());
    }

    #[test]
    fn folds_lower_case_x_spaces_and_full_width() {
        assert_eq!(
            parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            parse(" 110105 19491231 002X ").unwrap().as_str(),
            "11010519491231002X"
        );
        assert_eq!(
            parse("１１０１０５１９４９１２３１００２Ｘ")
                .unwrap()
                .as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn refuses_each_kind_of_bad_number_with_its_code() {
        assert_eq!(
            parse("110105491231002").unwrap_err(),
            IdNumberError::Legacy15
        );
        assert_eq!(
            parse("1101051949123100").unwrap_err(),
            IdNumberError::Length
        );
        assert_eq!(
            parse("11010519491231002Y").unwrap_err(),
            IdNumberError::Characters
        );
        assert_eq!(
            parse("110105194912310021").unwrap_err(),
            IdNumberError::CheckCharacter
        );
        // Valid check characters, impossible dates: computed, so the date is the only fault.
        assert_eq!(
            parse(&with_check("11010519490231002")).unwrap_err(),
            IdNumberError::BirthDate
        );
        assert_eq!(
            parse(&with_check("11010530000101002")).unwrap_err(),
            IdNumberError::BirthDateInFuture
        );
        assert_eq!(
            parse(&with_check("99010519491231002")).unwrap_err(),
            IdNumberError::Region
        );
    }

    #[test]
    fn residence_permit_numbers_are_accepted_and_marked() {
        let id = parse(&with_check("81000019900101001")).unwrap();
        assert_eq!(
            id.region_status(Divisions::embedded()),
            RegionStatus::ResidencePermit
        );
    }

    #[test]
    fn masks_birth_date_and_sequence() {
        assert_eq!(
            parse("11010519491231002X").unwrap().masked(),
            "110105********002X"
        );
        assert_eq!(
            format!("{:?}", parse("11010519491231002X").unwrap()),
            "ResidentId(110105********002X)"
        );
    }

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_character(first17.as_bytes()))
    }

    fn valid_number() -> impl Strategy<Value = String> {
        let counties = Divisions::embedded().county_codes();
        (0..counties.len(), 0i64..45_000, 0u32..1000).prop_map(move |(i, days, seq)| {
            let birth = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            with_check(&format!(
                "{}{}{:03}",
                counties[i],
                birth.format("%Y%m%d"),
                seq
            ))
        })
    }

    proptest! {
        #[test]
        fn every_generated_number_parses_and_round_trips(s in valid_number()) {
            let id = parse(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
        }

        #[test]
        fn any_single_substitution_is_caught(s in valid_number(), pos in 0usize..18, d in 0u8..11) {
            let mut bytes = s.into_bytes();
            let new = if d == 10 { b'X' } else { b'0' + d };
            prop_assume!(bytes[pos] != new && (pos == 17 || new != b'X'));
            bytes[pos] = new;
            let mutated = String::from_utf8(bytes).unwrap();
            prop_assert!(parse(&mutated).is_err(), "{} parsed", mutated);
        }
    }
}
