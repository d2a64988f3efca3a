"""Helpers for the integration suite: a GraphQL client for the dev server, app launchers for
each framework, a recording HTTP proxy, signing helpers and polling utilities."""
