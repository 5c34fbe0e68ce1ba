-- Outcomes by small area (issue 16 item 2): for each small area of each edition and each
-- score of each instrument, the consenting people living there with a first and a later
-- completed result, and the sum and sum of squares of their change (latest − first), so a
-- ward's or district's mean change and its confidence interval are sums over its small
-- areas. Rebuilt whole by the hourly job `areas_outcome_refresh`; no person ids.
CREATE TABLE area_outcomes (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    lsoa_code TEXT NOT NULL,
    instrument_id TEXT NOT NULL,
    score_id TEXT NOT NULL,
    people INTEGER NOT NULL,
    sum_change REAL NOT NULL,
    sum_sq_change REAL NOT NULL,
    refreshed_at INTEGER NOT NULL,
    PRIMARY KEY (edition, lsoa_code, instrument_id, score_id)
);
