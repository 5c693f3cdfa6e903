//! `moments import`: the JSON Lines format of SPEC §6, loaded in one transaction. Every line is
//! checked as the API would check it; the first bad line stops the import with its number and the
//! problem, and nothing of the file is kept.
//!
//! Speed: checks run against what the import keeps in memory (with what the database already held
//! read once per user), ids are given out by the importer, and rows go to the database in multi-row
//! inserts of a few thousand, so a 400,000-moment world loads in well under two minutes.

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, IsTerminal as _, Write as _},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait as _, QueryFilter as _,
    QuerySelect as _, Statement, TransactionTrait as _,
    sea_query::{Expr, InsertStatement, OnConflict, Query},
};
use serde::Deserialize;

use crate::{
    auth,
    clock::to_micros,
    db::Db,
    domain::{
        AudienceMode, MomentKind, UserId, VisibleWindow,
        input::{
            ArticleLink, DisplayName, Handle, MAX_FRIENDS, MAX_TAG_MEMBERS, MediaItem, MomentContent, NewPassword,
            TagName, check_audience_shape,
        },
        model::{MomentId, TagId},
        pinning::kind_is_pinnable,
    },
    entity::{
        friendships, hidden_from, moment_audience_tags, moment_audience_users, moment_media, moments, moments_settings,
        pins, tag_members, tags, users,
    },
    error::Error,
};

/// How an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line was refused; nothing was kept.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    /// The database failed.
    #[error("{0}")]
    Database(#[from] Error),
}

