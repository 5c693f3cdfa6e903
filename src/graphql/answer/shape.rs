//! What the answer knows of the schema and of the request, and the steps of a path: shared by
//! the preparation of a request ([`super::Shapes::prepare`]) and the walk that rebuilds its answer.

use std::collections::{HashMap, HashSet};

use async_graphql::{
    PathSegment, Variables,
    parser::types::{BaseType, ExecutableDocument, Type},
};

/// The alias under which [`Shapes::prepare`] asks an interface-typed object for its type. Names
/// beginning with `__` are reserved to GraphQL itself, so no client's key can collide with it.
pub(super) const TYPE_KEY: &str = "__moments_type";

/// An object, interface or union type: the types of its fields.
#[derive(Debug, Default)]
pub(super) struct Composite {
    pub(super) fields: HashMap<String, Type>,
    pub(super) is_abstract: bool,
}

/// What the answer needs to know of the schema: each composite type's fields, which types are
/// abstract, and which abstract types each object type belongs to.
#[derive(Debug)]
pub(crate) struct Shapes {
    pub(super) composites: HashMap<String, Composite>,
    pub(super) supertypes: HashMap<String, HashSet<String>>,
    pub(super) roots: [String; 3],
    pub(super) typename: Type,
}

/// What execution was given, kept to rebuild its answer.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(super) document: ExecutableDocument,
    pub(super) operation_name: Option<String>,
    pub(super) variables: Variables,
}

/// A `null` in a place that allows none: it moves up to the nearest nullable parent.
pub(super) struct Propagate;

#[derive(Clone, Copy)]
pub(super) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The named type at the bottom of a (list or non-null) type.
pub(super) fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl<'a> From<&'a PathSegment> for Step<'a> {
    fn from(segment: &'a PathSegment) -> Self {
        match segment {
            PathSegment::Field(key) => Step::Key(key),
            PathSegment::Index(i) => Step::Index(*i),
        }
    }
}

/// Adds a step to a path written as `key/3/key` (GraphQL names hold no `/`).
pub(super) fn push_step(path: &mut String, step: Step<'_>) {
    if !path.is_empty() {
        path.push('/');
    }
    match step {
        Step::Key(key) => path.push_str(key),
        Step::Index(i) => path.push_str(&i.to_string()),
    }
}
