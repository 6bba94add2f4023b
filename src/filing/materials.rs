//! Which materials an order needs, and from whom. Follows DOMAIN.md: ID card front and back for
//! each person, a face check of each website's responsible person (and of an individual
//! subject), the unit's certificate, the verification form, and what the findings add
//! (a residence permit for a non-local ID card, an authorisation letter).

use serde::Serialize;

use super::order::{OrderForm, SubjectKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    IdCardFront,
    IdCardBack,
    Face,
    BusinessLicense,
    VerificationForm,
    DomainCertificate,
    AuthorizationLetter,
    ResidencePermit,
    Other,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 9] = [
        Self::IdCardFront,
        Self::IdCardBack,
        Self::Face,
        Self::BusinessLicense,
        Self::VerificationForm,
        Self::DomainCertificate,
        Self::AuthorizationLetter,
        Self::ResidencePermit,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdCardFront => "id_card_front",
            Self::IdCardBack => "id_card_back",
            Self::Face => "face",
            Self::BusinessLicense => "business_license",
            Self::VerificationForm => "verification_form",
            Self::DomainCertificate => "domain_certificate",
            Self::AuthorizationLetter => "authorization_letter",
            Self::ResidencePermit => "residence_permit",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Documents of the subject (the unit, or the order), not of one person: whoever holds
    /// the phone may photograph them.
    pub fn belongs_to_subject(self) -> bool {
        matches!(
            self,
            Self::BusinessLicense
                | Self::VerificationForm
                | Self::AuthorizationLetter
                | Self::DomainCertificate
                | Self::Other
        )
    }
}

/// Where an uploaded material stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialState {
    /// Uploaded, its analysis job queued or running.
    Analyzing,
    Pass,
    /// Sent back to the filer to photograph again.
    Retake,
    /// Waiting for a person: something a machine could not decide.
    Flagged,
    /// A reviewer refused it.
    Rejected,
}

impl MaterialState {
    const ALL: [MaterialState; 5] = [
        Self::Analyzing,
        Self::Pass,
        Self::Retake,
        Self::Flagged,
        Self::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Analyzing => "analyzing",
            Self::Pass => "pass",
            Self::Retake => "retake",
            Self::Flagged => "flagged",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The state a machine verdict (the gate's, a liveness capture's: `pass`, `retake`,
    /// `flagged`) puts a material in; any other goes to a person.
    pub fn of_verdict(verdict: &str) -> Self {
        match verdict {
            "pass" => Self::Pass,
            "retake" => Self::Retake,
            _ => Self::Flagged,
        }
    }

    /// Judged and standing: later evidence (a face match, a corrected form, a reviewer) may
    /// still move it between pass and flagged.
    pub fn is_standing(self) -> bool {
        matches!(self, Self::Pass | Self::Flagged)
    }
}

/// N of a `service:N` person.
impl std::fmt::Display for MaterialState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn service_index(person: &str) -> Option<usize> {
    person.strip_prefix("service:")?.parse().ok()
}

/// Whose material an upload of `kind` in a session for `person` is: `subject` for the
/// subject's documents, the session's person otherwise.
pub fn holder<'a>(person: &'a str, kind: &str) -> &'a str {
    match MaterialKind::parse(kind) {
        Some(k) if k.belongs_to_subject() => "subject",
        _ => person,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredMaterial {
    /// `subject` (the unit or the order itself), `principal` or `service:N`.
    pub person: String,
    pub kind: MaterialKind,
}

/// `finding_codes`: the codes of the order's pre-review findings.
pub fn required(form: &OrderForm, finding_codes: &[&str]) -> Vec<RequiredMaterial> {
    let mut out = Vec::new();
    let mut add = |person: &str, kind| {
        let m = RequiredMaterial {
            person: person.to_string(),
            kind,
        };
        if !out.contains(&m) {
            out.push(m);
        }
    };
    let subject = &form.subject;
    match subject.kind {
        SubjectKind::Individual => {}
        SubjectKind::Enterprise => add("subject", MaterialKind::BusinessLicense),
        // 事业单位法人证书, 社会团体法人登记证书, 统一社会信用代码证书: no kind of their own yet.
        _ => add("subject", MaterialKind::Other),
    }
    add("principal", MaterialKind::IdCardFront);
    add("principal", MaterialKind::IdCardBack);
    if subject.kind == SubjectKind::Individual {
        add("principal", MaterialKind::Face);
    }
    for (i, svc) in form.services.iter().enumerate() {
        // The same person is asked once: a responsible person who is the principal uploads
        // under `principal`.
        let person = if svc.responsible.id_number == subject.principal.id_number {
            "principal".to_string()
        } else {
            form.services[..i]
                .iter()
                .position(|s| s.responsible.id_number == svc.responsible.id_number)
                .map_or_else(|| format!("service:{i}"), |j| format!("service:{j}"))
        };
        add(&person, MaterialKind::IdCardFront);
        add(&person, MaterialKind::IdCardBack);
        add(&person, MaterialKind::Face);
    }
    add("subject", MaterialKind::VerificationForm);
    for code in finding_codes {
        match *code {
            "residence_permit_needed" => add("principal", MaterialKind::ResidencePermit),
            "authorization_letter_needed" | "website_principal_not_legal_rep" => {
                add("subject", MaterialKind::AuthorizationLetter)
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::order::tests::{ctx, minimal_body};

    #[test]
    fn an_individual_who_runs_their_own_site_uploads_once() {
        let form = OrderForm::parse(&minimal_body(), &ctx()).unwrap();
        let kinds: Vec<(String, &str)> = required(&form, &[])
            .into_iter()
            .map(|m| (m.person, m.kind.as_str()))
            .collect();
        let want = [
            ("principal", "id_card_front"),
            ("principal", "id_card_back"),
            ("principal", "face"),
            ("subject", "verification_form"),
        ];
        assert_eq!(kinds, want.map(|(p, k)| (p.to_string(), k)));
    }

    #[test]
    fn another_responsible_person_uploads_their_own() {
        let mut body = minimal_body();
        body["services"][0]["responsible"]["id_number"] = "11010519491231002X".into();
        let form = OrderForm::parse(&body, &ctx()).unwrap();
        let m = required(&form, &[]);
        assert!(m.contains(&RequiredMaterial {
            person: "service:0".into(),
            kind: MaterialKind::Face
        }));
        assert_eq!(m.len(), 7);
    }

    #[test]
    fn material_states_round_trip_and_serialise_as_stored() {
        for s in MaterialState::ALL {
            assert_eq!(MaterialState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(MaterialState::parse("passed"), None);
    }
}
