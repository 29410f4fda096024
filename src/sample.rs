//! The rows an analysis uses and the small containers every layer shares: [`Sample`] (rows,
//! arms, weights, matched sets), [`Exclusion`] (rows left out and why), [`ArmLabels`] and
//! [`OrderedMap`] (per-arm results in the arms' order). Below `propensity`, `matching`,
//! `balance` and `analysis`; depends on nothing of ours.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The rows an analysis uses, with their arm, weight and matched set.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub rows: Vec<usize>,
    pub treated: Vec<bool>,
    pub weight: Vec<f64>,
    pub set_id: Vec<u32>,
    pub weighted: bool,
}

/// How the two arms are shown (the keys of every per-arm map): the user's labels, else the
/// levels as the file spells them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmLabels {
    pub treated: String,
    pub control: String,
}

/// A map that serializes in insertion order (treated arm before control).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn insert(&mut self, key: String, value: V) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V: std::fmt::Display> OrderedMap<V> {
    /// "lenvatinib 125 · sorafenib 105" style text of the entries, joined by `sep`.
    pub fn joined(&self, sep: &str) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Rows left out of one analysis, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exclusion {
    pub reason: String,
    pub n: usize,
}
