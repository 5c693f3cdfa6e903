//! Answers exactly as the GraphQL spec writes them, whatever order the fields finished in.
//!
//! async-graphql 7 resolves an object's fields concurrently, keeps them in the order they finish,
//! and leaves a field whose resolver failed out of `data` altogether (its error is still reported).
//! The spec asks for something else ("Handling Field Errors", "Serialized Map Ordering"): every
//! selected key present, in the order of the selection set; a failed field `null`; a `null` where
//! the type allows none nulls the nearest nullable parent, up to `data` itself. So the answer is
//! rebuilt here from the operation and the schema's types, the way the spec's `CollectFields` and
//! `CompleteValue` describe it:
//!
//! - [`Shapes::prepare`] runs before execution: where a selection's type is an interface it asks
//!   for the object's type under a reserved alias, which decides which fragments apply.
//! - [`Shapes::answer`] runs after: it collects each object's fields in selection order (fragments,
//!   `@skip` and `@include` as the spec says), takes each key's value out of what async-graphql
//!   built, completes it by its type — a missing key is a field that failed — and propagates a
//!   `null` in a non-null place upward. Errors are sorted by where they point in the answer.
//!
//! An operation that never ran (it did not parse or validate, or a limit refused it) has no `data`
//! at all, which is what GraphQL over HTTP keys its status codes on.

use std::{
    cmp::Ordering,
    collections::{BTreeMap, HashMap, HashSet},
};

use async_graphql::{
    Name, PathSegment, Positioned, Response, ServerError, Value,
    parser::types::{
        DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
        Type, TypeKind, TypeSystemDefinition,
    },
};
use serde::ser::{Serialize, SerializeMap, Serializer};

use shape::{Composite, Propagate, TYPE_KEY, named};
pub(crate) use shape::{Prepared, Shapes};
use walk::Walk;

mod shape;
#[cfg(test)]
mod tests;
mod walk;

/// The introspection types, as the spec defines them (and async-graphql answers them): their
/// fields' types decide what a `null` under `__schema` or `__type` does.
const INTROSPECTION_SDL: &str = r#"
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type
  subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String
  fields(includeDeprecated: Boolean): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean): [__EnumValue!] inputFields(includeDeprecated: Boolean): [__InputValue!]
  ofType: __Type isOneOf: Boolean }
type __Field { name: String! description: String args(includeDeprecated: Boolean): [__InputValue!]!
  type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String
  isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean): [__InputValue!]! isRepeatable: Boolean! }
enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }
enum __DirectiveLocation { QUERY }
"#;

/// A GraphQL response in the spec's form: `errors` (when there are any), then `data` (unless the
/// operation never ran), then `extensions`.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    /// The errors, in the order of the places they point to.
    pub errors: Vec<ServerError>,
    /// `None` when the operation never ran; `Some(Value::Null)` when a `null` reached the root.
    pub data: Option<Value>,
    /// The response's extensions.
    pub extensions: BTreeMap<String, Value>,
}

impl Answer {
    /// An answer of errors alone: the operation did not run.
    pub(crate) fn refused(errors: Vec<ServerError>) -> Self {
        Self { errors, data: None, extensions: BTreeMap::new() }
    }
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entries = usize::from(!self.errors.is_empty())
            + usize::from(self.data.is_some())
            + usize::from(!self.extensions.is_empty());
        let mut map = serializer.serialize_map(Some(entries))?;
        if !self.errors.is_empty() {
            map.serialize_entry("errors", &self.errors)?;
        }
        if let Some(data) = &self.data {
            map.serialize_entry("data", data)?;
        }
        if !self.extensions.is_empty() {
            map.serialize_entry("extensions", &self.extensions)?;
        }
        map.end()
    }
}

