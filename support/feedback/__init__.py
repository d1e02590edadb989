"""The feedback loop: satisfaction surveys in each channel, their answers and KPIs, one
person across channels, and the weekly review."""
