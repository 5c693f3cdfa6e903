//! Who sees what (docs/rules.md §2, rules V1–V8), as pure functions of the facts about one viewer, one author
//! and one moment. The store builds the same rules as SQL conditions (`store::visibility`); the
//! [`reference`] world below lists moments with these functions alone, and tests hold the SQL to it.

use chrono::{DateTime, Duration, Months, Utc};

use super::model::{AudienceMode, UserId, VisibleWindow};

/// A stranger's timeline holds at most this many moments: the newest public ones inside the window (V5).
pub const STRANGER_TIMELINE_CAP: usize = 10;

/// Where a viewer stands to an author; the first rule that applies decides (V1, V3, V4, V5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The viewer is the author (V1): everything, any audience, any age.
    Author,
    /// The author hides their moments from the viewer (V3): nothing, pinned ones included.
    Hidden,
    /// A mutual friend (V4): the audience decides.
    Friend,
    /// Anyone else (V5): public moments, if the author lets strangers look.
    Stranger,
}

impl Relation {
    /// Decides the relation from the facts; hiding wins over friendship, and being the author over both.
    pub fn of(is_author: bool, is_hidden: bool, is_friend: bool) -> Self {
        if is_author {
            Self::Author
        } else if is_hidden {
            Self::Hidden
        } else if is_friend {
            Self::Friend
        } else {
            Self::Stranger
        }
    }
}

/// What the rules need to know about one viewer looking at one author: the facts every list of
/// that author's moments is decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// Who is looking.
    pub viewer: UserId,
    /// Whose moments.
    pub author: UserId,
    /// Where the viewer stands to the author.
    pub relation: Relation,
    /// The author's visible window.
    pub window: VisibleWindow,
    /// Whether the author lets strangers see public moments.
    pub strangers_can_view: bool,
}

/// What an [`Access`] lets the viewer see, as a value: two accesses with the same view show the
/// viewer the same moments of the author, whatever else differs between them (a window that
/// binds nobody the viewer could see, a setting for strangers shown to a friend).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Which audiences admit the viewer, listed and not listed, in [`AudienceMode::ALL_VALUES`]
    /// order.
    admits: Vec<(bool, bool)>,
    /// The window that bounds the timeline, when one does and the viewer sees anything.
    window: Option<VisibleWindow>,
    /// Whether the timeline is a stranger's, capped to the newest ten.
    capped: bool,
}

impl Access {
    /// What these facts let the viewer see (see [`View`]).
    pub fn view(&self) -> View {
        let admits: Vec<_> = AudienceMode::ALL_VALUES
            .iter()
            .map(|&mode| {
                let admits = |listed| can_see(self.relation, mode, listed, self.strangers_can_view);
                (admits(true), admits(false))
            })
            .collect();
        let sees_any = admits.iter().any(|&(listed, unlisted)| listed || unlisted);
        View {
            admits,
            window: (sees_any && window_applies(self.relation)).then_some(self.window),
            capped: sees_any && self.relation == Relation::Stranger,
        }
    }
}

/// Whether a friend is let in by the audience (V4). `listed` is whether the friend is named in the
/// audience's users or is a member, now, of one of its tags.
pub fn audience_admits_friend(mode: AudienceMode, listed: bool) -> bool {
    match mode {
        AudienceMode::Public => true,
        AudienceMode::Private => false,
        AudienceMode::Include => listed,
        AudienceMode::Exclude => !listed,
    }
}

/// `canSee` of docs/rules.md §2: the audience part of the rules, without the window.
pub fn can_see(relation: Relation, mode: AudienceMode, listed: bool, strangers_can_view: bool) -> bool {
    match relation {
        Relation::Author => true,
        Relation::Hidden => false,
        Relation::Friend => audience_admits_friend(mode, listed),
        Relation::Stranger => strangers_can_view && mode == AudienceMode::Public,
    }
}

/// The oldest `postedAt` still inside the window at `now`, or `None` when there is no bound (V6).
/// Months are calendar months (a day that does not exist in the target month falls back to its last
/// day); three days are 72 hours.
pub fn window_start(window: VisibleWindow, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match window {
        VisibleWindow::All => None,
        VisibleWindow::SixMonths => Some(months_before(now, 6)),
        VisibleWindow::OneMonth => Some(months_before(now, 1)),
        VisibleWindow::ThreeDays => Some(now - Duration::hours(72)),
    }
}

