//! Who is asking: argon2id password hashes, HS256 tokens (`sub` = the user's global id, `exp` and
//! `aud` required, the algorithm pinned, bound to one deployment), the secret they are signed with,
//! and the per-request [`Viewer`].

use argon2::{
    Argon2,
    password_hash::{PasswordHasher as _, PasswordVerifier as _},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore as _;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use migration::DEPLOYMENT_ID;

use rules::UserId;

use store::{
    entity::server_secrets,
    {self, users::UserRecord},
};

use crate::{
    clock::to_micros,
    error::{Error, Result},
    ids::{self, NodeKind},
};

/// How long a token from `signIn`, `signUp` or `moments token` stays valid.
pub const TOKEN_LIFETIME_DAYS: i64 = 30;
/// The shortest `MOMENTS_JWT_SECRET` accepted.
pub(crate) const MIN_SECRET_LEN: usize = 32;
const SECRET_NAME: &str = "jwt_hs256";

/// The viewer of one request, decided once by the HTTP layer from the `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Viewer {
    /// No token was sent.
    Anonymous,
    /// A token was sent and refused; the text says why.
    Refused(&'static str),
    /// A signed-in user.
    User(UserId),
}

impl Viewer {
    /// The signed-in user, or `UNAUTHENTICATED` (rule V2).
    pub(crate) fn require(&self) -> Result<UserId> {
        match self {
            Self::User(id) => Ok(*id),
            Self::Anonymous => Err(Error::Unauthenticated(
                "sign in first: this operation needs an `Authorization: Bearer <token>` header".into(),
            )),
            Self::Refused(why) => Err(Error::Unauthenticated((*why).into())),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    /// The deployment the token is for: `moments:<deployment id>`.
    aud: String,
}

/// The keys derived from the server secret (token signing, cursor authentication) and the
/// deployment tokens are bound to.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    cursor_key: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Reads the `Authorization` header: the scheme `Bearer` in any case (RFC 7235 §2.1), then the
/// token. `None` when the header is not a bearer credential.
pub(crate) fn bearer_token(header: &str) -> Option<&str> {
    let header = header.trim_start();
    let (scheme, rest) = header.split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl Keys {
    /// Keys for a secret and a deployment id; tokens and cursors each get a key of their own
    /// derived from the secret, and tokens name the deployment as their audience.
    pub fn from_secret(secret: &[u8], deployment: &str) -> Self {
        let token_key = derive(secret, "moments/token");
        let audience = format!("moments:{deployment}");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        validation.set_audience(&[&audience]);
        // `nbf` is honoured when a token carries one; ours do not need it.
        validation.validate_nbf = true;
        validation.leeway = 0;
        let mut cursor_secret = secret.to_vec();
        cursor_secret.extend_from_slice(deployment.as_bytes());
        Self {
            encoding: EncodingKey::from_secret(&token_key),
            decoding: DecodingKey::from_secret(&token_key),
            validation,
            audience,
            cursor_key: derive(&cursor_secret, "moments/cursor"),
        }
    }

    /// The secret from `MOMENTS_JWT_SECRET`, or else the one kept in the database, made on first
    /// use; every server on one database and the `token` command agree on it with no set-up. The
    /// deployment id was made by the migrations.
    pub async fn load(configured: Option<&str>, db: &impl ConnectionTrait) -> Result<Self> {
        let deployment = server_secrets::Entity::find_by_id(DEPLOYMENT_ID.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the database has no deployment id: run `moments migrate`"))?
            .value;
        if let Some(secret) = configured {
            if secret.len() < MIN_SECRET_LEN {
                return Err(
                    anyhow::anyhow!("MOMENTS_JWT_SECRET must be at least {MIN_SECRET_LEN} characters long").into()
                );
            }
            return Ok(Self::from_secret(secret.as_bytes(), &deployment));
        }
        let mut fresh = [0u8; 48];
        rand::rng().fill_bytes(&mut fresh);
        // Two servers starting at once may both try: the first insert wins, both read it back.
        server_secrets::Entity::insert(server_secrets::ActiveModel {
            name: Set(SECRET_NAME.to_owned()),
            value: Set(URL_SAFE_NO_PAD.encode(fresh)),
            created_at: Set(to_micros(Utc::now())),
        })
        .on_conflict(OnConflict::column(server_secrets::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
        let stored = server_secrets::Entity::find_by_id(SECRET_NAME.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the server secret was not stored"))?;
        Ok(Self::from_secret(stored.value.as_bytes(), &deployment))
    }

    /// The deployment this server belongs to, `moments:<deployment id>`: every server on one
    /// database (or PostgreSQL schema) has the same, and no other has it.
    pub fn deployment(&self) -> &str {
        &self.audience
    }

    /// A token for `user`, valid for [`TOKEN_LIFETIME_DAYS`] from the system time. Tokens follow
    /// the real clock even when the rules are evaluated at a set time (tests, replays).
    pub fn issue_now(&self, user: UserId) -> Result<String> {
        self.issue(user, Utc::now())
    }

    /// A token for `user`, valid for [`TOKEN_LIFETIME_DAYS`] from `now`.
    pub fn issue(&self, user: UserId, now: DateTime<Utc>) -> Result<String> {
        let claims = Claims {
            sub: ids::encode(NodeKind::User, user),
            iat: now.timestamp(),
            exp: (now + Duration::days(TOKEN_LIFETIME_DAYS)).timestamp(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}").into())
    }

    /// The user an `Authorization` header names and when the token expires (a live connection
    /// closes then), checked against the signature, the algorithm, the deployment, `exp`, `nbf`
    /// and the longest lifetime this server gives; `Ok(None)` without a header. Whether the user
    /// still exists is for [`resolve_viewer`] to ask the database.
    pub fn session_of(&self, authorization: Option<&str>) -> Result<Option<(UserId, DateTime<Utc>)>, &'static str> {
        let Some(header) = authorization else {
            return Ok(None);
        };
        let token = bearer_token(header).ok_or("the Authorization header must be `Bearer <token>`")?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired: sign in again",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAudience => "the token was issued by another deployment: sign in here",
                _ => "the token is not valid",
            })?;
        // A token may not outlive what this server would issue, nor claim to be issued later than
        // now (a minute allowed for clocks that differ).
        let now = Utc::now();
        let latest = now + Duration::days(TOKEN_LIFETIME_DAYS) + Duration::seconds(60);
        if data.claims.exp > latest.timestamp() {
            return Err("the token is valid for longer than this server allows");
        }
        if data.claims.iat > (now + Duration::seconds(60)).timestamp() {
            return Err("the token is not valid yet");
        }
        let expires = DateTime::from_timestamp(data.claims.exp, 0).ok_or("the token's expiry is not a time")?;
        match ids::decode(&data.claims.sub) {
            Some((NodeKind::User, id)) => Ok(Some((id, expires))),
            _ => Err("the token does not name a user"),
        }
    }

    fn cursor_mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.cursor_key).expect("any key length");
        mac.update(payload);
        mac
    }

    /// A short authenticator for a cursor's payload, so clients cannot forge positions.
    pub fn cursor_tag(&self, payload: &[u8]) -> [u8; 12] {
        let full = self.cursor_mac(payload).finalize().into_bytes();
        let mut tag = [0u8; 12];
        tag.copy_from_slice(&full[..12]);
        tag
    }

    /// Whether `tag` authenticates `payload`, compared in constant time.
    pub fn cursor_tag_matches(&self, payload: &[u8], tag: &[u8]) -> bool {
        tag.len() == 12 && self.cursor_mac(payload).verify_truncated_left(tag).is_ok()
    }
}

/// The viewer of a request, decided once: the token's `session` (what [`Keys::session_of`] made
/// of it: the user it names, none, or why it was refused), then the user it names is read (one
/// primary-key lookup). A token whose user this database does not have (deleted, or made
/// elsewhere with the same secret) is refused like any bad token, so every operation answers
/// `UNAUTHENTICATED` and none can reach a foreign-key error.
pub(crate) async fn resolve_viewer(
    db: &impl ConnectionTrait,
    session: Result<Option<UserId>, &'static str>,
) -> Result<(Viewer, Option<UserRecord>)> {
    match session {
        Ok(None) => Ok((Viewer::Anonymous, None)),
        Err(why) => Ok((Viewer::Refused(why), None)),
        Ok(Some(id)) => match store::users::by_id(db, id).await? {
            Some(user) => Ok((Viewer::User(id), Some(user))),
            None => Ok((Viewer::Refused("the token's user does not exist here: sign in again"), None)),
        },
    }
}

/// Password hashes computed at once, server-wide: each takes about 19 MiB of memory (argon2id's
/// default cost) and a core for 50–100 ms, so this bounds what a flood of sign-ins and sign-ups can
/// take, whatever the rate limits let through; the others wait their turn.
fn password_work() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    })
}

/// Hashes a new password with argon2id (default parameters, a fresh salt), off the async threads.
pub(crate) async fn hash_password(password: String) -> Result<String> {
    let _turn = password_work().acquire().await.map_err(|e| anyhow::anyhow!("password work: {e}"))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .map_err(|e| anyhow::anyhow!("the hashing task failed: {e}"))?
    .map_err(Error::from)
}

/// Checks a password against a stored hash. Without a stored hash a dummy one is checked, so a
/// missing user takes as long to refuse as a wrong password.
pub(crate) async fn verify_password(password: String, stored: Option<String>) -> Result<bool> {
    let _turn = password_work().acquire().await.map_err(|e| anyhow::anyhow!("password work: {e}"))?;
    tokio::task::spawn_blocking(move || {
        let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zu9Uq8GTTJW6Tb3t0ZQpnjVQdCm3aUUYx5A2ZMPS5Kw";
        let hash = stored.as_deref().unwrap_or(dummy);
        let ok = Argon2::default().verify_password(password.as_bytes(), hash).is_ok();
        ok && stored.is_some()
    })
    .await
    .map_err(|e| anyhow::anyhow!("the verifying task failed: {e}").into())
}
