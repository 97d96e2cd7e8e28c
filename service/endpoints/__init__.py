"""One module per resource: its routes, its OpenAPI operations, how its rows are shaped."""
