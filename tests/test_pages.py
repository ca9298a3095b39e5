"""The pages people open (``layer_conformance.formats.html``), checked in a real headless browser: Chromium from the
distribution's packages (``chromium``, ``chromium-driver``), driven by Selenium.  ``.ci/run`` and ``tox -e pages``
install them where they can; where no browser can be had, the browser tests skip saying what is missing (the
structural checks still run).

* ``report.html`` of a real run (a broken implementation: failures with repro scripts, passes, a recorded bug):
  one cell per result; clicking a failed cell shows its details with the repro; filtering by outcome and by
  text hides what it should; a screenshot is not blank; without JavaScript every result is still there and the
  failures' details are open;
* the page of an empty run, of a crashed run and of a run with only missing names is well formed and says so;
* ``sweep.html``, ``sweep.svg`` and the parity picture: one cell per property and target, an edge where an
  outcome changes, the recorded bugs with first bad and first fixed; the published sweep's page is small and its
  picture is embedded in ``docs/cross-version-matrix.md`` and shown by the README.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from layer_conformance.formats import html
from layer_conformance.formats.report import OUTCOMES, Result, build_report, write_report
from tests.inner import run_installed

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


# --------------------------------------------------------------------------- what a page must be, without a browser


class _Structure(HTMLParser):
    """Well-formedness of a page: every element closed in order (void elements aside), one ``id`` per element."""

    VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "source", "col", "area", "base", "embed"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "a" and attributes.get("href", "").startswith("#"):
            self.hrefs.append(attributes["href"][1:])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def well_formed(text: str) -> _Structure:
    parser = _Structure()
    parser.feed(text)
    parser.close()
    assert text.startswith("<!DOCTYPE html>")
    assert not parser.problems and not parser.stack, (parser.problems, parser.stack)
    assert len(parser.ids) == len(set(parser.ids)), "an id twice"
    assert set(parser.hrefs) <= set(parser.ids), set(parser.hrefs) - set(parser.ids)
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text  # no network
    return parser


def _result(n: int, outcome: str, **fields) -> Result:
    return Result(
        nodeid=f"t.py::test_{n}[x-{n}]",
        key=f"t.py::test_{n}[{n}]",
        impl="x",
        apis=["Conv1D"],
        outcome=outcome,
        **fields,
    )


def _report(results: list[Result], directory: Path, version: str = "1") -> tuple[Path, dict]:
    """The report of ``results`` on implementation ``x`` at ``version``, written to ``directory``: its page."""
    report = build_report(
        results,
        implementations=[{"name": "x", "origin": "x.py", "version": version, "missing": [], "missing_reasons": {}}],
        versions={"torch": "2.13.0", "layer_conformance": "0"},
        hypothesis={"profile": "dev"},
        device="cpu",
        observed={},
    )
    write_report(report, directory, results)
    return directory / "report.html", report


@pytest.mark.parametrize(
    ("case", "outcomes", "says"),
    [
        ("empty", [], "This run has no results"),
        ("crashed", ["passed", "crashed", "crashed"], "A worker died while running 2 of them"),
        ("missing", ["missing", "missing", "skipped"], "every one missing or skipped"),
        ("clean", ["passed", "xfailed", "differs"], "Nothing departs from the documented behaviour"),
    ],
)
def test_every_page_is_well_formed_and_says_what_the_run_amounts_to(tmp_path, case, outcomes, says):
    page = _edge_page(tmp_path, outcomes)
    text = page.read_text(encoding="utf-8")
    parsed = well_formed(text)
    assert says in text
    assert len(parsed.hrefs) == len(outcomes)  # one cell per result, each a link to its details


def test_every_outcome_a_result_can_have_has_its_style():
    assert tuple(o for o in html.STYLE if o != "-") == OUTCOMES  # the pages list outcomes in the reports' order


def _edge_page(tmp_path: Path, outcomes: list[str]) -> Path:
    results = [_result(i, o, message="boom" if o == "crashed" else "", reason="none here" if o == "missing" else "")
               for i, o in enumerate(outcomes)]  # fmt: skip
    return _report(results, tmp_path)[0]


# --------------------------------------------------------------------------- a real browser


def _binary(name: str, variable: str) -> str | None:
    return os.environ.get(variable) or shutil.which(name)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    """Headless Chromium driven by Selenium through the distribution's chromedriver; skips, saying what is
    missing, where there is none."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: pip install selenium")
    chromium = _binary("chromium", "LAYER_CONFORMANCE_CHROMIUM") or shutil.which("chromium-browser")
    driver = _binary("chromedriver", "LAYER_CONFORMANCE_CHROMEDRIVER")
    if not chromium or not driver:
        pytest.skip("no Chromium here: apt-get install chromium chromium-driver (or set LAYER_CONFORMANCE_CHROMIUM)")
    made = []

    def open_browser(javascript: bool = True):
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1600"):  # fmt: skip
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        from selenium.webdriver.chrome.service import Service

        made.append(webdriver.Chrome(options=options, service=Service(executable_path=driver)))
        return made[-1]

    yield open_browser
    for driver_ in made:
        driver_.quit()


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> tuple[Path, dict]:
    """A real run's report directory: Conv1D of a broken implementation (failures with repro scripts, passes) and
    one of its failures recorded as a bug (xfailed)."""
    tmp = tmp_path_factory.mktemp("run")
    xfails = tmp / "broken.txt"
    xfails.write_text("test_conv1d.py::test_matches_reference[*] | recorded for the page | - | * | AssertionError\n")
    out = tmp / "report"
    impl = "tests.broken.conv1d_bias_ignored"
    args = ["--impl", impl, "-k", "test_conv1d", "--xfails-file", f"{impl}={xfails}", "-n", "0"]
    _, report = run_installed(tmp, out, *args)
    return out, report


