//! Content that needs a pre-approval (前置审批, bureau reason 4): rules/pre_approvals.toml.

use super::{Findings, RuleBook, Severity::Blocking, Severity::Warning};
use crate::filing::order::OrderForm;
use crate::filing::reason::ReasonCode;

pub(super) fn check(book: &RuleBook, form: &OrderForm, f: &mut Findings) {
    let province = form.subject.province.as_str();
    let applies = |t: &super::book::PreApprovalType| {
        !t.cancelled && (t.only_in.is_empty() || t.only_in.iter().any(|p| p == province))
    };
    for (i, svc) in form.services.iter().enumerate() {
        for (code, t) in &book.pre_approvals {
            let declared = svc.pre_approvals.iter().any(|p| p == code);
            let keyword = t
                .name_keywords
                .iter()
                .find(|k| svc.name.contains(k.as_str()));
            match (declared, applies(t), keyword) {
                (false, true, Some(k)) => f.push(
                    ReasonCode::PreApprovalRequired,
                    Blocking,
                    format!("services.{i}.pre_approvals"),
                    format!(
                        "the name mentions {k}: content of type {} ({code}) needs a pre-approval",
                        t.zh
                    ),
                ),
                (true, false, _) => f.push(
                    ReasonCode::PreApprovalNotNeeded,
                    Warning,
                    format!("services.{i}.pre_approvals"),
                    format!(
                        "the pre-approval {} ({code}) is not required in this province",
                        t.zh
                    ),
                ),
                (true, true, _) => f.push(
                    ReasonCode::PreApprovalDocumentNeeded,
                    Warning,
                    format!("services.{i}.pre_approvals"),
                    match &t.document {
                        Some(doc) => format!("upload the {} document: {doc}", t.zh),
                        None => format!("upload the {} pre-approval document", t.zh),
                    },
                ),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::filing::order::tests::minimal_body;
    use crate::filing::rules::tests::{codes, review_body};
    use serde_json::json;

    #[test]
    fn a_name_that_implies_licensed_content_needs_its_pre_approval() {
        let mut body = minimal_body();
        body["services"][0]["name"] = json!("张三的电影笔记");
        assert_eq!(codes(&review_body(&body)), ["pre_approval_required"]);
        body["services"][0]["pre_approvals"] = json!(["broadcasting"]);
        assert_eq!(codes(&review_body(&body)), ["pre_approval_document_needed"]);
    }

    #[test]
    fn cancelled_types_are_not_asked_for() {
        // 教育 is only still required in 浙江, 青海 and 西藏; the filing here is in 北京.
        let mut body = minimal_body();
        body["services"][0]["name"] = json!("张三的教育笔记");
        assert!(codes(&review_body(&body)).is_empty());
        body["services"][0]["pre_approvals"] = json!(["education"]);
        assert_eq!(codes(&review_body(&body)), ["pre_approval_not_needed"]);
    }
}
