"""Which upstreams serve each model, in what order, and whether each is up (the circuit breaker)."""
