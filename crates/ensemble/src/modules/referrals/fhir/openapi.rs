//! How the FHIR routes appear in the OpenAPI document: the R4 resources they take and
//! return (`ServiceRequest`, `Bundle`, `OperationOutcome`), described by their key elements
//! and their `resourceType`, not the whole FHIR specification (the handlers check bodies
//! against HL7's R4 JSON Schema; see `schema.rs`), and the sets of `OperationOutcome` error
//! answers each route documents.
//!
//! These types exist for the document: the handlers read and write `serde_json::Value`,
//! because a FHIR resource carries far more than Ensemble reads. Every object allows other
//! FHIR elements (no `additionalProperties: false`).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;

use crate::api::docs::{response, retry_after, www_authenticate};

/// `resourceType` of a `ServiceRequest`.
#[derive(Serialize, utoipa::ToSchema)]
pub enum ServiceRequestType {
    /// The only value.
    ServiceRequest,
}

/// `resourceType` of a `Bundle`.
#[derive(Serialize, utoipa::ToSchema)]
pub enum BundleType {
    /// The only value.
    Bundle,
}

/// `resourceType` of an `OperationOutcome`.
#[derive(Serialize, utoipa::ToSchema)]
pub enum OperationOutcomeType {
    /// The only value.
    OperationOutcome,
}

/// `ServiceRequest.status` (R4 `request-status`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestStatus {
    Draft,
    Active,
    OnHold,
    Revoked,
    Completed,
    EnteredInError,
    Unknown,
}

/// `ServiceRequest.intent` (R4 `request-intent`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestIntent {
    Proposal,
    Plan,
    Directive,
    Order,
    OriginalOrder,
    ReflexOrder,
    FillerOrder,
    InstanceOrder,
    Option,
}

/// `Bundle.type` (R4 `bundle-type`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BundleKind {
    Document,
    Message,
    Transaction,
    TransactionResponse,
    Batch,
    BatchResponse,
    History,
    Searchset,
    Collection,
}

/// `OperationOutcome.issue.severity`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IssueSeverity {
    Fatal,
    Error,
    Warning,
    Information,
}

/// A FHIR `Reference`: `Patient/…`, `HealthcareService/…`, `#contained-id` or `urn:uuid:…`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Reference {
    /// The resource referred to.
    pub reference: Option<String>,
    /// An identifier, when there is no literal reference.
    pub identifier: Option<Identifier>,
    /// Text for people.
    pub display: Option<String>,
}

/// A FHIR `Identifier` (an NHS number has system `https://fhir.nhs.uk/Id/nhs-number`, an
/// Ensemble activity `urn:ensemble:activity`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Identifier {
    /// The namespace.
    pub system: Option<String>,
    /// The value in it.
    pub value: Option<String>,
}

/// A FHIR `Coding`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Coding {
    /// The code system (SNOMED CT is `http://snomed.info/sct`).
    pub system: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Its display text.
    pub display: Option<String>,
}

/// A FHIR `CodeableConcept`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeableConcept {
    /// Codes.
    pub coding: Option<Vec<Coding>>,
    /// Text for people.
    pub text: Option<String>,
}

/// A FHIR `Annotation` (a note).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Annotation {
    /// The note.
    pub text: String,
}

/// A FHIR R4 `ServiceRequest`: a referral. Sent with the patient as a contained resource
/// (`subject` `#id`) or identified by NHS number and name; answered as the referral, with
/// `subject` `Patient/<pseudonymous id>` and no identity.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRequest {
    /// `ServiceRequest`.
    pub resource_type: ServiceRequestType,
    /// The referral id (in answers).
    pub id: Option<String>,
    /// The sender's identifier for the referral (the first one settles duplicates); answers
    /// add `urn:ensemble:referral`.
    pub identifier: Option<Vec<Identifier>>,
    /// Answers: `active`, `completed` (reviewed or closed) or `revoked` (other exits).
    pub status: RequestStatus,
    /// `order` in answers.
    pub intent: RequestIntent,
    /// What is asked for.
    pub code: Option<CodeableConcept>,
    /// The patient.
    pub subject: Reference,
    /// Who refers.
    pub requester: Option<Reference>,
    /// The activity, as `HealthcareService/<activity id>` or by identifier.
    pub performer: Option<Vec<Reference>>,
    /// Why.
    pub reason_code: Option<Vec<CodeableConcept>>,
    /// Notes.
    pub note: Option<Vec<Annotation>>,
    /// Instructions for the patient.
    pub patient_instruction: Option<String>,
    /// When the referral was made (FHIR dateTime).
    pub authored_on: Option<String>,
    /// Resources referred to by `#id` (the `Patient`, a `HealthcareService`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub contained: Option<Vec<serde_json::Value>>,
}

