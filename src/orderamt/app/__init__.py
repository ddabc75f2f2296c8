"""The wiring: one module per command (or family of commands) builds the settings, adapters
and stores it needs, runs it and hands the result to the report.

`cli.py` imports the one module its command runs, so a command imports only what it uses.
Each command function returns the exit code, or raises OrderamtError (one line for stderr,
and its exit code).
"""
