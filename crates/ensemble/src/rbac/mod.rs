//! The access policy: one default-deny decision over role and relationship.
//!
//! * [`Role`] is what a membership grants within one organisation.
//! * [`Permission`] is what a route or service needs. Every route declares one
//!   (`web::routes`), and [`allows`] is the only place that maps roles to permissions.
//! * Relationship rules (my organisation, myself) are checked by services against the
//!   resource with [`Actor::is_member_of`] / [`Actor::has_role_in`].
//! * [`Granted<P>`] is proof that the policy allowed permission `P` for this actor. It can
//!   only be made by [`Granted::check`], and services that change or reveal protected data
//!   take one as an argument, so an unchecked call does not compile.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

/// A role held through a membership of an organisation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person taking part; an expert by experience.
    Participant,
    /// A healthcare musician, artist or facilitator.
    Practitioner,
    /// A social prescribing link worker.
    LinkWorker,
    /// Ward or community clinical staff, or a GP.
    Clinician,
    /// Runs programmes for an NHS trust or cultural organisation.
    ProgrammeManager,
    /// University research partner.
    Researcher,
    /// Commissioner at a combined authority, ICB or council.
    Commissioner,
    /// Platform operator.
    Administrator,
    /// A participant or expert by experience who co-designs measures and evaluation.
    CoResearcher,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 9] = [
        Role::Participant,
        Role::Practitioner,
        Role::LinkWorker,
        Role::Clinician,
        Role::ProgrammeManager,
        Role::Researcher,
        Role::Commissioner,
        Role::Administrator,
        Role::CoResearcher,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Practitioner => "practitioner",
            Role::LinkWorker => "link_worker",
            Role::Clinician => "clinician",
            Role::ProgrammeManager => "programme_manager",
            Role::Researcher => "researcher",
            Role::Commissioner => "commissioner",
            Role::Administrator => "administrator",
            Role::CoResearcher => "co_researcher",
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Participant => "Participant",
            Role::Practitioner => "Practitioner",
            Role::LinkWorker => "Link worker",
            Role::Clinician => "Clinician",
            Role::ProgrammeManager => "Programme manager",
            Role::Researcher => "Researcher",
            Role::Commissioner => "Commissioner",
            Role::Administrator => "Administrator",
            Role::CoResearcher => "Co-researcher",
        }
    }

    /// Parse a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Does this role reach person records (a permission in
    /// [`Permission::PERSON_RECORDS`])? Giving one to an account needs a second
    /// administrator's approval.
    pub fn is_care_role(self) -> bool {
        Permission::PERSON_RECORDS
            .iter()
            .any(|p| allows(&[self], true, *p))
    }

    /// Staff roles must use a second factor; participants need no memory test.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Participant | Role::CoResearcher)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a route or service needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account (their own account pages).
    SignedIn,
    /// Staff: see the partner organisations of the region.
    ViewOrganisations,
    /// Programme managers (of that organisation) and administrators: see an
    /// organisation's members. Relationship checked by the service.
    ViewOrganisationMembers,
    /// Administrators: create and edit organisations.
    ManageOrganisations,
    /// Administrators: create, invite, edit and disable accounts and memberships.
    ManageAccounts,
    /// Administrators: browse the audit trail.
    ViewAudit,
    /// Administrators: see the email outbox and job queue.
    ViewOperations,
    /// Programme managers (of the owning organisation) and administrators: create, edit,
    /// review and archive directory activities. Relationship checked by the service.
    ManageActivities,
    /// Clinicians, link workers, programme managers and practitioners: refer someone and
    /// follow the referrals they made.
    MakeReferrals,
    /// Link workers: work a caseload. Team membership checked by the service.
    WorkCaseload,
    /// Programme managers and practitioners: answer referrals to their organisation's
    /// activities. Relationship checked by the service.
    RespondToReferrals,
    /// Researchers: download pseudonymised evaluation datasets (consented people only).
    ExportEvaluationData,
    /// Link workers, practitioners and programme managers: enter wellbeing measures with a
    /// person or from paper. Relationship with the person checked by the service.
    RecordMeasures,
    /// Programme managers and co-researchers: draft co-designed instruments for their
    /// organisation (checked by the service). Panels may include any member of it.
    DesignInstruments,
    /// Practitioners and programme managers: plan and log sessions and take registers for
    /// their organisation's activities (organisation checked by the service).
    RunSessions,
    /// Commissioners, programme managers and researchers: see disclosure-controlled
    /// aggregates of people reached by small area (reach and equity, barriers, the counts on
    /// ward and LSOA profiles).
    ViewAreaAggregates,
}

