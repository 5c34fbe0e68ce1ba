//! The CPD portfolio: a practitioner links evidence — sessions they led, journal
//! reflections, supervision, training records with certificates, peer observations — to the
//! competencies of their organisation's framework, assesses themselves, and asks a peer or
//! their supervisor for an assessment. The portfolio is its owner's: an assessor sees only
//! the evidence linked to the competency they were asked about, while the request is open
//! or after they answered it. Every read of someone else's evidence, every change and every
//! export is audited. One piece of evidence, a certificate and an assessment request are
//! read or changed only through their proofs ([`EvidenceAccess`](super::access::EvidenceAccess),
//! [`CertificateAccess`](super::access::CertificateAccess),
//! [`AssessmentAccess`](super::access::AssessmentAccess)).

mod assessments;
mod evidence;
mod view;

pub use assessments::*;
pub use evidence::*;
pub use view::*;

use serde::Serialize;

use super::competencies::Framework;

/// Largest certificate accepted.
pub const MAX_CERTIFICATE_BYTES: usize = 5 * 1024 * 1024;

/// Kinds of evidence: (code, label).
pub const KINDS: [(&str, &str); 5] = [
    ("session", "A session I led"),
    ("reflection", "A reflection from my journal"),
    ("supervision", "A supervision session"),
    ("training", "Training (with a certificate if you have one)"),
    ("peer_observation", "A peer observation of my practice"),
];

/// Assessment levels: (level, label).
pub const LEVELS: [(i64, &str); 4] = [
    (1, "Aware: I know what this involves"),
    (2, "Developing: I do this with support"),
    (3, "Competent: I do this confidently on my own"),
    (4, "Leading: I can guide and teach others"),
];

/// The short name of a level.
pub fn level_name(level: i64) -> &'static str {
    match level {
        1 => "Aware",
        2 => "Developing",
        3 => "Competent",
        4 => "Leading",
        _ => "",
    }
}

/// A certificate's description (never its content).
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// One piece of evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub occurred_on: String,
    pub detail: String,
    /// The session, journal entry or supervision record it points to.
    pub source_id: Option<String>,
    pub hours: Option<f64>,
    pub certificate: Option<CertificateInfo>,
    /// Competency codes.
    pub competencies: Vec<String>,
    /// The organisation whose portfolio it is in.
    #[serde(skip)]
    pub organisation_id: String,
}

/// A certificate with its content, as [`CertificateAccess`](super::access::CertificateAccess)
/// holds it.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// An assessment given or asked for.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: String,
    pub practitioner: String,
    pub competency_code: String,
    pub framework_version: i64,
    pub assessor: String,
    pub kind: String,
    pub status: String,
    pub level: Option<i64>,
    pub comment: String,
    pub requested_at: i64,
    pub given_at: Option<i64>,
    #[serde(skip)]
    pub assessor_id: String,
    #[serde(skip)]
    pub practitioner_id: String,
    #[serde(skip)]
    pub organisation_id: String,
}

/// A practitioner's portfolio against the framework in use.
#[derive(Debug, Clone, Serialize)]
pub struct Portfolio {
    pub practitioner: String,
    pub organisation_id: String,
    pub organisation: String,
    pub framework: Option<Framework>,
    pub evidence: Vec<Evidence>,
    pub assessments: Vec<Assessment>,
}

impl Portfolio {
    /// Evidence linked to a competency.
    pub fn evidence_for(&self, code: &str) -> Vec<&Evidence> {
        self.evidence
            .iter()
            .filter(|e| e.competencies.iter().any(|c| c == code))
            .collect()
    }

    /// The latest given assessment of each kind for a competency.
    pub fn latest(&self, code: &str, kind: &str) -> Option<&Assessment> {
        self.assessments
            .iter()
            .filter(|a| a.competency_code == code && a.kind == kind && a.status == "given")
            .max_by_key(|a| (a.given_at, a.requested_at))
    }
}
