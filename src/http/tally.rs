//! Counts held per key against a most — connections per client address, sockets waiting for
//! `connection_init` per client, live connections and the cost of live subscriptions per user —
//! each share given back when it is dropped, so no path can forget to.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, PoisonError},
};

/// What each key holds now.
#[derive(Debug)]
pub(crate) struct Tally<K: Hash + Eq + Copy>(Mutex<HashMap<K, usize>>);

impl<K: Hash + Eq + Copy> Default for Tally<K> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

/// A key's hold of `amount`, given back when dropped.
#[derive(Debug)]
pub(crate) struct Share<K: Hash + Eq + Copy> {
    tally: Arc<Tally<K>>,
    key: K,
    amount: usize,
}

impl<K: Hash + Eq + Copy> Tally<K> {
    /// Takes `amount` for `key` when that keeps its hold at or under `most`.
    pub(crate) fn take(self: &Arc<Self>, key: K, amount: usize, most: usize) -> Option<Share<K>> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if count.saturating_add(amount) > most {
            if *count == 0 {
                held.remove(&key);
            }
            return None;
        }
        *count += amount;
        Some(Share { tally: self.clone(), key, amount })
    }

    /// What `key` holds now.
    pub(crate) fn held(&self, key: K) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&key).copied().unwrap_or(0)
    }
}

impl<K: Hash + Eq + Copy> Drop for Share<K> {
    fn drop(&mut self) {
        let mut held = self.tally.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count = count.saturating_sub(self.amount);
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_at_most_its_most_and_gets_back_what_it_drops() {
        let tally = Arc::new(Tally::<u8>::default());
        let first = tally.take(1, 3, 5).unwrap();
        assert!(tally.take(1, 3, 5).is_none());
        let second = tally.take(1, 2, 5).unwrap();
        assert!(tally.take(1, 1, 5).is_none());
        // Another key is counted apart.
        let other = tally.take(2, 5, 5).unwrap();
        assert_eq!((tally.held(1), tally.held(2)), (5, 5));
        drop(first);
        assert_eq!(tally.held(1), 2);
        drop((second, other));
        assert_eq!((tally.held(1), tally.held(2)), (0, 0));
        assert!(tally.0.lock().unwrap().is_empty(), "keys with nothing held are forgotten");
        assert!(tally.take(3, 6, 5).is_none());
        assert!(tally.0.lock().unwrap().is_empty());
    }
}
