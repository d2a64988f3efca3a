"""The GraphQL API the dev UI and tests query: executor, schema, and the run traces it serves."""
