//! Checks of a query before async-graphql validates it: its text ([`text`]), its size once parsed
//! ([`size`]) and the subscription rules ([`root`]).
//!
//! - Size. Validation walks fragment spreads inline, so a query whose fragments each spread the
//!   next one twice makes it walk 2^n fields: 25 such fragments in a 1 KB query kept a core busy
//!   for a minute. Here each fragment's size is worked out once (memoised), and a query that would
//!   expand to more fields than the complexity limit allows is refused before anything else looks
//!   at it.
//! - Introspection. The schema's own types (`__schema`, `__type`) are answered from memory and the
//!   complexity limit counts their lists as one item each, so aliases and nesting could multiply
//!   an answer without bound (`types { fields { type { fields { type { fields … }}}}}`). A query
//!   may hold one `__schema` and a few `__type`, nest their lists at most three deep (what the
//!   introspection queries of GraphiQL, Apollo and graphql-codegen need), and not ask for the same
//!   introspection field twice under two names.
//! - Subscriptions. The spec's rule that a subscription selects exactly one root field, and not an
//!   introspection one (nor skips or includes it: the spec's draft forbids that too): each root
//!   field would be a stream of its own, so one operation could otherwise open hundreds. The
//!   executor makes a stream of every field written at the root and looks into no fragment there,
//!   so a root field written twice under its one key, or inside a fragment, is rewritten as the
//!   spec reads it: one field with the selections merged ([`one_root_field`]).
//! - Size. A query's text is at most [`MAX_QUERY_BYTES`] (variables apart) and [`MAX_TOKENS`]
//!   tokens: parsing 250 KB of `{ a a a … }` took a core a third of a second and 80 MiB before any
//!   limit could look at it, and 64 KiB of it still 40 ms.

mod root;
mod size;
mod text;

use async_graphql::parser::types::ExecutableDocument;

pub(crate) use root::one_root_field;
use root::{needs_one_root_field, single_root_field};
use size::Introspection;
pub(crate) use size::{MAX_EXPANDED_SELECTIONS, MAX_FRAGMENTS, expanded_selections};
pub(crate) use text::{check_text, mentions_subscription};

/// Everything checked of a request before it runs: its text ([`check_text`]), then its parsed
/// document ([`check`]); the refusal's message, if any. A syntax error is left for execution to
/// report in the usual form. A subscription whose one root field is written more than once, or in
/// a fragment, is rewritten as one field ([`one_root_field`]).
pub(crate) fn check_request(request: &mut async_graphql::Request) -> Option<String> {
    if let Err(message) = check_text(&request.query) {
        return Some(message);
    }
    let document = request.parsed_query().ok()?;
    if let Err(message) = check(document) {
        return Some(message);
    }
    if needs_one_root_field(document) {
        let mut rewritten = document.clone();
        one_root_field(&mut rewritten);
        request.set_parsed_query(rewritten);
    }
    None
}

/// Refuses a document with too many fragments, or that expands to more than
/// [`MAX_EXPANDED_SELECTIONS`] selections, or whose introspection could multiply, or a subscription
/// of more than one root field (see the module's documentation).
pub(crate) fn check(document: &ExecutableDocument) -> Result<(), String> {
    // Validation looks at every definition, used or not: their number is bounded first.
    if document.fragments.len() > MAX_FRAGMENTS {
        return Err(format!("a query may define at most {MAX_FRAGMENTS} fragments"));
    }
    let selections = expanded_selections(document)?;
    if selections > MAX_EXPANDED_SELECTIONS {
        return Err(format!(
            "the query holds more than {MAX_EXPANDED_SELECTIONS} selections once its fragments are expanded"
        ));
    }
    // Small enough to walk with its fragments inline.
    let mut introspection = Introspection::default();
    for (_, operation) in document.operations.iter() {
        introspection.check(document, &operation.node.selection_set.node, None)?;
    }
    single_root_field(document)
}
