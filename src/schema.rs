//! A tiny structural JSON Schema checker, used by the tests to hold every JSON output to its
//! schema file in `schemas/`: `type` (including "integer" and "null"),
//! `required`, `properties`, `items`, `const`, `enum`, `anyOf`, `minItems`/`maxItems`,
//! `minimum`/`maximum` and local `$ref`s ("#/$defs/name"). Enough to check that every output
//! matches the schema file shipped in `schemas/`; not a general validator.

use serde_json::Value;

/// Check `value` against `schema` (whose root holds the `$defs`). Returns every violation as
/// "path: reason".
pub fn check(root: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    walk(root, root, value, "$", &mut errors);
    errors
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn walk(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix("#/$defs/").and_then(|n| root.get("$defs")?.get(n)) {
            Some(target) => walk(root, target, v, path, errors),
            None => errors.push(format!("{path}: unresolvable $ref {r}")),
        }
        return;
    }
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(s) => type_ok(s, v),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|s| type_ok(s, v)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: expected type {t}, found {v}"));
            return;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            errors.push(format!("{path}: expected {c}, found {v}"));
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(v) {
            errors.push(format!("{path}: {v} is not one of {options:?}"));
        }
    }
    if let Some(Value::Array(alts)) = schema.get("anyOf") {
        if !alts.iter().any(|a| {
            let mut e = Vec::new();
            walk(root, a, v, path, &mut e);
            e.is_empty()
        }) {
            errors.push(format!("{path}: matches no alternative of anyOf"));
        }
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            errors.push(format!("{path}: {x} < minimum {min}"));
        }
    }
    if let (Some(max), Some(x)) = (schema.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if x > max {
            errors.push(format!("{path}: {x} > maximum {max}"));
        }
    }
    if let Value::Object(map) = v {
        if let Some(Value::Array(req)) = schema.get("required") {
            for k in req.iter().filter_map(Value::as_str) {
                if !map.contains_key(k) {
                    errors.push(format!("{path}: missing required key '{k}'"));
                }
            }
        }
        if let Some(Value::Object(props)) = schema.get("properties") {
            for (k, sub) in props {
                if let Some(x) = map.get(k) {
                    walk(root, sub, x, &format!("{path}.{k}"), errors);
                }
            }
        }
    }
    if let Value::Array(items) = v {
        let n = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if n < min {
                errors.push(format!("{path}: {n} items < minItems {min}"));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if n > max {
                errors.push(format!("{path}: {n} items > maxItems {max}"));
            }
        }
        if let Some(sub) = schema.get("items") {
            for (i, x) in items.iter().enumerate() {
                walk(root, sub, x, &format!("{path}[{i}]"), errors);
            }
        }
    }
}

/// Reads a schema shipped in `schemas/` (for tests: the path is relative to the crate root).
pub fn load(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
