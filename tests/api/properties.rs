//! Property tests: on random worlds, every listing the API gives equals what the pure reference
//! computes (timeline pages, pinned, feed pages, moment(id)), and a deleted moment is told to
//! exactly those the reference let see it; and metamorphic checks: hiding, narrowing an audience
//! or shortening a window never makes anything newly visible.

use std::collections::BTreeSet;

use moments::{
    domain::{AudienceMode, VisibleWindow},
    entity::{moment_audience_tags, moment_audience_users, moments as moment_rows, tag_members, tags},
    store,
};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    reference_from_import,
    world::{NamedWorld, name_of},
    worlds::{self, WorldSpec, cases, handle, reset},
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 2_000, ..Config::default() })
}

/// Loads a world into the (emptied) database: imports it, deletes the moments marked deleted, and
/// returns the reference with the same moments gone.
async fn load(app: &TestApp, spec: &WorldSpec) -> (Vec<String>, NamedWorld) {
    reset(app).await;
    let lines = spec.lines(app.clock.now());
    app.import(&lines.join("\n")).await;
    let mut reference = reference_from_import(app, &lines).await;
    for (i, m) in spec.moments.iter().enumerate() {
        if m.deleted {
            let id = reference.ids[&format!("m{i}")];
            let author = reference.users[&handle(m.author)];
            store::moments::delete(&app.services.db.write, author, id, app.clock.now()).await.unwrap();
            reference.world.moments.retain(|x| x.id != id);
        }
    }
    (lines, reference)
}

/// Every page of a connection at `path` (`profile.timeline` or `feed`), followed through cursors.
async fn all_pages(app: &TestApp, token: &str, query: &str, mut variables: Value, path: &[&str]) -> Vec<String> {
    let page = variables["k"].as_u64().unwrap() as usize;
    let mut out = Vec::new();
    loop {
        let mut conn = app.ok(token, query, variables.clone()).await;
        for key in path {
            conn = conn[*key].take();
        }
        let nodes: Vec<String> = conn["nodes"].as_array().unwrap().iter().map(name_of).collect();
        assert!(nodes.len() <= page);
        out.extend(nodes);
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        variables["a"] = conn["pageInfo"]["endCursor"].clone();
    }
}

async fn paged(app: &TestApp, token: &str, author: &str, page: usize, exclude_pinned: bool) -> Vec<String> {
    let query = "query($h: String!, $k: Int!, $a: String, $x: Boolean) { profile(handle: $h) { timeline(first: $k, after: $a, excludePinned: $x) { nodes { text } pageInfo { hasNextPage endCursor } } } }";
    let variables = json!({ "h": author, "k": page, "a": null, "x": exclude_pinned });
    all_pages(app, token, query, variables, &["profile", "timeline"]).await
}

async fn paged_feed(app: &TestApp, token: &str, page: usize) -> Vec<String> {
    let query = "query($k: Int!, $a: String) { feed(first: $k, after: $a) { nodes { text } pageInfo { hasNextPage endCursor } } }";
    all_pages(app, token, query, json!({ "k": page, "a": null }), &["feed"]).await
}

async fn pinned(app: &TestApp, token: &str, author: &str) -> Vec<String> {
    let data =
        app.ok(token, "query($h: String!) { profile(handle: $h) { pinned { text } } }", json!({ "h": author })).await;
    data["profile"]["pinned"].as_array().unwrap().iter().map(name_of).collect()
}

fn differ(what: &str, lines: &[String], api: &[String], reference: &[String]) -> TestCaseError {
    TestCaseError::fail(format!(
        "{what}\n  API:       {api:?}\n  reference: {reference:?}\nthe world, as JSON Lines:\n{}",
        lines.join("\n")
    ))
}

