"""What a person signed in to the console manages for their account (issue #21): API keys, webhook settings."""
