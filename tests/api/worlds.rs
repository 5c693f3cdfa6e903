//! Random worlds for property tests: users, friendships, tags, settings of every window, hidden-from
//! lists, and moments of every kind, audience and age (minutes to a year, window boundaries to the
//! second, ties), some pinned and some deleted. A world prints as the JSON Lines that load it.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_now};

/// A moment of a generated world.
#[derive(Clone, Debug)]
pub struct MomentSpec {
    /// Index of the author.
    pub author: usize,
    /// 0 text, 1 pictures, 2 video, 3 article.
    pub kind: u8,
    /// When, relative to the test's now.
    pub age: Age,
    /// 0 public, 1 private, 2 include, 3 exclude.
    pub audience: u8,
    /// Indices of users named (kept only if friends of the author).
    pub users: Vec<usize>,
    /// Indices of the author's tags named.
    pub tags: Vec<usize>,
    /// Pinned (kept only for pictures and video).
    pub pinned: bool,
    /// Deleted by its author after the import.
    pub deleted: bool,
}

/// How old a moment is.
#[derive(Clone, Copy, Debug)]
pub enum Age {
    /// This many minutes before now.
    Minutes(i64),
    /// At a window boundary (0: 72 hours, 1: one month, 2: six months) plus `offset` seconds.
    Boundary(u8, i64),
    /// One of a few shared times, so that moments tie on `postedAt`.
    Shared(u8),
}

/// A generated world.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    /// How many users.
    pub users: usize,
    /// Friend pairs.
    pub friends: Vec<(usize, usize)>,
    /// Tags: owner and members (kept only if friends).
    pub tags: Vec<(usize, Vec<usize>)>,
    /// Per user: window (0–3), strangers may view, users hidden from.
    pub settings: Vec<(u8, bool, Vec<usize>)>,
    /// Moments in creation order.
    pub moments: Vec<MomentSpec>,
}

fn age() -> impl Strategy<Value = Age> {
    prop_oneof![
        4 => (1i64..=525_600).prop_map(Age::Minutes),
        2 => (0u8..3, prop_oneof![Just(-1i64), Just(0), Just(1)]).prop_map(|(w, o)| Age::Boundary(w, o)),
        1 => (0u8..3).prop_map(Age::Shared),
    ]
}

/// Worlds of 2 to `max_users` users and up to `max_moments` moments.
pub fn world(max_users: usize, max_moments: usize) -> impl Strategy<Value = WorldSpec> {
    (2..=max_users).prop_flat_map(move |n| {
        let index = 0..n;
        let moment = (
            index.clone(),
            0u8..4,
            age(),
            0u8..4,
            prop::collection::vec(0..n, 0..3),
            prop::collection::vec(0usize..2, 0..2),
            prop::bool::weighted(0.4),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(author, kind, age, audience, users, tags, pinned, deleted)| MomentSpec {
                author,
                kind,
                age,
                audience,
                users,
                tags,
                pinned,
                deleted,
            });
        (
            Just(n),
            prop::collection::vec((index.clone(), index.clone()), 0..n * 2),
            prop::collection::vec((index.clone(), prop::collection::vec(index.clone(), 0..3)), 0..n),
            prop::collection::vec((0u8..4, prop::bool::weighted(0.5), prop::collection::vec(index.clone(), 0..2)), n),
            prop::collection::vec(moment, 0..=max_moments),
        )
            .prop_map(|(users, friends, tags, settings, moments)| WorldSpec {
                users,
                friends,
                tags,
                settings,
                moments,
            })
    })
}

/// The handle of user `i`.
pub fn handle(i: usize) -> String {
    format!("u{i:02}")
}

const WINDOWS: [&str; 4] = ["ALL", "SIX_MONTHS", "ONE_MONTH", "THREE_DAYS"];
const MODES: [&str; 4] = ["PUBLIC", "PRIVATE", "INCLUDE", "EXCLUDE"];

fn time(age: Age, now: DateTime<Utc>) -> DateTime<Utc> {
    match age {
        Age::Minutes(m) => now - Duration::minutes(m),
        Age::Boundary(w, offset) => {
            let edge = match w {
                0 => now - Duration::hours(72),
                1 => now.checked_sub_months(Months::new(1)).unwrap(),
                _ => now.checked_sub_months(Months::new(6)).unwrap(),
            };
            edge + Duration::seconds(offset)
        }
        Age::Shared(k) => now - Duration::hours(5 + i64::from(k) * 24 * 40),
    }
}

impl WorldSpec {
    /// The friend pairs that are real (two different users), both directions.
    pub fn friendships(&self) -> HashSet<(usize, usize)> {
        self.friends.iter().filter(|(a, b)| a != b).flat_map(|&(a, b)| [(a, b), (b, a)]).collect()
    }

