//! What may this actor do with this programme, voice or action? Answered once, here.
//!
//! Each answer is a proof made only by the `check` of its kind, which loads the record in
//! the caller's connection or transaction, works out the actor's [`Standing`] in the
//! programme and refuses unless the relation holds. The loaders are private to this file.
//!
//! | proof | relation | who |
//! | --- | --- | --- |
//! | [`ProgrammeAccess<Public>`] | [`Public`] | anyone, signed in or not (the public page and board) |
//! | [`ProgrammeAccess<Member>`] | [`Member`] | every member, whatever their stated role, and the managers |
//! | [`ProgrammeAccess<Team>`] | [`Team`] | members stated as responsible, and the managers |
//! | [`ProgrammeAccess<Manager>`] | [`Manager`] | programme managers of the lead organisation |
//! | [`VoiceAccess<Reader>`] | [`Reader`] | its author; otherwise by its visibility: the team (team only), every member (members), anyone once a moderator approved it (public; the team meanwhile) |
//! | [`VoiceAccess<Author>`] | [`Author`] | its author (edit, withdraw) |
//! | [`VoiceAccess<Moderator>`] | [`Moderator`] | the programme team (moderates public voices, turns voices into actions) |
//! | [`ActionAccess<Follower>`] | [`Follower`] | every member of the programme (and so the authors of the voices behind it) |
//! | [`ActionAccess<Owner>`] | [`Owner`] | its owner and the programme's managers (post progress) |
//! | [`ActionAccess<Voiced>`] | [`Voiced`] | the authors of the voices behind it (reply) |
//!
//! A programme that exists but is refused is a **403** (its public page says it exists); a
//! voice or action refused is a **404**, so its existence is not revealed. A withdrawn
//! voice is deleted, so it is a 404 to everyone.

use std::marker::PhantomData;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::model::{ActionStatus, MemberRole, Moderation, Visibility, VoiceKind};
use crate::error::AppError;
use crate::rbac::{Actor, Role};

/// The actor's standing in one programme, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Not a member (or signed out).
    Outside,
    /// A member (consulted or kept informed).
    Member,
    /// A member stated as responsible.
    Team,
    /// A programme manager of the lead organisation.
    Manager,
}

/// A programme as read.
#[derive(Debug, Clone)]
pub struct Programme {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub lead_organisation_id: String,
    pub lead_organisation: String,
    pub created_at: i64,
}

