//! JSON Merge Patch (RFC 7396) for PATCH bodies, with one addition: a masked value the client
//! echoes back unchanged (`110101********803X`) keeps the stored value, so a client can send
//! back what it was shown without knowing the full ID number.

use serde_json::Value;

use crate::filing::id_number::mask_id;

pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(map) = target else { return };
    for (key, value) in patch {
        match value {
            Value::Null => {
                map.remove(key);
            }
            Value::Object(_) => apply(map.entry(key.clone()).or_insert(Value::Null), value),
            _ => {
                let mut value = value.clone();
                if let Some(old) = map.get(key) {
                    restore_masked(&mut value, old);
                }
                map.insert(key.clone(), value);
            }
        }
    }
}

/// Puts back stored strings where the new document has their masked form at the same place
/// (arrays are matched by index: services are sent back whole, in the order they were shown).
fn restore_masked(new: &mut Value, old: &Value) {
    match (new, old) {
        (Value::String(s), Value::String(o)) if s.contains('*') && mask_id(o) == *s => {
            *s = o.clone()
        }
        (Value::Object(n), Value::Object(o)) => {
            for (k, v) in n.iter_mut() {
                if let Some(ov) = o.get(k) {
                    restore_masked(v, ov);
                }
            }
        }
        (Value::Array(n), Value::Array(o)) => {
            for (v, ov) in n.iter_mut().zip(o) {
                restore_masked(v, ov);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        apply(&mut doc, &json!({"a": "z", "c": {"f": null}, "list": [3]}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}, "list": [3]}));
    }

    #[test]
    fn an_echoed_mask_keeps_the_stored_number() {
        let mut doc = json!({"id_number": "11010119900307803X", "name": "张三"});
        apply(
            &mut doc,
            &json!({"id_number": "110101********803X", "name": "李四"}),
        );
        assert_eq!(
            doc,
            json!({"id_number": "11010119900307803X", "name": "李四"})
        );
        apply(&mut doc, &json!({"id_number": "110101****"}));
        assert_eq!(
            doc["id_number"], "110101****",
            "anything else replaces it (and fails validation)"
        );
    }

    #[test]
    fn masks_inside_replaced_arrays_are_matched_by_position() {
        let mut doc = json!({"services": [{"name": "a", "responsible": {"id_number": "11010119900307803X"}}]});
        apply(
            &mut doc,
            &json!({"services": [{"name": "b", "responsible": {"id_number": "110101********803X"}}, {"name": "c"}]}),
        );
        assert_eq!(
            doc["services"][0]["responsible"]["id_number"],
            "11010119900307803X"
        );
        assert_eq!(doc["services"][0]["name"], "b");
        assert_eq!(doc["services"][1]["name"], "c");
    }
}
