-- Issue 13, security: wrong two-step codes are counted in the database (so a restart or a
-- second instance does not reset them), and care roles wait for a second administrator.

-- Wrong TOTP or recovery codes: per account, in a window that starts at the first failure,
-- and the time until which the second factor is locked.
ALTER TABLE users ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_failures_since INTEGER;
ALTER TABLE users ADD COLUMN mfa_locked_until INTEGER;

-- Wrong codes entered in one half-signed-in session.
ALTER TABLE sessions ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;

-- A role that reaches person records, asked for by one administrator and given only when
-- a different one approves it before it expires. status: pending, approved, refused.
CREATE TABLE role_grants (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at INTEGER,
    invitation_id TEXT REFERENCES invitations (id)
);
CREATE INDEX role_grants_user_idx ON role_grants (user_id);
CREATE INDEX role_grants_organisation_idx ON role_grants (organisation_id);
CREATE INDEX role_grants_requested_by_idx ON role_grants (requested_by);
CREATE INDEX role_grants_decided_by_idx ON role_grants (decided_by);
CREATE INDEX role_grants_invitation_idx ON role_grants (invitation_id);
CREATE INDEX role_grants_status_idx ON role_grants (status, requested_at);
