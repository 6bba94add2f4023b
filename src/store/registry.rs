//! The operator's registry of existing filings. Certificate numbers and names are kept only
//! as blind indexes (`service::registry` reads the CSV and asks the registry about an order).

use chrono::Utc;

use super::{Db, RepoFuture};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub subjects: u64,
    pub websites: u64,
    pub domains: u64,
}

/// One checked row of the operator's registry, its certificate numbers and names already
/// blind indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryRecord {
    Subject {
        certificate_index: String,
        name_index: String,
        filing_number: String,
        provider: &'static str,
    },
    Website {
        domain: String,
        certificate_index: String,
        filing_number: String,
        provider: &'static str,
    },
    Domain {
        domain: String,
        registrant_index: String,
        name_index: String,
    },
}

/// A filed subject as the registry holds it.
#[derive(Debug, sqlx::FromRow)]
pub struct SubjectRow {
    pub name_index: String,
    pub filing_number: String,
    pub provider: String,
}

/// A filed website as the registry holds it.
#[derive(Debug, sqlx::FromRow)]
pub struct WebsiteRow {
    pub certificate_index: String,
    pub filing_number: String,
    pub provider: String,
}

/// A domain's real-name registrant as the registry holds it.
#[derive(Debug, sqlx::FromRow)]
pub struct RegistrantRow {
    pub registrant_index: String,
    pub name_index: String,
}

/// The operator's registry of existing filings: the repository the order review and the
/// `beian registry load` command hold, one implementation per engine.
pub trait Registry: Send + Sync {
    /// Inserts or replaces every record in one transaction: all or nothing.
    fn load<'a>(&'a self, records: &'a [RegistryRecord]) -> RepoFuture<'a, LoadReport>;
    fn subject<'a>(&'a self, certificate_index: &'a str) -> RepoFuture<'a, Option<SubjectRow>>;
    fn website<'a>(&'a self, domain: &'a str) -> RepoFuture<'a, Option<WebsiteRow>>;
    fn registrant<'a>(&'a self, domain: &'a str) -> RepoFuture<'a, Option<RegistrantRow>>;
}

/// `Registry` in SQL, on either engine.
pub struct SqlRegistry(pub Db);

impl Registry for SqlRegistry {
    fn load<'a>(&'a self, records: &'a [RegistryRecord]) -> RepoFuture<'a, LoadReport> {
        Box::pin(async move {
            let now = Utc::now();
            let mut report = LoadReport::default();
            let mut tx = self.0.begin().await?;
            for record in records {
                match record {
                    RegistryRecord::Subject {
                        certificate_index,
                        name_index,
                        filing_number,
                        provider,
                    } => {
                        sqlx::query("INSERT INTO registry_subjects (certificate_index, name_index, filing_number, provider, loaded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (certificate_index) DO UPDATE SET name_index = excluded.name_index, filing_number = excluded.filing_number, provider = excluded.provider, loaded_at = excluded.loaded_at")
                            .bind(certificate_index)
                            .bind(name_index)
                            .bind(filing_number)
                            .bind(provider)
                            .bind(super::at(now))
                            .execute(&mut *tx)
                            .await?;
                        report.subjects += 1;
                    }
                    RegistryRecord::Website {
                        domain,
                        certificate_index,
                        filing_number,
                        provider,
                    } => {
                        sqlx::query("INSERT INTO registry_websites (domain, certificate_index, filing_number, provider, loaded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain) DO UPDATE SET certificate_index = excluded.certificate_index, filing_number = excluded.filing_number, provider = excluded.provider, loaded_at = excluded.loaded_at")
                            .bind(domain)
                            .bind(certificate_index)
                            .bind(filing_number)
                            .bind(provider)
                            .bind(super::at(now))
                            .execute(&mut *tx)
                            .await?;
                        report.websites += 1;
                    }
                    RegistryRecord::Domain {
                        domain,
                        registrant_index,
                        name_index,
                    } => {
                        sqlx::query("INSERT INTO registry_domains (domain, registrant_index, name_index, loaded_at) VALUES ($1, $2, $3, $4) ON CONFLICT (domain) DO UPDATE SET registrant_index = excluded.registrant_index, name_index = excluded.name_index, loaded_at = excluded.loaded_at")
                            .bind(domain)
                            .bind(registrant_index)
                            .bind(name_index)
                            .bind(super::at(now))
                            .execute(&mut *tx)
                            .await?;
                        report.domains += 1;
                    }
                }
            }
            tx.commit().await?;
            Ok(report)
        })
    }

    fn subject<'a>(&'a self, certificate_index: &'a str) -> RepoFuture<'a, Option<SubjectRow>> {
        Box::pin(async move {
            Ok(sqlx::query_as("SELECT name_index, filing_number, provider FROM registry_subjects WHERE certificate_index = $1")
                .bind(certificate_index)
                .fetch_optional(&self.0)
                .await?)
        })
    }

    fn website<'a>(&'a self, domain: &'a str) -> RepoFuture<'a, Option<WebsiteRow>> {
        Box::pin(async move {
            Ok(sqlx::query_as("SELECT certificate_index, filing_number, provider FROM registry_websites WHERE domain = $1")
                .bind(domain)
                .fetch_optional(&self.0)
                .await?)
        })
    }

    fn registrant<'a>(&'a self, domain: &'a str) -> RepoFuture<'a, Option<RegistrantRow>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT registrant_index, name_index FROM registry_domains WHERE domain = $1",
            )
            .bind(domain)
            .fetch_optional(&self.0)
            .await?)
        })
    }
}