/// `now` minus whole calendar months, clamped to the earliest time chrono can represent.
pub fn months_before(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether a moment posted at `posted_at` is inside the window at `now`; the boundary itself is inside (V6).
pub fn in_window(window: VisibleWindow, posted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    window_start(window, now).is_none_or(|start| posted_at >= start)
}

/// Whether the window applies to this viewer at all: never to the author (V1, V6).
pub fn window_applies(relation: Relation) -> bool {
    relation != Relation::Author
}

/// What decides whether one moment resolves for one viewer in `moment(id)` (docs/rules.md §2: it is in its
/// author's timeline or pinned set as the viewer sees them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MomentFacts {
    /// Where the viewer stands to the author.
    pub relation: Relation,
    /// The moment's audience.
    pub audience: AudienceMode,
    /// Whether the viewer is named in the audience or is now in one of its tags.
    pub listed: bool,
    /// Whether the author lets strangers see public moments.
    pub strangers_can_view: bool,
    /// The author's window.
    pub window: VisibleWindow,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Whether it is pinned.
    pub pinned: bool,
    /// Whether the author has at least [`STRANGER_TIMELINE_CAP`] newer public moments. (Every
    /// newer moment is inside the window when this one is, so those are the ones a stranger's
    /// timeline would show before it.)
    pub newer_public_fill_the_cap: bool,
}

/// Whether the moment is in the author's pinned set (canSee, any age, V7) or timeline (canSee, in
/// the window, and for a stranger among the ten newest, V5) as the viewer sees them.
pub fn moment_visible(facts: &MomentFacts, now: DateTime<Utc>) -> bool {
    if !can_see(facts.relation, facts.audience, facts.listed, facts.strangers_can_view) {
        return false;
    }
    if facts.pinned {
        return true;
    }
    let inside = !window_applies(facts.relation) || in_window(facts.window, facts.posted_at, now);
    inside && (facts.relation != Relation::Stranger || !facts.newer_public_fill_the_cap)
}

pub mod reference {
    //! A whole world in memory and the lists docs/rules.md §2 derives from it, computed with the rules above
    //! and nothing else. Slow and obviously right; tests compare every API listing with it.

    use std::collections::{HashMap, HashSet};

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::model::{MomentId, MomentKind, TagId, UserId};

