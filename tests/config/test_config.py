"""Settings from the environment and a `.env` file: defaults, checks, secrets kept out of sight."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orderamt.config import (
    PortalSchema,
    Secret,
    Settings,
    default_log_file,
    load_settings,
    read_environment,
)
from orderamt.errors import ConfigError, ExitCode
from orderamt.models import FieldSpec

ODOO_PASSWORD = "hunter2-odoo-key"
DB_PASSWORD = "s3cr3t-db-pass"
PORTAL_URL = f"postgresql+psycopg://portal:{DB_PASSWORD}@db.example.com:5432/portal"


def env(**changes: str) -> dict[str, str]:
    """A complete, valid environment, with `changes` laid over it."""
    base = {
        "ODOO_URL": "https://odoo.example.com",
        "ODOO_DB": "odoo",
        "ODOO_USERNAME": "orderamt@example.com",
        "ODOO_PASSWORD": ODOO_PASSWORD,
        "PORTAL_DATABASE_URL": PORTAL_URL,
        "HOME": "/home/orderamt",
    }
    return {**base, **changes}


def problems(environ: dict[str, str], env_file: Path | None = None) -> str:
    """The one message load_settings refuses `environ` with."""
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, env_file)
    assert caught.value.exit_code is ExitCode.USAGE
    return str(caught.value)


@pytest.fixture(autouse=True)
def in_empty_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test runs in an empty directory, so no stray ./.env is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_minimal_settings_take_the_documented_defaults() -> None:
    """With only the five required variables set, every other setting has its README default."""
    settings = load_settings(env())
    assert settings.odoo.url == "https://odoo.example.com"
    assert settings.odoo.db == "odoo"
    assert settings.odoo.username == "orderamt@example.com"
    assert settings.odoo.password.reveal() == ODOO_PASSWORD
    assert settings.odoo.timeout == 60.0
    assert settings.odoo.protocol == "auto"
    assert settings.odoo.retries == 3
    assert settings.odoo.retry_wait == 2.0
    assert settings.odoo.retry_max_time == 300.0
    assert settings.database_url.reveal() == PORTAL_URL
    assert settings.schema == PortalSchema(
        table="orders",
        id="id",
        number="order_number",
        amount="total_amount",
        odoo_id="odoo_order_id",
        created="created_at",
        updated="updated_at",
    )
    assert settings.schema.timezone == "UTC"
    assert settings.batch_size == 1000
    assert settings.lock == "auto"
    assert settings.lock_file is None
    assert settings.journal_table == "orderamt_journal"
    assert settings.on_conflict == "odoo"


def test_every_missing_variable_is_named_in_one_message() -> None:
    """An empty environment names all five required variables at once, pointing at the example."""
    assert problems({"HOME": "/home/orderamt"}) == (
        "configuration: ODOO_URL is not set; ODOO_DB is not set; ODOO_USERNAME is not set; "
        f"ODOO_PASSWORD is not set; PORTAL_DATABASE_URL is not set (no .env in {Path.cwd()}; "
        "see .env.example)"
    )


def test_blank_values_count_as_missing() -> None:
    """A required variable set to spaces only is reported as not set, like an absent one."""
    message = problems(env(ODOO_URL="  ", ODOO_DB="", ODOO_USERNAME=" \t "))
    assert message == (
        "configuration: ODOO_URL is not set; ODOO_DB is not set; ODOO_USERNAME is not set "
        f"(no .env in {Path.cwd()}; see .env.example)"
    )


def test_every_bad_value_is_reported_at_once() -> None:
    """Several bad values of different kinds come back together, one ConfigError, in one line."""
    message = problems(
        env(
            ODOO_URL="ftp://odoo.example.com",
            PORTAL_ORDERS_TABLE=" ",
            ORDERAMT_BATCH_SIZE="0",
            ODOO_TIMEOUT="soon",
            ODOO_RETRIES="2.5",
            ODOO_PROTOCOL="soap",
            ORDERAMT_LOCK="redis",
            ORDERAMT_ON_CONFLICT="portal",
        )
    )
    assert message == (
        "configuration: "
        "ODOO_URL must be an http:// or https:// address, got 'ftp://odoo.example.com'; "
        "PORTAL_ORDERS_TABLE must not be empty; "
        "ORDERAMT_BATCH_SIZE must be a whole number from 1 to 10000, got '0'; "
        "ODOO_TIMEOUT must be a number of seconds from 1 to 3600, got 'soon'; "
        "ODOO_RETRIES must be a whole number from 0 to 10, got '2.5'; "
        "ODOO_PROTOCOL must be one of auto, xmlrpc, json2, got 'soap'; "
        "ORDERAMT_LOCK must be one of auto, file, database, got 'redis'; "
        "ORDERAMT_ON_CONFLICT must be one of odoo, skip, got 'portal' "
        "(see .env.example)"
    )
    assert "\n" not in message


def _batch_size(s: Settings) -> object:
    return s.batch_size


def _timeout(s: Settings) -> object:
    return s.odoo.timeout


def _retries(s: Settings) -> object:
    return s.odoo.retries


def _retry_wait(s: Settings) -> object:
    return s.odoo.retry_wait


def _retry_max_time(s: Settings) -> object:
    return s.odoo.retry_max_time


@pytest.mark.parametrize(
    ("name", "raw", "read", "expected"),
    [
        ("ORDERAMT_BATCH_SIZE", "1", _batch_size, 1),
        ("ORDERAMT_BATCH_SIZE", "10000", _batch_size, 10000),
        ("ORDERAMT_BATCH_SIZE", " 250 ", _batch_size, 250),
        ("ORDERAMT_BATCH_SIZE", "", _batch_size, 1000),
        ("ODOO_TIMEOUT", "1", _timeout, 1.0),
        ("ODOO_TIMEOUT", "3600", _timeout, 3600.0),
        ("ODOO_TIMEOUT", "2.5", _timeout, 2.5),
        ("ODOO_TIMEOUT", "", _timeout, 60.0),
        ("ODOO_RETRIES", "0", _retries, 0),
        ("ODOO_RETRIES", "10", _retries, 10),
        ("ODOO_RETRY_WAIT", "0", _retry_wait, 0.0),
        ("ODOO_RETRY_WAIT", "60", _retry_wait, 60.0),
        ("ODOO_RETRY_MAX_TIME", "0", _retry_max_time, 0.0),
        ("ODOO_RETRY_MAX_TIME", "3600", _retry_max_time, 3600.0),
    ],
)
def test_numbers_inside_their_range_are_taken(
    name: str, raw: str, read: Callable[[Settings], object], expected: object
) -> None:
    """Each bound of each numeric setting is accepted; an empty value means the default."""
    assert read(load_settings(env(**{name: raw}))) == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("ORDERAMT_BATCH_SIZE", "0", "a whole number from 1 to 10000, got '0'"),
        ("ORDERAMT_BATCH_SIZE", "10001", "a whole number from 1 to 10000, got '10001'"),
        ("ORDERAMT_BATCH_SIZE", "1e3", "a whole number from 1 to 10000, got '1e3'"),
        ("ODOO_TIMEOUT", "0.5", "a number of seconds from 1 to 3600, got '0.5'"),
        ("ODOO_TIMEOUT", "3601", "a number of seconds from 1 to 3600, got '3601'"),
        ("ODOO_TIMEOUT", "nan", "a number of seconds from 1 to 3600, got 'nan'"),
        ("ODOO_TIMEOUT", "inf", "a number of seconds from 1 to 3600, got 'inf'"),
        ("ODOO_RETRIES", "-1", "a whole number from 0 to 10, got '-1'"),
        ("ODOO_RETRIES", "11", "a whole number from 0 to 10, got '11'"),
        ("ODOO_RETRY_WAIT", "-0.1", "a number of seconds from 0 to 60, got '-0.1'"),
        ("ODOO_RETRY_WAIT", "61", "a number of seconds from 0 to 60, got '61'"),
        ("ODOO_RETRY_MAX_TIME", "3600.5", "a number of seconds from 0 to 3600, got '3600.5'"),
    ],
)
def test_numbers_outside_their_range_are_refused(name: str, raw: str, message: str) -> None:
    """A value past a bound, or no number at all, is named with its range and what was given."""
    assert problems(env(**{name: raw})) == (
        f"configuration: {name} must be {message} (see .env.example)"
    )


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("ODOO_PROTOCOL", "JSON2", "json2"),
        ("ODOO_PROTOCOL", " XmlRpc ", "xmlrpc"),
        ("ODOO_PROTOCOL", "", "auto"),
        ("ORDERAMT_LOCK", "Database", "database"),
        ("ORDERAMT_LOCK", "FILE", "file"),
        ("ORDERAMT_ON_CONFLICT", "SKIP", "skip"),
        ("ORDERAMT_ON_CONFLICT", "Odoo", "odoo"),
    ],
)
def test_choices_take_any_case(name: str, raw: str, expected: str) -> None:
    """A choice is read in any case and around spaces; empty means the first (the default)."""
    settings = load_settings(env(**{name: raw}))
    chosen = {
        "ODOO_PROTOCOL": settings.odoo.protocol,
        "ORDERAMT_LOCK": settings.lock,
        "ORDERAMT_ON_CONFLICT": settings.on_conflict,
    }[name]
    assert chosen == expected


def test_columns_and_tables_are_configurable() -> None:
    """Every table and column name is read (spaces trimmed); an empty updated column means none."""
    settings = load_settings(
        env(
            PORTAL_ORDERS_TABLE=" sales ",
            PORTAL_COL_ID="sale_id",
            PORTAL_COL_NUMBER="ref",
            PORTAL_COL_AMOUNT="total",
            PORTAL_COL_ODOO_ID="erp_id",
            PORTAL_COL_CREATED="placed_at",
            PORTAL_COL_UPDATED="",
            ORDERAMT_JOURNAL_TABLE="sync_log",
        )
    )
    assert settings.schema == PortalSchema(
        table="sales",
        id="sale_id",
        number="ref",
        amount="total",
        odoo_id="erp_id",
        created="placed_at",
        updated=None,
    )
    assert settings.journal_table == "sync_log"


@pytest.mark.parametrize(
    "name",
    [
        "PORTAL_ORDERS_TABLE",
        "PORTAL_COL_ID",
        "PORTAL_COL_NUMBER",
        "PORTAL_COL_AMOUNT",
        "PORTAL_COL_ODOO_ID",
        "PORTAL_COL_CREATED",
        "ORDERAMT_JOURNAL_TABLE",
    ],
)
def test_names_set_empty_are_refused(name: str) -> None:
    """A table or column variable set to nothing is an error, not a silent default."""
    assert problems(env(**{name: "  "})) == (
        f"configuration: {name} must not be empty (see .env.example)"
    )


@pytest.mark.parametrize(
    ("raw", "zone"),
    [("Europe/Berlin", "Europe/Berlin"), (" America/New_York ", "America/New_York"), ("", "UTC")],
)
def test_portal_timezone_is_an_iana_zone(raw: str, zone: str) -> None:
    """PORTAL_TIMEZONE takes an IANA zone name (trimmed); unset or empty means UTC."""
    assert load_settings(env(PORTAL_TIMEZONE=raw)).schema.timezone == zone


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            "Mars/Olympus",
            "'Mars/Olympus' is not a time zone this system knows (an IANA name such as "
            "Europe/Berlin; on Windows, install tzdata)",
        ),
        ("../etc/passwd", "'../etc/passwd' is not an IANA time zone name"),
        ("/etc/localtime", "'/etc/localtime' is not an IANA time zone name"),
    ],
)
def test_unknown_portal_timezone_is_refused(raw: str, problem: str) -> None:
    """A zone the system does not know, or a file path, is refused naming PORTAL_TIMEZONE."""
    assert problems(env(PORTAL_TIMEZONE=raw)) == (
        f"configuration: PORTAL_TIMEZONE: {problem} (see .env.example)"
    )


def test_log_and_lock_files_are_taken_as_given(tmp_path: Path) -> None:
    """ORDERAMT_LOG_FILE and ORDERAMT_LOCK_FILE are used as given, instead of the defaults."""
    log_file = tmp_path / "logs" / "sync.log"
    lock_file = tmp_path / "locks" / "sync.lock"
    settings = load_settings(
        env(ORDERAMT_LOG_FILE=f" {log_file} ", ORDERAMT_LOCK_FILE=str(lock_file))
    )
    assert settings.log_file == log_file
    assert settings.lock_file == lock_file


def test_log_file_defaults_to_the_xdg_state_directory() -> None:
    """Without ORDERAMT_LOG_FILE the log goes under $XDG_STATE_HOME, else ~/.local/state."""
    if sys.platform in ("win32", "darwin"):
        pytest.skip("the Linux layout")
    with_xdg = load_settings(env(XDG_STATE_HOME="/var/lib/state"))
    assert with_xdg.log_file == Path("/var/lib/state/orderamt/orderamt.log")
    without = load_settings(env(XDG_STATE_HOME=""))
    assert without.log_file == Path("/home/orderamt/.local/state/orderamt/orderamt.log")


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {"HOME": "/home/u"}, "/home/u/.local/state/orderamt/orderamt.log"),
        (
            "linux",
            {"HOME": "/home/u", "XDG_STATE_HOME": "/srv/state"},
            "/srv/state/orderamt/orderamt.log",
        ),
        ("darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Logs/orderamt/orderamt.log"),
        ("win32", {"HOME": "/h", "LOCALAPPDATA": "/appdata"}, "/appdata/orderamt/orderamt.log"),
        ("win32", {"HOME": "/h"}, "/h/AppData/Local/orderamt/orderamt.log"),
    ],
)
def test_default_log_file_per_platform(
    monkeypatch: pytest.MonkeyPatch, platform: str, environ: dict[str, str], expected: str
) -> None:
    """Each platform's usual place for a user's logs, from the environment given."""
    monkeypatch.setattr(sys, "platform", platform)
    assert default_log_file(environ) == Path(expected)


def test_env_file_is_read_and_the_real_environment_wins(tmp_path: Path) -> None:
    """Values come from the named file, except where the real environment sets them too."""
    env_file = tmp_path / "orderamt.env"
    env_file.write_text(
        "ODOO_URL=https://from-file.example.com\n"
        "ODOO_DB=filedb\n"
        "ODOO_USERNAME=file-user\n"
        f"ODOO_PASSWORD={ODOO_PASSWORD}\n"
        "PORTAL_DATABASE_URL=sqlite:///portal.db\n"
        "ODOO_TIMEOUT=5\n"
        "# a comment\n"
        "ORDERAMT_BATCH_SIZE=200\n",
        encoding="utf-8",
    )
    settings = load_settings({"ODOO_DB": "envdb", "ODOO_TIMEOUT": "7", "HOME": "/h"}, env_file)
    assert settings.odoo.url == "https://from-file.example.com"
    assert settings.odoo.username == "file-user"
    assert settings.odoo.db == "envdb"
    assert settings.odoo.timeout == 7.0
    assert settings.batch_size == 200
    # A relative SQLite path in the file is the file's neighbour, wherever orderamt runs.
    assert settings.database_url.reveal() == f"sqlite:///{tmp_path.resolve() / 'portal.db'}"


def test_a_typo_in_env_is_named_with_the_nearest_setting(tmp_path: Path) -> None:
    """ODOO_TIMOUT and ORDERAMT_BATCHSIZE in .env are warned about, each with the nearest
    known name; other variables in the file are nobody's business."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ODOO_TIMOUT=5\nORDERAMT_BATCHSIZE=10\nPORTAL_SOMETHING_ELSE_ENTIRELY=1\nAPP_KEY=x\n",
        encoding="utf-8",
    )
    settings = load_settings(env(), env_file)
    assert settings.warnings == (
        f"{env_file}: unknown setting ODOO_TIMOUT (did you mean ODOO_TIMEOUT?); ignored",
        f"{env_file}: unknown setting ORDERAMT_BATCHSIZE (did you mean ORDERAMT_BATCH_SIZE?); "
        "ignored",
        f"{env_file}: unknown setting PORTAL_SOMETHING_ELSE_ENTIRELY; ignored",
    )
    assert settings.odoo.timeout == 60.0


