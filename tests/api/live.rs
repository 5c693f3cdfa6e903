//! Live changes: `Subscription.profileChanged` over graphql-transport-ws, against a real server
//! process. Every event is checked when it is delivered: what the viewer cannot see now produces
//! nothing, whatever they could see when they subscribed.

use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt as _;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    binary::{Server, token},
    helpers::TestApp,
    socket::{Live, WORLD, bare, event, pin, removed, sentinel, user_id, world, world_with_an_old_moment},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_sees_the_pins_they_may_see_and_a_stranger_only_public_ones() {
    let (app, server, id_of) = world().await;
    let ann = token(&app.database_url, "ann");
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let mut sam = Live::init(&server, &token(&app.database_url, "sam")).await;
    fay.subscribe("f", "ann").await;
    sam.subscribe("s", "ann").await;
    // (A pong after a subscribe: the subscription listens.)
    assert_eq!((fay.sync().await, sam.sync().await), (vec![], vec![]));
    for text in ["private", "for fay", "public"] {
        pin(&server, &ann, &id_of(text)).await;
    }
    assert_eq!(fay.text().await, event("f", "PINNED", &id_of("for fay"), "for fay", true));
    assert_eq!(fay.text().await, event("f", "PINNED", &id_of("public"), "public", true));
    assert_eq!(sam.text().await, event("s", "PINNED", &id_of("public"), "public", true));
    // Nothing of the private pin, nor for sam of fay's: the next each hears is the sentinel.
    sentinel(&server, &ann, "sentinel", &mut [(&mut fay, "f"), (&mut sam, "s")]).await;

    let answer = server
        .gql(
            &ann,
            r#"mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }"#,
            json!({"m": id_of("public")}),
        )
        .await;
    assert_eq!(answer, json!({"data": {"unpin": {"moment": {"isPinned": false}}}}));
    assert_eq!(fay.text().await, event("f", "UNPINNED", &id_of("public"), "public", false));
    // A stranger sees a public moment only while it is pinned or among the newest ten: it still is.
    assert_eq!(sam.text().await, event("s", "UNPINNED", &id_of("public"), "public", false));

    // Once completed (and a pong says the server is done with it), nothing comes of "f": the next
    // fay hears is on the subscription she opens after it.
    fay.send(json!({"id": "f", "type": "complete"})).await;
    fay.subscribe("g", "ann").await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    pin(&server, &ann, &id_of("more")).await;
    assert_eq!(sam.text().await, event("s", "PINNED", &id_of("more"), "more", true));
    assert_eq!(fay.text().await, event("g", "PINNED", &id_of("more"), "more", true));
    sentinel(&server, &ann, "sentinel 2", &mut [(&mut fay, "g"), (&mut sam, "s")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_unfriend_or_a_hide_the_view_changes_and_nothing_more_arrives() {
    let (app, server, id_of) = world().await;
    let ann = token(&app.database_url, "ann");
    let settings = server
        .gql(
            &ann,
            r#"mutation { updateMomentsSettings(input: { strangersCanView: false }) { strangersCanView } }"#,
            json!({}),
        )
        .await;
    assert_eq!(settings, json!({"data": {"updateMomentsSettings": {"strangersCanView": false}}}));
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let mut gus = Live::init(&server, &token(&app.database_url, "gus")).await;
    fay.subscribe("1", "ann").await;
    gus.subscribe("1", "ann").await;
    assert_eq!((fay.sync().await, gus.sync().await), (vec![], vec![]));
    pin(&server, &ann, &id_of("public")).await;
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("public"), "public", true));
    assert_eq!(gus.text().await, event("1", "PINNED", &id_of("public"), "public", true));

    let fay_id = app.id_of("fay").await;
    let fay_global = moments::ids::encode(moments::ids::NodeKind::User, fay_id);
    let removed =
        server.gql(&ann, "mutation($u: ID!) { removeFriend(userId: $u) { status } }", json!({"u": fay_global})).await;
    assert_eq!(removed, json!({"data": {"removeFriend": {"status": "NONE"}}}));
    // Fay is a stranger now, and ann shows strangers nothing: her view changed, and that is all.
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));
    pin(&server, &ann, &id_of("more")).await;
    assert_eq!(gus.text().await, event("1", "PINNED", &id_of("more"), "more", true));
    // Fay heard nothing of the pin: the next she hears is that strangers may look again (a change
    // of her view), which is then undone. An event is read as things stand when it is delivered:
    // if the pin's reaches her subscription only after strangers may look, it is told then, as
    // she may see the moment by that time, and before the change of view.
    let strangers =
        "mutation($s: Boolean!) { updateMomentsSettings(input: { strangersCanView: $s }) { strangersCanView } }";
    server.gql(&ann, strangers, json!({"s": true})).await;
    next_after_maybe(&mut fay, &event("1", "PINNED", &id_of("more"), "more", true), &bare("1", "VIEW_CHANGED")).await;
    server.gql(&ann, strangers, json!({"s": false})).await;
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));

    let gus_global = moments::ids::encode(moments::ids::NodeKind::User, app.id_of("gus").await);
    let hidden = server
        .gql(&ann, "mutation($u: ID!) { hideMomentsFrom(userId: $u) { strangersCanView } }", json!({"u": gus_global}))
        .await;
    assert_eq!(hidden, json!({"data": {"hideMomentsFrom": {"strangersCanView": false}}}));
    assert_eq!(gus.text().await, bare("1", "VIEW_CHANGED"));
    let unpinned = server
        .gql(&ann, "mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }", json!({"m": id_of("more")}))
        .await;
    assert_eq!(unpinned, json!({"data": {"unpin": {"moment": {"isPinned": false}}}}));
    // Neither heard of the unpin: the next each hears is a change of their own view (or, if the
    // unpin reaches their subscription only after it, the unpin first, which they may see by then).
    let unhide = "mutation($u: ID!) { unhideMomentsFrom(userId: $u) { strangersCanView } }";
    server.gql(&ann, unhide, json!({"u": gus_global})).await;
    let unpin_of_more = event("1", "UNPINNED", &id_of("more"), "more", false);
    next_after_maybe(&mut gus, &unpin_of_more, &bare("1", "VIEW_CHANGED")).await;
    server.gql(&ann, strangers, json!({"s": true})).await;
    next_after_maybe(&mut fay, &unpin_of_more, &bare("1", "VIEW_CHANGED")).await;
}

