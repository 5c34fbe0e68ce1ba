-- Programme upkeep (issue 15): the team can end every share link made so far (a link carries
-- the programme's link generation when it was made; ending links moves the generation on,
-- so older links are refused), and a voice can carry a short audio recording, stored like
-- its photo and deleted with it.
-- Kept column-for-column identical to the other backend's file.

ALTER TABLE programmes ADD COLUMN link_generation BIGINT NOT NULL DEFAULT 0;

CREATE TABLE programme_voice_audio (
    voice_id TEXT PRIMARY KEY REFERENCES programme_voices (id),
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    data BYTEA NOT NULL,
    added_at BIGINT NOT NULL
);
