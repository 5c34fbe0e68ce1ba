//! A generated programme for benchmarks (`ensemble programmes generate`): 2,000 members,
//! 20,000 voices of every visibility, 1,000 actions with progress updates, notifications
//! and replies, bulk-inserted. The lead organisation, the manager and the benchmark member
//! go through the accounts services; the other members through
//! `accounts::service::bench_users_as_operator`. Marked as generated; never run on a live
//! database.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::{Bind, insert_rows, new_id, now};
use crate::error::AppError;
use crate::modules::accounts::service as accounts;
use crate::rbac::Role;
use crate::state::AppState;

/// How much to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub members: usize,
    pub voices: usize,
    pub actions: usize,
    pub seed: u64,
}

/// What was made, for the benchmark script.
#[derive(Debug, Clone)]
pub struct Generated {
    pub programme_id: String,
    /// A participant member (consulted) whose voices started actions.
    pub member_email: String,
    pub manager_email: String,
    pub password: String,
}

const NAME: &str = "Generated programme (benchmark)";

async fn flush(
    state: &AppState,
    table: &str,
    cols: &[&str],
    rows: &mut Vec<Vec<Bind>>,
    at: usize,
) -> Result<(), AppError> {
    if rows.len() >= at {
        insert_rows(&state.db, table, cols, rows, "").await?;
    }
    Ok(())
}

