//! The Open Referral UK 3.0 API under `/openreferral/`: public, read-only, paginated, with
//! `Access-Control-Allow-Origin: *`. Activities are ORUK services; each activity × venue is
//! a service_at_location. Optional fields are omitted rather than `null` (the UK profile's
//! schemas allow no nulls), and nested records get stable UUIDv5 ids derived from their
//! parent, so feeds are repeatable.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sqlx::Row;

use crate::error::{ApiError, AppError};
use crate::state::AppState;

use super::model::{Activity, Cost, Freq, Location};
use super::oruk_query::{filters, full, paging, pairs};
use super::store;

/// The UK profile's documentation URL, as the validator expects it.
pub const PROFILE: &str = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md";

fn cors(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

fn ok(v: Value) -> Response {
    cors(Json(v).into_response())
}

fn err(e: AppError) -> Response {
    cors(ApiError(e).into_response())
}

fn sub_id(parent: &str, kind: &str) -> String {
    let ns = uuid::Uuid::parse_str(parent).unwrap_or(uuid::Uuid::NAMESPACE_OID);
    uuid::Uuid::new_v5(&ns, kind.as_bytes()).to_string()
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_string(), v);
    }
}

fn rfc3339(ts: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

fn organization(a: &Activity) -> Value {
    json!({ "id": a.organisation_id, "name": a.organisation_name, "description": a.organisation_description })
}

/// The list-item shape of a service.
fn service_brief(a: &Activity) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("organization_id".into(), json!(a.organisation_id));
    m.insert("name".into(), json!(a.name));
    m.insert("description".into(), json!(a.description));
    m.insert(
        "status".into(),
        json!(if a.status == "active" {
            "active"
        } else {
            "inactive"
        }),
    );
    put(&mut m, "url", a.url.clone().map(Value::from));
    put(&mut m, "email", a.contact_email.clone().map(Value::from));
    put(&mut m, "fees", Some(Value::from(a.cost_text())));
    put(&mut m, "minimum_age", a.minimum_age.map(Value::from));
    put(&mut m, "maximum_age", a.maximum_age.map(Value::from));
    put(
        &mut m,
        "last_modified",
        rfc3339(a.updated_at).map(Value::from),
    );
    put(
        &mut m,
        "assured_date",
        a.last_reviewed_at
            .and_then(rfc3339)
            .map(|s| Value::from(&s[..10])),
    );
    m.insert("organization".into(), organization(a));
    m
}

fn location_brief(l: &Location) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(l.id));
    m.insert("location_type".into(), json!("physical"));
    m.insert("name".into(), json!(l.name));
    put(&mut m, "latitude", l.point.map(|p| Value::from(p.lat)));
    put(&mut m, "longitude", l.point.map(|p| Value::from(p.lon)));
    m
}

fn location_full(a: &Activity, l: &Location) -> Value {
    let mut m = location_brief(l);
    m.insert(
        "addresses".into(),
        json!([{
            "id": sub_id(&l.id, "address"), "location_id": l.id, "address_1": l.address_1, "city": l.city,
            "state_province": "", "postal_code": l.postcode, "country": "GB", "address_type": "physical"
        }]),
    );
    let access: Vec<Value> = a
        .access_features
        .iter()
        .map(|f| json!({ "id": sub_id(&l.id, &format!("access:{}:{}", a.id, f.code())), "location_id": l.id, "accessibility": f.label(), "description": f.label() }))
        .collect();
    m.insert("accessibility".into(), Value::Array(access));
    Value::Object(m)
}

fn time_hms(t: &str) -> String {
    if t.len() == 5 {
        format!("{t}:00")
    } else {
        t.to_string()
    }
}

