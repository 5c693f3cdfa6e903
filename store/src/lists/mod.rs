//! Every list of moments, and the one moment by id: the only way the server reads moments to show.
//! Each list takes its visibility condition from [`super::visibility`] and applies it inside the one
//! statement that pages it, which also brings each moment's author, pin and media, so a page costs
//! the same few statements for 1 or 100 moments, and pages, cursors and `hasNextPage` only ever
//! see rows the viewer may see. A profile's lists are in `profile`, the feed in `feed`, the moment
//! by id in `moment`; what they share is here.

mod feed;
mod moment;
mod profile;
mod query;

pub use self::{
    feed::feed,
    moment::{moment_with_facts, visible_moment},
    profile::{pinned, timeline, view_differs},
    query::{ListPage, Page, Position},
};
// The statements themselves, for the tests that hold their plans.
#[cfg(feature = "test-support")]
pub use self::{
    feed::{FEED_SLICE, feed_statement},
    moment::visible_moment_statement,
    profile::{pinned_statement, timeline_statement},
};
