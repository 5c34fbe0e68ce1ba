-- Barriers (issue 16 item 5): when a barrier was raised, at referral or first contact, when
-- the person declined, when they stopped coming, or at review, so barriers can be analysed
-- by stage, small area, activity and programme. Earlier rows were all recorded on the case
-- page during casework, so they start as 'referral'.
ALTER TABLE referral_barriers ADD COLUMN stage TEXT NOT NULL DEFAULT 'referral'
    CHECK (stage IN ('referral', 'decline', 'drop_out', 'review'));

DROP VIEW referrals_barrier_actions;
CREATE VIEW referrals_barrier_actions AS
    SELECT id, referral_id, barrier, action, stage, created_at FROM referral_barriers;
