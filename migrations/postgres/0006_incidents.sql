-- Practitioner toolkit (issue 6), second part: the named clinical and safeguarding leads of a
-- programme (an activity), and the incident and safeguarding log with its follow-ups.
-- Kept column-for-column identical to the other backend's file (BIGINT here).

CREATE TABLE programme_leads (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    named_by TEXT NOT NULL REFERENCES users (id),
    named_at BIGINT NOT NULL,
    PRIMARY KEY (activity_id, user_id, kind)
);
CREATE INDEX programme_leads_user_idx ON programme_leads (user_id);
CREATE INDEX programme_leads_named_by_idx ON programme_leads (named_by);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    session_id TEXT REFERENCES practice_sessions (id),
    activity_id TEXT NOT NULL REFERENCES activities (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    what_happened TEXT NOT NULL,
    immediate_action TEXT NOT NULL,
    status TEXT NOT NULL,
    reported_by TEXT NOT NULL REFERENCES users (id),
    reported_at BIGINT NOT NULL,
    escalated_at BIGINT,
    closed_by TEXT REFERENCES users (id),
    closed_at BIGINT,
    closure_note TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
CREATE INDEX incidents_activity_idx ON incidents (activity_id, reported_at);
CREATE INDEX incidents_organisation_idx ON incidents (organisation_id, status);
CREATE INDEX incidents_session_idx ON incidents (session_id);
CREATE INDEX incidents_reported_by_idx ON incidents (reported_by);
CREATE INDEX incidents_closed_by_idx ON incidents (closed_by);

CREATE TABLE incident_updates (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX incident_updates_incident_idx ON incident_updates (incident_id, at);
CREATE INDEX incident_updates_author_idx ON incident_updates (author_id);
