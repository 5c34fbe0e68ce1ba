-- Practitioner toolkit (issue 6): a private reflective journal for each practitioner, and
-- supervision records shared only between the practitioner and their supervisor.
-- Kept column-for-column identical to the other backend's file.

CREATE TABLE journal_entries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX journal_entries_user_idx ON journal_entries (user_id, created_at);

CREATE TABLE supervision_records (
    id TEXT PRIMARY KEY,
    practitioner_id TEXT NOT NULL REFERENCES users (id),
    supervisor_id TEXT NOT NULL REFERENCES users (id),
    met_on TEXT NOT NULL,
    themes TEXT NOT NULL,
    actions TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX supervision_records_practitioner_idx ON supervision_records (practitioner_id, met_on);
CREATE INDEX supervision_records_supervisor_idx ON supervision_records (supervisor_id, met_on);
CREATE INDEX supervision_records_created_by_idx ON supervision_records (created_by);
