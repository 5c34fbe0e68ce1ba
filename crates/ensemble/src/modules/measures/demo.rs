//! Demo measures: a clearly marked, made-up stand-in for the licensed SWEMWBS wording (the
//! real wording is never shipped), and a few earlier check-ins so that change shows.

use std::collections::BTreeMap;

use super::definition::Answer;
use super::service::{self, Mode, NewResponse};
use crate::error::AppError;
use crate::modules::referrals::demo::{actor, demo_referrals};
use crate::state::AppState;

/// Made-up questions standing in for SWEMWBS in the demo. They are NOT the SWEMWBS items
/// and are marked as a stand-in wherever they are shown.
pub const STAND_IN_SWEMWBS: &str = r#"{
  "instrument": "swemwbs",
  "version": 1,
  "source": "Ensemble demo: made-up stand-in questions, not the licensed SWEMWBS wording",
  "stand_in": true,
  "instructions": "Demo stand-in: choose how often each made-up statement has been true for you.",
  "easy_read_instructions": "Demo stand-in: pick how often each sentence was true for you.",
  "items": {
    "optimistic": { "text": "Demo question 1: I have had something to look forward to.", "easy_read": "Demo 1: I had something nice coming up." },
    "useful": { "text": "Demo question 2: I have helped someone out.", "easy_read": "Demo 2: I helped someone." },
    "relaxed": { "text": "Demo question 3: I have had a calm evening.", "easy_read": "Demo 3: I had a calm evening." },
    "dealing_with_problems": { "text": "Demo question 4: I have sorted out a small hassle.", "easy_read": "Demo 4: I sorted out a small problem." },
    "thinking_clearly": { "text": "Demo question 5: I have finished a crossword or puzzle.", "easy_read": "Demo 5: I finished a puzzle." },
    "close_to_others": { "text": "Demo question 6: I have shared a meal with someone.", "easy_read": "Demo 6: I ate with someone." },
    "own_mind": { "text": "Demo question 7: I have picked what to watch or listen to.", "easy_read": "Demo 7: I chose what to watch or hear." }
  }
}"#;

async fn backdate(state: &AppState, id: &str, days: i64) -> Result<(), AppError> {
    let at = crate::db::now() - days * 86_400;
    sqlx::query("UPDATE measure_responses SET started_at = $1, updated_at = $1, completed_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.to_string())
        .execute(&state.db.write)
        .await?;
    Ok(())
}

fn answers(pairs: &[(&str, f64)]) -> BTreeMap<String, Answer> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Answer::Number(*v)))
        .collect()
}

/// The demo evaluation cohort's measures (`referrals::demo_cohort`): SWEMWBS (scored as
/// version 1 whatever wording is shown), ONS4 and the service-use counts from paper, at
/// baseline near each person's first session and, for most, a follow-up ten to fourteen
/// weeks later (`measures::generate`). Returns how many responses were written.
pub async fn cohort(
    state: &AppState,
    attended: &[crate::modules::referrals::demo_cohort::Attended],
) -> Result<usize, AppError> {
    let mut r = super::generate::Responses::new(
        2026,
        super::generate::Shares {
            baseline: 0.9,
            follow_up: 0.85,
            ons4: 0.9,
            service_use: 0.85,
        },
        crate::db::now(),
    )?;
    for a in attended {
        r.push(super::generate::Participant {
            person_id: &a.person_id,
            referral_id: Some(&a.referral_id),
            start: a.first_session,
        })?;
    }
    let n = r.written().responses;
    r.flush(&state.db).await?;
    Ok(n)
}

