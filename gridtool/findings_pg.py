"""The findings store on PostgreSQL/PostGIS: one shared database for many inspectors.

Open it like the GeoPackage store, with a URL instead of a file name::

    store = FindingsStore.open("postgresql://inspector@db.example:5432/gridtool")
    store = open_store("postgresql://inspector@db/gridtool?schema=zhonglou")   # own schema

The :class:`PostgresBackend` implements :class:`gridtool.findings.FindingsBackend` with
psycopg 3, so the ids, workflow, deadlines, history and photos are the same as in the
GeoPackage. What differs is where things live:

* ``findings.geom`` is a PostGIS ``geometry(Point, 4549)`` with a GiST index (QGIS opens
  the table directly); times are ``timestamptz``, deadlines ``date``.
* Photo bytes are stored in the table ``finding_photo_blobs`` (content-addressed by
  SHA-256), so every client sees every photo; a client keeps a local cache of the files
  it has shown (:attr:`PostgresBackend.photo_dir`).
* The schema is created and upgraded by :func:`migrate` (the numbered :data:`MIGRATIONS`,
  each in one transaction under an advisory lock, recorded in ``gridtool_schema_version``).
* Ids come from a per-year counter row updated in the same transaction as the insert,
  so they stay unique and gap-free among any number of clients.
* Status changes are ``UPDATE ... WHERE finding_id = %s AND version = %s``: a change
  based on a stale version is refused as :class:`~gridtool.errors.ConflictError`.
* ``finding_events`` and ``finding_photos`` are append-only (triggers raise on UPDATE,
  DELETE and TRUNCATE), findings are never deleted.

Credentials: give no password in the URL. libpq reads it from the password file
(``~/.pgpass`` or ``PGPASSFILE``) or ``PGPASSWORD``; a URL with a password is accepted
with a :class:`PasswordInURLWarning`, and the password is never shown in messages
(:func:`redact_url`). A role with :func:`grant_read_only` rights can read the store; a
change then fails with :class:`StorePermissionError`.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from gridtool.atomic import atomic_write_bytes
from gridtool.errors import InputError, ReadError
from gridtool.kinds import WORK_EPSG

__all__ = [
    "build_pg_url", "PostgresBackend", "PgLocation", "parse_pg_url", "redact_url", "is_pg_url", "MIGRATIONS", "migrate",
    "schema_version", "grant_read_only", "StorePermissionError", "PasswordInURLWarning", "READ_ONLY_ROLE",
]

READ_ONLY_ROLE = "gridtool_readonly"
"""The role :func:`grant_read_only` creates by default; grant it to users who may only view."""


class StorePermissionError(InputError, PermissionError):
    """The database role may not make this change (e.g. a read-only role)."""


class PasswordInURLWarning(UserWarning):
    """A store URL carries a password; use the PostgreSQL password file or PGPASSWORD instead."""


# ----------------------------------------------------------------------------------
# URLs
# ----------------------------------------------------------------------------------
_URL_SCHEMES = ("postgresql://", "postgres://")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_pg_url(location: object) -> bool:
    """True for ``postgresql://...`` and ``postgres://...`` store locations."""
    return isinstance(location, str) and location.strip().lower().startswith(_URL_SCHEMES)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print and log)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "postgresql://***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, "***" if k.lower() == "password" else v) for k, v in query]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, urllib.parse.urlencode(query), ""))


