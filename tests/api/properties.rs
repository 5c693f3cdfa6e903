//! Property tests: on random worlds, every listing the API gives equals what the pure reference
//! computes (timeline pages, pinned, feed pages, moment(id)), and a deleted moment is told to
//! exactly those the reference let see it; and metamorphic checks: hiding, narrowing an audience
//! or shortening a window never makes anything newly visible.

use std::collections::BTreeSet;

use rules::{AudienceMode, VisibleWindow};

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};
use store::entity::{moment_audience_tags, moment_audience_users, moments as moment_rows};

use crate::{
    helpers::TestApp,
    reference_from_import,
    world::{NamedWorld, name_of},
    worlds::{self, WorldSpec, cases, handle, reset},
};

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

pub(crate) fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 2_000, ..Config::default() })
}

/// Loads a world into the (emptied) database: imports it, deletes the moments marked deleted, and
/// returns the reference with the same moments gone.
pub(crate) async fn load(app: &TestApp, spec: &WorldSpec) -> (Vec<String>, NamedWorld) {
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

pub(crate) fn differ(what: &str, lines: &[String], api: &[String], reference: &[String]) -> TestCaseError {
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
            store::friends::set_hidden(db, o, u, true).await.unwrap();
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
            let page = store::friends::NamePage { first: 100, after: None };
            let friends =
                store::friends::related_users(db, author, store::friends::Related::Friends, &page).await.unwrap();
            let mode = AudienceMode::from(row.audience_mode);
            let set_mode = |m: AudienceMode| moment_rows::ActiveModel {
                id: Set(id),
                audience_mode: Set(m.into()),
                ..Default::default()
            };
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
