//! The store: every SeaORM query of the server, grouped by what it is about. It returns plain records
//! and knows nothing of GraphQL; visibility rules enter queries only through `visibility`, and
//! moments are read only through [`lists`].

pub mod access;
pub mod audiences;
pub mod lists;
pub mod moments;
pub mod pins;
pub mod records;
pub mod removals;
pub mod social;
mod sql;
pub mod users;
mod visibility;

use std::collections::HashSet;

/// Removes repeated ids while keeping the first order, so inserts never hit a key twice.
pub fn dedup<T: Copy + Eq + std::hash::Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(*i)).collect()
}
