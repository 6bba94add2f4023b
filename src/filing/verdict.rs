//! A material's verdict, as stored with it and returned by the API: the state its judging (or
//! a reviewer) put it in, the reason codes, the measured checks behind them, and what else was
//! found, each under its own name. Built and changed through this type only; it becomes JSON
//! where it is stored and where the API shows it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::materials::MaterialState;
use super::reason::ReasonCode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub verdict: MaterialState,
    /// Reason codes, most fundamental first (the gate's, the reader's, the cross-checks', the
    /// face match's, or a reviewer's).
    #[serde(default)]
    pub reasons: Vec<ReasonCode>,
    /// The measured checks behind them, each with its value, threshold and `ok`.
    #[serde(default)]
    pub checks: Vec<Value>,
    /// What was read and the cross-checks' flags (`inspect::conclude`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Value>,
    /// The live face against the card portrait (`service::face_match`).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub face_match: Option<Value>,
    /// A reviewer's decision: what, why, by whom, and the session that asks for it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Value>,
    /// The rest, by name: the kind, the document's corners and the image, a face, a liveness
    /// capture's challenge and frames, an analysis error.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl Verdict {
    pub fn new(verdict: MaterialState, reasons: impl IntoIterator<Item = ReasonCode>) -> Self {
        Verdict {
            verdict,
            reasons: reasons.into_iter().collect(),
            checks: Vec::new(),
            read: None,
            face_match: None,
            review: None,
            details: Map::new(),
        }
    }

    /// Adds `value` under `name` to the details.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.details.insert(name.to_string(), value);
        self
    }

    /// As JSON, keys in order (as the API has always shown a verdict).
    pub fn to_value(&self) -> Value {
        // Strings, numbers and JSON values only: serialising cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_with_its_details_and_keeps_unknown_names() {
        let stored = json!({
            "verdict": "flagged", "reasons": ["face_mismatch"], "checks": [{"check": "x"}],
            "match": {"score": 0.2}, "kind": "face", "frames": [1, 2],
        });
        let v: Verdict = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(v.verdict, MaterialState::Flagged);
        assert_eq!(v.face_match, Some(json!({"score": 0.2})));
        assert_eq!(v.details["frames"], json!([1, 2]));
        assert_eq!(v.to_value(), stored);
    }
}
