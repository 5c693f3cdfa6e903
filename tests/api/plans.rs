//! Query plans on a loaded world: every listing reaches `moments` through an index — never a full
//! scan of the table, never a sort of the whole table (`EXPLAIN QUERY PLAN` on SQLite, whose plans
//! do not depend on the values (QPSG); on PostgreSQL `EXPLAIN EXECUTE` of the prepared statement,
//! which shows the generic plan the server runs).

use store::{
    self,
    lists::{Page, feed_statement, pinned_statement, timeline_statement},
};

use moments::generate::{WorldShape, handle, write_world};
use sea_orm::{ConnectionTrait as _, DbBackend, Statement, TransactionTrait as _, sea_query::SelectStatement};
use serde_json::Value;

use crate::helpers::TestApp;

/// 300 users with 20 friends and 100 moments each: 30,000 moments.
async fn loaded_world() -> TestApp {
    let app = TestApp::spawn().await;
    let shape = WorldShape { users: 300, friends: 20, moments: 100, days: 400, pins: 3, seed: 7 };
    let mut buffer = Vec::new();
    write_world(&shape, app.clock.now(), &mut buffer).unwrap();
    let report = moments::import::import(&app.services.db, &buffer[..], app.clock.now()).await.unwrap();
    assert_eq!(report.moments, 30_000);
    app
}

/// The plan as lines of text, and the PostgreSQL plan tree when there is one.
async fn explain(app: &TestApp, statement: &SelectStatement) -> (Vec<String>, Option<Value>) {
    let db = &app.services.db.read;
    let backend = db.get_database_backend();
    let built = backend.build(statement);
    match backend {
        DbBackend::Postgres => {
            // The server's connections run generic plans (`plan_cache_mode = force_generic_plan`),
            // made without the values: the statement is prepared with its parameters' types, and
            // the plan of executing it with the values written out is explained, on one connection.
            let (types, literals): (Vec<&str>, Vec<String>) =
                built.values.unwrap().0.iter().map(postgres_param).unzip();
            let txn = db.begin().await.unwrap();
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan").await.unwrap();
            txn.execute_unprepared(&format!("PREPARE plan_test ({}) AS {}", types.join(", "), built.sql))
                .await
                .unwrap();
            let sql = format!("EXPLAIN (FORMAT JSON) EXECUTE plan_test ({})", literals.join(", "));
            let row = txn.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
            txn.execute_unprepared("DEALLOCATE plan_test").await.unwrap();
            txn.rollback().await.unwrap();
            let plan: Value = row.try_get("", "QUERY PLAN").unwrap();
            let mut lines = Vec::new();
            walk(&plan[0]["Plan"], &mut lines);
            (lines, Some(plan))
        }
        _ => {
            let sql = format!("EXPLAIN QUERY PLAN {}", built.sql);
            let rows =
                db.query_all_raw(Statement::from_sql_and_values(backend, sql, built.values.unwrap())).await.unwrap();
            (rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect(), None)
        }
    }
}

/// A bound value as a parameter of `PREPARE`: its PostgreSQL type, and the value written out for
/// `EXECUTE` (a time as an offset from the epoch: PostgreSQL reads no year 0000 in a literal).
fn postgres_param(value: &sea_orm::Value) -> (&'static str, String) {
    use sea_orm::{
        Value as V,
        sea_query::{PostgresQueryBuilder, QueryBuilder as _},
    };
    let written = || PostgresQueryBuilder.value_to_string(value);
    match value {
        V::Bool(_) => ("boolean", written()),
        V::Int(_) => ("integer", written()),
        V::BigInt(_) | V::BigUnsigned(_) | V::Unsigned(_) => ("bigint", written()),
        V::String(_) => ("text", written()),
        V::ChronoDateTimeUtc(Some(t)) => {
            ("timestamptz", format!("TIMESTAMPTZ 'epoch' + {} * INTERVAL '1 microsecond'", t.timestamp_micros()))
        }
        other => panic!("no PostgreSQL type written down for {other:?}"),
    }
}

/// Flattens a PostgreSQL plan into "Node Type on relation (rows)" lines.
fn walk(node: &Value, out: &mut Vec<String>) {
    out.push(format!(
        "{} on {} ({} rows) {}",
        node["Node Type"].as_str().unwrap_or_default(),
        node["Relation Name"].as_str().unwrap_or("-"),
        node["Plan Rows"],
        node["Index Name"].as_str().unwrap_or("")
    ));
    for child in node["Plans"].as_array().into_iter().flatten() {
        walk(child, out);
    }
}

/// No full scan of moments (nor of any table, on SQLite), and no sort larger than a few authors'
/// worth of rows.
fn assert_uses_indexes(what: &str, plan: &[String]) {
    if std::env::var_os("MOMENTS_SHOW_PLANS").is_some() {
        eprintln!("{what}:\n  {}", plan.join("\n  "));
    }
    for line in plan {
        // On SQLite no table is scanned whole (`SCAN m`, `SCAN own` and `SCAN candidates` walk
        // the rows of a subquery the query already cut to a page).
        let full_scan = (line.starts_with("SCAN ")
            && !matches!(line.as_str(), "SCAN m" | "SCAN w" | "SCAN own" | "SCAN candidates" | "SCAN CONSTANT ROW"))
            || line.starts_with("Seq Scan on moments ");
        assert!(!full_scan, "{what}: full scan of moments in\n{}", plan.join("\n"));
        if line.starts_with("Sort on") {
            let rows: f64 = line.split('(').nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
            assert!(rows < 5_000.0, "{what}: a sort of {rows} rows in\n{}", plan.join("\n"));
        }
    }
    assert!(
        plan.iter().any(|l| l.contains("idx_moments_author_posted")
            || l.contains("moments_pkey")
            || l.contains("INTEGER PRIMARY KEY")),
        "{what}: moments is not reached through an index in\n{}",
        plan.join("\n")
    );
}

