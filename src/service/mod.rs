//! Business processes that HTTP handlers and background workers both call. They take the
//! store and the ports they need, never the HTTP state.

pub mod accounts;
pub mod decisions;
pub mod face_match;
pub mod readiness;
pub mod registry;
pub mod sms_codes;
pub mod verification;
