"""The operator dashboard: the daily work of running the shop, over the domain services."""
