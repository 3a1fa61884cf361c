"""Test oracles: independent reference implementations the tests compare the core against."""