/// Load the demo measures.
pub async fn load(state: &AppState) -> Result<(), AppError> {
    let (Some(admin), Some(lee)) = (
        actor(state, "ash.admin@ensemble-demo.example").await?,
        actor(state, "lee.linkworker@ensemble-demo.example").await?,
    ) else {
        return Ok(());
    };
    for org in [
        "Knowsley Park Primary Care Network (demo)",
        "Liverpool City Sinfonia (demo)",
    ] {
        if let Some(o) = crate::modules::accounts::service::find_organisation(state, org).await? {
            service::upload_overlay(state, &admin, &o.id, STAND_IN_SWEMWBS).await?;
        }
    }
    // The Sinfonia programme's measurement plan: ONS4 at first contact and SWEMWBS every four
    // weeks from the first session, both in the core set.
    if let Some(pat) = actor(state, "pat.programmes@ensemble-demo.example").await? {
        let activity: Option<String> = demo_referrals(state, &["demo-Jordan"])
            .await?
            .into_iter()
            .find_map(|r| r.activity_id);
        if let Some(a) = activity {
            for (instrument, timepoint, anchor, weeks) in [
                ("ons4", "baseline", "first_contact", ""),
                ("swemwbs", "repeat", "first_session", "4"),
                ("ons4", "end", "first_contact", ""),
            ] {
                super::schedules::add(
                    state,
                    &pat,
                    &a,
                    &super::schedules::RuleInput {
                        instrument: instrument.into(),
                        timepoint: timepoint.into(),
                        anchor: anchor.into(),
                        weeks: weeks.into(),
                        window_days: "14".into(),
                        core: "yes".into(),
                    },
                )
                .await?;
            }
        }
    }
    // A check-in co-designed for the Sinfonia programme, approved by a panel of a
    // practitioner and a participant.
    if let (Some(pat), Some(priya), Some(jordan)) = (
        actor(state, "pat.programmes@ensemble-demo.example").await?,
        actor(state, "priya.practitioner@ensemble-demo.example").await?,
        actor(state, "jordan.participant@ensemble-demo.example").await?,
    ) && let Some(org) = crate::modules::accounts::service::find_organisation(
        state,
        "Liverpool City Sinfonia (demo)",
    )
    .await?
    {
        use super::design::{self, DraftInput, QuestionInput};
        let (id, version) = design::create(
            state,
            &pat,
            &org.id,
            "Sinfonia session check-in",
            "Session check-in",
        )
        .await?;
        let q = |text: &str, easy: &str, kind: &str| QuestionInput {
            text: text.into(),
            easy_read: easy.into(),
            kind: kind.into(),
            reverse: false,
        };
        let input = DraftInput {
            name: "Sinfonia session check-in".into(),
            short_name: "Session check-in".into(),
            description:
                "A quick check-in at the end of a music session, co-designed with participants."
                    .into(),
            instructions: "Think about today's session.".into(),
            easy_read_instructions: "Think about today.".into(),
            scoring: "sum".into(),
            meaningful_change: "2".into(),
            changes: String::new(),
            questions: vec![
                q(
                    "How did the music make you feel today?",
                    "How did the music make you feel?",
                    "faces5",
                ),
                q(
                    "I felt part of the group",
                    "I felt part of the group",
                    "agree5",
                ),
                q(
                    "Anything you would like us to know?",
                    "Anything else?",
                    "free_text",
                ),
            ],
        };
        design::save(
            state,
            &pat,
            &id,
            version,
            &input,
            Some(&[priya.user_id.clone(), jordan.user_id.clone()]),
        )
        .await?;
        for member in [&priya, &jordan] {
            design::review(state, member, &id, version, true, "").await?;
        }
    }
    // Earlier check-ins for Jordan (entered with Lee four weeks ago) and Alex.
    for row in demo_referrals(state, &["demo-Jordan", "demo-Alex"]).await? {
        let person_id = row.person_id;
        let referral_id = row.id;
        let jordan = row.source_identifier == "demo-Jordan";
        let n = |instrument: &str, mode| NewResponse {
            person_id: person_id.clone(),
            instrument_id: instrument.into(),
            referral_id: Some(referral_id.clone()),
            schedule_id: None,
            mode,
            double_entry: false,
            easy_read: false,
            one_per_page: false,
        };
        let ons = if jordan {
            answers(&[
                ("life_satisfaction", 4.0),
                ("worthwhile", 5.0),
                ("happiness", 3.0),
                ("anxiety", 7.0),
            ])
        } else {
            answers(&[
                ("life_satisfaction", 5.0),
                ("worthwhile", 6.0),
                ("happiness", 5.0),
                ("anxiety", 8.0),
            ])
        };
        let (id, _, _) =
            service::submit(state, &lee, n("ons4", Mode::WithPractitioner), None, ons).await?;
        backdate(state, &id, 28).await?;
        if jordan {
            let sw = answers(&[
                ("optimistic", 2.0),
                ("useful", 3.0),
                ("relaxed", 2.0),
                ("dealing_with_problems", 3.0),
                ("thinking_clearly", 3.0),
                ("close_to_others", 2.0),
                ("own_mind", 3.0),
            ]);
            let (id, _, _) =
                service::submit(state, &lee, n("swemwbs", Mode::Paper), None, sw).await?;
            backdate(state, &id, 28).await?;
        }
    }
    Ok(())
}
