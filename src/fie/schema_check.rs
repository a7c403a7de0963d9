//! The fie outputs checked against their schemas in `schemas/fie-*.schema.json`.

#[cfg(test)]
mod tests {
    use crate::fie::fit::{
        fit_line, regress_spectra, FieSpectrumFit, RegressForm, SpectrumUncertainties, SPECTRUM_FIT_SCHEMA,
    };
    use crate::fie::model::tests::test_config;
    use crate::fie::model::FieModel;
    use crate::fie::output::*;
    use crate::fie::protocol::tests::default_model;
    use crate::fie::protocol::{run_file, ProtocolFile};
    use crate::provenance::Provenance;
    use crate::schema::check;
    use serde_json::json;
    use serde_json::Value;
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
