"""Pure dashboard logic: plain functions on plain data, no I/O.

Kept free of imports from `web`, `store`, `licenseapi` and `service` so every rule the
dashboard shows (estimates, branding, pagination, CSV cells, formatting) can be tested
and reused without a server, a database or a network.
"""