/// What an import loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Users created.
    pub users: usize,
    /// Friendships made.
    pub friendships: usize,
    /// Tags created.
    pub tags: usize,
    /// Settings lines applied.
    pub settings: usize,
    /// Moments created.
    pub moments: usize,
    /// Pins made.
    pub pins: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} friendships, {} tags, {} settings, {} moments, {} pins",
            self.users, self.friendships, self.tags, self.settings, self.moments, self.pins
        )
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    User(UserLine),
    Friendship(FriendshipLine),
    Tag(TagLine),
    Settings(SettingsLine),
    Moment(MomentLine),
    Pin(PinLine),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserLine {
    handle: String,
    display_name: String,
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FriendshipLine {
    users: [String; 2],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TagLine {
    owner: String,
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsLine {
    user: String,
    visible_window: Option<String>,
    strangers_can_view: Option<bool>,
    hidden_from: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MediaLine {
    url: String,
    width: Option<i32>,
    height: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArticleLine {
    url: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AudienceLine {
    mode: String,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MomentLine {
    #[serde(rename = "ref")]
    reference: Option<String>,
    author: String,
    text: Option<String>,
    images: Option<Vec<MediaLine>>,
    video: Option<MediaLine>,
    article: Option<ArticleLine>,
    posted_at: Option<String>,
    audience: Option<AudienceLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PinLine {
    moment: String,
    pinned_at: Option<String>,
}

/// A problem with the current line.
struct Refused(String);

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        match e {
            Error::Database(_) | Error::Internal(_) => Refused(format!("the database refused it ({e})")),
            other => Refused(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for Refused {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::from(e).into()
    }
}

impl From<crate::domain::input::InvalidInput> for Refused {
    fn from(e: crate::domain::input::InvalidInput) -> Self {
        Refused(e.0)
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}

/// How far ahead of the importing machine's clock a time may be: clocks differ a little, but a
/// moment "posted" next year would sit above everything else until then.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The longest line read: a moment with nine pictures and the longest text is about 30 KB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A time of the file: RFC 3339, and not after `now` (plus [`MAX_CLOCK_SKEW`]).
fn time(field: &str, raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refused> {
    let t = DateTime::parse_from_rfc3339(raw)
        .map(|t| to_micros(t.with_timezone(&Utc)))
        .map_err(|e| Refused(format!("{field}: {raw:?} is not an RFC 3339 date and time ({e})")))?;
    if t > now + MAX_CLOCK_SKEW {
        return refused(format!(
            "{field}: {raw:?} is in the future (the import runs at {}); times must not be later than now",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    Ok(t)
}

struct ImportedMoment {
    id: MomentId,
    kind: MomentKind,
    author: UserId,
    posted_at: DateTime<Utc>,
}

/// Rows waiting for the next multi-row insert, in the order the foreign keys need.
#[derive(Default)]
struct Pending {
    users: Vec<(UserId, String, String, Option<String>)>,
    settings: Vec<(UserId, VisibleWindow, bool)>,
    settings_of: HashMap<UserId, usize>,
    friendships: Vec<(UserId, UserId)>,
    tags: Vec<(TagId, UserId, String)>,
    tag_members: Vec<(TagId, UserId)>,
    hidden: Vec<(UserId, UserId)>,
    moments: Vec<MomentRow>,
    media: Vec<MediaRow>,
    audience_users: Vec<(MomentId, UserId)>,
    audience_tags: Vec<(MomentId, TagId)>,
    /// Moment, author, when pinned, when the moment was posted.
    pins: Vec<(MomentId, UserId, DateTime<Utc>, DateTime<Utc>)>,
}

/// A picture or video row: moment, position, URL, width, height.
type MediaRow = (MomentId, i16, String, Option<i32>, Option<i32>);

struct MomentRow {
    id: MomentId,
    author: UserId,
    kind: MomentKind,
    text: Option<String>,
    article: Option<(String, String)>,
    audience: AudienceMode,
    posted_at: DateTime<Utc>,
}

/// The tables an import writes to.
pub const TABLES: [&str; 11] = [
    "users",
    "moments_settings",
    "friendships",
    "tags",
    "tag_members",
    "hidden_from",
    "moments",
    "moment_media",
    "moment_audience_users",
    "moment_audience_tags",
    "pins",
];

/// Rows per insert statement: well under the bound-parameter limits of SQLite and PostgreSQL.
const ROWS_PER_INSERT: usize = 1_000;
/// Bytes per insert statement. A statement that fits in one TLS record (16 KiB) goes out in one
/// write: a larger one is split, and the client's Nagle delay meeting the server's delayed ACK
/// then costs about 40 ms per statement on PostgreSQL (the driver does not set TCP_NODELAY).
const BYTES_PER_INSERT: usize = 12_000;
/// Pending rows that trigger a flush.
const FLUSH_AT: usize = 20_000;

impl Pending {
    fn rows(&self) -> usize {
        self.users.len()
            + self.friendships.len()
            + self.tags.len()
            + self.tag_members.len()
            + self.hidden.len()
            + self.moments.len()
            + self.media.len()
            + self.audience_users.len()
            + self.audience_tags.len()
            + self.pins.len()
    }
}

async fn insert_rows<T>(
    db: &impl ConnectionTrait,
    rows: &[T],
    make: impl Fn() -> InsertStatement,
    values: impl Fn(&T) -> Vec<Expr>,
) -> Result<(), Error> {
    let mut insert = make();
    let (mut count, mut bytes) = (0, 0);
    for row in rows {
        let row = values(row);
        bytes += row.iter().map(encoded_size).sum::<usize>();
        insert.values_panic(row);
        count += 1;
        if count == ROWS_PER_INSERT || bytes >= BYTES_PER_INSERT {
            db.execute(&insert).await?;
            (insert, count, bytes) = (make(), 0, 0);
        }
    }
    if count > 0 {
        db.execute(&insert).await?;
    }
    Ok(())
}

/// About how many bytes a value takes in a statement: its placeholder in the SQL and its data.
fn encoded_size(expr: &Expr) -> usize {
    match expr {
        Expr::Value(sea_orm::Value::String(Some(s))) => s.len() + 12,
        _ => 16,
    }
}

fn into(table: impl sea_orm::sea_query::IntoTableRef, columns: Vec<sea_orm::sea_query::DynIden>) -> InsertStatement {
    Query::insert().into_table(table).columns(columns).to_owned()
}

macro_rules! cols {
    ($($c:expr),+ $(,)?) => { vec![$(sea_orm::sea_query::IntoIden::into_iden($c)),+] };
}

impl Pending {
    async fn flush(&mut self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), Error> {
        let pending = std::mem::take(self);
        insert_rows(
            db,
            &pending.users,
            || {
                into(
                    users::Entity,
                    cols![
                        users::Column::Id,
                        users::Column::Handle,
                        users::Column::DisplayName,
                        users::Column::PasswordHash,
                        users::Column::CreatedAt
                    ],
                )
            },
            |(id, handle, name, hash)| {
                vec![
                    Expr::val(*id),
                    Expr::val(handle.as_str()),
                    Expr::val(name.as_str()),
                    Expr::val(hash.clone()),
                    Expr::val(now),
                ]
            },
        )
        .await?;
        insert_rows(
            db,
            &pending.settings,
            || {
                into(
                    moments_settings::Entity,
                    cols![
                        moments_settings::Column::UserId,
                        moments_settings::Column::VisibleWindow,
                        moments_settings::Column::StrangersCanView
                    ],
                )
            },
            |(id, window, strangers)| vec![Expr::val(*id), Expr::val(window.as_str()), Expr::val(*strangers)],
        )
        .await?;
        insert_rows(
            db,
            &pending.friendships,
            || {
                let mut insert = into(
                    friendships::Entity,
                    cols![friendships::Column::UserId, friendships::Column::FriendId, friendships::Column::CreatedAt],
                );
                insert.on_conflict(
                    OnConflict::columns([friendships::Column::UserId, friendships::Column::FriendId])
                        .do_nothing()
                        .to_owned(),
                );
                insert
            },
            |(a, b)| vec![Expr::val(*a), Expr::val(*b), Expr::val(now)],
        )
        .await?;
        insert_rows(
            db,
            &pending.tags,
            || {
                into(
                    tags::Entity,
                    cols![tags::Column::Id, tags::Column::OwnerId, tags::Column::Name, tags::Column::CreatedAt],
                )
            },
            |(id, owner, name)| vec![Expr::val(*id), Expr::val(*owner), Expr::val(name.as_str()), Expr::val(now)],
        )
        .await?;
        insert_rows(
            db,
            &pending.tag_members,
            || into(tag_members::Entity, cols![tag_members::Column::TagId, tag_members::Column::UserId]),
            |(t, u)| vec![Expr::val(*t), Expr::val(*u)],
        )
        .await?;
        insert_rows(
            db,
            &pending.hidden,
            || into(hidden_from::Entity, cols![hidden_from::Column::OwnerId, hidden_from::Column::HiddenUserId]),
            |(o, u)| vec![Expr::val(*o), Expr::val(*u)],
        )
        .await?;
        insert_rows(
            db,
            &pending.moments,
            || {
                into(
                    moments::Entity,
                    cols![
                        moments::Column::Id,
                        moments::Column::AuthorId,
                        moments::Column::Kind,
                        moments::Column::Text,
                        moments::Column::ArticleUrl,
                        moments::Column::ArticleTitle,
                        moments::Column::AudienceMode,
                        moments::Column::PostedAt
                    ],
                )
            },
            |m| {
                vec![
                    Expr::val(m.id),
                    Expr::val(m.author),
                    Expr::val(m.kind.as_str()),
                    Expr::val(m.text.clone()),
                    Expr::val(m.article.as_ref().map(|a| a.0.clone())),
                    Expr::val(m.article.as_ref().map(|a| a.1.clone())),
                    Expr::val(m.audience.as_str()),
                    Expr::val(m.posted_at),
                ]
            },
        )
        .await?;
        insert_rows(
            db,
            &pending.media,
            || {
                into(
                    moment_media::Entity,
                    cols![
                        moment_media::Column::MomentId,
                        moment_media::Column::Position,
                        moment_media::Column::Url,
                        moment_media::Column::Width,
                        moment_media::Column::Height
                    ],
                )
            },
            |(m, p, url, w, h)| {
                vec![Expr::val(*m), Expr::val(*p), Expr::val(url.as_str()), Expr::val(*w), Expr::val(*h)]
            },
        )
        .await?;
        insert_rows(
            db,
            &pending.audience_users,
            || {
                into(
                    moment_audience_users::Entity,
                    cols![moment_audience_users::Column::MomentId, moment_audience_users::Column::UserId],
                )
            },
            |(m, u)| vec![Expr::val(*m), Expr::val(*u)],
        )
        .await?;
        insert_rows(
            db,
            &pending.audience_tags,
            || {
                into(
                    moment_audience_tags::Entity,
                    cols![moment_audience_tags::Column::MomentId, moment_audience_tags::Column::TagId],
                )
            },
            |(m, t)| vec![Expr::val(*m), Expr::val(*t)],
        )
        .await?;
        insert_rows(
            db,
            &pending.pins,
            || {
                let mut insert = into(
                    pins::Entity,
                    cols![
                        pins::Column::MomentId,
                        pins::Column::AuthorId,
                        pins::Column::PinnedAt,
                        pins::Column::PostedAt
                    ],
                );
                insert.on_conflict(OnConflict::column(pins::Column::MomentId).do_nothing().to_owned());
                insert
            },
            |(m, a, pinned, posted)| vec![Expr::val(*m), Expr::val(*a), Expr::val(*pinned), Expr::val(*posted)],
        )
        .await?;
        Ok(())
    }
}

struct Importer<'a> {
    txn: &'a DatabaseTransaction,
    now: DateTime<Utc>,
    /// Handle → id, for users of this file and users already in the database.
    users: HashMap<String, UserId>,
    /// Ids below this were in the database before the import.
    first_new_user: UserId,
    next_user: UserId,
    next_tag: TagId,
    next_moment: MomentId,
    /// Friends of users whose friendships have been read or made.
    friends: HashMap<UserId, HashSet<UserId>>,
    /// (owner, name) → tag, for owners whose tags have been read or made.
    tags: HashMap<(UserId, String), TagId>,
    tags_read: HashSet<UserId>,
    moments: HashMap<String, ImportedMoment>,
    pending: Pending,
    report: ImportReport,
}

async fn max_id(db: &impl ConnectionTrait, table: &str) -> Result<i64, Error> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}")))
        .await?
        .ok_or_else(|| anyhow::anyhow!("MAX(id) of {table} returned nothing"))?;
    Ok(row.try_get::<i64>("", "m")?)
}

impl Importer<'_> {
    async fn user(&mut self, handle: &str) -> Result<UserId, Refused> {
        if let Some(id) = self.users.get(handle) {
            return Ok(*id);
        }
        let found: Option<UserId> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Handle.eq(handle))
            .into_tuple()
            .one(self.txn)
            .await?;
        match found {
            Some(id) => {
                self.users.insert(handle.to_owned(), id);
                Ok(id)
            }
            None => refused(format!(
                "no user with handle {handle:?} (a user line must come before the lines that name the user)"
            )),
        }
    }

    /// The friends of `user`, read from the database once if the user was there before.
    async fn friends_of(&mut self, user: UserId) -> Result<&mut HashSet<UserId>, Refused> {
        if !self.friends.contains_key(&user) {
            let mut set = HashSet::new();
            if user < self.first_new_user {
                let ids: Vec<UserId> = friendships::Entity::find()
                    .select_only()
                    .column(friendships::Column::FriendId)
                    .filter(friendships::Column::UserId.eq(user))
                    .into_tuple()
                    .all(self.txn)
                    .await?;
                set.extend(ids);
            }
            self.friends.insert(user, set);
        }
        Ok(self.friends.get_mut(&user).expect("just inserted"))
    }

    async fn require_friends(
        &mut self,
        owner: UserId,
        others: &[(String, UserId)],
        field: &str,
    ) -> Result<(), Refused> {
        let friends = self.friends_of(owner).await?;
        if let Some((handle, _)) = others.iter().find(|(_, id)| !friends.contains(id)) {
            return refused(format!("{field}: @{handle} is not your friend"));
        }
        Ok(())
    }

    async fn read_tags(&mut self, owner: UserId) -> Result<(), Refused> {
        if owner < self.first_new_user && self.tags_read.insert(owner) {
            let rows: Vec<(TagId, String)> = tags::Entity::find()
                .select_only()
                .column(tags::Column::Id)
                .column(tags::Column::Name)
                .filter(tags::Column::OwnerId.eq(owner))
                .into_tuple()
                .all(self.txn)
                .await?;
            for (id, name) in rows {
                self.tags.insert((owner, name), id);
            }
        }
        Ok(())
    }

    async fn handles(&mut self, list: &[String]) -> Result<Vec<(String, UserId)>, Refused> {
        let mut out = Vec::with_capacity(list.len());
        for h in list {
            let id = self.user(h).await?;
            if !out.iter().any(|(_, known)| *known == id) {
                out.push((h.clone(), id));
            }
        }
        Ok(out)
    }

    async fn line(&mut self, line: Line) -> Result<(), Refused> {
        match line {
            Line::User(u) => {
                let handle = Handle::parse(&u.handle)?;
                let name = DisplayName::parse(&u.display_name)?;
                if self.users.contains_key(handle.as_str()) || self.user(handle.as_str()).await.is_ok() {
                    return refused(format!("handle: {:?} is already taken", handle.as_str()));
                }
                let hash = match u.password {
                    Some(p) => Some(auth::hash_password(NewPassword::parse(&p)?.expose().to_owned()).await?),
                    None => None,
                };
                let id = self.next_user;
                self.next_user += 1;
                self.users.insert(handle.as_str().to_owned(), id);
                self.friends.insert(id, HashSet::new());
                self.tags_read.insert(id);
                self.pending.users.push((id, handle.as_str().to_owned(), name.as_str().to_owned(), hash));
                self.pending.settings_of.insert(id, self.pending.settings.len());
                self.pending.settings.push((id, VisibleWindow::All, false));
                self.report.users += 1;
            }
            Line::Friendship(f) => {
                let [a, b] = &f.users;
                if a == b {
                    return refused(format!("users: {a:?} cannot be their own friend"));
                }
                let (handles, (a, b)) = (&f.users, (self.user(a).await?, self.user(b).await?));
                if !self.friends_of(a).await?.contains(&b) {
                    for (who, handle) in [(a, &handles[0]), (b, &handles[1])] {
                        if self.friends_of(who).await?.len() as u64 >= MAX_FRIENDS {
                            return refused(format!(
                                "users: @{handle} already has {MAX_FRIENDS} friends, the most one may have"
                            ));
                        }
                    }
                    self.friends_of(a).await?.insert(b);
                    self.friends_of(b).await?.insert(a);
                    self.pending.friendships.push((a, b));
                    self.pending.friendships.push((b, a));
                }
                self.report.friendships += 1;
            }
            Line::Tag(t) => {
                let owner = self.user(&t.owner).await?;
                let name = TagName::parse(&t.name)?;
                let members = self.handles(&t.members).await?;
                if members.len() > MAX_TAG_MEMBERS {
                    return refused(format!(
                        "members: a tag holds at most {MAX_TAG_MEMBERS} members, got {}",
                        members.len()
                    ));
                }
                self.require_friends(owner, &members, "members").await?;
                self.read_tags(owner).await?;
                let key = (owner, name.as_str().to_owned());
                if self.tags.contains_key(&key) {
                    return refused(format!("name: @{} already has a tag named {:?}", t.owner, name.as_str()));
                }
                let id = self.next_tag;
                self.next_tag += 1;
                self.tags.insert(key, id);
                self.pending.tags.push((id, owner, name.as_str().to_owned()));
                self.pending.tag_members.extend(members.iter().map(|(_, m)| (id, *m)));
                self.report.tags += 1;
            }
            Line::Settings(s) => {
                let user = self.user(&s.user).await?;
                let window = match s.visible_window.as_deref() {
                    Some(raw) => Some(VisibleWindow::parse(raw).ok_or_else(|| {
                        Refused(format!("visibleWindow: {raw:?} is not one of ALL, SIX_MONTHS, ONE_MONTH, THREE_DAYS"))
                    })?),
                    None => None,
                };
                let hidden = match &s.hidden_from {
                    Some(list) => Some(self.handles(list).await?),
                    None => None,
                };
                if hidden.iter().flatten().any(|(_, h)| *h == user) {
                    return refused("hiddenFrom: a user cannot hide moments from themselves");
                }
                match self.pending.settings_of.get(&user) {
                    Some(&at) => {
                        let entry = &mut self.pending.settings[at];
                        entry.1 = window.unwrap_or(entry.1);
                        entry.2 = s.strangers_can_view.unwrap_or(entry.2);
                    }
                    None => {
                        crate::store::users::update_settings(self.txn, user, window, s.strangers_can_view).await?;
                    }
                }
                if let Some(hidden) = hidden {
                    hidden_from::Entity::delete_many()
                        .filter(hidden_from::Column::OwnerId.eq(user))
                        .exec(self.txn)
                        .await?;
                    self.pending.hidden.retain(|(owner, _)| *owner != user);
                    self.pending.hidden.extend(hidden.iter().map(|(_, h)| (user, *h)));
                }
                self.report.settings += 1;
            }
            Line::Moment(m) => self.moment(m).await?,
            Line::Pin(p) => {
                let Some(moment) = self.moments.get(&p.moment) else {
                    return refused(format!("moment: no moment with ref {:?} earlier in this file", p.moment));
                };
                if !kind_is_pinnable(moment.kind) {
                    return refused(format!(
                        "moment {:?} is {}: only moments with pictures or a video can be pinned",
                        p.moment, moment.kind
                    ));
                }
                let pinned_at = match &p.pinned_at {
                    Some(raw) => time("pinnedAt", raw, self.now)?,
                    None => self.now,
                };
                self.pending.pins.push((moment.id, moment.author, pinned_at, moment.posted_at));
                self.report.pins += 1;
            }
        }
        Ok(())
    }

    async fn moment(&mut self, m: MomentLine) -> Result<(), Refused> {
        if let Some(reference) = &m.reference
            && self.moments.contains_key(reference)
        {
            return refused(format!("ref: {reference:?} is used by an earlier moment of this file"));
        }
        let author = self.user(&m.author).await?;
        let images = match &m.images {
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, x)| MediaItem::parse(&format!("images[{i}]"), &x.url, x.width, x.height))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let video = m.video.as_ref().map(|v| MediaItem::parse("video", &v.url, v.width, v.height)).transpose()?;
        let article = m.article.as_ref().map(|a| ArticleLink::parse(&a.url, &a.title)).transpose()?;
        let content = MomentContent::new(m.text.as_deref(), images, video, article)?;
        let posted_at = match &m.posted_at {
            Some(raw) => time("postedAt", raw, self.now)?,
            None => self.now,
        };
        let (audience, named_users, named_tags) = match &m.audience {
            None => (AudienceMode::Public, Vec::new(), Vec::new()),
            Some(a) => {
                let mode = AudienceMode::parse(&a.mode).ok_or_else(|| {
                    Refused(format!("audience.mode: {:?} is not one of PUBLIC, PRIVATE, INCLUDE, EXCLUDE", a.mode))
                })?;
                check_audience_shape(mode, a.users.len(), a.tags.len())?;
                let named = self.handles(&a.users).await?;
                self.require_friends(author, &named, "audience.userIds").await?;
                self.read_tags(author).await?;
                let mut tags = Vec::with_capacity(a.tags.len());
                for name in &a.tags {
                    match self.tags.get(&(author, name.clone())) {
                        Some(id) if !tags.contains(id) => tags.push(*id),
                        Some(_) => {}
                        None => return refused(format!("audience.tags: @{} has no tag named {name:?}", m.author)),
                    }
                }
                (mode, named.into_iter().map(|(_, id)| id).collect::<Vec<_>>(), tags)
            }
        };
        let id = self.next_moment;
        self.next_moment += 1;
        self.pending.media.extend(
            content
                .media
                .iter()
                .enumerate()
                .map(|(position, item)| (id, position as i16, item.url.as_str().to_owned(), item.width, item.height)),
        );
        self.pending.audience_users.extend(named_users.iter().map(|u| (id, *u)));
        self.pending.audience_tags.extend(named_tags.iter().map(|t| (id, *t)));
        self.pending.moments.push(MomentRow {
            id,
            author,
            kind: content.kind,
            text: content.text,
            article: content.article.map(|a| (a.url.as_str().to_owned(), a.title)),
            audience,
            posted_at,
        });
        if let Some(reference) = m.reference {
            self.moments.insert(reference, ImportedMoment { id, kind: content.kind, author, posted_at });
        }
        self.report.moments += 1;
        Ok(())
    }
}

/// Shows how far the import is, on a terminal only, at most twice a second.
struct Progress {
    show: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    fn new() -> Self {
        let now = Instant::now();
        Self { show: std::io::stderr().is_terminal(), started: now, last: now }
    }

    fn tick(&mut self, line: usize, report: &ImportReport) {
        if self.show && self.last.elapsed() >= Duration::from_millis(500) {
            self.last = Instant::now();
            let rate = line as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            eprint!("\r  line {line} ({rate:.0} lines/s): {report}   ");
            let _ = std::io::stderr().flush();
        }
    }

    fn done(&self) {
        if self.show {
            eprintln!();
        }
    }
}

/// The lines of the file, each checked to be UTF-8 and at most [`MAX_LINE_BYTES`] long, with a
/// byte-order mark at the start of the file skipped.
struct Lines<R> {
    input: R,
    buffer: Vec<u8>,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    fn next_line(&mut self) -> Result<Option<(usize, &str)>, ImportError> {
        use std::io::Read as _;
        self.buffer.clear();
        let read = (&mut self.input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = self.number;
        if self.buffer.len() > MAX_LINE_BYTES && !self.buffer.ends_with(b"\n") {
            return Err(ImportError::Line { line, message: format!("longer than {} KiB", MAX_LINE_BYTES / 1024) });
        }
        let mut bytes = &self.buffer[..];
        for end in [&b"\n"[..], b"\r"] {
            bytes = bytes.strip_suffix(end).unwrap_or(bytes);
        }
        if line == 1 {
            bytes = bytes.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(bytes);
        }
        std::str::from_utf8(bytes).map(|text| Some((line, text))).map_err(|e| ImportError::Line {
            line,
            message: format!("not UTF-8 text (an invalid byte at column {})", e.valid_up_to() + 1),
        })
    }
}

/// Makes PostgreSQL's identity sequences continue after the ids the import gave out.
async fn advance_sequences(db: &impl ConnectionTrait) -> Result<(), Error> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in ["users", "tags", "moments"] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) FROM (SELECT MAX(id) AS m FROM {table}) AS t WHERE m IS NOT NULL"
        ))
        .await?;
    }
    Ok(())
}

/// Loads `input` into the database in one transaction, at time `now` for what the file leaves out.
pub async fn import(db: &Db, input: impl BufRead, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    let txn = db.write.begin().await.map_err(Error::from)?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Ids are given out here: no other writer may add users, tags or moments meanwhile.
        txn.execute_unprepared("LOCK TABLE users, tags, moments IN SHARE ROW EXCLUSIVE MODE")
            .await
            .map_err(Error::from)?;
    }
    let first_new_user = max_id(&txn, "users").await? + 1;
    let mut importer = Importer {
        txn: &txn,
        now: to_micros(now),
        users: HashMap::new(),
        first_new_user,
        next_user: first_new_user,
        next_tag: max_id(&txn, "tags").await? + 1,
        next_moment: max_id(&txn, "moments").await? + 1,
        friends: HashMap::new(),
        tags: HashMap::new(),
        tags_read: HashSet::new(),
        moments: HashMap::new(),
        pending: Pending::default(),
        report: ImportReport::default(),
    };
    let mut progress = Progress::new();
    let mut last_line = 0;
    let mut lines = Lines { input, buffer: Vec::new(), number: 0 };
    while let Some((line, text)) = lines.next_line()? {
        last_line = line;
        if text.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(text)
            .map_err(|e| ImportError::Line { line, message: format!("not a valid record: {e}") })?;
        importer.line(parsed).await.map_err(|Refused(message)| ImportError::Line { line, message })?;
        if importer.pending.rows() >= FLUSH_AT {
            importer.pending.settings_of.clear();
            importer.pending.flush(&txn, importer.now).await.map_err(|e| ImportError::Line {
                line,
                message: format!("the database refused the rows up to this line: {e}"),
            })?;
        }
        progress.tick(line, &importer.report);
    }
    importer.pending.flush(&txn, importer.now).await.map_err(|e| ImportError::Line {
        line: last_line,
        message: format!("the database refused the rows up to this line: {e}"),
    })?;
    advance_sequences(&txn).await?;
    let report = importer.report;
    txn.commit().await.map_err(Error::from)?;
    progress.done();
    // Fresh statistics, so the query planner knows the new sizes.
    let analyze = match db.backend() {
        DbBackend::Postgres => format!("ANALYZE {}", TABLES.join(", ")),
        _ => "ANALYZE".to_owned(),
    };
    // The import is committed: statistics that fail to refresh are worth a warning, not a failure.
    if let Err(e) = db.write.execute_unprepared(&analyze).await {
        tracing::warn!(error = %e, "the import is in; refreshing the planner's statistics failed");
    }
    Ok(report)
}

/// [`import`] from a string.
pub async fn import_str(db: &Db, text: &str, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    import(db, std::io::Cursor::new(text), now).await
}
