//! The commands of `moments` (docs/rules.md §5). `main` parses the command line and calls [`run`].

use std::{
    fs::File,
    io::{BufReader, Write as _},
};

use anyhow::Context as _;
use tokio::net::TcpListener;

use store::db::{Db, PoolSettings};

use crate::{
    clock::Clock,
    config::{Cli, Command, Config, ServeArgs},
    demo, generate, graphql,
    http::{HttpOptions, client_address::TrustedProxies, router},
    import,
    services::Services,
};

/// Runs the command the command line names.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(c) => c,
        None => Command::Serve(ServeArgs::from_env()?),
    };
    match command {
        Command::Serve(args) => serve(&cli.config, args).await,
        Command::Migrate => {
            let db = Db::connect(&cli.config.database_url, PoolSettings::of_size(1)).await?;
            db.migrate().await?;
            db.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Import { file } => run_import(&cli.config, &file).await,
        Command::Token { handle } => {
            let services = Services::start(&cli.config, Clock::system()).await?;
            let user = store::users::by_handle(&services.db.read, &handle)
                .await?
                .with_context(|| format!("no user with handle {handle:?}"))?;
            println!("{}", services.keys.issue_now(user.id)?);
            services.db.close().await;
            Ok(())
        }
        Command::Generate { shape, output } => {
            // Checked before the output file is made.
            shape.check().map_err(anyhow::Error::msg)?;
            let now = Clock::system().now();
            let started = std::time::Instant::now();
            let lines = if output.as_os_str() == "-" {
                generate::write_world(&shape, now, &mut std::io::BufWriter::new(std::io::stdout().lock()))?
            } else {
                let file = File::create(&output).with_context(|| format!("creating {}", output.display()))?;
                generate::write_world(&shape, now, &mut std::io::BufWriter::new(file))?
            };
            eprintln!("wrote {lines} lines in {:.1}s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            std::io::stdout().flush()?;
            Ok(())
        }
        Command::Limits(args) => {
            print!("{}", args.limits().table());
            std::io::stdout().flush()?;
            Ok(())
        }
    }
}

async fn run_import(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let Some(target) = sqlite_file(&config.database_url).filter(|file| !file.exists()) else {
        return import_into(&config.database_url, config, path).await;
    };
    // Into a SQLite file that does not exist yet, the import writes a new file beside it and puts
    // it in place only once it succeeded, and only if no one made that file meanwhile (a server
    // started on it, say): a failed import leaves nothing behind, and never removes a file it did
    // not make.
    let mut staging = target.clone().into_os_string();
    staging.push(format!(".importing-{}", std::process::id()));
    let staging = std::path::PathBuf::from(staging);
    let staging_url = with_sqlite_file(&config.database_url, &staging);
    remove_sqlite_files(&staging);
    let result = import_into(&staging_url, config, path).await.and_then(|()| {
        // A hard link is made only where no file is: whatever appeared at the target is left as it is.
        std::fs::hard_link(&staging, &target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "{}: nothing was imported: the file was created by another process while importing",
                    target.display()
                )
            } else {
                anyhow::anyhow!("putting the imported database in place at {}: {e}", target.display())
            }
        })
    });
    remove_sqlite_files(&staging);
    result
}

/// Removes a SQLite database file and the files SQLite keeps beside it.
fn remove_sqlite_files(file: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

/// `url` with its SQLite file replaced by `file` (its settings kept).
fn with_sqlite_file(url: &str, file: &std::path::Path) -> String {
    let query = url.split_once('?').map(|(_, query)| format!("?{query}")).unwrap_or_default();
    format!("sqlite://{}{query}", file.display())
}

async fn import_into(database_url: &str, config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let input: Box<dyn std::io::BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Box::new(BufReader::new(file))
    };
    let db = Db::connect(database_url, PoolSettings { size: 1, ..config.pool() }).await?;
    let migrated = db.migrate().await;
    let started = std::time::Instant::now();
    let result = match migrated {
        Ok(()) => import::import(&db, input, Clock::system().now()).await.map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    db.close().await;
    let report = result.with_context(|| format!("{}: nothing was imported", path.display()))?;
    eprintln!("imported {report} in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The file of a SQLite database URL (`sqlite://moments.db?mode=rwc`, `sqlite:data/x.db`); `None`
/// for other databases and in-memory ones.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory")).then(|| path.into())
}

async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    // Settings that cannot work are refused before anything starts.
    crate::http::cors::layer(&args.cors_origins).map_err(anyhow::Error::msg)?;
    let services = Services::start(config, Clock::system()).await?;
    tokio::spawn(purge_removals(services.clone()));
    let mut demo_token = None;
    if args.demo {
        let sign_in = match demo::load_if_empty(&services).await? {
            demo::DemoStart::Loaded(report) => {
                eprintln!("demo world loaded: {report}");
                true
            }
            demo::DemoStart::Again { loaded_at } => {
                eprintln!("this database holds the demo world loaded at {loaded_at}: serving it as it is now");
                true
            }
            demo::DemoStart::NotDemo => {
                eprintln!(
                    "the database already has users of its own, so the demo world was not loaded and no one is \
                     signed in; for the demo, start with a new database: DATABASE_URL='sqlite://demo.db?mode=rwc' \
                     moments serve --demo"
                );
                false
            }
        };
        // A token only for the demo's own database: never for users that were there before it.
        if sign_in && let Some(token) = demo::viewer_token(&services).await? {
            println!("Signed in as @{} (password for every demo user: {}).", demo::DEMO_VIEWER, demo::DEMO_PASSWORD);
            println!("Authorization: Bearer {token}");
            demo_token = Some(token);
        }
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    // Cancelled on SIGTERM or Ctrl-C: the server stops accepting, and open WebSockets close.
    let closing = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let closing = closing.clone();
        async move {
            shutdown_signal().await;
            closing.cancel();
        }
    });
    let address = listener.local_addr()?;
    let options = HttpOptions {
        cors_origins: args.cors_origins.clone(),
        playground: args.playground,
        demo_token,
        trusted_proxies: TrustedProxies(args.trusted_proxies.clone()),
        limits: args.limits(),
        closing: closing.clone(),
    };
    let app = router(services.clone(), options).map_err(anyhow::Error::msg)?;
    if args.playground {
        println!("moments serves GraphQL at http://{address}/graphql and the playground at http://{address}/");
    } else {
        println!("moments serves GraphQL at http://{address}/graphql");
    }
    tracing::info!(%address, "listening");
    let proxies = TrustedProxies(args.trusted_proxies.clone());
    crate::http::serve(listener, app, args.limits(), proxies, closing.cancelled_owned()).await?;
    tracing::info!("stopped serving; closing the database");
    services.db.close().await;
    Ok(())
}

/// Deletes, every minute, the facts kept of deleted moments once no live event can need them.
async fn purge_removals(services: Services) {
    // Not at once: replicas starting together on one database are busy enough.
    let minute = std::time::Duration::from_secs(60);
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + minute, minute);
    loop {
        every.tick().await;
        if let Err(e) = store::removals::purge(&services.db.write, services.clock.now()).await {
            crate::error::log_internal(&e);
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before the server stops.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
