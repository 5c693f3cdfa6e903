//! The checks of `moments import`: every line is checked as the API checks it (handles, names,
//! friendships, tags, audiences, content, pins), with the same parsers and messages, against what
//! the import keeps in memory.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait as _, DatabaseTransaction, EntityTrait as _, QueryFilter as _, QuerySelect as _};

use tokio::sync::{mpsc, oneshot};

use super::{
    batch::Batch,
    format::{FriendshipLine, Line, MomentLine, PinLine, SettingsLine, TagLine, UserLine, time},
    refs::{ImportedMoment, Refs, Reused},
    report::{ImportError, ImportReport, Refused, refused},
    writer::{Pending, max_id},
};
use crate::{auth, error::Error};
use rules::{
    AudienceMode, UserId, VisibleWindow,
    content::check_audience_shape,
    input::{DisplayName, Handle, MAX_FRIENDS, NewPassword, TagName, check_tag_size, not_a_friend},
    model::{MomentId, TagId},
    pinning::kind_is_pinnable,
};
use store::{
    entity::{
        friendships, hidden_from, moment_audience_tags, moment_audience_users, moment_media, moments, moments_settings,
        pins, tag_members, tags, users,
    },
    users::SettingsRecord,
};

/// The checks of the import: what the API would check, against what the import keeps in memory
/// (with what the database already held read once per user).
pub(super) struct Importer {
    pub(super) txn: Arc<DatabaseTransaction>,
    pub(super) now: DateTime<Utc>,
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
    /// The refs of this file's moments.
    pub(super) refs: Refs,
    /// The line being checked.
    pub(super) line_number: usize,
    pub(super) pending: Pending,
    pub(super) report: ImportReport,
    /// The writer's queue.
    batches: mpsc::Sender<Batch>,
    /// The batches sent to the writer and not yet known written, oldest first.
    in_flight: VecDeque<InFlight>,
    /// Why the batch written last failed, when a check found out while waiting for it.
    failure: Option<ImportError>,
}

/// A batch sent to the writer: its last line, and what its writing will come to. Any check that
/// reads or writes the database waits for every batch sent first ([`Importer::db`]): the
/// transaction runs one statement at a time, and the check may need the batches' rows.
struct InFlight {
    line: usize,
    outcome: oneshot::Receiver<Result<Option<Reused>, Error>>,
}

impl InFlight {
    /// What the writing came to, as the import reports it.
    async fn outcome(self) -> Result<(), ImportError> {
        let written = self.outcome.await.unwrap_or_else(|_| Err(writer_stopped()));
        match written {
            Ok(None) => Ok(()),
            Ok(Some(reused)) => Err(reused_at(reused)),
            Err(e) => Err(ImportError::Line {
                line: self.line,
                message: format!("the database refused the rows up to this line: {e}"),
            }),
        }
    }
}

/// The writer stopped before it told what became of a batch: a batch before it failed.
fn writer_stopped() -> Error {
    Error::Internal(anyhow::anyhow!("the import's writer stopped"))
}

/// The refusal of a moment whose `ref` an earlier moment of the file used.
pub(super) fn reused(reference: &str) -> Refused {
    Refused(format!("ref: {reference:?} is used by an earlier moment of this file"))
}

impl Importer {
    /// Starts checking an import inside `txn`, the checked rows going to the writer through
    /// `batches`: ids are given out after those in use.
    pub(super) async fn begin(
        txn: Arc<DatabaseTransaction>,
        batches: mpsc::Sender<Batch>,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let first_new_user = max_id(&*txn, "users").await? + 1;
        let next_tag = max_id(&*txn, "tags").await? + 1;
        let next_moment = max_id(&*txn, "moments").await? + 1;
        Refs::create(&*txn).await?;
        Ok(Self {
            txn,
            now,
            users: HashMap::new(),
            first_new_user,
            next_user: first_new_user,
            next_tag,
            next_moment,
            friends: HashMap::new(),
            tags: HashMap::new(),
            tags_read: HashSet::new(),
            refs: Refs::default(),
            line_number: 0,
            pending: Pending::default(),
            report: ImportReport::default(),
            batches,
            in_flight: VecDeque::new(),
            failure: None,
        })
    }