def test_dot_env_in_the_current_directory_is_read(in_empty_directory: Path) -> None:
    """Without a named file, ./.env is read when it exists, and the environment still wins."""
    (in_empty_directory / ".env").write_text("ODOO_DB=dotenv\nODOO_USERNAME=dotuser\n")
    merged = read_environment({"ODOO_USERNAME": "envuser"}, None)
    assert merged == {"ODOO_DB": "dotenv", "ODOO_USERNAME": "envuser"}


def test_no_dot_env_means_the_environment_alone(in_empty_directory: Path) -> None:
    """With no ./.env and no named file, the settings are exactly the environment given."""
    assert read_environment({"ODOO_DB": "x"}, None) == {"ODOO_DB": "x"}


def test_named_file_replaces_dot_env(in_empty_directory: Path) -> None:
    """A file named with --env-file is read instead of ./.env, not as well as it."""
    (in_empty_directory / ".env").write_text("ODOO_DB=dotenv\nODOO_USERNAME=dotuser\n")
    named = in_empty_directory / "other.env"
    named.write_text("ODOO_DB=named\n")
    assert read_environment({}, named) == {"ODOO_DB": "named"}


def test_variable_without_value_in_the_file_is_ignored(tmp_path: Path) -> None:
    """A bare `NAME` line in the file sets nothing (and an empty `NAME=` sets it empty)."""
    env_file = tmp_path / "bare.env"
    env_file.write_text("ODOO_DB\nODOO_USERNAME=\n")
    assert read_environment({}, env_file) == {"ODOO_USERNAME": ""}


