//! `ensemble user` and `ensemble organisation`: accounts and organisations managed by the
//! operator from the command line.

use std::io::Read;

use anyhow::{Context, bail};
use ensemble::modules::accounts::service;
use ensemble::rbac::Role;

use super::{explain, state_for};
use crate::{OrganisationCommand, TokenCommand, UserCommand};

pub(crate) async fn user(cmd: UserCommand) -> anyhow::Result<i32> {
    match cmd {
        UserCommand::Create {
            db,
            email,
            name,
            organisation,
            role,
            password_stdin,
        } => {
            let state = state_for(&db.database).await?;
            let membership = match (organisation, role) {
                (Some(org), Some(role)) => {
                    let r = Role::from_code(&role).with_context(|| format!("--role: unknown role \"{role}\"; use one of participant, practitioner, link_worker, clinician, programme_manager, researcher, commissioner, administrator"))?;
                    let o = service::find_organisation(&state, &org)
                        .await
                        .map_err(explain)?
                        .with_context(|| {
                            format!("--organisation: no organisation called \"{org}\"")
                        })?;
                    Some((o.id, r))
                }
                _ => None,
            };
            let (password, generated) = read_or_generate_password(password_stdin)?;
            let id = service::create_user_as_operator(
                &state,
                &email,
                &name,
                &password,
                membership.as_ref().map(|(o, r)| (o.as_str(), *r)),
            )
            .await
            .map_err(explain)?;
            println!("Created account {id} for {}.", email.trim().to_lowercase());
            if generated {
                println!("Password: {password}");
                println!("Give it to them securely; they can change it under My account.");
            }
        }
        UserCommand::List(db) => {
            let state = state_for(&db.database).await?;
            let users = service::list_users_as_operator(&state)
                .await
                .map_err(explain)?;
            println!("{:<38} {:<40} {:<9} roles", "id", "email", "status");
            for (u, ms) in users {
                let roles = ms
                    .iter()
                    .map(|m| format!("{} @ {}", m.role.code(), m.organisation_name))
                    .collect::<Vec<_>>()
                    .join("; ");
                let status = if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{:<38} {:<40} {:<9} {}", u.id, u.email, status, roles);
            }
        }
        UserCommand::Disable { db, email } => {
            let state = state_for(&db.database).await?;
            service::set_disabled_as_operator(&state, &email, true)
                .await
                .map_err(explain)?;
            println!("Disabled {email} and ended its sessions.");
        }
        UserCommand::Enable { db, email } => {
            let state = state_for(&db.database).await?;
            service::set_disabled_as_operator(&state, &email, false)
                .await
                .map_err(explain)?;
            println!("Enabled {email}.");
        }
        UserCommand::ResetPassword {
            db,
            email,
            password_stdin,
        } => {
            let state = state_for(&db.database).await?;
            let (password, generated) = read_or_generate_password(password_stdin)?;
            service::reset_password_as_operator(&state, &email, &password)
                .await
                .map_err(explain)?;
            println!("Password reset for {email}; the account is unlocked and its sessions ended.");
            if generated {
                println!("Password: {password}");
            }
        }
        UserCommand::Token(TokenCommand::Create {
            db,
            email,
            name,
            scopes,
            expires_in_days,
        }) => {
            let state = state_for(&db.database).await?;
            let token =
                service::create_token_as_operator(&state, &email, &name, &scopes, &expires_in_days)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "{}",
                            explain(e).to_string().replace("--scopes:", "--scope:")
                        )
                    })?;
            println!("{token}");
            eprintln!(
                "Created API token \"{}\" for {} with {}; it is shown only this once.",
                name.trim(),
                email.trim().to_lowercase(),
                scopes.join(" ")
            );
        }
    }
    Ok(0)
}

fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        let p = s.trim_end_matches(['\n', '\r']).to_string();
        if p.is_empty() {
            bail!(
                "no password on standard input; pipe one in, or leave out --password-stdin to generate one"
            );
        }
        Ok((p, false))
    } else {
        Ok((ensemble::auth::secret::random_token(15), true))
    }
}

/// `ensemble organisation create`.
pub(crate) async fn organisation(cmd: OrganisationCommand) -> anyhow::Result<i32> {
    let OrganisationCommand::Create {
        db,
        name,
        kind,
        borough,
    } = cmd;
    let state = state_for(&db.database).await?;
    let org = service::create_organisation_as_operator(
        &state,
        &ensemble::modules::accounts::service::OrganisationInput {
            name,
            kind,
            borough,
            ..Default::default()
        },
    )
    .await
    .map_err(explain)?;
    println!("Created organisation {} ({}).", org.name, org.id);
    Ok(0)
}
