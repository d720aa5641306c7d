"""What consultations and lessons share: slot arithmetic and phone numbers now;
iCalendar, the reminder outbox and the SMS gateway as they arrive."""