def test_missing_env_file_is_a_config_error(tmp_path: Path) -> None:
    """A named env file that is not there is refused by its path, exit 2."""
    missing = tmp_path / "nowhere.env"
    with pytest.raises(ConfigError) as caught:
        load_settings(env(), missing)
    assert str(caught.value) == f"configuration: the env file {missing} does not exist"
    assert caught.value.exit_code is ExitCode.USAGE


def test_undecodable_env_file_is_a_config_error(tmp_path: Path) -> None:
    """An env file that is not UTF-8 is a configuration error naming the file, not a traceback."""
    env_file = tmp_path / "latin1.env"
    env_file.write_bytes("ODOO_DB=caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        read_environment({}, env_file)
    assert str(caught.value).startswith(f"configuration: cannot read {env_file}: ")


def test_secret_is_masked_in_repr_and_str() -> None:
    """A Secret shows asterisks wherever it is printed, and gives its value only when asked."""
    secret = Secret(ODOO_PASSWORD)
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"
    assert f"{secret}" == "Secret('********')"
    assert ODOO_PASSWORD not in repr([secret, {"key": secret}])
    assert secret.reveal() == ODOO_PASSWORD


def test_secrets_compare_by_value() -> None:
    """Two Secrets holding the same value are equal (and hash alike); different ones are not."""
    assert Secret("a") == Secret("a")
    assert hash(Secret("a")) == hash(Secret("a"))
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"


def test_settings_repr_shows_no_password() -> None:
    """Printing the settings shows neither the Odoo password nor the database password."""
    shown = repr(load_settings(env()))
    assert ODOO_PASSWORD not in shown
    assert DB_PASSWORD not in shown


def test_settings_repr_masks_credentials_in_the_odoo_url() -> None:
    """A password inside ODOO_URL (user:password@host) is not shown when the settings are."""
    settings = load_settings(env(ODOO_URL=f"https://orderamt:{ODOO_PASSWORD}@odoo.example.com"))
    assert ODOO_PASSWORD not in repr(settings)


def test_database_url_for_display_masks_the_password() -> None:
    """The portal URL as shown in messages carries *** in place of its password."""
    settings = load_settings(env())
    assert settings.database_url_for_display == (
        "postgresql+psycopg://portal:***@db.example.com:5432/portal"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ODOO_PASSWORD", ODOO_PASSWORD + "\n"),
        ("ODOO_PASSWORD", ODOO_PASSWORD + "\r\n"),
        ("ODOO_PASSWORD", "hunter2\x00-odoo-key"),
        ("ODOO_PASSWORD", ODOO_PASSWORD + "\x7f"),
        ("ODOO_DB", "od\too"),
        ("ODOO_DB", "odoo\x1b[0m"),
    ],
)
def test_control_characters_are_named_but_not_quoted(name: str, value: str) -> None:
    """A password or database holding a control character is refused by name, its value unshown."""
    message = problems(env(**{name: value}))
    assert message == (
        f"configuration: {name} contains a control character (a trailing newline?) "
        "(see .env.example)"
    )
    assert value.strip() not in message


