//! A check on the shape of a query before async-graphql validates it. Validation walks fragment
//! spreads inline, so a query whose fragments each spread the next one twice makes it walk 2^n
//! fields: 25 such fragments in a 1 KB query kept a core busy for a minute. Here each fragment's
//! size is worked out once (memoised), and a query that would expand to more fields than the
//! complexity limit allows is refused before anything else looks at it.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::MAX_COMPLEXITY;

/// The most fields a query may select once its fragments are expanded. Every field costs at
/// least 1 in the complexity limit, so nothing under it is refused here that would pass there.
pub const MAX_EXPANDED_FIELDS: usize = MAX_COMPLEXITY;

struct Sizes<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<&'a str, usize>,
}

impl<'a> Sizes<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> usize {
        let mut total = 0usize;
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(field) => 1usize.saturating_add(self.selection_set(&field.node.selection_set.node)),
                Selection::InlineFragment(inline) => self.selection_set(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(spread.node.fragment_name.node.as_str()),
            };
            total = total.saturating_add(size);
        }
        total
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(size) = self.fragments.get(name) {
            return *size;
        }
        // While a fragment is being sized it counts as empty: a cycle ends here, and validation
        // reports it.
        self.fragments.insert(name, 0);
        let Some(definition) = self.document.fragments.iter().find(|(n, _)| n.as_str() == name).map(|(_, d)| d) else {
            return 0;
        };
        let size = self.selection_set(&definition.node.selection_set.node);
        self.fragments.insert(name, size);
        size
    }
}

/// The number of fields the document's operations select, with every fragment spread expanded.
pub fn expanded_fields(document: &ExecutableDocument) -> usize {
    let mut sizes = Sizes { document, fragments: HashMap::new() };
    document
        .operations
        .iter()
        .map(|(_, operation)| sizes.selection_set(&operation.node.selection_set.node))
        .fold(0, usize::saturating_add)
}

/// Refuses a document that expands to more than [`MAX_EXPANDED_FIELDS`] fields.
pub fn check(document: &ExecutableDocument) -> Result<(), String> {
    let fields = expanded_fields(document);
    if fields > MAX_EXPANDED_FIELDS {
        return Err(format!(
            "the query selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are expanded"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn fragments_are_counted_where_they_are_spread_and_sized_once() {
        let doc = parse_query("{ a b ...F } fragment F on Query { c d { e } ...G } fragment G on Query { f }").unwrap();
        assert_eq!(expanded_fields(&doc), 2 + 3 + 1);
        let bomb: String = (0..60)
            .map(|i| format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1))
            .chain(std::iter::once("fragment F60 on Query { __typename }".to_owned()))
            .collect();
        let doc = parse_query(format!("{{ ...F0 }}\n{bomb}")).unwrap();
        assert_eq!(expanded_fields(&doc), 1 << 60, "2^60 fields, counted without walking them");
        assert!(check(&doc).is_err());
        let cycle = parse_query("{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }").unwrap();
        assert_eq!(expanded_fields(&cycle), 2);
    }
}
