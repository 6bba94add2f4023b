//! beian: the identity-verification core of ICP filing. See README.md and DESIGN.md.

pub mod analysis;
pub mod app;
pub mod config;
pub mod filing;
pub mod http;
pub mod inspect;
pub mod memory;
pub mod service;
pub mod sms;
pub mod store;
#[cfg(feature = "synth")]
pub mod synth;
pub mod vendor;
pub mod vision;