def test_database_name_is_trimmed_but_password_is_taken_as_written() -> None:
    """ODOO_DB loses surrounding spaces and newlines; the password keeps its spaces verbatim."""
    settings = load_settings(env(ODOO_DB=" odoo\n", ODOO_PASSWORD=" pass phrase "))
    assert settings.odoo.db == "odoo"
    assert settings.odoo.password.reveal() == " pass phrase "


def test_password_is_not_in_any_error_message() -> None:
    """However many other problems there are, the configured passwords never appear in them."""
    message = problems(
        env(
            ODOO_URL=f"ftp://orderamt:{ODOO_PASSWORD}@odoo.example.com",
            ODOO_PASSWORD=ODOO_PASSWORD + "\n",
            PORTAL_DATABASE_URL=f"portal:{DB_PASSWORD}@db.example.com/portal",
            ODOO_TIMEOUT="x",
        )
    )
    assert "ODOO_URL" in message
    assert "ODOO_PASSWORD" in message
    assert "PORTAL_DATABASE_URL" in message
    assert ODOO_PASSWORD not in message
    assert DB_PASSWORD not in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "odoo.example.com",
            "ODOO_URL must be an http:// or https:// address, got 'odoo.example.com'",
        ),
        (
            "ftp://odoo.example.com",
            "ODOO_URL must be an http:// or https:// address, got 'ftp://odoo.example.com'",
        ),
        ("https://", "ODOO_URL must be an http:// or https:// address, got 'https://'"),
        (
            "https://odoo.example.com:http",
            "ODOO_URL has an invalid port: 'https://odoo.example.com:http'",
        ),
        (
            "https://odoo.example.com:99999",
            "ODOO_URL has an invalid port: 'https://odoo.example.com:99999'",
        ),
        (
            f"ftp://admin:{ODOO_PASSWORD}@odoo.example.com",
            "ODOO_URL must be an http:// or https:// address, got 'ftp://admin:***@odoo.example.com'",
        ),
        (
            f"https://admin:{ODOO_PASSWORD}@odoo.example.com:port",
            "ODOO_URL has an invalid port: 'https://admin:***@odoo.example.com:port'",
        ),
    ],
)
def test_odoo_url_must_be_a_web_address(url: str, problem: str) -> None:
    """ODOO_URL needs http(s), a host and a valid port; credentials in it are shown masked."""
    assert problems(env(ODOO_URL=url)) == f"configuration: {problem} (see .env.example)"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://odoo.example.com/", "https://odoo.example.com"),
        ("http://127.0.0.1:8069//", "http://127.0.0.1:8069"),
        ("HTTPS://Odoo.Example.com", "HTTPS://Odoo.Example.com"),
        (" https://odoo.example.com ", "https://odoo.example.com"),
    ],
)
def test_odoo_url_is_kept_without_trailing_slashes(url: str, kept: str) -> None:
    """A good ODOO_URL is accepted in any scheme case, its trailing slashes and spaces dropped."""
    assert load_settings(env(ODOO_URL=url)).odoo.url == kept


