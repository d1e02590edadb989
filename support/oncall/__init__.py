"""On-call and clocks: SLA due times, the periodic sweep that finds what is due or stuck, alerts that
page the on-call person, rotations and escalation, and how a page reaches a person (notifiers)."""
