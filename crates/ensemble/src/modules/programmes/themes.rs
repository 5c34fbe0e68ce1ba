//! Co-analysis themes: each programme keeps a list of themes (named and described by its
//! team; renamed or retired, never deleted once used). The people who code voices — the
//! programme team and members taking part as co-researchers — tick the themes that apply to
//! each voice they may read; each coding records who applied it and when. Where two people
//! coded the same voices, agreement between them is shown per theme and overall as
//! percentage agreement and Cohen's kappa. Themes and codings are never shown to ordinary
//! members or the public; theme counts by month pass through disclosure control.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ensemble_stats::agreement::{Agreement, agreement};
use ensemble_stats::disclosure::{DisclosurePolicy, Published, disclose};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use super::access::{Member, ProgrammeAccess, Reader, Standing, VOICE, Voice, VoiceAccess};
use super::access::{Team, may_read, voice_from};
use super::model::{Capacity, MAX_TEXT, MAX_TITLE, text};
use crate::audit;
use crate::db::{new_id, now};
use crate::error::{AppError, FieldError};
use crate::rbac::Actor;
use crate::state::AppState;

/// A theme as read.
#[derive(Debug, Clone)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub description: String,
    pub retired: bool,
}

/// What the team types to add or change a theme.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ThemeInput {
    pub name: String,
    pub description: String,
    /// "yes" to retire the theme, "no" to bring it back (changes only).
    pub retired: String,
}

/// Whether this actor codes voices in this programme: the team, or a co-researcher.
async fn is_coder(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    p: &ProgrammeAccess<Member>,
) -> Result<bool, AppError> {
    if p.standing() >= Standing::Team {
        return Ok(true);
    }
    let capacity: Option<String> = sqlx::query_scalar(
        "SELECT capacity FROM programme_members WHERE programme_id = $1 AND user_id = $2",
    )
    .bind(p.id.clone())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(capacity.as_deref() == Some(Capacity::CoResearcher.code()))
}

/// Prove the actor codes voices in the programme: 403 for anyone else.
pub(super) async fn coder(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    programme: &str,
) -> Result<ProgrammeAccess<Member>, AppError> {
    let p = ProgrammeAccess::<Member>::check(conn, Some(actor), programme).await?;
    if !is_coder(conn, actor, &p).await? {
        return Err(AppError::Forbidden);
    }
    Ok(p)
}

