//! SeaORM entities: one module per table of the `migration` crate. These are storage rows, not API
//! types; the store maps them to what the rest of the server reads.

pub mod columns;
pub mod friend_requests;
pub mod friendships;
pub mod hidden_from;
pub mod moment_audience_tags;
pub mod moment_audience_users;
pub mod moment_media;
pub mod moments;
pub mod moments_settings;
pub mod pins;
pub mod removed_moment_listed;
pub mod removed_moments;
pub mod server_secrets;
pub mod tag_members;
pub mod tags;
pub mod users;
