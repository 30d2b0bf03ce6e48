"""Merge a field GeoPackage store into the shared PostgreSQL store, safely and repeatably.

Inspectors without network fill a GeoPackage store in the field; back at the office::

    gridtool findings sync --from field.gpkg --to postgresql://me@db/gridtool

:func:`sync` copies what the shared store does not have yet: new findings (with their
whole history and photos) and new status changes of findings synced before. It is
idempotent: the shared store remembers, per field store (its ``store_uuid``), which
field finding became which shared finding, at which versions, and which field events
it already holds, so running it twice changes nothing the second time.

Ids: a field finding keeps its id when the shared store has none like it; when the id is
taken by a different finding (two field stores both counted ``ZL-2026-000001``) it gets
a new shared id, listed in :attr:`SyncReport.renumbered`.

Conflicts are listed, never overwritten: when a finding changed in the field *and* on
the server since the last sync, the field changes are not applied; the report says what
each side holds, so someone can redo the field change on the server by hand.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from gridtool.errors import InputError
from gridtool.feedback import Feedback, ensure_feedback

__all__ = ["sync", "SyncReport", "SyncConflict", "content_sha256", "store_uuid"]


@dataclass(frozen=True)
class SyncConflict:
    """A field finding whose changes were not applied, and why."""

    source_id: str
    target_id: str | None
    reason: str


@dataclass(frozen=True)
class SyncReport:
    """What :func:`sync` did.

    Attributes
    ----------
    source
        The field store's ``store_uuid``.
    added
        ``(field id, shared id)`` of findings new to the shared store.
    updated
        ``(field id, shared id)`` of synced findings that got new field changes.
    unchanged
        How many field findings the shared store already held as they are.
    renumbered
        ``(field id, shared id)`` of added findings whose id was taken on the server.
    conflicts
        Field findings whose changes were not applied (see :class:`SyncConflict`).
    events_added, photos_added
        History entries and photos copied.
    problems
        Other things to look at (e.g. a photo file missing from the field folder).
    """

    source: str
    added: tuple[tuple[str, str], ...] = ()
    updated: tuple[tuple[str, str], ...] = ()
    unchanged: int = 0
    renumbered: tuple[tuple[str, str], ...] = ()
    conflicts: tuple[SyncConflict, ...] = ()
    events_added: int = 0
    photos_added: int = 0
    problems: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the shared store was changed."""
        return bool(self.added or self.updated or self.events_added or self.photos_added)

    def summary(self) -> str:
        """One line for people."""
        return (f"{len(self.added)} added ({len(self.renumbered)} renumbered), {len(self.updated)} updated, "
                f"{self.unchanged} unchanged, {len(self.conflicts)} conflict(s), {self.events_added} history "
                f"event(s), {self.photos_added} photo(s)")


_CONTENT_KEYS = ("category", "finding_type", "found_at", "description", "inspector")


def content_sha256(row: Mapping[str, Any]) -> str:
    """Hash of what a finding *is* (not its status): type, time, place (to the millimetre), text."""
    data = [row.get(k) or None for k in _CONTENT_KEYS] + [round(float(row["x"]), 3), round(float(row["y"]), 3)]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


def store_uuid(store: Any) -> str:
    """The store's ``store_uuid`` (set once, the first time a store is synced from)."""
    value = store.meta.get("store_uuid")
    if value:
        return value
    meta = store.backend.read_meta()
    value = meta.get("store_uuid")
    if not value:
        value = str(uuid.uuid4())
        with store.backend.transaction() as tx:
            tx.set_meta("store_uuid", value)
        value = store.backend.read_meta()["store_uuid"]
    store.meta["store_uuid"] = value
    return value


_STATE_COLS = ("status", "department", "closed_at", "duplicate_of", "updated_at")


