//! Demo practice data: named leads for the Sinfonia activity Jordan attends, a plan template,
//! yesterday's session with its plan and log, a published competency framework, and Priya's
//! CPD portfolio (evidence, a training certificate, a self-assessment and a request for a
//! supervisor assessment waiting for Pat).

use crate::error::AppError;
use crate::modules::referrals::demo::{actor, demo_referrals};
use crate::rbac::Actor;
use crate::state::AppState;

/// Load the demo practice data.
pub async fn load(state: &AppState) -> Result<(), AppError> {
    let (Some(pat), Some(priya)) = (
        actor(state, "pat.programmes@ensemble-demo.example").await?,
        actor(state, "priya.practitioner@ensemble-demo.example").await?,
    ) else {
        return Ok(());
    };
    let activity: Option<String> = demo_referrals(state, &["demo-Jordan"])
        .await?
        .into_iter()
        .find_map(|r| r.activity_id);
    let Some(activity) = activity else {
        return Ok(());
    };
    super::incidents::name_lead(
        state,
        &pat,
        &activity,
        "chris.clinician@ensemble-demo.example",
        "clinical",
    )
    .await?;
    super::incidents::name_lead(
        state,
        &pat,
        &activity,
        "pat.programmes@ensemble-demo.example",
        "safeguarding",
    )
    .await?;
    let yesterday = (crate::db::uk::today() - time::Duration::days(1)).to_string();
    let id = super::service::create(
        state,
        &priya,
        &super::service::NewSession {
            activity_id: activity.clone(),
            date: yesterday,
            starts: "10:00".into(),
            ends: "11:30".into(),
            venue: "Community room".into(),
            template_id: String::new(),
            ..Default::default()
        },
    )
    .await?;
    let plan = super::service::Plan {
        aims: "Warm up voices and bodies; learn a simple round; give everyone a chance to lead a rhythm.".into(),
        musical_activities: vec!["singing".into(), "percussion".into()],
        adaptations: "Chairs for anyone who needs to sit; lyrics in large print.".into(),
        risks: "Cables taped down; hand gel for shared instruments.".into(),
        materials: "Ukuleles, hand drums, lyric sheets.".into(),
    };
    super::service::save_plan(state, &priya, &id, &plan, 0, "Singing and rhythm warm-up").await?;
    let log = super::service::Log {
        what_happened: "Six came. We learned a two-part round and passed rhythms round the circle."
            .into(),
        engagement: "Quiet at first; everyone joined the round by the end.".into(),
        moments: "A newcomer led a rhythm for the first time.".into(),
        debrief: "The round worked well; the rhythm game needed more time.".into(),
        next_time: "Start with the rhythm game; bring more shakers.".into(),
    };
    super::service::save_log(state, &priya, &id, &log, 0).await?;

    today_group(state, &priya, &activity).await?;

    // The framework, shaped by Pat and Priya, and Priya's portfolio.
    let org = {
        let mut tx = state.db.begin().await?;
        let s =
            super::access::SessionAccess::<super::access::SessionTeam>::check(&mut tx, &priya, &id)
                .await?;
        tx.commit().await?;
        s.organisation_id.clone()
    };
    let draft = super::competencies::start_draft(state, &pat, &org).await?;
    super::competencies::add(
        state,
        &priya,
        &draft,
        &super::competencies::CompetencyInput {
            new_domain: "Performance".into(),
            title: "Performs for audiences in care settings".into(),
            description: "Chooses repertoire and pace for wards, day centres and care homes."
                .into(),
            ..Default::default()
        },
    )
    .await?;
    super::competencies::publish(
        state,
        &pat,
        &draft,
        "Version 1, shaped with the practitioners at the autumn practice day.",
    )
    .await?;
    super::portfolio::add_evidence(
        state,
        &priya,
        &super::portfolio::EvidenceInput {
            kind: "session".into(),
            source: format!("session:{id}"),
            detail: "Adapted the round for two people who preferred to sit and listen first."
                .into(),
            competencies: vec!["F2".into(), "MP1".into()],
            ..Default::default()
        },
        None,
    )
    .await?;
    let last_month = (crate::db::uk::today() - time::Duration::days(30)).to_string();
    super::portfolio::add_evidence(
        state,
        &priya,
        &super::portfolio::EvidenceInput {
            kind: "training".into(),
            title: "Safeguarding adults, level 2".into(),
            occurred_on: last_month.clone(),
            hours: "6".into(),
            detail: "Recognising abuse and neglect; the reporting route.".into(),
            competencies: vec!["S1".into()],
            ..Default::default()
        },
        Some(super::portfolio::Upload {
            filename: "safeguarding-level-2-certificate.pdf".into(),
            data: certificate_pdf("Demonstration certificate: Safeguarding adults, level 2"),
        }),
    )
    .await?;
    super::portfolio::self_assess(
        state,
        &priya,
        &super::portfolio::AssessInput {
            competency: "F2".into(),
            level: "3".into(),
            comment: "I plan every session with clear aims and review it the same day.".into(),
            ..Default::default()
        },
    )
    .await?;
    super::reflection::record_supervision(
        state,
        &priya,
        &super::reflection::SupervisionInput {
            supervisor_email: "pat.programmes@ensemble-demo.example".into(),
            met_on: last_month,
            themes: "Pacing sessions on the ward; looking after myself after a hard session."
                .into(),
            actions: "Try a shorter warm-up; book the next supervision in four weeks.".into(),
        },
    )
    .await?;
    super::portfolio::request(
        state,
        &priya,
        &super::portfolio::AssessInput {
            competency: "F2".into(),
            kind: "supervisor".into(),
            assessor_email: "pat.programmes@ensemble-demo.example".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// A one-page PDF with a line of text: a stand-in certificate for the demo.
fn certificate_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 16 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Priya's day: her activity's next two weeks planned from its schedule, and a one-off
/// session today of another of her organisation's activities with a group of 20 regular
/// members, so the register can be taken for a full group.
async fn today_group(state: &AppState, priya: &Actor, activity: &str) -> Result<(), AppError> {
    match super::service::plan_from_schedule(state, priya, activity, "2").await {
        Ok(_) | Err(AppError::Invalid(_)) => {}
        Err(e) => return Err(e),
    }
    let others = super::service::activities(state, priya).await?;
    let Some((group, _)) = others.into_iter().find(|(id, _)| id != activity) else {
        return Ok(());
    };
    let id = super::service::create(
        state,
        priya,
        &super::service::NewSession {
            activity_id: group.clone(),
            date: crate::db::uk::today().to_string(),
            starts: "18:00".into(),
            ends: "19:30".into(),
            venue: "Main hall".into(),
            ..Default::default()
        },
    )
    .await?;
    const NAMES: [&str; 20] = [
        "Ada", "Bea", "Cal", "Dev", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lou", "Max",
        "Nia", "Oz", "Pam", "Ray", "Sam", "Tia", "Viv",
    ];
    let mut tx = state.db.begin().await?;
    let at = crate::db::now() - 86_400;
    for name in NAMES {
        sqlx::query("INSERT INTO activity_members (id, activity_id, name, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(crate::db::new_id())
            .bind(group.clone())
            .bind(name.to_string())
            .bind(priya.user_id.clone())
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::debug!(session = %id, "demo group of 20 for today");
    Ok(())
}
