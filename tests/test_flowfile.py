"""Flow loading: the built-in instruments load; every broken file reports its exact errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.core.errors import FlowValidationError
from bot.core.flowfile import check_directory, content_version, load_flows, read_flow_file
from flows import FLOWS_DIR

BROKEN = Path(__file__).parent / "data" / "broken"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))


def expectations(path: Path) -> set[str]:
    return {
        line.removeprefix("# expect: ").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    }


def test_builtin_flows_load() -> None:
    flows = load_flows()
    assert set(flows) == {"a11-v2-thumbs", "a11-v2-scale", "a11-v1"}
    for flow in flows.values():
        assert flow.languages == ("en", "es")
        assert flow.instrument in ("a11-v2", "a11-v1")


@pytest.mark.parametrize("path", BROKEN_FILES, ids=[p.stem for p in BROKEN_FILES])
def test_broken_flow_reports_every_error_with_its_path(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} states no expected error"
    flow, errors = read_flow_file(path, source=f"broken/{path.name}")
    assert flow is None
    assert {f"{e.path}: {e.message}" for e in errors} == expected
    assert all(str(e).startswith(f"broken/{path.name}: ") for e in errors)


def test_folder_check_collects_errors_of_every_file() -> None:
    flows, errors = check_directory(BROKEN)
    assert flows == {}
    assert len(errors) == sum(len(expectations(p)) for p in BROKEN_FILES)
    assert {Path(e.source).name for e in errors} == {p.name for p in BROKEN_FILES}


def test_load_flows_raises_with_every_error() -> None:
    with pytest.raises(FlowValidationError) as caught:
        load_flows(BROKEN)
    assert "unknown-driver.yaml: questions[1].options[2]: unknown driver 'speed'" in str(
        caught.value
    )
    assert len(caught.value.errors) > len(BROKEN_FILES)


def test_duplicate_flow_ids_across_files(tmp_path: Path) -> None:
    shutil.copy(FLOWS_DIR / "a11-v2-thumbs.yaml", tmp_path / "a.yaml")
    shutil.copy(FLOWS_DIR / "a11-v2-thumbs.yaml", tmp_path / "b.yaml")
    flows, errors = check_directory(tmp_path)
    assert list(flows) == ["a11-v2-thumbs"]
    assert [(e.path, e.message) for e in errors] == [
        ("id", f"flow id 'a11-v2-thumbs' is also used by {tmp_path / 'a.yaml'}")
    ]


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    assert [e.message for e in check_directory(tmp_path)[1]] == ["no flow files (*.yaml) found"]
    assert [e.message for e in check_directory(tmp_path / "nope")[1]] == ["not a folder"]


def test_service_catalog_is_not_read_as_a_flow(tmp_path: Path) -> None:
    shutil.copy(FLOWS_DIR / "a11-v1.yaml", tmp_path / "a11-v1.yaml")
    (tmp_path / "services.yaml").write_text("services: []\n")
    flows, errors = check_directory(tmp_path)
    assert list(flows) == ["a11-v1"] and errors == []


def test_version_is_a_content_hash_unless_given(tmp_path: Path) -> None:
    source = (FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(source)
    (tmp_path / "b.yaml").write_text(source.replace("3 quick questions", "Three questions"))
    (tmp_path / "c.yaml").write_text(
        source.replace("instrument: a11-v2", "version: '2027.1'\ninstrument: a11-v2")
    )
    a, _ = read_flow_file(tmp_path / "a.yaml")
    b, _ = read_flow_file(tmp_path / "b.yaml")
    c, _ = read_flow_file(tmp_path / "c.yaml")
    assert a is not None and b is not None and c is not None
    assert len(a.version) == 12 and a.version != b.version
    assert a.version == content_version(yaml.safe_load(source))
    assert c.version == "2027.1"


def test_driver_labels_can_be_overridden(tmp_path: Path) -> None:
    source = (FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8")
    source = source.replace(
        "    options: [effectiveness, ease, efficiency, transparency, humanity, employee, other]",
        "    options: [effectiveness, ease, employee]\n"
        "    labels:\n      employee: {en: Our officers, es: Nuestros agentes}",
    )
    (tmp_path / "f.yaml").write_text(source)
    flow, errors = read_flow_file(tmp_path / "f.yaml")
    assert errors == [] and flow is not None
    drivers = flow.question("drivers")
    assert [o.value for o in drivers.options] == ["effectiveness", "ease", "employee"]
    assert drivers.options[2].label == {"en": "Our officers", "es": "Nuestros agentes"}
    assert drivers.options[1].label["es"] == "Facilidad"
