//! DataLoaders: everything a list of moments needs per row (authors, whether they are the viewer's
//! friends, audiences, tags and their members) is fetched in one query per kind for the whole page.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use rules::{
    UserId,
    model::{MomentId, TagId},
};

use store::{audiences, friends, tags, tags::TagRecord, users, users::UserRecord};

use crate::error::Error;

/// Errors a loader shares with every field that waited on it.
pub(crate) type LoadError = Arc<Error>;

/// Users by id.
pub(crate) struct UserLoader(pub DatabaseConnection);

impl Loader<UserId> for UserLoader {
    type Value = UserRecord;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, UserRecord>, LoadError> {
        users::by_ids(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Whether each user is a friend of the request's viewer.
pub(crate) struct FriendLoader {
    /// The database.
    pub db: DatabaseConnection,
    /// The request's viewer.
    pub viewer: UserId,
}

impl Loader<UserId> for FriendLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, bool>, LoadError> {
        let friends = friends::friends_among(&self.db, self.viewer, keys).await.map_err(Arc::new)?;
        Ok(keys.iter().map(|k| (*k, friends.contains(k))).collect())
    }
}

/// The audience lists (user ids, tag ids) of moments.
pub(crate) struct AudienceLoader(pub DatabaseConnection);

impl Loader<MomentId> for AudienceLoader {
    type Value = (Vec<UserId>, Vec<TagId>);
    type Error = LoadError;

    async fn load(&self, keys: &[MomentId]) -> Result<HashMap<MomentId, Self::Value>, LoadError> {
        audiences::audience_lists(&self.0, keys).await.map_err(Arc::new)
    }
}

/// Tags by id.
pub(crate) struct TagLoader(pub DatabaseConnection);

impl Loader<TagId> for TagLoader {
    type Value = TagRecord;
    type Error = LoadError;

    async fn load(&self, keys: &[TagId]) -> Result<HashMap<TagId, TagRecord>, LoadError> {
        tags::tags_by_ids(&self.0, keys).await.map_err(Arc::new)
    }
}

/// The member ids of tags.
pub(crate) struct TagMembersLoader(pub DatabaseConnection);

impl Loader<TagId> for TagMembersLoader {
    type Value = Vec<UserId>;
    type Error = LoadError;

    async fn load(&self, keys: &[TagId]) -> Result<HashMap<TagId, Vec<UserId>>, LoadError> {
        tags::tag_member_ids(&self.0, keys).await.map_err(Arc::new)
    }
}
