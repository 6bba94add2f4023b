//! Domain names: internationalised names are converted to punycode (A-labels) at the edge,
//! so every later comparison sees one spelling.

use std::fmt;

/// Multi-label public suffixes common in filings; a registered domain sits one label below.
const CN_SECOND_LEVEL: &[&str] = &[
    "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "mil.cn", "bj.cn", "sh.cn", "tj.cn",
    "cq.cn", "he.cn", "sx.cn", "nm.cn", "ln.cn", "jl.cn", "hl.cn", "js.cn", "zj.cn", "ah.cn",
    "fj.cn", "jx.cn", "sd.cn", "ha.cn", "hb.cn", "hn.cn", "gd.cn", "gx.cn", "hi.cn", "sc.cn",
    "gz.cn", "yn.cn", "xz.cn", "sn.cn", "gs.cn", "qh.cn", "nx.cn", "xj.cn", "com.hk", "com.tw",
];

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("a domain name only, without http://, a path or a port")]
    NotAName,
    #[error("not a valid domain name")]
    Invalid,
    #[error("a domain name has at least two labels, like example.cn")]
    SingleLabel,
    #[error("a domain name has at most 253 characters and labels of at most 63")]
    TooLong,
}

impl DomainError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAName => "domain_not_a_name",
            Self::Invalid => "domain_invalid",
            Self::SingleLabel => "domain_single_label",
            Self::TooLong => "domain_too_long",
        }
    }
}

impl DomainName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = super::text::fold_width(raw).replace('。', ".");
        let s = s.trim_end_matches('.');
        if s.contains("://") || s.contains(['/', ':', '@', '?', '#', ' ']) {
            return Err(DomainError::NotAName);
        }
        let ascii = idna::domain_to_ascii(s).map_err(|_| DomainError::Invalid)?;
        if ascii.is_empty() {
            return Err(DomainError::Invalid);
        }
        if ascii.len() > 253 {
            return Err(DomainError::TooLong);
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(DomainError::SingleLabel);
        }
        for label in &labels {
            if label.is_empty() {
                return Err(DomainError::Invalid);
            }
            if label.len() > 63 {
                return Err(DomainError::TooLong);
            }
            let ldh = label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ldh || label.starts_with('-') || label.ends_with('-') {
                return Err(DomainError::Invalid);
            }
        }
        let tld = labels[labels.len() - 1];
        if tld.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::Invalid);
        }
        Ok(DomainName(ascii))
    }

    /// The A-label spelling (`xn--...` for internationalised names).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode spelling, for people.
    pub fn unicode(&self) -> String {
        idna::domain_to_unicode(&self.0).0
    }

    /// The registered domain (filings are per registered domain; subdomains follow it).
    pub fn registered(&self) -> &str {
        let labels: Vec<usize> = self.0.match_indices('.').map(|(i, _)| i).collect();
        let keep = if CN_SECOND_LEVEL
            .iter()
            .any(|sfx| self.0.ends_with(&format!(".{sfx}")))
        {
            3
        } else {
            2
        };
        if labels.len() < keep {
            return &self.0;
        }
        &self.0[labels[labels.len() - keep] + 1..]
    }

    pub fn is_registered_domain(&self) -> bool {
        self.registered() == self.0
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_and_converts_internationalised_names() {
        assert_eq!(
            DomainName::parse("ZhangSan-Notes.CN.").unwrap().as_str(),
            "zhangsan-notes.cn"
        );
        let idn = DomainName::parse("张三.中国").unwrap();
        assert!(idn.as_str().starts_with("xn--"), "{}", idn.as_str());
        assert_eq!(idn.unicode(), "张三.中国");
        assert_eq!(
            DomainName::parse("例子。公司").unwrap().unicode(),
            "例子.公司"
        );
    }

    #[test]
    fn refuses_urls_and_malformed_names() {
        assert_eq!(
            DomainName::parse("https://a.cn/").unwrap_err(),
            DomainError::NotAName
        );
        assert_eq!(
            DomainName::parse("a.cn:8080").unwrap_err(),
            DomainError::NotAName
        );
        assert_eq!(
            DomainName::parse("localhost").unwrap_err(),
            DomainError::SingleLabel
        );
        assert_eq!(
            DomainName::parse("-a.cn").unwrap_err(),
            DomainError::Invalid
        );
        assert_eq!(
            DomainName::parse("a..cn").unwrap_err(),
            DomainError::Invalid
        );
        assert_eq!(
            DomainName::parse("1.2.3.4").unwrap_err(),
            DomainError::Invalid
        );
        assert_eq!(
            DomainName::parse(&format!("{}.cn", "a".repeat(64))).unwrap_err(),
            DomainError::TooLong
        );
    }

    #[test]
    fn finds_the_registered_domain() {
        assert_eq!(
            DomainName::parse("www.example.com.cn")
                .unwrap()
                .registered(),
            "example.com.cn"
        );
        assert_eq!(
            DomainName::parse("blog.zhangsan.cn").unwrap().registered(),
            "zhangsan.cn"
        );
        assert!(DomainName::parse("zhangsan.cn")
            .unwrap()
            .is_registered_domain());
    }
}