/// The programme's themes, in name order, retired ones last.
pub async fn list(conn: &mut sqlx::AnyConnection, programme: &str) -> Result<Vec<Theme>, AppError> {
    let rows = sqlx::query(
        "SELECT id, name, description, retired_at FROM programme_themes WHERE programme_id = $1 \
         ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, name, id",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Theme {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                retired: r.try_get::<Option<i64>, _>("retired_at")?.is_some(),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

fn validate(input: &ThemeInput, e: &mut Vec<FieldError>) -> (String, String) {
    let name = text(&input.name, "name", "a name for the theme", MAX_TITLE, e);
    let description = text(
        &input.description,
        "description",
        "a short description of the theme",
        MAX_TEXT,
        e,
    );
    (name, description)
}

async fn name_taken(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
    name: &str,
    except: &str,
) -> Result<bool, AppError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_themes WHERE programme_id = $1 AND LOWER(name) = LOWER($2) AND id <> $3",
    )
    .bind(programme.to_string())
    .bind(name.to_string())
    .bind(except.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Add a theme (the programme team).
pub async fn add(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    input: &ThemeInput,
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let mut e = Vec::new();
    let (name, description) = validate(input, &mut e);
    if !name.is_empty() && name_taken(&mut tx, &p.id, &name, "").await? {
        e.push(FieldError::new(
            "name",
            "There is already a theme with this name",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = new_id();
    sqlx::query("INSERT INTO programme_themes (id, programme_id, name, description, retired_at, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, NULL, $5, $6, $6)")
        .bind(id.clone())
        .bind(p.id.clone())
        .bind(name)
        .bind(description)
        .bind(actor.user_id.clone())
        .bind(now())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "theme.add",
        "programme_theme",
        Some(&id),
        json!({ "programme": p.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Rename, describe, retire or bring back a theme (the programme team). Themes are never
/// deleted, so codings that used them stay readable.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    programme: &str,
    theme: &str,
    input: &ThemeInput,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), programme).await?;
    let exists: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_themes WHERE id = $1 AND programme_id = $2",
    )
    .bind(theme.to_string())
    .bind(p.id.clone())
    .fetch_one(&mut *tx)
    .await?;
    if exists == 0 {
        return Err(AppError::NotFound);
    }
    let mut e = Vec::new();
    let (name, description) = validate(input, &mut e);
    let retire = match input.retired.as_str() {
        "yes" => true,
        "no" | "" => false,
        _ => {
            e.push(FieldError::new(
                "retired",
                "Choose whether the theme is retired",
            ));
            false
        }
    };
    if !name.is_empty() && name_taken(&mut tx, &p.id, &name, theme).await? {
        e.push(FieldError::new(
            "name",
            "There is already a theme with this name",
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let sql = if retire {
        "UPDATE programme_themes SET name = $1, description = $2, retired_at = COALESCE(retired_at, $3), updated_at = $3 WHERE id = $4"
    } else {
        "UPDATE programme_themes SET name = $1, description = $2, retired_at = NULL, updated_at = $3 WHERE id = $4"
    };
    sqlx::query(sql)
        .bind(name)
        .bind(description)
        .bind(now())
        .bind(theme.to_string())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "theme.change",
        "programme_theme",
        Some(theme),
        json!({ "retired": retire }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The coding form for a voice: the programme's current themes and those this coder
/// ticked, or `None` when the actor does not code voices here.
pub struct Coding {
    pub themes: Vec<Theme>,
    pub ticked: Vec<String>,
    pub coded: bool,
}

/// What a coder sees of the themes on a voice they may read (`None` for anyone else).
pub async fn for_voice(
    state: &AppState,
    actor: &Actor,
    voice: &VoiceAccess<Reader>,
) -> Result<Option<Coding>, AppError> {
    let mut conn = state.db.read.acquire().await?;
    let Ok(p) = ProgrammeAccess::<Member>::check(&mut conn, Some(actor), &voice.programme_id).await
    else {
        return Ok(None);
    };
    if !is_coder(&mut conn, actor, &p).await? {
        return Ok(None);
    }
    let ticked: Vec<String> = sqlx::query_scalar(
        "SELECT theme_id FROM programme_voice_themes WHERE voice_id = $1 AND coder_id = $2",
    )
    .bind(voice.id.clone())
    .bind(actor.user_id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let coded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM programme_voice_codings WHERE voice_id = $1 AND coder_id = $2",
    )
    .bind(voice.id.clone())
    .bind(actor.user_id.clone())
    .fetch_one(&mut *conn)
    .await?;
    let themes = list(&mut conn, &p.id)
        .await?
        .into_iter()
        .filter(|t| !t.retired || ticked.contains(&t.id))
        .collect();
    Ok(Some(Coding {
        themes,
        ticked,
        coded: coded > 0,
    }))
}

/// Save this coder's themes for a voice they may read, replacing their earlier coding.
/// Ticking nothing records that no theme applies.
pub async fn code(
    state: &AppState,
    actor: &Actor,
    voice: &str,
    chosen: &[String],
) -> Result<String, AppError> {
    let mut tx = state.db.begin().await?;
    let v = VoiceAccess::<Reader>::check(&mut tx, Some(actor), voice).await?;
    let p = coder(&mut tx, actor, &v.programme_id).await?;
    let themes = list(&mut tx, &p.id).await?;
    let before: Vec<String> = sqlx::query_scalar(
        "SELECT theme_id FROM programme_voice_themes WHERE voice_id = $1 AND coder_id = $2",
    )
    .bind(v.id.clone())
    .bind(actor.user_id.clone())
    .fetch_all(&mut *tx)
    .await?;
    let chosen: BTreeSet<&String> = chosen.iter().collect();
    for id in &chosen {
        let ok = themes
            .iter()
            .any(|t| &&t.id == id && (!t.retired || before.contains(&t.id)));
        if !ok {
            return Err(AppError::Invalid(vec![FieldError::new(
                "themes",
                "Choose only themes from the list",
            )]));
        }
    }
    for sql in [
        "DELETE FROM programme_voice_themes WHERE voice_id = $1 AND coder_id = $2",
        "DELETE FROM programme_voice_codings WHERE voice_id = $1 AND coder_id = $2",
    ] {
        sqlx::query(sql)
            .bind(v.id.clone())
            .bind(actor.user_id.clone())
            .execute(&mut *tx)
            .await?;
    }
    let t = now();
    sqlx::query(
        "INSERT INTO programme_voice_codings (voice_id, coder_id, coded_at) VALUES ($1, $2, $3)",
    )
    .bind(v.id.clone())
    .bind(actor.user_id.clone())
    .bind(t)
    .execute(&mut *tx)
    .await?;
    for id in &chosen {
        sqlx::query("INSERT INTO programme_voice_themes (voice_id, coder_id, theme_id, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(v.id.clone())
            .bind(actor.user_id.clone())
            .bind((*id).clone())
            .bind(t)
            .execute(&mut *tx)
            .await?;
    }
    audit::by(
        &mut tx,
        actor,
        "voice.code",
        "programme_voice",
        Some(&v.id),
        json!({ "themes": chosen.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(v.id.clone())
}

/// Agreement between two coders, per theme and overall.
pub struct Pair {
    pub first: String,
    pub second: String,
    /// Voices both coded.
    pub voices: usize,
    /// Per theme (id), then overall (every voice × theme decision pooled).
    pub per_theme: Vec<(String, Agreement)>,
    pub overall: Agreement,
}

/// One theme's voices by month and the quotes this viewer may read.
pub struct ThemeSummary {
    pub theme: Theme,
    pub months: Vec<(String, Published)>,
    pub quotes: Vec<Voice>,
}

/// The themes page.
pub struct Overview {
    pub programme: ProgrammeAccess<Member>,
    pub themes: Vec<ThemeSummary>,
    pub pairs: Vec<Pair>,
    pub names: HashMap<String, String>,
}

/// The most quotes shown under each theme.
pub const QUOTES: usize = 3;

/// The UK month of a moment, as a sortable key and in words ("December 2026").
pub(super) fn month_of(ts: i64) -> ((i32, u8), String) {
    let d = crate::db::uk::local(ts);
    (
        (d.year(), u8::from(d.month())),
        format!("{} {}", d.month(), d.year()),
    )
}

/// Every theme ticked in a programme (voice, coder, theme), and the voices each coder coded
/// (even with nothing ticked): what agreement and the codings export are computed from.
pub(super) async fn codings(
    conn: &mut sqlx::AnyConnection,
    programme: &str,
) -> Result<Ticks, AppError> {
    let rows = sqlx::query(
        "SELECT vt.voice_id, vt.coder_id, vt.theme_id FROM programme_voice_themes vt \
         JOIN programme_themes t ON t.id = vt.theme_id WHERE t.programme_id = $1",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut ticks: BTreeSet<(String, String, String)> = BTreeSet::new();
    for r in &rows {
        ticks.insert((
            r.try_get("voice_id")?,
            r.try_get("coder_id")?,
            r.try_get("theme_id")?,
        ));
    }
    let rows = sqlx::query(
        "SELECT c.voice_id, c.coder_id FROM programme_voice_codings c \
         JOIN programme_voices v ON v.id = c.voice_id WHERE v.programme_id = $1",
    )
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut coded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        coded
            .entry(r.try_get("coder_id")?)
            .or_default()
            .insert(r.try_get("voice_id")?);
    }
    Ok((ticks, coded))
}

/// (voice, coder, theme) ticks and each coder's coded voices.
pub(super) type Ticks = (
    BTreeSet<(String, String, String)>,
    BTreeMap<String, BTreeSet<String>>,
);

/// The themes page for a coder: themes, voices per theme by month (small counts
/// suppressed), quotes they may read and the agreement between each pair of coders.
pub async fn overview(
    state: &AppState,
    actor: &Actor,
    programme: &str,
) -> Result<Overview, AppError> {
    let mut tx = state.db.begin().await?;
    let p = coder(&mut tx, actor, programme).await?;
    let themes = list(&mut tx, &p.id).await?;
    let (ticks, coded) = codings(&mut tx, &p.id).await?;
    let voices: Vec<Voice> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{VOICE} WHERE programme_id = $1 ORDER BY created_at DESC, id DESC"
    )))
    .bind(p.id.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(voice_from)
    .collect::<Result<_, _>>()?;
    let mut summaries = Vec::new();
    for theme in themes.iter().cloned() {
        let with: BTreeSet<&str> = ticks
            .iter()
            .filter(|(_, _, t)| t == &theme.id)
            .map(|(v, _, _)| v.as_str())
            .collect();
        let mut by_month: BTreeMap<(i32, u8), (String, u64)> = BTreeMap::new();
        let mut quotes = Vec::new();
        for v in voices.iter().filter(|v| with.contains(v.id.as_str())) {
            let (key, label) = month_of(v.created_at);
            by_month.entry(key).or_insert((label, 0)).1 += 1;
            let mine = v.author_id.as_deref() == Some(actor.user_id.as_str());
            if quotes.len() < QUOTES && may_read(v, p.standing(), mine) {
                quotes.push(v.clone());
            }
        }
        let months = by_month
            .into_values()
            .map(|(m, n)| (m, disclose(n, DisclosurePolicy::default())))
            .collect();
        summaries.push(ThemeSummary {
            theme,
            months,
            quotes,
        });
    }
    let pairs = pairs(&coded, &ticks, &themes);
    let mut names = HashMap::new();
    for id in coded.keys() {
        let name: Option<String> =
            sqlx::query_scalar("SELECT display_name FROM accounts_user_names WHERE id = $1")
                .bind(id.clone())
                .fetch_optional(&mut *tx)
                .await?;
        names.insert(id.clone(), name.unwrap_or_else(|| "Someone".into()));
    }
    audit::by(
        &mut tx,
        actor,
        "theme.overview",
        "programme",
        Some(&p.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Overview {
        programme: p,
        themes: summaries,
        pairs,
        names,
    })
}

/// Agreement between every pair of coders over the voices both coded, per theme and
/// pooled over every theme (decisions about retired themes included).
pub fn pairs(
    coded: &BTreeMap<String, BTreeSet<String>>,
    ticks: &BTreeSet<(String, String, String)>,
    themes: &[Theme],
) -> Vec<Pair> {
    let has =
        |v: &str, c: &str, t: &str| ticks.contains(&(v.to_string(), c.to_string(), t.to_string()));
    let coders: Vec<&String> = coded.keys().collect();
    let mut out = Vec::new();
    for (i, a) in coders.iter().enumerate() {
        for b in &coders[i + 1..] {
            let both: Vec<&String> = coded[*a].intersection(&coded[*b]).collect();
            if both.is_empty() || themes.is_empty() {
                continue;
            }
            let mut all = Vec::new();
            let mut per_theme = Vec::new();
            for t in themes {
                let decisions: Vec<(bool, bool)> = both
                    .iter()
                    .map(|v| (has(v, a, &t.id), has(v, b, &t.id)))
                    .collect();
                all.extend(decisions.iter().copied());
                if let Ok(ag) = agreement(&decisions) {
                    per_theme.push((t.id.clone(), ag));
                }
            }
            if let Ok(overall) = agreement(&all) {
                out.push(Pair {
                    first: (*a).clone(),
                    second: (*b).clone(),
                    voices: both.len(),
                    per_theme,
                    overall,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme(id: &str) -> Theme {
        Theme {
            id: id.into(),
            name: id.into(),
            description: String::new(),
            retired: false,
        }
    }

    fn coded(list: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        list.iter()
            .map(|(c, vs)| (c.to_string(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    fn ticks(list: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
        list.iter()
            .map(|(v, c, t)| (v.to_string(), c.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn agreement_is_over_the_voices_both_coded_per_theme_and_pooled() {
        let themes = [theme("t"), theme("u")];
        // a coded v1–v3, b coded v2–v4: only v2 and v3 count.
        let c = coded(&[("a", &["v1", "v2", "v3"]), ("b", &["v2", "v3", "v4"])]);
        let k = ticks(&[
            ("v1", "a", "t"),
            ("v2", "a", "t"),
            ("v2", "b", "t"),
            ("v3", "b", "u"),
            ("v4", "b", "t"),
        ]);
        let p = pairs(&c, &k, &themes);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].voices, 2);
        let t = agreement(&[(true, true), (false, false)]).unwrap();
        let u = agreement(&[(false, false), (false, true)]).unwrap();
        assert_eq!(
            p[0].per_theme,
            vec![("t".to_string(), t), ("u".to_string(), u)]
        );
        let all =
            agreement(&[(true, true), (false, false), (false, false), (false, true)]).unwrap();
        assert_eq!(p[0].overall, all);
    }

    #[test]
    fn one_coder_or_no_shared_voice_gives_no_pair_and_one_answer_leaves_kappa_undefined() {
        let themes = [theme("t")];
        assert!(
            pairs(
                &coded(&[("a", &["v1"])]),
                &ticks(&[("v1", "a", "t")]),
                &themes
            )
            .is_empty()
        );
        assert!(
            pairs(
                &coded(&[("a", &["v1"]), ("b", &["v2"])]),
                &ticks(&[]),
                &themes
            )
            .is_empty()
        );
        // Both ticked the one theme on every voice: full agreement, kappa not defined.
        let c = coded(&[("a", &["v1", "v2"]), ("b", &["v1", "v2"])]);
        let k = ticks(&[
            ("v1", "a", "t"),
            ("v2", "a", "t"),
            ("v1", "b", "t"),
            ("v2", "b", "t"),
        ]);
        let p = pairs(&c, &k, &themes);
        assert_eq!(p[0].overall.observed, 1.0);
        assert_eq!(p[0].overall.kappa, None);
        assert_eq!(
            crate::modules::programmes::themes_html::kappa(&p[0].overall),
            "not defined (both gave every voice the same answer)"
        );
    }
}