/// The full shape of a service.
fn service_full(a: &Activity, with_locations: bool) -> Value {
    let mut m = service_brief(a);
    let schedules: Vec<Value> = a
        .schedules
        .iter()
        .map(|s| {
            let mut o = Map::new();
            o.insert("id".into(), json!(s.id));
            o.insert("service_id".into(), json!(a.id));
            match s.freq {
                Freq::Weekly | Freq::Monthly => {
                    o.insert("freq".into(), json!(s.freq.code()));
                    o.insert("interval".into(), json!(1));
                    o.insert("byday".into(), json!(s.byday));
                }
                Freq::Once => {}
            }
            put(&mut o, "dtstart", s.dtstart.clone().map(Value::from));
            put(&mut o, "valid_from", s.valid_from.clone().map(Value::from));
            put(&mut o, "valid_to", s.valid_to.clone().map(Value::from));
            o.insert("opens_at".into(), json!(time_hms(&s.opens_at)));
            o.insert("closes_at".into(), json!(time_hms(&s.closes_at)));
            o.insert(
                "description".into(),
                json!(if s.description.is_empty() {
                    s.summary()
                } else {
                    format!("{} ({})", s.summary(), s.description)
                }),
            );
            o.insert(
                "attending_type".into(),
                json!(if a.online && a.locations.is_empty() {
                    "online"
                } else if a.online {
                    "hybrid"
                } else {
                    "in_person"
                }),
            );
            Value::Object(o)
        })
        .collect();
    m.insert("schedules".into(), Value::Array(schedules));
    let mut cost = Map::new();
    cost.insert("id".into(), json!(sub_id(&a.id, "cost")));
    cost.insert("service_id".into(), json!(a.id));
    cost.insert("option".into(), json!(a.cost.label()));
    put(
        &mut cost,
        "amount",
        match a.cost {
            Cost::Fixed => a.cost_amount.map(Value::from),
            Cost::Free => Some(Value::from(0)),
            Cost::PayWhatYouCan => None,
        },
    );
    cost.insert("amount_description".into(), json!(a.cost_text()));
    m.insert("cost_options".into(), json!([Value::Object(cost)]));
    if let Some(name) = &a.contact_name {
        m.insert(
            "contacts".into(),
            json!([{ "id": sub_id(&a.id, "contact"), "service_id": a.id, "name": name }]),
        );
    }
    let attributes: Vec<Value> = a
        .types
        .iter()
        .map(|t| {
            json!({
                "id": sub_id(&a.id, &format!("attribute:{}", t.id)), "link_id": a.id, "link_type": "service", "taxonomy_term_id": t.id,
                "taxonomy_term": { "id": t.id, "name": t.name, "description": t.description, "taxonomy_id": t.taxonomy_id, "code": t.code }
            })
        })
        .collect();
    m.insert("attributes".into(), Value::Array(attributes));
    if with_locations {
        let sals: Vec<Value> = a
            .locations
            .iter()
            .map(|l| json!({ "id": l.link_id, "service_id": a.id, "location_id": l.id, "location": location_full(a, l) }))
            .collect();
        m.insert("service_at_locations".into(), Value::Array(sals));
    }
    Value::Object(m)
}

fn wrapper(total: i64, page: i64, per: i64, contents: Vec<Value>) -> Value {
    let total_pages = if total == 0 {
        1
    } else {
        (total + per - 1) / per
    };
    json!({
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": contents.len(),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": contents.is_empty(),
        "contents": contents,
    })
}