@pytest.mark.parametrize(
    "url",
    ["portal.db", f"portal:{DB_PASSWORD}@db.example.com/portal", "://nothing"],
)
def test_portal_database_url_must_be_a_url(url: str) -> None:
    """A PORTAL_DATABASE_URL that is no SQLAlchemy URL is refused with an example, unquoted."""
    message = problems(env(PORTAL_DATABASE_URL=url))
    assert message == (
        "configuration: PORTAL_DATABASE_URL is not a database URL (expected e.g. "
        "sqlite:///portal.db or mysql+pymysql://user:pass@host/db) (see .env.example)"
    )
    assert DB_PASSWORD not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///portal.db",
        "sqlite:////var/lib/portal/portal.db",
        "mysql+pymysql://user:pass@db/portal",
        "postgresql+psycopg://user@db:5432/portal",
    ],
)
def test_portal_database_urls_of_each_kind_are_taken(url: str) -> None:
    """The URL forms the README shows are accepted and kept exactly as given."""
    assert load_settings(env(PORTAL_DATABASE_URL=url)).database_url.reveal() == url


def test_mapped_fields_are_a_line_of_configuration_each() -> None:
    """ORDERAMT_<NAME>_MAP turns a field on: the known names read their Odoo field, the
    column defaults to the name; any other name reads ORDERAMT_<NAME>_FIELD."""
    settings = load_settings(
        env(
            ORDERAMT_STATUS_MAP="draft:pending, sent:pending,sale:confirmed,cancel:cancelled",
            ORDERAMT_DELIVERY_STATUS_MAP="false:none,full:delivered",
            PORTAL_COL_DELIVERY_STATUS="shipping",
            ORDERAMT_LOCKED_FIELD="locked",
            ORDERAMT_LOCKED_MAP="true:yes,false:no",
        )
    )
    assert settings.schema.fields == (
        FieldSpec("delivery_status", "delivery_status", "shipping",
                  (("false", "none"), ("full", "delivered"))),
        FieldSpec("locked", "locked", "locked", (("true", "yes"), ("false", "no"))),
        FieldSpec("status", "state", "status",
                  (("draft", "pending"), ("sent", "pending"), ("sale", "confirmed"),
                   ("cancel", "cancelled"))),
    )  # fmt: skip
    assert settings.schema.fields[2].portal_values == ("pending", "confirmed", "cancelled")
    assert load_settings(env()).schema.fields == ()


