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
    db::Db,
    demo, generate, graphql,
    http::{HttpOptions, router},
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
            let db = Db::connect(&cli.config.database_url, 1).await?;
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
    let db = Db::connect(&config.database_url, 1).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let result = if path.as_os_str() == "-" {
        import::import(&db, std::io::stdin().lock(), Clock::system().now()).await
    } else {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        import::import(&db, BufReader::new(file), Clock::system().now()).await
    };
    db.close().await;
    let report = result.with_context(|| format!("{}: nothing was imported", path.display()))?;
    eprintln!("imported {report} in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let services = Services::start(config, Clock::system()).await?;
    let mut playground_token = None;
    if args.demo {
        match demo::load_if_empty(&services).await? {
            Some(report) => eprintln!("demo world loaded: {report}"),
            None => eprintln!("the database already has users: the demo world was not loaded again"),
        }
        if let Some(token) = demo::viewer_token(&services).await? {
            println!("Signed in as @{} (password for every demo user: {}).", demo::DEMO_VIEWER, demo::DEMO_PASSWORD);
            println!("Authorization: Bearer {token}");
            playground_token = Some(token);
        }
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    println!("moments serves GraphQL at http://{address}/graphql and the playground at http://{address}/");
    tracing::info!(%address, "listening");
    let app = router(services.clone(), HttpOptions { cors_origins: args.cors_origins, playground_token });
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped serving; closing the database");
    services.db.close().await;
    Ok(())
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
