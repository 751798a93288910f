"""Seeded whole-system simulation: thousands of random operations across every app,
with faults, checked after every step (see docs/simulation.md)."""
