-- Practitioner toolkit (issue 6), first part: sessions of an activity with their plan and
-- three-part log (optimistic concurrency by version; every saved version kept in
-- session_revisions), co-facilitators, reusable plan templates, and the session register.
-- Kept column-for-column identical to the other backend's file (BIGINT here).

CREATE TABLE practice_sessions (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    venue TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    cancel_reason TEXT NOT NULL DEFAULT '',
    lead_user_id TEXT NOT NULL REFERENCES users (id),
    aims TEXT NOT NULL DEFAULT '',
    musical_activities TEXT NOT NULL DEFAULT '',
    adaptations TEXT NOT NULL DEFAULT '',
    risks TEXT NOT NULL DEFAULT '',
    materials TEXT NOT NULL DEFAULT '',
    plan_version BIGINT NOT NULL DEFAULT 0,
    log_what_happened TEXT NOT NULL DEFAULT '',
    log_engagement TEXT NOT NULL DEFAULT '',
    log_moments TEXT NOT NULL DEFAULT '',
    log_debrief TEXT NOT NULL DEFAULT '',
    log_next_time TEXT NOT NULL DEFAULT '',
    log_version BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX practice_sessions_activity_idx ON practice_sessions (activity_id, starts_at);
CREATE INDEX practice_sessions_organisation_idx ON practice_sessions (organisation_id, starts_at);
CREATE INDEX practice_sessions_lead_idx ON practice_sessions (lead_user_id);
CREATE INDEX practice_sessions_created_by_idx ON practice_sessions (created_by);

CREATE TABLE session_facilitators (
    session_id TEXT NOT NULL REFERENCES practice_sessions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_facilitators_user_idx ON session_facilitators (user_id);

-- Every saved version of a plan or log, and every register change.
CREATE TABLE session_revisions (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES practice_sessions (id),
    part TEXT NOT NULL,
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    changed_by TEXT NOT NULL REFERENCES users (id),
    changed_at BIGINT NOT NULL
);
CREATE INDEX session_revisions_session_idx ON session_revisions (session_id, part, version);
CREATE INDEX session_revisions_changed_by_idx ON session_revisions (changed_by);

CREATE TABLE plan_templates (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    aims TEXT NOT NULL DEFAULT '',
    musical_activities TEXT NOT NULL DEFAULT '',
    adaptations TEXT NOT NULL DEFAULT '',
    risks TEXT NOT NULL DEFAULT '',
    materials TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX plan_templates_organisation_idx ON plan_templates (organisation_id, name);
CREATE INDEX plan_templates_created_by_idx ON plan_templates (created_by);

-- One row per person on a session's register: a referred person (referral_id) or a
-- walk-in or regular member (name only).
CREATE TABLE register_entries (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES practice_sessions (id),
    referral_id TEXT REFERENCES referrals (id),
    walk_in_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL,
    UNIQUE (session_id, referral_id)
);
CREATE INDEX register_entries_referral_idx ON register_entries (referral_id);
CREATE INDEX register_entries_recorded_by_idx ON register_entries (recorded_by);
