//! `ensemble referrals`, `practice` and `measures`: the intake team, benchmark generators for
//! referrals and practice, and recomputing stored scores.

use anyhow::{Context, bail};
use ensemble::modules::accounts::service;

use super::{bar, explain, state_for};
use crate::{DbArgs, MeasuresCommand, PracticeCommand, ProgrammesCommand, ReferralsCommand};

/// `ensemble referrals …`.
pub(crate) async fn referrals(cmd: ReferralsCommand) -> anyhow::Result<i32> {
    match cmd {
        ReferralsCommand::IntakeTeam { db, organisation } => intake_team(db, organisation).await,
        ReferralsCommand::Generate {
            db,
            referrals,
            caseload,
            link_workers,
            seed,
        } => generate_referrals(db, referrals, caseload, link_workers, seed).await,
    }
}

/// `ensemble referrals intake-team`: show, or set, where self-referrals and FHIR referrals go.
async fn intake_team(db: DbArgs, organisation: Option<String>) -> anyhow::Result<i32> {
    let state = state_for(&db.database).await?;
    if let Some(org) = organisation {
        let o = service::find_organisation(&state, &org)
            .await
            .map_err(explain)?
            .with_context(|| format!("--organisation: no organisation called \"{org}\""))?;
        ensemble::modules::referrals::service::set_intake_team_as_operator(&state, &o.id)
            .await
            .map_err(explain)?;
    }
    let current = ensemble::modules::referrals::service::intake_team(&state)
        .await
        .map_err(explain)?;
    let name = match &current {
        Some(id) => service::find_organisation(&state, id)
            .await
            .map_err(explain)?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    state.db.close().await;
    match current {
        Some(_) => println!("Self-referrals and FHIR referrals go to: {name}"),
        None => println!(
            "No organisation has link workers yet: self-referral is closed until one does."
        ),
    }
    Ok(0)
}

/// `ensemble referrals generate`.
async fn generate_referrals(
    db: DbArgs,
    referrals: usize,
    caseload: usize,
    link_workers: u32,
    seed: u64,
) -> anyhow::Result<i32> {
    if caseload > referrals {
        bail!("--caseload ({caseload}) must not exceed --referrals ({referrals})");
    }
    let state = state_for(&db.database).await?;
    let pb = bar("generating referrals");
    let scale = ensemble::modules::referrals::generate::Scale {
        referrals,
        caseload,
        link_workers: link_workers as usize,
        seed,
    };
    let g = ensemble::modules::referrals::generate::generate(&state, scale, |n| {
        pb.set_position(n as u64)
    })
    .await
    .map_err(explain)?;
    pb.finish_and_clear();
    state.db.close().await;
    println!(
        "Generated {referrals} referrals ({caseload} on the benchmark caseload) for {link_workers} link workers."
    );
    println!("link worker: {}", g.email);
    println!("password: {}", g.password);
    println!("fhir token: {}", g.token);
    Ok(0)
}

/// `ensemble practice generate`.
pub(crate) async fn practice(cmd: PracticeCommand) -> anyhow::Result<i32> {
    let PracticeCommand::Generate {
        db,
        practitioners,
        sessions,
        marks,
        seed,
    } = cmd;
    let state = state_for(&db.database).await?;
    let g = ensemble::modules::practice::generate::generate(
        &state,
        ensemble::modules::practice::generate::Scale {
            practitioners: practitioners as usize,
            sessions: sessions as usize,
            marks: marks as usize,
            seed,
        },
    )
    .await
    .map_err(explain)?;
    state.db.close().await;
    println!(
        "Generated {practitioners} practitioners, {sessions} sessions and {marks} register marks."
    );
    println!("practitioner: {}", g.practitioner_email);
    println!("manager: {}", g.manager_email);
    println!("password: {}", g.password);
    println!("organisation: {}", g.organisation_id);
    println!("session: {}", g.session_id);
    Ok(0)
}

/// `ensemble programmes generate`.
pub(crate) async fn programmes(cmd: ProgrammesCommand) -> anyhow::Result<i32> {
    let ProgrammesCommand::Generate {
        db,
        members,
        voices,
        actions,
        seed,
    } = cmd;
    let state = state_for(&db.database).await?;
    let g = ensemble::modules::programmes::generate::generate(
        &state,
        ensemble::modules::programmes::generate::Scale {
            members: members as usize,
            voices: voices as usize,
            actions: actions as usize,
            seed,
        },
    )
    .await
    .map_err(explain)?;
    state.db.close().await;
    println!(
        "Generated a programme with {members} members, {voices} voices and {actions} actions."
    );
    println!("member: {}", g.member_email);
    println!("manager: {}", g.manager_email);
    println!("password: {}", g.password);
    println!("programme: {}", g.programme_id);
    Ok(0)
}

/// `ensemble measures recompute`.
pub(crate) async fn measures(cmd: MeasuresCommand) -> anyhow::Result<i32> {
    let MeasuresCommand::Recompute(db) = cmd;
    let state = state_for(&db.database).await?;
    let (done, changed) = ensemble::modules::measures::service::recompute_all(&state)
        .await
        .map_err(explain)?;
    println!(
        "{done} completed measures recomputed; {changed} had different scores and were updated."
    );
    Ok(0)
}
