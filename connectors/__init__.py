"""Channel connectors: each turns a platform's native payloads into `Inbound`s and
sends `Outbound`s back. Connectors never import storage or triage."""
