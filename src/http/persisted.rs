//! Automatic persisted queries, as Apollo's persisted-query link and other clients speak them: a
//! request may carry `extensions.persistedQuery = { version: 1, sha256Hash }` in place of its query
//! text. When the text is not known here the answer is `PersistedQueryNotFound` (code
//! `PERSISTED_QUERY_NOT_FOUND`) and the client sends the text with the hash, which is checked
//! against it and kept. So a query can travel as a short `GET` that a CDN may cache.
//!
//! The texts are kept in memory, least recently used first out, within [`MAX_ENTRIES`] texts and
//! [`MAX_BYTES`] bytes. Every server process keeps its own: a client sent to another replica is
//! asked for the text once more. The store is shared by every client, so one can learn whether a
//! text is known; texts hold the app's operations, and what a viewer asks about travels in
//! variables, which are never kept.

use crate::limits::Limits;
use std::{num::NonZeroUsize, sync::Mutex};

use async_graphql::Request;
use sha2::{Digest as _, Sha256};

use crate::error::code;

/// The most query texts kept.
pub(crate) const MAX_ENTRIES: usize = Limits::DEFAULT.persisted_queries;
/// The most bytes of query text kept.
pub(crate) const MAX_BYTES: usize = Limits::DEFAULT.persisted_query_bytes;

/// Why a persisted-query request cannot run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// The hash names no text known here: the client should send the text too.
    NotFound,
    /// The extension is malformed, or its hash is not the text's.
    Invalid(String),
}

impl Miss {
    /// The message and code of the error the client reads.
    pub(crate) fn message_and_code(&self) -> (String, &'static str) {
        match self {
            // Apollo's clients recognise this message; others read the code.
            Self::NotFound => ("PersistedQueryNotFound".to_owned(), code::PERSISTED_QUERY_NOT_FOUND),
            Self::Invalid(message) => (message.clone(), code::BAD_USER_INPUT),
        }
    }
}

struct Store {
    texts: lru::LruCache<[u8; 32], String>,
    bytes: usize,
}

/// The query texts known by hash.
pub(crate) struct PersistedQueries {
    store: Mutex<Store>,
}

impl Default for PersistedQueries {
    fn default() -> Self {
        Self::new()
    }
}

/// The 32 bytes a lowercase or uppercase hex SHA-256 names.
fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl PersistedQueries {
    /// An empty store.
    pub(crate) fn new() -> Self {
        let capacity = NonZeroUsize::new(MAX_ENTRIES).expect("a positive capacity");
        Self { store: Mutex::new(Store { texts: lru::LruCache::new(capacity), bytes: 0 }) }
    }

    /// Gives a request that names its query by hash the query's text, and keeps a text sent with
    /// its hash. Requests without the extension pass as they are.
    pub(crate) fn resolve(&self, request: &mut Request) -> Result<(), Miss> {
        let Some(extension) = request.extensions.remove("persistedQuery") else { return Ok(()) };
        let extension = extension.into_json().unwrap_or_default();
        if extension.get("version").and_then(|v| v.as_i64()) != Some(1) {
            return Err(Miss::Invalid("persistedQuery: only version 1 is supported".to_owned()));
        }
        let Some(hash) = extension.get("sha256Hash").and_then(|h| h.as_str()).and_then(parse_hash) else {
            return Err(Miss::Invalid("persistedQuery: sha256Hash must be 64 hexadecimal digits".to_owned()));
        };
        let mut store = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if request.query.is_empty() {
            let text = store.texts.get(&hash).ok_or(Miss::NotFound)?;
            request.query = text.clone();
            return Ok(());
        }
        if <[u8; 32]>::from(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(Miss::Invalid("persistedQuery: sha256Hash is not the SHA-256 of the query".to_owned()));
        }
        if request.query.len() <= MAX_BYTES && !store.texts.contains(&hash) {
            store.bytes += request.query.len();
            if let Some((_, old)) = store.texts.push(hash, request.query.clone()) {
                store.bytes -= old.len();
            }
            while store.bytes > MAX_BYTES {
                let Some((_, old)) = store.texts.pop_lru() else { break };
                store.bytes -= old.len();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".to_owned(),
            async_graphql::Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).unwrap(),
        );
        request
    }

    const QUERY: &str = "{ viewer { handle } }";

    fn hash_of(text: &str) -> String {
        Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_hash_is_asked_for_its_text_then_found() {
        let store = PersistedQueries::new();
        let hash = hash_of(QUERY);
        assert_eq!(store.resolve(&mut with_hash("", &hash)), Err(Miss::NotFound));
        assert_eq!(store.resolve(&mut with_hash(QUERY, &hash)), Ok(()));
        let mut by_hash = with_hash("", &hash.to_uppercase());
        assert_eq!(store.resolve(&mut by_hash), Ok(()));
        assert_eq!(by_hash.query, QUERY);
    }

    #[test]
    fn a_wrong_hash_is_refused_and_not_kept() {
        let store = PersistedQueries::new();
        let wrong = hash_of("{ __typename }");
        assert_eq!(
            store.resolve(&mut with_hash(QUERY, &wrong)),
            Err(Miss::Invalid("persistedQuery: sha256Hash is not the SHA-256 of the query".to_owned()))
        );
        assert_eq!(store.resolve(&mut with_hash("", &wrong)), Err(Miss::NotFound));
        assert!(matches!(store.resolve(&mut with_hash("", "xyz")), Err(Miss::Invalid(_))));
    }

    #[test]
    fn the_store_keeps_within_its_bytes() {
        let store = PersistedQueries::new();
        let big = format!("{{ __typename }}#{}", "x".repeat(MAX_BYTES / 3));
        let texts: Vec<String> = (0..4).map(|i| format!("{big}{i}")).collect();
        for text in &texts {
            store.resolve(&mut with_hash(text, &hash_of(text))).unwrap();
        }
        assert!(store.store.lock().unwrap().bytes <= MAX_BYTES);
        assert_eq!(store.resolve(&mut with_hash("", &hash_of(&texts[0]))), Err(Miss::NotFound));
        assert_eq!(store.resolve(&mut with_hash("", &hash_of(&texts[3]))), Ok(()));
    }
}