impl Shapes {
    /// The shapes of a schema, from its SDL.
    pub(crate) fn from_sdl(sdl: &str) -> Result<Self, String> {
        let mut composites: HashMap<String, Composite> = HashMap::new();
        let mut supertypes: HashMap<String, HashSet<String>> = HashMap::new();
        let mut roots = ["Query".to_owned(), "Mutation".to_owned(), "Subscription".to_owned()];
        for text in [sdl, INTROSPECTION_SDL] {
            let document = async_graphql::parser::parse_schema(text).map_err(|e| e.to_string())?;
            for definition in document.definitions {
                match definition {
                    TypeSystemDefinition::Schema(schema) => {
                        let schema = schema.node;
                        for (root, name) in roots.iter_mut().zip([schema.query, schema.mutation, schema.subscription]) {
                            if let Some(name) = name {
                                *root = name.node.to_string();
                            }
                        }
                    }
                    TypeSystemDefinition::Type(ty) => {
                        let ty = ty.node;
                        let name = ty.name.node.to_string();
                        let (fields, implements, is_abstract) = match ty.kind {
                            TypeKind::Object(object) => (object.fields, object.implements, false),
                            TypeKind::Interface(interface) => (interface.fields, interface.implements, true),
                            TypeKind::Union(union) => {
                                for member in union.members {
                                    supertypes.entry(member.node.to_string()).or_default().insert(name.clone());
                                }
                                (Vec::new(), Vec::new(), true)
                            }
                            _ => continue,
                        };
                        for interface in implements {
                            supertypes.entry(name.clone()).or_default().insert(interface.node.to_string());
                        }
                        let composite = composites.entry(name).or_default();
                        composite.is_abstract = is_abstract;
                        composite
                            .fields
                            .extend(fields.into_iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node)));
                    }
                    TypeSystemDefinition::Directive(_) => {}
                }
            }
        }
        let parse_type = |t: &str| Type::new(t).ok_or_else(|| format!("not a type: {t}"));
        if let Some(query) = composites.get_mut(&roots[0]) {
            query.fields.insert("__schema".to_owned(), parse_type("__Schema!")?);
            query.fields.insert("__type".to_owned(), parse_type("__Type")?);
        }
        Ok(Self { composites, supertypes, roots, typename: parse_type("String!")? })
    }

    /// Readies a request for execution (its query parsed): where an interface's object is
    /// selected, asks for its type. Returns what [`Shapes::answer`] needs, or `None` when the query
    /// does not parse (execution reports that).
    pub(crate) fn prepare(&self, request: &mut async_graphql::Request) -> Option<Prepared> {
        let mut document = request.parsed_query().ok()?.clone();
        let mut changed = false;
        let operations: Vec<&mut Positioned<OperationDefinition>> = match &mut document.operations {
            DocumentOperations::Single(op) => vec![op],
            DocumentOperations::Multiple(ops) => ops.values_mut().collect(),
        };
        for operation in operations {
            let root = self.root(operation.node.ty).to_owned();
            changed |= self.ask_types(&root, &mut operation.node.selection_set.node);
        }
        for fragment in document.fragments.values_mut() {
            let on = fragment.node.type_condition.node.on.node.to_string();
            changed |= self.ask_types(&on, &mut fragment.node.selection_set.node);
        }
        if changed {
            request.set_parsed_query(document.clone());
        }
        Some(Prepared {
            document,
            operation_name: request.operation_name.clone(),
            variables: request.variables.clone(),
        })
    }

    fn root(&self, ty: OperationType) -> &str {
        match ty {
            OperationType::Query => &self.roots[0],
            OperationType::Mutation => &self.roots[1],
            OperationType::Subscription => &self.roots[2],
        }
    }

    /// Adds `__moments_type: __typename` to every selection of an abstract type under `set`
    /// (whose type is `ty`); fragment definitions are visited by the caller.
    fn ask_types(&self, ty: &str, set: &mut SelectionSet) -> bool {
        let mut changed = false;
        for selection in &mut set.items {
            match &mut selection.node {
                Selection::Field(field) => {
                    let field = &mut field.node;
                    if field.selection_set.node.items.is_empty() {
                        continue;
                    }
                    let Some(inner) = self.field_type(ty, field.name.node.as_str()).map(named) else { continue };
                    let inner = inner.to_owned();
                    changed |= self.ask_types(&inner, &mut field.selection_set.node);
                    if self.composites.get(&inner).is_some_and(|c| c.is_abstract) {
                        let pos = field.selection_set.pos;
                        let ask = Field {
                            alias: Some(Positioned::new(Name::new(TYPE_KEY), pos)),
                            name: Positioned::new(Name::new("__typename"), pos),
                            arguments: Vec::new(),
                            directives: Vec::new(),
                            selection_set: Positioned::new(SelectionSet::default(), pos),
                        };
                        field
                            .selection_set
                            .node
                            .items
                            .push(Positioned::new(Selection::Field(Positioned::new(ask, pos)), pos));
                        changed = true;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &mut fragment.node;
                    let on = fragment.type_condition.as_ref().map_or(ty, |c| c.node.on.node.as_str()).to_owned();
                    changed |= self.ask_types(&on, &mut fragment.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        changed
    }

    fn field_type(&self, ty: &str, field: &str) -> Option<&Type> {
        if field == "__typename" {
            return Some(&self.typename);
        }
        self.composites.get(ty)?.fields.get(field)
    }

    /// Whether a fragment on `condition` applies to an object of type `object`.
    fn applies(&self, condition: &str, object: &str) -> bool {
        condition == object || self.supertypes.get(object).is_some_and(|s| s.contains(condition))
    }

    /// The answer to an executed request, in the spec's form. `prepared` is what
    /// [`Shapes::prepare`] returned (`None` when the query did not parse).
    pub(crate) fn answer(&self, response: Response, prepared: Option<&Prepared>) -> Answer {
        let Response { data, extensions, mut errors, .. } = response;
        let ran = !matches!(data, Value::Null) || errors.iter().any(|e| !e.path.is_empty());
        let (Some(prepared), true) = (prepared, ran) else {
            return Answer { errors, data: None, extensions };
        };
        let Some(operation) = operation(&prepared.document, prepared.operation_name.as_deref()) else {
            return Answer { errors, data: None, extensions };
        };
        let mut walk = Walk::new(self, prepared, operation, &errors);
        let root = self.root(operation.ty);
        let plan = walk.plan(root, &[&operation.selection_set.node]);
        let data = match walk.object(&plan, data) {
            Ok(value) => value,
            Err(Propagate) => Value::Null,
        };
        if errors.len() > 1 {
            let mut keyed: Vec<(Vec<usize>, ServerError)> =
                errors.into_iter().map(|e| (position(&data, &e.path), e)).collect();
            keyed.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| compare_paths(&x.path, &y.path)));
            errors = keyed.into_iter().map(|(_, e)| e).collect();
        }
        Answer { errors, data: Some(data), extensions }
    }
}

/// The operation execution ran: the one named, or the only one.
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        _ => None,
    }
}

