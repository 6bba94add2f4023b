use std::path::Path;

use beian::app::Application;
use beian::config::Config;
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    /// Kept so the directory lives as long as the app that uses it.
    _dir: Option<TempDir>,
}

pub fn config_for(data_dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        database_url: database_url_for(data_dir),
        blob_store: blob_store_for(data_dir),
        // One models directory for every test (fetched once, on the first start).
        models_dir: models_dir(),
        ..Config::default()
    }
}

/// The blob store of the service on `data_dir`: with `BEIAN_TEST_BLOB_STORE` (`s3://bucket`,
/// set by scripts/test's second pass with the `AWS_*` variables of the S3 server it started)
/// a prefix of its own in that bucket, so the whole suite runs on S3 as it does on the local
/// directory; unset, the directory's `blobs/`.
pub fn blob_store_for(data_dir: &Path) -> Option<String> {
    let bucket = std::env::var("BEIAN_TEST_BLOB_STORE").ok()?;
    let prefix = data_dir.file_name()?.to_string_lossy().into_owned();
    Some(format!("{}/{prefix}", bucket.trim_end_matches('/')))
}

/// The database of the service on `data_dir`: with `BEIAN_TEST_DATABASE` (the URL of a
/// PostgreSQL server, set by scripts/test's second pass with the server it started) a database
/// of its own on that server, created on first use, so the whole suite runs on PostgreSQL as it
/// does on SQLite; unset, the directory's `beian.db`.
pub fn database_url_for(data_dir: &Path) -> Option<String> {
    let server = std::env::var("BEIAN_TEST_DATABASE").ok()?;
    let name: String = format!("beian{}", data_dir.file_name()?.to_string_lossy())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    create_database(&server, &name);
    let mut url = url::Url::parse(&server).expect("BEIAN_TEST_DATABASE is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// `CREATE DATABASE` on the server, unless it exists (a restart on the same directory). Runs
/// on a thread of its own, so that a synchronous caller inside a test's runtime can wait.
fn create_database(server: &str, name: &str) {
    use sqlx::{Connection, Executor};
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(server)
                    .await
                    .expect("the test PostgreSQL server answers");
                match conn.execute(&*format!("CREATE DATABASE \"{name}\"")).await {
                    Ok(_) => {}
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                    Err(e) => panic!("creating the test database {name}: {e}"),
                }
            })
        })
        .join()
        .unwrap()
    });
}

/// The service's database on `data_dir`, opened as the service opens it.
pub async fn database(data_dir: &Path) -> beian::store::Db {
    beian::store::connect(database_url_for(data_dir).as_deref(), data_dir)
        .await
        .unwrap()
}

/// A real fault in the real engine: every update of `column` in `table` whose new row meets
/// `condition` (SQL both engines read, e.g. `NEW.state = 'completed'`) fails, until
/// `remove_fault` drops the trigger `name`.
pub async fn inject_fault(
    db: &beian::store::Db,
    name: &str,
    table: &str,
    column: &str,
    condition: &str,
) {
    use beian::store::Engine;
    let statements = match Engine::of(db) {
        Engine::Sqlite => vec![format!(
            "CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {table} WHEN {condition}
             BEGIN SELECT RAISE(ABORT, 'fault injected'); END"
        )],
        // PostgreSQL's WHEN takes no subquery: the condition is tested in the function.
        Engine::Postgres => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                     IF {condition} THEN RAISE EXCEPTION 'fault injected'; END IF;
                     RETURN NEW;
                 END $$"
            ),
            format!(
                "CREATE TRIGGER {name} BEFORE UPDATE OF {column} ON {table}
                 FOR EACH ROW EXECUTE FUNCTION {name}()"
            ),
        ],
    };
    for statement in statements {
        sqlx::query(&statement).execute(db).await.unwrap();
    }
}

/// Drops the fault `inject_fault` put on `table`.
pub async fn remove_fault(db: &beian::store::Db, name: &str, table: &str) {
    use beian::store::Engine;
    let drop = match Engine::of(db) {
        Engine::Sqlite => format!("DROP TRIGGER {name}"),
        Engine::Postgres => format!("DROP TRIGGER {name} ON {table}"),
    };
    sqlx::query(&drop).execute(db).await.unwrap();
}

/// `--database-url` and `--blob-store` for a `beian` process on `data_dir`, as `config_for`
/// chooses them.
pub fn store_args(data_dir: &Path) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(url) = database_url_for(data_dir) {
        args.extend(["--database-url".to_string(), url]);
    }
    if let Some(blobs) = blob_store_for(data_dir) {
        args.extend(["--blob-store".to_string(), blobs]);
    }
    args
}

