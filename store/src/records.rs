//! What the store answers with for a moment: its record, and the row a list reads it from.

use chrono::{DateTime, Utc};
use sea_orm::FromQueryResult;

use super::users::UserRecord;
use crate::entity::columns::{Audience, Kind};
use crate::error::Result;
use rules::{AudienceMode, MomentKind, UserId, model::MomentId};

/// A picture or video of a moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRecord {
    /// Where it is.
    pub url: String,
    /// Width in pixels.
    pub width: Option<i32>,
    /// Height in pixels.
    pub height: Option<i32>,
}

/// A moment with its pin state and media, as lists return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MomentRecord {
    /// Database id.
    pub id: MomentId,
    /// The author's id.
    pub author_id: UserId,
    /// Its kind.
    pub kind: MomentKind,
    /// Its text.
    pub text: Option<String>,
    /// The shared article's URL and title.
    pub article: Option<(String, String)>,
    /// Its audience mode.
    pub audience: AudienceMode,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// When it was pinned, if it is.
    pub pinned_at: Option<DateTime<Utc>>,
    /// Pictures in order, or the one video (empty when the list was asked without media).
    pub media: Vec<MediaRecord>,
    /// The author, when the query joined it (lists do).
    pub author: Option<UserRecord>,
    /// Whether the author is a friend of the viewer the list was made for, when joined.
    pub author_is_friend: Option<bool>,
}

impl MomentRecord {
    /// About how many bytes the record holds, for the request's content budget: its text, article,
    /// media URLs and author, and a fixed share for the rest.
    pub fn content_bytes(&self) -> usize {
        2 * super::users::RECORD_OVERHEAD_BYTES
            + self.text.as_ref().map_or(0, String::len)
            + self.article.as_ref().map_or(0, |(url, title)| url.len() + title.len())
            + self.media.iter().map(|m| 32 + m.url.len()).sum::<usize>()
            + self.author.as_ref().map_or(0, UserRecord::content_bytes)
    }
}

/// A moment as a list's statement reads it: its columns, its author's, its pin and its media.
#[derive(Debug, FromQueryResult)]
pub(super) struct MomentRow {
    id: i64,
    author_id: i64,
    kind: Kind,
    text: Option<String>,
    article_url: Option<String>,
    article_title: Option<String>,
    audience_mode: Audience,
    posted_at: DateTime<Utc>,
    pinned_at: Option<DateTime<Utc>>,
    author_handle: String,
    author_display_name: String,
    author_is_friend: bool,
    /// `[[url, width, height], …]` in order, when the list asked for media.
    media_json: Option<String>,
}

impl MomentRow {
    /// The record this row holds (its media decoded from the JSON the statement gathered).
    pub(super) fn into_record(self) -> Result<MomentRecord> {
        let media = match self.media_json.as_deref() {
            None => Vec::new(),
            Some(json) => serde_json::from_str::<Vec<(String, Option<i32>, Option<i32>)>>(json)
                .map_err(|e| anyhow::anyhow!("media of moment {} are not the expected JSON: {e}", self.id))?
                .into_iter()
                .map(|(url, width, height)| MediaRecord { url, width, height })
                .collect(),
        };
        Ok(MomentRecord {
            id: self.id,
            author_id: self.author_id,
            kind: self.kind.into(),
            text: self.text,
            article: self.article_url.zip(self.article_title),
            audience: self.audience_mode.into(),
            posted_at: self.posted_at,
            pinned_at: self.pinned_at,
            media,
            author: Some(UserRecord {
                id: self.author_id,
                handle: self.author_handle,
                display_name: self.author_display_name,
            }),
            author_is_friend: Some(self.author_is_friend),
        })
    }
}