def build_pg_url(host: str, port: int | str | None, database: str, user: str | None = None,
                 schema: str | None = None) -> str:
    """``postgresql://USER@HOST:PORT/DB?schema=NAME`` from its parts (no password: it never goes in a URL)."""
    host, database = str(host or "").strip(), str(database or "").strip()
    if not host or not database:
        raise InputError("a database connection needs a host and a database name, e.g. localhost and gridtool")
    q = urllib.parse.quote
    netloc = (q(user.strip(), safe="") + "@" if user and user.strip() else "") + (f"[{host}]" if ":" in host else host)
    if port not in (None, ""):
        try:
            p = int(port)
        except (TypeError, ValueError):
            p = -1
        if not 0 < p < 65536:
            raise InputError(f"port {port!r} is not a TCP port; expected 1-65535 (PostgreSQL's default is 5432)")
        netloc += f":{p}"
    url = f"postgresql://{netloc}/{q(database, safe='')}"
    if schema and schema.strip() and schema.strip() != "gridtool":
        url += "?schema=" + q(schema.strip(), safe="")
    parse_pg_url(url)  # validates the schema name
    return url


@dataclass(frozen=True)
class PgLocation:
    """A parsed store URL: what to connect to (``conninfo``) and which schema holds the store."""

    conninfo: str
    schema: str
    display: str
    has_password: bool


def parse_pg_url(url: str) -> PgLocation:
    """Split a store URL into libpq conninfo and the store's schema (``?schema=NAME``, default ``gridtool``).

    Raises
    ------
    InputError
        For a URL that is not ``postgresql://[USER@]HOST[:PORT]/DB[?schema=NAME]``.
    """
    text = str(url).strip()
    display = redact_url(text)
    if not is_pg_url(text):
        raise InputError(f"--store {display!r} is not a PostgreSQL URL; expected postgresql://USER@HOST:PORT/DB")
    try:
        parts = urllib.parse.urlsplit(text)
        _ = parts.port
    except ValueError as exc:
        raise InputError(f"--store {display!r} is not a valid URL ({exc}); expected postgresql://USER@HOST:PORT/DB") from None
    db = parts.path.lstrip("/")
    if not parts.hostname or not db:
        raise InputError(f"--store {display!r} lacks a host or database name; expected postgresql://USER@HOST:PORT/DB")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    schema = "gridtool"
    rest = []
    for k, v in query:
        if k == "schema":
            schema = v
        else:
            rest.append((k, v))
    if not _IDENT.match(schema):
        raise InputError(
            f"--store {display!r} names the schema {schema!r}; expected lower-case letters, digits and _ "
            "(starting with a letter), e.g. ?schema=zhonglou"
        )
    has_password = parts.password is not None or any(k.lower() == "password" for k, _ in rest)
    conninfo = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, urllib.parse.urlencode(rest), ""))
    return PgLocation(conninfo=conninfo, schema=schema, display=display, has_password=has_password)


