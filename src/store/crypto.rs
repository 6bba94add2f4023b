//! Field encryption (AES-256-GCM) and keyed blind indexes (HMAC-SHA256) for personal data.
//!
//! The master key lives outside the database: in a key file (default `<data dir>/secret.key`,
//! created with mode 0600 on first start) or in `BEIAN_MASTER_KEY`. Two subkeys are derived
//! from it, so the index can never decrypt and the cipher key never appears in an index.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "v1:";

pub struct FieldCipher {
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl FieldCipher {
    pub fn new(master: &[u8; 32]) -> Self {
        let enc = derive(master, "beian field encryption v1");
        FieldCipher {
            aead: Aes256Gcm::new(&enc.into()),
            index_key: derive(master, "beian blind index v1"),
        }
    }

    /// The master key from `BEIAN_MASTER_KEY` (64 hex digits or base64) when given, else
    /// from `key_file`; a missing key file is created only when `create` is true.
    pub fn load(env_key: Option<&str>, key_file: &Path, create: bool) -> anyhow::Result<Self> {
        if let Some(text) = env_key {
            return Ok(Self::new(&decode_key(text).context("BEIAN_MASTER_KEY")?));
        }
        if !key_file.exists() {
            if !create {
                bail!("key file {} does not exist", key_file.display());
            }
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            write_private(key_file, hex::encode(key).as_bytes())?;
            tracing::info!(path = %key_file.display(), "created a new master key file");
        }
        let text = std::fs::read_to_string(key_file)
            .with_context(|| format!("reading {}", key_file.display()))?;
        Ok(Self::new(
            &decode_key(&text).with_context(|| key_file.display().to_string())?,
        ))
    }

    /// `v1:` + base64(nonce || ciphertext). `context` (the row's id) is authenticated, so a
    /// ciphertext moved to another row does not decrypt.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let raw = stored
            .strip_prefix(PREFIX)
            .ok_or_else(|| anyhow!("unknown ciphertext version"))?;
        let raw = B64.decode(raw)?;
        if raw.len() < 12 + 16 {
            bail!("ciphertext too short");
        }
        let (nonce, sealed) = raw.split_at(12);
        self.aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("ciphertext does not decrypt with this key and context"))
    }

    /// A keyed hash for equality search; the same value always gives the same index.
    pub fn blind_index(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 {
        hex::decode(text)?
    } else {
        B64.decode(text)?
    };
    bytes
        .try_into()
        .map_err(|_| anyhow!("a master key has 32 bytes"))
}

fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_the_context() {
        let c = FieldCipher::new(&[7; 32]);
        let sealed = c.encrypt(b"11010119900307803X", "order-1");
        assert!(!sealed.contains("1101"));
        assert_eq!(
            c.decrypt(&sealed, "order-1").unwrap(),
            b"11010119900307803X"
        );
        assert!(c.decrypt(&sealed, "order-2").is_err());
        assert!(FieldCipher::new(&[8; 32])
            .decrypt(&sealed, "order-1")
            .is_err());
        assert_ne!(
            sealed,
            c.encrypt(b"11010119900307803X", "order-1"),
            "nonces differ"
        );
    }

    #[test]
    fn blind_indexes_are_stable_and_keyed() {
        let a = FieldCipher::new(&[1; 32]);
        assert_eq!(a.blind_index("x"), a.blind_index("x"));
        assert_ne!(a.blind_index("x"), a.blind_index("y"));
        assert_ne!(
            a.blind_index("x"),
            FieldCipher::new(&[2; 32]).blind_index("x")
        );
    }

    #[test]
    fn creates_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        assert!(FieldCipher::load(None, &path, false).is_err());
        let first = FieldCipher::load(None, &path, true)
            .unwrap()
            .blind_index("x");
        let second = FieldCipher::load(None, &path, true)
            .unwrap()
            .blind_index("x");
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let env = FieldCipher::load(Some(&"ab".repeat(32)), &path, false).unwrap();
        assert_ne!(env.blind_index("x"), first);
    }
}
