"""The rules of the product, written against the database and plain values.

Services know nothing of Telegram: they take a session and plain values and return
`Notice`s (what to tell whom); the Telegram layer renders and sends them.
"""