/// Generate; refuses to run twice on one database.
pub async fn generate(state: &AppState, scale: Scale) -> Result<Generated, AppError> {
    if super::service::find_by_name(state, NAME).await?.is_some() {
        return Err(AppError::Conflict(
            "this database already holds a generated programme".into(),
        ));
    }
    let org = accounts::create_organisation_as_operator(
        state,
        &accounts::OrganisationInput {
            name: "Bench Partnership (generated)".into(),
            kind: "nhs_trust".into(),
            borough: "Liverpool".into(),
            description: "Generated for benchmarks.".into(),
            ..Default::default()
        },
    )
    .await?;
    let password = "bench-programmes-password-42".to_string();
    let manager_email = "programme-manager@bench.example".to_string();
    let manager = accounts::create_user_as_operator(
        state,
        &manager_email,
        "Bench Manager",
        &password,
        Some((&org.id, Role::ProgrammeManager)),
    )
    .await?;
    let member_email = "programme-member@bench.example".to_string();
    let member = accounts::create_user_as_operator(
        state,
        &member_email,
        "Bench Member",
        &password,
        Some((&org.id, Role::Participant)),
    )
    .await?;
    let others = accounts::bench_users_as_operator(
        state,
        "programme-member-",
        scale.members.saturating_sub(2),
        &password,
    )
    .await?;
    let t0 = now() - 365 * 86_400;
    let span = 365 * 86_400;
    let programme = new_id();
    let mut rows = vec![vec![
        Bind::T(programme.clone()),
        Bind::T(NAME.into()),
        Bind::T("Generated for benchmarks.".into()),
        Bind::T(org.id.clone()),
        Bind::T(manager.clone()),
        Bind::I(t0),
    ]];
    let cols = [
        "id",
        "name",
        "summary",
        "lead_organisation_id",
        "created_by",
        "created_at",
    ];
    insert_rows(&state.db, "programmes", &cols, &mut rows, "").await?;
    let mut rows = vec![vec![
        Bind::T(programme.clone()),
        Bind::T(org.id.clone()),
        Bind::T("Leads the programme".into()),
        Bind::I(t0),
    ]];
    insert_rows(
        &state.db,
        "programme_partners",
        &["programme_id", "organisation_id", "part", "added_at"],
        &mut rows,
        "",
    )
    .await?;
    // Members: the manager and every tenth member responsible (the team), the rest
    // consulted or kept informed.
    let mut everyone = vec![manager.clone(), member.clone()];
    everyone.extend(others);
    let team: Vec<String> = everyone.iter().step_by(10).cloned().collect();
    let mcols = ["programme_id", "user_id", "role", "capacity", "added_at"];
    let mut rows = Vec::new();
    for (i, u) in everyone.iter().enumerate() {
        let (role, cap) = match i {
            0 => ("responsible", "staff"),
            1 => ("consulted", "participant"),
            _ if i % 10 == 0 => ("responsible", "staff"),
            _ if i % 2 == 0 => ("consulted", "participant"),
            _ => ("informed", "participant"),
        };
        rows.push(vec![
            Bind::T(programme.clone()),
            Bind::T(u.clone()),
            Bind::T(role.into()),
            Bind::T(cap.into()),
            Bind::I(t0),
        ]);
        flush(state, "programme_members", &mcols, &mut rows, 1000).await?;
    }
    flush(state, "programme_members", &mcols, &mut rows, 1).await?;
    let mut rng = StdRng::seed_from_u64(scale.seed);
    // Voices: spread over the year; a tenth by the benchmark member.
    let vcols = [
        "id",
        "programme_id",
        "author_id",
        "kind",
        "body",
        "visibility",
        "moderation",
        "created_at",
        "updated_at",
    ];
    let mut voices: Vec<(String, String)> = Vec::with_capacity(scale.voices);
    let mut rows = Vec::new();
    for i in 0..scale.voices {
        let id = new_id();
        let author = if i % 10 == 0 {
            member.clone()
        } else {
            everyone[rng.random_range(0..everyone.len())].clone()
        };
        let (vis, moderation) = match rng.random_range(0..10) {
            0..=2 => ("team", "not_needed"),
            3..=6 => ("members", "not_needed"),
            7 | 8 => ("public", "approved"),
            _ => ("public", "waiting"),
        };
        let kind = ["feedback", "story", "moment"][i % 3];
        let at = t0 + rng.random_range(0..span);
        rows.push(vec![
            Bind::T(id.clone()),
            Bind::T(programme.clone()),
            Bind::T(author.clone()),
            Bind::T(kind.into()),
            Bind::T(format!(
                "Generated voice {i}: the group helped me feel less alone this week."
            )),
            Bind::T(vis.into()),
            Bind::T(moderation.into()),
            Bind::I(at),
            Bind::I(at),
        ]);
        voices.push((id, author));
        flush(state, "programme_voices", &vcols, &mut rows, 1000).await?;
    }
    flush(state, "programme_voices", &vcols, &mut rows, 1).await?;
    // Actions, each from one to three voices, with one to four updates; a notification per
    // update to each author; a reply now and then.
    let acols = [
        "id",
        "programme_id",
        "title",
        "description",
        "owner_id",
        "due_on",
        "status",
        "created_by",
        "created_at",
        "updated_at",
    ];
    let ucols = [
        "id",
        "action_id",
        "author_id",
        "body",
        "status",
        "created_at",
    ];
    let ncols = [
        "id",
        "user_id",
        "voice_id",
        "action_id",
        "update_id",
        "created_at",
        "read_at",
    ];
    let rcols = [
        "id",
        "action_id",
        "voice_id",
        "author_id",
        "body",
        "created_at",
    ];
    let (mut arows, mut avrows, mut urows, mut nrows, mut rrows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..scale.actions {
        let id = new_id();
        let owner = team[rng.random_range(0..team.len())].clone();
        let at = t0 + rng.random_range(0..span);
        let status = ["planned", "in_progress", "done", "not_doing"][i % 4];
        arows.push(vec![
            Bind::T(id.clone()),
            Bind::T(programme.clone()),
            Bind::T(format!("Generated action {i}: a quieter room on Tuesdays")),
            Bind::T("What we heard and what we will do.".into()),
            Bind::T(owner.clone()),
            Bind::T(format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28)),
            Bind::T(status.into()),
            Bind::T(owner.clone()),
            Bind::I(at),
            Bind::I(at),
        ]);
        let mut behind: Vec<(String, String)> = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let v = voices[rng.random_range(0..voices.len())].clone();
            if !behind.iter().any(|b| b.0 == v.0) {
                avrows.push(vec![Bind::T(id.clone()), Bind::T(v.0.clone())]);
                behind.push(v);
            }
        }
        for k in 0..rng.random_range(1..=4) {
            let u = new_id();
            let ut = at + (k + 1) * 86_400 * 7;
            urows.push(vec![
                Bind::T(u.clone()),
                Bind::T(id.clone()),
                Bind::T(owner.clone()),
                Bind::T(format!("Generated progress {k}.")),
                Bind::T(status.into()),
                Bind::I(ut),
            ]);
            let mut told: Vec<&str> = Vec::new();
            for (voice, author) in &behind {
                if told.contains(&author.as_str()) || author == &owner {
                    continue;
                }
                told.push(author);
                nrows.push(vec![
                    Bind::T(new_id()),
                    Bind::T(author.clone()),
                    Bind::T(voice.clone()),
                    Bind::T(id.clone()),
                    Bind::T(u.clone()),
                    Bind::I(ut),
                    Bind::OptI(if k == 0 { Some(ut) } else { None }),
                ]);
            }
        }
        if let Some((voice, author)) = behind.first().filter(|_| i % 3 == 0) {
            rrows.push(vec![
                Bind::T(new_id()),
                Bind::T(id.clone()),
                Bind::T(voice.clone()),
                Bind::T(author.clone()),
                Bind::T("Thank you, that helps.".into()),
                Bind::I(at + 86_400 * 8),
            ]);
        }
        flush(state, "programme_actions", &acols, &mut arows, 500).await?;
    }
    flush(state, "programme_actions", &acols, &mut arows, 1).await?;
    for chunk in avrows.chunks(2000) {
        insert_rows(
            &state.db,
            "programme_action_voices",
            &["action_id", "voice_id"],
            &mut chunk.to_vec(),
            "",
        )
        .await?;
    }
    for chunk in urows.chunks(1000) {
        insert_rows(
            &state.db,
            "programme_action_updates",
            &ucols,
            &mut chunk.to_vec(),
            "",
        )
        .await?;
    }
    for chunk in nrows.chunks(1000) {
        insert_rows(
            &state.db,
            "programme_notifications",
            &ncols,
            &mut chunk.to_vec(),
            "",
        )
        .await?;
    }
    for chunk in rrows.chunks(1000) {
        insert_rows(
            &state.db,
            "programme_action_replies",
            &rcols,
            &mut chunk.to_vec(),
            "",
        )
        .await?;
    }
    Ok(Generated {
        programme_id: programme,
        member_email,
        manager_email,
        password,
    })
}

