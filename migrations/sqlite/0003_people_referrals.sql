-- People, consent and the referral pathway (issue 4).
-- `people` holds only the pseudonymous id used everywhere else; identity and contact
-- details live apart in `person_identities`, read only by the care team and audited.
-- Kept column-for-column identical to the other backend's 0003_people_referrals.sql.

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    team_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    user_id TEXT REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX people_team_idx ON people (team_organisation_id);
CREATE INDEX people_user_idx ON people (user_id);

CREATE TABLE person_identities (
    person_id TEXT PRIMARY KEY REFERENCES people (id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL DEFAULT '',
    preferred_name TEXT NOT NULL DEFAULT '',
    pronouns TEXT NOT NULL DEFAULT '',
    nhs_number TEXT,
    date_of_birth TEXT,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    postcode TEXT NOT NULL DEFAULT '',
    lsoa_code TEXT,
    communication_needs TEXT NOT NULL DEFAULT '',
    languages TEXT NOT NULL DEFAULT '',
    ethnicity TEXT,
    gender TEXT,
    gp_practice TEXT NOT NULL DEFAULT '',
    emergency_contact TEXT NOT NULL DEFAULT '',
    safeguarding_notes TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
CREATE INDEX person_identities_nhs_number_idx ON person_identities (nhs_number);

CREATE TABLE consent_statements (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    wording TEXT NOT NULL,
    effective_at INTEGER NOT NULL,
    UNIQUE (purpose, version)
);

-- Every decision ever recorded (append-only), and the current one per purpose.
CREATE TABLE consent_decisions (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    statement_id TEXT NOT NULL REFERENCES consent_statements (id),
    purpose TEXT NOT NULL,
    decision TEXT NOT NULL,
    method TEXT NOT NULL,
    witness TEXT NOT NULL DEFAULT '',
    recorded_by TEXT REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX consent_decisions_person_idx ON consent_decisions (person_id, recorded_at);
CREATE INDEX consent_decisions_statement_idx ON consent_decisions (statement_id);
CREATE INDEX consent_decisions_recorded_by_idx ON consent_decisions (recorded_by);

CREATE TABLE person_consents (
    person_id TEXT NOT NULL REFERENCES people (id),
    purpose TEXT NOT NULL,
    decision TEXT NOT NULL,
    statement_id TEXT NOT NULL REFERENCES consent_statements (id),
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, purpose)
);
CREATE INDEX person_consents_purpose_idx ON person_consents (purpose, decision, person_id);
CREATE INDEX person_consents_statement_idx ON person_consents (statement_id);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id),
    team_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    assigned_to TEXT REFERENCES users (id),
    source TEXT NOT NULL,
    referrer_user_id TEXT REFERENCES users (id),
    referrer_organisation_id TEXT REFERENCES organisations (id),
    referrer_name TEXT NOT NULL DEFAULT '',
    referrer_email TEXT NOT NULL DEFAULT '',
    source_system TEXT,
    source_identifier TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    activity_id TEXT REFERENCES activities (id),
    provider_status TEXT,
    provider_note TEXT NOT NULL DEFAULT '',
    provider_reason TEXT NOT NULL DEFAULT '',
    provider_requested_at INTEGER,
    provider_responded_at INTEGER,
    provider_reminders INTEGER NOT NULL DEFAULT 0,
    missed_in_row INTEGER NOT NULL DEFAULT 0,
    first_contact_at INTEGER,
    message_back_sent_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    UNIQUE (source_system, source_identifier)
);
CREATE INDEX referrals_team_idx ON referrals (team_organisation_id, updated_at, id);
CREATE INDEX referrals_person_idx ON referrals (person_id);
CREATE INDEX referrals_assigned_idx ON referrals (assigned_to, updated_at, id);
CREATE INDEX referrals_referrer_idx ON referrals (referrer_user_id, created_at);
CREATE INDEX referrals_referrer_organisation_idx ON referrals (referrer_organisation_id);
CREATE INDEX referrals_activity_idx ON referrals (activity_id, provider_status);

-- The timeline: status changes, case notes, provider responses and messages.
CREATE TABLE referral_events (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    at INTEGER NOT NULL,
    actor_user_id TEXT REFERENCES users (id),
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    body TEXT NOT NULL DEFAULT '',
    shared_with_provider INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX referral_events_referral_idx ON referral_events (referral_id, at);
CREATE INDEX referral_events_actor_idx ON referral_events (actor_user_id);

CREATE TABLE referral_tasks (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    assigned_to TEXT REFERENCES users (id),
    done_at INTEGER,
    done_by TEXT REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX referral_tasks_referral_idx ON referral_tasks (referral_id, done_at, due_at);
CREATE INDEX referral_tasks_assigned_idx ON referral_tasks (assigned_to, done_at, due_at);
CREATE INDEX referral_tasks_done_by_idx ON referral_tasks (done_by);

CREATE TABLE referral_barriers (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    barrier TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    action_detail TEXT NOT NULL DEFAULT '',
    recorded_by TEXT REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX referral_barriers_referral_idx ON referral_barriers (referral_id);
CREATE INDEX referral_barriers_recorded_by_idx ON referral_barriers (recorded_by);

-- "What matters to me" and the personalised plan, in the person's own words.
CREATE TABLE referral_plans (
    referral_id TEXT PRIMARY KEY REFERENCES referrals (id),
    what_matters TEXT NOT NULL DEFAULT '',
    needs TEXT NOT NULL DEFAULT '',
    goals TEXT NOT NULL DEFAULT '',
    support_offered TEXT NOT NULL DEFAULT '',
    next_steps TEXT NOT NULL DEFAULT '',
    review_on TEXT,
    agreed_at INTEGER,
    updated_by TEXT REFERENCES users (id),
    updated_at INTEGER NOT NULL
);
CREATE INDEX referral_plans_updated_by_idx ON referral_plans (updated_by);

CREATE TABLE referral_attendance (
    id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id),
    session_date TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_by TEXT REFERENCES users (id),
    recorded_at INTEGER NOT NULL,
    UNIQUE (referral_id, session_date)
);
CREATE INDEX referral_attendance_recorded_by_idx ON referral_attendance (recorded_by);

INSERT INTO consent_statements (id, purpose, version, title, wording, effective_at) VALUES
('6d1f7a52-0000-5000-8000-000000000001', 'contact', 1, 'Being contacted',
 'I agree that the social prescribing team and the organisation running my activity may contact me by phone, email or post about my referral and the activities I join.', 1764115200),
('6d1f7a52-0000-5000-8000-000000000002', 'evaluation', 1, 'Using my information to evaluate the programme',
 'I agree that information about my referral, attendance and wellbeing may be used, without my name, to understand whether the programme works and to improve it. I can withdraw at any time and my information will stop being used from that moment.', 1764115200),
('6d1f7a52-0000-5000-8000-000000000003', 'research_contact', 1, 'Being asked about research',
 'I agree to be approached about taking part in research. Agreeing does not sign me up to anything: I will be asked again, with full information, before any research.', 1764115200),
('6d1f7a52-0000-5000-8000-000000000004', 'share_gp', 1, 'Sharing information with my GP and the person who referred me',
 'I agree that a summary of what happened with my referral (the activity I joined and how I am getting on) may be sent to my GP and to the person who referred me.', 1764115200),
('6d1f7a52-0000-5000-8000-000000000005', 'share_stories', 1, 'Sharing my story',
 'I agree that things I say about my experience may be shared, without my name, in reports and publicity about the programme.', 1764115200);
