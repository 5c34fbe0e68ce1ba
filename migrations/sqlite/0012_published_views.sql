-- Published read views (issue 12): what a module lets other modules read of its tables,
-- column by column. A module reads another module's data through that module's named
-- functions or through one of these views, never through its tables. Each view is
-- declared by the manifest of the module that owns its tables (`Manifest::views`), is
-- named after that module, and reads only that module's tables, never a private one
-- (checked by `arch`). Views are plain projections, with no filter or join, so both
-- databases fold them into the query that names them: they cost nothing at run time.
-- Kept identical to the other backend's file.

-- accounts: names of accounts and organisations, and who holds which role where.
CREATE VIEW accounts_user_names AS
    SELECT id, display_name, disabled_at FROM users;
CREATE VIEW accounts_organisation_profiles AS
    SELECT id, name, description, website, archived_at FROM organisations;
CREATE VIEW accounts_member_roles AS
    SELECT user_id, organisation_id, role FROM memberships;

-- places: local authority names and centroids of LSOAs.
CREATE VIEW places_lsoa_areas AS
    SELECT code, lad_name, latitude, longitude FROM places_lsoas;

-- directory: which organisation runs an activity, its name and whether it is listed.
CREATE VIEW directory_activity_names AS
    SELECT id, organisation_id, name, status FROM activities;

-- people: a person record's team and linked account (never identity), and current consents.
CREATE VIEW people_person_accounts AS
    SELECT id, team_organisation_id, user_id, created_at FROM people;
CREATE VIEW people_current_consents AS
    SELECT person_id, purpose, decision FROM person_consents;

-- referrals: where a referral stands, and attendance and barriers for due lists and datasets.
CREATE VIEW referrals_case_summaries AS
    SELECT id, person_id, activity_id, source, status, provider_status, assigned_to,
           created_at, first_contact_at, closed_at
    FROM referrals;
CREATE VIEW referrals_attendance_marks AS
    SELECT id, referral_id, session_date, status FROM referral_attendance;
CREATE VIEW referrals_barrier_actions AS
    SELECT id, referral_id, barrier, action, created_at FROM referral_barriers;

-- measures: completed responses and their scores, for datasets.
CREATE VIEW measures_response_summaries AS
    SELECT id, person_id, referral_id, instrument_id, instrument_version, mode, status,
           completed_at
    FROM measure_responses;
CREATE VIEW measures_score_values AS
    SELECT response_id, score_id, value, band FROM measure_scores;
