//! The filing order's form (subject and services), parsed from JSON into domain types. A
//! parsed `OrderForm` is valid by construction; `to_json` writes it back in the input shape.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::contact::{EmailAddress, PersonName};
use super::credit_code::CreditCode;
use super::division::Divisions;
use super::domain_name::DomainName;
use super::fields::{join, FieldErrors, Reader};
use super::id_number::ResidentId;
use super::mobile::MobileNumber;
use super::text::fold_width;

pub const MAX_SERVICES: usize = 20;
pub const MAX_DOMAINS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Individual,
    Enterprise,
    Institution,
    SocialGroup,
    Government,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 5] = [
        Self::Individual,
        Self::Enterprise,
        Self::Institution,
        Self::SocialGroup,
        Self::Government,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::Enterprise => "enterprise",
            Self::Institution => "institution",
            Self::SocialGroup => "social_group",
            Self::Government => "government",
        }
    }

    pub fn is_unit(self) -> bool {
        self != Self::Individual
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certificate {
    ResidentId(ResidentId),
    Uscc(CreditCode),
}

impl Certificate {
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::ResidentId(_) => "resident_id",
            Self::Uscc(_) => "uscc",
        }
    }

    pub fn number(&self) -> &str {
        match self {
            Self::ResidentId(id) => id.as_str(),
            Self::Uscc(c) => c.as_str(),
        }
    }

    /// `type:number`, the key the registry and the blind index use.
    pub fn key(&self) -> String {
        format!("{}:{}", self.type_str(), self.number())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: PersonName,
    pub id_number: ResidentId,
    pub mobile: MobileNumber,
    pub email: EmailAddress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    /// 2-digit province code of the filing (主办单位所属区域).
    pub province: String,
    pub name: String,
    pub certificate: Certificate,
    pub address: String,
    pub principal: Person,
    /// The unit's legal representative (法定代表人), when the filer gave it.
    pub legal_representative: Option<PersonName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Website,
    App,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Website => "website",
            Self::App => "app",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub kind: ServiceKind,
    /// Width-folded and trimmed; the naming rules judge it (reason 2), not the parser.
    pub name: String,
    pub domains: Vec<DomainName>,
    pub pre_approvals: Vec<String>,
    pub responsible: Person,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderForm {
    pub subject: Subject,
    pub services: Vec<Service>,
}

/// What parsing needs to know besides the input.
pub struct ParseContext<'a> {
    pub divisions: &'a Divisions,
    /// Codes of rules/pre_approvals.toml.
    pub pre_approval_types: Vec<&'a str>,
    pub max_site_name_chars: usize,
    pub today: NaiveDate,
}

impl OrderForm {
    pub fn parse(input: &Value, ctx: &ParseContext) -> Result<OrderForm, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut r = Reader {
            errors: &mut errors,
        };
        let root = match input {
            Value::Object(m) => Some(m),
            _ => {
                r.errors
                    .add("", "not_an_object", "the body is a JSON object");
                None
            }
        };
        let subject = root.and_then(|m| parse_subject(&mut r, m.get("subject"), ctx));
        let services: Vec<Option<Service>> = match root {
            Some(m) => r
                .array(m, "services", "", 1, MAX_SERVICES)
                .iter()
                .enumerate()
                .map(|(i, v)| parse_service(&mut r, v, &format!("services.{i}"), ctx))
                .collect(),
            None => Vec::new(),
        };
        match (subject, errors.is_empty()) {
            (Some(subject), true) => Ok(OrderForm {
                subject,
                services: services.into_iter().flatten().collect(),
            }),
            _ => Err(errors),
        }
    }

    /// A form the store wrote (`to_json` of a form that parsed then), read back. It met the
    /// rules' choices of that day (the pre-approval catalogue, the site name's length), so
    /// those it holds are taken as they are; the shape, the numbers' checks and the
    /// divisions are checked again, and a stored form that fails them is an error.
    pub fn from_stored(stored: &Value) -> Result<OrderForm, FieldErrors> {
        let held: Vec<&str> = stored["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["pre_approvals"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let ctx = ParseContext {
            divisions: Divisions::embedded(),
            pre_approval_types: held,
            max_site_name_chars: usize::MAX,
            today: super::today_in_china(),
        };
        OrderForm::parse(stored, &ctx)
    }

    /// The form in the input's JSON shape, unmasked: what the store encrypts.
    pub fn to_json(&self) -> Value {
        let s = &self.subject;
        json!({
            "subject": {
                "kind": s.kind.as_str(),
                "province": format!("{}0000", s.province),
                "name": s.name,
                "certificate": {"type": s.certificate.type_str(), "number": s.certificate.number()},
                "address": s.address,
                "principal": person_json(&s.principal),
                "legal_representative": s.legal_representative.as_ref().map(PersonName::as_str),
            },
            "services": self.services.iter().map(|svc| json!({
                "kind": svc.kind.as_str(),
                "name": svc.name,
                "domains": svc.domains.iter().map(DomainName::as_str).collect::<Vec<_>>(),
                "pre_approvals": svc.pre_approvals,
                "responsible": person_json(&svc.responsible),
            })).collect::<Vec<_>>(),
        })
    }

    /// Every person named in the order, with the JSON path of where they stand
    /// (`subject.principal`, `services.N.responsible`).
    pub fn people(&self) -> Vec<(String, &Person)> {
        let mut out = vec![("subject.principal".to_string(), &self.subject.principal)];
        for (i, svc) in self.services.iter().enumerate() {
            out.push((format!("services.{i}.responsible"), &svc.responsible));
        }
        out
    }
}