impl Permission {
    /// The permissions whose routes open a person record or show people by name: referring
    /// (and the referrer's message back), the caseload and person pages, answering
    /// referrals, entering measures, and session registers.
    pub const PERSON_RECORDS: [Permission; 5] = [
        Permission::MakeReferrals,
        Permission::WorkCaseload,
        Permission::RespondToReferrals,
        Permission::RecordMeasures,
        Permission::RunSessions,
    ];

    /// Every permission.
    pub const ALL: [Permission; 17] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::ViewOrganisations,
        Permission::ViewOrganisationMembers,
        Permission::ManageOrganisations,
        Permission::ManageAccounts,
        Permission::ViewAudit,
        Permission::ViewOperations,
        Permission::ManageActivities,
        Permission::MakeReferrals,
        Permission::WorkCaseload,
        Permission::RespondToReferrals,
        Permission::ExportEvaluationData,
        Permission::RecordMeasures,
        Permission::DesignInstruments,
        Permission::RunSessions,
        Permission::ViewAreaAggregates,
    ];
}

/// The one mapping from roles to permissions. Default deny: anything not listed is refused.
pub fn allows(roles: &[Role], signed_in: bool, permission: Permission) -> bool {
    let has = |r: Role| roles.contains(&r);
    let staff = roles.iter().any(|r| r.is_staff());
    match permission {
        Permission::Public => true,
        Permission::SignedIn => signed_in,
        Permission::ViewOrganisations => signed_in && staff,
        Permission::ViewOrganisationMembers | Permission::ManageActivities => {
            signed_in && (has(Role::ProgrammeManager) || has(Role::Administrator))
        }
        Permission::ManageOrganisations
        | Permission::ManageAccounts
        | Permission::ViewAudit
        | Permission::ViewOperations => signed_in && has(Role::Administrator),
        Permission::MakeReferrals => {
            signed_in
                && (has(Role::Clinician)
                    || has(Role::LinkWorker)
                    || has(Role::ProgrammeManager)
                    || has(Role::Practitioner))
        }
        Permission::WorkCaseload => signed_in && has(Role::LinkWorker),
        Permission::RespondToReferrals => {
            signed_in && (has(Role::ProgrammeManager) || has(Role::Practitioner))
        }
        Permission::ExportEvaluationData => signed_in && has(Role::Researcher),
        Permission::RecordMeasures => {
            signed_in
                && (has(Role::LinkWorker) || has(Role::Practitioner) || has(Role::ProgrammeManager))
        }
        Permission::DesignInstruments => {
            signed_in && (has(Role::ProgrammeManager) || has(Role::CoResearcher))
        }
        Permission::RunSessions => {
            signed_in && (has(Role::Practitioner) || has(Role::ProgrammeManager))
        }
        Permission::ViewAreaAggregates => {
            signed_in
                && (has(Role::Commissioner) || has(Role::ProgrammeManager) || has(Role::Researcher))
        }
    }
}

/// A signed-in account as the policy sees it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Account id.
    pub user_id: String,
    /// Name to show.
    pub display_name: String,
    /// Sign-in email.
    pub email: String,
    /// (organisation id, organisation name, role) for each membership.
    pub memberships: Vec<(String, String, Role)>,
    /// Request id, for the audit trail.
    pub request_id: Option<String>,
    /// `web` or `api`.
    pub channel: &'static str,
}

