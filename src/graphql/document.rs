//! Checks on the shape of a query before async-graphql validates it.
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
//! - Size. A query's text is at most [`MAX_QUERY_BYTES`] (variables apart): parsing 250 KB of
//!   `{ a a a … }` took a core a third of a second and 80 MiB before any limit could look at it.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

use super::MAX_COMPLEXITY;

/// The most selections (fields, fragment spreads, inline fragments) a query may hold once its
/// fragments are expanded. Every field costs at least 1 in the complexity limit, so nothing under
/// it is refused here that would pass there.
pub const MAX_EXPANDED_SELECTIONS: usize = MAX_COMPLEXITY;
/// The most fragment definitions one query may hold (an app's largest queries hold a few dozen).
pub const MAX_FRAGMENTS: usize = 100;
/// The deepest a query may nest selections, fragments included: far above the depth limit (15), low
/// enough that walking it can never run out of stack.
pub const MAX_NESTING: usize = 64;
/// The deepest a query's text may nest brackets — selection sets, arguments, list and object values
/// — checked before it is parsed: the parser recurses into each, and 2,000 nested `[` in an
/// argument ran a server thread out of stack.
pub const MAX_BRACKET_DEPTH: usize = 64;
/// The longest alias accepted: each alias is written once per item of every list it sits in.
pub const MAX_ALIAS_CHARS: usize = 64;
/// The longest query text accepted (its variables apart): an app's largest operations are a few
/// dozen kilobytes, and parsing is the one thing done before any limit can look at the query.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Everything checked of a request before it runs: its text ([`check_text`]), then its parsed
/// document ([`check`]); the refusal's message, if any. A syntax error is left for execution to
/// report in the usual form. A subscription whose one root field is written more than once, or in
/// a fragment, is rewritten as one field ([`one_root_field`]).
pub fn check_request(request: &mut async_graphql::Request) -> Option<String> {
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

/// Whether a query's text has the word `subscription` outside strings and comments: whether it may
/// hold a subscription, told without parsing it (no field of the schema is so named).
pub fn mentions_subscription(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if &bytes[start..i] == b"subscription" {
                    return true;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Checks a query's text before it is parsed: at most [`MAX_QUERY_BYTES`], and brackets nested at
/// most [`MAX_BRACKET_DEPTH`] deep, outside strings and comments.
pub fn check_text(query: &str) -> Result<(), String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!(
            "the query's text is longer than {} KiB (its variables do not count): send a shorter one",
            MAX_QUERY_BYTES / 1024
        ));
    }
    let bytes = query.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(format!("the query nests brackets more than {MAX_BRACKET_DEPTH} deep"));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

struct Sizes<'a> {
    document: &'a ExecutableDocument,
    /// Fragments sized so far (`None` while one is being sized: meeting it again is a cycle).
    fragments: HashMap<&'a str, Option<usize>>,
}

impl<'a> Sizes<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<usize, String> {
        if depth > MAX_NESTING {
            return Err(format!("the query nests selections more than {MAX_NESTING} deep"));
        }
        let mut total = 0usize;
        for item in &set.items {
            // Every selection counts, so walking a chain of spreads of empty fragments costs too.
            let inner = match &item.node {
                Selection::Field(field) => {
                    if let Some(alias) = &field.node.alias
                        && alias.node.chars().count() > MAX_ALIAS_CHARS
                    {
                        return Err(format!("an alias may have at most {MAX_ALIAS_CHARS} characters"));
                    }
                    self.selection_set(&field.node.selection_set.node, depth + 1)?
                }
                Selection::InlineFragment(inline) => self.selection_set(&inline.node.selection_set.node, depth + 1)?,
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), depth + 1)?
                }
            };
            total = total.saturating_add(1).saturating_add(inner);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> Result<usize, String> {
        match self.fragments.get(name) {
            Some(Some(size)) => return Ok(*size),
            Some(None) => return Err(format!("the fragment `{name}` spreads itself")),
            None => {}
        }
        let Some(definition) = self.document.fragments.get(name) else {
            return Err(format!("the query spreads an unknown fragment `{name}`"));
        };
        self.fragments.insert(name, None);
        let size = self.selection_set(&definition.node.selection_set.node, depth)?;
        self.fragments.insert(name, Some(size));
        Ok(size)
    }
}

