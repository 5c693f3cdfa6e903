//! Opaque, authenticated cursors: a keyset position (postedAt, id) bound to the list it came from,
//! with a MAC so a client can neither forge a position nor carry a cursor to another list.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;

use rules::UserId;

use store::lists::Position;

use crate::{
    auth::Keys,
    error::{Error, Result},
};

/// The list a cursor belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The lists of this author's profile: the timeline and the pinned moments, which share one
    /// order, so a position in one is a position in the other.
    Author(UserId),
    /// The feed of this viewer.
    Feed(UserId),
}

fn payload(scope: Scope, (posted_at, id): Position) -> String {
    let (list, owner) = match scope {
        Scope::Author(author) => ("a", author),
        Scope::Feed(viewer) => ("f", viewer),
    };
    format!("{list}:{owner}:{}:{id}", posted_at.timestamp_micros())
}

/// The cursor of a position in a list.
pub(crate) fn encode(keys: &Keys, scope: Scope, position: Position) -> String {
    let payload = payload(scope, position);
    let mut bytes = payload.into_bytes();
    let tag = keys.cursor_tag(&bytes);
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The position a cursor names, if it was made by this server for this list.
pub(crate) fn decode(keys: &Keys, scope: Scope, cursor: &str) -> Result<Position> {
    let refused = || Error::bad_input("after: this cursor is not valid for this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| refused())?;
    if bytes.len() <= 12 {
        return Err(refused());
    }
    let (body, tag) = bytes.split_at(bytes.len() - 12);
    if !keys.cursor_tag_matches(body, tag) {
        return Err(refused());
    }
    let text = std::str::from_utf8(body).map_err(|_| refused())?;
    let mut parts = text.split(':');
    let (Some(_), Some(_), Some(micros), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    let micros: i64 = micros.parse().map_err(|_| refused())?;
    let id: i64 = id.parse().map_err(|_| refused())?;
    let position = (DateTime::from_timestamp_micros(micros).ok_or_else(refused)?, id);
    // The scope is part of what the MAC covers: a cursor of another list fails here.
    if payload(scope, position) != text {
        return Err(refused());
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn cursors_read_back_only_in_their_own_list_and_unaltered() {
        let keys = Keys::from_secret(b"a test secret that is long enough!!", "deployment-a");
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let cursor = encode(&keys, Scope::Author(7), (at, 42));
        assert_eq!(decode(&keys, Scope::Author(7), &cursor).unwrap(), (at, 42));
        assert!(decode(&keys, Scope::Author(8), &cursor).is_err());
        assert!(decode(&keys, Scope::Feed(7), &cursor).is_err());
        let mut raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        raw[2] ^= 1;
        assert!(decode(&keys, Scope::Author(7), &URL_SAFE_NO_PAD.encode(raw)).is_err());
        let other_keys = Keys::from_secret(b"another secret, also long enough!!!", "deployment-a");
        assert!(decode(&other_keys, Scope::Author(7), &cursor).is_err());
        let other_deployment = Keys::from_secret(b"a test secret that is long enough!!", "deployment-b");
        assert!(decode(&other_deployment, Scope::Author(7), &cursor).is_err());
    }
}
