"""Plain helpers (builders, constants and queries) shared by the test modules; fixtures live in tests/conftest.py."""
