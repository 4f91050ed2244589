"""Campaigns: membership, visibility, story, world building, sessions and their events."""
