//! Unified social credit codes (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters from `0-9A-HJ-NPQRTUWXY` (no I, O, S, V, Z); the 18th is a check character
//! (weights 3^i mod 31, sum mod 31); characters 3-8 are the division code of the
//! registering authority. Spaces and full-width forms are folded; lower case is upper-cased.

use std::fmt;

use super::text::compact;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters")]
    Length,
    #[error(
        "a unified social credit code uses only digits and the letters A-H J-N P Q R T U W X Y"
    )]
    Characters,
    #[error("the characters 3 to 8 of a credit code are a division code (digits)")]
    Region,
    #[error("the check character does not match: a character is mistyped")]
    CheckCharacter,
}

impl CreditCodeError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Length => "uscc_length",
            Self::Characters => "uscc_characters",
            Self::Region => "uscc_region",
            Self::CheckCharacter => "uscc_check_character",
        }
    }
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (which must be in the alphabet).
pub fn check_character(first17: &[u8]) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl CreditCode {
    pub fn parse(raw: &str) -> Result<Self, CreditCodeError> {
        let s = compact(raw).to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        let bytes = s.as_bytes();
        if !bytes.iter().all(|b| value(*b).is_some()) {
            return Err(CreditCodeError::Characters);
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::Region);
        }
        if check_character(&bytes[..17]) != Some(bytes[17] as char) {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Division code of the registering authority (100000 for national-level registration).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Registered by a national-level authority: the code then names no province.
    pub fn is_national(&self) -> bool {
        self.region_code().starts_with("10")
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_public_codes() {
        // Codes printed on public business licences and registries: Huawei Technologies,
        // Tencent (Shenzhen), and the example used across GB 32100 write-ups.
        for s in [
            "914403001922038216",
            "9144030071526726XG",
            "91350100M000100Y43",
        ] {
            assert!(CreditCode::parse(s).is_ok(), "{s}");
        }
        let c = CreditCode::parse("914403001922038216").unwrap();
        assert_eq!(c.region_code(), "440300");
        assert!(!c.is_national());
    }

    #[test]
    fn folds_case_spaces_and_width() {
        let c = CreditCode::parse(" 9144 0300 7152 6726xg").unwrap();
        assert_eq!(c.as_str(), "9144030071526726XG");
    }

    #[test]
    fn refuses_each_fault_with_its_code() {
        assert_eq!(
            CreditCode::parse("91440300192203821").unwrap_err(),
            CreditCodeError::Length
        );
        assert_eq!(
            CreditCode::parse("91440300192203821I").unwrap_err(),
            CreditCodeError::Characters
        );
        assert_eq!(
            CreditCode::parse("9144A3001922038216").unwrap_err(),
            CreditCodeError::Region
        );
        assert_eq!(
            CreditCode::parse("914403001922038217").unwrap_err(),
            CreditCodeError::CheckCharacter
        );
    }

    fn valid_code() -> impl Strategy<Value = String> {
        ("[159Y][1-9]", "[0-9]{6}", "[0-9A-HJ-NPQRTUWXY]{9}").prop_map(|(a, b, c)| {
            let first = format!("{a}{b}{c}");
            let check = check_character(first.as_bytes()).unwrap();
            format!("{first}{check}")
        })
    }

    proptest! {
        #[test]
        fn generated_codes_parse(s in valid_code()) {
            prop_assert!(CreditCode::parse(&s).is_ok());
        }

        #[test]
        fn any_single_substitution_is_caught(s in valid_code(), pos in 0usize..18, v in 0usize..31) {
            let mut bytes = s.into_bytes();
            prop_assume!(bytes[pos] != ALPHABET[v]);
            bytes[pos] = ALPHABET[v];
            prop_assert!(CreditCode::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }
    }
}
