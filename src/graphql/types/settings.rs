//! `MomentsSettings`: how far back others may look at a user's moments, whether strangers may, and
//! whom they are hidden from. Only the owner reads them.

use crate::limits::{MAX_PAGE, OWNER_LIST_COST};
use async_graphql::{Context, Object};

use super::{
    VisibleWindow,
    connection::full_page_cost,
    user::{User, owned_users},
};
use crate::error::ApiResult;
use rules::UserId;
use store::{friends::Related, users::SettingsRecord};

/// A user's moments settings.
pub(crate) struct MomentsSettings {
    /// The user whose settings these are.
    pub user: UserId,
    /// The values.
    pub record: SettingsRecord,
}

/// A user's moments settings: how far back others may look, and whether strangers may look.
#[Object]
impl MomentsSettings {
    /// How far back others may look.
    async fn visible_window(&self) -> VisibleWindow {
        self.record.visible_window.into()
    }

    /// Whether strangers may see the ten newest public moments.
    async fn strangers_can_view(&self) -> bool {
        self.record.strangers_can_view
    }

    /// Users from whom all the owner's moments are hidden, pinned ones included, by handle, 100 at
    /// a time.
    #[graphql(complexity = "OWNER_LIST_COST + full_page_cost(first) * child_complexity")]
    async fn hidden_from(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many, 0 to 100.", default_with = "Some(MAX_PAGE)")] first: Option<i32>,
        #[graphql(desc = "The handle of the last user of the previous page.")] after: Option<String>,
    ) -> ApiResult<Vec<User>> {
        Ok(owned_users(ctx, self.user, Related::HiddenFrom, first, after).await?)
    }
}