    /// Sends the waiting rows and refs, the lines up to `line`, to the writer once the batch before
    /// them is in: one batch is written while the next is checked, and no more wait in memory.
    pub(super) async fn flush(&mut self, line: usize) -> Result<(), ImportError> {
        self.settle().await?;
        let (done, outcome) = oneshot::channel();
        let batch = Batch { rows: std::mem::take(&mut self.pending), refs: self.refs.take(), done };
        if self.batches.send(batch).await.is_err() {
            // The writer stopped on a failed batch: that failure is the one to tell.
            self.settle().await?;
            return Err(writer_stopped().into());
        }
        self.in_flight.push_back(InFlight { line, outcome });
        Ok(())
    }

    /// Waits until every batch sent is in; why one failed, or why a check could not go on.
    pub(super) async fn settle(&mut self) -> Result<(), ImportError> {
        if let Some(failure) = self.failure.take() {
            return Err(failure);
        }
        while let Some(batch) = self.in_flight.pop_front() {
            batch.outcome().await?;
        }
        Ok(())
    }

    /// The transaction, once every batch sent is in. If one failed, the failure is kept for
    /// [`Importer::settle`] and the line stops here.
    async fn db(&mut self) -> Result<&DatabaseTransaction, Refused> {
        match self.settle().await {
            Ok(()) => Ok(&*self.txn),
            Err(failure) => {
                self.failure = Some(failure);
                refused("an earlier batch of rows could not be written")
            }
        }
    }

    async fn user(&mut self, handle: &str) -> Result<UserId, Refused> {
        if let Some(id) = self.users.get(handle) {
            return Ok(*id);
        }
        let found: Option<UserId> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Handle.eq(handle))
            .into_tuple()
            .one(self.db().await?)
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
                    .all(self.db().await?)
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
            return Err(not_a_friend(field, &format!("@{handle}")).into());
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
                .all(self.db().await?)
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

    /// Checks one line and keeps what it adds.
    pub(super) async fn line(&mut self, line: Line) -> Result<(), Refused> {
        match line {
            Line::User(u) => self.add_user(u).await,
            Line::Friendship(f) => self.add_friendship(f).await,
            Line::Tag(t) => self.add_tag(t).await,
            Line::Settings(s) => self.add_settings(s).await,
            Line::Moment(m) => self.add_moment(m).await,
            Line::Pin(p) => self.add_pin(p).await,
        }
    }

    /// A new user, with the default settings.
    async fn add_user(&mut self, u: UserLine) -> Result<(), Refused> {
        let handle = Handle::parse(&u.handle)?;
        let name = DisplayName::parse(&u.display_name)?;
        if self.users.contains_key(handle.as_str()) || self.user(handle.as_str()).await.is_ok() {
            return Err(Error::handle_taken(handle.as_str()).into());
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
        self.pending.users.push(users::Model {
            id,
            handle: handle.as_str().to_owned(),
            display_name: name.as_str().to_owned(),
            password_hash: hash,
            created_at: self.now,
        });
        self.pending.settings_of.insert(id, self.pending.settings.len());
        let settings = SettingsRecord::default();
        self.pending.settings.push(moments_settings::Model {
            user_id: id,
            visible_window: settings.visible_window.into(),
            strangers_can_view: settings.strangers_can_view,
        });
        self.report.users += 1;
        Ok(())
    }

    /// A friendship of two users, once (a pair already friends is left as it is).
    async fn add_friendship(&mut self, f: FriendshipLine) -> Result<(), Refused> {
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
            for (user_id, friend_id) in [(a, b), (b, a)] {
                self.pending.friendships.push(friendships::Model { user_id, friend_id, created_at: self.now });
            }
        }
        self.report.friendships += 1;
        Ok(())
    }

    /// A tag of its owner's friends.
    async fn add_tag(&mut self, t: TagLine) -> Result<(), Refused> {
        let owner = self.user(&t.owner).await?;
        let name = TagName::parse(&t.name)?;
        let members = self.handles(&t.members).await?;
        check_tag_size("members", members.len())?;
        self.require_friends(owner, &members, "members").await?;
        self.read_tags(owner).await?;
        let key = (owner, name.as_str().to_owned());
        if self.tags.contains_key(&key) {
            return refused(format!("name: @{} already has a tag named {:?}", t.owner, name.as_str()));
        }
        let id = self.next_tag;
        self.next_tag += 1;
        self.tags.insert(key, id);
        self.pending.tags.push(tags::Model {
            id,
            owner_id: owner,
            name: name.as_str().to_owned(),
            created_at: self.now,
        });
        self.pending.tag_members.extend(members.iter().map(|(_, m)| tag_members::Model { tag_id: id, user_id: *m }));
        self.report.tags += 1;
        Ok(())
    }

