//! The size of a parsed query: its selections counted with every fragment spread where it is
//! spread (each fragment sized once), and the introspection fields it may ask for.

use crate::limits::Limits;
use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::root::fields;

/// The most selections (fields, fragment spreads, inline fragments) a query may hold once its
/// fragments are expanded. Every field costs at least 1 in the complexity limit, so nothing under
/// it is refused here that would pass there.
pub(crate) const MAX_EXPANDED_SELECTIONS: usize = Limits::DEFAULT.max_expanded_selections;
/// The most fragment definitions one query may hold (an app's largest queries hold a few dozen).
pub(crate) const MAX_FRAGMENTS: usize = Limits::DEFAULT.max_fragments;
/// The deepest a query may nest selections, fragments included: far above the depth limit (15), low
/// enough that walking it can never run out of stack.
pub(crate) const MAX_NESTING: usize = Limits::DEFAULT.max_nesting;
/// The longest alias accepted: each alias is written once per item of every list it sits in.
pub(crate) const MAX_ALIAS_CHARS: usize = Limits::DEFAULT.max_alias_chars;
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
pub(crate) fn expanded_selections(document: &ExecutableDocument) -> Result<usize, String> {
    let mut sizes = Sizes { document, fragments: HashMap::new() };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(1).saturating_add(sizes.selection_set(&operation.node.selection_set.node, 0)?);
    }
    Ok(total)
}

/// The most `__schema` fields one query may select.
const MAX_SCHEMA_FIELDS: usize = 1;
/// The most `__type` fields one query may select.
const MAX_TYPE_FIELDS: usize = 20;
/// How deep the lists of the schema's own types may nest (`types { fields { args } }` is three).
const MAX_INTROSPECTION_LIST_DEPTH: usize = 3;

/// The fields of the introspection types that answer lists.
const INTROSPECTION_LISTS: [&str; 8] =
    ["types", "fields", "inputFields", "interfaces", "possibleTypes", "enumValues", "args", "directives"];

#[derive(Default)]
pub(super) struct Introspection {
    schema_fields: usize,
    type_fields: usize,
}

impl Introspection {
    /// Checks every field under `set`, `lists` lists deep inside an introspection field (or outside
    /// one when `None`), recursing into sub-selections with fragments inline.
    pub(super) fn check<'a>(
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

#[cfg(test)]
mod tests {
    use super::super::check;
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