fn person_json(p: &Person) -> Value {
    json!({
        "name": p.name.as_str(),
        "id_number": p.id_number.as_str(),
        "mobile": p.mobile.as_str(),
        "email": p.email.as_str(),
    })
}

fn parse_subject(r: &mut Reader, v: Option<&Value>, ctx: &ParseContext) -> Option<Subject> {
    let path = "subject";
    let m = r.object(v, path)?;
    let kind = r.string(m, "kind", path).and_then(|k| {
        let kind = SubjectKind::ALL.into_iter().find(|sk| sk.as_str() == k);
        if kind.is_none() {
            r.errors.add(
                &join(path, "kind"),
                "unknown_subject_kind",
                "one of individual, enterprise, institution, social_group, government",
            );
        }
        kind
    });
    let province = r.string(m, "province", path).and_then(|p| {
        let p = fold_width(p);
        let code2 = match p.len() {
            2 => Some(p.as_str()),
            6 if p.ends_with("0000") => Some(&p[..2]),
            _ => None,
        };
        match code2.filter(|c| ctx.divisions.province_name(c).is_some()) {
            Some(c) => Some(c.to_string()),
            None => {
                r.errors.add(
                    &join(path, "province"),
                    "unknown_province",
                    "a mainland province code such as 110000 (北京市)",
                );
                None
            }
        }
    });
    let name = r.string(m, "name", path).and_then(|n| {
        bounded_text(
            r,
            n,
            &join(path, "name"),
            2,
            100,
            "a subject name has 2 to 100 characters",
        )
    });
    let certificate = parse_certificate(r, m.get("certificate"), kind, ctx);
    let address = r.string(m, "address", path).and_then(|a| {
        bounded_text(
            r,
            a,
            &join(path, "address"),
            4,
            200,
            "an address has 4 to 200 characters",
        )
    });
    let principal = parse_person(r, m.get("principal"), &join(path, "principal"), ctx);
    let legal_representative = r
        .optional_string(m, "legal_representative", path)
        .and_then(|n| match PersonName::parse(n) {
            Ok(n) => Some(n),
            Err(e) => {
                r.errors.add(
                    &join(path, "legal_representative"),
                    "invalid_name",
                    e.to_string(),
                );
                None
            }
        });
    Some(Subject {
        kind: kind?,
        province: province?,
        name: name?,
        certificate: certificate?,
        address: address?,
        principal: principal?,
        legal_representative,
    })
}

fn bounded_text(
    r: &mut Reader,
    s: &str,
    path: &str,
    min: usize,
    max: usize,
    msg: &str,
) -> Option<String> {
    let s = fold_width(s);
    let n = s.chars().count();
    if n < min || n > max || s.chars().any(char::is_control) {
        r.errors.add(path, "invalid_length", msg);
        return None;
    }
    Some(s)
}

