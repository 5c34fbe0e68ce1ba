-- Issue 14 (plain words, safeguarding follow-through). Kept identical to the other
-- backend's file.

-- accounts: each organisation's out-of-hours safeguarding route, shown after a concern is
-- recorded; blank means the default wording (`accounts::store::DEFAULT_OUT_OF_HOURS`).
ALTER TABLE organisations ADD COLUMN out_of_hours_route TEXT NOT NULL DEFAULT '';

-- practice: who was told about an incident when it was recorded, as a JSON list of
-- {"name", "role"} (names as the service knew them then).
ALTER TABLE incidents ADD COLUMN told TEXT NOT NULL DEFAULT '[]';
