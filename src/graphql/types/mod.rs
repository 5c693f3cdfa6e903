//! The object types of the schema (docs/rules.md §4), one module each, and the enums they share with
//! inputs. Storage records come in from the store; nothing here queries the database except
//! through the store or a loader, and no list of moments is read except through `store::lists`.

mod connection;
mod moment;
mod profile;
mod settings;
mod tag;
mod user;

use async_graphql::{Enum, ID, Interface};

pub(crate) use connection::{CONNECTION_MEDIA, MomentConnection, connection, page, page_cost, read_page};
pub(crate) use moment::{Moment, visible_moment};
pub(crate) use profile::{Profile, profile_of};
pub(crate) use settings::MomentsSettings;
pub(crate) use tag::Tag;
pub(crate) use user::User;

/// What a moment holds; it follows from the content.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "MomentKind", remote = "rules::MomentKind")]
pub enum MomentKind {
    /// Text only.
    Text,
    /// One to nine pictures, text optional.
    Images,
    /// One video, text optional.
    Video,
    /// A shared link with a title, text optional.
    Article,
}

/// Who among the author's friends may see a moment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "AudienceMode", remote = "rules::AudienceMode")]
pub enum AudienceMode {
    /// All the author's friends.
    Public,
    /// Only the author.
    Private,
    /// Only the listed friends and the members of the listed tags.
    Include,
    /// All friends except the listed ones and the members of the listed tags.
    Exclude,
}

/// How far back others may look at a user's moments.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "VisibleWindow", remote = "rules::VisibleWindow")]
pub enum VisibleWindow {
    /// Everything.
    All,
    /// The last six calendar months.
    SixMonths,
    /// The last calendar month.
    OneMonth,
    /// The last 72 hours.
    ThreeDays,
}

/// A reason the viewer cannot pin a moment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "PinBlocker", remote = "rules::pinning::PinBlocker")]
pub enum PinBlocker {
    /// Only the author can pin a moment.
    NotAuthor,
    /// Text and articles cannot be pinned; pictures and videos can.
    UnsupportedKind,
    /// Posted more than six calendar months ago.
    TooOld,
    /// Already pinned.
    AlreadyPinned,
    /// The pin limit of this server is reached.
    LimitReached,
    /// Pinning is not available to the viewer yet.
    PinningNotEnabled,
}

/// Where the viewer stands with another user as friends.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "store::friends::FriendState")]
pub enum FriendshipStatus {
    /// Mutual friends.
    Friends,
    /// The viewer asked; no answer yet.
    RequestSent,
    /// The other user asked; the viewer can accept.
    RequestReceived,
    /// Neither.
    None,
}

/// Something with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "An opaque global id."))]
pub(crate) enum Node {
    /// A user.
    User(User),
    /// A moment.
    Moment(Moment),
    /// A tag.
    Tag(Tag),
    /// A user's moments page.
    Profile(Profile),
}
