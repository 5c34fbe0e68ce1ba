-- Issue 14 item 3 (search and the map on a phone). Kept identical to the other backend's
-- file apart from type names.

-- directory: who an activity is open to. 'public' activities are found by search, shown on
-- the map and published in the Open Referral UK feed; 'ward' (people staying on a ward) and
-- 'closed' (a closed group, by referral only) are shown only to signed-in staff.
ALTER TABLE activities ADD COLUMN audience TEXT NOT NULL DEFAULT 'public';

-- places: boundaries for drawing the map, imported from ONS GeoJSON by
-- `ensemble opendata import`: wards ('ward'), districts dissolved from their wards
-- ('district') and the city-region outline ('region'). `rings` is a JSON list of rings, each
-- a list of [longitude, latitude] pairs (WGS84), lightly simplified; the box and the label
-- point (a point inside the area) let the map choose what is in view without parsing.
CREATE TABLE places_boundaries (
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_code TEXT,
    label_latitude REAL NOT NULL,
    label_longitude REAL NOT NULL,
    min_latitude REAL NOT NULL,
    min_longitude REAL NOT NULL,
    max_latitude REAL NOT NULL,
    max_longitude REAL NOT NULL,
    rings TEXT NOT NULL,
    PRIMARY KEY (kind, code)
);
