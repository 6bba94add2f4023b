//! beian: the identity-verification core of ICP filing. See README.md and DESIGN.md.

pub mod filing;
