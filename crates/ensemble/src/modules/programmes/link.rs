//! Sharing without an account: a programme's signed link (and its QR code, as SVG) lets
//! anyone at a session share a voice until the link expires; a signed withdrawal link shown
//! once afterwards lets them withdraw it. Nothing is stored for a link: it is the programme
//! id, the programme's link generation and the expiry with an HMAC (the installation's
//! secret), so a changed or made-up link is refused, and an expired one says when it expired.
//! The team can end every link made so far before it expires: that moves the programme's
//! generation on (`programmes.link_generation`), and a link of an older generation is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::access::{ProgrammeAccess, Team};
use crate::audit;
use crate::auth::secret::constant_time_eq;
use crate::error::AppError;
use crate::rbac::Actor;
use crate::state::AppState;

/// The longest a link may last, in days.
pub const MAX_DAYS: i64 = 90;

/// Why a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not made by this installation, or changed.
    #[error(
        "This link is not valid. Check it was copied in full, or ask the programme team for a new one."
    )]
    Forged,
    /// Past its expiry.
    #[error("This link expired on {0}. Ask the programme team for a new one.")]
    Expired(String),
    /// Ended early by the programme team.
    #[error("The programme team has ended this link. Ask them for a new one.")]
    Ended,
}

/// What a genuine, unexpired link says: the programme and the link generation it was made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub programme: String,
    pub generation: i64,
}

pub(super) fn mac(secret: &[u8], purpose: &str, value: &str) -> String {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    m.update(purpose.as_bytes());
    m.update(b"|");
    m.update(value.as_bytes());
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// A link token for sharing into `programme` (made in link generation `generation`) until
/// `expires_at` (Unix seconds).
pub fn token(secret: &[u8], programme: &str, generation: i64, expires_at: i64) -> String {
    let value = format!("{programme}.{generation}.{expires_at}");
    format!("{value}.{}", mac(secret, "voice-link", &value))
}

/// What a token says, if it is genuine and not expired at `now` (whether its generation is
/// still current is for [`open`] to ask the database). A link made before generations
/// existed (programme and expiry only) counts as generation 0.
pub fn check(secret: &[u8], token: &str, now: i64) -> Result<Claim, LinkError> {
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig), Some(value)) = (parts.next(), parts.next()) else {
        return Err(LinkError::Forged);
    };
    if !constant_time_eq(&mac(secret, "voice-link", value), sig) {
        return Err(LinkError::Forged);
    }
    let fields: Vec<&str> = value.split('.').collect();
    let (programme, generation, expires) = match fields.as_slice() {
        [p, g, e] => (*p, g.parse::<i64>().map_err(|_| LinkError::Forged)?, *e),
        [p, e] => (*p, 0, *e),
        _ => return Err(LinkError::Forged),
    };
    let expires: i64 = expires.parse().map_err(|_| LinkError::Forged)?;
    if now >= expires {
        return Err(LinkError::Expired(crate::web::layout::datetime(expires)));
    }
    Ok(Claim {
        programme: programme.to_string(),
        generation,
    })
}

/// The programme's current link generation (`None`: no such programme).
pub async fn generation<'e, E>(exec: E, programme: &str) -> Result<Option<i64>, AppError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT link_generation FROM programmes WHERE id = $1")
            .bind(programme.to_string())
            .fetch_optional(exec)
            .await?,
    )
}

/// A link that may be used now: genuine, unexpired, and not ended by the team.
pub async fn open(state: &AppState, token: &str) -> Result<Result<Claim, LinkError>, AppError> {
    let claim = match check(&state.secret, token, crate::db::now()) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(match generation(&state.db.read, &claim.programme).await? {
        Some(g) if g == claim.generation => Ok(claim),
        Some(_) => Err(LinkError::Ended),
        None => Err(LinkError::Forged),
    })
}

