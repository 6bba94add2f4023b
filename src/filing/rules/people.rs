//! The people and the certificate: the individual is their own principal, certificates from
//! another province (reason 3), age limits, and the legal representative (reason 6).

use chrono::NaiveDate;

use super::book::{LegalRepRule, MinAgeApplies, NonLocalRule};
use super::{Findings, RuleBook, Severity::Blocking, Severity::Warning};
use crate::filing::division::{Divisions, RegionStatus};
use crate::filing::order::{Certificate, OrderForm};
use crate::filing::reason::ReasonCode;

pub(super) fn check(book: &RuleBook, form: &OrderForm, today: NaiveDate, f: &mut Findings) {
    let subject = &form.subject;
    let Some(rules) = book.province(&subject.province) else {
        return;
    };
    let divisions = Divisions::embedded();
    let province_name = &rules.name;

    match &subject.certificate {
        Certificate::ResidentId(id) => {
            let field = "subject.certificate.number";
            if subject.principal.id_number != *id {
                f.push(
                    ReasonCode::PrincipalNotSubject,
                    Blocking,
                    "subject.principal.id_number",
                    "for an individual the principal is the subject: the ID numbers must be the same",
                );
            }
            match id.region_status(divisions) {
                RegionStatus::ResidencePermit => f.push(
                    ReasonCode::ResidencePermitNumber,
                    Warning,
                    field,
                    "a Hong Kong, Macao or Taiwan residence permit: the issuing province is on the permit, a reviewer checks it",
                ),
                _ if id.province_code() == subject.province => {}
                _ => {
                    let from = divisions.province_name(id.province_code()).unwrap_or("another province");
                    match rules.personal_non_local {
                        NonLocalRule::Refused => f.push(
                            ReasonCode::CrossProvince,
                            Blocking,
                            field,
                            format!("the ID card is from {from}; {province_name} does not accept personal filings with ID cards of other provinces"),
                        ),
                        NonLocalRule::WithResidencePermit => f.push(
                            ReasonCode::ResidencePermitNeeded,
                            Warning,
                            field,
                            format!("the ID card is from {from}; {province_name} accepts it with a residence permit (居住证) of {province_name}, to be uploaded"),
                        ),
                        NonLocalRule::NotStated => f.push(
                            ReasonCode::CrossProvince,
                            Warning,
                            field,
                            format!("the ID card is from {from}; {province_name}'s rule for non-local ID cards is not on record, a reviewer confirms"),
                        ),
                        NonLocalRule::Accepted => {}
                    }
                }
            }
        }
        Certificate::Uscc(code) => {
            let from = &code.region_code()[..2];
            if !code.is_national() && from != subject.province {
                f.push(
                    ReasonCode::CrossProvince,
                    Blocking,
                    "subject.certificate.number",
                    format!(
                        "the unit is registered in {} ({}); units file in the province that registered them",
                        divisions.province_name(from).unwrap_or("another province"),
                        code.region_code()
                    ),
                );
            }
        }
    }

    let mut seen = Vec::new();
    for (path, person) in form.people() {
        if seen.contains(&&person.id_number) {
            continue;
        }
        seen.push(&person.id_number);
        if person.id_number.region_status(divisions) == RegionStatus::ProvinceOnly {
            f.push(
                ReasonCode::IdRegionHistoric,
                Warning,
                format!("{path}.id_number"),
                format!(
                    "region code {} is not in the current division list",
                    person.id_number.region_code()
                ),
            );
        }
        if let Some(min) = rules.min_age {
            let applies = rules.min_age_applies == MinAgeApplies::All || subject.kind.is_unit();
            let age = person.id_number.age_on(today);
            if applies && age < min {
                f.push(
                    ReasonCode::Underage,
                    Blocking,
                    format!("{path}.id_number"),
                    format!(
                        "{province_name} accepts people aged {min} or more; this person is {age}"
                    ),
                );
            } else if applies && age < 18 {
                f.push(
                    ReasonCode::UnderageProofNeeded,
                    Warning,
                    format!("{path}.id_number"),
                    format!(
                        "{province_name} asks people under 18 for proof of employment or income"
                    ),
                );
            }
        }
    }

    if subject.kind.is_unit() {
        check_legal_rep(book, form, f);
    }
}

