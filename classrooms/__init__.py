"""Schools, learning points, teachers, classes with their weekly timetables and
holidays, lessons, pupils and enrolments, attendance, lesson recordings, and
what lessons tell guardians (SMS) and calendars."""
