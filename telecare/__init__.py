"""Hospitals, health stations and their staff, doctors with their weekly
availability and leave, patients, consultations (booking, rooms, recordings with
consent) and the tamper-evident audit log of who saw which patient's record."""
