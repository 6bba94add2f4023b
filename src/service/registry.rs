//! The operator's registry of existing filings: loading it from CSV, and the facts it and the
//! other orders give about an order's form.
//!
//! CSV columns (header required):
//! `record,certificate_type,certificate_number,name,filing_number,provider,domain`
//! - `subject`: a filed subject (name, filing number, provider `here` or `other`);
//! - `website`: a filed website (domain, website filing number, provider) of that subject;
//! - `domain`: a domain's real-name registrant (name and certificate), as the registrar knows it.

use anyhow::{anyhow, bail, Context};

use crate::filing::credit_code::CreditCode;
use crate::filing::division::Divisions;
use crate::filing::domain_name::DomainName;
use crate::filing::filing_type::{
    FiledSubject, FiledWebsite, KnownRegistrant, PhoneConflict, Provider, RegistryFacts,
};
use crate::filing::id_number::ResidentId;
use crate::filing::order::OrderForm;
use crate::filing::text::compact;
use crate::store::crypto::FieldCipher;
use crate::store::orders::Orders;
use crate::store::registry::{LoadReport, Registry, RegistryRecord};

/// The index key of a name: width-folded, without spaces.
fn name_key(name: &str) -> String {
    compact(name)
}

fn certificate_key(ty: &str, number: &str) -> anyhow::Result<String> {
    let number = match ty {
        "resident_id" => ResidentId::parse(
            number,
            Divisions::embedded(),
            crate::filing::today_in_china(),
        )
        .map_err(|e| anyhow!("{e}"))?
        .as_str()
        .to_string(),
        "uscc" => CreditCode::parse(number)
            .map_err(|e| anyhow!("{e}"))?
            .as_str()
            .to_string(),
        other => bail!("unknown certificate type {other:?} (resident_id or uscc)"),
    };
    Ok(format!("{ty}:{number}"))
}

/// Loads (inserting or replacing) every row of the CSV at once: a bad row loads nothing and
/// names its line.
pub async fn load_csv(
    registry: &dyn Registry,
    cipher: &FieldCipher,
    csv_text: &str,
) -> anyhow::Result<LoadReport> {
    let records = parse_csv(cipher, csv_text)?;
    Ok(registry.load(&records).await?)
}

fn parse_csv(cipher: &FieldCipher, csv_text: &str) -> anyhow::Result<Vec<RegistryRecord>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("the CSV has no column {name}"))
    };
    let (c_rec, c_ty, c_num, c_name, c_fn, c_prov, c_dom) = (
        col("record")?,
        col("certificate_type")?,
        col("certificate_number")?,
        col("name")?,
        col("filing_number")?,
        col("provider")?,
        col("domain")?,
    );
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("line {line}"))?;
        let get = |c: usize| row.get(c).unwrap_or("");
        let cert = certificate_key(get(c_ty), get(c_num))
            .with_context(|| format!("line {line}: certificate"))?;
        let certificate_index = cipher.blind_index(&cert);
        let name_index = || cipher.blind_index(&name_key(get(c_name)));
        let provider = || {
            Provider::parse(get(c_prov))
                .map(Provider::as_str)
                .ok_or_else(|| anyhow!("line {line}: provider is here or other"))
        };
        let domain = || {
            DomainName::parse(get(c_dom))
                .map(|d| d.registered().to_string())
                .map_err(|e| anyhow!("line {line}: domain: {e}"))
        };
        let filing_number = || {
            let n = get(c_fn);
            if n.is_empty() {
                Err(anyhow!("line {line}: filing_number is required"))
            } else {
                Ok(n.to_string())
            }
        };
        records.push(match get(c_rec) {
            "subject" => RegistryRecord::Subject {
                certificate_index,
                name_index: name_index(),
                filing_number: filing_number()?,
                provider: provider()?,
            },
            "website" => RegistryRecord::Website {
                domain: domain()?,
                certificate_index,
                filing_number: filing_number()?,
                provider: provider()?,
            },
            "domain" => RegistryRecord::Domain {
                domain: domain()?,
                registrant_index: certificate_index,
                name_index: name_index(),
            },
            other => bail!("line {line}: record is subject, website or domain, not {other:?}"),
        });
    }
    Ok(records)
}

/// Everything the registry and the other orders say about this form.
pub async fn facts_for(
    registry: &dyn Registry,
    orders: &dyn Orders,
    cipher: &FieldCipher,
    form: &OrderForm,
    this_order: Option<&str>,
) -> anyhow::Result<RegistryFacts> {
    let cert_index = cipher.blind_index(&form.subject.certificate.key());
    let name_index = cipher.blind_index(&name_key(&form.subject.name));
    let provider = |p: &str| Provider::parse(p).unwrap_or(Provider::Other);
    let mut facts = RegistryFacts::default();

    if let Some(row) = registry.subject(&cert_index).await? {
        facts.subject = Some(FiledSubject {
            provider: provider(&row.provider),
            name_matches: row.name_index == name_index,
            filing_number: row.filing_number,
        });
    }

    let mut domains: Vec<&str> = form
        .services
        .iter()
        .flat_map(|s| &s.domains)
        .map(DomainName::registered)
        .collect();
    domains.sort_unstable();
    domains.dedup();
    for domain in domains {
        if let Some(row) = registry.website(domain).await? {
            facts.websites.push(FiledWebsite {
                domain: domain.to_string(),
                provider: provider(&row.provider),
                same_subject: row.certificate_index == cert_index,
                filing_number: row.filing_number,
            });
        }
        if let Some(row) = registry.registrant(domain).await? {
            facts.registrants.push(KnownRegistrant {
                domain: domain.to_string(),
                certificate_matches: row.registrant_index == cert_index,
                name_matches: row.name_index == name_index,
            });
        }
    }

    let mut mobiles: Vec<&str> = form
        .people()
        .iter()
        .map(|(_, p)| p.mobile.as_str())
        .collect();
    mobiles.sort_unstable();
    mobiles.dedup();
    for mobile in mobiles {
        if let Some(other_submitted) = orders
            .phone_conflicts(&cipher.blind_index(mobile), &cert_index, this_order)
            .await?
        {
            facts.phone_conflicts.push(PhoneConflict {
                mobile: mobile.to_string(),
                other_submitted,
            });
        }
    }
    Ok(facts)
}
