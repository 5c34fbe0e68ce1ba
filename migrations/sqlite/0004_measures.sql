-- Measures (issue 5): co-designed instrument versions and their approval panels, licensed
-- wording overlays, programme measurement plans (core set and schedules), and completed
-- instruments stored per item with their computed scores. Built-in instruments live in the
-- code (crates/ensemble/src/modules/measures/builtin); every response records the version it
-- was collected with. Kept column-for-column identical to the other backend's file.

CREATE TABLE instrument_versions (
    instrument_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    submitted_at INTEGER,
    approved_at INTEGER,
    PRIMARY KEY (instrument_id, version)
);
CREATE INDEX instrument_versions_organisation_idx ON instrument_versions (organisation_id, status);
CREATE INDEX instrument_versions_created_by_idx ON instrument_versions (created_by);

CREATE TABLE instrument_panel (
    instrument_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    decision TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    decided_at INTEGER,
    PRIMARY KEY (instrument_id, version, user_id),
    FOREIGN KEY (instrument_id, version) REFERENCES instrument_versions (instrument_id, version)
);
CREATE INDEX instrument_panel_user_idx ON instrument_panel (user_id, decision);

CREATE TABLE instrument_overlays (
    id TEXT PRIMARY KEY,
    instrument_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    overlay TEXT NOT NULL,
    stand_in INTEGER NOT NULL DEFAULT 0,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at INTEGER NOT NULL,
    replaced_at INTEGER
);
CREATE INDEX instrument_overlays_lookup_idx ON instrument_overlays (organisation_id, instrument_id, version, replaced_at);
CREATE INDEX instrument_overlays_uploaded_by_idx ON instrument_overlays (uploaded_by);

-- What a programme (a directory activity) collects: its core set and when each is due.
CREATE TABLE measure_schedules (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    instrument_id TEXT NOT NULL,
    instrument_version INTEGER NOT NULL,
    core INTEGER NOT NULL DEFAULT 1,
    timepoint TEXT NOT NULL,
    anchor TEXT NOT NULL,
    weeks INTEGER NOT NULL DEFAULT 0,
    window_days INTEGER NOT NULL DEFAULT 14,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX measure_schedules_activity_idx ON measure_schedules (activity_id);
CREATE INDEX measure_schedules_created_by_idx ON measure_schedules (created_by);

CREATE TABLE measure_responses (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    referral_id TEXT REFERENCES referrals (id),
    schedule_id TEXT REFERENCES measure_schedules (id),
    instrument_id TEXT NOT NULL,
    instrument_version INTEGER NOT NULL,
    overlay_id TEXT REFERENCES instrument_overlays (id),
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    double_entry INTEGER NOT NULL DEFAULT 0,
    easy_read INTEGER NOT NULL DEFAULT 0,
    one_per_page INTEGER NOT NULL DEFAULT 0,
    entered_by TEXT REFERENCES users (id),
    second_entry_by TEXT REFERENCES users (id),
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX measure_responses_person_idx ON measure_responses (person_id, instrument_id, completed_at);
CREATE INDEX measure_responses_referral_idx ON measure_responses (referral_id);
CREATE INDEX measure_responses_schedule_idx ON measure_responses (schedule_id);
CREATE INDEX measure_responses_overlay_idx ON measure_responses (overlay_id);
CREATE INDEX measure_responses_entered_by_idx ON measure_responses (entered_by);
CREATE INDEX measure_responses_second_entry_by_idx ON measure_responses (second_entry_by);

-- entry 1 is the answer; entry 2 the independent second keying of a paper form.
CREATE TABLE measure_answers (
    response_id TEXT NOT NULL REFERENCES measure_responses (id),
    item_id TEXT NOT NULL,
    entry INTEGER NOT NULL DEFAULT 1,
    value REAL,
    text_value TEXT,
    PRIMARY KEY (response_id, item_id, entry)
);

CREATE TABLE measure_scores (
    response_id TEXT NOT NULL REFERENCES measure_responses (id),
    score_id TEXT NOT NULL,
    value REAL NOT NULL,
    band TEXT,
    PRIMARY KEY (response_id, score_id)
);
