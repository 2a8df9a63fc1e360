"""The README is a short front page; the reference pages under docs/ hold together (links, examples)."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))

CODE_BLOCK = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\[[^\]]+\]:\s*(\S+)", re.M)


def relative_links(path: Path) -> list[str]:
    """The link and image targets of a Markdown file that point into the repository (code left out)."""
    text = CODE_SPAN.sub("", CODE_BLOCK.sub("", path.read_text(encoding="utf-8")))
    targets = LINK.findall(text) + REFERENCE.findall(text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_the_readme_is_at_most_250_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_in_the_repository(page):
    for target in relative_links(page):
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), (page.name, target)
        assert path.is_file(), (page.name, target)


def test_the_readme_links_the_screenshot_and_every_docs_page():
    linked = {(ROOT / target.split("#")[0]).resolve() for target in relative_links(README)}
    assert (ROOT / "docs" / "screenshot.svg") in linked
    assert set(PAGES) <= linked, sorted(p.name for p in set(PAGES) - linked)


def test_every_screenshot_is_shown_in_the_docs():
    shown = {(page.parent / t).resolve() for page in PAGES for t in relative_links(page)}
    for svg in (ROOT / "docs").glob("*.svg"):
        assert svg in shown, svg.name


def test_nothing_cites_the_design_file_outside_the_repository():
    files = [README, *PAGES, *ROOT.glob("regtui/**/*.py"), *ROOT.glob("regtui/**/*.tcss")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "DESIGN" not in text and "../shared" not in text, path.relative_to(ROOT)


def readme_block(language: str, heading: str) -> str:
    section = README.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def test_the_readme_own_experiment_example_runs(tmp_path):
    """The TOML a newcomer copies from the README plans and trains (a few steps: the file, not the figures)."""
    from regtui.cli import main

    path = tmp_path / "my-digits.toml"
    path.write_text(readme_block("toml", "Your own experiment"), encoding="utf-8")
    args = ["--scenario", str(path), "--set", "steps=4", "--set", "log_every=2", "--json", "--device", "cpu"]
    result = CliRunner().invoke(main, [*args, "--no-save"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "completed"
    assert [v["name"] for v in doc["variants"]] == ["dropout 0.5", "no dropout"]


def test_the_readme_headless_example_reads_the_document():
    """The README's jq filter `.variants[] | [.name, .final.test_loss]` names fields the document has."""
    from regtui.cli import main

    commands = readme_block("bash", "Headless runs")
    assert "jq -c '.variants[] | [.name, .final.test_loss]'" in commands
    args = ["--scenario", "weight-decay", "--set", "iters=3", "--json", "--device", "cpu", "--no-save"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    rows = [[v["name"], v["final"]["test_loss"]] for v in json.loads(result.stdout)["variants"]]
    assert [name for name, _ in rows] == ["no weight decay", "weight decay"]
    assert all(isinstance(loss, float) for _, loss in rows)
