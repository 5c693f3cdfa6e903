//! Property tests of live events: on random worlds, a deleted moment, a tag's change and a change
//! of rights are told to exactly those viewers whose view they change, as the reference decides.

use std::collections::BTreeSet;

use proptest::{prelude::*, test_runner::TestCaseError};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use store::entity::{tag_members, tags};

use crate::{
    helpers::TestApp,
    properties::{differ, load, runner, runtime},
    world::NamedWorld,
    worlds::{self, WorldSpec, cases, handle},
};

/// Every user of the world, by handle in order, with their id.
fn viewers_of(reference: &NamedWorld) -> Vec<(String, rules::UserId)> {
    let mut viewers: Vec<_> = reference.users.iter().map(|(h, &id)| (h.clone(), id)).collect();
    viewers.sort();
    viewers
}

/// The names of `author`'s moments the reference lets `viewer` see at `now`.
fn shown_to(
    reference: &NamedWorld,
    author: rules::UserId,
    viewer: rules::UserId,
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
    use rules::{UserId, VisibleWindow as W, visibility::reference::Settings};
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
                store::friends::set_hidden(db, author, ids[v], hide).await.unwrap();
            }
            RightsChange::Friend(_, v) => {
                let (a, b) = (author, ids[v]);
                if reference.world.friends.remove(&(a, b)) {
                    reference.world.friends.remove(&(b, a));
                    store::friends::remove_friend(db, a, b).await.unwrap();
                } else {
                    reference.world.friends.extend([(a, b), (b, a)]);
                    store::friends::befriend(db, a, b, now).await.unwrap();
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
