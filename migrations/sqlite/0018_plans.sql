-- Plans, updates and the Atom feed (issue 15, item 5): each programme's plan is kept as
-- numbered revisions (title and plain text, who saved it, when and why); members post
-- updates (members only, or public) and comment on them.
-- Kept column-for-column identical to the other backend's file.

-- One row per save of a programme's plan; the highest number is the current plan. The
-- unique (programme, number) pair is what refuses a save based on an older revision when
-- two people save at once.
CREATE TABLE programme_plan_revisions (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX programme_plan_revisions_number_idx ON programme_plan_revisions (programme_id, number);
CREATE INDEX programme_plan_revisions_author_idx ON programme_plan_revisions (author_id);

-- News a member posts to the programme.
CREATE TABLE programme_updates (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('members', 'public')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX programme_updates_programme_idx ON programme_updates (programme_id, created_at);
CREATE INDEX programme_updates_author_idx ON programme_updates (author_id);

-- Members' comments on an update (members only, whatever the update's visibility).
CREATE TABLE programme_update_comments (
    id TEXT PRIMARY KEY,
    update_id TEXT NOT NULL REFERENCES programme_updates (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX programme_update_comments_update_idx ON programme_update_comments (update_id, created_at);
CREATE INDEX programme_update_comments_author_idx ON programme_update_comments (author_id);
