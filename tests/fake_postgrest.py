"""The PostgREST half of the fake Supabase (tests/fake_supabase.py): the five Train Mode tables
in memory, with the schema's unique/foreign-key/check constraints, the triggers and the two RPC
functions of supabase/migrations mirrored in Python, a privilege model and max-rows.

Rules copied from the real services (PostgREST at 4834678, supabase/cli at 0000e2e):
- 42501 (insufficient privilege) is HTTP 403 for a request with a JWT, 401 without
  (PostgREST src/library/PostgREST/Error.hs:589).
- A read returns at most max-rows rows whatever limit the client asks for
  (PostgREST src/library/PostgREST/Plan.hs:527-529); Supabase sets max_rows = 1000
  (supabase/cli pkg/config/templates/config.toml:18).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from trainmode.store.supabase.check import COLUMNS

MAX_ROWS = 1000
FUNCTIONS = (
    "train_mode_begin_export",
    "train_mode_heartbeat_export",
    "train_mode_complete_export",
    "train_mode_schema_report",
    "train_mode_set_rows",
)
DEFAULTS = {
    "artist_profiles": {"master_schema": dict},
    "exports": {"item_count": lambda: 0, "bytes": lambda: 0},
    "training_items": {
        "status": lambda: "ready",
        "prompt_edited": lambda: False,
        "provenance": dict,
        "findings": list,
        "metadata": dict,
    },
    "training_clips": {
        "mode": lambda: "sections",
        "section": lambda: "",
        "variants": dict,
        "findings": list,
        "edited": lambda: False,
        "dropped": lambda: False,
    },
}
# name -> (table, columns, applies-to-row predicate)
UNIQUE = {
    "artists_name_key": ("artists", ("name",), None),
    "artist_profiles_artist_id_key": ("artist_profiles", ("artist_id",), None),
    "als_summaries_artist_parse_key": ("als_summaries", ("artist_id", "parse_id"), None),
    "training_items_artist_audio_key": ("training_items", ("artist_id", "audio_sha256"), None),
    "exports_one_building_idx": ("exports", ("artist_id",), lambda r: r["status"] == "building"),
    "queue_drafts_artist_id_key": ("queue_drafts", ("artist_id",), None),  # its primary key
    "training_clips_item_mode_position_key": ("training_clips", ("item_id", "mode", "position"), None),
}
FOREIGN = {  # (table, column) -> referenced table
    ("artist_profiles", "artist_id"): "artists",
    ("als_summaries", "artist_id"): "artists",
    ("exports", "artist_id"): "artists",
    ("training_items", "artist_id"): "artists",
    ("training_items", "als_summary_id"): "als_summaries",
    ("training_items", "export_id"): "exports",
    ("queue_drafts", "artist_id"): "artists",
    ("training_clips", "item_id"): "training_items",
}
CHECKS = {
    "artists": {"artists_name_check": lambda r: bool((r["name"] or "").strip())},
    "exports": {
        "exports_status_check": lambda r: r["status"] in ("building", "complete", "failed"),
        # 20261207000000_train_mode_export_details.sql (null passes a check, as in PostgreSQL)
        "exports_clips_check": lambda r: r["clips"] in (None, "none", "sections", "windows"),
        "exports_window_s_check": lambda r: r["window_s"] is None or r["window_s"] > 0,
        "exports_split_check": lambda r: r["split"] is None or 0 < r["split"] <= 1,
        "exports_row_count_check": lambda r: r["row_count"] is None or r["row_count"] >= 0,
        "exports_valid_count_check": lambda r: r["valid_count"] is None or r["valid_count"] >= 0,
    },
    "training_items": {
        "training_items_prompt_text_check": lambda r: bool((r["prompt_text"] or "").strip()),
        "training_items_status_check": lambda r: r["status"] in ("ready", "exported"),
        "training_items_exported_has_export": lambda r: r["status"] != "exported" or r["export_id"] is not None,
    },
    "training_clips": {
        "training_clips_caption_check": lambda r: bool((r["caption"] or "").strip()),
        "training_clips_span_check": lambda r: r["end_s"] > r["start_s"] >= 0,
    },
}
TOUCHED = {"training_items", "artist_profiles"}  # the updated_at trigger


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Reply(Exception):
    """Raised by a route to answer with this status and JSON body."""

    def __init__(self, status: int, body, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def pg_error(status: int, code: str, message: str, details=None) -> Reply:
    return Reply(status, {"code": code, "details": details, "hint": None, "message": message})


def json_reply(status: int, body, headers: dict | None = None) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class FakePostgrest:
    """Mixed into FakeSupabase. `granted` holds the tables and functions service_role may use
    (all of them once the grants migration is applied; empty without it)."""

    def __init__(self):
        self.tables: dict[str, list[dict]] = {name: [] for name in COLUMNS}
        self.migrated = True  # False: every table/function answers "not in the schema cache"
        self.granted: set[str] = {*COLUMNS, *FUNCTIONS}
        self.rls_off: set[str] = set()  # tables whose Row Level Security was turned off
        self.public_granted: set[str] = set()  # tables and functions anon/authenticated may use

    def _table(self, name: str) -> list[dict]:
        if not self.migrated or name not in COLUMNS:
            raise pg_error(404, "PGRST205", f"Could not find the table 'public.{name}' in the schema cache")
        if name not in self.granted:  # Error.hs:589: 42501 -> 403 with a JWT
            raise pg_error(403, "42501", f"permission denied for table {name}")
        return self.tables[name]

    @staticmethod
    def _matches(row: dict, query: dict) -> bool:
        for column, values in query.items():
            if column in ("select", "order", "limit", "offset", "on_conflict", "columns"):
                continue
            op, _, arg = values[0].partition(".")
            negated = op == "not"
            if negated:
                op, _, arg = arg.partition(".")
            if FakePostgrest._holds(row[column], op, arg) == negated:
                return False
        return True

    @staticmethod
    def _holds(value, op: str, arg: str) -> bool:
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        if op == "eq":
            return text == arg
        if op == "in":
            return text in arg.strip("()").split(",")
        if op == "is" and arg == "null":
            return value is None
        if op == "lt":
            return value is not None and text < arg
        if op == "gt":
            return value is not None and float(value) > float(arg)  # numbers only here
        # a filter the fake does not know must fail loudly, not match every row
        raise Reply(400, {"message": f"the fake does not implement the filter {op!r}"})

    def rest(self, req, table: str) -> tuple[int, dict, bytes]:
        rows = self._table(table)
        prefer = req.headers.get("prefer", "")
        if req.method == "GET":
            found = [r for r in rows if self._matches(r, req.query)]
            for term in reversed(req.query.get("order", [""])[0].split(",")):
                if term:
                    column, _, direction = term.partition(".")
                    found.sort(key=lambda r: (r[column] is None, r[column]), reverse=direction.startswith("desc"))
            offset = int(req.query.get("offset", ["0"])[0])
            limit = min(int(req.query.get("limit", [str(MAX_ROWS)])[0]), MAX_ROWS)  # Plan.hs:527-529
            page = [self._project(r, req.query.get("select", ["*"])[0]) for r in found[offset : offset + limit]]
            total = str(len(found)) if "count=exact" in prefer else "*"
            if total != "*" and offset > len(found):  # RangeQuery.hs rangeStatus: lower > total is 416
                raise Reply(
                    416,
                    {
                        "code": "PGRST103",
                        "details": f"An offset of {offset} was requested, but there are only {len(found)} rows.",
                        "hint": None,
                        "message": "Requested range not satisfiable",
                    },
                )
            span = f"{offset}-{offset + len(page) - 1}" if page else "*"
            return json_reply(200, page, {"Content-Range": f"{span}/{total}"})
        if req.method == "POST":
            body = req.json()
            conflict = tuple(req.query.get("on_conflict", [""])[0].split(",")) if "on_conflict" in req.query else None
            body = body if isinstance(body, list) else [body]
            if conflict and "resolution=merge-duplicates" in prefer:  # an upsert: update the rows that exist
                body = [
                    b
                    for b in body
                    if not self.update(table, [r for r in rows if all(r[c] == b.get(c) for c in conflict)], b)
                ]
            ignore_on = conflict if "resolution=ignore-duplicates" in prefer else None
            changed = self.insert(table, body, ignore_on=ignore_on)
            status = 201
        elif req.method == "PATCH":
            patch = req.json()
            changed = self.update(table, [r for r in rows if self._matches(r, req.query)], patch)
            status = 200
        elif req.method == "DELETE":
            changed = [r for r in rows if self._matches(r, req.query)]
            self.tables[table] = [r for r in rows if r not in changed]
            self._cascade(table, {r.get("id") for r in changed} - {None})
            status = 200
        else:
            raise Reply(405, {"message": "method not allowed"})
        if "return=representation" in prefer:
            return json_reply(status, changed)
        return 204, {}, b""

    @staticmethod
    def _project(row: dict, select: str) -> dict:
        """PostgREST's `select`: `*`, columns, and `alias:column->key->>key` JSON paths."""
        if select == "*":
            return row
        out = {}
        for term in select.split(","):
            alias, _, expr = term.rpartition(":")
            names = expr.replace("->>", "->").split("->")
            value = row[names[0]]
            for key in names[1:]:
                value = value.get(key) if isinstance(value, dict) else None
            if "->>" in expr and value is not None:
                value = value if isinstance(value, str) else json.dumps(value)
            out[alias or names[-1]] = value
        return out

    def _cascade(self, table: str, gone: set) -> None:
        """`on delete cascade` of the artist_id and item_id references (the cascading ones in the schema)."""
        for (child, column), target in FOREIGN.items():
            if target == table and column in ("artist_id", "item_id") and gone:
                removed = {r.get("id") for r in self._table(child) if r[column] in gone} - {None}
                self.tables[child] = [r for r in self._table(child) if r[column] not in gone]
                self._cascade(child, removed)

    def _validate(self, table: str, candidates: list[dict], replacing: list[dict]) -> None:
        """Raise the PostgREST error PostgreSQL would give if `candidates` replaced `replacing`
        (keys looked up in sets, as the indexes would: an export marks thousands of items at once)."""
        references = {
            (t, column): {r["id"] for r in self.tables[target]} for (t, column), target in FOREIGN.items() if t == table
        }
        for row in candidates:
            for name, ok in CHECKS.get(table, {}).items():
                if not ok(row):
                    raise pg_error(400, "23514", f'new row for relation "{table}" violates check constraint "{name}"')
            for (_, column), ids in references.items():
                if row[column] is not None and row[column] not in ids:
                    target = FOREIGN[(table, column)]
                    raise pg_error(
                        409,
                        "23503",
                        f'insert or update on table "{table}" violates foreign key constraint "{table}_{column}_fkey"',
                        f'Key ({column})=({row[column]}) is not present in table "{target}".',
                    )
        gone = {id(x) for x in replacing}
        others = [r for r in self.tables[table] if id(r) not in gone]
        pkey = [(f"{table}_pkey", ("id",), None)] if "id" in COLUMNS[table] else []  # queue_drafts: see UNIQUE
        indexes = pkey + [(n, c, w) for n, (t, c, w) in UNIQUE.items() if t == table]
        taken = {
            name: {tuple(o[c] for c in columns) for o in others if not where or where(o)}
            for name, columns, where in indexes
        }
        for row in candidates:
            keys = {name: tuple(row[c] for c in columns) for name, columns, where in indexes if not where or where(row)}
            for name, key in keys.items():
                if key in taken[name]:
                    columns = next(c for n, c, _ in indexes if n == name)
                    raise pg_error(
                        409,
                        "23505",
                        f'duplicate key value violates unique constraint "{name}"',
                        f"Key ({', '.join(columns)})=({', '.join(map(str, key))}) already exists.",
                    )
            for name, key in keys.items():
                taken[name].add(key)

    def insert(self, table: str, body: list[dict], ignore_on: tuple | None = None) -> list[dict]:
        rows = []
        for given in body:
            self._known(table, given)
            row = {c: None for c in COLUMNS[table]}
            row.update({c: make() for c, make in DEFAULTS.get(table, {}).items()})
            row.update({k: v for k, v in (("id", str(uuid.uuid4())), ("created_at", now())) if k in row})
            if "updated_at" in row:
                row["updated_at"] = row.get("created_at") or now()
            row.update(given)
            if ignore_on and any(all(r[c] == row[c] for c in ignore_on) for r in self.tables[table]):
                continue
            rows.append(row)
        self._validate(table, rows, [])
        self.tables[table].extend(rows)
        if table == "artists":  # trigger artists_create_profile
            self.insert("artist_profiles", [{"artist_id": r["id"]} for r in rows])
        return rows

    @staticmethod
    def _known(table: str, given: dict) -> None:
        """PostgREST refuses a column the table does not have (PGRST204), e.g. before a migration."""
        unknown = set(given) - set(COLUMNS[table])
        if unknown:
            raise pg_error(
                400, "PGRST204", f"Could not find the '{sorted(unknown)[0]}' column of '{table}' in the schema cache"
            )

    def update(self, table: str, targets: list[dict], patch: dict) -> list[dict]:
        self._known(table, patch)
        stamp = now()
        new = [{**r, **patch, **({"updated_at": stamp} if table in TOUCHED else {})} for r in targets]
        self._validate(table, new, targets)
        for old, row in zip(targets, new, strict=True):
            old.update(row)
        return targets

    # ---- RPC (mirrors the SQL functions of the migration) ---------------------------
    def rpc(self, name: str, args: dict):
        if not self.migrated or name not in FUNCTIONS:
            raise pg_error(404, "PGRST202", f"Could not find the function public.{name} in the schema cache")
        if name not in self.granted:  # Error.hs:589
            raise pg_error(403, "42501", f"permission denied for function {name}")
        if name == "train_mode_schema_report":  # supabase/migrations/20261201000000_train_mode_grants.sql
            return self.schema_report(args)
        if name == "train_mode_set_rows":  # 20261204000000_train_mode_set_rows.sql
            return self.set_rows(args["p_artist_id"])
        exports = self.tables["exports"]
        if name == "train_mode_begin_export":  # 20261202000000_train_mode_export_lease.sql
            return self.begin_export(args)
        if name == "train_mode_heartbeat_export":
            running = [e for e in exports if e["id"] == args["p_export_id"] and e["status"] == "building"]
            self.update("exports", running, {"heartbeat_at": now()})
            return bool(running)
        export = next((e for e in exports if e["id"] == args["p_export_id"]), None)
        if export is None or export["status"] != "building":
            raise pg_error(400, "TMNRN", "This export is no longer running; start it again.")
        ids = args["p_item_ids"] or []
        wanted = set(ids)
        items = [
            i
            for i in self.tables["training_items"]
            if i["id"] in wanted and i["artist_id"] == export["artist_id"] and i["status"] == "ready"
        ]
        if len(items) != len(ids):
            raise pg_error(
                400, "TMITM", "An item changed while the export ran; nothing was marked exported. Export again."
            )
        stamp = now()
        self.update("training_items", items, {"status": "exported", "exported_at": stamp, "export_id": export["id"]})
        return self.update(
            "exports",
            [export],
            {
                "status": "complete",
                "item_count": args["p_item_count"],
                "bytes": args["p_bytes"],
                "sha256": args["p_sha256"],
                "completed_at": stamp,
            },
        )[0]

    def begin_export(self, args: dict) -> dict:
        cutoff = (datetime.now(UTC) - timedelta(seconds=args["p_lease_s"])).isoformat(timespec="microseconds")
        for e in [
            e for e in self.tables["exports"] if e["artist_id"] == args["p_artist_id"] and e["status"] == "building"
        ]:
            if e["id"] == args["p_dead_export"]:
                self.update(
                    "exports", [e], {"status": "failed", "error": "taken over: holder died", "completed_at": now()}
                )
            elif (e["heartbeat_at"] or e["created_at"]) < cutoff:
                self.update(
                    "exports",
                    [e],
                    {"status": "failed", "error": "taken over: heartbeat stopped", "completed_at": now()},
                )
        try:
            return self.insert(
                "exports",
                [
                    {
                        "id": args["p_export_id"] or str(uuid.uuid4()),
                        "artist_id": args["p_artist_id"],
                        "zip_path": args["p_zip_path"],
                        "status": "building",
                        "lease_owner": args["p_owner"],
                        "heartbeat_at": now(),
                    }
                ],
            )[0]
        except Reply as reply:
            if "exports_one_building_idx" in str(reply.body.get("message")):
                raise pg_error(
                    400, "TMBSY", "An export of this artist is already running; wait for it to finish."
                ) from None
            raise

    def set_rows(self, artist_id: str) -> dict:
        """As the SQL function: one array per set, plugin and device names once, by position."""

        def path(summary, *keys):
            for key in keys:
                summary = summary.get(key) if isinstance(summary, dict) else None
            return summary

        def listed(summary, key) -> list:  # jsonb_array_elements_text of an array, else of []
            values = path(summary, key)
            return [v if isinstance(v, str) else json.dumps(v) for v in values] if isinstance(values, list) else []

        sets = sorted(
            (r for r in self.tables["als_summaries"] if r["artist_id"] == artist_id),
            key=lambda r: (r["als_filename"], r["parse_id"]),
        )
        names = sorted({n for r in sets for n in listed(r["summary"], "plugins") + listed(r["summary"], "devices")})
        position = {n: i for i, n in enumerate(names)}
        return {
            "names": names,
            "sets": [
                [
                    r["id"],
                    r["parse_id"],
                    r["als_filename"],
                    *(
                        path(r["summary"], *keys)
                        for keys in (
                            ("schema_version",),
                            ("tempo", "dominant_bpm"),
                            ("time_signature",),
                            ("key", "name"),
                            ("key", "confidence"),
                            ("length", "seconds"),
                            ("track_counts", "midi"),
                            ("track_counts", "audio"),
                            ("live_version",),
                        )
                    ),
                    [
                        i["family"]
                        for i in path(r["summary"], "instruments") or []
                        if isinstance(i, dict) and "family" in i
                    ],
                    [position[n] for n in listed(r["summary"], "plugins")],
                    [position[n] for n in listed(r["summary"], "devices")],
                    r["created_at"],
                ]
                for r in sets
            ],
        }

    def schema_report(self, args: dict) -> dict:
        """As the SQL function: the tables asked for that exist, the functions asked for by name."""

        def state(name: str) -> dict:
            return {"service_role": name in self.granted, "public_roles": name in self.public_granted}

        names = [s.split("(", 1)[0].removeprefix("public.") for s in args["p_functions"]]
        return {
            "tables": {t: {"rls": t not in self.rls_off, **state(t)} for t in args["p_tables"] if t in COLUMNS},
            "functions": {f: {"exists": f in FUNCTIONS, **state(f)} for f in names},
        }
