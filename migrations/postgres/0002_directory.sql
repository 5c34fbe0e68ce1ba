-- Directory and places (issue 3): open-data postcodes and small-area centroids; creative
-- health activities with locations, schedules, taxonomy terms and practitioner profiles,
-- shaped so that they map directly onto Open Referral UK 3.0 services.
-- Kept column-for-column identical to the other backend's 0002_directory.sql (a test checks).

CREATE TABLE places_postcodes (
    postcode TEXT PRIMARY KEY,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    lsoa_code TEXT,
    lad_code TEXT,
    lad_name TEXT
);

CREATE TABLE places_lsoas (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    lad_code TEXT,
    lad_name TEXT,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL
);

CREATE TABLE taxonomies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    uri TEXT,
    version TEXT
);

CREATE TABLE taxonomy_terms (
    id TEXT PRIMARY KEY,
    taxonomy_id TEXT NOT NULL REFERENCES taxonomies (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    parent_id TEXT REFERENCES taxonomy_terms (id),
    UNIQUE (taxonomy_id, code)
);
CREATE INDEX taxonomy_terms_parent_idx ON taxonomy_terms (parent_id);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    first_visit TEXT NOT NULL DEFAULT '',
    eligibility TEXT NOT NULL DEFAULT '',
    minimum_age BIGINT,
    maximum_age BIGINT,
    how_to_join TEXT NOT NULL,
    capacity BIGINT,
    waiting_list BIGINT NOT NULL DEFAULT 0,
    cost TEXT NOT NULL,
    cost_amount DOUBLE PRECISION,
    bursary BIGINT NOT NULL DEFAULT 0,
    access_features TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    online BIGINT NOT NULL DEFAULT 0,
    online_url TEXT,
    url TEXT,
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    status TEXT NOT NULL,
    last_reviewed_at BIGINT,
    reviewed_by TEXT REFERENCES users (id),
    source TEXT,
    source_id TEXT,
    source_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX activities_organisation_idx ON activities (organisation_id);
CREATE INDEX activities_reviewed_by_idx ON activities (reviewed_by);
CREATE INDEX activities_status_idx ON activities (status);

CREATE TABLE activity_terms (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    term_id TEXT NOT NULL REFERENCES taxonomy_terms (id),
    PRIMARY KEY (activity_id, term_id)
);
CREATE INDEX activity_terms_term_idx ON activity_terms (term_id);

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address_1 TEXT NOT NULL,
    city TEXT NOT NULL,
    postcode TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    lsoa_code TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX locations_position_idx ON locations (latitude, longitude);

-- latitude/longitude/listed copy the venue's position and whether the activity is listed
-- (active, organisation not archived), kept up to date by the directory service in the same
-- transaction, so that a distance search reads one covering index.
CREATE TABLE activity_locations (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    listed BIGINT NOT NULL DEFAULT 1,
    UNIQUE (activity_id, location_id)
);
CREATE INDEX activity_locations_location_idx ON activity_locations (location_id);
CREATE INDEX activity_locations_position_idx ON activity_locations (latitude, longitude, listed, activity_id, id);

CREATE TABLE schedules (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    freq TEXT NOT NULL,
    byday TEXT NOT NULL DEFAULT '',
    dtstart TEXT,
    valid_from TEXT,
    valid_to TEXT,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);
CREATE INDEX schedules_activity_idx ON schedules (activity_id);

CREATE TABLE practitioner_profiles (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    public BIGINT NOT NULL DEFAULT 0,
    bio TEXT NOT NULL DEFAULT '',
    skills TEXT NOT NULL DEFAULT '',
    instruments TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

CREATE TABLE activity_practitioners (
    activity_id TEXT NOT NULL REFERENCES activities (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (activity_id, user_id)
);
CREATE INDEX activity_practitioners_user_idx ON activity_practitioners (user_id);

-- The Ensemble taxonomy of creative activity types (fixed ids so feeds stay stable).
INSERT INTO taxonomies (id, name, description, uri, version) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'Ensemble creative activity types', 'Kinds of creative health activity listed in Ensemble.', 'https://ensemble.invalid/taxonomy/activity-types', '1');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7100', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'music_group', 'Music group', 'A regular group making music together.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7101', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'choir', 'Choir or singing group', 'Singing together, no auditions.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7102', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'songwriting', 'Songwriting', 'Writing and recording songs together.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7103', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'drumming', 'Drumming and percussion', 'Drumming circles and percussion groups.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7104', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'instrument_learning', 'Learning an instrument', 'Learning to play an instrument, from scratch.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7105', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'listening_group', 'Listening group', 'Listening to and talking about music.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7106', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'music_performance', 'Performance and concerts', 'Concerts and chances to perform.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7107', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'visual_art', 'Visual art', 'Drawing, painting and making.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7108', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'creative_writing', 'Creative writing', 'Writing stories, poems and lyrics.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7109', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'dance_movement', 'Dance and movement', 'Moving to music, at your own pace.');
INSERT INTO taxonomy_terms (id, taxonomy_id, code, name, description) VALUES ('0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7110', '0f5a8c6e-3d1b-4e7a-9c2f-5b8d1e4a7c01', 'other_creative', 'Other creative activity', 'Any other creative activity.');
