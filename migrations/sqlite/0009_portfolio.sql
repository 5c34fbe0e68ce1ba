-- Practitioner toolkit (issue 6), second part: a versioned competency framework that an
-- organisation co-creates with its practitioners, and each practitioner's CPD portfolio
-- (evidence linked to competencies, training certificates, self / peer / supervisor
-- assessment); observations about one participant; moments linked to a participant;
-- register mark counts per session; regular members of an activity.
-- Kept column-for-column identical to the other backend's file.

CREATE TABLE competency_frameworks (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'retired')),
    change_note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    published_by TEXT REFERENCES users (id),
    published_at INTEGER,
    UNIQUE (organisation_id, version)
);
CREATE INDEX competency_frameworks_created_by_idx ON competency_frameworks (created_by);
CREATE INDEX competency_frameworks_published_by_idx ON competency_frameworks (published_by);

CREATE TABLE competencies (
    id TEXT PRIMARY KEY,
    framework_id TEXT NOT NULL REFERENCES competency_frameworks (id),
    code TEXT NOT NULL,
    domain TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    UNIQUE (framework_id, code)
);

CREATE TABLE competency_framework_contributors (
    framework_id TEXT NOT NULL REFERENCES competency_frameworks (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    first_at INTEGER NOT NULL,
    PRIMARY KEY (framework_id, user_id)
);
CREATE INDEX competency_framework_contributors_user_idx ON competency_framework_contributors (user_id);

CREATE TABLE certificates (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX certificates_user_idx ON certificates (user_id);

CREATE TABLE portfolio_evidence (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('session', 'reflection', 'supervision', 'training', 'peer_observation')),
    title TEXT NOT NULL,
    occurred_on TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    source_id TEXT,
    hours REAL,
    certificate_id TEXT REFERENCES certificates (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX portfolio_evidence_user_idx ON portfolio_evidence (user_id, occurred_on);
CREATE INDEX portfolio_evidence_certificate_idx ON portfolio_evidence (certificate_id);
CREATE INDEX portfolio_evidence_organisation_idx ON portfolio_evidence (organisation_id);

CREATE TABLE portfolio_evidence_competencies (
    evidence_id TEXT NOT NULL REFERENCES portfolio_evidence (id),
    competency_code TEXT NOT NULL,
    PRIMARY KEY (evidence_id, competency_code)
);

CREATE TABLE competency_assessments (
    id TEXT PRIMARY KEY,
    practitioner_id TEXT NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    competency_code TEXT NOT NULL,
    framework_version INTEGER NOT NULL,
    assessor_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('self', 'peer', 'supervisor')),
    status TEXT NOT NULL CHECK (status IN ('requested', 'given', 'declined')),
    level INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    requested_at INTEGER NOT NULL,
    given_at INTEGER
);
CREATE INDEX competency_assessments_practitioner_idx ON competency_assessments (practitioner_id, competency_code);
CREATE INDEX competency_assessments_assessor_idx ON competency_assessments (assessor_id, status);
CREATE INDEX competency_assessments_organisation_idx ON competency_assessments (organisation_id);

ALTER TABLE session_observations ADD COLUMN person_id TEXT REFERENCES people (id);
CREATE INDEX session_observations_person_idx ON session_observations (person_id);

CREATE TABLE session_moments (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES practice_sessions (id),
    person_id TEXT NOT NULL REFERENCES people (id),
    moment TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX session_moments_session_idx ON session_moments (session_id);
CREATE INDEX session_moments_person_idx ON session_moments (person_id);
CREATE INDEX session_moments_recorded_by_idx ON session_moments (recorded_by);

-- Register marks counted per session, kept by every register change (the practice summary
-- sums these instead of scanning every mark), filled here for existing sessions.
ALTER TABLE practice_sessions ADD COLUMN marks_present INTEGER NOT NULL DEFAULT 0;
ALTER TABLE practice_sessions ADD COLUMN marks_late INTEGER NOT NULL DEFAULT 0;
ALTER TABLE practice_sessions ADD COLUMN marks_left_early INTEGER NOT NULL DEFAULT 0;
ALTER TABLE practice_sessions ADD COLUMN marks_absent INTEGER NOT NULL DEFAULT 0;
UPDATE practice_sessions SET
    marks_present = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'present'),
    marks_late = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'late'),
    marks_left_early = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'left_early'),
    marks_absent = (SELECT COUNT(*) FROM register_entries e WHERE e.session_id = practice_sessions.id AND e.status = 'absent');

-- Regular members of an activity who were not referred (first name only): expected on
-- every session's register until they stop coming.
CREATE TABLE activity_members (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    name TEXT NOT NULL,
    added_by TEXT NOT NULL REFERENCES users (id),
    added_at INTEGER NOT NULL,
    left_at INTEGER
);
CREATE INDEX activity_members_activity_idx ON activity_members (activity_id);
CREATE INDEX activity_members_added_by_idx ON activity_members (added_by);
ALTER TABLE register_entries ADD COLUMN member_id TEXT REFERENCES activity_members (id);
CREATE UNIQUE INDEX register_entries_session_member_idx ON register_entries (session_id, member_id);
CREATE INDEX register_entries_member_idx ON register_entries (member_id);