/// The next message is `expected`, or `maybe` and then `expected`.
async fn next_after_maybe(live: &mut Live, maybe: &str, expected: &str) {
    let next = live.text().await;
    if next == maybe {
        assert_eq!(live.text().await, expected);
    } else {
        assert_eq!(next, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_missing_tokens_are_refused_and_an_expired_one_closes_the_socket() {
    let (app, server, _) = world().await;
    for payload in
        [json!({}), json!({"Authorization": "Bearer not-a-token"}), json!({"Authorization": "Basic YWxhZGRpbg=="})]
    {
        let mut live = Live::connect(&server).await;
        live.send(json!({"type": "connection_init", "payload": payload})).await;
        assert_eq!(
            live.closed().await,
            (4403, "Forbidden: send a valid token as Authorization in connection_init".into())
        );
    }
    let mut early = Live::connect(&server).await;
    early.subscribe("1", "ann").await;
    assert_eq!(early.closed().await, (4401, "Unauthorized: send connection_init first".into()));

    // A token with two seconds to live: the server closes the socket when it expires.
    let fay = app.id_of("fay").await;
    let issued = Utc::now() - chrono::Duration::days(moments::TOKEN_LIFETIME_DAYS) + chrono::Duration::seconds(2);
    let short = app.services.keys.issue(fay, issued).unwrap();
    let mut live = Live::init(&server, &short).await;
    live.subscribe("1", "ann").await;
    assert_eq!(live.closed().await, (4403, "Forbidden: the token has expired; sign in again".into()));

    let mut twice = Live::init(&server, &token(&app.database_url, "fay")).await;
    twice.send(json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(twice.closed().await, (4429, "Too many initialisation requests".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_are_answered_and_bounded_per_connection_and_per_user() {
    let (app, server, _) = world().await;
    let fay_token = token(&app.database_url, "fay");
    let mut fay = Live::init(&server, &fay_token).await;
    fay.send(json!({"id": "q", "type": "subscribe", "payload": {"query": "{ viewer { handle } }"}})).await;
    assert_eq!(fay.text().await, r#"{"id":"q","type":"next","payload":{"data":{"viewer":{"handle":"fay"}}}}"#);
    assert_eq!(fay.text().await, r#"{"id":"q","type":"complete"}"#);
    fay.send(json!({"type": "ping"})).await;
    assert_eq!(fay.text().await, r#"{"type":"pong"}"#);
    for i in 0..moments::MAX_OPERATIONS {
        fay.subscribe(&format!("s{i}"), "ann").await;
    }
    fay.subscribe("one-too-many", "ann").await;
    assert_eq!(
        fay.text().await,
        r#"{"id":"one-too-many","type":"error","payload":[{"message":"too many operations on this connection: complete one first","extensions":{"code":"BAD_USER_INPUT"}}]}"#
    );
    fay.subscribe("s0", "ann").await;
    assert_eq!(fay.closed().await, (4409, "Subscriber for this id already exists".into()));

    let mut open = Vec::new();
    for _ in 0..moments::MAX_CONNECTIONS_PER_USER {
        open.push(Live::init(&server, &fay_token).await);
    }
    let mut extra = Live::connect(&server).await;
    extra.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {fay_token}")}})).await;
    assert_eq!(extra.closed().await, (4429, "Too many connections for this user: close one first".into()));
    // A connection that closes gives its place back (once the server has seen it go).
    drop(open.pop());
    for attempt in 0.. {
        let mut again = Live::connect(&server).await;
        again
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {fay_token}")}}))
            .await;
        match again.next().await {
            Some(Message::Text(text)) if text.as_str() == r#"{"type":"connection_ack"}"# => break,
            other => assert!(attempt < 250, "no place came free: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_pin_through_one_server_reaches_a_subscriber_of_another_within_a_second() {
    if !crate::helpers::on_postgres() {
        eprintln!("skipped on SQLite: one server's database, whose changes go through that server's own broadcast");
        return;
    }
    let (app, one, id_of) = world().await;
    let other = Server::start(&app.database_url, &[]);
    let mut fay = Live::init(&other, &token(&app.database_url, "fay")).await;
    fay.subscribe("1", "ann").await;
    assert_eq!(fay.sync().await, Vec::<String>::new());
    let started = std::time::Instant::now();
    pin(&one, &token(&app.database_url, "ann"), &id_of("public")).await;
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("public"), "public", true));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "the event took {took:?}");
    // And the other way round, through the server the subscriber is on.
    pin(&other, &token(&app.database_url, "ann"), &id_of("more")).await;
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("more"), "more", true));

    // Another deployment in another schema of the same database, whose users have the same ids,
    // hears nothing of this one (notifications cross schemas; the channel is the deployment's).
    let (elsewhere, server, _) = world().await;
    let mut fay_elsewhere = Live::init(&server, &token(&elsewhere.database_url, "fay")).await;
    fay_elsewhere.subscribe("1", "ann").await;
    assert_eq!(fay_elsewhere.sync().await, Vec::<String>::new());
    let unpin = "mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }";
    let answer = one.gql(&token(&app.database_url, "ann"), unpin, json!({"m": id_of("public")})).await;
    assert_eq!(answer, json!({"data": {"unpin": {"moment": {"isPinned": false}}}}));
    assert_eq!(fay.text().await, event("1", "UNPINNED", &id_of("public"), "public", false));
    // The next fay hears elsewhere is a change made there.
    sentinel(&server, &token(&elsewhere.database_url, "ann"), "elsewhere", &mut [(&mut fay_elsewhere, "1")]).await;
    sentinel(&one, &token(&app.database_url, "ann"), "here", &mut [(&mut fay, "1")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_the_server_goes_on() {
    let app = TestApp::spawn().await;
    // A moment as large as input allows: the longest text, nine of the longest URLs (about 24 KB).
    let text = "長".repeat(2_000);
    let url = |i: usize| format!("https://img.example/{}/{i}.jpg", "a".repeat(2_000));
    let images: Vec<Value> = (0..9).map(|i| json!({"url": url(i)})).collect();
    let big = json!({"type": "moment", "ref": "big", "author": "ann", "text": text, "images": images});
    app.import(&format!("{WORLD}\n{big}")).await;
    let server = Server::start(&app.database_url, &[("MOMENTS_CLIENT_TIMEOUT_SECS", "2")]);
    let ann = token(&app.database_url, "ann");
    let fay = token(&app.database_url, "fay");
    let mut slow = Live::init(&server, &fay).await;
    let selection = "subscription { profileChanged(handle: \"ann\") { moment { text media { url } } } }";
    for i in 0..moments::MAX_OPERATIONS {
        slow.send(json!({"id": format!("{i}"), "type": "subscribe", "payload": {"query": selection}})).await;
    }
    assert_eq!(slow.sync().await, Vec::<String>::new());
    let answer =
        server.gql(&ann, r#"{ profile(handle: "ann") { timeline(first: 1) { nodes { id } } } }"#, json!({})).await;
    let id = answer["data"]["profile"]["timeline"]["nodes"][0]["id"].as_str().unwrap().to_owned();
    // Each pin or unpin makes 20 events of about 24 KB for a client that reads none of them: far
    // more than the socket's buffers and the server's 256 waiting messages hold.
    let started = std::time::Instant::now();
    for round in 0..40 {
        let field = if round % 2 == 0 { "pin" } else { "unpin" };
        let answer = server
            .gql(
                &ann,
                &format!("mutation($m: ID!) {{ {field}(momentId: $m) {{ moment {{ id }} }} }}"),
                json!({"m": id}),
            )
            .await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = 0;
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), slow.socket.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => received += 1,
            Ok(Some(Ok(Message::Close(frame)))) => break format!("closed {frame:?}"),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => break format!("cut off: {e}"),
            Ok(None) => break "cut off".to_owned(),
            Err(_) => panic!("the connection is still open after {received} messages"),
        }
    };
    eprintln!("the slow client got {received} of {} messages, then was {ended}", 40 * moments::MAX_OPERATIONS);
    assert!(received < 40 * moments::MAX_OPERATIONS, "{received} messages, then {ended}");
    assert!(started.elapsed() < Duration::from_secs(30));
    server.still_serves(&fay, "fay").await;
    Live::init(&server, &fay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_moment_is_told_to_those_who_could_see_it_and_to_no_one_else() {
    let (app, server, id_of) = world().await;
    let ann = token(&app.database_url, "ann");
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let mut gus = Live::init(&server, &token(&app.database_url, "gus")).await;
    let mut sam = Live::init(&server, &token(&app.database_url, "sam")).await;
    let mut own = Live::init(&server, &ann).await;
    for live in [&mut fay, &mut gus, &mut sam, &mut own] {
        live.subscribe("1", "ann").await;
        assert_eq!(live.sync().await, Vec::<String>::new());
    }
    let delete = "mutation($m: ID!) { deleteMoment(id: $m) { deletedMomentId } }";
    for text in ["for fay", "private", "public"] {
        let answer = server.gql(&ann, delete, json!({"m": id_of(text)})).await;
        assert_eq!(answer, json!({"data": {"deleteMoment": {"deletedMomentId": id_of(text)}}}));
    }
    // Each hears of the moments they could see, in order; the ids of the others never reach them.
    assert_eq!(fay.text().await, removed("1", &id_of("for fay")));
    assert_eq!(fay.text().await, removed("1", &id_of("public")));
    assert_eq!(gus.text().await, removed("1", &id_of("public")));
    assert_eq!(sam.text().await, removed("1", &id_of("public")));
    for text in ["for fay", "private", "public"] {
        assert_eq!(own.text().await, removed("1", &id_of(text)));
    }
    sentinel(&server, &ann, "sentinel", &mut [(&mut fay, "1"), (&mut gus, "1"), (&mut sam, "1"), (&mut own, "1")])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_rights_is_told_only_to_those_whose_view_it_changes() {
    let (app, server, _) = world_with_an_old_moment().await;
    let ann = token(&app.database_url, "ann");
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let mut gus = Live::init(&server, &token(&app.database_url, "gus")).await;
    let mut sam = Live::init(&server, &token(&app.database_url, "sam")).await;
    for live in [&mut fay, &mut gus, &mut sam] {
        live.subscribe("1", "ann").await;
        assert_eq!(live.sync().await, Vec::<String>::new());
    }
    let settings = "mutation($i: MomentsSettingsInput!) { updateMomentsSettings(input: $i) { visibleWindow } }";

    // Strangers lose ann's public moments; her friends see what they saw.
    server.gql(&ann, settings, json!({"i": {"strangersCanView": false}})).await;
    assert_eq!(sam.text().await, bare("1", "VIEW_CHANGED"));
    // A month's window takes the two-month-old moment from her friends; strangers see nothing
    // either way.
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "ONE_MONTH"}})).await;
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));
    assert_eq!(gus.text().await, bare("1", "VIEW_CHANGED"));
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "SIX_MONTHS"}})).await;
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));
    assert_eq!(gus.text().await, bare("1", "VIEW_CHANGED"));
    // No moment is older than six months: no window from there on changes what anyone sees, and
    // the change of a private setting is not told.
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "ALL"}})).await;
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "ALL", "strangersCanView": false}})).await;
    // Nor is a hide that hides nothing: sam sees nothing of ann as it is.
    let sam_id = user_id(&app, "sam").await;
    let hide = "mutation($u: ID!) { hideMomentsFrom(userId: $u) { visibleWindow } }";
    let unhide = "mutation($u: ID!) { unhideMomentsFrom(userId: $u) { visibleWindow } }";
    server.gql(&ann, hide, json!({"u": sam_id})).await;
    server.gql(&ann, unhide, json!({"u": sam_id})).await;
    // (Sam's next event is the one his friendship brings, below.)
    sentinel(&server, &ann, "sentinel 1", &mut [(&mut fay, "1"), (&mut gus, "1")]).await;

    // A tag no moment names: joining or leaving it changes nothing anyone sees, and is not told.
    let (fay_id, gus_id) = (user_id(&app, "fay").await, user_id(&app, "gus").await);
    let create_tag =
        "mutation($n: String!, $m: [ID!]!) { createTag(input: { name: $n, memberIds: $m }) { tag { id } } }";
    let created = server.gql(&ann, create_tag, json!({"n": "close", "m": [gus_id]})).await;
    let close = created["data"]["createTag"]["tag"]["id"].as_str().unwrap().to_owned();
    let created = server.gql(&ann, create_tag, json!({"n": "inner", "m": [fay_id]})).await;
    let inner = created["data"]["createTag"]["tag"]["id"].as_str().unwrap().to_owned();
    let set_members =
        "mutation($t: ID!, $m: [ID!]!) { setTagMembers(input: { tagId: $t, memberIds: $m }) { tag { id } } }";
    server.gql(&ann, set_members, json!({"t": close, "m": [fay_id, gus_id]})).await;
    sentinel(&server, &ann, "sentinel 2", &mut [(&mut fay, "1"), (&mut gus, "1")]).await;
    let post = "mutation($text: String!, $t: [ID!]!) { postMoment(input: { text: $text, audience: { mode: INCLUDE, tagIds: $t } }) { moment { id } } }";
    let posted = server.gql(&ann, post, json!({"text": "close and inner", "t": [close, inner]})).await;
    let both = posted["data"]["postMoment"]["moment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(fay.text().await, event("1", "POSTED", &both, "close and inner", false));
    assert_eq!(gus.text().await, event("1", "POSTED", &both, "close and inner", false));
    // Leaving "close" takes nothing from fay: the one moment naming it names "inner" too.
    server.gql(&ann, set_members, json!({"t": close, "m": [gus_id]})).await;
    sentinel(&server, &ann, "sentinel 3", &mut [(&mut fay, "1"), (&mut gus, "1")]).await;
    // Joining it again once a moment names "close" alone gives her that moment: she is told.
    let posted = server.gql(&ann, post, json!({"text": "close only", "t": [close]})).await;
    let close_only = posted["data"]["postMoment"]["moment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(gus.text().await, event("1", "POSTED", &close_only, "close only", false));
    // (Fay's next event is the one joining brings, not this post.)
    server.gql(&ann, set_members, json!({"t": close, "m": [fay_id, gus_id]})).await;
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));
    // And leaving it takes it away again.
    server.gql(&ann, set_members, json!({"t": close, "m": [gus_id]})).await;
    assert_eq!(fay.text().await, bare("1", "VIEW_CHANGED"));
    sentinel(&server, &ann, "sentinel 4", &mut [(&mut fay, "1"), (&mut gus, "1")]).await;

    // A stranger who becomes a friend sees more: told; the moments shown to friends follow.
    let sam_token = token(&app.database_url, "sam");
    let asked = server
        .gql(
            &sam_token,
            "mutation($u: ID!) { sendFriendRequest(userId: $u) { status } }",
            json!({"u": user_id(&app, "ann").await}),
        )
        .await;
    assert_eq!(asked, json!({"data": {"sendFriendRequest": {"status": "REQUEST_SENT"}}}));
    let accepted = server
        .gql(&ann, "mutation($u: ID!) { acceptFriendRequest(userId: $u) { status } }", json!({"u": sam_id}))
        .await;
    assert_eq!(accepted, json!({"data": {"acceptFriendRequest": {"status": "FRIENDS"}}}));
    // Sam's first event: nothing of the hides, settings and tags before it, nor of the request.
    assert_eq!(sam.text().await, bare("1", "VIEW_CHANGED"));
    sentinel(&server, &ann, "sentinel 5", &mut [(&mut fay, "1"), (&mut gus, "1"), (&mut sam, "1")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moment_shown_only_by_its_pin_leaves_the_view_when_unpinned() {
    let (app, server, id_of) = world_with_an_old_moment().await;
    let ann = token(&app.database_url, "ann");
    let settings = "mutation($i: MomentsSettingsInput!) { updateMomentsSettings(input: $i) { visibleWindow } }";
    server.gql(&ann, settings, json!({"i": {"visibleWindow": "ONE_MONTH"}})).await;
    let mut fay = Live::init(&server, &token(&app.database_url, "fay")).await;
    let mut own = Live::init(&server, &ann).await;
    fay.subscribe("1", "ann").await;
    own.subscribe("1", "ann").await;
    assert_eq!((fay.sync().await, own.sync().await), (vec![], vec![]));
    // Outside fay's window, the old moment shows to her while it is pinned (V7), and not after.
    pin(&server, &ann, &id_of("old")).await;
    assert_eq!(fay.text().await, event("1", "PINNED", &id_of("old"), "old", true));
    assert_eq!(own.text().await, event("1", "PINNED", &id_of("old"), "old", true));
    let unpin = "mutation($m: ID!) { unpin(momentId: $m) { moment { isPinned } } }";
    server.gql(&ann, unpin, json!({"m": id_of("old")})).await;
    assert_eq!(fay.text().await, removed("1", &id_of("old")));
    // Its author still sees it, unpinned.
    assert_eq!(own.text().await, event("1", "UNPINNED", &id_of("old"), "old", false));
    sentinel(&server, &ann, "sentinel", &mut [(&mut fay, "1"), (&mut own, "1")]).await;
}

#[tokio::test]
async fn a_removal_is_judged_by_the_stranger_cap_it_was_deleted_under_and_kept_ten_minutes() {
    let app = TestApp::spawn().await;
    let mut lines = vec![
        json!({"type": "user", "handle": "ann", "displayName": "Ann"}).to_string(),
        json!({"type": "user", "handle": "sam", "displayName": "Sam"}).to_string(),
        json!({"type": "settings", "user": "ann", "strangersCanView": true}).to_string(),
    ];
    let now = app.clock.now();
    for i in 1..=11 {
        let posted = (now - chrono::Duration::hours(12 - i)).to_rfc3339();
        lines.push(json!({"type": "moment", "author": "ann", "text": format!("m{i}"), "postedAt": posted}).to_string());
    }
    app.import(&lines.join("\n")).await;
    let (ann, sam) = (app.id_of("ann").await, app.id_of("sam").await);
    let db = &app.services.db.write;
    let id_of = |text: &str| {
        store::entity::moments::Entity::find().filter(store::entity::moments::Column::Text.eq(text)).one(db)
    };
    let (oldest, newest) = (id_of("m1").await.unwrap().unwrap().id, id_of("m11").await.unwrap().unwrap().id);
    // m1 is the eleventh public moment: out of a stranger's ten. Deleting the newest afterwards
    // would bring it in, but it was out when it was deleted.
    store::moments::delete(db, ann, oldest, now).await.unwrap();
    store::moments::delete(db, ann, newest, now).await.unwrap();
    let was_visible = |viewer, id, at| store::removals::was_visible(db, viewer, ann, id, at);
    assert!(!was_visible(sam, oldest, now).await.unwrap());
    assert!(was_visible(sam, newest, now).await.unwrap());
    assert!(was_visible(ann, oldest, now).await.unwrap());
    // The wrong author is no one's removal.
    assert!(!store::removals::was_visible(db, ann, sam, newest, now).await.unwrap());
    // Ten minutes on it is no longer read, and a purge deletes both.
    let later = now + store::removals::KEPT_FOR + chrono::Duration::seconds(1);
    assert!(!was_visible(ann, newest, later).await.unwrap());
    assert_eq!(store::removals::purge(db, now).await.unwrap(), 0);
    assert_eq!(store::removals::purge(db, later).await.unwrap(), 2);
    assert_eq!(app.rows("removed_moment_listed").await + app.rows("removed_moments").await, 0);
}
