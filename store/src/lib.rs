//! The store of moments: its tables ([`entity`]), opening and migrating the database ([`db`]), and
//! every query, grouped by what it is about. It returns plain records and knows nothing of GraphQL
//! or HTTP; the rules of the `rules` crate enter queries only through `visibility`, and moments are
//! read only through [`lists`].

pub mod access;
pub mod audiences;
pub mod db;
pub mod entity;
pub mod error;
pub mod friends;
pub mod lists;
pub mod moments;
pub mod pins;
pub mod records;
pub mod removals;
mod sql;
pub mod tags;
pub mod users;
mod visibility;

pub use error::{Error, Result};

use std::collections::HashSet;

/// Removes repeated ids while keeping the first order, so inserts never hit a key twice.
pub fn dedup<T: Copy + Eq + std::hash::Hash>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.into_iter().filter(|i| seen.insert(*i)).collect()
}
