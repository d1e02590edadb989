"""Per-channel wiring (the api channel answers by email): each module turns the settings into its connector's receivers
and sender. Connectors know nothing of settings or storage; these modules do.

Each module exposes (`registry` looks them up by channel name):
  receivers(settings, sink) -> list[Receiver]   the receivers to run when the channel is live
  sender(settings) -> Sender | None       None while the channel has no credentials
"""
