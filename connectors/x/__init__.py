"""X (Twitter): parsing API v2 payloads (parse), the HTTP client with its retries (http), the
per-endpoint rate budget (budget), polling (receiver) and posting (sender)."""
