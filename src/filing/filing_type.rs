//! The filing type (备案类型) is the system's decision, never the filer's: it follows from
//! whether the subject and its domains are already filed, and with whom.

use serde::Serialize;

use super::order::OrderForm;

/// Where an existing filing is hosted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Here,
    Other,
}

impl Provider {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "here" => Some(Self::Here),
            "other" => Some(Self::Other),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Here => "here",
            Self::Other => "other",
        }
    }
}

/// What the operator's registry of existing filings says about one order. The store fills it
/// in (comparing blind indexes, never plain numbers); the domain code only reads it.
#[derive(Debug, Clone, Default)]
pub struct RegistryFacts {
    pub subject: Option<FiledSubject>,
    /// One entry per filed domain of the order.
    pub websites: Vec<FiledWebsite>,
    /// Domains whose real-name registrant the registry knows.
    pub registrants: Vec<KnownRegistrant>,
    /// Other subjects' orders that carry one of this order's mobile numbers.
    pub phone_conflicts: Vec<PhoneConflict>,
}

#[derive(Debug, Clone)]
pub struct FiledSubject {
    pub filing_number: String,
    pub provider: Provider,
    /// The name on record equals the order's subject name (after normalisation).
    pub name_matches: bool,
}

#[derive(Debug, Clone)]
pub struct FiledWebsite {
    pub domain: String,
    pub filing_number: String,
    pub provider: Provider,
    /// Filed under this order's subject (same certificate).
    pub same_subject: bool,
}

#[derive(Debug, Clone)]
pub struct KnownRegistrant {
    pub domain: String,
    /// Registrant certificate equals the subject's certificate.
    pub certificate_matches: bool,
    pub name_matches: bool,
}

#[derive(Debug, Clone)]
pub struct PhoneConflict {
    pub mobile: String,
    /// The other order is past draft: submitted, in review or approved.
    pub other_submitted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingType {
    /// 首次备案: neither the subject nor the domain is filed.
    FirstFiling,
    /// 接入备案: subject and domain filed elsewhere; hosting moves here.
    AccessFiling,
    /// 新增网站, 原备案不在本平台.
    NewWebsiteSubjectElsewhere,
    /// 新增网站, 原备案在本平台.
    NewWebsiteSubjectHere,
}

impl FilingType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstFiling => "first_filing",
            Self::AccessFiling => "access_filing",
            Self::NewWebsiteSubjectElsewhere => "new_website_subject_elsewhere",
            Self::NewWebsiteSubjectHere => "new_website_subject_here",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::FirstFiling => "首次备案",
            Self::AccessFiling => "接入备案",
            Self::NewWebsiteSubjectElsewhere => "新增网站（原备案不在本平台）",
            Self::NewWebsiteSubjectHere => "新增网站（原备案在本平台）",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilingDecision {
    #[serde(rename = "type")]
    pub filing_type: FilingType,
    pub label_zh: &'static str,
    /// Why, in plain words, one line per fact used.
    pub basis: Vec<String>,
}

pub fn decide(form: &OrderForm, facts: &RegistryFacts) -> FilingDecision {
    let mut basis = Vec::new();
    let filed_here_or_there = |domain: &str| {
        facts
            .websites
            .iter()
            .find(|w| w.domain == domain && w.same_subject)
    };
    let mut any_new_domain = false;
    for svc in &form.services {
        for d in &svc.domains {
            match filed_here_or_there(d.registered()) {
                Some(w) => basis.push(format!(
                    "domain {} is filed under this subject as {} ({})",
                    d.registered(),
                    w.filing_number,
                    if w.provider == Provider::Here {
                        "with us"
                    } else {
                        "with another provider"
                    }
                )),
                None => {
                    any_new_domain = true;
                    basis.push(format!(
                        "domain {} is not filed under this subject",
                        d.registered()
                    ));
                }
            }
        }
    }
    let all_apps_without_domains = form.services.iter().all(|s| s.domains.is_empty());
    let filing_type = match &facts.subject {
        None => {
            basis.insert(
                0,
                "the subject's certificate is not in the filing registry".into(),
            );
            FilingType::FirstFiling
        }
        Some(s) => {
            basis.insert(
                0,
                format!(
                    "the subject is filed as {} ({})",
                    s.filing_number,
                    if s.provider == Provider::Here {
                        "with us"
                    } else {
                        "with another provider"
                    }
                ),
            );
            match (any_new_domain || all_apps_without_domains, s.provider) {
                (true, Provider::Here) => FilingType::NewWebsiteSubjectHere,
                (true, Provider::Other) => FilingType::NewWebsiteSubjectElsewhere,
                (false, _) => FilingType::AccessFiling,
            }
        }
    };
    FilingDecision {
        filing_type,
        label_zh: filing_type.label_zh(),
        basis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::order::tests::{ctx, minimal_body};

    fn form() -> OrderForm {
        OrderForm::parse(&minimal_body(), &ctx()).unwrap()
    }

    fn subject(provider: Provider) -> Option<FiledSubject> {
        Some(FiledSubject {
            filing_number: "京ICP备12345678号".into(),
            provider,
            name_matches: true,
        })
    }

    fn website(provider: Provider) -> FiledWebsite {
        FiledWebsite {
            domain: "zhangsan-notes.cn".into(),
            filing_number: "京ICP备12345678号-1".into(),
            provider,
            same_subject: true,
        }
    }

    #[test]
    fn nothing_filed_is_a_first_filing() {
        let d = decide(&form(), &RegistryFacts::default());
        assert_eq!(d.filing_type, FilingType::FirstFiling);
        assert!(d.basis[0].contains("not in the filing registry"));
    }

    #[test]
    fn subject_and_domain_filed_elsewhere_is_an_access_filing() {
        let facts = RegistryFacts {
            subject: subject(Provider::Other),
            websites: vec![website(Provider::Other)],
            ..Default::default()
        };
        assert_eq!(
            decide(&form(), &facts).filing_type,
            FilingType::AccessFiling
        );
    }

    #[test]
    fn a_new_domain_for_a_filed_subject_depends_on_where_the_subject_is() {
        let elsewhere = RegistryFacts {
            subject: subject(Provider::Other),
            ..Default::default()
        };
        assert_eq!(
            decide(&form(), &elsewhere).filing_type,
            FilingType::NewWebsiteSubjectElsewhere
        );
        let here = RegistryFacts {
            subject: subject(Provider::Here),
            ..Default::default()
        };
        assert_eq!(
            decide(&form(), &here).filing_type,
            FilingType::NewWebsiteSubjectHere
        );
    }
}
