//! A tiny structural JSON Schema checker for tests: `type` (including "integer" and "null"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fie::fit::{
        fit_line, regress_spectra, FieSpectrumFit, RegressForm, SpectrumUncertainties, SPECTRUM_FIT_SCHEMA,
    };
    use crate::fie::model::tests::test_config;
    use crate::fie::model::FieModel;
    use crate::fie::output::*;
    use crate::fie::protocol::tests::default_model;
    use crate::fie::protocol::{run_file, ProtocolFile};
    use crate::provenance::Provenance;
    use serde_json::json;
    use std::path::Path;

    fn schema(name: &str) -> Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(name);
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
    }

    fn assert_valid(schema_file: &str, value: &impl serde::Serialize) {
        let v = serde_json::to_value(value).unwrap();
        let errors = check(&schema(schema_file), &v);
        assert!(errors.is_empty(), "{schema_file}: {errors:#?}");
    }

    fn prov() -> Provenance {
        Provenance::new(&[]).unwrap()
    }

    #[test]
    fn checker_reports_violations() {
        let s = json!({"type": "object", "required": ["a", "b"],
            "properties": {"a": {"type": "integer"}, "b": {"type": ["number", "null"]},
                           "c": {"type": "array", "items": {"$ref": "#/$defs/p"}}},
            "$defs": {"p": {"type": "array", "minItems": 2, "maxItems": 2}}});
        assert!(check(&s, &json!({"a": 1, "b": null, "c": [[1, 2]]})).is_empty());
        let e = check(&s, &json!({"a": 1.5, "c": [[1]]}));
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e.iter().any(|m| m == "$: missing required key 'b'"), "{e:?}");
        assert!(e.iter().any(|m| m.starts_with("$.a: expected type")), "{e:?}");
        assert!(e.iter().any(|m| m == "$.c[0]: 1 items < minItems 2"), "{e:?}");
    }

    #[test]
    fn line_map_and_fit_outputs_match_their_schemas() {
        let model = FieModel::new(test_config()).unwrap();
        let line = model.equilibrium_line().unwrap();
        assert_valid(
            "fie-line.schema.json",
            &LineOutput::new(prov(), model.config(), line.clone()),
        );
        let map = model.ageing_map(4, 5).unwrap();
        assert_valid(
            "fie-map.schema.json",
            &MapOutput::new(prov(), model.config(), map, line),
        );
        let pts: Vec<[f64; 2]> = [900.0, 1100.0, 1300.0]
            .iter()
            .map(|&t| [t, model.equilibrium_e_is(t).unwrap().unwrap()])
            .collect();
        let fit = fit_line(model.config(), &pts, &["m.value".to_string()]).unwrap();
        assert_valid(
            "fie-fit-line.schema.json",
            &FitLineOutput::new(prov(), &pts, fit, model.critical_temperature().unwrap()),
        );
    }

    #[test]
    fn run_output_matches_its_schema() {
        let model = default_model();
        let file: ProtocolFile = toml::from_str(
            r#"
            [[protocol]]
            name = "a"
            t_start = 1400.0
            e_is_start = "equilibrium"
            segments = [{ type = "ramp", to = 1000.0, rate = 1e12 }, { type = "hold", duration = 1e-9 }]
            "#,
        )
        .unwrap();
        let mut solver = model.config().solver;
        solver.max_temperature_step = 50.0;
        let trajs = run_file(&model, &file, &solver).unwrap();
        let out = RunOutput::new(prov(), model.config(), &file, solver, Some(760.0), &trajs);
        assert_valid("fie-run.schema.json", &out);
    }

    #[test]
    fn spectrum_and_regress_outputs_match_their_schemas() {
        let fits: Vec<FieSpectrumFit> = [(-4.70, 0.07, 1.4), (-4.68, 0.12, 1.25), (-4.66, 0.2, 1.1)]
            .iter()
            .map(|&(e, w, m)| FieSpectrumFit {
                schema: SPECTRUM_FIT_SCHEMA.into(),
                sample: format!("{e}"),
                e_is: e,
                w,
                m,
                e_a: 0.5,
                s: 0.49,
                e_r: 0.32,
                fixed: vec!["e_a".into()],
                uncertainties: SpectrumUncertainties {
                    w: Some(0.01),
                    ..Default::default()
                },
                n_events: 2500,
                log_likelihood: Some(-1234.5),
                provenance: Some(prov()),
            })
            .collect();
        for f in &fits {
            assert_valid("fie-spectrum.schema.json", f);
        }
        let r = regress_spectra(&fits, RegressForm::Linear, RegressForm::Tabulated).unwrap();
        assert_valid(
            "fie-regress.schema.json",
            &RegressOutput::new(prov(), &fits, r, Some(test_config())),
        );
    }
}
