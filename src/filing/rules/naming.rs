//! Website names (bureau reason 2): rules/naming.toml.

use super::{Findings, RuleBook, Severity::Blocking};
use crate::filing::order::{Certificate, OrderForm, SubjectKind};
use crate::filing::reason::ReasonCode;
use crate::filing::text::is_han;

pub(super) fn check(book: &RuleBook, form: &OrderForm, f: &mut Findings) {
    let rules = &book.naming;
    let subject = &form.subject;
    for (i, svc) in form.services.iter().enumerate() {
        let field = format!("services.{i}.name");
        let name = svc.name.as_str();
        let han = name.chars().filter(|c| is_han(*c)).count();
        if han == 0 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ') {
            f.push(
                ReasonCode::SiteNameLatinOrDigits,
                Blocking,
                &field,
                "the name is only Latin letters or digits",
            );
        } else if han < rules.general.min_han_chars {
            f.push(
                ReasonCode::SiteNameTooFewHan,
                Blocking,
                &field,
                format!(
                    "the name has {han} Chinese characters; at least {} are needed",
                    rules.general.min_han_chars
                ),
            );
        }
        let symbols: String = name
            .chars()
            .filter(|c| !(is_han(*c) || c.is_ascii_alphanumeric() || *c == ' ' || *c == '·'))
            .collect();
        if !symbols.is_empty() {
            f.push(
                ReasonCode::SiteNameSymbols,
                Blocking,
                &field,
                format!("the name contains the symbols {symbols}"),
            );
        }
        let lower = name.to_lowercase();
        if svc
            .domains
            .iter()
            .any(|d| lower == d.as_str() || lower == d.unicode() || lower == d.registered())
        {
            f.push(
                ReasonCode::SiteNameIsDomain,
                Blocking,
                &field,
                "the name is the website's domain",
            );
        }
        let national_unit = matches!(&subject.certificate, Certificate::Uscc(c) if c.is_national());
        if let Some(p) = rules
            .general
            .national_prefixes
            .iter()
            .find(|p| name.starts_with(p.as_str()))
        {
            if !national_unit {
                f.push(
                    ReasonCode::SiteNameNationalPrefix,
                    Blocking,
                    &field,
                    format!("only national-level units may start a name with {p}"),
                );
            }
        }
        if let Some(w) = rules
            .general
            .sensitive_words
            .iter()
            .find(|w| name.contains(w.as_str()))
        {
            f.push(
                ReasonCode::SiteNameSensitiveWord,
                Blocking,
                &field,
                format!("the name contains the sensitive word {w}"),
            );
        }
        if subject.kind == SubjectKind::Individual {
            check_personal(book, &subject.province, name, &field, f);
        }
    }
}

fn check_personal(book: &RuleBook, province: &str, name: &str, field: &str, f: &mut Findings) {
    let rules = &book.naming.personal;
    if let Some(patterns) = rules.only_patterns.get(province) {
        let fits = patterns
            .iter()
            .any(|p| name.ends_with(p.as_str()) && name.chars().count() > p.chars().count());
        if !fits {
            f.push(
                ReasonCode::SiteNamePattern,
                Blocking,
                field,
                format!(
                    "in this province a personal site is named 某某{}",
                    patterns.join(" or 某某")
                ),
            );
        }
        return;
    }
    let province_words = rules
        .province_forbidden_words
        .get(province)
        .into_iter()
        .flatten();
    let mut hits: Vec<&str> = rules
        .forbidden_words
        .iter()
        .chain(province_words)
        .filter(|w| name.contains(w.as_str()))
        .map(String::as_str)
        .collect();
    hits.sort_unstable();
    hits.dedup();
    if hits.is_empty() {
        return;
    }
    let needs_pre_approval: Vec<&str> = hits
        .iter()
        .copied()
        .filter(|w| rules.pre_approval_words.iter().any(|p| p == w))
        .collect();
    let mut message = format!(
        "a personal website name may not contain {}",
        hits.join(", ")
    );
    if !needs_pre_approval.is_empty() {
        message.push_str(&format!(
            " ({} would need a pre-approval)",
            needs_pre_approval.join(", ")
        ));
    }
    f.push(
        ReasonCode::SiteNamePersonalForbiddenWord,
        Blocking,
        field,
        message,
    );
}

#[cfg(test)]
mod tests {
    use crate::filing::order::tests::minimal_body;
    use crate::filing::rules::tests::{codes, review_body};
    use serde_json::{json, Value};

    fn named(name: &str) -> Value {
        let mut body = minimal_body();
        body["services"][0]["name"] = json!(name);
        body
    }

    #[test]
    fn each_naming_rule_has_its_code() {
        let cases = [
            ("读书", vec!["site_name_too_few_han"]),
            ("reading notes 2024", vec!["site_name_latin_or_digits"]),
            ("张三的读书笔记!", vec!["site_name_symbols"]),
            (
                "zhangsan-notes.cn",
                vec![
                    "site_name_symbols",
                    "site_name_is_domain",
                    "site_name_too_few_han",
                ],
            ),
            ("国家读书笔记", vec!["site_name_national_prefix"]),
            ("张三的赌博笔记", vec!["site_name_sensitive_word"]),
            ("张三的读书论坛", vec!["site_name_personal_forbidden_word"]),
            ("张三的读书笔记", vec![]),
        ];
        for (name, want) in cases {
            let mut got = codes(&review_body(&named(name)));
            got.retain(|c| c.starts_with("site_name"));
            let mut want = want;
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn province_word_lists_and_the_jiangsu_pattern_apply_to_personal_sites_only() {
        // 北京 refuses 中心 in personal names.
        assert_eq!(
            codes(&review_body(&named("张三的读书中心"))),
            ["site_name_personal_forbidden_word"]
        );
        // 江苏 accepts only 某某的个人博客 / 某某的个人主页 (and then allows 博客).
        let mut js = named("张三的读书笔记");
        js["subject"]["province"] = json!("320000");
        assert!(codes(&review_body(&js)).contains(&"site_name_pattern"));
        js["services"][0]["name"] = json!("张三的个人博客");
        assert!(!codes(&review_body(&js))
            .iter()
            .any(|c| c.starts_with("site_name")));
    }
}
