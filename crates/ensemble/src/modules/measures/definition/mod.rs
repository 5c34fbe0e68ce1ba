//! Instrument definitions as data (docs/INSTRUMENTS.md): parsing with every problem reported by
//! path, scoring from item answers, and licensed-wording overlays.
//!
//! Pure: no database. The built-in library (`builtin/*.json`) ships item ids and scoring only
//! for instruments whose wording is licensed.

mod checks;
mod format;
mod library;
mod overlay;
mod plain;
mod scoring;

pub use checks::*;
pub use format::*;
pub use library::*;
pub use overlay::*;
pub use plain::*;
pub use scoring::*;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn answers(pairs: &[(&str, f64)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Answer::Number(*v)))
            .collect()
    }

    #[test]
    fn every_builtin_parses_and_licensed_ones_carry_no_wording() {
        assert_eq!(builtins().len(), BUILTIN_SOURCES.len());
        for d in builtins() {
            if d.is_licensed() {
                assert!(
                    d.items
                        .iter()
                        .all(|i| i.text.is_none() && i.easy_read.is_none()),
                    "{}",
                    d.id
                );
            }
        }
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let text = r#"{"id":"check_in","version":1,"name":"Check-in","short_name":"Check-in",
          "licence":{"kind":"open","holder":"Us"},
          "scales":{"five":{"kind":"numeric","min":1,"max":5}},
          "items":[{"id":"mood","scale":"five","text":"How is your mood?"},
                   {"id":"sleep","scale":"five","text":"How did you sleep?"},
                   {"id":"mood","scale":"five","text":"Again?"},
                   {"id":"energy","scale":"agree5","text":"Energy?"}],
          "scores":[{"id":"total","label":"Total","method":"sum","items":["mood","nope"]},
                    {"id":"metric","label":"Metric","method":"lookup","from":"later","table":[[2,1],[1,2]]}]}"#;
        let e = Definition::parse(text)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            e.contains(&"items[3].scale: unknown scale \"agree5\"".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.contains(&"items[2].id: \"mood\" is used twice".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.contains(&"scores[0].items[1]: unknown item \"nope\"".to_owned()),
            "{e:#?}"
        );
        assert!(
            e.iter()
                .any(|m| m.starts_with("scores[1].from: unknown score \"later\"")),
            "{e:#?}"
        );
        assert!(
            e.iter().any(|m| m.starts_with("scores[1].table[1]:")),
            "{e:#?}"
        );
        // Structural problems come from the JSON Schema, also with paths.
        let e = Definition::parse(r#"{"id":"x1","version":0,"name":"","short_name":"X","licence":{"kind":"open","holder":"Us"},"scales":{},"items":[],"scores":[],"colour":"red"}"#)
            .err().map(|e| e.0).unwrap_or_default();
        assert!(e.iter().any(|m| m.starts_with("version:")), "{e:#?}");
        assert!(e.iter().any(|m| m.starts_with("items:")), "{e:#?}");
        assert!(
            e.iter().any(|m| m.contains("unknown field colour")),
            "{e:#?}"
        );
        let e = Definition::parse("{")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e[0].starts_with("line 1"), "{e:?}");
    }

    #[test]
    fn swemwbs_converts_every_raw_total_through_the_table() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let ids: Vec<String> = d.items.iter().map(|i| i.id.clone()).collect();
        let rule = d
            .scores
            .iter()
            .find(|s| s.id == "metric")
            .unwrap_or_else(|| panic!("metric"));
        for raw in 7..=35 {
            // Spread the raw total over the seven items.
            let mut left = raw - 7;
            let mut a = BTreeMap::new();
            for id in &ids {
                let extra = left.min(4);
                left -= extra;
                a.insert(id.clone(), Answer::Number(f64::from(1 + extra)));
            }
            let scores = d.score(&a).unwrap_or_else(|e| panic!("{e}"));
            let expected = rule
                .table
                .iter()
                .find(|p| p[0] == f64::from(raw))
                .map(|p| p[1]);
            assert_eq!(scores[0].value, f64::from(raw));
            assert_eq!(Some(scores[1].value), expected, "raw {raw}");
        }
    }

    #[test]
    fn refuses_out_of_range_and_missing_answers_naming_the_item() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let mut a = answers(&[("optimistic", 3.0), ("useful", 6.0), ("relaxed", 2.5)]);
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("question 2 (\"useful\"): 6 is not an allowed answer (expected one of 1, 2, 3, 4, 5)"), "{e}");
        assert!(e.contains("question 3 (\"relaxed\"): 2.5"), "{e}");
        a.insert("useful".into(), Answer::Number(4.0));
        a.insert("relaxed".into(), Answer::Number(2.0));
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains(
                "Raw score (7 to 35) cannot be scored: question 4 (\"dealing_with_problems\")"
            ),
            "{e}"
        );
        a.insert("made_up".into(), Answer::Number(1.0));
        let e = d.score(&a).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("\"made_up\" is not a question of SWEMWBS"),
            "{e}"
        );
    }

    #[test]
    fn reverse_scoring_prorating_and_means() {
        let text = r#"{"id":"mood_check","version":2,"name":"Mood check","short_name":"Mood",
          "licence":{"kind":"open","holder":"Us"},
          "scales":{"five":{"kind":"faces","options":[
             {"value":1,"label":"Very low","face":"😞"},{"value":2,"label":"Low","face":"😟"},
             {"value":3,"label":"Okay","face":"😐"},{"value":4,"label":"Good","face":"😊"},
             {"value":5,"label":"Very good","face":"😄"}]},
             "note":{"kind":"free_text","max_length":20}},
          "items":[{"id":"calm","scale":"five","text":"Calm?"},
                   {"id":"tense","scale":"five","text":"Tense?","reverse":true},
                   {"id":"hopeful","scale":"five","text":"Hopeful?"},
                   {"id":"words","scale":"note","text":"Anything else?"}],
          "scores":[{"id":"total","label":"Total","method":"sum","max_missing":1,
                     "bands":[{"label":"low","min":3,"max":8},{"label":"high","min":9,"max":15}]},
                    {"id":"average","label":"Average","method":"mean","max_missing":1}]}"#;
        let d = Definition::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let mut a = answers(&[("calm", 4.0), ("tense", 1.0), ("hopeful", 3.0)]);
        a.insert("words".into(), Answer::Text("fine".into()));
        let s = d.score(&a).unwrap_or_else(|e| panic!("{e}"));
        // tense 1 reversed on 1–5 is 5: 4 + 5 + 3.
        assert_eq!((s[0].value, s[0].band.as_deref()), (12.0, Some("high")));
        assert_eq!(s[1].value, 4.0);
        // One missing is prorated: (4 + 5) / 2 × 3.
        let s = d
            .score(&answers(&[("calm", 4.0), ("tense", 1.0)]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s[0].value, 13.5);
        assert!(d.score(&answers(&[("calm", 4.0)])).is_err());
        let mut long = answers(&[("calm", 4.0), ("tense", 1.0), ("hopeful", 3.0)]);
        long.insert("words".into(), Answer::Text("x".repeat(21)));
        assert!(d.score(&long).is_err());
    }

    #[test]
    fn service_use_scores_each_count_apart_and_refuses_a_count_off_its_range() {
        let d = builtin("service_use").unwrap_or_else(|| panic!("service_use"));
        let s = d
            .score(&answers(&[
                ("gp_appointments", 3.0),
                ("ae_attendances", 0.0),
                ("hospital_nights", 92.0),
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
        let got: Vec<_> = s.iter().map(|s| (s.id.as_str(), s.value)).collect();
        assert_eq!(
            got,
            vec![
                ("gp_appointments", 3.0),
                ("ae_attendances", 0.0),
                ("hospital_nights", 92.0)
            ]
        );
        assert!(
            d.headline_scores()
                .all(|r| r.direction == Direction::LowerIsBetter)
        );
        for bad in [
            ("gp_appointments", 51.0),
            ("crisis_contacts", 1.5),
            ("hospital_nights", -1.0),
        ] {
            let e = d
                .score(&answers(&[bad]))
                .err()
                .unwrap_or_else(|| panic!("{bad:?} scored"));
            assert!(e.to_string().contains("whole number from 0 to"), "{e}");
        }
    }

    #[test]
    fn ons4_items_are_banded_separately() {
        let d = builtin("ons4").unwrap_or_else(|| panic!("ons4"));
        let s = d
            .score(&answers(&[
                ("life_satisfaction", 6.0),
                ("worthwhile", 9.0),
                ("happiness", 7.0),
                ("anxiety", 2.0),
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
        let bands: Vec<_> = s
            .iter()
            .map(|s| (s.id.as_str(), s.value, s.band.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            bands,
            vec![
                ("life_satisfaction", 6.0, "medium".to_owned()),
                ("worthwhile", 9.0, "very high".to_owned()),
                ("happiness", 7.0, "high".to_owned()),
                ("anxiety", 2.0, "low".to_owned())
            ]
        );
    }

    #[test]
    fn an_ons4_question_left_blank_still_scores_the_other_three_but_all_blank_is_refused() {
        let d = builtin("ons4").unwrap_or_else(|| panic!("ons4"));
        let s = d
            .score(&answers(&[
                ("life_satisfaction", 6.0),
                ("happiness", 7.0),
                ("anxiety", 2.0),
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<_> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["life_satisfaction", "happiness", "anxiety"]);
        let e = d
            .score(&BTreeMap::new())
            .err()
            .unwrap_or_else(|| panic!("no answers scored"));
        assert_eq!(
            e.to_string(),
            "ONS4 cannot be scored: no question was answered"
        );
        // The other instruments keep their rule: SWEMWBS refuses a blank question.
        let sw = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let six: Vec<_> = sw
            .items
            .iter()
            .skip(1)
            .map(|i| (i.id.as_str(), 3.0))
            .collect();
        assert!(sw.score(&answers(&six)).is_err());
    }

    #[test]
    fn overlays_must_word_every_item_of_their_version() {
        let d = builtin("swemwbs").unwrap_or_else(|| panic!("swemwbs"));
        let e = Overlay::parse_for(
            r#"{"instrument":"swemwbs","version":1,"source":"test","items":{"optimistic":{"text":"Stand-in"},"extra":{"text":"x"}}}"#,
            d,
        )
        .err()
        .map(|e| e.0)
        .unwrap_or_default();
        assert!(
            e.contains(&"items.useful: no wording for this question".to_owned()),
            "{e:?}"
        );
        assert!(e.iter().any(|m| m.starts_with("items.extra:")), "{e:?}");
    }
}