/// A voice as read.
#[derive(Debug, Clone)]
pub struct Voice {
    pub id: String,
    pub programme_id: String,
    pub author_id: Option<String>,
    /// The practitioner who recorded it on a participant's behalf (with their consent).
    pub recorded_by: Option<String>,
    pub kind: VoiceKind,
    pub body: String,
    pub visibility: Visibility,
    pub moderation: Moderation,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An action as read.
#[derive(Debug, Clone)]
pub struct Action {
    pub id: String,
    pub programme_id: String,
    pub title: String,
    pub description: String,
    pub owner_id: String,
    pub owner: String,
    pub due_on: String,
    pub status: ActionStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

mod sealed {
    pub trait Sealed {}
}

/// A relation to a programme, a voice or an action, as a type.
pub trait Relation: sealed::Sealed + Send + Sync + 'static {}

macro_rules! markers {
    ($($(#[$m:meta])* $name:ident),*) => {
        $( $(#[$m])* pub struct $name; impl sealed::Sealed for $name {} impl Relation for $name {} )*
    };
}

markers!(
    /// Anyone.
    Public,
    /// Every member of the programme.
    Member,
    /// Responsible members and managers.
    Team,
    /// Programme managers of the lead organisation.
    Manager,
    /// May read the voice.
    Reader,
    /// Wrote the voice.
    Author,
    /// Moderates the voice (the programme team).
    Moderator,
    /// Follows an action: the programme's members, the people whose voices started it among them.
    Follower,
    /// Owns an action (or manages the programme).
    Owner,
    /// Wrote one of the voices behind an action.
    Voiced
);

/// Proof that the actor holds `R` to a programme.
pub struct ProgrammeAccess<R: Relation> {
    programme: Programme,
    standing: Standing,
    role: Option<MemberRole>,
    _r: PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for ProgrammeAccess<R> {
    type Target = Programme;
    fn deref(&self) -> &Programme {
        &self.programme
    }
}

impl<R: Relation> ProgrammeAccess<R> {
    /// The actor's standing in the programme.
    pub fn standing(&self) -> Standing {
        self.standing
    }
    /// The actor's stated role, if a member.
    pub fn role(&self) -> Option<MemberRole> {
        self.role
    }
}

/// Which standing each programme relation needs.
pub trait ProgrammeRelation: Relation {
    const NEEDS: Standing;
}
impl ProgrammeRelation for Public {
    const NEEDS: Standing = Standing::Outside;
}
impl ProgrammeRelation for Member {
    const NEEDS: Standing = Standing::Member;
}
impl ProgrammeRelation for Team {
    const NEEDS: Standing = Standing::Team;
}
impl ProgrammeRelation for Manager {
    const NEEDS: Standing = Standing::Manager;
}

const PROGRAMME: &str = "SELECT p.id, p.name, p.summary, p.lead_organisation_id, o.name AS lead_name, p.created_at \
    FROM programmes p JOIN accounts_organisation_profiles o ON o.id = p.lead_organisation_id";

pub(super) fn programme_from(r: &AnyRow) -> Result<Programme, sqlx::Error> {
    Ok(Programme {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        summary: r.try_get("summary")?,
        lead_organisation_id: r.try_get("lead_organisation_id")?,
        lead_organisation: r.try_get("lead_name")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The select list shared with the store (programme rows with the lead's name).
pub(super) fn programme_select() -> &'static str {
    PROGRAMME
}

async fn standing_in(
    conn: &mut sqlx::AnyConnection,
    actor: Option<&Actor>,
    p: &Programme,
) -> Result<(Standing, Option<MemberRole>), AppError> {
    let Some(actor) = actor else {
        return Ok((Standing::Outside, None));
    };
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM programme_members WHERE programme_id = $1 AND user_id = $2",
    )
    .bind(p.id.clone())
    .bind(actor.user_id.clone())
    .fetch_optional(&mut *conn)
    .await?;
    let role = role.as_deref().and_then(MemberRole::from_code);
    let standing = if actor.has_role_in(&p.lead_organisation_id, Role::ProgrammeManager) {
        Standing::Manager
    } else {
        match role {
            Some(MemberRole::Responsible) => Standing::Team,
            Some(_) => Standing::Member,
            None => Standing::Outside,
        }
    };
    Ok((standing, role))
}

impl<R: ProgrammeRelation> ProgrammeAccess<R> {
    /// Load a programme and prove `R`: 404 when there is none, 403 when `R` does not hold.
    pub async fn check(
        conn: &mut sqlx::AnyConnection,
        actor: Option<&Actor>,
        id: &str,
    ) -> Result<Self, AppError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{PROGRAMME} WHERE p.id = $1")))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(AppError::NotFound)?;
        let programme = programme_from(&row)?;
        let (standing, role) = standing_in(conn, actor, &programme).await?;
        if standing < R::NEEDS {
            return Err(if actor.is_some() {
                AppError::Forbidden
            } else {
                AppError::Unauthenticated
            });
        }
        Ok(Self {
            programme,
            standing,
            role,
            _r: PhantomData,
        })
    }
}

/// Voices as every page reads them (callers append `WHERE …`). A voice a practitioner
/// recorded on a participant's behalf counts only while that person's consent to share
/// stories stands, so withdrawing the consent hides it at once (the hourly sweep in
/// `behalf` then deletes it).
pub(super) const VOICE: &str = "SELECT id, programme_id, author_id, recorded_by, kind, body, visibility, moderation, created_at, updated_at \
    FROM (SELECT * FROM programme_voices pv WHERE pv.person_id IS NULL OR EXISTS (SELECT 1 FROM people_current_consents c \
    WHERE c.person_id = pv.person_id AND c.purpose = 'share_stories' AND c.decision = 'given')) programme_voices";

pub(super) fn voice_from(r: &AnyRow) -> Result<Voice, sqlx::Error> {
    let code = |c: &str| r.try_get::<String, _>(c);
    let bad = |c: &str| sqlx::Error::Decode(format!("unknown {c} code").into());
    Ok(Voice {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        author_id: r.try_get("author_id")?,
        recorded_by: r.try_get("recorded_by")?,
        kind: VoiceKind::from_code(&code("kind")?).ok_or_else(|| bad("kind"))?,
        body: r.try_get("body")?,
        visibility: Visibility::from_code(&code("visibility")?).ok_or_else(|| bad("visibility"))?,
        moderation: Moderation::from_code(&code("moderation")?).ok_or_else(|| bad("moderation"))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Whether someone of this standing (the author or not) may read this voice.
pub fn may_read(v: &Voice, standing: Standing, is_author: bool) -> bool {
    if is_author {
        return true;
    }
    match v.visibility {
        Visibility::Team => standing >= Standing::Team,
        Visibility::Members => standing >= Standing::Member,
        Visibility::Public => v.moderation == Moderation::Approved || standing >= Standing::Team,
    }
}

/// Which voice relations hold for an author flag and a standing.
pub trait VoiceRelation: Relation {
    fn holds(v: &Voice, standing: Standing, is_author: bool) -> bool;
}
impl VoiceRelation for Reader {
    fn holds(v: &Voice, standing: Standing, is_author: bool) -> bool {
        may_read(v, standing, is_author)
    }
}
impl VoiceRelation for Author {
    fn holds(_: &Voice, _: Standing, is_author: bool) -> bool {
        is_author
    }
}
impl VoiceRelation for Moderator {
    fn holds(_: &Voice, standing: Standing, _: bool) -> bool {
        standing >= Standing::Team
    }
}

/// Proof that the actor holds `R` to a voice.
pub struct VoiceAccess<R: Relation> {
    voice: Voice,
    programme: Programme,
    standing: Standing,
    is_author: bool,
    _r: PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for VoiceAccess<R> {
    type Target = Voice;
    fn deref(&self) -> &Voice {
        &self.voice
    }
}

impl<R: Relation> VoiceAccess<R> {
    pub fn programme(&self) -> &Programme {
        &self.programme
    }
    pub fn standing(&self) -> Standing {
        self.standing
    }
    pub fn is_author(&self) -> bool {
        self.is_author
    }
}

impl<R: VoiceRelation> VoiceAccess<R> {
    /// Load a voice and prove `R`: 404 when there is none or `R` does not hold.
    pub async fn check(
        conn: &mut sqlx::AnyConnection,
        actor: Option<&Actor>,
        id: &str,
    ) -> Result<Self, AppError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{VOICE} WHERE id = $1")))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(AppError::NotFound)?;
        let voice = voice_from(&row)?;
        let p = ProgrammeAccess::<Public>::check(conn, actor, &voice.programme_id).await?;
        // The author; or, for a voice recorded on behalf of someone without an account,
        // the practitioner who recorded it (who edits or withdraws it when asked).
        let is_author = match (actor, &voice.author_id, &voice.recorded_by) {
            (Some(a), Some(author), _) => &a.user_id == author,
            (Some(a), None, Some(by)) => &a.user_id == by,
            _ => false,
        };
        if !R::holds(&voice, p.standing, is_author) {
            return Err(AppError::NotFound);
        }
        Ok(Self {
            voice,
            standing: p.standing,
            programme: p.programme,
            is_author,
            _r: PhantomData,
        })
    }
}

pub(super) const ACTION: &str = "SELECT a.id, a.programme_id, a.title, a.description, a.owner_id, u.display_name AS owner, a.due_on, a.status, a.created_at, a.updated_at \
    FROM programme_actions a JOIN accounts_user_names u ON u.id = a.owner_id";

pub(super) fn action_from(r: &AnyRow) -> Result<Action, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(Action {
        id: r.try_get("id")?,
        programme_id: r.try_get("programme_id")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        owner_id: r.try_get("owner_id")?,
        owner: r.try_get("owner")?,
        due_on: r.try_get("due_on")?,
        status: ActionStatus::from_code(&status)
            .ok_or_else(|| sqlx::Error::Decode("unknown action status".into()))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Which action relations hold.
pub trait ActionRelation: Relation {
    fn holds(a: &Action, actor: &Actor, standing: Standing, voiced: bool) -> bool;
}
impl ActionRelation for Follower {
    fn holds(_: &Action, _: &Actor, standing: Standing, voiced: bool) -> bool {
        voiced || standing >= Standing::Member
    }
}
impl ActionRelation for Owner {
    fn holds(a: &Action, actor: &Actor, standing: Standing, _: bool) -> bool {
        a.owner_id == actor.user_id || standing == Standing::Manager
    }
}
impl ActionRelation for Voiced {
    fn holds(_: &Action, _: &Actor, _: Standing, voiced: bool) -> bool {
        voiced
    }
}

/// Proof that the actor holds `R` to an action.
pub struct ActionAccess<R: Relation> {
    action: Action,
    programme: Programme,
    standing: Standing,
    /// The actor's voices behind the action (empty unless they spoke).
    own_voices: Vec<String>,
    _r: PhantomData<R>,
}

impl<R: Relation> std::ops::Deref for ActionAccess<R> {
    type Target = Action;
    fn deref(&self) -> &Action {
        &self.action
    }
}

impl<R: Relation> ActionAccess<R> {
    pub fn programme(&self) -> &Programme {
        &self.programme
    }
    pub fn standing(&self) -> Standing {
        self.standing
    }
    /// The actor's own voices behind this action.
    pub fn own_voices(&self) -> &[String] {
        &self.own_voices
    }
}

impl<R: ActionRelation> ActionAccess<R> {
    /// Load an action and prove `R`: 404 when there is none or `R` does not hold.
    pub async fn check(
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        id: &str,
    ) -> Result<Self, AppError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{ACTION} WHERE a.id = $1")))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(AppError::NotFound)?;
        let action = action_from(&row)?;
        let p = ProgrammeAccess::<Public>::check(conn, Some(actor), &action.programme_id).await?;
        let own_voices: Vec<String> = sqlx::query_scalar(
            "SELECT v.id FROM programme_action_voices av JOIN programme_voices v ON v.id = av.voice_id \
             WHERE av.action_id = $1 AND v.author_id = $2 ORDER BY v.created_at, v.id",
        )
        .bind(action.id.clone())
        .bind(actor.user_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        if !R::holds(&action, actor, p.standing, !own_voices.is_empty()) {
            return Err(AppError::NotFound);
        }
        Ok(Self {
            action,
            standing: p.standing,
            programme: p.programme,
            own_voices,
            _r: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(visibility: Visibility, moderation: Moderation) -> Voice {
        Voice {
            id: "v".into(),
            programme_id: "p".into(),
            author_id: Some("a".into()),
            recorded_by: None,
            kind: VoiceKind::Feedback,
            body: "b".into(),
            visibility,
            moderation,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn who_may_read_a_voice_follows_its_visibility() {
        use Standing::*;
        let team = voice(Visibility::Team, Moderation::NotNeeded);
        assert!(may_read(&team, Outside, true));
        assert!(!may_read(&team, Member, false));
        assert!(may_read(&team, Team, false));
        let members = voice(Visibility::Members, Moderation::NotNeeded);
        assert!(!may_read(&members, Outside, false));
        assert!(may_read(&members, Member, false));
        let waiting = voice(Visibility::Public, Moderation::Waiting);
        assert!(!may_read(&waiting, Member, false));
        assert!(may_read(&waiting, Team, false));
        let approved = voice(Visibility::Public, Moderation::Approved);
        assert!(may_read(&approved, Outside, false));
        let declined = voice(Visibility::Public, Moderation::Declined);
        assert!(!may_read(&declined, Member, false));
        assert!(may_read(&declined, Manager, false));
    }
}
