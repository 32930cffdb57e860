"""buf breaking guards the contracts: a change that would break a deployed peer (a field
removed, an RPC renamed) fails, an added field passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.buf_breaking import BUF, breaking
from tools.protogen import PROTO_ROOT, descriptor_set

pytestmark = pytest.mark.skipif(not BUF.exists(), reason="buf comes with `make buf-lint` (npm)")


def _image(tmp_path: Path, name: str, edit: tuple[str, str] | None = None) -> Path:
    protos = tmp_path / name / "protos"
    shutil.copytree(PROTO_ROOT, protos)
    if edit is not None:
        path = protos / "shopmesh" / "catalog" / "v1" / "catalog.proto"
        text = path.read_text(encoding="utf-8")
        assert edit[0] in text
        path.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    image = tmp_path / f"{name}.binpb"
    descriptor_set(protos, image)
    return image


@pytest.mark.parametrize(
    ("edit", "finding"),
    [
        (("rpc GetProduct(", "rpc FetchProduct("), 'RPC "GetProduct"'),
        (("  string sku = 1;\n}", "}"), 'Previously present field "1"'),
    ],
)
def test_a_breaking_change_to_the_contracts_fails(
    tmp_path: Path, edit: tuple[str, str], finding: str
) -> None:
    """Renaming an RPC or dropping a field is reported, and the check fails."""
    before = _image(tmp_path, "before")
    after = _image(tmp_path, "after", edit)
    done = breaking(after, before)
    assert done.returncode != 0
    assert finding in done.stdout


def test_an_added_field_is_not_breaking(tmp_path: Path) -> None:
    """A new optional field keeps every deployed peer working."""
    before = _image(tmp_path, "before")
    after = _image(
        tmp_path, "after", ("  string sku = 1;\n}", "  string sku = 1;\n  string note = 99;\n}")
    )
    assert breaking(after, before).returncode == 0
