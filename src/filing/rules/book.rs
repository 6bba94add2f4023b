//! Loading rules/*.toml into typed rules. The files are embedded; `RuleBook::load` also
//! serves a directory an operator points at (`--rules-dir`) to update bureau rules without a
//! rebuild.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::filing::reason::ReasonCode;

const PROVINCES: &str = include_str!("../../../rules/provinces.toml");
const NAMING: &str = include_str!("../../../rules/naming.toml");
const REASONS: &str = include_str!("../../../rules/reasons.toml");
const PRE_APPROVALS: &str = include_str!("../../../rules/pre_approvals.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct ProvinceRules {
    pub name: String,
    pub icp_prefix: String,
    pub psb_prefix: String,
    pub subject_principal_legal_rep: LegalRepRule,
    #[serde(default)]
    pub legal_rep_keywords: Vec<String>,
    #[serde(default)]
    pub website_principal_legal_rep: bool,
    #[serde(default)]
    pub website_principal_differs: bool,
    pub personal_non_local: NonLocalRule,
    pub mobile_local: MobileLocalRule,
    pub min_age: Option<u32>,
    #[serde(default)]
    pub min_age_applies: MinAgeApplies,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalRepRule {
    Required,
    OrAuthorization,
    Keywords,
    NotStated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonLocalRule {
    Refused,
    WithResidencePermit,
    Accepted,
    NotStated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MobileLocalRule {
    No,
    All,
    Personal,
    OrRemark,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinAgeApplies {
    #[default]
    All,
    Unit,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamingRules {
    pub general: GeneralNaming,
    pub personal: PersonalNaming,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GeneralNaming {
    pub min_han_chars: usize,
    pub max_chars: usize,
    pub national_prefixes: Vec<String>,
    pub sensitive_words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PersonalNaming {
    pub forbidden_words: Vec<String>,
    pub pre_approval_words: Vec<String>,
    #[serde(default)]
    pub only_patterns: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub province_forbidden_words: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reason {
    pub kind: String,
    pub bureau_reason: Option<u8>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PreApprovalType {
    pub zh: String,
    pub document: Option<String>,
    #[serde(default)]
    pub only_in: Vec<String>,
    #[serde(default)]
    pub cancelled: bool,
    #[serde(default)]
    pub name_keywords: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ProvincesFile {
    provinces: BTreeMap<String, ProvinceRules>,
}

#[derive(Debug, Deserialize)]
struct ReasonsFile {
    reasons: BTreeMap<ReasonCode, Reason>,
}

#[derive(Debug, Deserialize)]
struct PreApprovalsFile {
    types: BTreeMap<String, PreApprovalType>,
}

#[derive(Debug, Clone)]
pub struct RuleBook {
    pub provinces: BTreeMap<String, ProvinceRules>,
    pub naming: NamingRules,
    pub reasons: BTreeMap<ReasonCode, Reason>,
    pub pre_approvals: BTreeMap<String, PreApprovalType>,
}

impl RuleBook {
    /// The rules built into the binary.
    pub fn embedded() -> &'static RuleBook {
        static BOOK: OnceLock<RuleBook> = OnceLock::new();
        BOOK.get_or_init(|| {
            RuleBook::from_sources(PROVINCES, NAMING, REASONS, PRE_APPROVALS)
                .expect("embedded rules are valid (checked by tests)")
        })
    }

    /// Rules from a directory holding the same four files.
    pub fn load(dir: &Path) -> anyhow::Result<RuleBook> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        RuleBook::from_sources(
            &read("provinces.toml")?,
            &read("naming.toml")?,
            &read("reasons.toml")?,
            &read("pre_approvals.toml")?,
        )
    }

    fn from_sources(
        provinces: &str,
        naming: &str,
        reasons: &str,
        pre_approvals: &str,
    ) -> anyhow::Result<RuleBook> {
        let provinces: ProvincesFile = toml::from_str(provinces).context("provinces.toml")?;
        let naming: NamingRules = toml::from_str(naming).context("naming.toml")?;
        let reasons: ReasonsFile = toml::from_str(reasons).context("reasons.toml")?;
        let pre_approvals: PreApprovalsFile =
            toml::from_str(pre_approvals).context("pre_approvals.toml")?;
        let book = RuleBook {
            provinces: provinces.provinces,
            naming,
            reasons: reasons.reasons,
            pre_approvals: pre_approvals.types,
        };
        book.validate()?;
        Ok(book)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let missing: Vec<&str> = ReasonCode::ALL
            .iter()
            .filter(|c| !self.reasons.contains_key(c))
            .map(|c| c.as_str())
            .collect();
        if !missing.is_empty() {
            bail!("reasons.toml lacks the codes {}", missing.join(", "));
        }
        let divisions = crate::filing::division::Divisions::embedded();
        for (code, name) in divisions.provinces() {
            if !self.provinces.contains_key(code) {
                bail!("provinces.toml has no rules for {code} ({name})");
            }
        }
        Ok(())
    }

    pub fn province(&self, code2: &str) -> Option<&ProvinceRules> {
        self.provinces.get(code2)
    }

    pub fn reason(&self, code: ReasonCode) -> Option<&Reason> {
        self.reasons.get(&code)
    }

    pub fn pre_approval_codes(&self) -> Vec<&str> {
        self.pre_approvals.keys().map(String::as_str).collect()
    }

    /// What parsing an order needs from these rules, for today (Beijing time).
    pub fn parse_context(&self) -> crate::filing::order::ParseContext<'_> {
        crate::filing::order::ParseContext {
            divisions: crate::filing::division::Divisions::embedded(),
            pre_approval_types: self.pre_approval_codes(),
            max_site_name_chars: self.naming.general.max_chars,
            today: crate::filing::today_in_china(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_load_and_cover_every_province() {
        let book = RuleBook::embedded();
        assert_eq!(book.provinces.len(), 31);
        assert_eq!(book.province("51").unwrap().icp_prefix, "蜀");
        assert_eq!(book.province("51").unwrap().psb_prefix, "川");
    }

    #[test]
    fn a_catalogue_without_a_used_code_is_refused() {
        let start = REASONS.find("[reasons.phone_not_local]").unwrap();
        let end = start + REASONS[start..].find("\n\n").unwrap();
        let reasons = format!("{}{}", &REASONS[..start], &REASONS[end..]);
        let err = RuleBook::from_sources(PROVINCES, NAMING, &reasons, PRE_APPROVALS).unwrap_err();
        assert!(
            err.to_string().contains("lacks the codes phone_not_local"),
            "{err}"
        );
    }

    #[test]
    fn a_catalogue_with_a_code_the_service_does_not_know_is_refused() {
        let reasons = REASONS.replace(
            "[reasons.phone_not_local]",
            "[reasons.phone_not_local_renamed]",
        );
        let err = RuleBook::from_sources(PROVINCES, NAMING, &reasons, PRE_APPROVALS).unwrap_err();
        assert!(
            format!("{err:#}").contains("unknown reason code phone_not_local_renamed"),
            "{err:#}"
        );
    }

    #[test]
    fn the_rules_directory_of_the_repo_loads_like_the_embedded_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let book = RuleBook::load(&dir).unwrap();
        assert_eq!(book.reasons.len(), RuleBook::embedded().reasons.len());
    }
}
