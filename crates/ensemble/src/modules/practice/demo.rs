//! Demo practice data: named leads for the Sinfonia activity Jordan attends, a plan template,
//! and yesterday's session with its plan, register and log.

use crate::error::AppError;
use crate::modules::referrals::demo::actor;
use crate::state::AppState;

/// Load the demo practice data.
pub async fn load(state: &AppState) -> Result<(), AppError> {
    let (Some(pat), Some(priya)) = (
        actor(state, "pat.programmes@ensemble-demo.example").await?,
        actor(state, "priya.practitioner@ensemble-demo.example").await?,
    ) else {
        return Ok(());
    };
    let activity: Option<String> = sqlx::query_scalar(
        "SELECT activity_id FROM referrals WHERE source_identifier = 'demo-Jordan' AND activity_id IS NOT NULL",
    )
    .fetch_optional(&state.db.read)
    .await?;
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
    let yesterday = (time::OffsetDateTime::now_utc().date() - time::Duration::days(1)).to_string();
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
    Ok(())
}
