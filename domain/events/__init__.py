"""The event hub's domain half: typed events and the transactional outbox they go through."""