/// One entry of a `Bundle`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// The entry's URL (`urn:uuid:…`), by which references find it.
    pub full_url: Option<String>,
    /// A FHIR resource (`MessageHeader`, `ServiceRequest`, `Patient`, `Observation`…), with
    /// its `resourceType`.
    #[schema(value_type = Object)]
    pub resource: serde_json::Value,
}

/// A FHIR R4 `Bundle`: a message (`$process-message`: first entry a `MessageHeader`) or the
/// message back (`collection`: the referral, its Observations and, with consent, the
/// Patient).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `Bundle`.
    pub resource_type: BundleType,
    /// The Bundle's id.
    pub id: Option<String>,
    /// `message` or `collection` here.
    #[serde(rename = "type")]
    pub kind: BundleKind,
    /// When it was made (FHIR instant).
    pub timestamp: Option<String>,
    /// The resources.
    pub entry: Option<Vec<BundleEntry>>,
}

/// One problem in an `OperationOutcome`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OperationOutcomeIssue {
    /// `error` for every problem Ensemble reports.
    pub severity: IssueSeverity,
    /// FHIR issue type: `structure`, `required`, `invalid`, `not-found`, `forbidden`,
    /// `conflict`, `not-supported`, `too-costly`, `transient`, `exception`…
    pub code: String,
    /// What is wrong, in plain English.
    pub diagnostics: Option<String>,
    /// Where, as a FHIRPath-like expression (`ServiceRequest.performer[0]`).
    pub expression: Option<Vec<String>>,
}

/// A FHIR R4 `OperationOutcome`: how the FHIR routes answer a problem.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// `OperationOutcome`.
    pub resource_type: OperationOutcomeType,
    /// One per problem.
    pub issue: Vec<OperationOutcomeIssue>,
}

/// The media type of FHIR R4 JSON.
pub const FHIR_JSON: &str = "application/fhir+json";

fn outcome(status: &str, description: &str) -> (String, RefOr<Response>) {
    let r = response(description, FHIR_JSON, "OperationOutcome");
    let r = match status {
        "401" => www_authenticate(r),
        "503" => retry_after(r),
        _ => r,
    };
    (status.to_string(), RefOr::T(r.build()))
}

const UNAUTHENTICATED: &str =
    "No live token: send `Authorization: Bearer ens_…` with a token that is not revoked or expired";
const FORBIDDEN: &str =
    "The token lacks the scope, or its owner the permission or the relationship to this referral";
const NOT_ACCEPTABLE: &str =
    "The `Accept` header (or `_format`) rules out FHIR JSON, such as `application/fhir+xml`";
const UNAVAILABLE: &str =
    "The database is unavailable for now: try again after `Retry-After` seconds";

/// The `OperationOutcome` answers of the intake routes (`POST /api/v1/fhir/ServiceRequest`,
/// `POST /api/v1/fhir/$process-message`).
pub struct IntakeErrors;

impl utoipa::IntoResponses for IntakeErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            outcome("400", "The body is not JSON, or not a JSON object"),
            outcome("401", UNAUTHENTICATED),
            outcome("403", FORBIDDEN),
            outcome("404", "Something the referral names (an activity) does not exist"),
            outcome("406", NOT_ACCEPTABLE),
            outcome(
                "409",
                "The identifier was used by another sender, or the referral received under it differs",
            ),
            outcome("413", "The body is larger than 2 MiB"),
            outcome(
                "415",
                "The body is not sent as `application/fhir+json` or `application/json`",
            ),
            outcome(
                "422",
                "Each problem (R4 schema, then Ensemble's rules) as an issue with its `expression`",
            ),
            outcome("503", UNAVAILABLE),
        ]
        .into_iter()
        .collect()
    }
}

/// The `OperationOutcome` answers of the FHIR read routes (a referral, its message back).
pub struct ReadErrors;

impl utoipa::IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            outcome("401", UNAUTHENTICATED),
            outcome("403", FORBIDDEN),
            outcome("404", "No referral with this id"),
            outcome("406", NOT_ACCEPTABLE),
            outcome("503", UNAVAILABLE),
        ]
        .into_iter()
        .collect()
    }
}