/// `beian` with `args` (global flags, then a command) on `data_dir` and its stores: what
/// it printed, once it succeeded.
pub fn beian_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_beian"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(store_args(data_dir))
        .args(["--models-dir", "models"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `beian purge` on `data_dir` with the configuration `config` (TOML): its report.
pub fn purge(data_dir: &Path, config: &str) -> String {
    let file = data_dir.join("purge.toml");
    std::fs::write(&file, config).unwrap();
    beian_ok(data_dir, &["--config", &file.to_string_lossy(), "purge"])
}

/// The names of the blobs the service on `data_dir` holds, wherever they are stored.
pub async fn stored_blobs(data_dir: &Path) -> Vec<String> {
    let blobs = beian::store::blobs::open(&config_for(data_dir))
        .await
        .expect("the blob store opens");
    blobs
        .stored_before(std::time::Duration::ZERO)
        .await
        .expect("the blob store lists")
}

pub fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A service on its own port with its own temporary data directory.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_in(dir.path()).await;
    app._dir = Some(dir);
    app
}

/// A service on a data directory the caller keeps (for restarts).
pub async fn spawn_app_in(data_dir: &Path) -> TestApp {
    spawn_with(config_for(data_dir)).await
}

pub async fn spawn_with(config: Config) -> TestApp {
    spawn_with_dir(config, None).await
}

/// A service with a changed configuration on its own temporary data directory.
pub async fn spawn_configured(f: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = config_for(dir.path());
    f(&mut config);
    spawn_with_dir(config, Some(dir)).await
}

async fn spawn_with_dir(config: Config, dir: Option<TempDir>) -> TestApp {
    let app = Application::build(config)
        .await
        .expect("the service builds");
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("the service runs");
    });
    TestApp {
        base,
        client: Client::new(),
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    /// Graceful shutdown: in-flight requests finish, the database closes.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task ends cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request sent")
    }

    /// Status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let res = self.request(method, path, token, body).await;
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let json =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, json)
    }

    /// Registers a filer and returns their token.
    pub async fn filer(&self, username: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(&json!({"username": username, "password": "correct horse battery"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("a token").to_string()
    }

    pub async fn create_order(&self, token: &str, body: &Value) -> (u16, Value) {
        self.call(Method::POST, "/api/v1/orders", Some(token), Some(body))
            .await
    }

    /// A new order of `filer` from `body` with an upload session for the principal's
    /// `materials`: (link token, session id, order id).
    pub async fn principal_session(
        &self,
        filer: &str,
        body: &Value,
        materials: &[&str],
    ) -> (String, String, String) {
        let (_, order) = self.create_order(filer, body).await;
        let order_id = order["id"].as_str().unwrap().to_string();
        let (status, s) = self
            .call(
                Method::POST,
                &format!("/api/v1/orders/{order_id}/upload-sessions"),
                Some(filer),
                Some(&json!({"person": "principal", "materials": materials})),
            )
            .await;
        assert_eq!(status, 201, "{s}");
        (
            link_token(&s),
            s["id"].as_str().unwrap().to_string(),
            order_id,
        )
    }
}

pub fn minimal_order() -> Value {
    serde_json::from_str(include_str!("../../fixtures/orders/minimal.json")).unwrap()
}

pub fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A synthetic phone photo of an ID card front with the given degradation, as a JPEG.
pub fn photo(label: beian::synth::scene::Label, seed: u64) -> Vec<u8> {
    card_photo(&zhang_san(), true, label, seed)
}

/// The back of 张三's card (valid until 2035).
pub fn back_photo(label: beian::synth::scene::Label, seed: u64) -> Vec<u8> {
    card_photo(&zhang_san(), false, label, seed)
}

/// The person of `minimal_order()`, as their ID card prints them.
pub fn zhang_san() -> beian::synth::identity::Identity {
    use chrono::NaiveDate;
    beian::synth::identity::Identity {
        name: "张三".into(),
        male: true,
        ethnicity: "汉".into(),
        birth: NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(),
        address: "北京市东城区东华门街道1号".into(),
        id_number: "11010119900307803X".into(),
        authority: "北京市公安局东城分局".into(),
        valid_from: NaiveDate::from_ymd_opt(2015, 5, 1).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2035, 5, 1),
    }
}

/// A phone photo (1600×1200 JPEG) of one side of `id`'s card.
pub fn card_photo(
    id: &beian::synth::identity::Identity,
    front: bool,
    label: beian::synth::scene::Label,
    seed: u64,
) -> Vec<u8> {
    use beian::synth::{card, font, scene};
    use rand::SeedableRng;
    let font = font::load_cjk_font().expect("a CJK font is installed (scripts/setup)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let rendered = if front {
        card::front(id, &font, &mut rng)
    } else {
        card::back(id, &font, &mut rng)
    };
    beian::vision::decode::reencode_jpeg(
        &scene::photo(&rendered, label, 1600, 1200, &mut rng).image,
        90,
    )
}

/// Uploads one photo through a phone's link: status and JSON body.
pub async fn upload_raw(
    app: &TestApp,
    phone: &Client,
    token: &str,
    kind: &str,
    bytes: Vec<u8>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = phone
        .post(app.url(&format!("/api/v1/m/{token}/materials/{kind}")))
        .header("content-type", "image/jpeg")
        .body(bytes);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Uploads one photo through a phone's link and expects it taken (202).
pub async fn upload(app: &TestApp, phone: &Client, token: &str, kind: &str, jpeg: Vec<u8>) {
    let (status, body) = upload_raw(app, phone, token, kind, jpeg, None).await;
    assert_eq!(status, 202, "{kind}: {body}");
}

/// The order's entry for a required material of `kind`, as the PC sees it.
pub async fn order_material(app: &TestApp, filer: &str, order_id: &str, kind: &str) -> Value {
    let (_, order) = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{order_id}"),
            Some(filer),
            None,
        )
        .await;
    material(&order, kind).clone()
}

/// A material's entry (by kind) in an order or session view.
pub fn material<'a>(s: &'a Value, kind: &str) -> &'a Value {
    s["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == kind)
        .unwrap()
}

/// The token in an upload session's phone link (`…/m/{token}`).
pub fn link_token(session: &Value) -> String {
    let url = session["url"]
        .as_str()
        .expect("the session carries its link");
    url.rsplit("/m/").next().unwrap().to_string()
}
