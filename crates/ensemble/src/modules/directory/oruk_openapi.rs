//! The OpenAPI 3.1 document of the Open Referral UK API (`/openreferral/openapi.json`): every
//! route, every parameter with its type and limits, the shapes Ensemble returns (a subset of
//! the HSDS 3.0 / UK profile objects: only the fields Ensemble fills, optional ones left out
//! rather than `null`) and the error answers. The limits come from `oruk_query`, so the
//! document and the code cannot disagree; `tests/integration/oruk.rs` checks every served
//! route is here with its parameters.

use serde_json::{Map, Value, json};

use super::oruk::PROFILE;
use super::oruk_query::{
    DEFAULT_PER_PAGE, DEFAULT_PROXIMITY, MAX_PAGE, MAX_PER_PAGE, MAX_PROXIMITY, MAX_TERMS,
    MAX_WORDS,
};

/// The query parameters of each list, by the name the document gives them.
pub const SERVICE_LIST_PARAMS: &[&str] = &[
    "search",
    "page",
    "per_page",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "minimum_age",
    "maximum_age",
    "start_time",
    "end_time",
    "day",
    "postcode",
    "proximity",
    "full",
    "minimal",
    "format",
];

/// The query parameters of the lists that only page.
pub const PAGE_PARAMS: &[&str] = &["page", "per_page"];

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

/// An object schema: `required` fields first, then optional ones.
fn object(description: &str, required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    let mut props = Map::new();
    for (k, v) in required.iter().chain(optional) {
        props.insert((*k).to_string(), v.clone());
    }
    let req: Vec<&str> = required.iter().map(|(k, _)| *k).collect();
    json!({ "type": "object", "description": description, "required": req, "properties": props })
}

