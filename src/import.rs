//! `moments import`: the JSON Lines format of SPEC §6, loaded in one transaction. Every line is
//! checked as the API would check it; the first bad line stops the import with its number and the
//! problem, and nothing of the file is kept.

use std::{collections::HashMap, io::BufRead};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseTransaction, EntityTrait as _, QueryFilter as _, TransactionTrait as _,
    sea_query::OnConflict,
};
use serde::Deserialize;

use crate::{
    auth,
    clock::to_micros,
    db::Db,
    domain::{
        AudienceMode, MomentKind, UserId, VisibleWindow,
        input::{ArticleLink, DisplayName, Handle, MediaItem, MomentContent, NewPassword, TagName},
        model::{MomentId, TagId},
        pinning::kind_is_pinnable,
    },
    entity::{hidden_from, pins, tags},
    error::Error,
    store::{
        self,
        moments::{NewMoment, check_audience},
        social::require_friends,
    },
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

impl From<crate::domain::input::InvalidInput> for Refused {
    fn from(e: crate::domain::input::InvalidInput) -> Self {
        Refused(e.0)
    }
}

fn refused<T>(message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(message.into()))
}

fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, Refused> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| to_micros(t.with_timezone(&Utc)))
        .map_err(|e| Refused(format!("{field}: {raw:?} is not an RFC 3339 date and time ({e})")))
}

struct ImportedMoment {
    id: MomentId,
    kind: MomentKind,
    author: UserId,
}

struct Importer<'a> {
    txn: &'a DatabaseTransaction,
    now: DateTime<Utc>,
    users: HashMap<String, UserId>,
    tags: HashMap<(UserId, String), TagId>,
    moments: HashMap<String, ImportedMoment>,
    report: ImportReport,
}

impl Importer<'_> {
    async fn user(&mut self, handle: &str) -> Result<UserId, Refused> {
        if let Some(id) = self.users.get(handle) {
            return Ok(*id);
        }
        match store::users::by_handle(self.txn, handle).await? {
            Some(user) => {
                self.users.insert(handle.to_owned(), user.id);
                Ok(user.id)
            }
            None => refused(format!(
                "no user with handle {handle:?} (a user line must come before the lines that name the user)"
            )),
        }
    }

    async fn tag(&mut self, owner: UserId, owner_handle: &str, name: &str) -> Result<TagId, Refused> {
        if let Some(id) = self.tags.get(&(owner, name.to_owned())) {
            return Ok(*id);
        }
        let found = tags::Entity::find()
            .filter(tags::Column::OwnerId.eq(owner))
            .filter(tags::Column::Name.eq(name))
            .one(self.txn)
            .await
            .map_err(Error::from)?;
        match found {
            Some(tag) => {
                self.tags.insert((owner, name.to_owned()), tag.id);
                Ok(tag.id)
            }
            None => refused(format!("@{owner_handle} has no tag named {name:?}")),
        }
    }

    async fn line(&mut self, line: Line) -> Result<(), Refused> {
        match line {
            Line::User(u) => {
                let handle = Handle::parse(&u.handle)?;
                let name = DisplayName::parse(&u.display_name)?;
                let hash = match u.password {
                    Some(p) => Some(auth::hash_password(NewPassword::parse(&p)?.expose().to_owned()).await?),
                    None => None,
                };
                if store::users::by_handle(self.txn, handle.as_str()).await?.is_some() {
                    return refused(format!("handle: {:?} is already taken", handle.as_str()));
                }
                let user = store::users::create(self.txn, handle.as_str(), name.as_str(), hash, self.now).await?;
                self.users.insert(user.handle, user.id);
                self.report.users += 1;
            }
            Line::Friendship(f) => {
                let [a, b] = &f.users;
                if a == b {
                    return refused(format!("users: {a:?} cannot be their own friend"));
                }
                let (a, b) = (self.user(a).await?, self.user(b).await?);
                store::social::befriend(self.txn, a, b, self.now).await?;
                self.report.friendships += 1;
            }
            Line::Tag(t) => {
                let owner = self.user(&t.owner).await?;
                let name = TagName::parse(&t.name)?;
                let mut members = Vec::with_capacity(t.members.len());
                for m in &t.members {
                    members.push(self.user(m).await?);
                }
                require_friends(self.txn, owner, &members, "members").await?;
                let tag = store::social::create_tag(self.txn, owner, &name, &members, self.now).await?;
                self.tags.insert((owner, tag.name), tag.id);
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
                store::users::update_settings(self.txn, user, window, s.strangers_can_view).await?;
                if let Some(hidden) = &s.hidden_from {
                    hidden_from::Entity::delete_many()
                        .filter(hidden_from::Column::OwnerId.eq(user))
                        .exec(self.txn)
                        .await
                        .map_err(Error::from)?;
                    for h in hidden {
                        let other = self.user(h).await?;
                        store::social::set_hidden(self.txn, user, other, true).await?;
                    }
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
                    Some(raw) => time("pinnedAt", raw)?,
                    None => self.now,
                };
                pins::Entity::insert(pins::ActiveModel {
                    moment_id: Set(moment.id),
                    author_id: Set(moment.author),
                    pinned_at: Set(pinned_at),
                })
                .on_conflict(OnConflict::column(pins::Column::MomentId).do_nothing().to_owned())
                .exec_without_returning(self.txn)
                .await
                .map_err(Error::from)?;
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
            Some(raw) => time("postedAt", raw)?,
            None => self.now,
        };
        let (audience, users, tags) = match &m.audience {
            None => (AudienceMode::Public, Vec::new(), Vec::new()),
            Some(a) => {
                let mode = AudienceMode::parse(&a.mode).ok_or_else(|| {
                    Refused(format!("audience.mode: {:?} is not one of PUBLIC, PRIVATE, INCLUDE, EXCLUDE", a.mode))
                })?;
                let mut users = Vec::with_capacity(a.users.len());
                for u in &a.users {
                    users.push(self.user(u).await?);
                }
                let mut tags = Vec::with_capacity(a.tags.len());
                for t in &a.tags {
                    tags.push(self.tag(author, &m.author, t).await?);
                }
                (mode, users, tags)
            }
        };
        check_audience(self.txn, author, audience, &users, &tags).await?;
        let new = NewMoment { content, audience, audience_users: users, audience_tags: tags };
        let record = store::moments::insert(self.txn, author, &new, posted_at).await?;
        if let Some(reference) = m.reference {
            self.moments.insert(reference, ImportedMoment { id: record.id, kind: record.kind, author });
        }
        self.report.moments += 1;
        Ok(())
    }
}

/// Loads `input` into the database in one transaction, at time `now` for what the file leaves out.
pub async fn import(db: &Db, input: impl BufRead, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    let txn = db.write.begin().await.map_err(Error::from)?;
    let mut importer = Importer {
        txn: &txn,
        now: to_micros(now),
        users: HashMap::new(),
        tags: HashMap::new(),
        moments: HashMap::new(),
        report: ImportReport::default(),
    };
    for (index, text) in input.lines().enumerate() {
        let line = index + 1;
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&text)
            .map_err(|e| ImportError::Line { line, message: format!("not a valid record: {e}") })?;
        importer.line(parsed).await.map_err(|Refused(message)| ImportError::Line { line, message })?;
    }
    let report = importer.report;
    txn.commit().await.map_err(Error::from)?;
    Ok(report)
}

/// [`import`] from a string.
pub async fn import_str(db: &Db, text: &str, now: DateTime<Utc>) -> Result<ImportReport, ImportError> {
    import(db, std::io::Cursor::new(text), now).await
}
