//! One pass over an answer: each object's keys in selection order, each value completed by its
//! type, and a `null` in a non-null place moved up to the nearest nullable parent.

use std::{collections::HashSet, rc::Rc};

use async_graphql::{
    Name, Positioned, ServerError, Value, Variables,
    indexmap::IndexMap,
    parser::types::{BaseType, ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet, Type},
};

use super::shape::{Composite, Prepared, Propagate, Shapes, Step, TYPE_KEY, named, push_step};

/// One pass over an answer.
pub(super) struct Walk<'a> {
    shapes: &'a Shapes,
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    operation: &'a OperationDefinition,
    /// Every path at or above an error (see [`push_step`]); empty when there are no errors, and
    /// then no path is kept.
    errored: HashSet<String>,
    path: Vec<Step<'a>>,
    /// Plans of concrete-typed selections, by the address and length of their field list.
    plans: Vec<((usize, usize), Plan<'a>)>,
    /// Every other plan made, kept so that no field list's address is reused during the walk.
    kept: Vec<Plan<'a>>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        shapes: &'a Shapes,
        prepared: &'a Prepared,
        operation: &'a OperationDefinition,
        errors: &[ServerError],
    ) -> Self {
        let mut errored = HashSet::new();
        for error in errors {
            let mut key = String::new();
            for step in &error.path {
                push_step(&mut key, step.into());
                errored.insert(key.clone());
            }
        }
        Self {
            shapes,
            document: &prepared.document,
            variables: &prepared.variables,
            operation,
            errored,
            path: Vec::new(),
            plans: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Whether an error was raised at the current path or below it.
    fn failed_here(&self) -> bool {
        if self.errored.is_empty() {
            return false;
        }
        let mut key = String::new();
        for step in &self.path {
            push_step(&mut key, *step);
        }
        self.errored.contains(&key)
    }

    fn enter(&mut self, step: Step<'a>) {
        if !self.errored.is_empty() {
            self.path.push(step);
        }
    }

    fn leave(&mut self) {
        self.path.pop();
    }

    /// A variable's value: as sent, or its default.
    fn variable(&self, name: &Name) -> Value {
        if let Some(value) = self.variables.get(name) {
            return value.clone();
        }
        self.operation
            .variable_definitions
            .iter()
            .find(|d| d.node.name.node == *name)
            .and_then(|d| d.node.default_value.as_ref())
            .map_or(Value::Null, |d| d.node.clone())
    }

    /// Whether `@skip` and `@include` let a selection in.
    fn included(&self, directives: &[Positioned<async_graphql::parser::types::Directive>]) -> bool {
        directives.iter().all(|d| {
            let condition = || {
                d.node.get_argument("if").is_some_and(|v| {
                    let value = v.node.clone().into_const_with(|name| Ok::<_, ()>(self.variable(&name)));
                    matches!(value, Ok(Value::Boolean(true)))
                })
            };
            match d.node.name.node.as_str() {
                "skip" => !condition(),
                "include" => condition(),
                _ => true,
            }
        })
    }

    /// The spec's `CollectFields`: each response key with the fields it merges, in order.
    fn collect(
        &self,
        object: &str,
        set: &'a SelectionSet,
        out: &mut IndexMap<&'a str, Vec<&'a Field>>,
        visited: &mut HashSet<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if self.included(&field.directives) {
                        out.entry(field.response_key().node.as_str()).or_default().push(field);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let name = spread.fragment_name.node.as_str();
                    if !self.included(&spread.directives) || !visited.insert(name) {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else { continue };
                    if self.shapes.applies(fragment.node.type_condition.node.on.node.as_str(), object) {
                        self.collect(object, &fragment.node.selection_set.node, out, visited);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let applies = fragment
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| self.shapes.applies(c.node.on.node.as_str(), object));
                    if applies && self.included(&fragment.directives) {
                        self.collect(object, &fragment.selection_set.node, out, visited);
                    }
                }
            }
        }
    }

    /// The keys an object of type `object` answers for these selections, in order, with the
    /// fields each merges and its type (`None`: not a field this schema knows, which cannot pass
    /// validation; its value is left as it came).
    pub(super) fn plan(&self, object: &str, sets: &[&'a SelectionSet]) -> Plan<'a> {
        let mut collected = IndexMap::new();
        let mut visited = HashSet::new();
        for set in sets {
            self.collect(object, set, &mut collected, &mut visited);
        }
        let entries = collected
            .into_iter()
            .filter(|(key, _)| *key != TYPE_KEY)
            .map(|(key, fields)| {
                let ty = self.shapes.field_type(object, fields[0].name.node.as_str());
                let composite = ty.and_then(|ty| self.shapes.composites.get(named(ty)));
                Entry { key, fields, ty, composite }
            })
            .collect();
        Rc::new(entries)
    }

    /// The plan for an object of a concrete type selected by `fields`, made once per selection:
    /// every item of a list, and every object under them, shares it.
    fn shared_plan(&mut self, object: &str, fields: &[&'a Field]) -> Plan<'a> {
        // Plans are kept for the whole walk, so the address of their field lists is never reused.
        // An operation has a few dozen selections at most: a scan beats hashing here.
        let identity = (fields.as_ptr() as usize, fields.len());
        if let Some((_, plan)) = self.plans.iter().find(|(known, _)| *known == identity) {
            return plan.clone();
        }
        let sets: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set.node).collect();
        let plan = self.plan(object, &sets);
        self.plans.push((identity, plan.clone()));
        plan
    }

    /// An object's answer, rebuilt in place: its keys moved into plan order, each value
    /// completed by its type, a missing key (a failed field) added. `value` is what async-graphql
    /// built (`Null` when every field of it failed).
    pub(super) fn object(&mut self, plan: &Plan<'a>, value: Value) -> Result<Value, Propagate> {
        let mut map = match value {
            Value::Object(map) => map,
            _ => IndexMap::new(),
        };
        for (i, entry) in plan.iter().enumerate() {
            // Keys before `i` are placed, so the key sought is at `i` or after it; often it is
            // at `i` already.
            let in_place = map.get_index(i).is_some_and(|(name, _)| name.as_str() == entry.key);
            let found = if in_place { Some(i) } else { map.get_index_of(entry.key) };
            let value = match found {
                Some(found) => {
                    map.swap_indices(i, found);
                    Some(std::mem::take(&mut map[i]))
                }
                None => {
                    let (added, _) = map.insert_full(Name::new(entry.key), Value::Null);
                    map.swap_indices(i, added);
                    None
                }
            };
            let Some(ty) = entry.ty else {
                map[i] = value.unwrap_or_default();
                continue;
            };
            self.enter(Step::Key(entry.key));
            let completed = self.complete(ty, entry.composite, &entry.fields, value);
            self.leave();
            map[i] = completed?;
        }
        map.truncate(plan.len());
        Ok(Value::Object(map))
    }

    /// The spec's `CompleteValue` for a field of type `ty` selected by `fields`: `None` is a key
    /// async-graphql left out because its field failed.
    fn complete(
        &mut self,
        ty: &'a Type,
        composite: Option<&'a Composite>,
        fields: &[&'a Field],
        value: Option<Value>,
    ) -> Result<Value, Propagate> {
        let value = match value {
            Some(Value::Null) | None => {
                let object = matches!(ty.base, BaseType::Named(_)) && composite.is_some();
                if object && self.failed_here() {
                    // Every field of the object failed: async-graphql answered `null` for it.
                    Value::Object(IndexMap::new())
                } else {
                    return if ty.nullable { Ok(Value::Null) } else { Err(Propagate) };
                }
            }
            Some(value) => value,
        };
        let completed = match (&ty.base, value) {
            (BaseType::List(inner), Value::List(mut items)) => {
                let mut failed = false;
                for (i, item) in items.iter_mut().enumerate() {
                    self.enter(Step::Index(i));
                    let completed = self.complete(inner, composite, fields, Some(std::mem::take(item)));
                    self.leave();
                    match completed {
                        Ok(value) => *item = value,
                        Err(Propagate) => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed { Err(Propagate) } else { Ok(Value::List(items)) }
            }
            (BaseType::Named(name), Value::Object(mut map)) => match composite {
                Some(composite) if composite.is_abstract => {
                    let runtime = match map.swap_remove(TYPE_KEY) {
                        Some(Value::String(runtime)) => runtime,
                        _ => name.to_string(),
                    };
                    let sets: Vec<&'a SelectionSet> = fields.iter().map(|f| &f.selection_set.node).collect();
                    let plan = self.plan(&runtime, &sets);
                    self.kept.push(plan.clone());
                    self.object(&plan, Value::Object(map))
                }
                Some(_) => {
                    let plan = self.shared_plan(name.as_str(), fields);
                    self.object(&plan, Value::Object(map))
                }
                None => Ok(Value::Object(map)),
            },
            (_, value) => Ok(value),
        };
        match completed {
            Err(Propagate) if ty.nullable => Ok(Value::Null),
            other => other,
        }
    }
}

/// A key of an object's answer: the fields it merges, its type, and the object, interface or union
/// type at the bottom of it (`None` for scalars and enums).
pub(super) struct Entry<'a> {
    key: &'a str,
    fields: Vec<&'a Field>,
    ty: Option<&'a Type>,
    composite: Option<&'a Composite>,
}

/// An object's keys in order.
pub(super) type Plan<'a> = Rc<Vec<Entry<'a>>>;
