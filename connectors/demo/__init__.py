"""The demo feed: messages the replay connector plays when no channel has credentials."""