def sync(from_store: Any, to_store: Any, *, feedback: Feedback | None = None) -> SyncReport:
    """Merge ``from_store`` (a field store) into ``to_store`` (the shared PostgreSQL store).

    All or nothing: one transaction on the shared store (photo bytes are stored first).

    Parameters
    ----------
    from_store
        The field :class:`~gridtool.findings.FindingsStore` (a GeoPackage).
    to_store
        The shared store; its backend must keep sync records (PostgreSQL).
    feedback
        Progress and cancellation.

    Returns
    -------
    SyncReport

    Raises
    ------
    InputError
        When ``to_store`` cannot record syncs (not PostgreSQL) or both are the same store.
    """
    fb = ensure_feedback(feedback)
    tb = to_store.backend
    if not hasattr(tb, "sync_mapping"):
        raise InputError(
            f"--to {tb.location!r} is not a PostgreSQL store; sync merges a field GeoPackage into the shared "
            "database: give --to postgresql://USER@HOST:PORT/DB"
        )
    if from_store.backend.location == tb.location:
        raise InputError(f"--from and --to are the same store ({tb.location!r}); give the field GeoPackage as --from")
    source = store_uuid(from_store)
    fb.set_progress(5, "reading the field store")
    src_rows = from_store.backend.select_findings()
    events_by: dict[str, list[dict[str, Any]]] = {}
    for e in from_store.backend.select_events():
        events_by.setdefault(e["finding_id"], []).append(e)
    photos_by: dict[str, list[Any]] = {}
    for p in from_store.photos():
        photos_by.setdefault(p.finding_id, []).append(p)
    prefix = to_store.meta.get("id_prefix", "ZL")
    id_re = re.compile(rf"^{re.escape(prefix)}-(\d{{4}})-(\d+)$")
    # Duplicates last, so the finding they point to is mapped first.
    src_rows.sort(key=lambda r: (r.get("duplicate_of") is not None,))

    added: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    renumbered: list[tuple[str, str]] = []
    conflicts: list[SyncConflict] = []
    problems: list[str] = []
    counts = {"unchanged": 0, "events": 0, "photos": 0}
    fb.set_progress(20, "merging")
    with tb.transaction() as tx:
        tx.sync_lock(source)
        mapping = tx.sync_mapping(source)
        done_events = tx.synced_events(source)
        id_map = {k: v["finding_id"] for k, v in mapping.items()}
        # Field ids that are free on the server are kept; move the counter past them first,
        # so a renumbered finding never takes the id a later field finding keeps.
        for src in src_rows:
            match = id_re.match(src["finding_id"])
            if match and src["finding_id"] not in mapping and tx.fetch_finding(src["finding_id"]) is None:
                tx.bump_id_counter(int(match.group(1)), int(match.group(2)))

        def copy_history(src: Mapping[str, Any], target_id: str, evs: list[dict[str, Any]]) -> None:
            rows = [{**{k: e.get(k) for k in e if k != "event_id"}, "finding_id": target_id} for e in evs]
            new_ids = tx.insert_events(rows)
            tx.record_sync_events(source, [(e["event_id"], n) for e, n in zip(evs, new_ids)])
            counts["events"] += len(evs)
            have = {(r["sha256"], r["kind"]) for r in tx.select_photos([target_id])}
            photo_rows = []
            for p in photos_by.get(src["finding_id"], []):
                if (p.sha256, p.kind) in have:
                    continue
                if not p.path.is_file():
                    problems.append(f"photo {p.stored_name} of {src['finding_id']} is missing from the field folder "
                                    f"{str(p.path.parent)!r}; copy it there and sync again")
                    continue
                tx.put_photo_bytes(p.stored_name, p.sha256, p.path.read_bytes())
                photo_rows.append({
                    "finding_id": target_id, "stored_name": p.stored_name, "original_name": p.original_name,
                    "sha256": p.sha256, "taken_at": _time_text(p.taken_at), "lon": p.lon, "lat": p.lat,
                    "kind": p.kind, "added_at": _now_text(),
                })
                have.add((p.sha256, p.kind))
            tx.insert_photos(photo_rows)
            counts["photos"] += len(photo_rows)

        for i, src in enumerate(src_rows):
            fb.step(i, len(src_rows), "merging", lo=20, hi=95)
            sid = src["finding_id"]
            evs = [e for e in events_by.get(sid, []) if int(e["event_id"]) not in done_events]
            chash = content_sha256(src)
            dup = src.get("duplicate_of")
            dup_target = id_map.get(dup, dup) if dup else None
            m = mapping.get(sid)
            if m is None:
                existing = tx.fetch_finding(sid)
                if existing is not None and content_sha256(existing) == chash:
                    # The same finding reached the server another way (a copy of this field store).
                    if existing["status"] == src["status"]:
                        tx.record_sync(source, sid, sid, int(src["version"]), int(existing["version"]), chash)
                        id_map[sid] = sid
                        counts["unchanged"] += 1
                    else:
                        conflicts.append(SyncConflict(
                            sid, sid, f"the server holds this finding already with status {existing['status']} "
                            f"(version {existing['version']}); the field copy has {src['status']} "
                            f"(version {src['version']}); not overwritten"))
                    continue
                target_id = sid
                match = id_re.match(sid)
                if existing is not None:
                    year = int(match.group(1)) if match else int(str(src["found_at"])[:4])
                    seq = tx.allocate_ids(year, 1)
                    target_id = f"{prefix}-{year}-{seq:06d}"
                    renumbered.append((sid, target_id))
                elif match:
                    tx.bump_id_counter(int(match.group(1)), int(match.group(2)))
                row = dict(src)
                row["finding_id"] = target_id
                row["duplicate_of"] = dup_target
                tx.insert_findings([row])
                copy_history(src, target_id, evs)
                tx.record_sync(source, sid, target_id, int(src["version"]), int(src["version"]), chash)
                id_map[sid] = target_id
                added.append((sid, target_id))
                continue
            target_id = m["finding_id"]
            if int(src["version"]) == int(m["source_version"]) and not evs:
                counts["unchanged"] += 1
                continue
            cur = tx.fetch_finding(target_id)
            if cur is None or int(cur["version"]) != int(m["target_version"]):
                conflicts.append(SyncConflict(
                    sid, target_id,
                    f"changed in the field (now {src['status']}, version {src['version']}) and on the server since "
                    f"the last sync (now {cur['status'] if cur else 'missing'}, version "
                    f"{cur['version'] if cur else '-'}); the field changes were not applied: redo them on the server"))
                continue
            changes = {c: src.get(c) for c in _STATE_COLS}
            changes["duplicate_of"] = dup_target
            if not tx.update_finding(target_id, changes, int(cur["version"])):
                conflicts.append(SyncConflict(sid, target_id, "changed on the server during the sync; run sync again"))
                continue
            copy_history(src, target_id, evs)
            tx.record_sync(source, sid, target_id, int(src["version"]), int(cur["version"]) + 1, chash)
            updated.append((sid, target_id))
    fb.set_progress(100, "done")
    return SyncReport(
        source=source, added=tuple(added), updated=tuple(updated), unchanged=counts["unchanged"],
        renumbered=tuple(renumbered), conflicts=tuple(conflicts), events_added=counts["events"],
        photos_added=counts["photos"], problems=tuple(problems),
    )


def _time_text(value: Any) -> str | None:
    from gridtool.findings import _db_time

    return _db_time(value) if value is not None else None


def _now_text() -> str:
    from gridtool.findings import _db_time, _now

    return _db_time(_now())
