-- Matching from the case (issue 14): how the person prefers to be contacted, the channel of
-- each outbox message (email or text message), and the activities a link worker sent the
-- person as options, with the one they chose.
ALTER TABLE person_identities ADD COLUMN contact_method TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';

CREATE TABLE referral_options (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    batch_id TEXT NOT NULL,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    position INTEGER NOT NULL,
    channel TEXT NOT NULL,
    distance_m REAL,
    sent_by TEXT REFERENCES users (id),
    sent_at INTEGER NOT NULL,
    chosen_at INTEGER
);
CREATE INDEX referral_options_referral_idx ON referral_options (referral_id, sent_at);
CREATE INDEX referral_options_activity_idx ON referral_options (activity_id);
CREATE INDEX referral_options_sent_by_idx ON referral_options (sent_by);