#[tokio::test]
async fn every_listing_reaches_moments_through_an_index() {
    let app = loaded_world().await;
    let db = &app.services.db.read;
    let now = app.clock.now();
    let owner = app.id_of(&handle(0)).await;
    let friend = app.id_of(&handle(1)).await;
    let stranger = app.id_of(&handle(150)).await;
    let backend = db.get_database_backend();
    let page_one = Page { first: 20, after: None, with_media: true };
    let later = Page { after: Some((now - chrono::Duration::days(200), i64::MAX)), ..page_one };

    for (who, viewer) in [("friend", friend), ("stranger", stranger), ("owner", owner)] {
        let access = store::access::access(db, viewer, owner).await.unwrap().unwrap();
        if let Some(statement) = timeline_statement(&access, &page_one, false, now, backend) {
            let (plan, _) = explain(&app, &statement).await;
            assert_uses_indexes(&format!("timeline page 1 for the {who}"), &plan);
            let statement = timeline_statement(&access, &later, true, now, backend).unwrap();
            let (plan, _) = explain(&app, &statement).await;
            assert_uses_indexes(&format!("a later timeline page for the {who}"), &plan);
        }
        if let Some(statement) = pinned_statement(&access, &Page { first: 100, ..page_one }, backend) {
            let (plan, _) = explain(&app, &statement).await;
            assert_uses_indexes(&format!("pinned for the {who}"), &plan);
        }
    }
    for (what, page) in [("a feed page", &page_one), ("a later feed page", &later)] {
        let slice_start = page.after.map_or(now, |(posted_at, _)| posted_at) - store::lists::FEED_SLICE;
        let statement = feed_statement(friend, page, Some(slice_start), now, backend);
        let (plan, _) = explain(&app, &statement).await;
        assert_uses_indexes(&format!("{what}, its slice"), &plan);
        // A first page's slice lies inside every window, so no friend's setting is read for it;
        // a later page's slice may start before a friend's window and reads them.
        let reads_settings = plan.iter().any(|l| l.contains("moments_settings"));
        assert_eq!(reads_settings, page.after.is_some(), "{what}, its slice, reads settings:\n{}", plan.join("\n"));
        let before_slice = Page { after: Some((slice_start, i64::MIN)), ..*page };
        let statement = feed_statement(friend, &before_slice, None, now, backend);
        let (plan, _) = explain(&app, &statement).await;
        assert_uses_indexes(&format!("{what}, before its slice"), &plan);
    }

    let some_moment = 4_321;
    let by_id = store::lists::visible_moment_statement(friend, some_moment, now, true, db.get_database_backend());
    let (plan, _) = explain(&app, &by_id).await;
    assert_uses_indexes("moment by id", &plan);
}

#[tokio::test]
async fn the_pinned_block_of_a_profile_with_thousands_of_pins_reads_only_its_page() {
    let app = TestApp::spawn().await;
    let mut lines = vec![
        r#"{"type":"user","handle":"ann","displayName":"Ann"}"#.to_owned(),
        r#"{"type":"user","handle":"fay","displayName":"Fay"}"#.to_owned(),
        r#"{"type":"friendship","users":["ann","fay"]}"#.to_owned(),
    ];
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap();
    for i in 0..3_000 {
        let posted = (start - chrono::Duration::hours(i)).to_rfc3339();
        lines.push(format!(
            r#"{{"type":"moment","ref":"m{i}","author":"ann","text":"m{i}","images":[{{"url":"https://img.example/{i}.jpg"}}],"postedAt":"{posted}"}}"#
        ));
        lines.push(format!(r#"{{"type":"pin","moment":"m{i}"}}"#));
    }
    app.import(&lines.join("\n")).await;
    let db = &app.services.db.read;
    let (ann, fay) = (app.id_of("ann").await, app.id_of("fay").await);
    for (who, viewer) in [("owner", ann), ("friend", fay)] {
        let access = store::access::access(db, viewer, ann).await.unwrap().unwrap();
        let page = Page { first: 100, after: None, with_media: true };
        let statement = pinned_statement(&access, &page, db.get_database_backend()).unwrap();
        let (plan, _) = explain(&app, &statement).await;
        if std::env::var_os("MOMENTS_SHOW_PLANS").is_some() {
            eprintln!("pinned of 3,000 for the {who}:\n  {}", plan.join("\n  "));
        }
        assert!(
            plan.iter().any(|l| l.contains("idx_pins_author_posted")),
            "{who}: not from the pins index:\n{}",
            plan.join("\n")
        );
        let sorts = plan.iter().any(|l| {
            l.contains("TEMP B-TREE FOR ORDER BY") || l.starts_with("Sort on") || l.starts_with("Incremental Sort")
        });
        assert!(!sorts, "{who}: the pins are sorted instead of read in order:\n{}", plan.join("\n"));
    }
}
