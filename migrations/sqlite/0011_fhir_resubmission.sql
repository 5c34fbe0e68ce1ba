-- FHIR intake (issue 13): what a sender submitted under an identifier, so that a repeat can
-- be told apart from a change, and the activity the referrer asked for, which the referrer
-- may always read back. Message Bundles without a ServiceRequest.identifier are keyed by
-- the Bundle id: a UUID becomes an RFC 3986 URI (urn:uuid:…); any other id keeps an
-- internal system that is never sent out.
ALTER TABLE referrals ADD COLUMN source_digest TEXT;
ALTER TABLE referrals ADD COLUMN requested_activity_id TEXT REFERENCES activities (id);
UPDATE referrals SET source_system = 'urn:ietf:rfc:3986', source_identifier = 'urn:uuid:' || source_identifier
    WHERE source_system = 'urn:ietf:rfc:3986:message-bundle'
    AND source_identifier LIKE '________-____-____-____-____________';
UPDATE referrals SET source_system = 'urn:ensemble:message-bundle'
    WHERE source_system = 'urn:ietf:rfc:3986:message-bundle';
