//! The operator's registry of existing filings, loaded from CSV, and the facts it gives about
//! an order. Certificate numbers and names are kept only as blind indexes.
//!
//! CSV columns (header required):
//! `record,certificate_type,certificate_number,name,filing_number,provider,domain`
//! - `subject`: a filed subject (name, filing number, provider `here` or `other`);
//! - `website`: a filed website (domain, website filing number, provider) of that subject;
//! - `domain`: a domain's real-name registrant (name and certificate), as the registrar knows it.

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use sqlx::Row;

use super::crypto::FieldCipher;
use super::{orders, Db};
use crate::filing::credit_code::CreditCode;
use crate::filing::division::Divisions;
use crate::filing::domain_name::DomainName;
use crate::filing::filing_type::{
    FiledSubject, FiledWebsite, KnownRegistrant, PhoneConflict, Provider, RegistryFacts,
};
use crate::filing::id_number::ResidentId;
use crate::filing::order::OrderForm;
use crate::filing::text::compact;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub subjects: u64,
    pub websites: u64,
    pub domains: u64,
}

/// The index key of a name: width-folded, without spaces.
pub fn name_key(name: &str) -> String {
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

/// Loads (inserting or replacing) every row of the CSV in one transaction: a bad row loads
/// nothing and names its line.
pub async fn load_csv(db: &Db, cipher: &FieldCipher, csv_text: &str) -> anyhow::Result<LoadReport> {
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
    let now = Utc::now();
    let mut report = LoadReport::default();
    let mut tx = db.begin().await?;
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("line {line}"))?;
        let get = |c: usize| row.get(c).unwrap_or("");
        let cert = certificate_key(get(c_ty), get(c_num))
            .with_context(|| format!("line {line}: certificate"))?;
        let cert_index = cipher.blind_index(&cert);
        let provider = || {
            Provider::parse(get(c_prov))
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
        match get(c_rec) {
            "subject" => {
                sqlx::query("INSERT OR REPLACE INTO registry_subjects (certificate_index, name_index, filing_number, provider, loaded_at) VALUES (?, ?, ?, ?, ?)")
                    .bind(&cert_index)
                    .bind(cipher.blind_index(&name_key(get(c_name))))
                    .bind(filing_number()?)
                    .bind(provider()?.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                report.subjects += 1;
            }
            "website" => {
                sqlx::query("INSERT OR REPLACE INTO registry_websites (domain, certificate_index, filing_number, provider, loaded_at) VALUES (?, ?, ?, ?, ?)")
                    .bind(domain()?)
                    .bind(&cert_index)
                    .bind(filing_number()?)
                    .bind(provider()?.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                report.websites += 1;
            }
            "domain" => {
                sqlx::query("INSERT OR REPLACE INTO registry_domains (domain, registrant_index, name_index, loaded_at) VALUES (?, ?, ?, ?)")
                    .bind(domain()?)
                    .bind(&cert_index)
                    .bind(cipher.blind_index(&name_key(get(c_name))))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                report.domains += 1;
            }
            other => bail!("line {line}: record is subject, website or domain, not {other:?}"),
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// Everything the registry and the other orders say about this form.
pub async fn facts_for(
    db: &Db,
    cipher: &FieldCipher,
    form: &OrderForm,
    this_order: Option<&str>,
) -> anyhow::Result<RegistryFacts> {
    let cert_index = cipher.blind_index(&form.subject.certificate.key());
    let name_index = cipher.blind_index(&name_key(&form.subject.name));
    let mut facts = RegistryFacts::default();

    let subject = sqlx::query("SELECT name_index, filing_number, provider FROM registry_subjects WHERE certificate_index = ?")
        .bind(&cert_index)
        .fetch_optional(db)
        .await?;
    if let Some(row) = subject {
        facts.subject = Some(FiledSubject {
            filing_number: row.try_get("filing_number")?,
            provider: Provider::parse(row.try_get("provider")?).unwrap_or(Provider::Other),
            name_matches: row.try_get::<String, _>("name_index")? == name_index,
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
        if let Some(row) = sqlx::query("SELECT certificate_index, filing_number, provider FROM registry_websites WHERE domain = ?")
            .bind(domain)
            .fetch_optional(db)
            .await?
        {
            facts.websites.push(FiledWebsite {
                domain: domain.to_string(),
                filing_number: row.try_get("filing_number")?,
                provider: Provider::parse(row.try_get("provider")?).unwrap_or(Provider::Other),
                same_subject: row.try_get::<String, _>("certificate_index")? == cert_index,
            });
        }
        if let Some(row) = sqlx::query(
            "SELECT registrant_index, name_index FROM registry_domains WHERE domain = ?",
        )
        .bind(domain)
        .fetch_optional(db)
        .await?
        {
            facts.registrants.push(KnownRegistrant {
                domain: domain.to_string(),
                certificate_matches: row.try_get::<String, _>("registrant_index")? == cert_index,
                name_matches: row.try_get::<String, _>("name_index")? == name_index,
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
        if let Some(other_submitted) =
            orders::phone_conflicts(db, &cipher.blind_index(mobile), &cert_index, this_order)
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
