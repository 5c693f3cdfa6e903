//! The spec's rule that a subscription selects exactly one root field, not an introspection one, and
//! does not skip or include it; and the rewrite of a root field written more than once, or in a
//! fragment, as the one field the spec reads.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

/// The fields of `set`, with fragments spread inline (a fragment that spreads itself is not entered
/// again).
pub(super) fn fields<'a>(
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
pub(super) fn single_root_field(document: &ExecutableDocument) -> Result<(), String> {
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
pub(super) fn needs_one_root_field(document: &ExecutableDocument) -> bool {
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
pub(crate) fn one_root_field(document: &mut ExecutableDocument) {
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

#[cfg(test)]
mod tests {
    use super::super::{check, check_request};
    use async_graphql::parser::parse_query;

    use super::*;

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
}
