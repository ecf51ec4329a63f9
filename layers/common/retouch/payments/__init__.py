"""Getting paid: Stripe Checkout top-ups, refunds and disputes taken back, payments listed (docs/payments.md)."""
