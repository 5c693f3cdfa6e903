//! Pages of moments: what `first` and `after` may be, what a page costs, reading a page in the
//! request's turn, and the Relay connection it is shown as.

use crate::limits::{DEFAULT_PAGE, MAX_PAGE};
use std::{future::Future, sync::Arc};

use async_graphql::{Context, SimpleObject};

use super::moment::Moment;
use crate::{
    error::{Error, Result},
    graphql::{
        budget::STATEMENT_COST_BYTES,
        context::{limits, services},
        cursor::{self, Scope},
    },
};
use store::{
    lists::{ListPage, Page},
    records::MomentRecord,
};

/// Where the `media` of a connection's moments may be selected.
pub(crate) const CONNECTION_MEDIA: &[&[&str]] = &[&["nodes"], &["edges", "node"]];

/// Whether the selection under one of `paths` asks for `media`.
pub(super) fn wants_media(ctx: &Context<'_>, paths: &[&[&str]]) -> bool {
    paths.iter().any(|path| {
        let mut look = ctx.look_ahead();
        for field in *path {
            look = look.field(field);
        }
        look.field("media").exists()
    })
}

/// How many items a page of `first` counts for in the complexity limit.
pub(crate) fn page_cost(first: Option<i32>) -> usize {
    first.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize
}

/// How many items a list whose `first` is 100 when left out (`pinned`, the owner's lists) counts
/// for in the complexity limit.
pub(crate) fn full_page_cost(first: Option<i32>) -> usize {
    first.unwrap_or(MAX_PAGE).clamp(0, MAX_PAGE) as usize
}

/// Checks `first` (0–100; `default` when left out or null).
pub(super) fn check_first_or(first: Option<i32>, default: i32) -> Result<u64> {
    let first = first.unwrap_or(default);
    if (0..=MAX_PAGE).contains(&first) {
        Ok(first as u64)
    } else {
        Err(Error::bad_input(format!("first: must be between 0 and {MAX_PAGE}, got {first}")))
    }
}

/// The page a list field asks for: `first` checked (`default` when left out), `after` decoded as a
/// cursor of `scope`, and whether the selection under one of `media_paths` asks for media.
pub(crate) fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    default: i32,
    after: Option<String>,
    scope: Scope,
    media_paths: &[&[&str]],
) -> Result<Page> {
    let first = check_first_or(first, default)?;
    let after = after.map(|c| cursor::decode(&services(ctx)?.keys, scope, &c)).transpose()?;
    Ok(Page { first, after, with_media: wants_media(ctx, media_paths) })
}

/// Reads a page of moments for this request: after the budget is checked, in the request's turn
/// (`read` runs only once the turn is held), and with what it took spent from the budget — every
/// statement past the turn's first, and what the rows read hold.
pub(crate) async fn read_page(ctx: &Context<'_>, read: impl Future<Output = Result<ListPage>>) -> Result<ListPage> {
    let limits = limits(ctx)?;
    let page = {
        let _turn = limits.statement_turn().await?;
        read.await?
    };
    limits.spend(page.statements.saturating_sub(1) * STATEMENT_COST_BYTES + page.bytes_read)?;
    Ok(page)
}

/// Spends what a list of moments holds from the request's budget.
pub(super) fn spend_moments(ctx: &Context<'_>, moments: &[MomentRecord]) -> Result<()> {
    limits(ctx)?.spend(moments.iter().map(MomentRecord::content_bytes).sum())
}

/// A page of moments as a connection, with a cursor of `scope` for each.
pub(crate) fn connection(ctx: &Context<'_>, page: ListPage, scope: Scope) -> Result<MomentConnection> {
    let keys = &services(ctx)?.keys;
    let edges: Vec<MomentEdge> = page
        .moments
        .into_iter()
        .map(|m| MomentEdge { cursor: cursor::encode(keys, scope, (m.posted_at, m.id)), node: Moment(Arc::new(m)) })
        .collect();
    Ok(MomentConnection {
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            has_previous_page: false,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
        edges,
    })
}

/// A page of moments.
#[derive(SimpleObject)]
pub(crate) struct MomentConnection {
    /// The moments with their cursors.
    pub edges: Vec<MomentEdge>,
    /// The moments.
    pub nodes: Vec<Moment>,
    /// Where the page is.
    pub page_info: PageInfo,
}

/// A moment and its cursor.
#[derive(SimpleObject)]
pub(crate) struct MomentEdge {
    /// Pass as `after` to continue after this moment.
    pub cursor: String,
    /// The moment.
    pub node: Moment,
}

/// Where a page is in its list.
#[derive(SimpleObject)]
pub(crate) struct PageInfo {
    /// Whether more moments follow.
    pub has_next_page: bool,
    /// Always `false`: lists are read forward only.
    pub has_previous_page: bool,
    /// The cursor of the first edge.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}
