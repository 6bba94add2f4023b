//! ONNX Runtime: loading the library once per process and running models.
//!
//! A `Model` owns one session behind a mutex (ort's `run` takes `&mut self`); callers are the
//! analysis workers and the `check` command, all on blocking threads, never on the async
//! runtime. Each session's intra-op thread count is configured, not left to the default (which
//! is one thread per core for every session, and oversubscribes a small machine).

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use anyhow::{anyhow, Context};
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use crate::vendor::FETCH_COMMAND;

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();

/// Loads ONNX Runtime from `library` (or `ORT_DYLIB_PATH` when set) and creates the one
/// environment of the process. Later calls return the first environment.
pub fn init(library: &Path) -> anyhow::Result<&'static Environment> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let library = match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => library.to_path_buf(),
    };
    let builder = ort::init_from(&library).map_err(|e| {
        anyhow!(
            "cannot load ONNX Runtime from {}: {e}\nrun `{FETCH_COMMAND}` to fetch it, or set ORT_DYLIB_PATH to a libonnxruntime 1.31",
            library.display()
        )
    })?;
    let env = builder
        .with_name("beian")
        .build()
        .map_err(|e| anyhow!("creating the ONNX Runtime environment: {e}"))?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}

/// One loaded model.
pub struct Model {
    name: String,
    session: Mutex<Session>,
}

/// Kept in a function returning `ort::Result`: the builder's error type is not `Send`, so it
/// must not cross an `.await` or an `anyhow` conversion mid-chain.
fn build_session(env: &Environment, path: &Path, threads: usize) -> ort::Result<Session> {
    Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::All)?
        .with_intra_threads(threads)?
        .with_inter_threads(1)?
        .commit_from_file(path)
}

impl Model {
    pub fn load(
        env: &Environment,
        name: &str,
        path: &Path,
        threads: usize,
    ) -> anyhow::Result<Model> {
        let session = build_session(env, path, threads.max(1))
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("loading model {name} from {}", path.display()))?;
        Ok(Model {
            name: name.to_string(),
            session: Mutex::new(session),
        })
    }

    /// A value from the model's custom metadata (PP-OCR recognisers carry their dictionary).
    pub fn metadata(&self, key: &str) -> Option<String> {
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let value = session.metadata().ok()?.custom(key);
        value
    }

    /// Runs the model on one f32 tensor and returns the first output's shape and values.
    pub fn run(&self, shape: [usize; 4], input: &[f32]) -> anyhow::Result<(Vec<usize>, Vec<f32>)> {
        let mut outputs = self.run_outputs(shape, input, 1)?;
        Ok(outputs.swap_remove(0))
    }

    /// Runs the model and returns the first `count` outputs, in the model's order.
    pub fn run_outputs(
        &self,
        shape: [usize; 4],
        input: &[f32],
        count: usize,
    ) -> anyhow::Result<Vec<(Vec<usize>, Vec<f32>)>> {
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let result: ort::Result<Vec<(Vec<usize>, Vec<f32>)>> = (|| {
            let outputs = session.run(ort::inputs![TensorRef::from_array_view((shape, input))?])?;
            let mut out = Vec::with_capacity(count);
            for i in 0..count.min(outputs.len()) {
                let (shape, data) = outputs[i].try_extract_tensor::<f32>()?;
                let dims = shape.iter().map(|&d| d.max(0) as usize).collect();
                out.push((dims, data.to_vec()));
            }
            Ok(out)
        })();
        let out = result.map_err(|e| anyhow!("running {}: {e}", self.name))?;
        anyhow::ensure!(
            out.len() == count,
            "{} has fewer than {count} outputs",
            self.name
        );
        Ok(out)
    }
}
