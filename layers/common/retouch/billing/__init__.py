"""Pay-per-use: prices, reservations and settlements, the ledger, limits and usage."""
