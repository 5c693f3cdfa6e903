//! A reference world built from import lines, with the names the lines use: the pure rules of
//! `rules::visibility::reference` answer each listing, to be compared with the API's.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use moments::ids::{self, NodeKind};
use rules::{
    AudienceMode, MomentKind, VisibleWindow,
    model::{MomentId, UserId},
    visibility::reference::{Moment, Settings, World},
};
use sea_orm::{EntityTrait as _, QueryOrder as _};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A reference world and the names of its users and moments.
#[derive(Debug, Default)]
pub struct NamedWorld {
    /// The world the rules read.
    pub world: World,
    /// Handle → id.
    pub users: HashMap<String, UserId>,
    /// Moment id → its name (`ref`, or the text when there is no ref).
    pub names: HashMap<MomentId, String>,
    /// Moment name → id.
    pub ids: HashMap<String, MomentId>,
}

fn kind_of(record: &Value) -> MomentKind {
    if record.get("images").is_some() {
        MomentKind::Images
    } else if record.get("video").is_some() {
        MomentKind::Video
    } else if record.get("article").is_some() {
        MomentKind::Article
    } else {
        MomentKind::Text
    }
}

/// The name a listing shows for a moment: the part of its text before " by ".
pub fn name_of(moment: &Value) -> String {
    moment["text"].as_str().unwrap_or_default().split(" by ").next().unwrap_or_default().to_owned()
}

/// Builds the reference for lines that `app` has just imported (ids are read back from the database).
pub async fn reference_from_import(app: &TestApp, lines: &[String]) -> NamedWorld {
    let moment_ids: Vec<i64> = store::entity::moments::Entity::find()
        .order_by_asc(store::entity::moments::Column::Id)
        .all(&app.services.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut next_moment = moment_ids.into_iter();
    let mut named = NamedWorld::default();
    let mut tags: HashMap<(UserId, String), i64> = HashMap::new();
    let now = app.clock.now();
    for line in lines {
        let r: Value = serde_json::from_str(line).unwrap();
        let handle = |v: &Value| v.as_str().unwrap().to_owned();
        match r["type"].as_str().unwrap() {
            "user" => {
                let h = handle(&r["handle"]);
                let id = app.id_of(&h).await;
                named.users.insert(h, id);
                named.world.users.push(id);
            }
            "friendship" => {
                let (a, b) = (named.users[&handle(&r["users"][0])], named.users[&handle(&r["users"][1])]);
                named.world.befriend(a, b);
            }
            "tag" => {
                let owner = named.users[&handle(&r["owner"])];
                let id = tags.len() as i64 + 1;
                tags.insert((owner, handle(&r["name"])), id);
                let members = r["members"]
                    .as_array()
                    .map_or_else(HashSet::new, |list| list.iter().map(|m| named.users[&handle(m)]).collect());
                named.world.tags.insert(id, (owner, members));
            }
            "settings" => {
                let user = named.users[&handle(&r["user"])];
                let entry = named.world.settings.entry(user).or_insert_with(Settings::default);
                if let Some(w) = r["visibleWindow"].as_str() {
                    entry.window = VisibleWindow::parse(w).unwrap();
                }
                if let Some(s) = r["strangersCanView"].as_bool() {
                    entry.strangers_can_view = s;
                }
                if let Some(hidden) = r["hiddenFrom"].as_array() {
                    named.world.hidden.retain(|(owner, _)| *owner != user);
                    for h in hidden {
                        named.world.hidden.insert((user, named.users[&handle(h)]));
                    }
                }
            }
            "moment" => {
                let author = named.users[&handle(&r["author"])];
                let id = next_moment.next().expect("a moment row for every moment line");
                let audience = &r["audience"];
                let moment = Moment {
                    id,
                    author,
                    kind: kind_of(&r),
                    posted_at: r["postedAt"].as_str().map_or(now, |t| t.parse::<DateTime<Utc>>().unwrap()),
                    audience: audience["mode"]
                        .as_str()
                        .map_or(AudienceMode::Public, |m| AudienceMode::parse(m).unwrap()),
                    audience_users: audience["users"]
                        .as_array()
                        .map_or_else(HashSet::new, |l| l.iter().map(|u| named.users[&handle(u)]).collect()),
                    audience_tags: audience["tags"]
                        .as_array()
                        .map_or_else(HashSet::new, |l| l.iter().map(|t| tags[&(author, handle(t))]).collect()),
                    pinned: false,
                };
                let name = r["ref"].as_str().map_or_else(|| name_of(&r), str::to_owned);
                named.names.insert(id, name.clone());
                named.ids.insert(name, id);
                named.world.moments.push(moment);
            }
            "pin" => {
                let id = named.ids[&handle(&r["moment"])];
                named.world.moments.iter_mut().find(|m| m.id == id).unwrap().pinned = true;
            }
            other => panic!("unknown record type {other}"),
        }
    }
    named
}

impl NamedWorld {
    fn names(&self, ids: Vec<MomentId>) -> Vec<String> {
        ids.into_iter().map(|id| self.names[&id].clone()).collect()
    }

    /// The reference timeline, by name.
    pub fn timeline(&self, viewer: &str, author: &str, now: DateTime<Utc>, exclude_pinned: bool) -> Vec<String> {
        self.names(self.world.timeline(self.users[viewer], self.users[author], now, exclude_pinned))
    }

    /// The reference pinned list, by name.
    pub fn pinned(&self, viewer: &str, author: &str) -> Vec<String> {
        self.names(self.world.pinned(self.users[viewer], self.users[author]))
    }

    /// The reference feed, by name.
    pub fn feed(&self, viewer: &str, now: DateTime<Utc>) -> Vec<String> {
        self.names(self.world.feed(self.users[viewer], now))
    }

    /// The reference answer of `moment(id)` for every moment, by name, sorted.
    pub fn visible(&self, viewer: &str, now: DateTime<Utc>) -> Vec<String> {
        let mut list: Vec<String> = self
            .world
            .moments
            .iter()
            .filter(|m| self.world.visible(self.users[viewer], m.id, now))
            .map(|m| self.names[&m.id].clone())
            .collect();
        list.sort();
        list
    }

    /// What `moment(id)` resolves for `token`, asked for every moment of the world in one request.
    pub async fn visible_by_moment_query(&self, app: &TestApp, token: &str) -> Vec<String> {
        let mut ids: Vec<MomentId> = self.names.keys().copied().collect();
        ids.sort();
        let mut seen = Vec::new();
        for chunk in ids.chunks(200) {
            let fields: String = chunk
                .iter()
                .map(|id| format!("m{id}: moment(id: \"{}\") {{ id }}\n", ids::encode(NodeKind::Moment, *id)))
                .collect();
            let data = app.ok(token, &format!("{{ {fields} }}"), json!({})).await;
            for id in chunk {
                if !data[format!("m{id}")].is_null() {
                    seen.push(self.names[id].clone());
                }
            }
        }
        seen
    }
}
