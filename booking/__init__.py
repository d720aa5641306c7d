"""What consultations and lessons share, knowing neither: slot arithmetic,
E.164 phone numbers, iCalendar invites and private feeds, the outbox of SMS and
email with its worker, the Twilio-shaped SMS gateway, its webhooks and stub,
and the reading of SMS replies. Apps take part by registering a message source
(outbox.register_source) and feed owners (feeds.register_owner)."""