/// The number of selections the document's operations hold, with every fragment spread expanded;
/// an error for a fragment that is unknown or spreads itself, or nesting past [`MAX_NESTING`].
pub fn expanded_selections(document: &ExecutableDocument) -> Result<usize, String> {
    let mut sizes = Sizes { document, fragments: HashMap::new() };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(1).saturating_add(sizes.selection_set(&operation.node.selection_set.node, 0)?);
    }
    Ok(total)
}

/// The most `__schema` fields one query may select.
pub const MAX_SCHEMA_FIELDS: usize = 1;
/// The most `__type` fields one query may select.
pub const MAX_TYPE_FIELDS: usize = 20;
/// How deep the lists of the schema's own types may nest (`types { fields { args } }` is three).
pub const MAX_INTROSPECTION_LIST_DEPTH: usize = 3;

/// The fields of the introspection types that answer lists.
const INTROSPECTION_LISTS: [&str; 8] =
    ["types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues", "args", "directives"];

#[derive(Default)]
struct Introspection {
    schema_fields: usize,
    type_fields: usize,
}

impl Introspection {
    /// Checks every field under `set`, `lists` lists deep inside an introspection field (or outside
    /// one when `None`), recursing into sub-selections with fragments inline.
    fn check<'a>(
        &mut self,
        document: &'a ExecutableDocument,
        set: &'a SelectionSet,
        lists: Option<usize>,
    ) -> Result<(), String> {
        let mut selected = Vec::new();
        fields(document, set, &mut selected, &mut Vec::new());
        if lists.is_some() {
            let mut keys: HashMap<&str, &str> = HashMap::new();
            for field in &selected {
                let name = field.name.node.as_str();
                let key = field.alias.as_ref().map_or(name, |a| a.node.as_str());
                if *keys.entry(name).or_insert(key) != key {
                    return Err(format!(
                        "the query asks for the introspection field `{name}` twice under different names"
                    ));
                }
            }
        }
        for field in selected {
            let name = field.name.node.as_str();
            let inner = match (lists, name) {
                (None, "__schema") => {
                    self.schema_fields += 1;
                    Some(0)
                }
                (None, "__type") => {
                    self.type_fields += 1;
                    Some(0)
                }
                (None, _) => None,
                (Some(depth), _) if INTROSPECTION_LISTS.contains(&name) => Some(depth + 1),
                (Some(depth), _) => Some(depth),
            };
            if self.schema_fields > MAX_SCHEMA_FIELDS || self.type_fields > MAX_TYPE_FIELDS {
                return Err(format!(
                    "a query may ask for `__schema` at most {MAX_SCHEMA_FIELDS} time and for `__type` at most {MAX_TYPE_FIELDS} times"
                ));
            }
            if inner.is_some_and(|depth| depth > MAX_INTROSPECTION_LIST_DEPTH) {
                return Err(format!(
                    "the lists of the schema's own types may nest at most {MAX_INTROSPECTION_LIST_DEPTH} deep"
                ));
            }
            self.check(document, &field.selection_set.node, inner)?;
        }
        Ok(())
    }
}

/// The fields of `set`, with fragments spread inline (a fragment that spreads itself is not entered
/// again).
fn fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    out: &mut Vec<&'a async_graphql::parser::types::Field>,
    spreading: &mut Vec<&'a str>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => out.push(&field.node),
            Selection::InlineFragment(inline) => fields(document, &inline.node.selection_set.node, out, spreading),
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if spreading.contains(&name) {
                    continue;
                }
                if let Some(fragment) = document.fragments.get(name) {
                    spreading.push(name);
                    fields(document, &fragment.node.selection_set.node, out, spreading);
                    spreading.pop();
                }
            }
        }
    }
}

/// The spec's "single root field" rule: every subscription operation of the document selects
/// exactly one field at its root (one response key, however many times it is written), not an
/// introspection field, and without `@skip` or `@include` there.
fn single_root_field(document: &ExecutableDocument) -> Result<(), String> {
    for (name, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Subscription {
            continue;
        }
        let subscription =
            name.map_or_else(|| "An anonymous subscription".to_owned(), |n| format!("Subscription `{n}`"));
        let mut root = Vec::new();
        fields(document, &operation.node.selection_set.node, &mut root, &mut Vec::new());
        let keys: HashSet<&str> =
            root.iter().map(|f| f.alias.as_ref().map_or(f.name.node.as_str(), |a| a.node.as_str())).collect();
        if keys.len() != 1 {
            return Err(format!("{subscription} must select exactly one top level field"));
        }
        if root.iter().any(|f| f.name.node.starts_with("__")) {
            return Err(format!("{subscription} must not select an introspection top level field"));
        }
        if skips_or_includes_at_root(document, &operation.node.selection_set.node, &mut Vec::new()) {
            return Err(format!("{subscription} must not @skip or @include its top level field"));
        }
    }
    Ok(())
}

