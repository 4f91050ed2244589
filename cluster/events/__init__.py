"""The event hub's machinery: the outbox relay, the transports (database by default, Redis
Streams when LOREKEEPER_REDIS_URL is set), the consumer runner with its circuit breaker, and
the registry of running consumers. Handlers are domain code (domain/events/handlers.py)."""
