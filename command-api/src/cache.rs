//! Small bounded in-memory caches of what a write needs to know, so that a
//! decision costs fewer round trips to JetStream. What they hold is either
//! immutable (where a thread belongs) or checked by the stream on append (a
//! vote's last sequence): a stale entry can cost a retry, never a wrong write.

use std::{collections::HashMap, hash::Hash, sync::Mutex};

/// A map of two generations: new entries go into the younger one; when it
/// is full (half the capacity) it becomes the older one and the older one is
/// forgotten. What was used recently stays; a full cache forgets only its
/// older half.
#[derive(Debug)]
pub struct Bounded<K, V> {
    generations: Mutex<Generations<K, V>>,
    generation: usize,
}

#[derive(Debug)]
struct Generations<K, V> {
    young: HashMap<K, V>,
    old: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> Bounded<K, V> {
    /// At most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            generations: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
            }),
            generation: (capacity / 2).max(1),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let g = self.generations.lock().ok()?;
        g.young.get(key).or_else(|| g.old.get(key)).cloned()
    }

    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut g) = self.generations.lock() {
            if g.young.len() >= self.generation && !g.young.contains_key(&key) {
                let young = std::mem::take(&mut g.young);
                g.old = young;
            }
            g.old.remove(&key);
            g.young.insert(key, value);
        }
    }

    pub fn remove(&self, key: &K) {
        if let Ok(mut g) = self.generations.lock() {
            g.young.remove(key);
            g.old.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut g) = self.generations.lock() {
            g.young.clear();
            g.old.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.generations
            .lock()
            .map(|g| g.young.len() + g.old.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A 64-bit key for a string, so that a big cache of long keys stays small.
/// Two keys may collide; caches keyed this way hold only what the stream
/// checks on append, so a collision costs a retry.
pub fn key_of(text: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_stays_within_its_capacity() {
        let cache = Bounded::new(4);
        for i in 0..100 {
            cache.insert(i, i * 10);
            assert!(cache.len() <= 4, "{} entries", cache.len());
        }
        assert_eq!(cache.get(&99), Some(990));
        assert_eq!(cache.get(&0), None);
        cache.remove(&99);
        assert_eq!(cache.get(&99), None);
    }

    #[test]
    fn what_was_used_recently_survives_a_full_generation() {
        let cache = Bounded::new(4);
        cache.insert(1, "a");
        cache.insert(2, "b");
        // The young generation is full: 1 and 2 become old, 3 is young.
        cache.insert(3, "c");
        assert_eq!((cache.get(&1), cache.get(&3)), (Some("a"), Some("c")));
        // Updating an old entry moves it to the young generation.
        cache.insert(1, "A");
        assert_eq!(cache.get(&1), Some("A"));
        cache.insert(4, "d");
        assert_eq!(cache.get(&2), None, "the old generation is forgotten");
        assert_eq!((cache.get(&1), cache.get(&3)), (Some("A"), Some("c")));
    }

    #[test]
    fn keys_of_strings_are_stable_and_distinct() {
        assert_eq!(key_of("flow.vote.a.b"), key_of("flow.vote.a.b"));
        assert_ne!(key_of("flow.vote.a.b"), key_of("flow.vote.a.c"));
    }
}
