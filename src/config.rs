//! One configuration, layered: built-in defaults, then an optional TOML file (`--config`),
//! then environment variables (`BEIAN_*`), then command-line flags. Clap reads the last two
//! (a flag wins over its variable); `Config::layer` puts them over the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::vision::ocr::OcrModels;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Holds beian.db, the blob directory and (by default) the master key file.
    pub data_dir: PathBuf,
    /// PostgreSQL instead of `<data_dir>/beian.db`: `postgres://user:password@host/database`.
    pub database_url: Option<String>,
    /// Master key file; default `<data_dir>/secret.key`, created on first start.
    pub key_file: Option<PathBuf>,
    /// A directory with provinces.toml, naming.toml, reasons.toml and pre_approvals.toml that
    /// replaces the rules built into the binary.
    pub rules_dir: Option<PathBuf>,
    /// Lifetime of a login token.
    pub token_ttl_hours: u32,
    /// Largest JSON body accepted (image uploads have their own limit).
    pub json_body_limit: usize,
    /// Failed logins per username before it is locked for `login_lockout_minutes`.
    pub login_max_failures: u32,
    pub login_lockout_minutes: u32,
    /// tracing filter, e.g. `info` or `beian=debug,tower_http=info`.
    pub log: String,
    /// Base URL the phone reaches the service at (put in the QR code); default
    /// `http://<listen>`.
    pub public_url: Option<String>,
    /// An upload link must be opened within this many minutes.
    pub upload_open_minutes: u32,
    /// An upload session ends after this many minutes without a request from the phone.
    pub upload_idle_minutes: u32,
    /// Background analysis workers (each runs one photo at a time on the blocking pool); 0
    /// makes a process that only takes uploads, for a queue analysed elsewhere.
    pub analysis_workers: usize,
    /// Where blobs live: `s3://bucket/prefix` for an S3-compatible bucket (endpoint, region
    /// and credentials from the `AWS_*` environment variables); unset, `<data dir>/blobs`.
    pub blob_store: Option<String>,
    /// Age after which a blob no row names is a crash's leftover, not an upload in flight in
    /// some process sharing the store, and the sweep removes it.
    pub orphan_blob_minutes: u32,
    /// How long a worker's claim on an analysis job holds without renewal (it renews every
    /// third of it while it works): a killed worker's job is taken by another after this.
    pub analysis_lease_seconds: u32,
    /// Keep the uploaded bytes next to the metadata-free re-encoded copy.
    pub keep_originals: bool,
    /// Uploads being received at once; more answer 503 with Retry-After (each holds its
    /// body, up to the image cap, in memory).
    pub max_concurrent_uploads: usize,
    /// Photos waiting for analysis beyond which uploads answer 503 with Retry-After.
    pub max_analysis_backlog: i64,
    /// Where ONNX Runtime and the model files are kept (fetched there when missing; see
    /// models/models.toml).
    pub models_dir: PathBuf,
    /// The OCR detector and recogniser: `ppocrv6_small` or `ppocrv5_mobile`.
    pub ocr_models: OcrModels,
    /// Intra-op threads of each model session.
    pub inference_threads: usize,
    /// Days a face capture's kept frame and the face templates (live and card portrait)
    /// are kept after the decision; the other frames are never stored. Until the review
    /// console (which will end this at the review's end) this is the only limit.
    pub face_data_days: u32,
    /// Days after which the materials of a rejected order, or of one left with the filer
    /// (draft, collecting, ready) untouched, are deleted.
    pub idle_order_days: u32,
    /// Uploads of one material a reviewer may ask for again, after the first.
    pub max_resubmissions: i64,
    /// Hours the filer has to confirm the SMS verification code.
    pub sms_confirm_hours: u32,
    /// Wrong codes before the code is void.
    pub sms_max_attempts: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            key_file: None,
            rules_dir: None,
            token_ttl_hours: 12,
            json_body_limit: 1024 * 1024,
            login_max_failures: 5,
            login_lockout_minutes: 15,
            log: "info".into(),
            public_url: None,
            upload_open_minutes: 10,
            upload_idle_minutes: 30,
            analysis_workers: 2,
            analysis_lease_seconds: 30,
            blob_store: None,
            orphan_blob_minutes: 60,
            keep_originals: false,
            max_concurrent_uploads: 16,
            max_analysis_backlog: 200,
            models_dir: PathBuf::from("models"),
            ocr_models: OcrModels::Ppocrv6Small,
            inference_threads: 2,
            face_data_days: 30,
            idle_order_days: 90,
            max_resubmissions: 9,
            sms_confirm_hours: 48,
            sms_max_attempts: 5,
        }
    }
}

