//! The `beian` command: serve the API, apply migrations, load the filing registry.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use beian::app::{self, Application};
use beian::config::{Config, Overrides};
use beian::store::{self, crypto::FieldCipher, registry};

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
    /// Run the HTTP service.
    Serve,
    /// Create the database if needed and apply migrations, then exit.
    Migrate,
    /// The registry of existing filings that decides filing types.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Load (insert or replace) records from a CSV file; see store/registry.rs for columns.
    Load { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::layer(&cli.overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("beian: {e:#}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("beian: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beian: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            tracing::info!(addr = %app.local_addr(), "beian listening");
            app.run_until(app::shutdown_signal()).await
        }
        Command::Migrate => {
            store::open(&config.data_dir).await?;
            println!("database in {} is up to date", config.data_dir.display());
            Ok(())
        }
        Command::Registry {
            command: RegistryCommand::Load { file },
        } => {
            let db = store::open(&config.data_dir).await?;
            let (key_file, create) = config.key_file();
            let env_key = std::env::var("BEIAN_MASTER_KEY").ok();
            let cipher = FieldCipher::load(env_key.as_deref(), &key_file, create)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let report = registry::load_csv(&db, &cipher, &text).await?;
            println!(
                "loaded {} subjects, {} websites, {} domain registrants",
                report.subjects, report.websites, report.domains
            );
            Ok(())
        }
    }
}
