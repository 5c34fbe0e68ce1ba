//! Demo programme: "Music and Mind, Liverpool 2026", led by the trust with the orchestra, a
//! community group and the university; the demo accounts as members with stated roles; a
//! co-researcher's public voice (checked by Pat) and the action it started, with progress;
//! more voices, three themes, and Priya's and Robin's codings, so the themes page shows
//! counts and agreement;
//! Jordan's proposal and the panel's decision on it, in the decisions log.

use crate::error::AppError;
use crate::modules::referrals::demo::{actor, demo_referrals};
use crate::rbac::Granted;
use crate::rbac::perm::ManageActivities;
use crate::state::AppState;

use super::service::{self, MemberInput, PartnerInput, ProgrammeInput};

/// The demo programme's name.
pub const NAME: &str = "Music and Mind, Liverpool 2026";

async fn org(state: &AppState, name: &str) -> Result<Option<String>, AppError> {
    Ok(
        crate::modules::accounts::service::find_organisation(state, name)
            .await?
            .map(|o| o.id),
    )
}

/// Load the demo programme.
pub async fn load(state: &AppState) -> Result<(), AppError> {
    let (Some(pat), Some(priya), Some(robin)) = (
        actor(state, "pat.programmes@ensemble-demo.example").await?,
        actor(state, "priya.practitioner@ensemble-demo.example").await?,
        actor(state, "robin.coresearcher@ensemble-demo.example").await?,
    ) else {
        return Ok(());
    };
    let Some(trust) = org(state, "Mersey Minds NHS Foundation Trust (demo)").await? else {
        return Ok(());
    };
    let g = Granted::<ManageActivities>::check(&pat).map_err(|_| AppError::Forbidden)?;
    let id = service::create(
        state,
        &g,
        &pat,
        &ProgrammeInput {
            name: NAME.into(),
            summary: "Weekly music groups on wards and in the community for people living with mental ill health, \
                      run by healthcare musicians, evaluated with the people who take part."
                .into(),
            lead_organisation_id: trust,
        },
    )
    .await?;
    for (name, part) in [
        ("Liverpool City Sinfonia (demo)", "Runs the music groups"),
        (
            "Wirral Community Drumming Collective (demo)",
            "Runs drumming circles and welcomes people after the ward groups end",
        ),
        (
            "University of the Mersey (demo)",
            "Co-produces the evaluation",
        ),
    ] {
        if let Some(o) = org(state, name).await? {
            service::add_partner(
                state,
                &pat,
                &id,
                &PartnerInput {
                    organisation_id: o,
                    part: part.into(),
                },
            )
            .await?;
        }
    }
    if let Some(activity) = demo_referrals(state, &["demo-Jordan"])
        .await?
        .into_iter()
        .find_map(|r| r.activity_id)
    {
        // Only an active activity of a partner can be linked; the demo's is.
        let _ = service::add_activity(state, &pat, &id, &activity).await;
    }
    for (email, role, capacity) in [
        (
            "priya.practitioner@ensemble-demo.example",
            "responsible",
            "staff",
        ),
        (
            "jordan.participant@ensemble-demo.example",
            "consulted",
            "participant",
        ),
        (
            "robin.coresearcher@ensemble-demo.example",
            "consulted",
            "co_researcher",
        ),
        (
            "rowan.researcher@ensemble-demo.example",
            "responsible",
            "staff",
        ),
        ("chris.clinician@ensemble-demo.example", "informed", "staff"),
        (
            "casey.commissioner@ensemble-demo.example",
            "informed",
            "staff",
        ),
    ] {
        service::add_member(
            state,
            &pat,
            &id,
            &MemberInput {
                email: email.into(),
                role: role.into(),
                capacity: capacity.into(),
            },
        )
        .await?;
    }
    let voice = super::voices::share(
        state,
        &robin,
        &id,
        &super::voices::VoiceInput {
            kind: "feedback".into(),
            body: "The group finishes at 4 and the last bus is at 4.10, so some of us leave before the end.".into(),
            visibility: "public".into(),
        },
    )
    .await?;
    super::voices::moderate(state, &pat, &voice, true).await?;
    let due = (crate::db::uk::today() + time::Duration::days(28)).to_string();
    let action = super::actions::create(
        state,
        &priya,
        &id,
        &super::actions::ActionInput {
            title: "Finish the community group in time for the last bus".into(),
            description: "People told us they leave early to catch the bus. We will move the group 30 minutes earlier.".into(),
            owner_id: priya.user_id.clone(),
            due_on: due,
        },
        std::slice::from_ref(&voice),
    )
    .await?;
    super::actions::post_update(
        state,
        &priya,
        &action,
        &super::actions::UpdateInput {
            body: "The venue has agreed to the earlier time from next month.".into(),
            status: "in_progress".into(),
        },
    )
    .await?;
    let jordan = actor(state, "jordan.participant@ensemble-demo.example").await?;
    load_themes(state, &id, (&priya, &robin, jordan.as_ref()), &voice).await?;
    proposal_and_decision(state, &pat, &priya, &robin, &id, &voice, &action).await?;
    plan_and_updates(state, &pat, &priya, &id).await
}

