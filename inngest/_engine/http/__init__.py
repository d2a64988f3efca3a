"""The HTTP surface: request routing and the listener that runs the whole engine."""
