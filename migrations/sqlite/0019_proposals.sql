-- Proposals, the decision panel and the decisions log: members propose (a research
-- question, a new measure, a change to an activity); members comment and support; a panel
-- that includes people with lived experience decides; every decision (from a proposal or
-- logged directly) keeps its reasons, who took part and links to the voices, proposals and
-- actions behind it.

CREATE TABLE programme_panel_members (
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    added_by TEXT NOT NULL REFERENCES users (id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (programme_id, user_id)
);
CREATE INDEX programme_panel_members_user_idx ON programme_panel_members (user_id);
CREATE INDEX programme_panel_members_added_by_idx ON programme_panel_members (added_by);

CREATE TABLE programme_proposals (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    proposer_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('research_question', 'new_measure', 'activity_change', 'other')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'under_review', 'accepted', 'declined', 'withdrawn')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX programme_proposals_programme_idx ON programme_proposals (programme_id, created_at);
CREATE INDEX programme_proposals_proposer_idx ON programme_proposals (proposer_id);

CREATE TABLE programme_proposal_supports (
    proposal_id TEXT NOT NULL REFERENCES programme_proposals (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
);
CREATE INDEX programme_proposal_supports_user_idx ON programme_proposal_supports (user_id);

CREATE TABLE programme_proposal_comments (
    id TEXT PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES programme_proposals (id),
    author_id TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX programme_proposal_comments_proposal_idx ON programme_proposal_comments (proposal_id, created_at);
CREATE INDEX programme_proposal_comments_author_idx ON programme_proposal_comments (author_id);

-- A decision: from a proposal (at most one each) or logged directly (no proposal).
CREATE TABLE programme_decisions (
    id TEXT PRIMARY KEY,
    programme_id TEXT NOT NULL REFERENCES programmes (id),
    proposal_id TEXT REFERENCES programme_proposals (id),
    title TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'declined', 'decided')),
    reasons TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    action_id TEXT REFERENCES programme_actions (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX programme_decisions_programme_idx ON programme_decisions (programme_id, decided_on);
CREATE UNIQUE INDEX programme_decisions_proposal_idx ON programme_decisions (proposal_id);
CREATE INDEX programme_decisions_recorded_by_idx ON programme_decisions (recorded_by);
CREATE INDEX programme_decisions_action_idx ON programme_decisions (action_id);

CREATE TABLE programme_decision_participants (
    decision_id TEXT NOT NULL REFERENCES programme_decisions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (decision_id, user_id)
);
CREATE INDEX programme_decision_participants_user_idx ON programme_decision_participants (user_id);

CREATE TABLE programme_decision_voices (
    decision_id TEXT NOT NULL REFERENCES programme_decisions (id),
    voice_id TEXT NOT NULL REFERENCES programme_voices (id),
    PRIMARY KEY (decision_id, voice_id)
);
CREATE INDEX programme_decision_voices_voice_idx ON programme_decision_voices (voice_id);

CREATE TABLE programme_decision_actions (
    decision_id TEXT NOT NULL REFERENCES programme_decisions (id),
    action_id TEXT NOT NULL REFERENCES programme_actions (id),
    PRIMARY KEY (decision_id, action_id)
);
CREATE INDEX programme_decision_actions_action_idx ON programme_decision_actions (action_id);

-- Tells a proposer their proposal was decided (programme_notifications needs a voice,
-- an action and an update, which a decision need not have).
CREATE TABLE programme_proposal_notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    proposal_id TEXT NOT NULL REFERENCES programme_proposals (id),
    decision_id TEXT NOT NULL REFERENCES programme_decisions (id),
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX programme_proposal_notifications_user_idx ON programme_proposal_notifications (user_id, created_at);
CREATE INDEX programme_proposal_notifications_proposal_idx ON programme_proposal_notifications (proposal_id);
CREATE INDEX programme_proposal_notifications_decision_idx ON programme_proposal_notifications (decision_id);
