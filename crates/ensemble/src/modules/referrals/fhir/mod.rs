//! FHIR R4 for referrals: intake of a `ServiceRequest` (alone, or in a `$process-message`
//! Bundle as in the NHS Booking and Referral Standard), validated against the HL7 R4 JSON
//! Schema when it is available (`ENSEMBLE_FHIR_SCHEMA`, else the shared reference folder),
//! then against Ensemble's own rules; answers are FHIR resources or an `OperationOutcome`
//! naming each problem. Also the FHIR form of a referral and of the message back.
//!
//! `outcome.rs` holds `OperationOutcome` answers and reading the request body, `schema.rs`
//! the R4 JSON Schema (`SchemaValidator`), `intake.rs` reading a `ServiceRequest` (with its
//! Patient and performer) into a new referral, `output.rs` the FHIR form of a referral and
//! of the message back, `handlers.rs` the four `/api/v1` handlers, and `openapi.rs` how they
//! appear in the OpenAPI document (the resources' key elements, the `OperationOutcome`
//! answers). Everything public is
//! re-exported here, so callers name `referrals::fhir::…`.

mod handlers;
mod intake;
pub mod openapi;
mod outcome;
mod output;
mod schema;

pub use handlers::*;
pub use outcome::*;
pub use output::*;
pub use schema::*;

/// Identifier system for Ensemble activities (the same ids as Open Referral UK services).
pub const ACTIVITY_SYSTEM: &str = "urn:ensemble:activity";
/// Identifier system for Ensemble referrals.
pub const REFERRAL_SYSTEM: &str = "urn:ensemble:referral";
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