# ----------------------------------------------------------------------------------
# migrations
# ----------------------------------------------------------------------------------
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "initial", """
CREATE TABLE findings (
  fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  geom geometry(Point, 4549) NOT NULL,
  finding_id text NOT NULL UNIQUE, category text NOT NULL, finding_type text NOT NULL,
  status text NOT NULL, description text, inspector text, found_at timestamptz NOT NULL,
  department text, street_code text, community_code text, park_code text, responsible_unit text,
  deadline date, closed_at timestamptz, version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  updated_at timestamptz, duplicate_of text,
  x double precision NOT NULL, y double precision NOT NULL,
  lon double precision NOT NULL, lat double precision NOT NULL);
CREATE INDEX findings_status ON findings (status, finding_type);
CREATE INDEX findings_x ON findings (x);
CREATE INDEX findings_street ON findings (street_code);
CREATE INDEX findings_community ON findings (community_code);
CREATE INDEX findings_park ON findings (park_code);
CREATE TABLE finding_events (
  event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  finding_id text NOT NULL REFERENCES findings (finding_id),
  at timestamptz NOT NULL, actor text, from_status text, to_status text NOT NULL, note text,
  evidence_photo text, reason text, department text);
CREATE INDEX finding_events_finding ON finding_events (finding_id);
CREATE TABLE finding_photo_blobs (
  stored_name text PRIMARY KEY, sha256 text NOT NULL, data bytea NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE finding_photos (
  photo_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  finding_id text NOT NULL REFERENCES findings (finding_id),
  stored_name text NOT NULL REFERENCES finding_photo_blobs (stored_name), original_name text,
  sha256 text NOT NULL, taken_at timestamptz, lon double precision, lat double precision,
  kind text NOT NULL CHECK (kind IN ('report', 'evidence')), added_at timestamptz NOT NULL);
CREATE INDEX finding_photos_finding ON finding_photos (finding_id);
CREATE INDEX finding_photos_sha ON finding_photos (sha256);
CREATE TABLE gridtool_meta (key text PRIMARY KEY, value text);
CREATE TABLE gridtool_id_counters (year integer PRIMARY KEY, last_seq integer NOT NULL);
CREATE FUNCTION gridtool_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: history is never edited or deleted', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE FUNCTION gridtool_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'findings are never deleted: set the status to rejected or duplicate'
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER finding_events_append_only BEFORE UPDATE OR DELETE ON finding_events
  FOR EACH ROW EXECUTE FUNCTION gridtool_append_only();
CREATE TRIGGER finding_events_no_truncate BEFORE TRUNCATE ON finding_events
  FOR EACH STATEMENT EXECUTE FUNCTION gridtool_append_only();
CREATE TRIGGER finding_photos_append_only BEFORE UPDATE OR DELETE ON finding_photos
  FOR EACH ROW EXECUTE FUNCTION gridtool_append_only();
CREATE TRIGGER finding_photo_blobs_append_only BEFORE UPDATE OR DELETE ON finding_photo_blobs
  FOR EACH ROW EXECUTE FUNCTION gridtool_append_only();
CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings
  FOR EACH ROW EXECUTE FUNCTION gridtool_no_delete();
CREATE TRIGGER findings_no_truncate BEFORE TRUNCATE ON findings
  FOR EACH STATEMENT EXECUTE FUNCTION gridtool_no_delete();
"""),
    (2, "spatial_index_and_sync", """
CREATE INDEX findings_geom ON findings USING gist (geom);
CREATE TABLE gridtool_sync_findings (
  source text NOT NULL, source_finding_id text NOT NULL,
  finding_id text NOT NULL REFERENCES findings (finding_id),
  source_version integer NOT NULL, target_version integer NOT NULL, content_sha256 text NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, source_finding_id));
CREATE TABLE gridtool_sync_events (
  source text NOT NULL, source_event_id bigint NOT NULL,
  event_id bigint NOT NULL REFERENCES finding_events (event_id),
  PRIMARY KEY (source, source_event_id));
"""),
)
"""The schema, as numbered steps: ``(version, name, SQL)``. Never edit a released step; add one."""

LATEST_VERSION = MIGRATIONS[-1][0]


def _q(ident: str) -> str:
    if not _IDENT.match(ident):
        raise InputError(f"{ident!r} is not a valid schema/role name; expected lower-case letters, digits and _")
    return '"' + ident + '"'


