//! What the registry of existing filings says (bureau reasons 1 and 10), and the shape of the
//! order's domains.

use super::{Findings, Severity::Blocking, Severity::Warning};
use crate::filing::filing_type::{Provider, RegistryFacts};
use crate::filing::order::OrderForm;
use crate::filing::reason::ReasonCode;

pub(super) fn check(form: &OrderForm, facts: &RegistryFacts, f: &mut Findings) {
    if let Some(subject) = &facts.subject {
        if !subject.name_matches {
            f.push(
                ReasonCode::SubjectNameMismatch,
                Blocking,
                "subject.name",
                format!("the certificate is filed as {} under another name: check the name and the certificate number", subject.filing_number),
            );
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, svc) in form.services.iter().enumerate() {
        for (j, d) in svc.domains.iter().enumerate() {
            let field = format!("services.{i}.domains.{j}");
            let registered = d.registered();
            if seen.contains(&registered) {
                f.push(
                    ReasonCode::DuplicateDomain,
                    Blocking,
                    &field,
                    format!("{registered} appears more than once"),
                );
            }
            seen.push(registered);
            if !d.is_registered_domain() {
                f.push(
                    ReasonCode::DomainNotRegisteredLevel,
                    Warning,
                    &field,
                    format!(
                        "filings are per registered domain: {registered} covers {}",
                        d.as_str()
                    ),
                );
            }
            for w in facts.websites.iter().filter(|w| w.domain == registered) {
                if !w.same_subject {
                    f.push(
                        ReasonCode::DomainFiledByOtherSubject,
                        Blocking,
                        &field,
                        format!(
                            "{registered} is filed as {} under another subject",
                            w.filing_number
                        ),
                    );
                } else if w.provider == Provider::Here {
                    f.push(
                        ReasonCode::AlreadyFiledHere,
                        Blocking,
                        &field,
                        format!(
                            "{registered} is already filed with us as {}",
                            w.filing_number
                        ),
                    );
                }
            }
            for r in facts.registrants.iter().filter(|r| r.domain == registered) {
                if !r.certificate_matches {
                    f.push(
                        ReasonCode::DomainRegistrantMismatch,
                        Blocking,
                        &field,
                        format!("{registered} is registered in the real name of someone other than the subject"),
                    );
                } else if !r.name_matches {
                    f.push(
                        ReasonCode::DomainRegistrantMismatch,
                        Warning,
                        &field,
                        format!("{registered}'s registrant has the subject's certificate but another name: check the spelling"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filing::filing_type::*;
    use crate::filing::order::tests::minimal_body;
    use crate::filing::rules::tests::{codes, review_body, review_with};
    use serde_json::json;

    #[test]
    fn registry_inconsistencies_block() {
        let facts = RegistryFacts {
            subject: Some(FiledSubject {
                filing_number: "京ICP备12345678号".into(),
                provider: Provider::Other,
                name_matches: false,
            }),
            websites: vec![FiledWebsite {
                domain: "zhangsan-notes.cn".into(),
                filing_number: "京ICP备87654321号-1".into(),
                provider: Provider::Other,
                same_subject: false,
            }],
            registrants: vec![KnownRegistrant {
                domain: "zhangsan-notes.cn".into(),
                certificate_matches: false,
                name_matches: false,
            }],
            phone_conflicts: vec![],
        };
        let got = codes(&review_with(&minimal_body(), &facts));
        assert_eq!(
            got,
            [
                "domain_filed_by_other_subject",
                "domain_registrant_mismatch",
                "subject_name_mismatch"
            ]
        );
    }

    #[test]
    fn duplicate_and_sub_domains() {
        let mut body = minimal_body();
        body["services"][0]["domains"] = json!(["zhangsan-notes.cn", "www.zhangsan-notes.cn"]);
        assert_eq!(
            codes(&review_body(&body)),
            ["duplicate_domain", "domain_not_registered_level"]
        );
    }
}