    /// A user's moments settings, as the rules read them.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Settings {
        /// How far back others may look.
        pub window: VisibleWindow,
        /// Whether strangers may see the ten newest public moments.
        pub strangers_can_view: bool,
    }

    /// One moment with everything the rules read.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Moment {
        /// Ids grow with creation: among equal `posted_at`, the larger id comes first.
        pub id: MomentId,
        /// Who posted it.
        pub author: UserId,
        /// Its kind.
        pub kind: MomentKind,
        /// When it was posted.
        pub posted_at: DateTime<Utc>,
        /// Its audience mode.
        pub audience: AudienceMode,
        /// Users named in the audience.
        pub audience_users: HashSet<UserId>,
        /// Tags named in the audience.
        pub audience_tags: HashSet<TagId>,
        /// Whether the author pinned it.
        pub pinned: bool,
    }

    /// Users, friendships, tags, settings, hidden-from lists and moments.
    #[derive(Clone, Debug, Default)]
    pub struct World {
        /// Every user.
        pub users: Vec<UserId>,
        /// Friendships, stored in both directions.
        pub friends: HashSet<(UserId, UserId)>,
        /// Tag id → (owner, members).
        pub tags: HashMap<TagId, (UserId, HashSet<UserId>)>,
        /// Settings by user; a user without an entry has the defaults.
        pub settings: HashMap<UserId, Settings>,
        /// (owner, hidden user): the owner hides all their moments from the hidden user.
        pub hidden: HashSet<(UserId, UserId)>,
        /// Every moment that exists (deleted ones are simply gone, V8).
        pub moments: Vec<Moment>,
    }

    impl World {
        /// Makes two users friends (both directions).
        pub fn befriend(&mut self, a: UserId, b: UserId) {
            self.friends.insert((a, b));
            self.friends.insert((b, a));
        }

        fn settings_of(&self, user: UserId) -> Settings {
            self.settings.get(&user).cloned().unwrap_or_default()
        }

        /// Where `viewer` stands to `author`.
        pub fn relation(&self, viewer: UserId, author: UserId) -> Relation {
            Relation::of(
                viewer == author,
                self.hidden.contains(&(author, viewer)),
                self.friends.contains(&(author, viewer)),
            )
        }

        fn listed(&self, viewer: UserId, moment: &Moment) -> bool {
            moment.audience_users.contains(&viewer)
                || moment
                    .audience_tags
                    .iter()
                    .any(|tag| self.tags.get(tag).is_some_and(|(_, members)| members.contains(&viewer)))
        }

        /// `canSee` (V1, V3–V5), without the window.
        pub fn can_see(&self, viewer: UserId, moment: &Moment) -> bool {
            let relation = self.relation(viewer, moment.author);
            let settings = self.settings_of(moment.author);
            can_see(relation, moment.audience, self.listed(viewer, moment), settings.strangers_can_view)
        }

        /// Whether the window of the author lets `viewer` see the moment (V6; never binds the author).
        pub fn in_window_for(&self, viewer: UserId, moment: &Moment, now: DateTime<Utc>) -> bool {
            let relation = self.relation(viewer, moment.author);
            !window_applies(relation) || in_window(self.settings_of(moment.author).window, moment.posted_at, now)
        }

        fn newest_first<'a>(&'a self, mut list: Vec<&'a Moment>) -> Vec<&'a Moment> {
            list.sort_by(|a, b| b.posted_at.cmp(&a.posted_at).then(b.id.cmp(&a.id)));
            list
        }

        /// `Profile.timeline`: the author's moments with canSee and in the window, newest first;
        /// a stranger gets the ten newest of those, counted before pinned ones are left out (V5, P9).
        pub fn timeline(
            &self,
            viewer: UserId,
            author: UserId,
            now: DateTime<Utc>,
            exclude_pinned: bool,
        ) -> Vec<MomentId> {
            let candidates = self.newest_first(
                self.moments
                    .iter()
                    .filter(|m| m.author == author)
                    .filter(|m| self.can_see(viewer, m) && self.in_window_for(viewer, m, now))
                    .collect(),
            );
            let cap = match self.relation(viewer, author) {
                Relation::Stranger => STRANGER_TIMELINE_CAP,
                _ => usize::MAX,
            };
            candidates.into_iter().take(cap).filter(|m| !(exclude_pinned && m.pinned)).map(|m| m.id).collect()
        }

        /// `Profile.pinned`: the author's pinned moments with canSee, any age (V7), newest posted first (P7).
        pub fn pinned(&self, viewer: UserId, author: UserId) -> Vec<MomentId> {
            self.newest_first(
                self.moments.iter().filter(|m| m.author == author && m.pinned && self.can_see(viewer, m)).collect(),
            )
            .into_iter()
            .map(|m| m.id)
            .collect()
        }

        /// `Query.feed`: the viewer's own moments and their friends' moments the viewer can see inside
        /// each author's window, newest first; pins change nothing here (P8).
        pub fn feed(&self, viewer: UserId, now: DateTime<Utc>) -> Vec<MomentId> {
            self.newest_first(
                self.moments
                    .iter()
                    .filter(|m| m.author == viewer || self.friends.contains(&(viewer, m.author)))
                    .filter(|m| self.can_see(viewer, m) && self.in_window_for(viewer, m, now))
                    .collect(),
            )
            .into_iter()
            .map(|m| m.id)
            .collect()
        }

        /// Whether `moment(id)` resolves for `viewer`: the moment is in its author's timeline or pinned
        /// set as the viewer sees them.
        pub fn visible(&self, viewer: UserId, moment: MomentId, now: DateTime<Utc>) -> bool {
            let Some(m) = self.moments.iter().find(|m| m.id == moment) else {
                return false;
            };
            self.timeline(viewer, m.author, now, false).contains(&moment)
                || self.pinned(viewer, m.author).contains(&moment)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
    }

    #[test]
    fn two_accesses_have_the_same_view_exactly_when_they_show_the_same_moments() {
        let access = |relation, window, strangers_can_view| Access {
            viewer: 2,
            author: 1,
            relation,
            window,
            strangers_can_view,
        };
        let same = |a: Access, b: Access| a.view() == b.view();
        use {Relation::*, VisibleWindow::*};
        // What a friend sees does not depend on what strangers may see.
        assert!(same(access(Friend, All, true), access(Friend, All, false)));
        // Seeing nothing is seeing nothing, whatever the window or the reason.
        assert!(same(access(Hidden, All, true), access(Stranger, ThreeDays, false)));
        assert!(same(access(Stranger, All, false), access(Stranger, OneMonth, false)));
        // The author sees everything, any age.
        assert!(same(access(Author, All, false), access(Author, ThreeDays, true)));
        // A window binds friends and strangers who see anything.
        assert!(!same(access(Friend, All, true), access(Friend, ThreeDays, true)));
        assert!(!same(access(Stranger, All, true), access(Stranger, SixMonths, true)));
        // Strangers see public moments only while the author lets them, ten at most; friends see
        // by audience.
        assert!(!same(access(Stranger, All, true), access(Stranger, All, false)));
        assert!(!same(access(Stranger, All, true), access(Friend, All, true)));
        assert!(!same(access(Friend, All, true), access(Hidden, All, true)));
        assert!(!same(access(Friend, All, true), access(Author, All, true)));
    }

    #[test]
    fn six_months_are_calendar_months_and_the_boundary_is_inside() {
        let now = at(2026, 11, 26, 12);
        assert_eq!(window_start(VisibleWindow::SixMonths, now), Some(at(2026, 5, 26, 12)));
        assert!(in_window(VisibleWindow::SixMonths, at(2026, 5, 26, 12), now));
        assert!(!in_window(VisibleWindow::SixMonths, at(2026, 5, 26, 12) - Duration::microseconds(1), now));
    }

    #[test]
    fn one_month_back_from_the_31st_falls_on_the_last_day_of_the_shorter_month() {
        let now = at(2026, 3, 31, 8);
        assert_eq!(window_start(VisibleWindow::OneMonth, now), Some(at(2026, 2, 28, 8)));
    }

    #[test]
    fn three_days_are_seventy_two_hours() {
        let now = at(2026, 11, 26, 12);
        assert_eq!(window_start(VisibleWindow::ThreeDays, now), Some(at(2026, 11, 23, 12)));
        assert!(in_window(VisibleWindow::ThreeDays, at(2026, 11, 23, 12), now));
        assert!(!in_window(VisibleWindow::ThreeDays, at(2026, 11, 23, 11), now));
    }

    #[test]
    fn the_all_window_has_no_bound() {
        assert!(in_window(VisibleWindow::All, at(1990, 1, 1, 0), at(2026, 11, 26, 12)));
    }

    #[test]
    fn hiding_wins_over_friendship_and_the_author_sees_everything() {
        assert_eq!(Relation::of(true, true, true), Relation::Author);
        assert_eq!(Relation::of(false, true, true), Relation::Hidden);
        assert_eq!(Relation::of(false, false, true), Relation::Friend);
        assert_eq!(Relation::of(false, false, false), Relation::Stranger);
    }

    #[test]
    fn can_see_follows_the_audience_for_friends_and_public_for_strangers() {
        use AudienceMode::*;
        let cases = [
            (Relation::Author, Private, false, false, true),
            (Relation::Hidden, Public, true, true, false),
            (Relation::Friend, Public, false, false, true),
            (Relation::Friend, Private, true, false, false),
            (Relation::Friend, Include, true, false, true),
            (Relation::Friend, Include, false, false, false),
            (Relation::Friend, Exclude, true, false, false),
            (Relation::Friend, Exclude, false, false, true),
            (Relation::Stranger, Public, false, false, false),
            (Relation::Stranger, Public, false, true, true),
            (Relation::Stranger, Exclude, false, true, false),
        ];
        for (relation, mode, listed, strangers, expected) in cases {
            assert_eq!(
                can_see(relation, mode, listed, strangers),
                expected,
                "{relation:?} {mode:?} listed={listed} strangers={strangers}"
            );
        }
    }
}
