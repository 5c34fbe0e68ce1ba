-- Programme upkeep (issue 15): the team can end every share link made so far (a link carries
-- the programme's link generation when it was made; ending links moves the generation on,
-- so older links are refused); a voice can carry a short audio recording, stored like its
-- photo and deleted with it; and a practitioner can record a voice on a participant's
-- behalf, with their consent to share stories: `person_id` is the participant's
-- pseudonymous person id (no foreign key, so erasing the person is never blocked: the voice
-- is hidden at once when the consent is gone, and deleted by the hourly sweep) and
-- `recorded_by` the practitioner.
-- Kept column-for-column identical to the other backend's file.

ALTER TABLE programmes ADD COLUMN link_generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE programme_voice_audio (
    voice_id TEXT PRIMARY KEY REFERENCES programme_voices (id),
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    data BLOB NOT NULL,
    added_at INTEGER NOT NULL
);

ALTER TABLE programme_voices ADD COLUMN person_id TEXT;
ALTER TABLE programme_voices ADD COLUMN recorded_by TEXT REFERENCES users (id);
CREATE INDEX programme_voices_person_idx ON programme_voices (person_id);
CREATE INDEX programme_voices_recorded_by_idx ON programme_voices (recorded_by);