async fn check_world(app: &TestApp, spec: &WorldSpec, pages: &[usize]) -> Result<(), TestCaseError> {
    let (lines, reference) = load(app, spec).await;
    let now = app.clock.now();
    for v in 0..spec.users {
        let viewer = handle(v);
        let token = app.token(reference.users[&viewer]);
        for a in 0..spec.users {
            let author = handle(a);
            let page = pages[(v + a) % pages.len()];
            let want = reference.timeline(&viewer, &author, now, false);
            let got = paged(app, &token, &author, page, false).await;
            if got != want {
                return Err(differ(
                    &format!("timeline of {author} for {viewer}, pages of {page}"),
                    &lines,
                    &got,
                    &want,
                ));
            }
            let whole = paged(app, &token, &author, 100, false).await;
            if whole != got {
                return Err(differ(
                    &format!("first:{page} pages and one first:100 page differ ({author} for {viewer})"),
                    &lines,
                    &got,
                    &whole,
                ));
            }
            let want = reference.timeline(&viewer, &author, now, true);
            let got = paged(app, &token, &author, page, true).await;
            if got != want {
                return Err(differ(&format!("timeline(excludePinned) of {author} for {viewer}"), &lines, &got, &want));
            }
            let want = reference.pinned(&viewer, &author);
            let got = pinned(app, &token, &author).await;
            if got != want {
                return Err(differ(&format!("pinned of {author} for {viewer}"), &lines, &got, &want));
            }
        }
        let page = pages[v % pages.len()];
        let want = reference.feed(&viewer, now);
        let got = paged_feed(app, &token, page).await;
        if got != want {
            return Err(differ(&format!("feed of {viewer}, pages of {page}"), &lines, &got, &want));
        }
        let want = reference.visible(&viewer, now);
        let mut got = reference.visible_by_moment_query(app, &token).await;
        got.sort();
        if got != want {
            return Err(differ(&format!("moment(id) for {viewer}"), &lines, &got, &want));
        }
    }
    Ok(())
}

