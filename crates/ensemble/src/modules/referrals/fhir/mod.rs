//! FHIR R4 for referrals: intake of a `ServiceRequest` (alone, or in a `$process-message`
//! Bundle as in the NHS Booking and Referral Standard), validated against the HL7 R4 JSON
//! Schema when it is available (`ENSEMBLE_FHIR_SCHEMA`, else the shared reference folder),
//! then against Ensemble's own rules; answers are FHIR resources or an `OperationOutcome`
//! naming each problem. Also the FHIR form of a referral and of the message back.
//!
//! `outcome.rs` holds `OperationOutcome` answers and reading the request body, `schema.rs`
//! the R4 JSON Schema (`SchemaValidator`), `intake.rs` reading a `ServiceRequest` (with its
//! Patient and performer) into a referral, `request.rs` what a request asks for (its
//! status and intent, the `Accept` header, the body and its size), `output.rs` the FHIR form
//! of a referral and of the message back, `handlers.rs` the four `/api/v1` handlers, and
//! `openapi.rs` how they appear in the OpenAPI document (the resources' key elements, the
//! `OperationOutcome` answers). Everything public is
//! re-exported here, so callers name `referrals::fhir::…`.

mod handlers;
mod intake;
pub mod openapi;
mod outcome;
mod output;
mod request;
mod schema;

pub use handlers::*;
pub use outcome::*;
pub use output::*;
pub use request::MAX_BODY_BYTES;
pub use schema::*;

/// Where an identifier system of this installation lives: `{base}/fhir/identifier/{kind}`,
/// under the configured base URL (`ENSEMBLE_BASE_URL`), for `referral`, `activity` (the same
/// ids as Open Referral UK services) and `person` (the pseudonymous person id).
pub fn identifier_system(base_url: &str, kind: &str) -> String {
    format!("{}/fhir/identifier/{kind}", base_url.trim_end_matches('/'))
}

/// The activity identifier system of earlier versions, still accepted on the way in.
pub const LEGACY_ACTIVITY_SYSTEM: &str = "urn:ensemble:activity";
/// RFC 3986 URIs as identifier values (`urn:uuid:…`).
pub const URI_SYSTEM: &str = "urn:ietf:rfc:3986";
/// Stored for a sender's identifier that came without a system. Systems starting with
/// `urn:ensemble:` only key the stored identifier; they are never sent out.
const UNSPECIFIED_SYSTEM: &str = "urn:ensemble:unspecified";
/// Stored for a message keyed by a Bundle id that is not a UUID.
const MESSAGE_BUNDLE_SYSTEM: &str = "urn:ensemble:message-bundle";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
