//! Reading a JSON body field by field, collecting every fault keyed by its JSON path
//! (`subject.certificate.number`), so one 422 names all bad fields at once.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, FieldError>);

impl FieldErrors {
    pub fn add(&mut self, path: &str, code: &'static str, message: impl Into<String>) {
        self.0.entry(path.to_string()).or_insert(FieldError {
            code,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<&FieldError> {
        self.0.get(path)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Walks a JSON document, recording what is missing or of the wrong type.
pub struct Reader<'e> {
    pub errors: &'e mut FieldErrors,
}

pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Reader<'_> {
    pub fn object<'v>(
        &mut self,
        v: Option<&'v Value>,
        path: &str,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Some(Value::Object(m)) => Some(m),
            None | Some(Value::Null) => {
                self.errors.add(path, "required", "this field is required");
                None
            }
            Some(_) => {
                self.errors
                    .add(path, "not_an_object", "an object is expected here");
                None
            }
        }
    }

    /// A required, non-empty string.
    pub fn string<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'v str> {
        let p = join(path, key);
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
            None | Some(Value::Null) => {
                self.errors.add(&p, "required", "this field is required");
                None
            }
            Some(Value::String(_)) => {
                self.errors
                    .add(&p, "required", "this field may not be empty");
                None
            }
            Some(_) => {
                self.errors
                    .add(&p, "not_a_string", "a string is expected here");
                None
            }
        }
    }

    /// An optional string: absent, null and empty are all None.
    pub fn optional_string<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'v str> {
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(_) => {
                self.errors.add(
                    &join(path, key),
                    "not_a_string",
                    "a string is expected here",
                );
                None
            }
        }
    }

    /// An array of at most `max` items; absent is an empty array unless `min` > 0.
    pub fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
        min: usize,
        max: usize,
    ) -> &'v [Value] {
        let p = join(path, key);
        match obj.get(key) {
            Some(Value::Array(items)) if items.len() < min => {
                self.errors
                    .add(&p, "too_few", format!("at least {min} expected"));
                &[]
            }
            Some(Value::Array(items)) if items.len() > max => {
                self.errors
                    .add(&p, "too_many", format!("at most {max} allowed"));
                &[]
            }
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) if min == 0 => &[],
            None | Some(Value::Null) => {
                self.errors.add(&p, "required", "this field is required");
                &[]
            }
            Some(_) => {
                self.errors
                    .add(&p, "not_an_array", "an array is expected here");
                &[]
            }
        }
    }

    pub fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<bool> {
        match obj.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            None | Some(Value::Null) => None,
            Some(_) => {
                self.errors.add(
                    &join(path, key),
                    "not_a_boolean",
                    "true or false is expected here",
                );
                None
            }
        }
    }
}
