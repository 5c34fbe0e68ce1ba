-- Evaluation and evidence (issue 17, capability C8).
--
-- Budget lines a programme manager enters for a programme (what it cost, over which dates,
-- and which organisation paid: a commissioner of a funding organisation may open the
-- programme's disclosure-controlled report), the unit costs of health-service use an
-- administrator enters with their source and price year, and the pre-aggregated figures
-- reports are drawn from: one snapshot per programme of counts and of (first, latest)
-- result pairs counted by value (never a person id), rebuilt by the job
-- `evaluation_refresh`, and each programme's change per score for comparisons.
CREATE TABLE evaluation_budget_lines (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    funder_organisation_id TEXT REFERENCES organisations (id),
    description TEXT NOT NULL,
    amount_pence INTEGER NOT NULL CHECK (amount_pence > 0),
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX evaluation_budget_lines_programme_idx ON evaluation_budget_lines (programme_id, starts_on);
CREATE INDEX evaluation_budget_lines_funder_idx ON evaluation_budget_lines (funder_organisation_id);
CREATE INDEX evaluation_budget_lines_created_by_idx ON evaluation_budget_lines (created_by);

CREATE TABLE evaluation_unit_costs (
    item TEXT PRIMARY KEY,
    cost_pence INTEGER NOT NULL CHECK (cost_pence > 0),
    source TEXT NOT NULL,
    price_year INTEGER NOT NULL CHECK (price_year BETWEEN 2000 AND 2100),
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at INTEGER NOT NULL
);
CREATE INDEX evaluation_unit_costs_updated_by_idx ON evaluation_unit_costs (updated_by);

CREATE TABLE evaluation_snapshots (
    programme_id TEXT PRIMARY KEY REFERENCES programmes (id),
    figures TEXT NOT NULL,
    people INTEGER NOT NULL,
    refreshed_at INTEGER NOT NULL,
    took_ms INTEGER NOT NULL
);

CREATE TABLE evaluation_score_changes (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    instrument_id TEXT NOT NULL,
    instrument_version INTEGER NOT NULL,
    score_id TEXT NOT NULL,
    people INTEGER NOT NULL,
    mean_change REAL NOT NULL,
    refreshed_at INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, instrument_version, score_id, programme_id)
);
CREATE INDEX evaluation_score_changes_programme_idx ON evaluation_score_changes (programme_id);

-- When evaluation consent was last withdrawn (or refused), so a report drawn from a
-- snapshot older than that is recomputed before it is shown.
CREATE INDEX person_consents_decided_idx ON person_consents (purpose, decision, decided_at);
DROP VIEW people_current_consents;
CREATE VIEW people_current_consents AS
    SELECT person_id, purpose, decision, decided_at FROM person_consents;