fn parse_certificate(
    r: &mut Reader,
    v: Option<&Value>,
    kind: Option<SubjectKind>,
    ctx: &ParseContext,
) -> Option<Certificate> {
    let path = "subject.certificate";
    let m = r.object(v, path)?;
    let ty = r.string(m, "type", path);
    let number = r.string(m, "number", path);
    let type_path = join(path, "type");
    let number_path = join(path, "number");
    let cert = match (ty?, kind) {
        ("resident_id", Some(SubjectKind::Individual) | None) => {
            match ResidentId::parse(number?, ctx.divisions, ctx.today) {
                Ok(id) => Certificate::ResidentId(id),
                Err(e) => {
                    r.errors.add(&number_path, e.code(), e.to_string());
                    return None;
                }
            }
        }
        ("uscc", Some(k)) if k.is_unit() => match CreditCode::parse(number?) {
            Ok(c) => Certificate::Uscc(c),
            Err(e) => {
                r.errors.add(&number_path, e.code(), e.to_string());
                return None;
            }
        },
        ("resident_id", Some(_)) => {
            r.errors.add(
                &type_path,
                "certificate_type_mismatch",
                "a unit files with its unified social credit code (uscc)",
            );
            return None;
        }
        ("uscc", _) => {
            r.errors.add(
                &type_path,
                "certificate_type_mismatch",
                "an individual files with a resident ID card (resident_id)",
            );
            return None;
        }
        _ => {
            r.errors.add(
                &type_path,
                "unknown_certificate_type",
                "resident_id or uscc",
            );
            return None;
        }
    };
    Some(cert)
}

fn parse_person(
    r: &mut Reader,
    v: Option<&Value>,
    path: &str,
    ctx: &ParseContext,
) -> Option<Person> {
    let m = r.object(v, path)?;
    let name = r
        .string(m, "name", path)
        .and_then(|n| match PersonName::parse(n) {
            Ok(n) => Some(n),
            Err(e) => {
                r.errors
                    .add(&join(path, "name"), "invalid_name", e.to_string());
                None
            }
        });
    let id_number = r.string(m, "id_number", path).and_then(|n| {
        match ResidentId::parse(n, ctx.divisions, ctx.today) {
            Ok(id) => Some(id),
            Err(e) => {
                r.errors
                    .add(&join(path, "id_number"), e.code(), e.to_string());
                None
            }
        }
    });
    let mobile = r
        .string(m, "mobile", path)
        .and_then(|n| match MobileNumber::parse(n) {
            Ok(n) => Some(n),
            Err(e) => {
                r.errors.add(&join(path, "mobile"), e.code(), e.to_string());
                None
            }
        });
    let email = r
        .string(m, "email", path)
        .and_then(|n| match EmailAddress::parse(n) {
            Ok(n) => Some(n),
            Err(e) => {
                r.errors
                    .add(&join(path, "email"), "invalid_email", e.to_string());
                None
            }
        });
    Some(Person {
        name: name?,
        id_number: id_number?,
        mobile: mobile?,
        email: email?,
    })
}

