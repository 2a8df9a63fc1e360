"""The History view: the runs kept in the run store; open one, compare one with the shown run, delete one.

Every dashboard run is saved like a headless one (see :mod:`regtui.store.saving`).
This view lists the store (``regtui runs list``'s columns, results first), newest first,
all runs or only the picked scenario's (``f``). On a row:

- ``enter`` opens the run read-only: a Collector is rebuilt from its stored
  document and every view shows it as if it had just run;
- ``c`` compares it with the shown run: the Loss view draws both runs' curves,
  each variant named ``run #N · variant``, the compared run's in small open shapes
  and darker colours of its own, and this view lists what differs
  (:func:`regtui.store.compare.compare`);
- ``d`` (or Delete) deletes it after a yes/no question.

A store that cannot be read is one line here, never a crash; the tab shows
whenever the store's folder is readable (or not made yet).

The rows are kept up to date without listing the store again (a long history made that the
slowest view switch): a new run's row is added on top, a deleted run's removed, and the runs
listed as running are read again when their record changes or, while the view is on screen
(checked once a second) or when it is next shown, when their process is gone: a run killed
with ``kill -9`` never touches its record, and turns interrupted here within about a second.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Checkbox, Static, TabbedContent

from regtui.app.catalog import Entry
from regtui.app.overlay import Overlay
from regtui.app.views.base import Showing, View
from regtui.app.views.history_rows import (
    COLUMNS,
    READ_ERRORS,
    filter_label,
    one_line,
    row_cells,
    short,
    show_filter,
    shown_record,
    store_readable,
)
from regtui.app.widgets.confirm import Confirm
from regtui.app.widgets.wide_table import WideTable
from regtui.report import Collector, Snapshot
from regtui.store import RunInfo, RunStore
from regtui.store.reading import StoredCollector, plan_of, status_of
from regtui.store.record import RUNNING
from regtui.store.saving import store_id

# How often History, while on screen, looks whether a run it lists as running ended or died.
CHECK_S = 1.0


class HistoryTab(View):
    title = "History"
    kinds = ("finished",)  # a run that ended is listed: reload then
    points = 2  # draws no series

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "compare", "Compare"),
        Binding("d", "delete", "Delete"),
        Binding("delete", "delete", "Delete", show=False),
        Binding("f", "toggle_filter", "Filter"),  # this scenario / all: the checkbox above the table says which
    ]

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.scenario: str | None = None  # the picked scenario (the filter's)
        self.row_ids: list[int] = []  # the run id of each shown row, in order
        self.problem: str | None = None  # the last one-line problem shown
        self.listed_key: tuple[Any, ...] | None = None  # what the shown list was made from (see `reload`)
        self.listed_from: tuple[Any, ...] | None = None  # (store, filter, scenario) of the rows; None: none good
        self.infos: dict[int, RunInfo] = {}  # the record of each shown row
        self.shown_id: int | None = None  # the run marked ▶ in the rows
        self.running_ids: list[int] = []  # runs listed as running: their records and processes are watched
        self.known: set[int] = set()  # every run id the rows were made knowing of (listed or filtered out)
        self.alive_listed: tuple[bool, ...] = ()  # `_alive()` when the rows were made

    def compose(self) -> ComposeResult:
        yield Static("", id="history-notice")
        with Horizontal(id="history-bar"):
            box = Checkbox(filter_label(False), id="history-only")
            box.BUTTON_INNER = " "  # off: an empty box
            yield box
            yield Static("enter: open · c: compare with the shown run · d: delete", id="history-keys")
        table = WideTable(id="history-table")
        for column in COLUMNS:
            table.add_column(column, key=column)
        yield table
        yield Static("", id="history-compare")

    DEFAULT_CSS = """
    HistoryTab #history-bar {
        height: auto;
    }
    HistoryTab #history-keys {
        color: $text-muted;
        padding: 1 2;
        width: 1fr;  /* wraps at 80 columns instead of being cut */
    }
    HistoryTab #history-notice {
        padding: 0 1;
    }
    HistoryTab #history-table {
        height: 1fr;
        min-height: 5;
    }
    HistoryTab #history-compare {
        height: auto;
        max-height: 14;
        padding: 0 1;
    }
    """

    # --- the View protocol -----------------------------------------------------------------

    def shown(self, showing: Showing) -> bool:
        return store_readable(self._runs_dir())

    def _runs_dir(self) -> str | None:
        """The app's --runs-dir (None: REGTUI_RUNS_DIR, else the XDG default), where runs are saved."""
        options = getattr(self.app, "options", None)
        return getattr(options, "runs_dir", None)

    def draw(self, snapshot: Snapshot) -> None:
        self.reload(only_if_changed=True)  # a run that ended changed the store (or the shown run): listed

    def show_entry(self, entry: Entry) -> None:
        self.scenario = entry.scenario.name if entry.scenario is not None else None
        if self.only and self.is_mounted:
            self.reload()

    def focus_content(self) -> bool:
        self.screen.set_focus(self.table)  # at once: the next key of a burst (right, enter) goes there
        return True

    def on_mount(self) -> None:
        self.set_interval(CHECK_S, self._check, name="history-check")

    def on_show(self) -> None:
        self.reload(only_if_changed=True)  # a view switch lists again only what changed (a few stat calls)

    # --- the list --------------------------------------------------------------------------

    @property
    def table(self) -> WideTable:
        return self.query_one("#history-table", WideTable)

    @property
    def only(self) -> bool:
        return bool(self.query_one("#history-only", Checkbox).value) if self.is_mounted else False

    def selected(self) -> int | None:
        row = self.table.cursor_row
        return self.row_ids[row] if 0 <= row < len(self.row_ids) else None

    def reload(self, only_if_changed: bool = False, keep_notice: bool = False) -> None:
        """List the store again (keeping the cursor on the same run when it is still listed);
        ``only_if_changed``: not when the store, the filter, the shown run, the problem noticed
        (unless ``keep_notice``) and the processes of the runs listed as running are as last
        listed. When runs were only added, ended or deleted since (a run of this dashboard ended,
        one started elsewhere), just their rows change: the store is not listed again."""
        from regtui.store import open_store

        shown = store_id(self._collector())
        problem = self.listed_key[4] if keep_notice and self.listed_key is not None else self.problem
        try:
            store = open_store(self._runs_dir())
            watched = self.running_ids
            key = (store.root, self.only, self.scenario, shown, problem, store.stamp(watched), self._alive())
            if only_if_changed and key == self.listed_key:
                return
            self.listed_key = None
            if self.listed_from == key[:3] and self._update_rows(store, shown):
                problems: list[str] = []
            else:
                known = set(store.run_ids())  # before listing: a run added meanwhile is new next time
                listing = store.listing(self.scenario if self.only and self.scenario else None)
                self._list(list(reversed(listing.runs)), shown, known)  # newest first
                problems = listing.problems
        except READ_ERRORS as exc:
            self.table.clear()
            self.row_ids, self.infos, self.listed_from, self.running_ids = [], {}, None, []
            self._notice(f"⚠ the run history cannot be read: {one_line(exc)}", error=True)
            return
        self._notice_count(store, problems)
        self.alive_listed = self._alive()
        # A listing that met a problem is made again next time (a record being written shows up);
        # the stamp was taken before listing and watched the runs then running: a change meanwhile,
        # or another run now running, lists again.
        self.listed_from = None if problems else key[:3]
        if not problems and self.running_ids == watched:
            self.listed_key = (*key[:4], self.problem, key[5], self.alive_listed)

    def _alive(self) -> tuple[bool, ...]:
        """Whether the process of each run listed as running still runs (a killed one never
        touches its record: only this says it is gone). A few reads of /proc."""
        return tuple(self.infos[i].alive for i in self.running_ids if i in self.infos)

    def _check(self) -> None:
        """The refresh timer: while the view is on screen, a run that ended, came or died is shown
        so (a few stat calls and reads of /proc when nothing did)."""
        if not self.is_on_screen:
            return  # on_show catches up
        if self.listed_from is None and self._alive() == self.alive_listed:
            return  # the last listing met a problem: it is made again on the next visit
        self.reload(only_if_changed=True, keep_notice=True)  # a notice of a failed open stays

    def _list(self, runs: list[RunInfo], shown: int | None, known: set[int]) -> None:
        """Fill the table with ``runs`` (newest first), all at once."""
        table = self.table
        keep = self.selected()
        if keep is not None and keep == self.shown_id and shown is not None and shown > keep:
            keep = shown  # the cursor was on the run shown: it follows the run this dashboard shows now
        self.infos = {info.id: info for info in runs}
        self.known = known | self.infos.keys()
        self.row_ids = [info.id for info in runs]
        self.running_ids = [info.id for info in runs if info.status == RUNNING]
        self.shown_id = shown
        table.clear()
        table.add_rows((str(info.id), row_cells(info, shown)) for info in runs)
        if keep in self.row_ids:
            table.move_cursor(row=self.row_ids.index(keep))

    def _update_rows(self, store: RunStore, shown: int | None) -> bool:
        """Bring the listed rows up to date without listing the store: the rows of new runs on
        top, those of deleted runs gone, those of runs listed as running read again (their
        record or their process says whether they ended). False when that cannot be done (a run
        with an older id came, a record cannot be read): the caller lists the store."""
        ids = set(store.run_ids())
        new = sorted(ids - self.known, reverse=True)
        if new and self.known and new[-1] < max(self.known):
            return False  # not a newer run (a folder put back by hand): only a listing places it
        try:
            added = [store.get(run_id) for run_id in new]
            again = {run_id: store.get(run_id) for run_id in self.running_ids if run_id in ids}
        except READ_ERRORS:
            return False  # a record being written, or damaged: the listing says which
        table = self.table
        keep = self.selected()
        for run_id in [i for i in self.row_ids if i not in ids]:
            table.remove_row(str(run_id))
            del self.infos[run_id]
        scenario = self.scenario if self.only and self.scenario else None
        added = [info for info in added if scenario is None or info.scenario == scenario]
        table.add_rows(((str(info.id), row_cells(info, shown)) for info in added), at=0)
        self.infos.update((info.id, info) for info in added)
        for run_id, info in again.items():  # compared with what the row shows (a status may say "running")
            self.infos[run_id] = info
            for column, cell in zip(COLUMNS, row_cells(info, shown)):
                if table.get_cell(str(run_id), column) != cell:
                    table.update_cell(str(run_id), column, cell)
        for marked in (self.shown_id, shown):  # the ▶ mark moves to the run shown now
            if marked in self.infos and marked not in again and marked not in new:
                table.update_cell(str(marked), "id", row_cells(self.infos[marked], shown)[0])
        self.known = (self.known & ids) | set(new)
        self.row_ids = [info.id for info in added] + [i for i in self.row_ids if i in ids]
        self.running_ids = [i for i in self.row_ids if self.infos[i].status == RUNNING]
        if keep is not None and keep == self.shown_id and shown in new:
            keep = shown  # the cursor was on the run shown: it follows this dashboard's new run
        self.shown_id = shown
        if keep in self.row_ids:
            table.move_cursor(row=self.row_ids.index(keep))
        return True

    def _notice_count(self, store: RunStore, problems: list[str]) -> None:
        """The line above the table: how many runs are listed and where, or the first problem met."""
        runs = len(self.row_ids)
        which = f"of {self.scenario}" if self.only and self.scenario else "in all"
        text = f"{runs} run{'' if runs == 1 else 's'} {which} · {store.root}"
        if getattr(self.screen, "overlay", None) is None:  # a comparison ends with the next run or pick
            self.query_one("#history-compare", Static).update("")
        if problems:
            extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            self._notice(f"⚠ {one_line(problems[0])}{extra} · {text}", error=True)
        else:
            self._notice(text)

    def _notice(self, text: str, error: bool = False) -> None:
        self.problem = text if error else None
        notice = self.query_one("#history-notice", Static)
        notice.update(text)
        notice.set_class(error, "error")

    def _collector(self) -> Collector | None:
        collector = getattr(self.screen, "collector", None)
        return collector if isinstance(collector, Collector) else None

    @on(Checkbox.Changed, "#history-only")
    def _filter_changed(self, event: Checkbox.Changed) -> None:
        show_filter(event.checkbox)
        self.reload()

    def action_toggle_filter(self) -> None:
        box = self.query_one("#history-only", Checkbox)
        box.value = not box.value

    # --- open ------------------------------------------------------------------------------

    @on(WideTable.RowSelected, "#history-table")
    def _row_selected(self, event: WideTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.open_run(int(event.row_key.value))

    def _load(self, run_id: int) -> tuple[Any, Any, dict[str, Any]] | None:
        """(store, record, document) of a run, or None after a one-line notice."""
        from regtui.store import open_store

        try:
            store = open_store(self._runs_dir())
            return store, store.get(run_id), store.document(run_id)
        except READ_ERRORS as exc:
            self._notice(f"⚠ run {run_id}: {one_line(exc)}", error=True)
            self.notify(one_line(exc), title=f"run {run_id}", severity="error", timeout=8)
            return None

    def open_run(self, run_id: int) -> bool:
        """Show a stored run in every view, read-only; a running one is followed live."""
        if self.run_is_running(run_id):
            return self.follow_run(run_id)
        loaded = self._load(run_id)
        if loaded is None:
            return False
        store, info, doc = loaded
        try:
            plan = plan_of(info, store.folder(info.id), doc)
            collector = StoredCollector(doc, info.id)
        except READ_ERRORS as exc:
            self._notice(f"⚠ run {run_id} cannot be opened: {one_line(exc)}", error=True)
            self.notify(one_line(exc), title=f"run {run_id} cannot be opened", severity="error", timeout=8)
            return False
        opener = getattr(self.screen, "open_stored", None)
        if opener is None or not opener(
            plan, collector, status_of(doc, collector), doc.get("elapsed_s"), str(doc.get("device") or info.device)
        ):
            return False
        self.notify(
            f"run {run_id} ({info.scenario}) is shown read-only; r runs the form's parameters",
            title=f"run {run_id}",
            timeout=5,
        )
        return True

    def run_is_running(self, run_id: int) -> bool:
        from regtui.store import open_store

        try:
            return open_store(self._runs_dir()).get(run_id).state == RUNNING
        except READ_ERRORS:
            return False  # opening it says why

    def follow_run(self, run_id: int) -> bool:
        """Follow a running run (of another process) live in every view: it is read, never slowed."""
        from regtui.store import open_store
        from regtui.store.follow import Follower

        try:
            store = open_store(self._runs_dir())
            follower = Follower(store, run_id)
            info = follower.info or store.get(run_id)
            plan = plan_of(info, store.folder(info.id), {"device": info.device})
        except READ_ERRORS as exc:
            self._notice(f"⚠ run {run_id} cannot be followed: {one_line(exc)}", error=True)
            self.notify(one_line(exc), title=f"run {run_id} cannot be followed", severity="error", timeout=8)
            return False
        follow = getattr(self.screen, "follow", None)
        if follow is None or not follow(plan, follower, str(info.device or "")):
            follower.close()
            return False
        self.notify(f"run {run_id} ({info.scenario}) is followed live, read-only", title=f"run {run_id}", timeout=5)
        return True

    # --- compare ---------------------------------------------------------------------------

    def action_compare(self) -> None:
        run_id = self.selected()
        if run_id is not None:
            self.compare_run(run_id)

    def compare_run(self, run_id: int) -> bool:
        """Draw this run over the shown one in the Loss view, and list what differs between them."""
        from regtui.store.compare import compare, compare_text

        screen: Any = self.screen
        base = self._collector()
        if base is None or base.started is None:
            self.notify(
                "run a scenario or open a run first; c compares the selected run with it",
                title="nothing to compare with",
                severity="warning",
            )
            return False
        shown = store_id(base)
        if shown == run_id:
            self.notify(
                f"run {run_id} is the run shown; pick another to compare with", title="compare", severity="warning"
            )
            return False
        loaded = self._load(run_id)
        if loaded is None:
            return False
        store, info, doc = loaded
        try:
            other = StoredCollector(doc)
            records = other.snapshot(screen.options.max_points).records
            base_info, base_doc = shown_record(store, shown, base)
            result = compare([(base_info, base_doc), (info, doc)])
            text = compare_text(result)
        except READ_ERRORS as exc:
            self._notice(f"⚠ run {run_id} cannot be compared: {one_line(exc)}", error=True)
            return False
        label = f"run #{shown}" if shown is not None else "this run"
        # Marked "compared": the Loss view draws them in shapes and shades of their own.
        compared = tuple({**rec, "compared": True} for rec in records)
        screen.overlay = Overlay(base, label, f"run #{info.id}", compared)
        differences = result["differences"]
        summary = " · ".join(f"{k} {short(v[0])} → {short(v[1])}" for k, v in differences.items()) or "none"
        self.query_one("#history-compare", Static).update(
            f"{label} (shown) compared with run #{info.id}; the Loss view draws both\n"
            f"{text.replace('run 0', 'this run')}"
        )
        self.notify(f"differences: {summary}", title=f"{label} vs run #{info.id}", timeout=10)
        if "metrics" in base.data_kinds():
            tabs = screen.query_one(TabbedContent)
            tabs.active = "tab-loss"
        return True

    # --- delete ----------------------------------------------------------------------------

    def action_delete(self) -> None:
        run_id = self.selected()
        if run_id is None:
            return
        row = dict(zip(COLUMNS, self.table.get_row_at(self.table.cursor_row)))
        question = (
            f"Delete run {run_id} ({row['scenario']}, {row['when']}, {row['status']})?\n"
            "Its folder is removed from the run history for good."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_run(run_id)

        self.app.push_screen(Confirm(question, yes="Delete"), answered)

    def delete_run(self, run_id: int) -> bool:
        from regtui.store import open_store

        try:
            open_store(self._runs_dir()).remove([run_id])
        except READ_ERRORS as exc:
            self._notice(f"⚠ run {run_id} was not deleted: {one_line(exc)}", error=True)
            self.notify(one_line(exc), title=f"run {run_id} not deleted", severity="error", timeout=8)
            return False
        self.reload()
        self.notify(f"run {run_id} deleted", title="run history", timeout=4)
        return True