/// Values given by flag or environment; each one set replaces the file's.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Configuration file (TOML, the keys of Config).
    #[arg(long, env = "BEIAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "BEIAN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory [default: ./data].
    #[arg(long, env = "BEIAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Master key file [default: <data dir>/secret.key].
    #[arg(long, env = "BEIAN_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Rules directory replacing the built-in rules.
    #[arg(long, env = "BEIAN_RULES_DIR")]
    pub rules_dir: Option<PathBuf>,
    /// Log filter [default: info].
    #[arg(long, env = "BEIAN_LOG")]
    pub log: Option<String>,
    /// Base URL phones reach the service at, put in QR codes [default: http://<listen>].
    #[arg(long, env = "BEIAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Database: postgres://user:password@host/database [default: <data dir>/beian.db].
    #[arg(long, env = "BEIAN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Blob store: s3://bucket/prefix [default: <data dir>/blobs].
    #[arg(long, env = "BEIAN_BLOB_STORE")]
    pub blob_store: Option<String>,
    /// ONNX Runtime and model files [default: ./models].
    #[arg(long, env = "BEIAN_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
}

impl Config {
    pub fn layer(overrides: &Overrides) -> anyhow::Result<Config> {
        let mut config = match &overrides.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(v) = overrides.listen {
            config.listen = v;
        }
        if let Some(v) = &overrides.data_dir {
            config.data_dir = v.clone();
        }
        if let Some(v) = &overrides.key_file {
            config.key_file = Some(v.clone());
        }
        if let Some(v) = &overrides.rules_dir {
            config.rules_dir = Some(v.clone());
        }
        if let Some(v) = &overrides.log {
            config.log = v.clone();
        }
        if let Some(v) = &overrides.public_url {
            config.public_url = Some(v.clone());
        }
        if let Some(v) = &overrides.database_url {
            config.database_url = Some(v.clone());
        }
        if let Some(v) = &overrides.blob_store {
            config.blob_store = Some(v.clone());
        }
        if let Some(v) = &overrides.models_dir {
            config.models_dir = v.clone();
        }
        Ok(config)
    }

    fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The base URL for links handed to phones.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_string()
    }

    /// By when a link issued at `now` must be opened.
    pub fn upload_open_deadline(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::minutes(i64::from(self.upload_open_minutes))
    }

    /// When a session last active at `now` ends if the phone stays quiet.
    pub fn upload_idle_deadline(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::minutes(i64::from(self.upload_idle_minutes))
    }

    /// An analysis job's lease (at least 3 s, so the renewal every third of it is a second
    /// or more apart).
    pub fn analysis_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.analysis_lease_seconds.max(3)))
    }

    /// The key file and whether it may be created (only the default one is).
    pub fn key_file(&self) -> (PathBuf, bool) {
        match &self.key_file {
            Some(path) => (path.clone(), false),
            None => (self.data_dir.join("secret.key"), true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beian.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ntoken_ttl_hours = 2\ndata_dir = \"/srv/beian\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            config: Some(file),
            data_dir: Some(PathBuf::from("elsewhere")),
            ..Default::default()
        };
        let c = Config::layer(&overrides).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.token_ttl_hours, 2);
        assert_eq!(c.data_dir, PathBuf::from("elsewhere"));
        assert_eq!(c.json_body_limit, Config::default().json_body_limit);
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beian.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let overrides = Overrides {
            config: Some(file),
            ..Default::default()
        };
        assert!(Config::layer(&overrides).is_err());
    }
}
