"""What knows both domains, and is the only app allowed to import both
telecare and classrooms: the home page that sends each role to its app, the
demo data of both (seed_demo) and the recordings purge (purge_recordings)."""