fn s(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn fmt(format: &str, description: &str) -> Value {
    json!({ "type": "string", "format": format, "description": description })
}

fn uuid(description: &str) -> Value {
    fmt("uuid", description)
}

fn constant(value: &str, description: &str) -> Value {
    json!({ "type": "string", "const": value, "description": description })
}

fn array(items: Value, description: &str) -> Value {
    json!({ "type": "array", "items": items, "description": description })
}

fn clock(description: &str) -> Value {
    json!({ "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]:[0-5][0-9]$", "description": description })
}

fn parameter(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn parameters() -> Value {
    json!({
        "search": parameter("search", &format!("Words that must each appear (case-insensitively) in the service's name, description or organisation name. Up to {MAX_WORDS} words are used."), json!({ "type": "string" })),
        "page": parameter("page", &format!("Page number, from 1 to {MAX_PAGE}. A page past the last one answers with that page number and empty `contents`. Anything else (0, a negative or decimal number, text) is a 400."), json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 })),
        "per_page": parameter("per_page", &format!("Items per page, at least 1; at most {MAX_PER_PAGE} are returned (a larger value is treated as {MAX_PER_PAGE}, and `total_pages` counts pages of {MAX_PER_PAGE}). 0, a negative or decimal number, or text is a 400."), json!({ "type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE })),
        "taxonomy_term_id": parameter("taxonomy_term_id", &format!("Services listed under any of these taxonomy term ids (comma-separated; up to {MAX_TERMS} are used). An unknown id matches nothing."), json!({ "type": "string" })),
        "taxonomy_id": parameter("taxonomy_id", "Services listed under any term of this taxonomy. An unknown id matches nothing.", json!({ "type": "string" })),
        "organization_id": parameter("organization_id", "Services of this organisation. An unknown id matches nothing.", json!({ "type": "string" })),
        "modified_after": parameter("modified_after", "Services changed at or after this instant: an RFC 3339 date-time such as 2026-01-31T09:00:00Z, or a date (midnight UTC). Anything else is a 400.", json!({ "type": "string", "format": "date-time" })),
        "minimum_age": parameter("minimum_age", "Services open to someone of at least this age: those whose maximum age, if any, is at least this. Not a non-negative number: 400.", json!({ "type": "number", "minimum": 0 })),
        "maximum_age": parameter("maximum_age", "Services open to someone of at most this age: those whose minimum age, if any, is at most this. Not a non-negative number: 400.", json!({ "type": "number", "minimum": 0 })),
        "start_time": parameter("start_time", "Services with a session starting at or after this time (HH:MM or HH:MM:SS, UK local time). Anything else is a 400.", json!({ "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?" })),
        "end_time": parameter("end_time", "Services with a session ending at or before this time (HH:MM or HH:MM:SS, UK local time). With `start_time` or `day`, the same session must match all of them. Anything else is a 400.", json!({ "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?" })),
        "day": parameter("day", "Services with a weekly or monthly session on this day: an iCalendar code (MO, TU, WE, TH, FR, SA, SU) or an English day name, any case. One-off dates never match. Anything else is a 400.", json!({ "type": "string" })),
        "postcode": parameter("postcode", "A UK postcode held in this directory's postcode data: only results within `proximity` metres of its centre, nearest first. A malformed or unknown postcode is a 400.", json!({ "type": "string" })),
        "proximity": parameter("proximity", &format!("Search radius in metres around `postcode` (default {DEFAULT_PROXIMITY}; a larger value than {MAX_PROXIMITY} is treated as {MAX_PROXIMITY}). Not a positive number, or given without `postcode`: 400."), json!({ "type": "number", "exclusiveMinimum": 0, "default": DEFAULT_PROXIMITY })),
        "full": parameter("full", "true: each item of the page is the complete record its own endpoint returns (`/services/{id}`, `/service_at_locations/{id}`). false or absent: the list shape. Other values are a 400.", json!({ "type": "boolean", "default": false })),
        "minimal": parameter("minimal", "Not supported: true is a 400; false is the same as leaving it out.", json!({ "type": "boolean", "const": false })),
        "format": parameter("format", "Only json is supported; any other value (such as ndjson) is a 400.", json!({ "type": "string", "enum": ["json"], "default": "json" })),
    })
}

fn schemas() -> Value {
    let id = || uuid("Stable id (UUID).");
    let term_fields = |with_parent: bool| {
        let mut optional = vec![];
        if with_parent {
            optional.push(("parent_id", uuid("The broader term, when there is one.")));
        }
        object(
            "An activity type: a term of the taxonomy \"Ensemble creative activity types\".",
            &[
                ("id", id()),
                ("name", s("Name.")),
                ("description", s("Description.")),
                ("code", s("Stable code, such as `choir`.")),
                ("taxonomy_id", uuid("The taxonomy it belongs to.")),
            ],
            &optional,
        )
    };
    let service_fields_required = || {
        vec![
            ("id", id()),
            ("organization_id", uuid("The organisation that runs it.")),
            ("name", s("Name.")),
            ("description", s("Plain-English description.")),
            (
                "status",
                constant("active", "Only active services are published."),
            ),
            (
                "fees",
                s(
                    "The cost in words: Free, Pay what you can, or a price such as £3.00, followed by \" (bursary available)\" when there is one.",
                ),
            ),
            ("organization", r("OrganizationRef")),
        ]
    };
    let service_fields_optional = || {
        vec![
            ("url", fmt("uri", "Web page.")),
            ("email", fmt("email", "Contact email.")),
            (
                "minimum_age",
                json!({ "type": "integer", "description": "Youngest age." }),
            ),
            (
                "maximum_age",
                json!({ "type": "integer", "description": "Oldest age." }),
            ),
            (
                "last_modified",
                fmt("date-time", "When the record last changed (UTC)."),
            ),
            (
                "assured_date",
                fmt("date", "When the listing was last checked."),
            ),
        ]
    };
    let mut full_required = service_fields_required();
    full_required.extend([
        ("schedules", array(r("Schedule"), "When it runs.")),
        (
            "cost_options",
            array(r("CostOption"), "Exactly one: what it costs."),
        ),
        ("attributes", array(r("Attribute"), "Its activity types.")),
    ]);
    let mut full_optional = service_fields_optional();
    full_optional.extend([
        (
            "contacts",
            array(r("Contact"), "The contact person, when named."),
        ),
        (
            "service_at_locations",
            array(
                r("ServiceAtLocationOfService"),
                "Its venues (left out when the service is nested in a service_at_location).",
            ),
        ),
    ]);
    json!({
        "Error": object("Every error answer.", &[("errors", array(object("One problem.", &[
            ("code", s("bad_request, not_found, method_not_allowed or internal.")),
            ("detail", s("What is wrong, naming the parameter for a 400.")),
        ], &[])  , "At least one."))], &[]),
        "Page": object("The wrapper of every list.", &[
            ("total_items", json!({ "type": "integer", "minimum": 0, "description": "Items matching, on all pages." })),
            ("total_pages", json!({ "type": "integer", "minimum": 1, "description": "Pages of `per_page` items (1 when nothing matches)." })),
            ("page_number", json!({ "type": "integer", "minimum": 1, "description": "The page asked for, even past the last page." })),
            ("size", json!({ "type": "integer", "minimum": 0, "description": "Items on this page." })),
            ("first_page", json!({ "type": "boolean", "description": "page_number is 1." })),
            ("last_page", json!({ "type": "boolean", "description": "page_number is total_pages or more." })),
            ("empty", json!({ "type": "boolean", "description": "This page has no items." })),
            ("contents", json!({ "type": "array", "description": "The items, by name then id (nearest first with postcode)." })),
        ], &[]),
        "ApiDetails": object("What this API is.", &[
            ("version", constant("HSDS-UK-3.0", "The standard followed.")),
            ("profile", constant(PROFILE, "The UK profile's documentation.")),
            ("openapi_url", fmt("uri", "This document.")),
        ], &[]),
        "OrganizationRef": object("The organisation running a service.", &[
            ("id", id()), ("name", s("Name.")), ("description", s("What it does (may be empty).")),
        ], &[]),
        "Organization": object("An organisation with at least one active service.", &[
            ("id", id()), ("name", s("Name.")), ("description", s("What it does (may be empty).")),
        ], &[("website", fmt("uri", "Web site."))]),
        "Taxonomy": object("A taxonomy.", &[("id", id()), ("name", s("Name.")), ("description", s("Description."))], &[
            ("uri", fmt("uri", "Where it is defined.")), ("version", s("Its version.")),
        ]),
        "TaxonomyTerm": term_fields(true),
        "Attribute": object("Links a service to one of its activity types.", &[
            ("id", id()), ("link_id", uuid("The service.")), ("link_type", constant("service", "What link_id is.")),
            ("taxonomy_term_id", uuid("The term.")), ("taxonomy_term", term_fields(false)),
        ], &[]),
        "Schedule": object("When a service runs: weekly or monthly (freq, byday) or once (dtstart only).", &[
            ("id", id()), ("service_id", uuid("The service.")),
            ("opens_at", clock("Start, UK local time.")), ("closes_at", clock("End, UK local time.")),
            ("description", s("In words, such as \"Every Tuesday, 10:00 to 11:30\", with any note in brackets.")),
            ("attending_type", json!({ "type": "string", "enum": ["in_person", "online", "hybrid"], "description": "in_person; online (online only, no venue); hybrid (online and at a venue)." })),
        ], &[
            ("freq", json!({ "type": "string", "enum": ["WEEKLY", "MONTHLY"], "description": "Repeat (absent for a one-off date)." })),
            ("interval", json!({ "type": "integer", "const": 1, "description": "Every week or month." })),
            ("byday", s("iCalendar days, such as TU or 1SA (the first Saturday) for MONTHLY.")),
            ("dtstart", fmt("date", "The date of a one-off session.")),
            ("valid_from", fmt("date", "First date (term start).")),
            ("valid_to", fmt("date", "Last date (term end).")),
        ]),
        "CostOption": object("What a service costs.", &[
            ("id", id()), ("service_id", uuid("The service.")),
            ("option", json!({ "type": "string", "enum": ["Free", "Pay what you can", "Fixed price"], "description": "The kind of cost." })),
            ("amount_description", s("The same words as the service's fees.")),
        ], &[("amount", json!({ "type": "number", "minimum": 0, "description": "Price in pounds: 0 when free, absent for pay what you can." }))]),
        "Contact": object("The contact person.", &[("id", id()), ("service_id", uuid("The service.")), ("name", s("Name."))], &[]),
        "Address": object("A venue's address.", &[
            ("id", id()), ("location_id", uuid("The venue.")), ("address_1", s("Street address.")), ("city", s("Town or city.")),
            ("state_province", constant("", "Always empty: Ensemble does not hold counties.")),
            ("postal_code", s("UK postcode.")), ("country", constant("GB", "Country.")),
            ("address_type", constant("physical", "A visiting address.")),
        ], &[]),
        "Accessibility": object("An access feature of the service, given at each of its venues.", &[
            ("id", id()), ("location_id", uuid("The venue.")),
            ("accessibility", json!({ "type": "string", "enum": ["Step-free access", "Accessible toilet", "Hearing loop", "British Sign Language", "Quiet space", "Childcare", "Help with travel"], "description": "The feature." })),
            ("description", s("The same words.")),
        ], &[]),
        "LocationBrief": object("A venue, as lists give it.", &[
            ("id", id()), ("location_type", constant("physical", "Venues are physical.")), ("name", s("Name.")),
        ], &[
            ("latitude", json!({ "type": "number", "minimum": -90, "maximum": 90, "description": "WGS84, when known." })),
            ("longitude", json!({ "type": "number", "minimum": -180, "maximum": 180, "description": "WGS84, when known." })),
        ]),
        "Location": { "allOf": [r("LocationBrief"), object("A venue with its address and access features.", &[
            ("addresses", array(r("Address"), "Exactly one.")),
            ("accessibility", array(r("Accessibility"), "The service's access features.")),
        ], &[])] },
        "ServiceBrief": object("A service (an activity), as lists give it.", &service_fields_required(), &service_fields_optional()),
        "Service": object("A service (an activity) with its schedules, cost, contact, types and venues.", &full_required, &full_optional),
        "ServiceAtLocationOfService": object("A venue of a service, nested in the service.", &[
            ("id", id()), ("service_id", uuid("The service.")), ("location_id", uuid("The venue.")), ("location", r("Location")),
        ], &[]),
        "ServiceAtLocationBrief": object("A service at one of its venues, as lists give it.", &[
            ("id", id()), ("service_id", uuid("The service.")), ("location_id", uuid("The venue.")),
            ("location", r("LocationBrief")), ("service", r("ServiceBrief")),
        ], &[]),
        "ServiceAtLocation": object("A service at one of its venues, complete (the service without its service_at_locations).", &[
            ("id", id()), ("service_id", uuid("The service.")), ("location_id", uuid("The venue.")),
            ("location", r("Location")), ("service", r("Service")),
        ], &[]),
    })
}

fn page_of(items: Value) -> Value {
    json!({ "allOf": [r("Page"), { "type": "object", "properties": { "contents": { "type": "array", "items": items } } }] })
}

fn answer(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "headers": { "Access-Control-Allow-Origin": { "$ref": "#/components/headers/AccessControlAllowOrigin" } },
        "content": { "application/json": { "schema": schema } }
    })
}

fn errors(with_400: bool, with_404: bool) -> Map<String, Value> {
    let mut m = Map::new();
    if with_400 {
        m.insert(
            "400".into(),
            json!({ "$ref": "#/components/responses/BadRequest" }),
        );
    }
    if with_404 {
        m.insert(
            "404".into(),
            json!({ "$ref": "#/components/responses/NotFound" }),
        );
    }
    m.insert(
        "500".into(),
        json!({ "$ref": "#/components/responses/Internal" }),
    );
    m
}

fn list(op: &str, summary: &str, params: &[&str], items: Value, what: &str) -> Value {
    let mut responses = errors(true, false);
    responses.insert(
        "200".into(),
        answer(&format!("A page of {what}."), page_of(items)),
    );
    let ps: Vec<Value> = params.iter().map(|p| param_ref(p)).collect();
    json!({ "get": { "operationId": op, "summary": summary, "parameters": ps, "responses": responses } })
}

fn one(op: &str, summary: &str, schema: Value, what: &str) -> Value {
    let mut responses = errors(false, true);
    responses.insert("200".into(), answer(&format!("The {what}."), schema));
    json!({ "get": { "operationId": op, "summary": summary, "parameters": [{ "$ref": "#/components/parameters/id" }], "responses": responses } })
}

fn paths() -> Value {
    json!({
        "/": { "get": { "operationId": "getApiDetails", "summary": "What this API is: the standard, the UK profile and this document's URL.", "responses": {
            "200": answer("The API details.", r("ApiDetails")), "500": { "$ref": "#/components/responses/Internal" } } } },
        "/openapi.json": { "get": { "operationId": "getOpenApi", "summary": "This OpenAPI 3.1 document.", "responses": {
            "200": { "description": "This document.", "headers": { "Access-Control-Allow-Origin": { "$ref": "#/components/headers/AccessControlAllowOrigin" } }, "content": { "application/json": { "schema": { "type": "object" } } } } } } },
        "/services": list("getServices", "Active services (activities), by name; with postcode, within proximity and nearest first. Filters combine with AND.", SERVICE_LIST_PARAMS, json!({ "anyOf": [r("ServiceBrief"), r("Service")], "description": "ServiceBrief, or Service with full=true." }), "services"),
        "/services/{id}": one("getService", "One active service with everything Ensemble publishes about it.", r("Service"), "service"),
        "/service_at_locations": list("getServiceAtLocations", "Each active service at each of its venues, by service name; with postcode, within proximity and nearest first. Filters combine with AND.", SERVICE_LIST_PARAMS, json!({ "anyOf": [r("ServiceAtLocationBrief"), r("ServiceAtLocation")], "description": "ServiceAtLocationBrief, or ServiceAtLocation with full=true." }), "services at locations"),
        "/service_at_locations/{id}": one("getServiceAtLocation", "One active service at one venue.", r("ServiceAtLocation"), "service at a location"),
        "/taxonomies": list("getTaxonomies", "Taxonomies, by name.", PAGE_PARAMS, r("Taxonomy"), "taxonomies"),
        "/taxonomies/{id}": one("getTaxonomy", "One taxonomy.", r("Taxonomy"), "taxonomy"),
        "/taxonomy_terms": list("getTaxonomyTerms", "Taxonomy terms (activity types), by name.", PAGE_PARAMS, r("TaxonomyTerm"), "taxonomy terms"),
        "/taxonomy_terms/{id}": one("getTaxonomyTerm", "One taxonomy term.", r("TaxonomyTerm"), "taxonomy term"),
        "/organizations": list("getOrganizations", "Organisations with at least one active service, by name.", PAGE_PARAMS, r("Organization"), "organisations"),
        "/organizations/{id}": one("getOrganization", "One organisation with at least one active service.", r("Organization"), "organisation"),
    })
}

/// The document, with the server URL built from the installation's base URL.
pub fn document(base_url: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    let mut params = parameters();
    if let Some(m) = params.as_object_mut() {
        m.insert("id".into(), json!({ "name": "id", "in": "path", "required": true, "description": "The item's id. An id that is not a UUID, unknown, or of an item not published (an archived service) is a 404.", "schema": { "type": "string" } }));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Ensemble Open Referral UK 3.0 API",
            "version": "HSDS-UK-3.0",
            "description": "Ensemble's activity directory as Open Referral UK 3.0 (HSDS 3.0, UK profile). Public and read-only: no authentication; every answer carries `Access-Control-Allow-Origin: *`; GET and HEAD only (OPTIONS answers 204 with `Allow`, any other method 405 with `Allow: GET, HEAD, OPTIONS` and the error body). Optional fields are left out rather than sent as null. Nested records without an id of their own (addresses, cost options, contacts, attributes, accessibility) get UUIDv5 ids derived from their parent, so the same data always gives the same ids.",
            "license": { "name": "Creative Commons Attribution Share-Alike 4.0 (the HSDS schemas these shapes follow)", "url": "https://creativecommons.org/licenses/by-sa/4.0/" }
        },
        "externalDocs": { "description": "Open Referral UK profile", "url": PROFILE },
        "servers": [{ "url": format!("{base}/openreferral") }],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "parameters": params,
            "headers": { "AccessControlAllowOrigin": { "description": "Always `*`.", "schema": { "type": "string", "const": "*" } } },
            "responses": {
                "BadRequest": answer("A parameter is malformed or out of range; `detail` names it and says what to give instead.", r("Error")),
                "NotFound": answer("No published item has this id.", r("Error")),
                "Internal": answer("Something went wrong on the server; it has been logged.", r("Error")),
            }
        }
    })
}