/// Where an error's path points in the answer: the index of each key and item on the way, as far
/// as the answer goes (a `null` that propagated may end it early).
fn position(data: &Value, path: &[PathSegment]) -> Vec<usize> {
    let mut at = data;
    let mut out = Vec::with_capacity(path.len());
    for step in path {
        let next = match (at, step) {
            (Value::Object(map), PathSegment::Field(key)) => map.get_full(key.as_str()).map(|(i, _, v)| (i, v)),
            (Value::List(items), PathSegment::Index(i)) => items.get(*i).map(|v| (*i, v)),
            _ => None,
        };
        let Some((index, value)) = next else { break };
        out.push(index);
        at = value;
    }
    out
}

/// Orders two paths step by step (names before indexes), for errors the answer cannot place.
fn compare_paths(a: &[PathSegment], b: &[PathSegment]) -> Ordering {
    let step = |pair: (&PathSegment, &PathSegment)| match pair {
        (PathSegment::Field(x), PathSegment::Field(y)) => x.cmp(y),
        (PathSegment::Index(x), PathSegment::Index(y)) => x.cmp(y),
        (PathSegment::Field(_), PathSegment::Index(_)) => Ordering::Less,
        (PathSegment::Index(_), PathSegment::Field(_)) => Ordering::Greater,
    };
    a.iter().zip(b).map(step).find(|o| o.is_ne()).unwrap_or_else(|| a.len().cmp(&b.len()))
}