def _by_outcome(report: dict) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for i, r in enumerate(report["results"]):
        found.setdefault(r["outcome"], []).append(i)
    return found


def test_the_report_page_of_a_real_run_in_a_browser(browser, real_run):
    out, report = real_run
    by = _by_outcome(report)
    assert by.get("failed") and by.get("passed") and by.get("xfailed"), sorted(by)
    page = browser()
    page.get((out / "report.html").as_uri())
    from selenium.webdriver.common.by import By

    cells = page.find_elements(By.CSS_SELECTOR, "a.cell")
    assert len(cells) == len(report["results"])
    assert {c.get_attribute("data-outcome") for c in cells} == set(by)

    # clicking a failed cell shows its details: the law, the failure, the minimal example, the repro script
    failed = report["results"][by["failed"][0]]
    assert failed["repro"] and (out / failed["repro"]).exists()
    cell = page.find_element(By.CSS_SELECTOR, f'a.cell[href="#r-{by["failed"][0]}"]')
    page.execute_script("document.querySelectorAll('details').forEach(function(d){d.open=false;});")
    detail = page.find_element(By.ID, f"r-{by['failed'][0]}")
    assert not page.find_element(By.CSS_SELECTOR, f"#r-{by['failed'][0]} a.repro").is_displayed()
    cell.click()
    assert detail.get_attribute("open") is not None
    repro = detail.find_element(By.CSS_SELECTOR, "a.repro")
    assert repro.is_displayed() and repro.text == failed["repro"]
    assert failed["law"] and failed["law"].split()[0] in detail.text
    assert "The minimal example" in detail.text

    # filtering by outcome hides exactly that outcome's cells and details
    page.find_element(By.CSS_SELECTOR, '#filters input[value="passed"]').click()
    shown = {c.get_attribute("data-outcome") for c in page.find_elements(By.CSS_SELECTOR, "a.cell") if c.is_displayed()}
    assert shown == set(by) - {"passed"}
    for i in by["passed"]:
        assert not page.find_element(By.ID, f"r-{i}").is_displayed()
    page.find_element(By.CSS_SELECTOR, '#filters input[value="passed"]').click()

    # filtering by text keeps the cells whose key holds it
    key = failed["key"]
    page.find_element(By.ID, "q").send_keys(key)
    visible = [c for c in page.find_elements(By.CSS_SELECTOR, "a.cell") if c.is_displayed()]
    assert visible and all(key in c.get_attribute("data-text") for c in visible)
    assert len(visible) == sum(key in r["key"] for r in report["results"])

    assert distinct_colours(page.get_screenshot_as_png()) >= 5  # not blank: text, cells of several outcomes


