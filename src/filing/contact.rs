//! E-mail addresses and people's names.

use std::fmt;

use super::domain_name::DomainName;
use super::text::{fold_middle_dot, fold_width, is_han};

#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("not an e-mail address (name@example.cn)")]
    Format,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let s = fold_width(raw);
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Format)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        if !local_ok || s.len() > 254 {
            return Err(EmailError::Format);
        }
        let domain = DomainName::parse(domain).map_err(|_| EmailError::Format)?;
        Ok(EmailAddress(format!("{local}@{}", domain.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(..)")
    }
}

/// A person's name as on their certificate: Han characters (with the middle dot of minority
/// and transliterated names), or Latin letters for foreign nationals.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("a name has 2 to 40 characters")]
    Length,
    #[error(
        "a name has Chinese characters (with · for minority names) or Latin letters, nothing else"
    )]
    Characters,
}

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, PersonNameError> {
        let s: String = fold_width(raw).chars().map(fold_middle_dot).collect();
        let n = s.chars().count();
        if !(2..=40).contains(&n) {
            return Err(PersonNameError::Length);
        }
        let han = s.chars().all(|c| is_han(c) || c == '·');
        let latin = s
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-' || c == '\'');
        if !(han || latin) || s.starts_with('·') || s.ends_with('·') {
            return Err(PersonNameError::Characters);
        }
        Ok(PersonName(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `张*`, `欧阳**`: the family name stays.
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first: String = chars.next().into_iter().collect();
        format!("{first}{}", "*".repeat(chars.count()))
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        assert_eq!(
            EmailAddress::parse(" ZhangSan@Example.CN ")
                .unwrap()
                .as_str(),
            "ZhangSan@example.cn"
        );
        assert!(EmailAddress::parse("zhangsan@例子.中国")
            .unwrap()
            .as_str()
            .contains("xn--"));
        for bad in [
            "zhangsan",
            "@example.cn",
            "a@b",
            "a..b@example.cn",
            "a b@example.cn",
            "a@http://x.cn",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn person_names() {
        assert_eq!(
            PersonName::parse("买买提•艾力").unwrap().as_str(),
            "买买提·艾力"
        );
        assert!(PersonName::parse("John Smith").is_ok());
        assert_eq!(
            PersonName::parse("张").unwrap_err(),
            PersonNameError::Length
        );
        assert_eq!(
            PersonName::parse("张3").unwrap_err(),
            PersonNameError::Characters
        );
        assert_eq!(PersonName::parse("欧阳娜娜").unwrap().masked(), "欧***");
    }
}
