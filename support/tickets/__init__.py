"""Tickets as agents work them: inbox queries and search, ticket actions (triage, status, assign, merge),
agent replies, saved views and the dashboard's metrics."""
