"""What a run shows at a terminal: a progress line rewritten in place, bad lines kept."""

from __future__ import annotations

import io

from ingest_job.progress import Progress
from ingest_job.report import FileResult, RunReport, utcnow


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as sys.stderr does in a shell."""

    def isatty(self) -> bool:
        return True


def test_terminal_shows_files_done_rows_and_rate_and_names_rejected_files() -> None:
    screen = Terminal()
    progress = Progress(2, "auto", screen)
    report = RunReport(source="x")
    loaded = FileResult(uri="/d/A.txt", status="loaded", started_at=utcnow(), rows_inserted=1200)
    report.add(loaded)
    progress.file_done(loaded, report)
    bad = FileResult(
        uri="/d/B.txt", status="rejected", started_at=utcnow(), error="B.txt:3: not a date"
    )
    report.add(bad)
    progress.file_done(bad, report)
    text = screen.getvalue()
    assert "ingest: 1/2 files, 1,200 rows, " in text
    assert "rejected: B.txt:3: not a date\n" in text
    assert text.rstrip().rsplit("\r\x1b[K", 1)[-1].startswith("ingest: 2/2 files, 1,200 rows, ")


def test_log_format_json_at_a_terminal_means_log_lines_not_a_progress_line() -> None:
    assert not Progress(1, "json", Terminal()).interactive
    assert Progress(1, "auto", Terminal()).interactive
    assert not Progress(1, "auto", io.StringIO()).interactive
