//! The referral pathway's background jobs. Each carries ids only, never personal details.

use serde::{Deserialize, Serialize};

use crate::jobs::JobKind;
use crate::state::AppState;

use super::service;

/// A provider has not answered a referral: remind it, then return the referral.
pub struct ProviderChase;

/// What a [`ProviderChase`] job carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProviderChasePayload {
    /// The referral.
    pub referral_id: String,
    /// When the activity was requested (Unix seconds): a later request makes this job moot.
    pub requested_at: i64,
}

impl JobKind for ProviderChase {
    const KIND: &'static str = "referral_provider_chase";
    type Payload = ProviderChasePayload;

    async fn run(state: &AppState, p: ProviderChasePayload) -> anyhow::Result<()> {
        service::provider_chase(state, &p.referral_id, p.requested_at).await
    }
}

/// The quarter-hourly digest of new referrals for a team.
pub struct Digest;

/// What a [`Digest`] job carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct DigestPayload {
    /// The team's organisation.
    pub team: String,
    /// The quarter hour (Unix seconds / [`service::DIGEST_SECS`]).
    pub bucket: i64,
}

impl JobKind for Digest {
    const KIND: &'static str = "referral_digest";
    type Payload = DigestPayload;

    async fn run(state: &AppState, p: DigestPayload) -> anyhow::Result<()> {
        service::intake_digest(state, &p.team, p.bucket).await
    }
}

/// A referral task has come due.
pub struct TaskDue;

/// What a [`TaskDue`] job carries.
#[derive(Debug, Serialize, Deserialize)]
pub struct TaskDuePayload {
    /// The task.
    pub task_id: String,
}

impl JobKind for TaskDue {
    const KIND: &'static str = "referral_task_due";
    type Payload = TaskDuePayload;

    async fn run(state: &AppState, p: TaskDuePayload) -> anyhow::Result<()> {
        service::task_due(state, &p.task_id).await
    }
}
