//! The command line and configuration: one typed struct, read once at start. Every flag can also be
//! given as an environment variable (docs/rules.md §5).

use std::{collections::HashSet, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;

use rules::pinning::PinPolicy;

use store::db::{DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_SQLITE_MAP_MIB, PoolSettings};

use crate::{http::cors::CorsOrigin, limits::Limits, rate_limit::RateLimits};

/// moments: a GraphQL server for a social profile with pinned posts.
#[derive(Debug, Parser)]
#[command(name = "moments", version, about, long_about = None)]
pub struct Cli {
    /// Settings every command shares.
    #[command(flatten)]
    pub config: Config,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands of docs/rules.md §5.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve GraphQL (the default command).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Load a JSON Lines file in one transaction: a bad line keeps nothing of the file.
    Import {
        /// The file to load (`-` for standard input).
        file: PathBuf,
    },
    /// Print a token for a user, valid for a server with the same configuration.
    Token {
        /// The user's handle.
        handle: String,
    },
    /// Print the GraphQL schema (what `schema.graphql` holds).
    Schema,
    /// Print the server's bounds, with the serve settings given (flags or environment), as the
    /// Markdown table docs/security.md holds.
    Limits(ServeArgs),
    /// Write a generated world of the benchmark's shape as JSON Lines (for `import`).
    Generate {
        /// The shape of the world.
        #[command(flatten)]
        shape: crate::generate::WorldShape,
        /// Where to write it (`-` for standard output).
        #[arg(long, short, default_value = "-")]
        output: PathBuf,
    },
}

/// Settings shared by every command.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Database to use: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST/DB`. Prefer the
    /// environment variable when the URL holds a password: flags show in the process list.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://moments.db?mode=rwc",
        hide_env_values = true,
        global = true
    )]
    pub database_url: String,

    /// Secret for signing tokens (at least 32 characters). Unset: a random one kept in the database.
    #[arg(long, env = "MOMENTS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Share of users (by a stable bucket of their id) who may pin, 0–100.
    #[arg(long, env = "MOMENTS_PIN_ROLLOUT_PERCENT", default_value_t = PinPolicy::default().rollout_percent,
          value_parser = clap::value_parser!(u8).range(0..=100), global = true)]
    pub pin_rollout_percent: u8,

    /// Handles that may pin whatever the rollout percentage (comma-separated).
    #[arg(long, env = "MOMENTS_PIN_ALLOWLIST", value_delimiter = ',', global = true)]
    pub pin_allowlist: Vec<String>,

    /// The most moments one user may have pinned; unset means no limit.
    #[arg(long, env = "MOMENTS_PIN_LIMIT", global = true)]
    pub pin_limit: Option<u32>,

    /// Database connections in the pool (for SQLite: the readers; there is always one writer).
    #[arg(long, env = "MOMENTS_DB_POOL_SIZE", default_value_t = PoolSettings::default().size, global = true)]
    pub db_pool_size: u32,

    /// How much of a SQLite database file the readers map into memory, in MiB (0: none; at most
    /// 2048, SQLite's ceiling).
    #[arg(long, env = "MOMENTS_SQLITE_MAP_MIB", default_value_t = DEFAULT_SQLITE_MAP_MIB,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(DEFAULT_SQLITE_MAP_MIB)), global = true)]
    pub sqlite_map_mib: u32,

    /// How long a request waits for a database connection before it fails, in milliseconds.
    #[arg(long, env = "MOMENTS_DB_ACQUIRE_TIMEOUT_MS", default_value_t = DEFAULT_ACQUIRE_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(50..=60_000), global = true)]
    pub db_acquire_timeout_ms: u64,

    /// Sign-in attempts one client address may make per minute (0: no limit).
    #[arg(long, env = "MOMENTS_SIGN_IN_RATE", default_value_t = RateLimits::default().sign_in_per_address, global = true)]
    pub sign_in_rate: u32,

    /// Sign-in attempts at one handle per minute, from anywhere (0: no limit).
    #[arg(long, env = "MOMENTS_SIGN_IN_HANDLE_RATE", default_value_t = RateLimits::default().sign_in_per_handle,
          global = true)]
    pub sign_in_handle_rate: u32,

    /// Accounts one client address may create per hour (0: no limit).
    #[arg(long, env = "MOMENTS_SIGN_UP_RATE", default_value_t = RateLimits::default().sign_up_per_address, global = true)]
    pub sign_up_rate: u32,
}

