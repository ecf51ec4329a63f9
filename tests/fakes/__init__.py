"""In-memory fakes shared by the test tiers."""