/// The page wrapper around items that are already serialised JSON.
fn wrapper_raw(total: i64, page: i64, per: i64, items: &[std::sync::Arc<str>]) -> Response {
    let total_pages = if total == 0 {
        1
    } else {
        (total + per - 1) / per
    };
    let body = format!(
        "{{\"total_items\":{total},\"total_pages\":{total_pages},\"page_number\":{page},\"size\":{},\"first_page\":{},\"last_page\":{},\"empty\":{},\"contents\":[{}]}}",
        items.len(),
        page == 1,
        page >= total_pages,
        items.is_empty(),
        items.iter().map(|s| &**s).collect::<Vec<_>>().join(",")
    );
    cors(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// GET /openreferral/
pub async fn root(State(state): State<AppState>) -> Response {
    let base = state.cfg.base_url.trim_end_matches('/');
    ok(
        json!({ "version": "HSDS-UK-3.0", "profile": PROFILE, "openapi_url": format!("{base}/openreferral/openapi.json") }),
    )
}

/// GET /openreferral/openapi.json: the OpenAPI 3.1 document of this API.
pub async fn openapi(State(state): State<AppState>) -> Response {
    ok(super::oruk_openapi::document(&state.cfg.base_url))
}

/// Answer a method other than GET or HEAD on an `/openreferral/` route: 405 with the JSON
/// envelope (axum adds `Allow: GET,HEAD`), or the CORS pre-flight answer for OPTIONS.
pub async fn method_not_allowed(method: Method) -> Response {
    if method == Method::OPTIONS {
        let mut r = cors(StatusCode::NO_CONTENT.into_response());
        let h = r.headers_mut();
        h.insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        return r;
    }
    let body = json!({ "errors": [{ "code": "method_not_allowed", "detail": format!(
        "{method} is not allowed: the Open Referral UK API is read-only; use GET"
    ) }] });
    let mut r = cors((StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response());
    r.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    r
}

/// The items of one page: hits and the total, before the page is cut when sorted by distance.
fn cut<T>(all: Vec<T>, page: i64, per: i64) -> (Vec<T>, i64) {
    let total = all.len() as i64;
    let skip = usize::try_from((page - 1) * per).unwrap_or(usize::MAX);
    let items = all.into_iter().skip(skip).take(per as usize).collect();
    (items, total)
}

/// GET /openreferral/services
pub async fn services(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    services_page(&state, &pairs(raw)).await.unwrap_or_else(err)
}

async fn services_page(state: &AppState, q: &[(String, String)]) -> Result<Response, AppError> {
    let (page, per) = paging(q)?;
    let full = full(q)?;
    let f = filters(state, q).await?;
    let (hits, total) = if f.near.is_some() {
        cut(super::service::activities_near(state, &f).await?, page, per)
    } else {
        store::search_page(&state.db.read, &f, per, (page - 1) * per).await?
    };
    let ids: Vec<String> = hits.iter().map(|h| h.activity_id.clone()).collect();
    let cache = super::cache::of(state);
    let (acts, snap) = cache.load_with(&state.db, &ids).await?;
    let items: Vec<_> = acts
        .iter()
        .map(|a| match full {
            true => cache.rendered(&snap, &format!("service_full:{}", a.id), || {
                service_full(a, true).to_string()
            }),
            false => cache.rendered(&snap, &format!("service:{}", a.id), || {
                Value::Object(service_brief(a)).to_string()
            }),
        })
        .collect();
    Ok(wrapper_raw(total, page, per, &items))
}

async fn active(state: &AppState, id: &str) -> Result<Activity, AppError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(AppError::NotFound);
    }
    let a = store::load(&state.db.read, &[id.to_string()])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    if a.status != "active" || a.organisation_archived || !a.is_public() {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// GET /openreferral/services/{id}
pub async fn service(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match active(&state, &id).await {
        Ok(a) => ok(service_full(&a, true)),
        Err(e) => err(e),
    }
}

/// GET /openreferral/service_at_locations
pub async fn service_at_locations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Response {
    links_page(&state, &pairs(raw)).await.unwrap_or_else(err)
}

async fn links_page(state: &AppState, q: &[(String, String)]) -> Result<Response, AppError> {
    let (page, per) = paging(q)?;
    let full = full(q)?;
    let f = filters(state, q).await?;
    let (hits, total) = if f.near.is_some() {
        cut(super::service::pairs_near(state, &f).await?, page, per)
    } else {
        store::links_page(&state.db.read, &f, per, (page - 1) * per).await?
    };
    let mut ids: Vec<String> = hits.iter().map(|h| h.activity_id.clone()).collect();
    ids.dedup();
    let cache = super::cache::of(state);
    let (acts, snap) = cache.load_with(&state.db, &ids).await?;
    let mut items = Vec::with_capacity(hits.len());
    for h in &hits {
        let Some(a) = acts.iter().find(|a| a.id == h.activity_id) else {
            continue;
        };
        let Some(l) = a
            .locations
            .iter()
            .find(|l| Some(&l.link_id) == h.link_id.as_ref())
        else {
            continue;
        };
        items.push(match full {
            true => cache.rendered(&snap, &format!("sal_full:{}", l.link_id), || {
                sal_full(a, l).to_string()
            }),
            false => cache.rendered(&snap, &format!("sal:{}", l.link_id), || {
                json!({ "id": l.link_id, "service_id": a.id, "location_id": l.id, "location": location_brief(l), "service": Value::Object(service_brief(a)) }).to_string()
            }),
        });
    }
    Ok(wrapper_raw(total, page, per, &items))
}

fn sal_full(a: &Activity, l: &Location) -> Value {
    json!({ "id": l.link_id, "service_id": a.id, "location_id": l.id, "location": location_full(a, l), "service": service_full(a, false) })
}

/// GET /openreferral/service_at_locations/{id}
pub async fn service_at_location(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err(AppError::NotFound);
        }
        let row = sqlx::query("SELECT activity_id FROM activity_locations WHERE id = $1")
            .bind(id.clone())
            .fetch_optional(&state.db.read)
            .await?
            .ok_or(AppError::NotFound)?;
        let a = active(&state, &row.try_get::<String, _>("activity_id")?).await?;
        let l = a
            .locations
            .iter()
            .find(|l| l.link_id == id)
            .ok_or(AppError::NotFound)?;
        Ok(sal_full(&a, l))
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// GET /openreferral/taxonomies
pub async fn taxonomies(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let q = pairs(raw);
    let result = async {
        let (page, per) = paging(&q)?;
        let rows = sqlx::query(
            "SELECT id, name, description, uri, version FROM taxonomies ORDER BY name, id",
        )
        .fetch_all(&state.db.read)
        .await?;
        let all: Vec<Value> = rows
            .iter()
            .map(taxonomy_json)
            .collect::<Result<_, sqlx::Error>>()?;
        Ok::<_, AppError>(page_of(all, page, per))
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

fn page_of(all: Vec<Value>, page: i64, per: i64) -> Value {
    let total = all.len() as i64;
    let contents = all
        .into_iter()
        .skip(((page - 1) * per) as usize)
        .take(per as usize)
        .collect();
    wrapper(total, page, per, contents)
}

fn taxonomy_json(r: &sqlx::any::AnyRow) -> Result<Value, sqlx::Error> {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.try_get::<String, _>("id")?));
    m.insert("name".into(), json!(r.try_get::<String, _>("name")?));
    m.insert(
        "description".into(),
        json!(r.try_get::<String, _>("description")?),
    );
    put(
        &mut m,
        "uri",
        r.try_get::<Option<String>, _>("uri")?.map(Value::from),
    );
    put(
        &mut m,
        "version",
        r.try_get::<Option<String>, _>("version")?.map(Value::from),
    );
    Ok(Value::Object(m))
}

fn term_json(r: &sqlx::any::AnyRow) -> Result<Value, sqlx::Error> {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.try_get::<String, _>("id")?));
    m.insert("name".into(), json!(r.try_get::<String, _>("name")?));
    m.insert(
        "description".into(),
        json!(r.try_get::<String, _>("description")?),
    );
    m.insert("code".into(), json!(r.try_get::<String, _>("code")?));
    m.insert(
        "taxonomy_id".into(),
        json!(r.try_get::<String, _>("taxonomy_id")?),
    );
    put(
        &mut m,
        "parent_id",
        r.try_get::<Option<String>, _>("parent_id")?
            .map(Value::from),
    );
    Ok(Value::Object(m))
}

/// GET /openreferral/taxonomies/{id}
pub async fn taxonomy(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let result = async {
        let r =
            sqlx::query("SELECT id, name, description, uri, version FROM taxonomies WHERE id = $1")
                .bind(id)
                .fetch_optional(&state.db.read)
                .await?
                .ok_or(AppError::NotFound)?;
        Ok::<_, AppError>(taxonomy_json(&r)?)
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// GET /openreferral/taxonomy_terms
pub async fn taxonomy_terms(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let q = pairs(raw);
    let result = async {
        let (page, per) = paging(&q)?;
        let rows = sqlx::query("SELECT id, name, description, code, taxonomy_id, parent_id FROM taxonomy_terms ORDER BY name, id").fetch_all(&state.db.read).await?;
        let all: Vec<Value> = rows.iter().map(term_json).collect::<Result<_, sqlx::Error>>()?;
        Ok::<_, AppError>(page_of(all, page, per))
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// GET /openreferral/taxonomy_terms/{id}
pub async fn taxonomy_term(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let result = async {
        let r = sqlx::query("SELECT id, name, description, code, taxonomy_id, parent_id FROM taxonomy_terms WHERE id = $1").bind(id).fetch_optional(&state.db.read).await?.ok_or(AppError::NotFound)?;
        Ok::<_, AppError>(term_json(&r)?)
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

fn org_json(r: &sqlx::any::AnyRow) -> Result<Value, sqlx::Error> {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.try_get::<String, _>("id")?));
    m.insert("name".into(), json!(r.try_get::<String, _>("name")?));
    m.insert(
        "description".into(),
        json!(r.try_get::<String, _>("description")?),
    );
    put(
        &mut m,
        "website",
        r.try_get::<Option<String>, _>("website")?
            .filter(|w| super::model::parse_url(w).is_some())
            .map(Value::from),
    );
    Ok(Value::Object(m))
}

const ORG_SQL: &str = "SELECT o.id, o.name, o.description, o.website FROM accounts_organisation_profiles o WHERE o.archived_at IS NULL \
                       AND EXISTS (SELECT 1 FROM activities a WHERE a.organisation_id = o.id AND a.status = 'active' AND a.audience = 'public')";

/// GET /openreferral/organizations — organisations that list at least one activity.
pub async fn organizations(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let q = pairs(raw);
    let result = async {
        let (page, per) = paging(&q)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ORG_SQL} ORDER BY lower(o.name), o.id"
        )))
        .fetch_all(&state.db.read)
        .await?;
        let all: Vec<Value> = rows
            .iter()
            .map(org_json)
            .collect::<Result<_, sqlx::Error>>()?;
        Ok::<_, AppError>(page_of(all, page, per))
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

/// GET /openreferral/organizations/{id}
pub async fn organization_one(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let result = async {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!("{ORG_SQL} AND o.id = $1")))
            .bind(id)
            .fetch_optional(&state.db.read)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok::<_, AppError>(org_json(&r)?)
    }
    .await;
    match result {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}
