//! Measures: completion by the person, with a practitioner and from paper (double entry),
//! scoring, refusals naming the item, who may see scores, the API, and the referral link.

use axum::http::StatusCode;
use ensemble::rbac::Role;

use crate::support::TestApp;

#[tokio::test]
async fn a_participant_without_a_record_is_told_what_to_do() {
    let app = TestApp::new().await;
    let (mut c, _) = app.signed_in(Role::Participant).await;
    let r = c
        .submit("/check-ins", "/check-ins/start", &[("instrument", "ons4")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}