    /// A user's settings and hidden-from list.
    async fn add_settings(&mut self, s: SettingsLine) -> Result<(), Refused> {
        let user = self.user(&s.user).await?;
        let window = match s.visible_window.as_deref() {
            Some(raw) => Some(VisibleWindow::parse_as("visibleWindow", raw)?),
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
                if let Some(window) = window {
                    entry.visible_window = window.into();
                }
                entry.strangers_can_view = s.strangers_can_view.unwrap_or(entry.strangers_can_view);
            }
            None => {
                let txn = self.db().await?;
                store::users::update_settings(txn, user, window, s.strangers_can_view).await?;
            }
        }
        if let Some(hidden) = hidden {
            hidden_from::Entity::delete_many()
                .filter(hidden_from::Column::OwnerId.eq(user))
                .exec(self.db().await?)
                .await?;
            self.pending.hidden.retain(|row| row.owner_id != user);
            self.pending
                .hidden
                .extend(hidden.iter().map(|(_, h)| hidden_from::Model { owner_id: user, hidden_user_id: *h }));
        }
        self.report.settings += 1;
        Ok(())
    }

    /// A pin of a moment an earlier line of the file named by its `ref`.
    async fn add_pin(&mut self, p: PinLine) -> Result<(), Refused> {
        let moment = match self.refs.waiting(&p.moment) {
            Some(moment) => Some(moment),
            None => Refs::written(self.db().await?, &p.moment).await?,
        };
        let Some(moment) = moment else {
            return refused(format!("moment: no moment with ref {:?} earlier in this file", p.moment));
        };
        if !kind_is_pinnable(moment.kind.into()) {
            return refused(format!(
                "moment {:?} is {}: only moments with pictures or a video can be pinned",
                p.moment,
                rules::MomentKind::from(moment.kind)
            ));
        }
        let pinned_at = match &p.pinned_at {
            Some(raw) => time("pinnedAt", raw, self.now)?,
            None => self.now,
        };
        self.pending.pins.push(pins::Model {
            moment_id: moment.id,
            author_id: moment.author,
            pinned_at,
            posted_at: moment.posted_at,
        });
        self.report.pins += 1;
        Ok(())
    }

    /// A moment, its media and audience, and its `ref` for the pins of later lines.
    async fn add_moment(&mut self, m: MomentLine) -> Result<(), Refused> {
        let author = self.user(&m.author).await?;
        let content = m.content().parse()?;
        let posted_at = match &m.posted_at {
            Some(raw) => time("postedAt", raw, self.now)?,
            None => self.now,
        };
        let (audience, named_users, named_tags) = match &m.audience {
            None => (AudienceMode::Public, Vec::new(), Vec::new()),
            Some(a) => {
                let mode = AudienceMode::parse_as("audience.mode", &a.mode)?;
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
        self.pending.media.extend(content.media.iter().enumerate().map(|(position, item)| moment_media::Model {
            moment_id: id,
            position: position as i16,
            url: item.url.as_str().to_owned(),
            width: item.width,
            height: item.height,
        }));
        self.pending
            .audience_users
            .extend(named_users.iter().map(|u| moment_audience_users::Model { moment_id: id, user_id: *u }));
        self.pending
            .audience_tags
            .extend(named_tags.iter().map(|t| moment_audience_tags::Model { moment_id: id, tag_id: *t }));
        let (article_url, article_title) = content.article.map(|a| (a.url.as_str().to_owned(), a.title)).unzip();
        self.pending.moments.push(moments::Model {
            id,
            author_id: author,
            kind: content.kind.into(),
            text: content.text,
            article_url,
            article_title,
            audience_mode: audience.into(),
            posted_at,
        });
        if let Some(reference) = m.reference
            && !self.refs.add(
                reference.clone(),
                self.line_number,
                ImportedMoment { id, kind: content.kind.into(), author, posted_at },
            )
        {
            return Err(reused(&reference));
        }
        self.report.moments += 1;
        Ok(())
    }
}

/// The refusal of a ref used again, at the line that used it again.
pub(super) fn reused_at(r: Reused) -> ImportError {
    ImportError::Line { line: r.line, message: reused(&r.reference).0 }
}