def test_a_mapped_field_set_halfway_is_refused() -> None:
    """A column without a map, a map of an unknown field without its Odoo field, a pair
    without its colon, and a value mapped twice: each named, in one message."""
    message = problems(
        env(
            PORTAL_COL_STATUS="status",
            ORDERAMT_COLOUR_MAP="red:r",
            ORDERAMT_INVOICE_STATUS_MAP="no:none,invoiced",
            ORDERAMT_DELIVERY_STATUS_MAP="full:a,full:b",
        )
    )
    assert "ORDERAMT_COLOUR_FIELD is not set (the Odoo field of ORDERAMT_COLOUR_MAP" in message
    assert "ORDERAMT_DELIVERY_STATUS_MAP maps Odoo's 'full' twice" in message
    assert (
        "ORDERAMT_INVOICE_STATUS_MAP must be odoo_value:portal_value pairs separated by "
        "commas (e.g. draft:pending,sale:confirmed), got 'invoiced'"
    ) in message
    assert "PORTAL_COL_STATUS set, but ORDERAMT_STATUS_MAP is not" in message


def test_a_status_push_is_a_line_of_configuration() -> None:
    """ORDERAMT_STATUS_PUSH names the portal values that go back to Odoo and the action each
    means; ORDERAMT_STATUS_ON_CONFLICT says who wins; without them nothing is pushed."""
    status_map = "draft:pending,sent:pending,sale:confirmed,cancel:cancelled"
    settings = load_settings(
        env(
            ORDERAMT_STATUS_MAP=status_map,
            ORDERAMT_STATUS_PUSH="cancelled:cancel, pending:draft",
            ORDERAMT_STATUS_ON_CONFLICT="Flag",
        )
    )
    (spec,) = settings.schema.fields
    assert spec.push == (("cancelled", "cancel"), ("pending", "draft"))
    assert spec.on_conflict == "flag"
    assert spec.push_action("cancelled") == "cancel"
    assert spec.push_action("confirmed") is None
    (pulled,) = load_settings(env(ORDERAMT_STATUS_MAP=status_map)).schema.fields
    assert (pulled.push, pulled.on_conflict) == ((), "odoo")


