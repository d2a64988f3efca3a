"""Registration cases: each module's ``create(client, framework)`` returns a ``Case``."""
