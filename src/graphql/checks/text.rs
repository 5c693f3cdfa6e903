//! The query's text, checked before it is parsed: its length, its number of tokens and how deep its
//! brackets nest; and whether it may be a subscription (a connection then waits for it to start
//! before it reads the next message).

use crate::limits::Limits;

/// The deepest a query's text may nest brackets — selection sets, arguments, list and object values
/// — checked before it is parsed: the parser recurses into each, and 2,000 nested `[` in an
/// argument ran a server thread out of stack.
pub(crate) const MAX_BRACKET_DEPTH: usize = Limits::DEFAULT.max_bracket_depth;
/// The longest query text accepted (its variables apart): an app's largest operations are a few
/// dozen kilobytes, and parsing is the one thing done before any limit can look at the query.
pub(crate) const MAX_QUERY_BYTES: usize = Limits::DEFAULT.max_query_bytes;
/// The most tokens (names, numbers, strings, punctuators) a query's text may hold, counted before
/// it is parsed: what parsing and validating cost grows with them. GraphiQL's introspection query
/// holds about 600, the web client's largest operation about 300.
pub(crate) const MAX_TOKENS: usize = Limits::DEFAULT.max_tokens;

/// The tokens of a query's text as the parser would split it: names, numbers (sign, point and
/// exponent included), strings (block strings too) and punctuators (`...` is one); blanks, commas
/// and comments are none. It never fails: a text the parser refuses is split somehow, and the
/// parser says what is wrong with it.
struct Tokens<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let text = self.text;
        loop {
            let start = self.at;
            let end = match *text.get(start)? {
                b'#' => {
                    let line = text[start..].iter().position(|b| matches!(b, b'\n' | b'\r'));
                    self.at = line.map_or(text.len(), |n| start + n);
                    continue;
                }
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                    self.at += 1;
                    continue;
                }
                b'"' if text[start..].starts_with(b"\"\"\"") => {
                    let mut i = start + 3;
                    while i < text.len() && !text[i..].starts_with(b"\"\"\"") {
                        i += if text[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                    }
                    i + 3
                }
                b'"' => {
                    let mut i = start + 1;
                    while i < text.len() && text[i] != b'"' {
                        i += if text[i] == b'\\' { 2 } else { 1 };
                    }
                    i + 1
                }
                b'.' if text[start..].starts_with(b"...") => start + 3,
                b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                    let rest = text[start + 1..]
                        .iter()
                        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')));
                    rest.map_or(text.len(), |n| start + 1 + n)
                }
                _ => start + 1,
            };
            self.at = end.min(text.len());
            return Some(&text[start..self.at]);
        }
    }
}

fn tokens(query: &str) -> Tokens<'_> {
    Tokens { text: query.as_bytes(), at: 0 }
}

/// Whether a query's text has the word `subscription` outside strings and comments: whether it may
/// hold a subscription, told without parsing it (no field of the schema is so named).
pub(crate) fn mentions_subscription(query: &str) -> bool {
    tokens(query).any(|token| token == b"subscription")
}

/// Checks a query's text before it is parsed: at most [`MAX_QUERY_BYTES`] and [`MAX_TOKENS`], and
/// brackets nested at most [`MAX_BRACKET_DEPTH`] deep, outside strings and comments.
pub(crate) fn check_text(query: &str) -> Result<(), String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!(
            "the query's text is longer than {} KiB (its variables do not count): send a shorter one",
            MAX_QUERY_BYTES / 1024
        ));
    }
    let mut depth = 0usize;
    for (count, token) in tokens(query).enumerate() {
        if count == MAX_TOKENS {
            return Err(format!("the query holds more than {MAX_TOKENS} tokens: send a shorter one"));
        }
        match token {
            b"{" | b"[" | b"(" => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(format!("the query nests brackets more than {MAX_BRACKET_DEPTH} deep"));
                }
            }
            b"}" | b"]" | b")" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::super::check;

    use super::*;

    #[test]
    fn deeply_nested_brackets_are_refused_before_parsing_and_strings_do_not_count() {
        let deep = format!("{{ user(handle: {}\"a\"{}) {{ id }} }}", "[".repeat(2_000), "]".repeat(2_000));
        assert_eq!(check_text(&deep), Err("the query nests brackets more than 64 deep".into()));
        let objects = format!("{{ user(handle: {}1{}) {{ id }} }}", "{a:".repeat(100), "}".repeat(100));
        assert!(check_text(&objects).is_err());
        let quoted = format!("{{ user(handle: \"{}\") {{ id }} }} # {}", "[".repeat(2_000), "{".repeat(100));
        check_text(&quoted).unwrap();
        let block = format!("query {{ a(x: \"\"\"{}\\\"\"\"\"\"\") }}", "(".repeat(200));
        check_text(&block).unwrap();
        check_text(&"{ viewer { profile { user { handle } } } }".repeat(10)).unwrap();
        let long_alias = format!("{{ {}: __typename }}", "a".repeat(65));
        assert_eq!(check(&parse_query(long_alias).unwrap()), Err("an alias may have at most 64 characters".into()));
    }

    #[test]
    fn the_word_subscription_is_found_outside_strings_and_comments_only() {
        assert!(mentions_subscription("subscription { profileChanged(handle: \"a\") { kind } }"));
        assert!(mentions_subscription("query Q { viewer { id } }\nsubscription S { x }"));
        assert!(!mentions_subscription("{ viewer { id } }"));
        assert!(!mentions_subscription("# subscription\n{ user(handle: \"subscription\") { id } }"));
        assert!(!mentions_subscription("{ subscriptions: viewer { id } }"));
        assert!(!mentions_subscription("{ a(x: \"\"\"subscription\"\"\") }"));
    }

    #[test]
    fn a_query_text_longer_than_the_limit_is_refused_before_it_is_parsed() {
        let long = format!("{{ {} }}", "a ".repeat(MAX_QUERY_BYTES / 2));
        assert_eq!(
            check_text(&long),
            Err("the query's text is longer than 64 KiB (its variables do not count): send a shorter one".into())
        );
    }

    #[test]
    fn a_query_text_of_more_tokens_than_the_limit_is_refused_before_it_is_parsed() {
        let refused = Err("the query holds more than 10000 tokens: send a shorter one".to_owned());
        // `{`, 9,998 names and `}`: the limit; one name more is past it.
        check_text(&format!("{{ {} }}", "a ".repeat(MAX_TOKENS - 2))).unwrap();
        assert_eq!(check_text(&format!("{{ {} }}", "a ".repeat(MAX_TOKENS - 1))), refused);
        // Names, numbers, strings and spreads are one token each however long; commas, spaces and
        // comments are none.
        let one = r#"f(a: -1.5e3, b: "x y z", c: """block "" string""") { ...F } # a comment with words"#;
        let fits = (MAX_TOKENS - 2) / 16; // 624 of them and the braces: 9,986 tokens
        check_text(&format!("{{\n{}\n}}", vec![one; fits].join(",\n"))).unwrap();
        assert_eq!(check_text(&format!("{{\n{}\n}}", vec![one; fits + 1].join(",\n"))), refused);
    }
}
