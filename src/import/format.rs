//! The line format of docs/rules.md §5: one JSON record per line, read with a bound on each line's length,
//! and the times it holds.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::report::{ImportError, Refused, refused};
use crate::clock::to_micros;
use rules::content::{GivenContent, GivenMedia};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum Line {
    User(UserLine),
    Friendship(FriendshipLine),
    Tag(TagLine),
    Settings(SettingsLine),
    Moment(MomentLine),
    Pin(PinLine),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct UserLine {
    pub(super) handle: String,
    pub(super) display_name: String,
    pub(super) password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FriendshipLine {
    pub(super) users: [String; 2],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct TagLine {
    pub(super) owner: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SettingsLine {
    pub(super) user: String,
    pub(super) visible_window: Option<String>,
    pub(super) strangers_can_view: Option<bool>,
    pub(super) hidden_from: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct MediaLine {
    pub(super) url: String,
    pub(super) width: Option<i32>,
    pub(super) height: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ArticleLine {
    pub(super) url: String,
    pub(super) title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AudienceLine {
    pub(super) mode: String,
    #[serde(default)]
    pub(super) users: Vec<String>,
    #[serde(default)]
    pub(super) tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct MomentLine {
    #[serde(rename = "ref")]
    pub(super) reference: Option<String>,
    pub(super) author: String,
    pub(super) text: Option<String>,
    pub(super) images: Option<Vec<MediaLine>>,
    pub(super) video: Option<MediaLine>,
    pub(super) article: Option<ArticleLine>,
    pub(super) posted_at: Option<String>,
    pub(super) audience: Option<AudienceLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PinLine {
    pub(super) moment: String,
    pub(super) pinned_at: Option<String>,
}

/// How far ahead of the importing machine's clock a time may be: clocks differ a little, but a
/// moment "posted" next year would sit above everything else until then.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The longest line read: a moment with nine pictures and the longest text is about 30 KB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A time of the file: RFC 3339, and not after `now` (plus [`MAX_CLOCK_SKEW`]).
pub(super) fn time(field: &str, raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refused> {
    let t = DateTime::parse_from_rfc3339(raw)
        .map(|t| to_micros(t.with_timezone(&Utc)))
        .map_err(|e| Refused(format!("{field}: {raw:?} is not an RFC 3339 date and time ({e})")))?;
    if t > now + MAX_CLOCK_SKEW {
        return refused(format!(
            "{field}: {raw:?} is in the future (the import runs at {}); times must not be later than now",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    Ok(t)
}

/// The lines of the file, each checked to be UTF-8 and at most [`MAX_LINE_BYTES`] long, with a
/// byte-order mark at the start of the file skipped.
pub(super) struct Lines<R> {
    input: R,
    buffer: Vec<u8>,
    number: usize,
}

impl<R> Lines<R> {
    /// The lines of `input`.
    pub(super) fn new(input: R) -> Self {
        Self { input, buffer: Vec::new(), number: 0 }
    }
}

impl<R: BufRead> Lines<R> {
    pub(super) fn next_line(&mut self) -> Result<Option<(usize, &str)>, ImportError> {
        use std::io::Read as _;
        self.buffer.clear();
        let read = (&mut self.input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = self.number;
        if self.buffer.len() > MAX_LINE_BYTES && !self.buffer.ends_with(b"\n") {
            return Err(ImportError::Line { line, message: format!("longer than {} KiB", MAX_LINE_BYTES / 1024) });
        }
        let mut bytes = &self.buffer[..];
        for end in [&b"\n"[..], b"\r"] {
            bytes = bytes.strip_suffix(end).unwrap_or(bytes);
        }
        if line == 1 {
            bytes = bytes.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(bytes);
        }
        std::str::from_utf8(bytes).map(|text| Some((line, text))).map_err(|e| ImportError::Line {
            line,
            message: format!("not UTF-8 text (an invalid byte at column {})", e.valid_up_to() + 1),
        })
    }
}

impl MediaLine {
    fn given(&self) -> GivenMedia<'_> {
        GivenMedia { url: &self.url, width: self.width, height: self.height }
    }
}

impl MomentLine {
    /// The content as given, for the parser `postMoment` uses too.
    pub(super) fn content(&self) -> GivenContent<'_> {
        GivenContent {
            text: self.text.as_deref(),
            images: self.images.as_ref().map(|list| list.iter().map(MediaLine::given).collect()),
            video: self.video.as_ref().map(MediaLine::given),
            article: self.article.as_ref().map(|a| (a.url.as_str(), a.title.as_str())),
        }
    }
}
