"""Intake: how a message enters the hub. Receivers write to the staging queue (staging), a worker
ingests it into a ticket (ingest, threading, sanitizing, bounces, re-triage of follow-ups); `trkv import` bulk-loads."""
