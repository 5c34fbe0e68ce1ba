-- Programmes, voices and "you said, we did" (issue 15): a programme is a partnership of
-- organisations with its activities and members (each with a stated role); members share
-- voices (stories, feedback, moments that mattered) with a chosen visibility; the team turns
-- voices into actions whose progress reaches the people who spoke.
-- Kept column-for-column identical to the other backend's file (BIGINT here).

CREATE TABLE programmes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    lead_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX programmes_name_idx ON programmes (lower(name));
CREATE INDEX programmes_lead_idx ON programmes (lead_organisation_id);
CREATE INDEX programmes_created_by_idx ON programmes (created_by);

CREATE TABLE programme_partners (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    part TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (programme_id, organisation_id)
);
CREATE INDEX programme_partners_organisation_idx ON programme_partners (organisation_id);

CREATE TABLE programme_activities (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    activity_id TEXT NOT NULL REFERENCES activities (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (programme_id, activity_id)
);
CREATE INDEX programme_activities_activity_idx ON programme_activities (activity_id);

CREATE TABLE programme_members (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('responsible', 'consulted', 'informed')),
    capacity TEXT NOT NULL CHECK (capacity IN ('staff', 'participant', 'co_researcher')),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (programme_id, user_id)
);
CREATE INDEX programme_members_user_idx ON programme_members (user_id);

CREATE TABLE programme_voices (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    author_id TEXT REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('story', 'feedback', 'moment')),
    body TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('team', 'members', 'public')),
    moderation TEXT NOT NULL CHECK (moderation IN ('not_needed', 'waiting', 'approved', 'declined')),
    moderated_by TEXT REFERENCES users (id),
    moderated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX programme_voices_programme_idx ON programme_voices (programme_id, created_at);
CREATE INDEX programme_voices_author_idx ON programme_voices (author_id);
CREATE INDEX programme_voices_moderated_by_idx ON programme_voices (moderated_by);

CREATE TABLE programme_actions (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    due_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'not_doing')),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX programme_actions_programme_idx ON programme_actions (programme_id, created_at);
CREATE INDEX programme_actions_owner_idx ON programme_actions (owner_id);
CREATE INDEX programme_actions_created_by_idx ON programme_actions (created_by);

CREATE TABLE programme_action_voices (
    action_id TEXT NOT NULL REFERENCES programme_actions (id),
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    PRIMARY KEY (action_id, voice_id)
);
CREATE INDEX programme_action_voices_voice_idx ON programme_action_voices (voice_id);

CREATE TABLE programme_action_updates (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES programme_actions (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX programme_action_updates_action_idx ON programme_action_updates (action_id, created_at);
CREATE INDEX programme_action_updates_author_idx ON programme_action_updates (author_id);

CREATE TABLE programme_action_replies (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES programme_actions (id),
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX programme_action_replies_action_idx ON programme_action_replies (action_id, created_at);
CREATE INDEX programme_action_replies_voice_idx ON programme_action_replies (voice_id);
CREATE INDEX programme_action_replies_author_idx ON programme_action_replies (author_id);

CREATE TABLE programme_notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    action_id TEXT NOT NULL REFERENCES programme_actions (id),
    update_id TEXT NOT NULL REFERENCES programme_action_updates (id),
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX programme_notifications_user_idx ON programme_notifications (user_id, created_at);
CREATE INDEX programme_notifications_voice_idx ON programme_notifications (voice_id);
CREATE INDEX programme_notifications_action_idx ON programme_notifications (action_id);
CREATE INDEX programme_notifications_update_idx ON programme_notifications (update_id);

CREATE TABLE programme_voice_photos (
    voice_id TEXT PRIMARY KEY REFERENCES programme_voices (id),
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    data BYTEA NOT NULL,
    added_at BIGINT NOT NULL
);