/// End every link made so far for a programme (its team): links of the old generation are
/// refused from now on. Audited.
pub async fn end_all(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let p = ProgrammeAccess::<Team>::check(&mut tx, Some(actor), id).await?;
    sqlx::query("UPDATE programmes SET link_generation = link_generation + 1 WHERE id = $1")
        .bind(p.id.clone())
        .execute(&mut *tx)
        .await?;
    audit::by(
        &mut tx,
        actor,
        "programme.links_ended",
        "programme",
        Some(&p.id),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The withdrawal key of an anonymous voice (shown once, to whoever shared it).
pub fn withdrawal_key(secret: &[u8], voice: &str) -> String {
    format!("{voice}.{}", mac(secret, "voice-withdraw", voice))
}

/// The voice a withdrawal key names, if genuine.
pub fn check_withdrawal(secret: &[u8], key: &str) -> Result<String, LinkError> {
    let (voice, sig) = key.rsplit_once('.').ok_or(LinkError::Forged)?;
    if !constant_time_eq(&mac(secret, "voice-withdraw", voice), sig) {
        return Err(LinkError::Forged);
    }
    Ok(voice.to_string())
}

/// A link made for a programme: the address, its token and when it expires.
pub type MadeLink = (String, String, i64);

/// The team's link page: check the actor is on the programme's team, read the number of days
/// asked for (blank: nothing made yet), and make a link that expires then. Nothing is stored:
/// the link is signed with the installation's secret.
pub async fn make(
    state: &crate::state::AppState,
    actor: &crate::rbac::Actor,
    id: &str,
    days: &str,
) -> Result<
    (
        super::service::Space,
        Vec<crate::error::FieldError>,
        Option<MadeLink>,
    ),
    crate::error::AppError,
> {
    let s = super::service::space(state, actor, id).await?;
    if s.programme.standing() < super::access::Standing::Team {
        return Err(crate::error::AppError::Forbidden);
    }
    let n = days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=MAX_DAYS).contains(d));
    let errors = if !days.is_empty() && n.is_none() {
        vec![crate::error::FieldError::new(
            "days",
            format!("Enter a whole number of days from 1 to {MAX_DAYS}"),
        )]
    } else {
        vec![]
    };
    let current = generation(&state.db.read, &s.programme.id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let made = n.map(|d| {
        let expires = crate::db::now() + d * 86_400;
        let t = token(&state.secret, &s.programme.id, current, expires);
        (
            format!("{}/share/{t}", state.cfg.base_url.trim_end_matches('/')),
            t,
            expires,
        )
    });
    Ok((s, errors, made))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed_expire_and_cannot_be_changed() {
        let s = b"secret";
        let t = token(s, "p1", 3, 1_000);
        let claim = Claim {
            programme: "p1".into(),
            generation: 3,
        };
        assert_eq!(check(s, &t, 999), Ok(claim));
        assert_eq!(
            check(s, &t.replace(".3.", ".4."), 0),
            Err(LinkError::Forged)
        );
        // A link made before generations existed still reads, as generation 0.
        let old = format!("p1.1000.{}", mac(s, "voice-link", "p1.1000"));
        assert_eq!(check(s, &old, 0).map(|c| c.generation), Ok(0));
        assert!(matches!(check(s, &t, 1_000), Err(LinkError::Expired(_))));
        assert_eq!(check(b"other", &t, 0), Err(LinkError::Forged));
        assert_eq!(check(s, &t.replace("p1", "p2"), 0), Err(LinkError::Forged));
        assert_eq!(
            check(s, &t.replace(".1000.", ".9999."), 0),
            Err(LinkError::Forged)
        );
        assert_eq!(check(s, "nonsense", 0), Err(LinkError::Forged));
        let k = withdrawal_key(s, "v1");
        assert_eq!(check_withdrawal(s, &k), Ok("v1".into()));
        assert_eq!(
            check_withdrawal(s, &k.replace("v1", "v2")),
            Err(LinkError::Forged)
        );
    }
}
