//! The filing domain: orders and their parts as types that cannot hold invalid data, the
//! order's state machine, the filing type, and the rule-based pre-review. No I/O here.

pub mod contact;
pub mod credit_code;
pub mod crosscheck;
pub mod division;
pub mod domain_name;
pub mod fields;
pub mod filing_type;
pub mod id_number;
pub mod materials;
pub mod mobile;
pub mod order;
pub mod reading;
pub mod reason;
pub mod rules;
pub mod state;
pub mod text;
pub mod upload_session;
pub mod verdict;

use chrono::{FixedOffset, NaiveDate, Utc};

/// Today in China (UTC+8): birth dates, ages and expiry dates are Beijing-time dates.
pub fn today_in_china() -> NaiveDate {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    Utc::now().with_timezone(&offset).date_naive()
}