impl Config {
    /// Pool size and acquire timeout.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            size: self.db_pool_size,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            sqlite_map_mib: self.sqlite_map_mib,
        }
    }

    /// The sign-in and sign-up rate limits.
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits {
            sign_in_per_address: self.sign_in_rate,
            sign_in_per_handle: self.sign_in_handle_rate,
            sign_up_per_address: self.sign_up_rate,
        }
    }
}

impl Config {
    /// The pinning policy the flags describe (P4, P5).
    pub fn pin_policy(&self) -> PinPolicy {
        PinPolicy {
            rollout_percent: self.pin_rollout_percent,
            allowlist: self
                .pin_allowlist
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect::<HashSet<_>>(),
            limit: self.pin_limit,
        }
    }

    /// A configuration for tests and tools: the defaults, with this database.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            jwt_secret: None,
            pin_rollout_percent: PinPolicy::default().rollout_percent,
            pin_allowlist: Vec::new(),
            pin_limit: PinPolicy::default().limit,
            db_pool_size: PoolSettings::default().size,
            db_acquire_timeout_ms: DEFAULT_ACQUIRE_TIMEOUT.as_millis() as u64,
            sqlite_map_mib: DEFAULT_SQLITE_MAP_MIB,
            sign_in_rate: RateLimits::default().sign_in_per_address,
            sign_in_handle_rate: RateLimits::default().sign_in_per_handle,
            sign_up_rate: RateLimits::default().sign_up_per_address,
        }
    }
}

/// Settings of `serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MOMENTS_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// Load a small demo world into an empty database and print a ready Authorization header.
    #[arg(long, env = "MOMENTS_DEMO")]
    pub demo: bool,

    /// Serve the GraphQL playground at `/` (`false` to turn it off, as a production server may).
    #[arg(long, env = "MOMENTS_PLAYGROUND", default_value_t = true, action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub playground: bool,

    /// Origins allowed to call the API from a browser (comma-separated), e.g. `http://localhost:5173`,
    /// or `*` for any origin.
    #[arg(long, env = "MOMENTS_CORS_ORIGINS", value_delimiter = ',', value_parser = CorsOrigin::parse)]
    pub cors_origins: Vec<CorsOrigin>,

    /// Proxies whose `X-Forwarded-For` names the client (comma-separated addresses or CIDR
    /// ranges, e.g. `10.0.0.0/8`). Unset: the peer's address is the client's.
    #[arg(long, env = "MOMENTS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,

    /// Seconds a client has to send a request's headers, or its body, or to take a response,
    /// and the longest an idle connection stays open.
    #[arg(long, env = "MOMENTS_CLIENT_TIMEOUT_SECS", default_value_t = Limits::DEFAULT.client_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub client_timeout_secs: u64,

    /// Connections served at once; more wait in the listen queue.
    #[arg(long, env = "MOMENTS_MAX_CONNECTIONS", default_value_t = Limits::DEFAULT.max_connections,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Connections one client address may hold at once (trusted proxies are not held to it).
    #[arg(long, env = "MOMENTS_MAX_CONNECTIONS_PER_CLIENT",
          default_value_t = Limits::DEFAULT.max_connections_per_client,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_client: u32,

    /// GraphQL requests executed at once; more wait their turn.
    #[arg(long, env = "MOMENTS_MAX_CONCURRENT_REQUESTS", default_value_t = Limits::DEFAULT.max_concurrent_requests as u16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_requests: u16,

    /// Seconds in-flight requests get to finish after SIGTERM before the server stops anyway.
    #[arg(long, env = "MOMENTS_SHUTDOWN_GRACE_SECS", default_value_t = Limits::DEFAULT.shutdown_grace.as_secs(),
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub shutdown_grace_secs: u64,
}

fn parse_proxy(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    raw.parse::<IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{raw:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8"))
}

impl ServeArgs {
    /// The server's bounds: the defaults, with what these settings change.
    pub fn limits(&self) -> Limits {
        Limits {
            client_timeout: Duration::from_secs(self.client_timeout_secs),
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            max_concurrent_requests: usize::from(self.max_concurrent_requests),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            ..Limits::DEFAULT
        }
    }

    /// The serve settings when `moments` runs without a command: flags are then not accepted, so
    /// these come from the environment and the defaults.
    pub fn from_env() -> Result<Self, clap::Error> {
        use clap::{CommandFactory as _, FromArgMatches as _};
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let matches = Only::command().try_get_matches_from(["moments"])?;
        Ok(Only::from_arg_matches(&matches)?.serve)
    }
}
