//! The "is subset" match between a case's `expect` and the command's JSON.
//!
//! Objects match key-wise (keys the case does not name are ignored), arrays
//! and scalars exactly. A few operators, written as a one-key object whose
//! key starts with `$`, say what exactness cannot:
//!
//! - `{$contains: [e, …]}`: the array holds an element matching each `e`
//!   (any order, other elements allowed);
//! - `{$lacks: [e, …]}`: the array holds no element matching any `e`;
//! - `{$substring: "s"}`: a string containing `s` (case-insensitive, for
//!   reasons and notes whose wording is ours);
//! - `{$prefix: "s"}`: a string starting with `s`;
//! - `{$not_null: true}`: any value but null;
//! - `{$one_of: [v, …]}`: matches any of the alternatives;
//! - `{$absent: true}` as an object member: the key is missing or null.

use serde_json::Value;

/// Why `got` does not match `want`, as a path and a short reason; `None`
/// when it matches.
pub fn mismatch(want: &Value, got: &Value) -> Option<String> {
    mismatch_at("", want, got)
}

fn operator(want: &Value) -> Option<(&str, &Value)> {
    let obj = want.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    let (key, value) = obj.iter().next()?;
    key.starts_with('$').then_some((key.as_str(), value))
}

fn mismatch_at(path: &str, want: &Value, got: &Value) -> Option<String> {
    let here = || if path.is_empty() { "." } else { path };
    if let Some((op, arg)) = operator(want) {
        return match_operator(here(), op, arg, got);
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            // Every differing key, not just the first: `by` sorts before
            // `decision`, and a wrong decision is the headline.
            let all: Vec<String> = w
                .iter()
                .filter_map(|(key, wv)| {
                    let sub = format!("{path}.{key}");
                    if matches!(operator(wv), Some(("$absent", _))) {
                        return match g.get(key) {
                            None | Some(Value::Null) => None,
                            Some(v) => Some(format!("{sub}: expected absent, got {v}")),
                        };
                    }
                    match g.get(key) {
                        Some(gv) => mismatch_at(&sub, wv, gv),
                        None => Some(format!("{sub}: missing (expected {wv})")),
                    }
                })
                .collect();
            (!all.is_empty()).then(|| all.join("; "))
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Some(format!(
                    "{}: expected {} elements {}, got {} {}",
                    here(),
                    w.len(),
                    want,
                    g.len(),
                    got
                ));
            }
            w.iter()
                .zip(g)
                .enumerate()
                .find_map(|(i, (wv, gv))| mismatch_at(&format!("{path}[{i}]"), wv, gv))
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => None,
        _ if want == got => None,
        _ => Some(format!("{}: expected {want}, got {got}", here())),
    }
}

fn match_operator(path: &str, op: &str, arg: &Value, got: &Value) -> Option<String> {
    let fail = |what: String| Some(format!("{path}: {what}, got {got}"));
    match op {
        "$contains" | "$lacks" => {
            let Some(items) = got.as_array() else {
                return fail(format!("expected an array for {op}"));
            };
            let wanted = arg.as_array().cloned().unwrap_or_else(|| vec![arg.clone()]);
            for w in &wanted {
                let found = items.iter().any(|g| mismatch(w, g).is_none());
                if op == "$contains" && !found {
                    return fail(format!("no element matches {w}"));
                }
                if op == "$lacks" && found {
                    return fail(format!("an element matches {w}"));
                }
            }
            None
        }
        "$substring" | "$prefix" => {
            let (Some(needle), Some(hay)) = (arg.as_str(), got.as_str()) else {
                return fail(format!("expected a string for {op} {arg}"));
            };
            let ok = if op == "$prefix" {
                hay.starts_with(needle)
            } else {
                hay.to_lowercase().contains(&needle.to_lowercase())
            };
            if ok {
                None
            } else {
                fail(format!("expected {op} {arg}"))
            }
        }
        "$not_null" => {
            if got.is_null() {
                fail("expected a non-null value".into())
            } else {
                None
            }
        }
        "$absent" => {
            if got.is_null() {
                None
            } else {
                fail("expected absent or null".into())
            }
        }
        "$one_of" => {
            let options = arg.as_array().cloned().unwrap_or_default();
            if options.iter().any(|o| mismatch(o, got).is_none()) {
                None
            } else {
                fail(format!("expected one of {arg}"))
            }
        }
        _ => Some(format!("{path}: unknown operator {op} in the case")),
    }
}

#[cfg(test)]
mod tests {
    use super::mismatch;
    use serde_json::json;

    #[test]
    fn objects_match_key_wise_arrays_exactly() {
        let got = json!({"a": 1, "b": [1, 2], "c": {"d": null, "e": "x"}});
        assert!(mismatch(&json!({"a": 1}), &got).is_none());
        assert!(mismatch(&json!({"c": {"d": null}}), &got).is_none());
        assert!(mismatch(&json!({"b": [1]}), &got).is_some());
        assert!(mismatch(&json!({"b": [2, 1]}), &got).is_some());
        assert!(mismatch(&json!({"a": 2}), &got).is_some());
        assert!(mismatch(&json!({"z": 1}), &got).is_some());
        assert!(mismatch(&json!({"c": {"d": "x"}}), &got).is_some());
    }

    #[test]
    fn operators() {
        let got = json!({"l": [{"k": 1, "v": "Hello World"}, {"k": 2}], "n": null, "s": "abc"});
        assert!(mismatch(&json!({"l": {"$contains": [{"k": 2}]}}), &got).is_none());
        assert!(mismatch(&json!({"l": {"$contains": [{"k": 3}]}}), &got).is_some());
        assert!(mismatch(&json!({"l": {"$lacks": [{"k": 3}]}}), &got).is_none());
        assert!(mismatch(&json!({"l": {"$lacks": [{"k": 1}]}}), &got).is_some());
        let sub = json!({"l": {"$contains": [{"v": {"$substring": "world"}}]}});
        assert!(mismatch(&sub, &got).is_none());
        assert!(mismatch(&json!({"s": {"$prefix": "ab"}}), &got).is_none());
        assert!(mismatch(&json!({"s": {"$prefix": "b"}}), &got).is_some());
        assert!(mismatch(&json!({"n": {"$not_null": true}}), &got).is_some());
        assert!(mismatch(&json!({"s": {"$not_null": true}}), &got).is_none());
        assert!(mismatch(&json!({"n": {"$absent": true}}), &got).is_none());
        assert!(mismatch(&json!({"q": {"$absent": true}}), &got).is_none());
        assert!(mismatch(&json!({"s": {"$absent": true}}), &got).is_some());
        assert!(mismatch(&json!({"s": {"$one_of": ["x", "abc"]}}), &got).is_none());
        assert!(mismatch(&json!({"s": {"$one_of": ["x"]}}), &got).is_some());
        assert!(mismatch(&json!({"s": {"$bogus": 1}}), &got).is_some());
    }
}