/// Whether a selection at the root (a field, or a fragment that holds it, at any depth of
/// fragments) carries `@skip` or `@include`.
fn skips_or_includes_at_root<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    spreading: &mut Vec<&'a str>,
) -> bool {
    let conditional = |directives: &[async_graphql::Positioned<async_graphql::parser::types::Directive>]| {
        directives.iter().any(|d| matches!(d.node.name.node.as_str(), "skip" | "include"))
    };
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => conditional(&field.node.directives),
        Selection::InlineFragment(inline) => {
            conditional(&inline.node.directives)
                || skips_or_includes_at_root(document, &inline.node.selection_set.node, spreading)
        }
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            conditional(&spread.node.directives)
                || (!spreading.contains(&name)
                    && document.fragments.get(name).is_some_and(|fragment| {
                        spreading.push(name);
                        let found = skips_or_includes_at_root(document, &fragment.node.selection_set.node, spreading);
                        spreading.pop();
                        found
                    }))
        }
    })
}

/// Whether a subscription of the document writes its root field other than once and directly.
fn needs_one_root_field(document: &ExecutableDocument) -> bool {
    document.operations.iter().any(|(_, operation)| {
        operation.node.ty == OperationType::Subscription
            && !matches!(&operation.node.selection_set.node.items[..], [one] if matches!(one.node, Selection::Field(_)))
    })
}

/// Rewrites each subscription whose one root field (by [`single_root_field`]) is written more than
/// once or inside fragments as that field written once, its selections merged, as the spec's
/// `CollectFields` reads it. The executor makes a stream of each field written at the root and
/// looks into no fragment there: one key written twice answered twice, half of it `null`, and a
/// field in a fragment was never answered.
pub fn one_root_field(document: &mut ExecutableDocument) {
    use async_graphql::parser::types::DocumentOperations;
    let fragments = document.fragments.clone();
    let used_before = used_fragments(document);
    let operations: Vec<&mut async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>> =
        match &mut document.operations {
            DocumentOperations::Single(operation) => vec![operation],
            DocumentOperations::Multiple(operations) => operations.values_mut().collect(),
        };
    for operation in operations {
        if operation.node.ty != OperationType::Subscription {
            continue;
        }
        let root = &mut operation.node.selection_set;
        let mut written = Vec::new();
        owned_fields(&fragments, &root.node, &mut written, &mut Vec::new());
        let Some(mut field) = written.first().cloned() else {
            continue;
        };
        for other in &written[1..] {
            field.node.selection_set.node.items.extend(other.node.selection_set.node.items.iter().cloned());
        }
        let position = field.pos;
        root.node.items = vec![async_graphql::Positioned::new(Selection::Field(field), position)];
    }
    // A fragment spread only at the root is now written inline: it goes, as validation would find
    // it unused (one unused before stays, and is reported).
    let used_after = used_fragments(document);
    document.fragments.retain(|name, _| !used_before.contains(name.as_str()) || used_after.contains(name.as_str()));
}

/// The names of the fragments the document's operations spread, directly or through others.
fn used_fragments(document: &ExecutableDocument) -> HashSet<String> {
    fn walk(document: &ExecutableDocument, set: &SelectionSet, used: &mut HashSet<String>) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => walk(document, &field.node.selection_set.node, used),
                Selection::InlineFragment(inline) => walk(document, &inline.node.selection_set.node, used),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if used.insert(name.to_owned())
                        && let Some(fragment) = document.fragments.get(name)
                    {
                        walk(document, &fragment.node.selection_set.node, used);
                    }
                }
            }
        }
    }
    let mut used = HashSet::new();
    for (_, operation) in document.operations.iter() {
        walk(document, &operation.node.selection_set.node, &mut used);
    }
    used
}

