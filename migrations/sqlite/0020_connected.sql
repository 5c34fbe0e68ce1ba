-- Staying connected (issue 15, item 7): each person's notification settings, the weekly
-- digests already sent (one per person per week, so the job never sends twice), and the
-- indexes the per-person feed reads newest first.
-- Kept column-for-column identical to the other backend's file.

CREATE TABLE programme_notification_settings (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    progress_email INTEGER NOT NULL CHECK (progress_email IN (0, 1)),
    digest INTEGER NOT NULL CHECK (digest IN (0, 1)),
    updated_at INTEGER NOT NULL
);

CREATE TABLE programme_digest_sends (
    user_id TEXT NOT NULL REFERENCES users (id),
    week_of TEXT NOT NULL,
    items INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, week_of)
);

CREATE INDEX programme_voices_feed_idx ON programme_voices (programme_id, created_at, id);
CREATE INDEX programme_action_updates_created_idx ON programme_action_updates (created_at, id);
CREATE INDEX programme_action_replies_created_idx ON programme_action_replies (created_at, id);
CREATE INDEX programme_actions_board_idx ON programme_actions (programme_id, due_on, id);
