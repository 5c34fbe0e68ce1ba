-- Reach and equity (areas): which programmes an activity belongs to, so reach can be
-- filtered by programme. A person's small area and recorded characteristics stay in the
-- private identity table and reach the areas module only through
-- `people::area_facts::consenting` (never a view).
CREATE VIEW programmes_activity_links AS
    SELECT programme_id, activity_id FROM programme_activities;