def test_the_report_page_reads_without_javascript(browser, real_run):
    out, report = real_run
    by = _by_outcome(report)
    page = browser(javascript=False)
    page.get((out / "report.html").as_uri())
    from selenium.webdriver.common.by import By

    assert not page.find_element(By.ID, "filters").is_displayed()  # the filters need the script: not shown
    cells = page.find_elements(By.CSS_SELECTOR, "a.cell")
    assert len(cells) == len(report["results"]) and all(c.is_displayed() for c in cells)
    # the failures' details are open, their repro one click (an anchor) from the cell
    repro = page.find_element(By.CSS_SELECTOR, f"#r-{by['failed'][0]} a.repro")
    assert repro.is_displayed()


def test_the_sweep_page_and_its_picture_in_a_browser(browser, tmp_path):
    data = _sweep()
    (tmp_path / "sweep.svg").write_text(html.sweep_picture(data), encoding="utf-8")
    (tmp_path / "sweep.html").write_text(html.sweep_page(data, picture="sweep.svg"), encoding="utf-8")
    well_formed((tmp_path / "sweep.html").read_text(encoding="utf-8"))
    page = browser()
    page.get((tmp_path / "sweep.html").as_uri())
    from selenium.webdriver.common.by import By

    cells = page.find_elements(By.CSS_SELECTOR, "td.o")
    assert len(cells) == 3 * 4  # one per property and target
    edges = page.find_elements(By.CSS_SELECTOR, "tr[data-row] td.edge")
    assert len(edges) == 2  # a::x passes from 1.2 on; c::z is missing in 1.0 only
    page.find_element(By.ID, "changing").click()
    rows = [r for r in page.find_elements(By.CSS_SELECTOR, "tr[data-row]") if r.is_displayed()]
    assert [r.find_element(By.TAG_NAME, "th").text for r in rows] == ["t.py::a[x]", "t.py::c[z]"]
    bugs = page.find_element(By.XPATH, "//h2[text()='Recorded bugs and their ranges']/following-sibling::table[1]")
    assert "1.0" in bugs.text and "1.2" in bugs.text  # first bad, first fixed
    page.get((tmp_path / "sweep.svg").as_uri())
    assert distinct_colours(page.get_screenshot_as_png()) >= 4


@pytest.mark.parametrize(
    ("outcomes", "says"), [([], "no results"), (["crashed"], "A worker died"), (["missing"], "every one missing")]
)
def test_an_empty_a_crashed_and_an_all_missing_run_say_so_in_the_browser(browser, tmp_path, outcomes, says):
    page = browser()
    page.get(_edge_page(tmp_path, outcomes).as_uri())
    from selenium.webdriver.common.by import By

    status = page.find_element(By.CSS_SELECTOR, "[role=status]")
    assert status.is_displayed() and says in status.text
    assert len(page.find_elements(By.CSS_SELECTOR, "a.cell")) == len(outcomes)


def test_edges_are_drawn_between_releases_only():
    releases, libraries = _sweep(), _sweep()
    for run in libraries["runs"]:
        run["kind"] = "library"  # a sweep of libraries: neighbours are not a series
    assert html.sweep_page(releases).count(' edge"') == 2 and ' edge"' not in html.sweep_page(libraries)
    assert 'width="2"' in html.sweep_picture(releases) and 'width="2"' not in html.sweep_picture(libraries)


