//! `moments generate`: a world of the benchmark's shape, the same for the same seed, written as
//! the JSON Lines of docs/rules.md §5 — 2,000 users with exactly 50 friends each and 200 moments each over
//! the last 400 days by default (see `docs/benchmarks.md`).

use std::io::Write;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::{Rng as _, SeedableRng as _, seq::SliceRandom as _};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// The shape of a generated world.
#[derive(Clone, Debug, clap::Args)]
pub struct WorldShape {
    /// How many users.
    #[arg(long, default_value_t = WorldShape::default().users)]
    pub users: usize,
    /// Friends of every user (even, below the number of users).
    #[arg(long, default_value_t = WorldShape::default().friends)]
    pub friends: usize,
    /// Moments of every user.
    #[arg(long, default_value_t = WorldShape::default().moments)]
    pub moments: usize,
    /// Moments are spread over this many days before now.
    #[arg(long, default_value_t = WorldShape::default().days)]
    pub days: i64,
    /// Pins of every user, on pictures or video.
    #[arg(long, default_value_t = WorldShape::default().pins)]
    pub pins: usize,
    /// The random seed: the same seed and shape give the same world.
    #[arg(long, default_value_t = WorldShape::default().seed)]
    pub seed: u64,
}

impl Default for WorldShape {
    fn default() -> Self {
        Self { users: 2_000, friends: 50, moments: 200, days: 400, pins: 3, seed: 42 }
    }
}

/// The longest span of days a world may be spread over: a century.
pub const MAX_DAYS: i64 = 36_500;

impl WorldShape {
    /// Whether a world of this shape can be made; the problem, named by its flags, if not.
    pub fn check(&self) -> Result<(), String> {
        let Self { users, friends, days, .. } = *self;
        if users == 0 {
            return Err("--users must be at least 1".into());
        }
        if !friends.is_multiple_of(2) || friends >= users {
            return Err(format!(
                "--friends must be even and smaller than --users (got {friends} friends for {users} users): \
                 each user's friends are the users nearest to it on a ring, as many on either side"
            ));
        }
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(format!("--days must be between 1 and {MAX_DAYS} (got {days})"));
        }
        Ok(())
    }
}

/// The handle of generated user `i`.
pub fn handle(i: usize) -> String {
    format!("user{i:05}")
}

/// The friends of user `i`: the `friends / 2` users on either side of it on a ring, so every user
/// has exactly `friends` friends.
pub fn friends_of(i: usize, shape: &WorldShape) -> Vec<usize> {
    let half = shape.friends / 2;
    (1..=half).flat_map(|d| [(i + d) % shape.users, (i + shape.users - d) % shape.users]).collect()
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, weighted: &[(u32, T)]) -> T {
    let total: u32 = weighted.iter().map(|(w, _)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (w, value) in weighted {
        if roll < *w {
            return *value;
        }
        roll -= w;
    }
    weighted[weighted.len() - 1].1
}

/// Writes the world, at `now`, to `out`; returns the number of lines.
pub fn write_world(shape: &WorldShape, now: DateTime<Utc>, out: &mut impl Write) -> std::io::Result<usize> {
    shape.check().map_err(|problem| std::io::Error::new(std::io::ErrorKind::InvalidInput, problem))?;
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let mut lines = 0usize;
    let mut emit = |out: &mut dyn Write, value: Value| -> std::io::Result<()> {
        lines += 1;
        serde_json::to_writer(&mut *out, &value)?;
        out.write_all(b"\n")
    };
    for i in 0..shape.users {
        emit(out, json!({ "type": "user", "handle": handle(i), "displayName": format!("User {i}") }))?;
    }
    for i in 0..shape.users {
        for j in friends_of(i, shape) {
            if i < j {
                emit(out, json!({ "type": "friendship", "users": [handle(i), handle(j)] }))?;
            }
        }
    }
    for i in 0..shape.users {
        let mut friends = friends_of(i, shape);
        friends.shuffle(&mut rng);
        let members: Vec<String> = friends.iter().take(rng.random_range(3..=8)).map(|f| handle(*f)).collect();
        emit(out, json!({ "type": "tag", "owner": handle(i), "name": "close", "members": members }))?;
        let window = pick(&mut rng, &[(60, "ALL"), (20, "SIX_MONTHS"), (10, "ONE_MONTH"), (10, "THREE_DAYS")]);
        let strangers = rng.random_bool(0.2);
        // 1 % of friend pairs hidden: each user hides from each friend with a half-percent chance,
        // both directions together making one percent of pairs.
        let hidden: Vec<String> =
            friends_of(i, shape).into_iter().filter(|_| rng.random_bool(0.005)).map(handle).collect();
        emit(
            out,
            json!({ "type": "settings", "user": handle(i), "visibleWindow": window,
                    "strangersCanView": strangers, "hiddenFrom": hidden }),
        )?;
    }
    let span = Duration::days(shape.days).num_seconds();
    for i in 0..shape.users {
        let friends = friends_of(i, shape);
        let mut pinnable = Vec::new();
        let mut ages: Vec<i64> = (0..shape.moments).map(|_| rng.random_range(60..span)).collect();
        ages.sort_unstable_by(|a, b| b.cmp(a));
        for (k, age) in ages.into_iter().enumerate() {
            let reference = format!("{i}-{k}");
            let mut line = json!({
                "type": "moment", "ref": reference, "author": handle(i), "text": format!("moment {k} of user {i}"),
                "postedAt": (now - Duration::seconds(age)).to_rfc3339_opts(SecondsFormat::Secs, true),
            });
            match pick(&mut rng, &[(60, 0u8), (10, 1), (20, 2), (10, 3)]) {
                0 => {
                    let n = rng.random_range(1..=9);
                    line["images"] = Value::Array(
                        (0..n)
                            .map(|p| json!({ "url": format!("https://img.example/{i}/{k}/{p}.jpg"), "width": 1080, "height": 1080 }))
                            .collect(),
                    );
                    pinnable.push(reference.clone());
                }
                1 => {
                    line["video"] =
                        json!({ "url": format!("https://video.example/{i}/{k}.mp4"), "width": 1280, "height": 720 });
                    pinnable.push(reference.clone());
                }
                2 => {}
                _ => {
                    line["article"] =
                        json!({ "url": format!("https://news.example/{i}/{k}"), "title": format!("Article {k}") })
                }
            }
            match pick(&mut rng, &[(70, "PUBLIC"), (10, "PRIVATE"), (10, "INCLUDE"), (10, "EXCLUDE")]) {
                // Without friends there is no one to name: the moment stays public.
                "PUBLIC" => {}
                _ if friends.is_empty() => {}
                "PRIVATE" => line["audience"] = json!({ "mode": "PRIVATE" }),
                mode => {
                    let named: Vec<String> = (0..rng.random_range(1..=3))
                        .map(|_| handle(friends[rng.random_range(0..friends.len())]))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let tags: Vec<&str> = if rng.random_bool(0.3) { vec!["close"] } else { vec![] };
                    line["audience"] = json!({ "mode": mode, "users": named, "tags": tags });
                }
            }
            emit(out, line)?;
        }
        pinnable.shuffle(&mut rng);
        for reference in pinnable.into_iter().take(shape.pins) {
            emit(out, json!({ "type": "pin", "moment": reference }))?;
        }
    }
    out.flush()?;
    Ok(lines)
}