impl Actor {
    /// Distinct roles across all memberships.
    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.memberships.iter().map(|m| m.2).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Does the actor hold this role anywhere?
    pub fn has_role(&self, role: Role) -> bool {
        self.memberships.iter().any(|m| m.2 == role)
    }

    /// Does the actor hold this role in this organisation?
    pub fn has_role_in(&self, organisation_id: &str, role: Role) -> bool {
        self.memberships
            .iter()
            .any(|m| m.0 == organisation_id && m.2 == role)
    }

    /// Any staff role?
    pub fn is_staff(&self) -> bool {
        self.memberships.iter().any(|m| m.2.is_staff())
    }

    /// The actor as the audit trail records it.
    pub fn audit(&self) -> crate::audit::AuditActor {
        crate::audit::AuditActor {
            user_id: Some(self.user_id.clone()),
            label: self.channel.into(),
            request_id: self.request_id.clone(),
        }
    }
}

impl From<&Actor> for crate::audit::AuditActor {
    fn from(actor: &Actor) -> Self {
        actor.audit()
    }
}

/// A permission as a type, so proofs can name it.
pub trait Perm: Send + Sync + 'static {
    /// The permission this type stands for.
    const PERMISSION: Permission;
}

macro_rules! perm_types {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Type-level form of [`Permission::", stringify!($name), "`].")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl Perm for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*
    };
}

/// Type-level permissions.
pub mod perm {
    use super::{Perm, Permission};
    perm_types!(
        SignedIn,
        ViewOrganisations,
        ViewOrganisationMembers,
        ManageOrganisations,
        ManageAccounts,
        ViewAudit,
        ViewOperations,
        ManageActivities,
        MakeReferrals,
        WorkCaseload,
        RespondToReferrals,
        ExportEvaluationData,
        RecordMeasures,
        DesignInstruments,
        RunSessions,
        ViewAreaAggregates,
    );
}

/// Proof that the policy granted `P` to this actor. Only [`Granted::check`] makes one.
#[derive(Debug, Clone)]
pub struct Granted<P: Perm> {
    actor: Actor,
    _perm: PhantomData<P>,
}

/// The policy said no.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("you do not have permission to do this")]
pub struct Denied;

impl<P: Perm> Granted<P> {
    /// Ask the policy.
    pub fn check(actor: &Actor) -> Result<Self, Denied> {
        if allows(&actor.roles(), true, P::PERMISSION) {
            Ok(Self {
                actor: actor.clone(),
                _perm: PhantomData,
            })
        } else {
            Err(Denied)
        }
    }

    /// Who was granted.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_care_roles_are_exactly_those_that_reach_person_records() {
        let care: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_care_role()).collect();
        assert_eq!(
            care,
            vec![
                Role::Practitioner,
                Role::LinkWorker,
                Role::Clinician,
                Role::ProgrammeManager
            ]
        );
        assert!(!Role::Administrator.is_care_role());
    }

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("superuser"), None);
    }

    #[test]
    fn anonymous_gets_only_public() {
        for p in Permission::ALL {
            assert_eq!(allows(&[], false, p), p == Permission::Public, "{p:?}");
        }
    }

    #[test]
    fn participant_is_not_staff_and_cannot_administer() {
        let r = [Role::Participant];
        assert!(allows(&r, true, Permission::SignedIn));
        assert!(!allows(&r, true, Permission::ViewOrganisations));
        assert!(!allows(&r, true, Permission::ManageAccounts));
        assert!(!allows(&r, true, Permission::ViewAudit));
    }

    #[test]
    fn only_administrators_manage() {
        for role in Role::ALL {
            assert_eq!(
                allows(&[role], true, Permission::ManageAccounts),
                role == Role::Administrator
            );
        }
    }
}