/// More voices, three themes, and two coders' codings of them (they agree on most).
async fn load_themes(
    state: &AppState,
    id: &str,
    (priya, robin, jordan): (
        &crate::rbac::Actor,
        &crate::rbac::Actor,
        Option<&crate::rbac::Actor>,
    ),
    first: &str,
) -> Result<(), AppError> {
    let mut voices = vec![first.to_string()];
    let said = [
        (
            "moment",
            "Playing the drum with everyone at the end, I forgot to be anxious for a whole hour.",
        ),
        (
            "feedback",
            "It would help to know who is running the group before I arrive.",
        ),
        (
            "story",
            "I had not sung since school. Now I sing in the kitchen again.",
        ),
        (
            "feedback",
            "The room is hard to find from the bus stop: a sign on the gate would help.",
        ),
    ];
    for (kind, body) in said {
        let who = jordan.unwrap_or(robin);
        let input = super::voices::VoiceInput {
            kind: kind.into(),
            body: body.into(),
            visibility: "members".into(),
        };
        voices.push(super::voices::share(state, who, id, &input).await?);
    }
    let mut themes = Vec::new();
    for (name, description) in [
        ("Getting there", "Travel, times, finding the place"),
        ("Belonging", "Feeling part of a group"),
        ("The music itself", "Singing, playing, listening"),
    ] {
        let input = super::themes::ThemeInput {
            name: name.into(),
            description: description.into(),
            ..Default::default()
        };
        themes.push(super::themes::add(state, priya, id, &input).await?);
    }
    let (travel, belonging, music) = (&themes[0], &themes[1], &themes[2]);
    // Voice by voice: Priya's themes, then Robin's (they differ on the second and fourth).
    let codings: [(&[&String], &[&String]); 5] = [
        (&[travel], &[travel]),
        (&[belonging, music], &[music]),
        (&[], &[]),
        (&[music], &[music, belonging]),
        (&[travel], &[travel]),
    ];
    for (voice, (p, r)) in voices.iter().zip(codings) {
        let p: Vec<String> = p.iter().map(|t| (*t).clone()).collect();
        let r: Vec<String> = r.iter().map(|t| (*t).clone()).collect();
        super::themes::code(state, priya, voice, &p).await?;
        super::themes::code(state, robin, voice, &r).await?;
    }
    Ok(())
}

/// Jordan proposes a longer tea break; the panel (Priya and Robin, a co-researcher)
/// accepts it, with the bus voice and the earlier-start action behind the decision.
async fn proposal_and_decision(
    state: &AppState,
    pat: &crate::rbac::Actor,
    priya: &crate::rbac::Actor,
    robin: &crate::rbac::Actor,
    id: &str,
    voice: &str,
    action: &str,
) -> Result<(), AppError> {
    let Some(jordan) = actor(state, "jordan.participant@ensemble-demo.example").await? else {
        return Ok(());
    };
    let proposal = super::proposals::create(
        state,
        &jordan,
        id,
        &super::proposals::ProposalInput {
            kind: "activity_change".into(),
            title: "A ten-minute tea break halfway through".into(),
            body: "An hour and a half is a long time to sit and play. A break to talk would help new people settle in.".into(),
        },
    )
    .await?;
    super::proposals::support(state, robin, &proposal, true).await?;
    super::proposals::set_panel(
        state,
        pat,
        id,
        &[priya.user_id.clone(), robin.user_id.clone()],
    )
    .await?;
    let on = (crate::db::uk::today() - time::Duration::days(2)).to_string();
    super::decisions::decide(
        state,
        priya,
        &proposal,
        &super::decisions::DecisionInput {
            outcome: "accepted".into(),
            title: String::new(),
            reasons: "Both musicians agree the groups run better with a pause, and it fits the earlier finish.".into(),
            decided_on: on,
        },
        &super::decisions::Links {
            present: vec![priya.user_id.clone(), robin.user_id.clone()],
            voices: vec![voice.to_string()],
            actions: vec![action.to_string()],
        },
    )
    .await?;
    Ok(())
}

/// The demo plan (two revisions, so the history has something to compare) and updates:
/// one public (on the public page and in the feed), one for members, with a comment.
async fn plan_and_updates(
    state: &AppState,
    pat: &crate::rbac::Actor,
    priya: &crate::rbac::Actor,
    id: &str,
) -> Result<(), AppError> {
    use super::plans::{PlanInput, save};
    let first = "Run weekly music groups on two wards and in one community venue.\n\
                 Ask every participant what matters to them, in their own words.\n\
                 Measure wellbeing with WEMWBS at the start and after twelve weeks.";
    save(
        state,
        pat,
        id,
        &PlanInput {
            title: "Music and Mind plan 2026".into(),
            body: first.into(),
            reason: "First plan, agreed at the partners' meeting.".into(),
            base: "0".into(),
        },
    )
    .await?;
    save(
        state,
        priya,
        id,
        &PlanInput {
            title: "Music and Mind plan 2026".into(),
            body: first.replace("one community venue", "two community venues")
                + "\nFinish community groups in time for the last bus.",
            reason: "Participants asked for a second venue and an earlier finish.".into(),
            base: "1".into(),
        },
    )
    .await?;
    let public = super::updates::post(state, priya, id, &super::updates::UpdateInput {
        title: "Second community venue opens in March".into(),
        body: "After what participants told us, a second community group will meet at the library on Thursdays.".into(),
        visibility: "public".into(),
    })
    .await?;
    super::updates::comment(
        state,
        pat,
        id,
        &public,
        "Thank you — the library has confirmed the room.",
    )
    .await?;
    super::updates::post(
        state,
        pat,
        id,
        &super::updates::UpdateInput {
            title: "Partners' meeting notes".into(),
            body: "Notes from the partners' meeting are in the shared folder.".into(),
            visibility: "members".into(),
        },
    )
    .await?;
    Ok(())
}