/// Generated programmes, each with some of the given activities, for the area benchmark
/// (`ensemble area generate`): written here because only `programmes` writes its tables.
/// Returns the programme ids.
pub async fn programmes_with_activities(
    state: &AppState,
    lead_organisation: &str,
    created_by: &str,
    programmes: &[(String, Vec<String>)],
) -> Result<Vec<String>, AppError> {
    let t = now();
    let mut ids = Vec::new();
    let mut rows = Vec::new();
    let mut links = Vec::new();
    for (name, activities) in programmes {
        let id = new_id();
        rows.push(vec![
            Bind::T(id.clone()),
            Bind::T(name.clone()),
            Bind::T("Generated for benchmarks.".into()),
            Bind::T(lead_organisation.into()),
            Bind::T(created_by.into()),
            Bind::I(t),
        ]);
        for a in activities {
            links.push(vec![Bind::T(id.clone()), Bind::T(a.clone()), Bind::I(t)]);
        }
        ids.push(id);
    }
    let cols = [
        "id",
        "name",
        "summary",
        "lead_organisation_id",
        "created_by",
        "created_at",
    ];
    insert_rows(&state.db, "programmes", &cols, &mut rows, "").await?;
    while !links.is_empty() {
        let n = links.len().min(2000);
        let mut chunk: Vec<Vec<Bind>> = links.drain(..n).collect();
        insert_rows(
            &state.db,
            "programme_activities",
            &["programme_id", "activity_id", "added_at"],
            &mut chunk,
            "",
        )
        .await?;
    }
    Ok(ids)
}
