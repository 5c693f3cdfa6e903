//! The commands of `moments` (SPEC §6). `main` parses the command line and calls [`run`].

use std::{
    fs::File,
    io::{BufReader, Write as _},
};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::{
    app::Services,
    clock::Clock,
    config::{Cli, Command, Config, ServeArgs},
    db::{Db, PoolSettings},
    demo, generate, graphql,
    http::{HttpOptions, client::TrustedProxies, router},
    import, store,
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
    }
}

async fn run_import(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    // A failed import into a SQLite file this command created leaves no file behind.
    let new_file = sqlite_file(&config.database_url).filter(|file| !file.exists());
    let result = import_into(config, path).await;
    if result.is_err()
        && let Some(file) = new_file
    {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
    result
}

async fn import_into(config: &Config, path: &std::path::Path) -> anyhow::Result<()> {
    let input: Box<dyn std::io::BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Box::new(BufReader::new(file))
    };
    let db = Db::connect(&config.database_url, PoolSettings { size: 1, ..config.pool() }).await?;
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
        match demo::load_if_empty(&services).await? {
            Some(report) => {
                eprintln!("demo world loaded: {report}");
                // A token only for the world this start made: never for users that were already there.
                if let Some(token) = demo::viewer_token(&services).await? {
                    println!(
                        "Signed in as @{} (password for every demo user: {}).",
                        demo::DEMO_VIEWER,
                        demo::DEMO_PASSWORD
                    );
                    println!("Authorization: Bearer {token}");
                    demo_token = Some(token);
                }
            }
            None => eprintln!(
                "the database already has users, so the demo world was not loaded and no demo token is given; \
                 use an empty database for the demo"
            ),
        }
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let options = HttpOptions {
        cors_origins: args.cors_origins.clone(),
        playground: args.playground,
        demo_token,
        trusted_proxies: TrustedProxies(args.trusted_proxies.clone()),
        body_timeout: args.connection_limits().client_timeout,
        max_concurrent_requests: usize::from(args.max_concurrent_requests),
    };
    let app = router(services.clone(), options).map_err(anyhow::Error::msg)?;
    if args.playground {
        println!("moments serves GraphQL at http://{address}/graphql and the playground at http://{address}/");
    } else {
        println!("moments serves GraphQL at http://{address}/graphql");
    }
    tracing::info!(%address, "listening");
    let proxies = TrustedProxies(args.trusted_proxies.clone());
    crate::http::serve(listener, app, args.connection_limits(), proxies, shutdown_signal()).await?;
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
