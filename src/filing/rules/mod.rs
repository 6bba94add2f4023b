//! The pre-review: bureau rules kept as data in rules/*.toml (embedded at build time), applied
//! to a parsed order and what the registry knows of it. Pure: no I/O beyond parsing the data.

mod book;
mod content;
mod naming;
mod people;
mod phones;
mod registry;

use chrono::NaiveDate;
use serde::Serialize;

pub use book::{ProvinceRules, Reason, RuleBook};

use super::filing_type::RegistryFacts;
use super::order::OrderForm;
use super::reason::ReasonCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Stops submission: the bureau would reject the filing.
    Blocking,
    /// Worth the filer's and the reviewer's attention; does not stop submission.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: ReasonCode,
    pub severity: Severity,
    /// JSON path of the field the finding is about (`services.0.name`).
    pub field: String,
    pub message: String,
    /// The same in Chinese, from the catalogue (rules/reasons.toml).
    pub message_zh: String,
    /// Which of the ten common bureau rejection reasons this is (DOMAIN.md), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bureau_reason: Option<u8>,
}

impl Finding {
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Blocking
    }
}

/// Collects findings, taking the Chinese text and bureau reason from the catalogue.
pub(crate) struct Findings<'b> {
    book: &'b RuleBook,
    out: Vec<Finding>,
}

impl Findings<'_> {
    pub(crate) fn push(
        &mut self,
        code: ReasonCode,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.out
            .push(self.book.finding(code, severity, field, message));
    }
}

impl RuleBook {
    /// A finding with the catalogue's Chinese text and bureau reason for `code`.
    pub fn finding(
        &self,
        code: ReasonCode,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        let reason = self.reason(code);
        Finding {
            code,
            severity,
            field: field.into(),
            message: message.into(),
            message_zh: reason.map(|r| r.zh.clone()).unwrap_or_default(),
            bureau_reason: reason.and_then(|r| r.bureau_reason),
        }
    }

    /// Every finding for the order, blocking ones first, then by field.
    pub fn review(
        &self,
        form: &OrderForm,
        facts: &RegistryFacts,
        today: NaiveDate,
    ) -> Vec<Finding> {
        let mut f = Findings {
            book: self,
            out: Vec::new(),
        };
        naming::check(self, form, &mut f);
        people::check(self, form, today, &mut f);
        phones::check(self, form, facts, &mut f);
        content::check(self, form, &mut f);
        registry::check(form, facts, &mut f);
        let mut out = f.out;
        out.sort_by(|a, b| (b.is_blocking(), &a.field).cmp(&(a.is_blocking(), &b.field)));
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::filing::order::tests::{ctx, minimal_body};
    use serde_json::Value;

    pub fn book() -> &'static RuleBook {
        RuleBook::embedded()
    }

    pub fn review_body(body: &Value) -> Vec<Finding> {
        review_with(body, &RegistryFacts::default())
    }

    pub fn review_with(body: &Value, facts: &RegistryFacts) -> Vec<Finding> {
        let mut c = ctx();
        c.pre_approval_types = book().pre_approval_codes();
        let form = OrderForm::parse(body, &c).unwrap();
        book().review(&form, facts, c.today)
    }

    pub fn codes(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn the_minimal_order_has_no_findings() {
        assert_eq!(review_body(&minimal_body()), vec![]);
    }

    #[test]
    fn findings_carry_the_catalogue_text_and_blocking_come_first() {
        let mut body = minimal_body();
        body["services"][0]["name"] = "中国张三的读书笔记".into();
        body["services"][0]["domains"] = serde_json::json!(["www.zhangsan-notes.cn"]);
        let findings = review_body(&body);
        assert_eq!(
            codes(&findings),
            ["site_name_national_prefix", "domain_not_registered_level"]
        );
        assert!(findings[0].is_blocking() && !findings[1].is_blocking());
        assert_eq!(findings[0].bureau_reason, Some(2));
        assert!(findings[0].message_zh.contains("中国"));
    }
}