    /// The tags of each user, in order, with their members that are friends.
    fn tags_of(&self, owner: usize) -> Vec<(String, Vec<usize>)> {
        let friends = self.friendships();
        self.tags
            .iter()
            .filter(|(o, _)| *o == owner)
            .enumerate()
            .map(|(k, (_, members))| {
                let mut kept: Vec<usize> = members.iter().copied().filter(|m| friends.contains(&(owner, *m))).collect();
                kept.sort();
                kept.dedup();
                (format!("t{k}"), kept)
            })
            .collect()
    }

    /// Whether moment `i` survives the rules of the format (pins only on pictures and video).
    pub fn pinned(&self, i: usize) -> bool {
        let m = &self.moments[i];
        m.pinned && matches!(m.kind, 1 | 2)
    }

    /// The world as import lines, at `now`.
    pub fn lines(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut out: Vec<Value> = Vec::new();
        for i in 0..self.users {
            out.push(json!({ "type": "user", "handle": handle(i), "displayName": format!("User {i}") }));
        }
        let mut pairs: Vec<(usize, usize)> = self.friendships().into_iter().filter(|(a, b)| a < b).collect();
        pairs.sort();
        for (a, b) in pairs {
            out.push(json!({ "type": "friendship", "users": [handle(a), handle(b)] }));
        }
        for owner in 0..self.users {
            for (name, members) in self.tags_of(owner) {
                let members: Vec<String> = members.into_iter().map(handle).collect();
                out.push(json!({ "type": "tag", "owner": handle(owner), "name": name, "members": members }));
            }
        }
        for (i, (window, strangers, hidden)) in self.settings.iter().enumerate() {
            let mut hidden: Vec<usize> = hidden.iter().copied().filter(|h| *h != i).collect();
            hidden.sort();
            hidden.dedup();
            let hidden: Vec<String> = hidden.into_iter().map(handle).collect();
            out.push(json!({
                "type": "settings", "user": handle(i), "visibleWindow": WINDOWS[*window as usize],
                "strangersCanView": strangers, "hiddenFrom": hidden,
            }));
        }
        let friends = self.friendships();
        for (i, m) in self.moments.iter().enumerate() {
            let mut line = json!({
                "type": "moment", "ref": format!("m{i}"), "author": handle(m.author), "text": format!("m{i}"),
                "postedAt": time(m.age, now).to_rfc3339_opts(SecondsFormat::Secs, true),
            });
            match m.kind {
                1 => {
                    line["images"] = json!([{ "url": format!("https://img.example/{i}.jpg"), "width": 4, "height": 3 }])
                }
                2 => line["video"] = json!({ "url": format!("https://img.example/{i}.mp4") }),
                3 => line["article"] = json!({ "url": format!("https://news.example/{i}"), "title": format!("t{i}") }),
                _ => {}
            }
            let mut users: Vec<usize> = m.users.iter().copied().filter(|u| friends.contains(&(m.author, *u))).collect();
            users.sort();
            users.dedup();
            let own_tags = self.tags_of(m.author);
            let mut tags: Vec<String> =
                m.tags.iter().filter_map(|t| own_tags.get(*t).map(|(n, _)| n.clone())).collect();
            tags.sort();
            tags.dedup();
            let mode = MODES[m.audience as usize];
            let listed = matches!(mode, "INCLUDE" | "EXCLUDE");
            if listed && (users.is_empty() && tags.is_empty()) {
                // A list mode needs a name; without a friend to name it stays public.
            } else if listed {
                let users: Vec<String> = users.into_iter().map(handle).collect();
                line["audience"] = json!({ "mode": mode, "users": users, "tags": tags });
            } else if mode == "PRIVATE" {
                line["audience"] = json!({ "mode": "PRIVATE" });
            }
            out.push(line);
        }
        for i in 0..self.moments.len() {
            if self.pinned(i) {
                out.push(json!({ "type": "pin", "moment": format!("m{i}") }));
            }
        }
        out.into_iter().map(|v| v.to_string()).collect()
    }
}

/// Empties every table but the migrations' and the secret, so one database serves many worlds.
pub async fn reset(app: &TestApp) {
    use sea_orm::ConnectionTrait as _;
    for table in [
        "removed_moment_listed",
        "removed_moments",
        "pins",
        "moment_audience_tags",
        "moment_audience_users",
        "moment_media",
        "moments",
        "tag_members",
        "tags",
        "friendships",
        "friend_requests",
        "hidden_from",
        "moments_settings",
        "users",
    ] {
        app.services.db.write.execute_unprepared(&format!("DELETE FROM {table}")).await.unwrap();
    }
    app.clock.set(test_now());
}

/// How many cases a property runs: `MOMENTS_PROPTEST_CASES`, or `sqlite` / `postgres` by database.
pub fn cases(sqlite: u32, postgres: u32) -> u32 {
    std::env::var("MOMENTS_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if crate::helpers::on_postgres() { postgres } else { sqlite })
}
