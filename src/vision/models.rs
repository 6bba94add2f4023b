//! Every model the service runs, loaded once per process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;

use super::face::FaceEngine;
use super::ocr::{OcrEngine, OcrModels};
use super::runtime;
use crate::vendor;

pub struct Models {
    pub ocr: OcrEngine,
    pub face: FaceEngine,
}

type Key = (PathBuf, OcrModels, usize);

/// Loaded sets by their configuration: a second service in the same process (the tests start
/// many) shares the sessions instead of loading ~50 MB of models again.
static LOADED: Mutex<Option<HashMap<Key, Arc<Models>>>> = Mutex::new(None);

impl Models {
    /// Fetches what is missing from `dir`, loads ONNX Runtime and the models. Slow (about a
    /// second, more on a first fetch): call it on a blocking thread.
    pub fn shared(dir: &Path, ocr: OcrModels, threads: usize) -> anyhow::Result<Arc<Models>> {
        let key = (dir.to_path_buf(), ocr, threads);
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = loaded.as_ref().and_then(|l| l.get(&key)) {
            return Ok(m.clone());
        }
        let files = vendor::ensure(dir).with_context(|| {
            format!(
                "fetching ONNX Runtime and the models into {} (by hand: `{}`)",
                dir.display(),
                vendor::FETCH_COMMAND
            )
        })?;
        let library = files
            .get("onnxruntime")
            .context("models.toml names no onnxruntime")?;
        let env = runtime::init(library)?;
        let models = Arc::new(Models {
            ocr: OcrEngine::load(env, &files, ocr, threads)?,
            face: FaceEngine::load(env, &files, threads)?,
        });
        loaded
            .get_or_insert_with(HashMap::new)
            .insert(key, models.clone());
        Ok(models)
    }
}