def _sweep() -> dict:
    """A sweep summary of four targets: one property fixed in 1.2 (its bug recorded), one passing everywhere, one
    new in 1.1."""
    runs = [{"label": v, "name": v, "version": v, "counts": {"passed": 2}} for v in ("1.0", "1.1", "1.2", "1.3")]
    return {
        "command": ["layer-conformance", "sweep"],
        "runs": runs,
        "results": {
            "t.py::a[x]": {"test": "t.py::a[x]", "segments": [[0, 1, "xfailed", "AssertionError"], [2, 3, "passed", ""]]},
            "t.py::b[y]": {"test": "t.py::b[y]", "segments": [[0, 3, "passed", ""]]},
            "t.py::c[z]": {"test": "t.py::c[z]", "segments": [[0, 0, "missing", ""], [1, 3, "passed", ""]]},
        },
        "xfails": [
            {"source": "x.txt:1", "reason_text": "a's bug", "versions": "<1.2", "statuses": ["bad", "bad", "good", "good"],
             "verdict": "agrees"},
        ],
    }  # fmt: skip


def test_the_matrix_of_saved_reports_has_its_picture_and_page(tmp_path, capsys):
    from layer_conformance.tools import cli

    paths = []
    for version, outcome in (("1", "failed"), ("2", "passed")):
        results = [_result(0, "passed"), _result(1, outcome, message="AssertionError" if outcome == "failed" else "")]
        page, _ = _report(results, tmp_path / version, version)
        paths.append(str(page.with_name("report.json")))
    out = tmp_path / "docs" / "matrix.md"
    assert cli.main(["matrix", *paths, "--output", str(out)]) == 0
    assert "](matrix.svg)" in out.read_text(encoding="utf-8") and "(matrix.html)" in out.read_text(encoding="utf-8")
    page = (tmp_path / "docs" / "matrix.html").read_text(encoding="utf-8")
    well_formed(page)
    # one cell per property and report; reports given by hand are not a series of releases: no edges
    assert page.count('class="o o-') == 4 and ' edge"' not in page
    assert 'class="o o-failed" data-outcome="failed" data-text="t.py::test_1[1]"' in page
    ElementTree.parse(tmp_path / "docs" / "matrix.svg")
    # a file that is not a report: one line naming it, nothing written
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  not json\n")
    assert cli.main(["matrix", str(bad), "--output", str(tmp_path / "other.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:2: not JSON" in err and not (tmp_path / "other.md").exists()


# --------------------------------------------------------------------------- the published pages


def test_the_published_sweep_has_its_page_and_picture_embedded():
    matrix = (DOCS / "cross-version-matrix.md").read_text(encoding="utf-8")
    assert "](cross-version-matrix.svg)" in matrix and "(cross-version-matrix.html)" in matrix
    page = DOCS / "cross-version-matrix.html"
    data = json.loads((DOCS / "sweep.json").read_text(encoding="utf-8"))
    assert page.read_text(encoding="utf-8") == html.sweep_page(data, picture="cross-version-matrix.svg")
    assert page.stat().st_size < 3_000_000
    picture = ElementTree.parse(DOCS / "cross-version-matrix.svg").getroot()
    assert picture.tag.endswith("svg")
    assert (DOCS / "cross-version-matrix.svg").read_text(encoding="utf-8") == html.sweep_picture(data)
    assert "](docs/cross-version-matrix.svg)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](ecosystem.svg)" in (DOCS / "ecosystem.md").read_text(encoding="utf-8")
    ElementTree.parse(DOCS / "ecosystem.svg")


# --------------------------------------------------------------------------- a screenshot, read


def distinct_colours(png: bytes) -> int:
    """How many colours a PNG screenshot holds (8-bit RGB or RGBA, as Chromium writes them)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, data, width = 8, b"", 0
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        chunk = png[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            size = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += chunk
        at += 12 + length
    raw, stride = zlib.decompress(data), width * size
    previous, colours = bytearray(stride), set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        if row % 8 == 0:
            colours.update(bytes(line[i : i + 3]) for i in range(0, stride, size * 4))
        previous = line
    return len(colours)
