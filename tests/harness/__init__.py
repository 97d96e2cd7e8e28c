"""Real services for the tests: a throwaway PostgreSQL server and a moto server."""
