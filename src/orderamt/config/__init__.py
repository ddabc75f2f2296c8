"""Settings from the environment and an optional `.env` file, checked all at once.

- `settings`: the frozen values and their defaults; secrets kept out of `repr`;
- `sources`: the real environment laid over the `.env` file, unknown names in it warned;
- `collector`: each variable read, every problem gathered;
- `fields`: the field maps (ORDERAMT_<NAME>_MAP, PORTAL_COL_<NAME>, ORDERAMT_<NAME>_FIELD);
- `load`: `load_settings`, every value checked, one ConfigError naming all that is wrong.
"""

from __future__ import annotations

from orderamt.config.load import default_log_file, load_settings
from orderamt.config.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CHANGED_MARGIN,
    OdooSettings,
    OnConflict,
    PortalSchema,
    Secret,
    Settings,
)
from orderamt.config.sources import read_environment

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHANGED_MARGIN",
    "OdooSettings",
    "OnConflict",
    "PortalSchema",
    "Secret",
    "Settings",
    "default_log_file",
    "load_settings",
    "read_environment",
]
