"""The knowledge base: articles and their versions, search, suggestions for tickets,
templates as data and release notes."""
