-- Reach aggregates (areas): counts of consenting people's referrals and attendance by small
-- area and by deprivation decile, rebuilt by the `areas_refresh_aggregates` job (every ten
-- minutes, at start-up and after demo seeding) so that the reach table and the area
-- profiles never scan the referrals. Counts only, never a person id; stored exact, and
-- disclosure control is applied when they are read, never here.

-- Per edition and small area of that edition: referrals, participants (distinct people who
-- attended at least once) and sessions attended. Each person lives in one small area, so
-- ward and district figures are sums of these rows.
CREATE TABLE area_reach_lsoas (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    lsoa_code TEXT NOT NULL,
    referrals INTEGER NOT NULL,
    participants INTEGER NOT NULL,
    sessions_attended INTEGER NOT NULL,
    PRIMARY KEY (edition, lsoa_code)
);

-- Per edition, scope (all referrals, one activity, one organisation, one programme, or one
-- organisation within one programme), district and national IMD decile of the person's
-- small area (district '' and decile 0: no known small area of the edition), and group of
-- a breakdown ('none' with group '', or age, sex, ethnicity with the group's label).
CREATE TABLE area_reach_cells (
    edition INTEGER NOT NULL CHECK (edition IN (2019, 2025)),
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('all', 'activity', 'organisation', 'programme', 'organisation_programme')),
    scope_id TEXT NOT NULL,
    district_code TEXT NOT NULL,
    decile INTEGER NOT NULL,
    breakdown TEXT NOT NULL CHECK (breakdown IN ('none', 'age', 'sex', 'ethnicity')),
    group_label TEXT NOT NULL,
    referrals INTEGER NOT NULL,
    participants INTEGER NOT NULL,
    PRIMARY KEY (edition, scope_kind, scope_id, breakdown, district_code, decile, group_label)
);

-- When the aggregates were last rebuilt (one row), how long it took and what it counted.
CREATE TABLE area_reach_refreshes (
    name TEXT PRIMARY KEY,
    refreshed_at INTEGER NOT NULL,
    took_ms INTEGER NOT NULL,
    people INTEGER NOT NULL,
    referrals INTEGER NOT NULL,
    cells INTEGER NOT NULL
);

-- The wards of a district (district pages, the reach map): without it every district page
-- read all of an edition's ward rows.
CREATE INDEX area_lsoa_wards_district_idx ON area_lsoa_wards (edition, district_code);