/// The fields of `set`, copied, with fragments spread inline.
fn owned_fields(
    fragments: &HashMap<
        async_graphql::Name,
        async_graphql::Positioned<async_graphql::parser::types::FragmentDefinition>,
    >,
    set: &SelectionSet,
    out: &mut Vec<async_graphql::Positioned<async_graphql::parser::types::Field>>,
    spreading: &mut Vec<String>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => out.push(field.clone()),
            Selection::InlineFragment(inline) => {
                owned_fields(fragments, &inline.node.selection_set.node, out, spreading)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if spreading.iter().any(|s| s == name) {
                    continue;
                }
                if let Some(fragment) = fragments.get(name) {
                    spreading.push(name.to_owned());
                    owned_fields(fragments, &fragment.node.selection_set.node, out, spreading);
                    spreading.pop();
                }
            }
        }
    }
}

/// Refuses a document with too many fragments, or that expands to more than
/// [`MAX_EXPANDED_SELECTIONS`] selections, or whose introspection could multiply, or a subscription
/// of more than one root field (see the module's documentation).
pub fn check(document: &ExecutableDocument) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn fragments_are_counted_where_they_are_spread_and_sized_once() {
        let doc = parse_query("{ a b ...F } fragment F on Query { c d { e } ...G } fragment G on Query { f }").unwrap();
        // The operation, a, b, the spread of F, c, d, e, the spread of G, f.
        assert_eq!(expanded_selections(&doc), Ok(9));
        let bomb: String = (0..60)
            .map(|i| format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1))
            .chain(std::iter::once("fragment F60 on Query { __typename }".to_owned()))
            .collect();
        let doc = parse_query(format!("{{ ...F0 }}\n{bomb}")).unwrap();
        assert!(expanded_selections(&doc).unwrap() > 1 << 60, "counted without walking them");
        assert!(check(&doc).is_err());
    }

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
    fn empty_unknown_and_cyclic_fragments_are_refused_before_anything_walks_them() {
        // A chain whose last fragment spreads an unknown one: no field at all, 2^41 spreads.
        let chain: String =
            (0..40).map(|i| format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1)).collect();
        let unknown = parse_query(format!("{{ ...F0 }}\n{chain}fragment F40 on Query {{ ...Nope }}")).unwrap();
        assert_eq!(check(&unknown), Err("the query spreads an unknown fragment `Nope`".into()));
        let cyclic = parse_query(format!("{{ ...F0 }}\n{chain}fragment F40 on Query {{ ...F40 }}")).unwrap();
        assert_eq!(check(&cyclic), Err("the fragment `F40` spreads itself".into()));
        let cycle = parse_query("{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }").unwrap();
        assert_eq!(check(&cycle), Err("the fragment `A` spreads itself".into()));
        // Many fragments, used or not, are refused by their number.
        let unused: String = (0..101).map(|i| format!("fragment C{i} on Query {{ ...C{} }}\n", i + 1)).collect();
        let many = parse_query(format!("{{ __typename }}\n{unused}fragment C101 on Query {{ __typename }}")).unwrap();
        assert_eq!(check(&many), Err("a query may define at most 100 fragments".into()));
        // A long chain of used fragments ends at the nesting bound, not the stack's.
        let long: String = (0..90).map(|i| format!("fragment L{i} on Query {{ ...L{} }}\n", i + 1)).collect();
        let deep = parse_query(format!("{{ ...L0 }}\n{long}fragment L90 on Query {{ __typename }}")).unwrap();
        assert_eq!(check(&deep), Err("the query nests selections more than 64 deep".into()));
    }

    #[test]
    fn a_subscription_selects_exactly_one_root_field_and_not_an_introspection_one() {
        for ok in [
            "subscription { profileChanged(handle: \"a\") { kind } }",
            "subscription S { a: profileChanged(handle: \"a\") { kind } a: profileChanged(handle: \"a\") { momentId } }",
            "subscription { ...F } fragment F on Subscription { profileChanged(handle: \"a\") { kind } }",
            "{ a: viewer { id } b: viewer { id } }",
        ] {
            check(&parse_query(ok).unwrap()).unwrap();
        }
        for (query, message) in [
            (
                "subscription { a0: profileChanged(handle: \"a\") { kind } a1: profileChanged(handle: \"a\") { kind } }",
                "An anonymous subscription must select exactly one top level field",
            ),
            (
                "subscription S { ... on Subscription { a: profileChanged(handle: \"a\") { kind } } ...F } fragment F on Subscription { b: profileChanged(handle: \"b\") { kind } }",
                "Subscription `S` must select exactly one top level field",
            ),
            ("subscription S { __typename }", "Subscription `S` must not select an introspection top level field"),
            (
                "query Q { viewer { id } } subscription S { }",
                "Subscription `S` must select exactly one top level field",
            ),
            (
                "subscription S { profileChanged(handle: \"a\") @skip(if: false) { kind } }",
                "Subscription `S` must not @skip or @include its top level field",
            ),
            (
                "subscription S { ...F } fragment F on Subscription { ... @include(if: true) { profileChanged(handle: \"a\") { kind } } }",
                "Subscription `S` must not @skip or @include its top level field",
            ),
        ] {
            match parse_query(query) {
                Ok(document) => assert_eq!(check(&document), Err(message.to_owned()), "{query}"),
                // An empty selection set does not parse: refused there.
                Err(_) => assert!(query.ends_with("{ }")),
            }
        }
    }

    #[test]
    fn a_root_field_written_twice_or_in_a_fragment_becomes_one_field_with_its_selections_merged() {
        let printed = |query: &str| {
            let mut request = async_graphql::Request::new(query);
            assert_eq!(check_request(&mut request), None, "{query}");
            let document = request.parsed_query().unwrap();
            let (_, operation) = document.operations.iter().next().unwrap();
            let name = |item: &async_graphql::Positioned<Selection>| match &item.node {
                Selection::Field(field) => field.node.response_key().node.to_string(),
                _ => "a fragment".to_owned(),
            };
            operation
                .node
                .selection_set
                .node
                .items
                .iter()
                .map(|item| match &item.node {
                    Selection::Field(field) => {
                        let inner: Vec<String> = field.node.selection_set.node.items.iter().map(name).collect();
                        format!("{} {{ {} }}", name(item), inner.join(" "))
                    }
                    _ => name(item),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            printed(
                "subscription { profileChanged(handle: \"a\") { kind } profileChanged(handle: \"a\") { momentId } }"
            ),
            ["profileChanged { kind momentId }"]
        );
        assert_eq!(
            printed("subscription { ...F } fragment F on Subscription { x: profileChanged(handle: \"a\") { kind } }"),
            ["x { kind }"]
        );
        assert_eq!(
            printed(
                "subscription { ... on Subscription { profileChanged(handle: \"a\") { kind ...G } } } fragment G on ProfileEvent { momentId }"
            ),
            ["profileChanged { kind a fragment }"]
        );
        // A query is left as it is.
        assert_eq!(printed("{ a: viewer { id } a: viewer { handle } }"), ["a { id }", "a { handle }"]);
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
        check_text(&format!("{{ {} }}", "a ".repeat(MAX_QUERY_BYTES / 2 - 4))).unwrap();
    }

    const GRAPHIQL_INTROSPECTION: &str = r#"query IntrospectionQuery { __schema { queryType { name } mutationType { name }
        subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
        fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
        args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue }
        interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
        possibleTypes { ...TypeRef } }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"#;

    #[test]
    fn the_usual_introspection_query_passes_and_multiplied_ones_do_not() {
        check(&parse_query(GRAPHIQL_INTROSPECTION).unwrap()).unwrap();
        check(&parse_query("{ a: __type(name: \"User\") { name } b: __type(name: \"Moment\") { name } }").unwrap())
            .unwrap();
        for (query, message) in [
            (
                "{ a: __schema { queryType { name } } b: __schema { queryType { name } } }",
                "a query may ask for `__schema` at most 1 time",
            ),
            (
                "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
                "the lists of the schema's own types may nest at most 3 deep",
            ),
            (
                "{ __schema { types { name } again: types { name } } }",
                "the query asks for the introspection field `types` twice under different names",
            ),
            (
                "{ __schema { types { ...A ...B } } } fragment A on __Type { n1: name } fragment B on __Type { n2: name }",
                "the query asks for the introspection field `name` twice under different names",
            ),
        ] {
            let error = check(&parse_query(query).unwrap()).unwrap_err();
            assert!(error.starts_with(message), "{query}: {error}");
        }
        let many_types: String = (0..21).map(|i| format!("t{i}: __type(name: \"User\") {{ name }} ")).collect();
        assert!(check(&parse_query(format!("{{ {many_types} }}")).unwrap()).is_err());
    }
}
