//! Every error of an answer carries a code: those async-graphql raises before resolvers run
//! (syntax, unknown fields, limits) are the client's to fix. An operation refused before it ran
//! lists at most [`MAX_REQUEST_ERRORS`] errors.

use crate::limits::Limits;
use async_graphql::{Response, ServerError};

use crate::error::code;

/// The most errors an operation refused before it ran is answered with, as graphql-js's validation
/// stops at 100: ten thousand unknown fields would otherwise be told in ten thousand errors (1.4 MB).
/// Field errors of an operation that ran are all kept: each explains a `null` in `data`.
pub(super) const MAX_REQUEST_ERRORS: usize = Limits::DEFAULT.max_request_errors;

/// Gives every error without a code one: errors async-graphql raises before resolvers run
/// (syntax, unknown fields, limits) are the client's to fix. A syntax error says what was expected
/// (its place is in `locations`): the parser's own message repeats the line it is on, which can be
/// the whole query. Past [`MAX_REQUEST_ERRORS`] such errors, the rest are told as one.
pub(super) fn with_codes(mut response: Response) -> Response {
    let refused = response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.extensions.as_ref().is_none_or(|x| x.get("code").is_none()));
    if refused && response.errors.len() > MAX_REQUEST_ERRORS {
        let more = response.errors.len() - MAX_REQUEST_ERRORS;
        response.errors.truncate(MAX_REQUEST_ERRORS);
        response.errors.push(ServerError::new(format!("and {more} more errors like these, not listed"), None));
    }
    for error in &mut response.errors {
        if let Some(concise) = concise_syntax_error(&error.message) {
            error.message = concise;
        }
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", code::GRAPHQL_VALIDATION_FAILED);
        }
    }
    response
}

/// The parser's message of a syntax error (` --> line:column`, the line, a caret, `= expected …`)
/// as `syntax error: expected …`; `None` for any other message.
fn concise_syntax_error(message: &str) -> Option<String> {
    if !message.starts_with(" --> ") {
        return None;
    }
    let expected = message.lines().find_map(|line| line.trim_start().strip_prefix("= "))?;
    Some(format!("syntax error: {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_says_what_was_expected_without_repeating_the_query() {
        let line = format!("{{ viewer {{ handle }} {}", "a ".repeat(10_000));
        let message = format!(
            " --> 1:9\n  |\n1 | {line}\n  |         ^---\n  |\n  = expected selection_set, selection, directive, or arguments"
        );
        assert_eq!(
            concise_syntax_error(&message).as_deref(),
            Some("syntax error: expected selection_set, selection, directive, or arguments")
        );
        assert_eq!(concise_syntax_error("Unknown field \"x\" on type \"Query\"."), None);
    }
}
