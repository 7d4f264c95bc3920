"""Alerts: rules on the balance, the runway, the day's spend and the data's age, that fire
once per crossing through e-mail and signed webhooks (see `rules`, `checker`, `manage`)."""
