"""Schools, classes, timetables and live lessons (the live-lessons issue fills it)."""
