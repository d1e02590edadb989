"""Delivery: what the hub sends. Outbox rows written with the ticket, claimed and sent by dispatch through
each channel's sender; kicks carry the work to workers; acknowledgement texts are composed here."""
