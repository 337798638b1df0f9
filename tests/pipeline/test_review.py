"""Review workflow: diff of a parsed and a reviewed model, text and HTML rendering, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from criteria_models import Protocol
from pipeline.cli import app
from pipeline.parse_criteria import parse_protocol
from pipeline.review import diff_protocols, render_html, render_text

REPO = Path(__file__).resolve().parents[2]
TEXT = """Inclusion Criteria:
- Age 18-75 years
- Rheumatoid arthritis
Exclusion Criteria:
- HIV infection
- Pregnant or lactating women
"""


def _reviewed(model: Protocol) -> Protocol:
    data = json.loads(model.model_dump_json())
    renames = {"INC-01": "INC-AGE", "EXC-01": "EXC-HIV"}
    for c in data["criteria"]:
        c["id"] = renames.get(c["id"], c["id"])
    data["criteria"][1]["category"] = "diagnosis"  # INC-02 kept its id
    data["rule"]["cohorts"][0]["criteria"] = ["INC-AGE", "INC-02"]
    data["rule"]["exclusions"] = ["EXC-HIV", "EXC-02"]
    return Protocol.model_validate(data)


def test_diff_matches_renamed_criteria_by_span_and_counts_fields() -> None:
    parsed = parse_protocol(TEXT)
    result = diff_protocols(parsed, _reviewed(parsed))
    by_parsed = {p.parsed_id: p for p in result.pairs}
    assert by_parsed["INC-01"].reviewed_id == "INC-AGE" and by_parsed["INC-01"].matched_by == "span"
    assert by_parsed["INC-02"].matched_by == "id" and by_parsed["INC-02"].fields == ["category"]
    assert result.differing_fields == 1 and result.structural == []


def test_diff_reports_structural_differences() -> None:
    parsed = parse_protocol(TEXT)
    data = json.loads(parsed.model_dump_json())
    data["rule"]["exclusions"] = ["EXC-01"]
    data["rule"]["common_inclusions"] = ["EXC-02"]
    data["criteria"][0]["requirement"] = {"type": "demographic", "attribute": "age", "value": 18}
    result = diff_protocols(parsed, Protocol.model_validate(data))
    joined = " | ".join(result.structural)
    assert "exclusions: 2 parsed vs 1 reviewed" in joined
    assert "common inclusions" in joined and "requirement type INC-01" in joined


def test_diff_on_the_reference_protocol() -> None:
    text = (REPO / "corpora/protocols/cd7_cart_autoimmune.txt").read_text(encoding="utf-8")
    parsed = parse_protocol(text, "cd7")
    reviewed = Protocol.model_validate_json(
        (REPO / "corpora/protocols/cd7_cart_autoimmune.criteria.json").read_text(encoding="utf-8")
    )
    result = diff_protocols(parsed, reviewed)
    # Every parsed criterion finds its reviewed counterpart; the cohort shape is the same.
    assert all(p.matched_by in ("id", "span") for p in result.pairs)
    assert not any(s.startswith(("cohorts", "common", "exclusions")) for s in result.structural)


def test_render_text_and_escaped_html() -> None:
    model = parse_protocol(TEXT + '- Score <3 & "quoted" ALT > 3 x ULN\n')
    text = render_text(model)
    assert "INC-01 (inclusion): Age 18-75 years" in text and "age >= 18.0" in text
    page = render_html(model)
    assert "Score <3 &" not in page and '"quoted"' not in page
    # Entities are wrapped in <mark>; the text between the tags is escaped.
    plain = re.sub(r"</?mark[^>]*>", "", page)
    assert "Score &lt;3 &amp; &quot;quoted&quot;" in plain


def test_cli_diff_render_and_batch(tmp_path: Path) -> None:
    runner = CliRunner()
    protocol = tmp_path / "p.txt"
    protocol.write_text(TEXT, encoding="utf-8")
    parsed_path = tmp_path / "p.json"
    result = runner.invoke(app, ["parse", str(protocol), "-o", str(parsed_path)])
    assert result.exit_code == 0, result.output
    reviewed_path = tmp_path / "r.json"
    parsed = Protocol.model_validate_json(parsed_path.read_text(encoding="utf-8"))
    reviewed_path.write_text(_reviewed(parsed).model_dump_json(), encoding="utf-8")
    result = runner.invoke(app, ["diff", str(parsed_path), str(reviewed_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["differing_fields"] == 1
    html_path = tmp_path / "p.html"
    result = runner.invoke(app, ["render", str(parsed_path), "--html", str(html_path)])
    assert result.exit_code == 0 and "EXC-02" in result.output and html_path.is_file()

    corpus = tmp_path / "corpus.jsonl"
    record = {
        "_id": "NCT1",
        "title": "t",
        "text": "summary",
        "metadata": {
            "inclusion_criteria": "inclusion criteria: \n\n Asthma \n\n Age 18 - 75 years",
            "exclusion_criteria": ": \n\n Pregnancy \n\n",
        },
    }
    corpus.write_text(json.dumps(record) + "\n{bad json\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["parse", "--corpus", str(corpus), "-o", str(out)])
    assert result.exit_code == 0, result.output
    models = [Protocol.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [c.kind for c in models[0].criteria] == ["inclusion", "inclusion", "exclusion"]
    assert "bad JSON line" in result.output

    folder = tmp_path / "lct"
    folder.mkdir()
    (folder / "A.txt").write_text(TEXT, encoding="utf-8")
    (folder / "B.txt").write_bytes(b"\xff\xfe not utf-8")
    result = runner.invoke(app, ["parse", "--dir", str(folder), "-o", str(out)])
    assert result.exit_code == 0 and "trials parsed: 1" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["parse", "--dir", str(empty), "-o", str(out)])
    assert result.exit_code != 0


def test_render_shows_entities_and_escapes_them_in_html() -> None:
    from pipeline.parse_criteria import parse_protocol
    from pipeline.review import render_html, render_text

    model = parse_protocol(
        "Inclusion Criteria:\n- Ulcerative colitis <script>alert(1)</script> on infliximab\n"
    )
    text = render_text(model)
    assert "Condition 'Ulcerative colitis' [ICD10CM:K51]" in text
    page = render_html(model)
    assert "<script>" not in page
    assert "title=\"Drug 'infliximab' [DRUG:infliximab]\"" in page.replace("&#x27;", "'")
    assert "<mark class='condition'" in page


def test_parse_coverage_counts_codes_and_values_separately() -> None:
    from pipeline.cli_review import _coverage

    model = parse_protocol(
        "Inclusion Criteria:\n- Ulcerative colitis\n- IPSS 20 or less\n"
        "- In the investigator's opinion, suitable for the study\n"
    )
    by_text = {c.text.strip(): _coverage(c) for c in model.criteria}
    assert by_text["Ulcerative colitis"] == (True, True)
    assert by_text["IPSS 20 or less"] == (False, True)  # a threshold on a text-named analyte
    # a judgement names no fact: neither coded nor valued
    assert by_text["In the investigator's opinion, suitable for the study"] == (False, False)


def test_render_names_a_concept_group_once_with_its_codes() -> None:
    model = parse_protocol("Exclusion Criteria:\n- Liver disease\n")
    line = next(x for x in render_text(model).splitlines() if "condition" in x)
    assert "liver disease [B15, B16, B17, B18, B19, K7]" in line
    assert "liver disease, liver disease" not in line
