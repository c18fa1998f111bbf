"""Twenty Minutes: a Telegram bot for couples."""