fn check_legal_rep(book: &RuleBook, form: &OrderForm, f: &mut Findings) {
    let subject = &form.subject;
    let Some(rules) = book.province(&subject.province) else {
        return;
    };
    let rule = match rules.subject_principal_legal_rep {
        LegalRepRule::Keywords
            if rules
                .legal_rep_keywords
                .iter()
                .any(|k| subject.name.contains(k.as_str())) =>
        {
            LegalRepRule::Required
        }
        LegalRepRule::Keywords => LegalRepRule::NotStated,
        r => r,
    };
    let principal = subject.principal.name.as_str();
    let legal_rep = subject.legal_representative.as_ref().map(|n| n.as_str());
    match (rule, legal_rep) {
        (LegalRepRule::NotStated | LegalRepRule::Keywords, _) => {}
        (_, None) => f.push(
            ReasonCode::LegalRepUnknown,
            Warning,
            "subject.legal_representative",
            format!("{} wants the principal to be the legal representative; it will be checked against the business licence", rules.name),
        ),
        (LegalRepRule::Required, Some(rep)) if rep != principal => f.push(
            ReasonCode::PrincipalNotLegalRep,
            Blocking,
            "subject.principal.name",
            format!("{} wants the legal representative as the principal", rules.name),
        ),
        (LegalRepRule::OrAuthorization, Some(rep)) if rep != principal => f.push(
            ReasonCode::AuthorizationLetterNeeded,
            Warning,
            "subject.principal.name",
            "the principal is not the legal representative: upload the legal representative's authorisation letter (法人授权委托书)",
        ),
        _ => {}
    }
    for (i, svc) in form.services.iter().enumerate() {
        let field = format!("services.{i}.responsible");
        if rules.website_principal_legal_rep
            && legal_rep.is_some_and(|rep| rep != svc.responsible.name.as_str())
        {
            f.push(
                ReasonCode::WebsitePrincipalNotLegalRep,
                Warning,
                format!("{field}.name"),
                format!("{} wants the website's responsible person to be the legal representative, or an authorisation letter", rules.name),
            );
        }
        if rules.website_principal_differs
            && svc.responsible.id_number == subject.principal.id_number
        {
            f.push(
                ReasonCode::WebsitePrincipalSameAsSubject,
                Warning,
                format!("{field}.id_number"),
                format!(
                    "{} wants a website's responsible person other than the subject's principal",
                    rules.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filing::order::tests::minimal_body;
    use crate::filing::rules::tests::{codes, review_body};
    use crate::filing::rules::Severity;
    use serde_json::json;

    fn in_province(code: &str) -> serde_json::Value {
        let mut body = minimal_body();
        body["subject"]["province"] = json!(code);
        body
    }

    #[test]
    fn non_local_id_cards_follow_each_provinces_rule() {
        // 山西 refuses, 上海 wants a residence permit, 天津 accepts, 河北 has no rule on record.
        let f = review_body(&in_province("140000"));
        assert_eq!(codes(&f), ["cross_province"]);
        assert_eq!(f[0].severity, Severity::Blocking);
        assert_eq!(
            codes(&review_body(&in_province("310000"))),
            ["residence_permit_needed"]
        );
        // (天津 also wants a local mobile number: that is the only finding left.)
        assert_eq!(
            codes(&review_body(&in_province("120000"))),
            ["phone_not_local"]
        );
        let f = review_body(&in_province("130000"));
        assert_eq!(
            (f[0].code, f[0].severity),
            (super::ReasonCode::CrossProvince, Severity::Warning)
        );
    }

    #[test]
    fn an_individual_is_their_own_principal() {
        let mut body = minimal_body();
        body["subject"]["principal"]["id_number"] = json!("11010519491231002X");
        assert!(codes(&review_body(&body)).contains(&"principal_not_subject"));
    }

    #[test]
    fn units_from_another_province_are_refused_and_legal_reps_checked() {
        let mut body = minimal_body();
        body["subject"] = json!({
            "kind": "enterprise", "province": "110000", "name": "深圳市某某科技有限公司",
            "certificate": {"type": "uscc", "number": "914403001922038216"},
            "address": "深圳市龙岗区坂田华为基地", "legal_representative": "李四",
            "principal": body["subject"]["principal"].clone()
        });
        let got = codes(&review_body(&body));
        assert!(got.contains(&"cross_province"), "{got:?}");
        // 北京 accepts an authorisation letter instead of the legal representative.
        assert!(got.contains(&"authorization_letter_needed"), "{got:?}");
        body["subject"]["province"] = json!("440000");
        let got = codes(&review_body(&body));
        assert!(!got.contains(&"cross_province"), "{got:?}");
        assert!(got.contains(&"principal_not_legal_rep"), "{got:?}");
    }

    #[test]
    fn age_limits_come_from_the_province() {
        // Born 2012: 14 in 2026; 天津 accepts 18 or more.
        let young = "11010120120101001X";
        let mut body = in_province("120000");
        body["subject"]["principal"]["id_number"] = json!(young);
        body["services"][0]["responsible"]["id_number"] = json!(young);
        body["subject"]["certificate"]["number"] = json!(young);
        assert_eq!(codes(&review_body(&body)), ["underage", "phone_not_local"]);
    }
}
