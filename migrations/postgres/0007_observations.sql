-- Practitioner toolkit (issue 6): observation scales completed for a session (defined with
-- the measures engine; answers and scores kept with the instrument version).
-- Kept column-for-column identical to the other backend's file (BIGINT here).

CREATE TABLE session_observations (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES practice_sessions (id),
    instrument_id TEXT NOT NULL,
    instrument_version BIGINT NOT NULL,
    answers TEXT NOT NULL,
    scores TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX session_observations_session_idx ON session_observations (session_id, recorded_at);
CREATE INDEX session_observations_recorded_by_idx ON session_observations (recorded_by);
