//! `moments serve --demo`: a small world, loaded through the importer into an empty database, with
//! times relative to now so every rule shows: friends and a stranger, a tag, every kind and audience,
//! a 3-day window, a user hidden from, and pins (one older than its owner's window, one private).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait as _, PaginatorTrait as _, sea_query::OnConflict};
use serde_json::{Value, json};

use store::entity::{server_secrets, users};

use crate::{
    error::{Error, Result},
    import::{ImportError, ImportReport, import_str},
    services::Services,
};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "moments-demo";
/// The user the demo signs in as.
pub const DEMO_VIEWER: &str = "alice";

fn ago(now: DateTime<Utc>, days: i64, hours: i64) -> String {
    (now - Duration::days(days) - Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn pictures(n: usize, tag: &str) -> Value {
    Value::Array(
        (1..=n)
            .map(
                |i| json!({"url": format!("https://picsum.photos/seed/{tag}{i}/800/600"), "width": 800, "height": 600}),
            )
            .collect(),
    )
}

/// The demo world as JSON Lines, with times relative to `now`.
pub fn world(now: DateTime<Utc>) -> String {
    let user = |handle: &str, name: &str| json!({"type": "user", "handle": handle, "displayName": name, "password": DEMO_PASSWORD});
    let mut lines = vec![
        user("alice", "Alice Chen"),
        user("bob", "Bob Li"),
        user("carol", "Carol Wang"),
        user("dave", "Dave Zhao"),
        user("erin", "Erin Sun"),
        json!({"type": "friendship", "users": ["alice", "bob"]}),
        json!({"type": "friendship", "users": ["alice", "carol"]}),
        json!({"type": "friendship", "users": ["alice", "dave"]}),
        json!({"type": "friendship", "users": ["bob", "carol"]}),
        json!({"type": "friendship", "users": ["bob", "erin"]}),
        json!({"type": "tag", "owner": "alice", "name": "family", "members": ["bob"]}),
        json!({"type": "settings", "user": "alice", "visibleWindow": "SIX_MONTHS", "strangersCanView": true, "hiddenFrom": []}),
        json!({"type": "settings", "user": "carol", "visibleWindow": "THREE_DAYS", "strangersCanView": false}),
        json!({"type": "settings", "user": "bob", "visibleWindow": "ALL", "hiddenFrom": ["dave"]}),
    ];
    let moment = |r: &str, author: &str, text: &str, posted: String| json!({"type": "moment", "ref": r, "author": author, "text": text, "postedAt": posted});
    let with = |mut m: Value, key: &str, value: Value| {
        m[key] = value;
        m
    };
    lines.extend([
        // alice: every kind and audience.
        with(
            moment("a1", "alice", "Our shop's opening hours and how to reach us", ago(now, 20, 0)),
            "images",
            pictures(6, "shop"),
        ),
        with(moment("a2", "alice", "Morning walk by the river", ago(now, 2, 3)), "images", pictures(3, "river")),
        with(
            with(
                moment("a3", "alice", "Grandma's birthday", ago(now, 5, 0)),
                "video",
                json!({"url": "https://videos.example/birthday.mp4", "width": 1280, "height": 720}),
            ),
            "audience",
            json!({"mode": "INCLUDE", "tags": ["family"]}),
        ),
        moment("a4", "alice", "Back from the trip, more pictures soon!", ago(now, 1, 0)),
        with(
            with(
                moment("a5", "alice", "Worth reading", ago(now, 9, 0)),
                "article",
                json!({"url": "https://news.example/pinning", "title": "Why pin a Moment?"}),
            ),
            "audience",
            json!({"mode": "EXCLUDE", "users": ["carol"]}),
        ),
        with(
            with(moment("a6", "alice", "Notes to self: the new flat", ago(now, 30, 0)), "images", pictures(2, "flat")),
            "audience",
            json!({"mode": "PRIVATE"}),
        ),
        with(moment("a7", "alice", "Graduation day", ago(now, 220, 0)), "images", pictures(9, "grad")),
        // carol: a 3-day window; her pinned moment is far older and friends still see it.
        with(moment("c1", "carol", "My studio, open for visits", ago(now, 40, 0)), "images", pictures(4, "studio")),
        moment("c2", "carol", "Busy week", ago(now, 1, 2)),
        with(moment("c3", "carol", "Sketches from the park", ago(now, 10, 0)), "images", pictures(2, "park")),
        // bob and erin.
        with(moment("b1", "bob", "New bike!", ago(now, 3, 5)), "images", pictures(1, "bike")),
        moment("b2", "bob", "Anyone up for dinner tonight?", ago(now, 0, 4)),
        with(
            moment("e1", "erin", "Skating", ago(now, 6, 0)),
            "video",
            json!({"url": "https://videos.example/skate.mp4"}),
        ),
        json!({"type": "pin", "moment": "a1"}),
        json!({"type": "pin", "moment": "a6"}),
        json!({"type": "pin", "moment": "a7"}),
        json!({"type": "pin", "moment": "c1"}),
    ]);
    lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
}

/// The row of `server_secrets` that says the database holds the demo world, loaded by
/// `serve --demo`: its value is when.
pub const DEMO_MARK: &str = "demo_world";

/// What `serve --demo` found.
#[derive(Debug)]
pub enum DemoStart {
    /// The database was empty: the demo world was loaded into it now.
    Loaded(ImportReport),
    /// The database is the demo's own (an earlier `serve --demo` loaded it): it is used as it is.
    Again {
        /// When the demo world was loaded.
        loaded_at: String,
    },
    /// The database has users of its own: it is left alone, and no one is signed in.
    NotDemo,
}

/// Loads the demo world when the database has no users, and marks the database as the demo's.
pub async fn load_if_empty(services: &Services) -> Result<DemoStart, ImportError> {
    let db = &services.db;
    let mark = server_secrets::Entity::find_by_id(DEMO_MARK.to_owned()).one(&db.read).await.map_err(Error::from)?;
    if let Some(mark) = mark {
        return Ok(DemoStart::Again { loaded_at: mark.value });
    }
    let existing = users::Entity::find().count(&db.read).await.map_err(Error::from)?;
    if existing > 0 {
        return Ok(DemoStart::NotDemo);
    }
    let now = services.clock.now();
    let report = import_str(db, &world(now), now).await?;
    server_secrets::Entity::insert(server_secrets::ActiveModel {
        name: Set(DEMO_MARK.to_owned()),
        value: Set(now.to_rfc3339_opts(SecondsFormat::Secs, true)),
        created_at: Set(now),
    })
    .on_conflict(OnConflict::column(server_secrets::Column::Name).do_nothing().to_owned())
    .exec_without_returning(&db.write)
    .await
    .map_err(Error::from)?;
    Ok(DemoStart::Loaded(report))
}

/// A token for the demo viewer, if that user exists.
pub async fn viewer_token(services: &Services) -> Result<Option<String>> {
    match store::users::by_handle(&services.db.read, DEMO_VIEWER).await? {
        Some(user) => Ok(Some(services.keys.issue_now(user.id)?)),
        None => Ok(None),
    }
}
