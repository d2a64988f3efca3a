"""Experimental modules: APIs that may change between releases."""
