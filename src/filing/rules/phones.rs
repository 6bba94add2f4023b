//! Mobile numbers (bureau reasons 7 and 9): virtual operators, local numbers where the bureau
//! wants them, and numbers another subject already uses.

use super::book::MobileLocalRule;
use super::{Findings, RuleBook, Severity::Blocking, Severity::Warning};
use crate::filing::division::Divisions;
use crate::filing::filing_type::RegistryFacts;
use crate::filing::order::OrderForm;
use crate::filing::reason::ReasonCode;

pub(super) fn check(book: &RuleBook, form: &OrderForm, facts: &RegistryFacts, f: &mut Findings) {
    let subject = &form.subject;
    let rules = book.province(&subject.province);
    let mut seen: Vec<&str> = Vec::new();
    for (path, person) in form.people() {
        let mobile = &person.mobile;
        if seen.contains(&mobile.as_str()) {
            continue;
        }
        seen.push(mobile.as_str());
        let field = format!("{path}.mobile");
        let Some(block) = mobile.block() else {
            f.push(
                ReasonCode::PhoneUnknownRange,
                Warning,
                &field,
                format!("no operator range is on record for {}", mobile.masked()),
            );
            continue;
        };
        if block.is_virtual_operator() {
            f.push(
                ReasonCode::PhoneVirtualOperator,
                Blocking,
                &field,
                format!(
                    "{} is in a virtual-operator range, which the bureaus refuse",
                    mobile.masked()
                ),
            );
        }
        let Some(rules) = rules else { continue };
        let wants_local = match rules.mobile_local {
            MobileLocalRule::All => Some(Blocking),
            MobileLocalRule::Personal if !subject.kind.is_unit() => Some(Blocking),
            MobileLocalRule::OrRemark => Some(Warning),
            _ => None,
        };
        if let Some(severity) = wants_local.filter(|_| block.province != subject.province) {
            let from = Divisions::embedded()
                .province_name(block.province)
                .unwrap_or("another province");
            f.push(
                ReasonCode::PhoneNotLocal,
                severity,
                &field,
                format!(
                    "{} wants a mobile number of the province; this one is from {from}",
                    rules.name
                ),
            );
        }
    }
    for conflict in &facts.phone_conflicts {
        for (path, person) in form
            .people()
            .into_iter()
            .filter(|(_, p)| p.mobile.as_str() == conflict.mobile)
        {
            let (severity, state) = if conflict.other_submitted {
                (Blocking, "a submitted or filed order")
            } else {
                (Warning, "a draft order")
            };
            f.push(
                ReasonCode::PhoneUsedByOtherSubject,
                severity,
                format!("{path}.mobile"),
                format!(
                    "{} is already used by another subject in {state}",
                    person.mobile.masked()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filing::filing_type::{PhoneConflict, RegistryFacts};
    use crate::filing::order::tests::minimal_body;
    use crate::filing::rules::tests::{codes, review_body, review_with};
    use crate::filing::rules::Severity;
    use serde_json::json;

    fn with_mobile(m: &str) -> serde_json::Value {
        let mut body = minimal_body();
        body["subject"]["principal"]["mobile"] = json!(m);
        body["services"][0]["responsible"]["mobile"] = json!(m);
        body
    }

    #[test]
    fn virtual_operator_numbers_are_blocking() {
        // 1349 is a block of China Mobile's virtual operators in the package data.
        assert_eq!(
            codes(&review_body(&with_mobile("13490000000"))),
            ["phone_virtual_operator"]
        );
    }

    #[test]
    fn local_numbers_where_the_bureau_wants_them() {
        // 江苏 wants local numbers; 13800138000 is a Beijing block.
        let mut body = with_mobile("13800138000");
        body["subject"]["province"] = json!("320000");
        assert!(codes(&review_body(&body)).contains(&"phone_not_local"));
    }

    #[test]
    fn a_number_of_another_subjects_submitted_order_blocks() {
        let facts = |other_submitted| RegistryFacts {
            phone_conflicts: vec![PhoneConflict {
                mobile: "13800138000".into(),
                other_submitted,
            }],
            ..Default::default()
        };
        let f = review_with(&minimal_body(), &facts(true));
        assert_eq!(
            codes(&f),
            ["phone_used_by_other_subject", "phone_used_by_other_subject"]
        );
        assert_eq!(f[0].severity, Severity::Blocking);
        let f = review_with(&minimal_body(), &facts(false));
        assert_eq!(f[0].severity, Severity::Warning);
    }
}