def schema_version(conn: Any, schema: str) -> int:
    """The schema version of the store in ``schema`` (0 when there is none)."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{_q(schema)}.gridtool_schema_version",)
    ).fetchone()
    if not row[0]:
        return 0
    row = conn.execute(f"SELECT coalesce(max(version), 0) FROM {_q(schema)}.gridtool_schema_version").fetchone()
    return int(row[0])


def migrate(conn: Any, schema: str, *, target: int | None = None) -> list[int]:
    """Bring the store in ``schema`` up to ``target`` (default: the latest version).

    Each step runs in its own transaction holding a transaction-level advisory lock on
    the schema, and re-reads the version under the lock, so clients starting at the same
    time apply each step exactly once. Returns the versions applied (empty when current).
    """
    target = LATEST_VERSION if target is None else int(target)
    if schema_version(conn, schema) >= target:
        return []
    applied: list[int] = []
    for version, name, sql in MIGRATIONS:
        if version > target:
            break
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"gridtool-migrate:{schema}",))
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {_q(schema)}.gridtool_schema_version ("
                "version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            if schema_version(conn, schema) >= version:
                continue
            if version == 1:
                _ensure_postgis(conn)
            conn.execute(f"SET LOCAL search_path TO {_q(schema)}, public")
            conn.execute(sql)
            conn.execute(f"INSERT INTO {_q(schema)}.gridtool_schema_version (version, name) VALUES (%s, %s)",
                         (version, name))
            applied.append(version)
    return applied


def _ensure_postgis(conn: Any) -> None:
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
    if row is None:
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except Exception as exc:  # noqa: BLE001 - psycopg raises per-SQLSTATE classes
            raise InputError(
                "the database has no PostGIS and this role may not install it "
                f"({exc.__class__.__name__}); ask the database administrator to run 'CREATE EXTENSION postgis' "
                "in this database (package postgresql-15-postgis-3)"
            ) from None


def grant_read_only(store_or_url: Any, role: str = READ_ONLY_ROLE, *, create: bool = True) -> str:
    """Give ``role`` read access to a store (create the role, NOLOGIN, when missing).

    Grant it to people who may view but not change: ``GRANT gridtool_readonly TO alice``.
    Needs a role that owns the store's tables (the one that created it).

    Parameters
    ----------
    store_or_url
        A :class:`~gridtool.findings.FindingsStore` on PostgreSQL, a :class:`PostgresBackend`
        or a store URL.
    role
        The role to grant to.
    create
        Create the role when it does not exist.

    Returns
    -------
    str
        The role name.
    """
    backend = getattr(store_or_url, "backend", store_or_url)
    own = None
    if isinstance(backend, str):
        own = backend = PostgresBackend(backend)
        backend._migrate()
    if not isinstance(backend, PostgresBackend):
        raise InputError("grant_read_only needs a PostgreSQL findings store (postgresql://...)")
    qs, qr = _q(backend.schema), _q(role)
    try:
        with backend._lock, backend._conn.transaction():
            c = backend._conn
            exists = c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            if exists is None:
                if not create:
                    raise InputError(f"role {role!r} does not exist; create it or pass create=True")
                c.execute(f"CREATE ROLE {qr} NOLOGIN")
            c.execute(f"GRANT CONNECT ON DATABASE {_q_db(c)} TO {qr}")
            c.execute(f"GRANT USAGE ON SCHEMA {qs} TO {qr}")
            c.execute(f"GRANT USAGE ON SCHEMA public TO {qr}")
            c.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {qs} TO {qr}")
            c.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {qs} GRANT SELECT ON TABLES TO {qr}")
    finally:
        if own is not None:
            own.close()
    return role


def _q_db(conn: Any) -> str:
    name = conn.execute("SELECT current_database()").fetchone()[0]
    return '"' + str(name).replace('"', '""') + '"'


# ----------------------------------------------------------------------------------
# the backend
# ----------------------------------------------------------------------------------
_TS_COLS = {"found_at", "closed_at", "updated_at", "at", "taken_at", "added_at"}
_DATE_COLS = {"deadline"}


def _select_list(cols: Sequence[str]) -> str:
    out = []
    for c in cols:
        if c in _TS_COLS:
            out.append(f"""to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS {c}""")
        elif c in _DATE_COLS:
            out.append(f"to_char({c}, 'YYYY-MM-DD') AS {c}")
        else:
            out.append(c)
    return ", ".join(out)


def _default_cache_dir(loc: PgLocation) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = hashlib.sha256(f"{loc.display}|{loc.schema}".encode()).hexdigest()[:16]
    return Path(base) / "gridtool" / "pg-photos" / key


class PostgresBackend:
    """The PostgreSQL/PostGIS backend of :class:`gridtool.findings.FindingsStore`.

    Parameters
    ----------
    url
        ``postgresql://[USER@]HOST[:PORT]/DB[?schema=NAME]`` (schema default ``gridtool``).
        No password in the URL: libpq reads ``~/.pgpass``/``PGPASSFILE`` or ``PGPASSWORD``.
    photo_cache_dir
        Where photo files fetched from the database are kept for display (default under
        ``~/.cache/gridtool/pg-photos/``). The database holds the photos; this is a cache.
    connect_timeout_s
        How long to wait for the server.
    password
        A password typed in by the user (the UI asks each time); used for this
        connection only, never stored or shown.
    """

    def __init__(self, url: str, *, photo_cache_dir: str | os.PathLike[str] | None = None,
                 connect_timeout_s: int = 10, password: str | None = None) -> None:
        import psycopg

        self._loc = parse_pg_url(url)
        if self._loc.has_password:
            warnings.warn(
                f"the store URL {self._loc.display} contains a password; it may end up in shell history and "
                "project files. Put it in the PostgreSQL password file (~/.pgpass or PGPASSFILE) or PGPASSWORD",
                PasswordInURLWarning, stacklevel=3,
            )
        self.schema = self._loc.schema
        self.location = self._loc.display
        self.photo_dir = Path(photo_cache_dir) if photo_cache_dir is not None else _default_cache_dir(self._loc)
        self._lock = threading.RLock()
        self._in_tx = False
        try:
            extra = {"password": password} if password else {}
            self._conn = psycopg.connect(self._loc.conninfo, autocommit=True, connect_timeout=connect_timeout_s,
                                         application_name="gridtool", **extra)
        except psycopg.OperationalError as exc:
            msg = _first_line(exc, self._loc)
            if password:
                msg = msg.replace(password, "***")
            raise ReadError(
                f"--store {self.location!r}: cannot connect to the database ({msg}); check "
                "host, port and database name, that the server runs, and that the password is in ~/.pgpass "
                "(or PGPASSFILE / PGPASSWORD)"
            ) from None
        self._conn.execute(f"SET search_path TO {_q(self.schema)}, public")

    # -- errors -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.errors.InsufficientPrivilege:
            user = self._user()
            raise StorePermissionError(
                f"--store {self.location!r}: the database role {user!r} may only read this findings store, so it "
                f"cannot {what}; ask the administrator for write rights, or connect as an editing user"
            ) from None
        except psycopg.errors.ReadOnlySqlTransaction:
            raise StorePermissionError(
                f"--store {self.location!r} is a read-only server (standby); it cannot {what}; connect to the primary"
            ) from None
        except psycopg.OperationalError as exc:
            raise ReadError(
                f"--store {self.location!r}: the connection to the database failed ({_first_line(exc, self._loc)}); "
                "try again when the server is reachable"
            ) from None

    def _user(self) -> str:
        try:
            return str(self._conn.info.user)
        except Exception:  # noqa: BLE001 - connection may be broken
            return "?"

    # -- schema ---------------------------------------------------------------------
    def _migrate(self) -> list[int]:
        with self._lock, self._errors("create or upgrade the schema"):
            return migrate(self._conn, self.schema)

    def initialize(self, meta: Mapping[str, str]) -> None:
        """Create or upgrade the schema (migrations), then store ``meta`` once in a new store."""
        with self._lock:
            current = schema_version(self._conn, self.schema)
            if current > LATEST_VERSION:
                raise InputError(
                    f"--store {self.location!r} has schema version {current}, newer than this gridtool "
                    f"({LATEST_VERSION}); upgrade gridtool to open it"
                )
            if current < LATEST_VERSION:
                self._migrate()
            has_meta = self._conn.execute("SELECT EXISTS (SELECT 1 FROM gridtool_meta)").fetchone()[0]
            if has_meta:
                return
            with self.transaction():
                self._conn.execute("LOCK TABLE gridtool_meta IN EXCLUSIVE MODE")
                if self._conn.execute("SELECT EXISTS (SELECT 1 FROM gridtool_meta)").fetchone()[0]:
                    return
                self._conn.cursor().executemany(
                    "INSERT INTO gridtool_meta (key, value) VALUES (%s, %s)", list(meta.items())
                )

    def read_meta(self) -> dict[str, str]:
        with self._lock, self._errors("read the store"):
            if schema_version(self._conn, self.schema) == 0:
                raise InputError(f"--store {self.location!r} has no findings store in schema {self.schema!r}")
            return {k: v for k, v in self._conn.execute("SELECT key, value FROM gridtool_meta")}

    # -- transactions ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator["PostgresBackend"]:
        """One transaction (READ COMMITTED); rolled back on any error, committed on success."""
        with self._lock:
            if self._in_tx:
                raise RuntimeError("nested findings transactions are not supported")
            with self._errors("change it"):
                with self._conn.transaction():
                    self._in_tx = True
                    try:
                        yield self
                    finally:
                        self._in_tx = False

    def allocate_ids(self, year: int, count: int) -> int:
        row = self._conn.execute(
            "INSERT INTO gridtool_id_counters (year, last_seq) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last_seq = gridtool_id_counters.last_seq + excluded.last_seq "
            "RETURNING last_seq",
            (int(year), int(count)),
        ).fetchone()
        return int(row[0])

    def bump_id_counter(self, year: int, seq: int) -> None:
        """Make sure the counter of ``year`` is at least ``seq`` (tx; after inserting a given id)."""
        self._conn.execute(
            "INSERT INTO gridtool_id_counters (year, last_seq) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last_seq = greatest(gridtool_id_counters.last_seq, excluded.last_seq)",
            (int(year), int(seq)),
        )

    def insert_findings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        from gridtool.findings import FINDING_COLUMNS

        if not rows:
            return
        cols = FINDING_COLUMNS
        sql = (f"INSERT INTO findings (geom, {', '.join(cols)}) VALUES "
               f"(ST_SetSRID(ST_MakePoint(%s, %s), {WORK_EPSG}), {', '.join(['%s'] * len(cols))})")
        self._conn.cursor().executemany(sql, [[r["x"], r["y"]] + [r.get(c) for c in cols] for r in rows])

    def fetch_finding(self, finding_id: str) -> dict[str, Any] | None:
        from gridtool.findings import FINDING_COLUMNS

        # Inside a transaction the row is locked until commit, so the version read here
        # is the one the UPDATE checks (no spurious conflicts between two unversioned changes).
        lock = " FOR UPDATE" if self._in_tx else ""
        with self._lock, self._errors("read the store"):
            cur = self._conn.cursor(row_factory=_dict_rows)
            row = cur.execute(f"SELECT {_select_list(FINDING_COLUMNS)} FROM findings WHERE finding_id = %s{lock}",
                              (finding_id,)).fetchone()
            return row

    def update_finding(self, finding_id: str, changes: Mapping[str, Any], expected_version: int) -> bool:
        from gridtool.findings import FINDING_COLUMNS

        allowed = set(FINDING_COLUMNS) - {"finding_id", "version", "x", "y", "lon", "lat"}
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"cannot update columns {sorted(bad)}")
        cols = list(changes)
        sets = ", ".join([f"{c} = %s" for c in cols] + ["version = version + 1"])
        cur = self._conn.execute(
            f"UPDATE findings SET {sets} WHERE finding_id = %s AND version = %s",
            [changes[c] for c in cols] + [finding_id, int(expected_version)],
        )
        return cur.rowcount == 1

    def insert_events(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        from gridtool.findings import EVENT_COLUMNS

        if not rows:
            return []
        cols = EVENT_COLUMNS[1:]
        sql = f"INSERT INTO finding_events ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING event_id"
        cur = self._conn.cursor()
        ids: list[int] = []
        cur.executemany(sql, [[r.get(c) for c in cols] for r in rows], returning=True)
        while True:
            row = cur.fetchone()
            if row is not None:
                ids.append(int(row[0]))
            if not cur.nextset():
                break
        return ids

    def insert_photos(self, rows: Sequence[Mapping[str, Any]]) -> None:
        from gridtool.findings import PHOTO_COLUMNS

        if not rows:
            return
        cols = PHOTO_COLUMNS[1:]
        self._conn.cursor().executemany(
            f"INSERT INTO finding_photos ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
            [[r.get(c) for c in cols] for r in rows],
        )

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO gridtool_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- photos -----------------------------------------------------------------------
    def keep_photo(self, info: Any) -> str:
        """Store a photo's bytes in the database (once per content); return its stored name.

        Committed on its own before the row naming it, like the GeoPackage's photo file;
        a copy also goes to the local cache so this client can show it at once.
        """
        from gridtool.photos import copy_into_folder

        name = f"{info.sha256[:24]}{info.ext}"
        data = Path(info.path).read_bytes()
        if hashlib.sha256(data).hexdigest() != info.sha256:
            raise ReadError(f"photo {str(info.path)!r} changed while it was being imported; try again")
        self.put_photo_bytes(name, info.sha256, data)
        copy_into_folder(info, self.photo_dir)
        return name

    def put_photo_bytes(self, stored_name: str, sha256: str, data: bytes) -> None:
        """Insert a photo blob unless one with this name is stored (own transaction)."""
        with self._lock, self._errors("store a photo"):
            if self._in_tx:
                self._insert_blob(stored_name, sha256, data)
            else:
                with self._conn.transaction():
                    self._insert_blob(stored_name, sha256, data)

    def _insert_blob(self, stored_name: str, sha256: str, data: bytes) -> None:
        self._conn.execute(
            "INSERT INTO finding_photo_blobs (stored_name, sha256, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (stored_name) DO NOTHING",
            (stored_name, sha256, data),
        )

    def photo_bytes(self, stored_name: str) -> bytes | None:
        """The bytes of a stored photo (None when the database has none of that name)."""
        with self._lock, self._errors("read a photo"):
            row = self._conn.execute("SELECT data FROM finding_photo_blobs WHERE stored_name = %s",
                                     (stored_name,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def materialize_photo(self, stored_name: str, path: Path) -> Path:
        """Make sure the cache file ``path`` holds the photo ``stored_name`` (fetched when missing)."""
        if path.is_file():
            return path
        data = self.photo_bytes(stored_name)
        if data is None:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data, durable=False)  # a cache: the database holds the photo
        return path

    # -- sync bookkeeping -------------------------------------------------------------------
    def sync_lock(self, source: str) -> None:
        """Serialise syncs of one source (tx)."""
        self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"gridtool-sync:{self.schema}:{source}",))

    def sync_mapping(self, source: str) -> dict[str, dict[str, Any]]:
        cur = self._conn.cursor(row_factory=_dict_rows)
        rows = cur.execute(
            "SELECT source_finding_id, finding_id, source_version, target_version, content_sha256 "
            "FROM gridtool_sync_findings WHERE source = %s", (source,)).fetchall()
        return {r["source_finding_id"]: r for r in rows}

    def synced_events(self, source: str) -> set[int]:
        rows = self._conn.execute("SELECT source_event_id FROM gridtool_sync_events WHERE source = %s", (source,))
        return {int(r[0]) for r in rows}

    def record_sync(self, source: str, source_finding_id: str, finding_id: str, source_version: int,
                    target_version: int, content_sha256: str) -> None:
        self._conn.execute(
            "INSERT INTO gridtool_sync_findings (source, source_finding_id, finding_id, source_version, "
            "target_version, content_sha256) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source, source_finding_id) DO UPDATE SET source_version = excluded.source_version, "
            "target_version = excluded.target_version, synced_at = now()",
            (source, source_finding_id, finding_id, int(source_version), int(target_version), content_sha256),
        )

    def record_sync_events(self, source: str, pairs: Sequence[tuple[int, int]]) -> None:
        if pairs:
            self._conn.cursor().executemany(
                "INSERT INTO gridtool_sync_events (source, source_event_id, event_id) VALUES (%s, %s, %s)",
                [(source, int(a), int(b)) for a, b in pairs],
            )

    # -- reads ------------------------------------------------------------------------
    def select_findings(
        self,
        *,
        statuses: Sequence[str] | None = None,
        grid_code: str | None = None,
        finding_type: str | None = None,
        category: str | None = None,
        department: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        ids: Sequence[str] | None = None,
        deadline_before: str | None = None,
    ) -> list[dict[str, Any]]:
        from gridtool.findings import FINDING_COLUMNS

        where: list[str] = []
        params: list[Any] = []
        if statuses:
            where.append("status = ANY(%s)")
            params.append(list(statuses))
        if grid_code:
            where.append("(street_code = %s OR community_code = %s OR park_code = %s)")
            params += [grid_code] * 3
        for col, val in (("finding_type", finding_type), ("category", category), ("department", department)):
            if val:
                where.append(f"{col} = %s")
                params.append(val)
        if bbox is not None:
            where.append(f"geom && ST_MakeEnvelope(%s, %s, %s, %s, {WORK_EPSG})")
            params += [float(b) for b in bbox]
        if ids is not None:
            if not ids:
                return []
            where.append("finding_id = ANY(%s)")
            params.append(list(ids))
        if deadline_before:
            where.append("deadline < %s::date")
            params.append(deadline_before)
        sql = f"SELECT {_select_list(FINDING_COLUMNS)} FROM findings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY fid"
        with self._lock, self._errors("read the store"):
            return self._conn.cursor(row_factory=_dict_rows).execute(sql, params).fetchall()

    def select_events(self, finding_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        from gridtool.findings import EVENT_COLUMNS

        sql = f"SELECT {_select_list(EVENT_COLUMNS)} FROM finding_events"
        params: list[Any] = []
        if finding_ids is not None:
            sql += " WHERE finding_id = ANY(%s)"
            params.append(list(finding_ids))
        with self._lock, self._errors("read the store"):
            return self._conn.cursor(row_factory=_dict_rows).execute(sql + " ORDER BY event_id", params).fetchall()

    def select_photos(self, finding_ids: Sequence[str] | None = None, *, sha256: str | None = None) -> list[dict[str, Any]]:
        from gridtool.findings import PHOTO_COLUMNS

        sql = f"SELECT {_select_list(PHOTO_COLUMNS)} FROM finding_photos"
        where: list[str] = []
        params: list[Any] = []
        if finding_ids is not None:
            where.append("finding_id = ANY(%s)")
            params.append(list(finding_ids))
        if sha256 is not None:
            where.append("sha256 = %s")
            params.append(sha256)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock, self._errors("read the store"):
            return self._conn.cursor(row_factory=_dict_rows).execute(sql + " ORDER BY photo_id", params).fetchall()

    def integrity_check(self) -> str:
        """``"ok"`` when every photo row has its bytes and every event its finding."""
        with self._lock, self._errors("check the store"):
            missing = self._conn.execute(
                "SELECT count(*) FROM finding_photos p LEFT JOIN finding_photo_blobs b USING (stored_name) "
                "WHERE b.stored_name IS NULL").fetchone()[0]
        return "ok" if missing == 0 else f"{missing} photo row(s) without bytes"

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _dict_rows(cursor: Any) -> Any:
    from psycopg.rows import dict_row

    return dict_row(cursor)


def _first_line(exc: BaseException, loc: PgLocation) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    # libpq messages can quote the conninfo; never let a password through.
    parts = urllib.parse.urlsplit(loc.conninfo)
    if parts.password:
        text = text.replace(parts.password, "***")
    return text