def test_every_bad_push_setting_is_named_in_one_message() -> None:
    """A push on a field that is not the status, an unknown action, a pair the map would
    undo, a value pushed twice, a bad policy and a policy without a push: one message."""
    message = problems(
        env(
            ORDERAMT_STATUS_MAP="draft:pending,sale:confirmed,cancel:cancelled",
            ORDERAMT_STATUS_PUSH="cancelled:delete,confirmed:cancel,gone:cancel,gone:draft",
            ORDERAMT_STATUS_ON_CONFLICT="whoever",
            ORDERAMT_DELIVERY_STATUS_MAP="full:delivered",
            ORDERAMT_DELIVERY_STATUS_PUSH="delivered:cancel",
            ORDERAMT_INVOICE_STATUS_MAP="no:none",
            ORDERAMT_INVOICE_STATUS_ON_CONFLICT="portal",
        )
    )
    assert (
        "ORDERAMT_STATUS_PUSH must be portal_value:action pairs separated by commas, the "
        "action one of cancel, draft (e.g. cancelled:cancel), got 'cancelled:delete'"
    ) in message
    assert (
        "ORDERAMT_STATUS_PUSH: confirmed:cancel leaves Odoo's state 'cancel', which "
        "ORDERAMT_STATUS_MAP maps to 'cancelled', not 'confirmed'"
    ) in message
    assert "ORDERAMT_STATUS_PUSH: gone:cancel leaves Odoo's state 'cancel'" in message
    assert "ORDERAMT_STATUS_ON_CONFLICT must be one of odoo, portal, flag, got 'whoever'" in message
    assert (
        "ORDERAMT_DELIVERY_STATUS_PUSH: only the status (Odoo's field state) can be pushed, "
        "not 'delivery_status'"
    ) in message
    assert (
        "ORDERAMT_INVOICE_STATUS_ON_CONFLICT is set, but ORDERAMT_INVOICE_STATUS_PUSH is not"
    ) in message


def test_push_settings_without_a_map_are_refused() -> None:
    """ORDERAMT_STATUS_PUSH alone is named as a field set halfway."""
    message = problems(env(ORDERAMT_STATUS_PUSH="cancelled:cancel"))
    assert "ORDERAMT_STATUS_PUSH set, but ORDERAMT_STATUS_MAP is not" in message


def test_mapped_field_settings_in_env_are_not_taken_for_typos(tmp_path: Path) -> None:
    """ORDERAMT_STATUS_MAP and PORTAL_COL_STATUS in .env are settings, not unknown names."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ORDERAMT_STATUS_MAP=sale:confirmed\nPORTAL_COL_STATUS=state\n", encoding="utf-8"
    )
    settings = load_settings(env(), env_file)
    assert settings.warnings == ()
    assert [spec.column for spec in settings.schema.fields] == ["state"]


def test_the_webhook_secret_is_checked_only_for_the_webhook() -> None:
    """A short ORDERAMT_WEBHOOK_SECRET does not stop a sync, which does not read it."""
    settings = load_settings(env(ORDERAMT_WEBHOOK_SECRET="too-short"))
    assert settings.listen.secret.reveal() == "too-short"


@pytest.mark.parametrize("secret", ["", "too-short", "x" * 31, "ü" * 32, "with space " * 4])
def test_a_bad_webhook_secret_is_named_with_the_other_bad_settings(secret: str) -> None:
    """For listen, a secret that is missing, short or not URL-safe is one more problem in
    the one message (exit 2), never quoted."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env(ORDERAMT_WEBHOOK_SECRET=secret, ODOO_PROTOCOL="soap"), webhook=True)
    assert caught.value.exit_code is ExitCode.USAGE
    assert str(caught.value) == (
        "configuration: ODOO_PROTOCOL must be one of auto, xmlrpc, json2, got 'soap'; "
        "ORDERAMT_WEBHOOK_SECRET must be at least 32 letters, digits, '-' or '_' (it is the "
        "only thing that keeps strangers from posting): generate one with "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))' (see .env.example)"
    )


