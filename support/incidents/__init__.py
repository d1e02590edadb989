"""Incidents: declared by people or proposed from a burst of alike customer reports
(detect), one update fanned out to every channel (publish), the public status page's
data (status), subscribers (subscribers) and the post-incident report (report)."""
