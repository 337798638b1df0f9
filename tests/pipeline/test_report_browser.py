"""The HTML report in a real browser (Debian chromium, headless): it loads, its filter script
runs, a screenshot is taken, and an XSS probe in a note is shown as text and never executes.

Chromium is installed by `make venv` (best effort); if it is missing this test FAILS with the
install command, it does not skip: an unchecked report is a missing feature.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from criteria_models.model import Protocol
from pipeline.match import extract_facts, load_protocol, match_patients
from pipeline.patients_io import Note, Patient, read_patients_jsonl
from pipeline.report import render_report

REPO = Path(__file__).resolve().parents[2]
REFERENCE_MODEL = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
SAMPLE_PATIENTS = REPO / "corpora" / "sample" / "patients.jsonl"
PROBE_SCRIPT = "<script>document.title='PWNED'</script>"
PROBE_IMG = "<img src=x onerror=\"document.title='PWNED'\">"


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail(
            "chromium is not installed: the report browser test needs Debian's chromium "
            "(`apt-get update && apt-get install -y chromium`, done best-effort by `make venv`)"
        )
    return exe


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    base += [f"--user-data-dir={tmp / 'profile'}", "--disable-extensions"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    protocol: Protocol = load_protocol(REFERENCE_MODEL)
    text = (
        "RHEUMATOLOGY CONSULT\n"
        f"HPI: 52 yo F. Rheumatoid arthritis diagnosed 2015 {PROBE_SCRIPT} {PROBE_IMG} "
        "seropositive. Failed methotrexate, adalimumab and tocilizumab.\n"
    )
    hostile = Patient(
        "PROBE-001",
        "F",
        dt.date(1972, 3, 3),
        dt.date(2025, 3, 1),
        (Note("PROBE-001-N1", dt.date(2025, 2, 1), "consult", text),),
    )
    patients = [hostile, *read_patients_jsonl(SAMPLE_PATIENTS).patients[:3]]
    facts = extract_facts(patients)
    results = list(match_patients(protocol, patients, facts))
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(render_report(protocol, patients, results), encoding="utf-8")
    return page


def test_report_renders_in_chromium_and_probe_stays_text(report_page: Path, tmp_path: Path) -> None:
    url = report_page.as_uri()
    dom = _run(["--virtual-time-budget=3000", "--dump-dom", url], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    out = dom.stdout
    assert "<title>Eligibility report" in out, out[:500]
    assert "PWNED</title>" not in out
    # the probe is visible as text, escaped in the serialised DOM
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=" in out
    assert not re.search(r"<img[^>]*onerror", out)
    # our own filter script ran on load (it writes the count of shown candidates)
    assert re.search(r"<span id=\"f-count\">4 shown</span>", out), "filter script did not run"


def test_report_screenshot_and_no_console_errors(report_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    res = _run(
        ["--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
         f"--screenshot={shot}", report_page.as_uri()],
        tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not [ln for ln in console if "Uncaught" in ln or "Error" in ln], console


def _shown(dom: str) -> int:
    m = re.search(r"<span id=\"f-count\">(\d+) shown</span>", dom)
    assert m, "filter script did not run"
    return int(m.group(1))


def test_filters_by_overall_and_by_criterion(report_page: Path, tmp_path: Path) -> None:
    """Filters preset from the URL fragment: the count of shown candidates follows the verdicts."""
    html_text = report_page.read_text(encoding="utf-8")
    overall = re.findall(r"<tr class='cand' data-overall='(\w+)' data-crit='([^']*)'", html_text)
    assert len(overall) == 4

    def shown(fragment: str) -> int:
        dom = _run(
            ["--virtual-time-budget=3000", "--dump-dom", report_page.as_uri() + fragment], tmp_path
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
        return _shown(dom.stdout)

    label = overall[0][0]
    assert shown(f"#overall={label}") == sum(o == label for o, _ in overall) >= 1
    cid, clabel = overall[0][1].strip("|").split("|")[0].split("=")
    want = sum(f"|{cid}={clabel}|" in crit for _, crit in overall)
    assert shown(f"#crit={cid}&label={clabel}") == want >= 1
    other = "met" if clabel != "met" else "not_met"
    assert shown(f"#crit={cid}&label={other}") == sum(f"|{cid}={other}|" in c for _, c in overall)
    assert shown("#crit=NO-SUCH-CRITERION") == 4  # unknown option: the select stays on 'any'
