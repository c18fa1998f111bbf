"""The Telegram layer: parse an update, call a service, send what it says."""