fn parse_service(r: &mut Reader, v: &Value, path: &str, ctx: &ParseContext) -> Option<Service> {
    let m = r.object(Some(v), path)?;
    let kind = match r.optional_string(m, "kind", path).unwrap_or("website") {
        "website" => Some(ServiceKind::Website),
        "app" => Some(ServiceKind::App),
        _ => {
            r.errors.add(
                &join(path, "kind"),
                "unknown_service_kind",
                "website or app",
            );
            None
        }
    };
    let name = r.string(m, "name", path).and_then(|n| {
        let max = ctx.max_site_name_chars;
        bounded_text(
            r,
            n,
            &join(path, "name"),
            1,
            max,
            &format!("a name has at most {max} characters"),
        )
    });
    let min_domains = usize::from(kind == Some(ServiceKind::Website));
    let mut domains: Vec<DomainName> = Vec::new();
    for (i, d) in r
        .array(m, "domains", path, min_domains, MAX_DOMAINS)
        .iter()
        .enumerate()
    {
        let p = format!("{path}.domains.{i}");
        match d.as_str().map(DomainName::parse) {
            Some(Ok(d)) => domains.push(d),
            Some(Err(e)) => r.errors.add(&p, e.code(), e.to_string()),
            None => r
                .errors
                .add(&p, "not_a_string", "a string is expected here"),
        }
    }
    let mut pre_approvals: Vec<String> = Vec::new();
    for (i, t) in r.array(m, "pre_approvals", path, 0, 16).iter().enumerate() {
        match t.as_str().filter(|t| ctx.pre_approval_types.contains(t)) {
            Some(t) if !pre_approvals.iter().any(|p| p == t) => pre_approvals.push(t.to_string()),
            Some(_) => {}
            None => r.errors.add(
                &format!("{path}.pre_approvals.{i}"),
                "unknown_pre_approval",
                format!("one of {}", ctx.pre_approval_types.join(", ")),
            ),
        }
    }
    let responsible = parse_person(r, m.get("responsible"), &join(path, "responsible"), ctx);
    Some(Service {
        kind: kind?,
        name: name?,
        domains,
        pre_approvals,
        responsible: responsible?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn minimal_body() -> Value {
        serde_json::from_str(include_str!("../../fixtures/orders/minimal.json")).unwrap()
    }

    pub fn ctx() -> ParseContext<'static> {
        ParseContext {
            divisions: Divisions::embedded(),
            pre_approval_types: vec!["news", "culture"],
            max_site_name_chars: 64,
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        }
    }

    #[test]
    fn the_minimal_body_of_the_design_parses_and_round_trips() {
        let form = OrderForm::parse(&minimal_body(), &ctx()).unwrap();
        assert_eq!(form.subject.kind, SubjectKind::Individual);
        assert_eq!(form.subject.province, "11");
        assert_eq!(form.services[0].domains[0].as_str(), "zhangsan-notes.cn");
        let again = OrderForm::parse(&form.to_json(), &ctx()).unwrap();
        assert_eq!(again, form);
    }

    #[test]
    fn a_stored_form_reads_back_though_the_rules_choices_have_changed_since() {
        let mut body = minimal_body();
        body["services"][0]["pre_approvals"] = json!(["news"]);
        let form = OrderForm::parse(&body, &ctx()).unwrap();
        // Since it was written, `news` left the catalogue and names became shorter.
        let today = ParseContext {
            pre_approval_types: vec!["culture"],
            max_site_name_chars: 2,
            ..ctx()
        };
        assert!(OrderForm::parse(&form.to_json(), &today).is_err());
        assert_eq!(OrderForm::from_stored(&form.to_json()).unwrap(), form);
        // What no day's rules allow is still refused.
        let mut damaged = form.to_json();
        damaged["subject"]["principal"]["mobile"] = json!("12345");
        assert!(OrderForm::from_stored(&damaged).is_err());
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let mut body = minimal_body();
        body["subject"]["certificate"]["number"] = json!("110101199003078030");
        body["subject"]["principal"]["mobile"] = json!("12345");
        body["services"][0]["domains"] = json!(["http://x.cn/"]);
        body["services"][0]["responsible"]["email"] = json!(42);
        body["subject"]["province"] = json!("990000");
        let errors = OrderForm::parse(&body, &ctx()).unwrap_err();
        let paths: Vec<&str> = errors.paths().collect();
        assert_eq!(
            paths,
            [
                "services.0.domains.0",
                "services.0.responsible.email",
                "subject.certificate.number",
                "subject.principal.mobile",
                "subject.province",
            ]
        );
        assert_eq!(
            errors.get("subject.certificate.number").unwrap().code,
            "id_check_character"
        );
    }

    #[test]
    fn certificate_type_must_fit_the_subject_kind() {
        let mut body = minimal_body();
        body["subject"]["kind"] = json!("enterprise");
        let errors = OrderForm::parse(&body, &ctx()).unwrap_err();
        assert_eq!(
            errors.get("subject.certificate.type").unwrap().code,
            "certificate_type_mismatch"
        );
    }

    #[test]
    fn missing_parts_and_wrong_shapes_are_field_errors_not_panics() {
        for body in [
            json!(null),
            json!([]),
            json!({}),
            json!({"subject": 1, "services": {}}),
        ] {
            assert!(!OrderForm::parse(&body, &ctx()).unwrap_err().is_empty());
        }
        let errors = OrderForm::parse(&json!({"subject": {}, "services": []}), &ctx()).unwrap_err();
        assert_eq!(errors.get("services").unwrap().code, "too_few");
        assert_eq!(errors.get("subject.kind").unwrap().code, "required");
    }
}
