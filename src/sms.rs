//! Sending text messages: the `SmsGateway` trait, and the default gateway that writes each
//! message to the `sms_outbox` table and the log (the recipient encrypted there and masked in
//! the log). A carrier's gateway plugs in behind the same trait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::filing::mobile::MobileNumber;
use crate::store::crypto::FieldCipher;
use crate::store::verification::Outbox;

pub type Sending<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

pub trait SmsGateway: Send + Sync {
    fn send<'a>(&'a self, to: &'a MobileNumber, body: &'a str) -> Sending<'a>;
}

/// The default gateway: the outbox table stands in for the carrier.
pub struct OutboxGateway {
    pub outbox: Arc<dyn Outbox>,
    pub cipher: Arc<FieldCipher>,
}

impl SmsGateway for OutboxGateway {
    fn send<'a>(&'a self, to: &'a MobileNumber, body: &'a str) -> Sending<'a> {
        Box::pin(async move {
            let sealed = self
                .cipher
                .encrypt(to.as_str().as_bytes(), "sms_outbox.recipient");
            self.outbox.queue(&sealed, &to.masked(), body).await?;
            tracing::info!(to = %to.masked(), "text message queued in the outbox");
            Ok(())
        })
    }
}