def test_a_good_webhook_secret_is_taken() -> None:
    """32 letters, digits, '-' or '_' (what token_urlsafe makes) are a secret listen takes."""
    secret = "x8Qw-2kLp_7Zr4Tn9Vb3Hc6Jm1Yd5Fg0"
    settings = load_settings(env(ORDERAMT_WEBHOOK_SECRET=f" {secret} "), webhook=True)
    assert settings.listen.secret.reveal() == secret


def test_laravel_s_app_timezone_stands_in_for_portal_timezone(tmp_path: Path) -> None:
    """No PORTAL_TIMEZONE: Laravel's APP_TIMEZONE from the same file is the portal's zone,
    said as such; PORTAL_TIMEZONE wins where both are set, with a warning; a bad
    APP_TIMEZONE is named as Laravel's."""
    env_file = tmp_path / ".env"
    env_file.write_text("APP_TIMEZONE=Asia/Tokyo\n", encoding="utf-8")
    laravel = load_settings(env(), env_file)
    assert (laravel.schema.timezone, laravel.warnings) == ("Asia/Tokyo", ())
    assert laravel.schema.timezone_from == f"Laravel's APP_TIMEZONE in {env_file}"
    both = load_settings(env(PORTAL_TIMEZONE="Europe/Berlin"), env_file)
    assert both.schema.timezone == "Europe/Berlin"
    assert both.warnings == (
        f"PORTAL_TIMEZONE is Europe/Berlin but Laravel's APP_TIMEZONE in {env_file} is "
        "Asia/Tokyo: orderamt reads and writes the portal's times in Europe/Berlin",
    )
    env_file.write_text("APP_TIMEZONE=Mars/Olympus\n", encoding="utf-8")
    assert "APP_TIMEZONE (Laravel's; PORTAL_TIMEZONE unset)" in problems(env(), env_file)


@pytest.mark.parametrize(
    ("raw", "expected"), [("", None), ("auto", None), (" AUTO ", None), ("0", 0.0), ("2.5", 2.5)]
)
def test_the_webhook_delay_is_auto_unless_given(raw: str, expected: float | None) -> None:
    """ORDERAMT_WEBHOOK_DELAY unset or `auto` leaves the gather to Odoo's version (None);
    a number is taken as it is."""
    assert load_settings(env(ORDERAMT_WEBHOOK_DELAY=raw)).listen.delay == expected


def test_a_bad_webhook_delay_is_named() -> None:
    """A delay that is neither auto nor seconds from 0 to 60 is a configuration error."""
    with pytest.raises(ConfigError, match="ORDERAMT_WEBHOOK_DELAY must be a number of seconds"):
        load_settings(env(ORDERAMT_WEBHOOK_DELAY="soon"))


def test_a_plain_field_needs_no_map_and_may_be_the_portal_s() -> None:
    """ORDERAMT_<NAME>_FIELD=client_order_ref or note without a map copies the value as it
    is; ORDERAMT_<NAME>_PUSH=write makes the portal's changes go back with Odoo's write."""
    settings = load_settings(
        env(
            ORDERAMT_PO_FIELD="client_order_ref",
            PORTAL_COL_PO="po_number",
            ORDERAMT_PO_PUSH="write",
            ORDERAMT_PO_ON_CONFLICT="portal",
            ORDERAMT_NOTE_FIELD="note",
        )
    )
    note, po = settings.schema.fields
    assert (note.kind, note.push, note.column) == ("html", (), "note")
    assert (po.kind, po.push, po.column, po.on_conflict) == (
        "text", (("*", "write"),), "po_number", "portal"
    )  # fmt: skip
    assert po.push_action(None) == "write" and note.push_action("x") is None
    assert note.from_odoo("<p>a &amp; b</p>") == "a & b"
    assert note.from_odoo("<p>a</p><p>b</p>") == "<p>a</p><p>b</p>"
    assert po.from_odoo(False) is None


def test_a_bad_plain_field_push_is_named() -> None:
    """A plain field pushes only with write; another field without a map is refused."""
    message = problems(
        env(
            ORDERAMT_PO_FIELD="client_order_ref",
            ORDERAMT_PO_PUSH="cancel",
            ORDERAMT_ORIGIN_FIELD="origin",
        )
    )
    assert "ORDERAMT_PO_PUSH of a plain field (client_order_ref) must be write, got 'cancel'" in (
        message
    )
    assert (
        "ORDERAMT_ORIGIN_FIELD set, but ORDERAMT_ORIGIN_MAP is not (only client_order_ref, note"
        in (message)
    )