#[test]
fn every_listing_equals_the_reference_on_random_worlds() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let strategy = (worlds::world(5, 16), prop::collection::vec(1usize..=7, 1..4));
    let result =
        runner(cases(1_000, 120)).run(&strategy, |(spec, pages)| rt.block_on(check_world(&app, &spec, &pages)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Every user of the world, by handle in order, with their id.
fn viewers_of(reference: &NamedWorld) -> Vec<(String, moments::domain::UserId)> {
    let mut viewers: Vec<_> = reference.users.iter().map(|(h, &id)| (h.clone(), id)).collect();
    viewers.sort();
    viewers
}

/// The names of `author`'s moments the reference lets `viewer` see at `now`.
fn shown_to(
    reference: &NamedWorld,
    author: moments::domain::UserId,
    viewer: moments::domain::UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> BTreeSet<String> {
    let world = &reference.world;
    world
        .moments
        .iter()
        .filter(|m| m.author == author && world.visible(viewer, m.id, now))
        .map(|m| reference.names[&m.id].clone())
        .collect()
}

/// Deletes every moment of the world one by one, newest first or not as the world lists them:
/// each deleted moment is told (by the facts kept of it) to exactly the viewers the reference
/// lets see it just before, and to no one else.
async fn check_removals(app: &TestApp, spec: &WorldSpec) -> Result<(), TestCaseError> {
    let (lines, mut reference) = load(app, spec).await;
    let now = app.clock.now();
    let db = &app.services.db.write;
    let viewers = viewers_of(&reference);
    let deletions: Vec<_> = reference.world.moments.iter().map(|m| (m.id, m.author)).collect();
    for (id, author) in deletions {
        let could: Vec<String> =
            viewers.iter().filter(|(_, v)| reference.world.visible(*v, id, now)).map(|(h, _)| h.clone()).collect();
        store::moments::delete(db, author, id, now).await.unwrap();
        reference.world.moments.retain(|m| m.id != id);
        let mut told = Vec::new();
        for (handle, viewer) in &viewers {
            if store::removals::was_visible(db, *viewer, author, id, now).await.unwrap() {
                told.push(handle.clone());
            }
        }
        if told != could {
            return Err(differ(&format!("who is told {} was deleted", reference.names[&id]), &lines, &told, &could));
        }
    }
    Ok(())
}

#[test]
fn a_deleted_moment_is_told_to_exactly_those_who_could_see_it() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let result = runner(cases(1_000, 120)).run(&worlds::world(5, 16), |spec| rt.block_on(check_removals(&app, &spec)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Adds and takes each friend of each tag's owner to and from the tag in turn: the change is
/// told to the friend exactly when it changes which of the owner's moments the reference lets
/// them see.
async fn check_tag_changes(app: &TestApp, spec: &WorldSpec) -> Result<(), TestCaseError> {
    let (lines, mut reference) = load(app, spec).await;
    let now = app.clock.now();
    let db = &app.services.db.write;
    // Tags are stored in the order the world lists them, as the reference numbers them.
    let stored: Vec<i64> =
        tags::Entity::find().order_by_asc(tags::Column::Id).all(db).await.unwrap().iter().map(|t| t.id).collect();
    let mut numbered: Vec<_> = reference.world.tags.keys().copied().collect();
    numbered.sort_unstable();
    let viewers = viewers_of(&reference);
    for (number, tag) in numbered.into_iter().zip(stored) {
        let owner = reference.world.tags[&number].0;
        for (handle, viewer) in &viewers {
            if !reference.world.friends.contains(&(owner, *viewer)) {
                continue;
            }
            let before = shown_to(&reference, owner, *viewer, now);
            let members = &mut reference.world.tags.get_mut(&number).unwrap().1;
            if members.remove(viewer) {
                tag_members::Entity::delete_many()
                    .filter(tag_members::Column::TagId.eq(tag))
                    .filter(tag_members::Column::UserId.eq(*viewer))
                    .exec(db)
                    .await
                    .unwrap();
            } else {
                members.insert(*viewer);
                tag_members::Entity::insert(tag_members::ActiveModel { tag_id: Set(tag), user_id: Set(*viewer) })
                    .exec_without_returning(db)
                    .await
                    .unwrap();
            }
            let after = shown_to(&reference, owner, *viewer, now);
            let access = store::access::access(db, *viewer, owner).await.unwrap().unwrap();
            let told = store::audiences::tag_changes_view(db, &access, tag, now).await.unwrap();
            if told != (before != after) {
                let what = format!("whether {handle} is told of the change to tag {number}: {told}");
                let (before, after): (Vec<_>, Vec<_>) = (before.into_iter().collect(), after.into_iter().collect());
                return Err(differ(&what, &lines, &before, &after));
            }
        }
    }
    Ok(())
}

#[test]
fn joining_or_leaving_a_tag_is_told_exactly_when_it_changes_what_the_member_sees() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let result =
        runner(cases(1_000, 120)).run(&worlds::world(5, 16), |spec| rt.block_on(check_tag_changes(&app, &spec)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// One change of rights: an author's window or strangers' access, or a hide or friendship
/// between an author and another user toggled.
#[derive(Clone, Debug)]
enum RightsChange {
    Window(usize, u8),
    Strangers(usize, bool),
    Hide(usize, usize),
    Friend(usize, usize),
}

fn rights_change(users: usize) -> impl Strategy<Value = RightsChange> {
    let user = 0..users;
    prop_oneof![
        (user.clone(), 0u8..4).prop_map(|(a, w)| RightsChange::Window(a, w)),
        (user.clone(), any::<bool>()).prop_map(|(a, b)| RightsChange::Strangers(a, b)),
        (user.clone(), user.clone()).prop_map(|(a, v)| RightsChange::Hide(a, v)),
        (user.clone(), user).prop_map(|(a, v)| RightsChange::Friend(a, v)),
    ]
}

/// Applies changes of rights one after another: each is told to a viewer exactly when it changes
/// which of the author's moments the reference lets them see (`view_differs` between the rights
/// read before and after).
async fn check_rights_changes(app: &TestApp, spec: &WorldSpec, changes: &[RightsChange]) -> Result<(), TestCaseError> {
    use moments::domain::{UserId, VisibleWindow as W, visibility::reference::Settings};
    let (lines, mut reference) = load(app, spec).await;
    let now = app.clock.now();
    let db = &app.services.db.write;
    let id = |i: usize| reference.users[&handle(i)];
    let ids: Vec<UserId> = (0..spec.users).map(id).collect();
    for change in changes {
        let (author, others): (UserId, Vec<UserId>) = match *change {
            RightsChange::Window(a, _) | RightsChange::Strangers(a, _) => (ids[a], ids.clone()),
            RightsChange::Hide(a, v) | RightsChange::Friend(a, v) if a != v => (ids[a], vec![ids[v]]),
            _ => continue,
        };
        let mut before = Vec::new();
        for &viewer in &others {
            before.push((
                shown_to(&reference, author, viewer, now),
                store::access::access(db, viewer, author).await.unwrap().unwrap(),
            ));
        }
        let settings = reference.world.settings.entry(author).or_insert_with(Settings::default);
        match *change {
            RightsChange::Window(_, w) => {
                let window = [W::All, W::SixMonths, W::OneMonth, W::ThreeDays][usize::from(w)];
                settings.window = window;
                store::users::update_settings(db, author, Some(window), None).await.unwrap();
            }
            RightsChange::Strangers(_, can) => {
                settings.strangers_can_view = can;
                store::users::update_settings(db, author, None, Some(can)).await.unwrap();
            }
            RightsChange::Hide(_, v) => {
                let pair = (author, ids[v]);
                let hide = !reference.world.hidden.remove(&pair);
                if hide {
                    reference.world.hidden.insert(pair);
                }
                store::social::set_hidden(db, author, ids[v], hide).await.unwrap();
            }
            RightsChange::Friend(_, v) => {
                let (a, b) = (author, ids[v]);
                if reference.world.friends.remove(&(a, b)) {
                    reference.world.friends.remove(&(b, a));
                    store::social::remove_friend(db, a, b).await.unwrap();
                } else {
                    reference.world.friends.extend([(a, b), (b, a)]);
                    store::social::befriend(db, a, b, now).await.unwrap();
                }
            }
        }
        for (&viewer, (seen_before, old)) in others.iter().zip(before) {
            let new = store::access::access(db, viewer, author).await.unwrap().unwrap();
            let told = store::lists::view_differs(db, &old, &new, now).await.unwrap();
            let seen_after = shown_to(&reference, author, viewer, now);
            if told != (seen_before != seen_after) {
                let what = format!("whether viewer {viewer} is told of {change:?}: {told}");
                let (b, a): (Vec<_>, Vec<_>) = (seen_before.into_iter().collect(), seen_after.into_iter().collect());
                return Err(differ(&what, &lines, &b, &a));
            }
        }
    }
    Ok(())
}

#[test]
fn a_change_of_rights_is_told_exactly_when_it_changes_what_the_viewer_sees() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let strategy = worlds::world(5, 16).prop_flat_map(|spec| {
        let users = spec.users;
        (Just(spec), prop::collection::vec(rights_change(users), 1..6))
    });
    let result = runner(cases(600, 80))
        .run(&strategy, |(spec, changes)| rt.block_on(check_rights_changes(&app, &spec, &changes)));
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Everything each viewer can reach: timeline, pinned and feed entries, and moment(id).
async fn everything_visible(app: &TestApp, reference: &NamedWorld, users: usize) -> Vec<BTreeSet<String>> {
    let mut out = Vec::new();
    for v in 0..users {
        let viewer = handle(v);
        let token = app.token(reference.users[&viewer]);
        let mut seen = BTreeSet::new();
        for a in 0..users {
            seen.extend(paged(app, &token, &handle(a), 100, false).await.into_iter().map(|m| format!("timeline:{m}")));
            seen.extend(pinned(app, &token, &handle(a)).await.into_iter().map(|m| format!("pinned:{m}")));
        }
        seen.extend(paged_feed(app, &token, 100).await.into_iter().map(|m| format!("feed:{m}")));
        seen.extend(reference.visible_by_moment_query(app, &token).await.into_iter().map(|m| format!("moment:{m}")));
        out.push(seen);
    }
    out
}

fn not_wider(
    before: &[BTreeSet<String>],
    after: &[BTreeSet<String>],
    change: &str,
    lines: &[String],
) -> Result<(), TestCaseError> {
    for (v, (b, a)) in before.iter().zip(after).enumerate() {
        let new: Vec<&String> = a.difference(b).collect();
        if !new.is_empty() {
            return Err(TestCaseError::fail(format!(
                "{change} made {new:?} newly visible to {}\nthe world, as JSON Lines:\n{}",
                handle(v),
                lines.join("\n")
            )));
        }
    }
    Ok(())
}

/// One change that may only take visibility away.
#[derive(Clone, Debug)]
enum Narrowing {
    /// `owner` hides their moments from `user`.
    Hide { owner: usize, user: usize },
    /// `user` shortens their window to the next narrower one.
    ShortenWindow { user: usize },
    /// Moment `moment` gets a narrower audience: 0 private, 1 include only its first named friend,
    /// 2 exclude one more friend.
    NarrowAudience { moment: usize, how: u8 },
}

fn narrowing(users: usize, moments: usize) -> impl Strategy<Value = Narrowing> {
    prop_oneof![
        (0..users, 0..users).prop_map(|(owner, user)| Narrowing::Hide { owner, user }),
        (0..users).prop_map(|user| Narrowing::ShortenWindow { user }),
        (0..moments.max(1), 0u8..3).prop_map(|(moment, how)| Narrowing::NarrowAudience { moment, how }),
    ]
}

async fn apply(app: &TestApp, spec: &WorldSpec, reference: &NamedWorld, change: &Narrowing) {
    let db = &app.services.db.write;
    match *change {
        Narrowing::Hide { owner, user } if owner != user => {
            let (o, u) = (reference.users[&handle(owner)], reference.users[&handle(user)]);
            store::social::set_hidden(db, o, u, true).await.unwrap();
        }
        Narrowing::Hide { .. } => {}
        Narrowing::ShortenWindow { user } => {
            let id = reference.users[&handle(user)];
            let current = store::users::settings(db, id).await.unwrap().visible_window;
            let shorter = match current {
                VisibleWindow::All => VisibleWindow::SixMonths,
                VisibleWindow::SixMonths => VisibleWindow::OneMonth,
                VisibleWindow::OneMonth | VisibleWindow::ThreeDays => VisibleWindow::ThreeDays,
            };
            store::users::update_settings(db, id, Some(shorter), None).await.unwrap();
        }
        Narrowing::NarrowAudience { moment, how } => {
            let Some(&id) = reference.ids.get(&format!("m{moment}")) else { return };
            let Some(row) = moment_rows::Entity::find_by_id(id).one(db).await.unwrap() else { return };
            let author = row.author_id;
            let page = store::social::NamePage { first: 100, after: None };
            let friends =
                store::social::related_users(db, author, store::social::Related::Friends, &page).await.unwrap();
            let mode = row.audience_mode;
            let set_mode =
                |m: AudienceMode| moment_rows::ActiveModel { id: Set(id), audience_mode: Set(m), ..Default::default() };
            match (how, mode) {
                (0, _) => {
                    moment_rows::Entity::update(set_mode(AudienceMode::Private)).exec(db).await.unwrap();
                }
                (1, AudienceMode::Public | AudienceMode::Include) => {
                    // Only the first friend named (or, for a public moment, the first friend) still sees it.
                    let keep = moment_audience_users::Entity::find()
                        .filter(moment_audience_users::Column::MomentId.eq(id))
                        .one(db)
                        .await
                        .unwrap()
                        .map(|r| r.user_id)
                        .or_else(|| if mode == AudienceMode::Public { friends.first().map(|f| f.id) } else { None });
                    moment_audience_users::Entity::delete_many()
                        .filter(moment_audience_users::Column::MomentId.eq(id))
                        .exec(db)
                        .await
                        .unwrap();
                    moment_audience_tags::Entity::delete_many()
                        .filter(moment_audience_tags::Column::MomentId.eq(id))
                        .exec(db)
                        .await
                        .unwrap();
                    match keep {
                        Some(user) => {
                            moment_audience_users::Entity::insert(moment_audience_users::ActiveModel {
                                moment_id: Set(id),
                                user_id: Set(user),
                            })
                            .exec_without_returning(db)
                            .await
                            .unwrap();
                            moment_rows::Entity::update(set_mode(AudienceMode::Include)).exec(db).await.unwrap();
                        }
                        None => {
                            moment_rows::Entity::update(set_mode(AudienceMode::Private)).exec(db).await.unwrap();
                        }
                    }
                }
                (2, AudienceMode::Exclude) => {
                    if let Some(f) = friends.first() {
                        moment_audience_users::Entity::insert(moment_audience_users::ActiveModel {
                            moment_id: Set(id),
                            user_id: Set(f.id),
                        })
                        .on_conflict(
                            sea_orm::sea_query::OnConflict::columns([
                                moment_audience_users::Column::MomentId,
                                moment_audience_users::Column::UserId,
                            ])
                            .do_nothing()
                            .to_owned(),
                        )
                        .exec_without_returning(db)
                        .await
                        .unwrap();
                    }
                }
                _ => {}
            }
        }
    }
    let _ = spec;
}

#[test]
fn hiding_narrowing_or_shortening_never_makes_anything_newly_visible() {
    let rt = runtime();
    let app = rt.block_on(TestApp::spawn());
    let strategy = worlds::world(4, 10).prop_flat_map(|spec| {
        let changes = narrowing(spec.users, spec.moments.len());
        (Just(spec), changes)
    });
    let result = runner(cases(150, 25)).run(&strategy, |(spec, change)| {
        rt.block_on(async {
            let (lines, reference) = load(&app, &spec).await;
            let before = everything_visible(&app, &reference, spec.users).await;
            apply(&app, &spec, &reference, &change).await;
            let after = everything_visible(&app, &reference, spec.users).await;
            not_wider(&before, &after, &format!("{change:?}"), &lines)
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
