-- Co-analysis themes: each programme's list of themes, and which themes each coder (a
-- member of the programme team or a co-researcher) applied to each voice.

CREATE TABLE programme_themes (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    retired_at BIGINT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX programme_themes_programme_idx ON programme_themes (programme_id);

-- One row per voice a coder has coded (even with no theme ticked), so agreement is
-- computed over the voices both people actually coded.
CREATE TABLE programme_voice_codings (
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    coder_id TEXT NOT NULL REFERENCES users (id),
    coded_at BIGINT NOT NULL,
    PRIMARY KEY (voice_id, coder_id)
);
CREATE INDEX programme_voice_codings_coder_idx ON programme_voice_codings (coder_id);

-- A theme a coder applied to a voice, and when.
CREATE TABLE programme_voice_themes (
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    coder_id TEXT NOT NULL REFERENCES users (id),
    theme_id TEXT NOT NULL REFERENCES programme_themes (id),
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (voice_id, coder_id, theme_id)
);
CREATE INDEX programme_voice_themes_theme_idx ON programme_voice_themes (theme_id);
