"""`python -m orderamt`, the same as the `orderamt` command."""

from orderamt.cli import main

main()
