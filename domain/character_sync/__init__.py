"""Keeps characters in step with their campaigns: the character side's handlers of the
campaign events (awards, items, story impacts). A leaf package: it imports characters and
campaigns, and neither imports it."""
