"""The README's feature table lists every public loss of fastloss, and names
only classes that exist: a loss added without its row (or a row left behind by a
renamed loss) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import fastloss as fl

README = Path(__file__).resolve().parent.parent / "README.md"


def _table_rows() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Every loss beside its peers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert set(rows[1]) <= set("|-: "), "the header's rule"
    header, rows = rows[0], rows[2:]  # the header, its rule, then the losses
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "fastloss", "Keras 3", "PyTorch", "optax", "scikit-learn", "XGBoost", "LightGBM",
        "CatBoost"]
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]


def _public_losses() -> set[str]:
    bases = {fl.Loss, fl.ClassAxisLoss, fl.CompositeLoss, fl.ElementwiseLoss}
    out = set()
    for name in fl.__all__:
        obj = getattr(fl, name)
        if isinstance(obj, type) and issubclass(obj, fl.Loss) and obj not in bases \
                and not name.startswith("_") and obj.__name__ == name:
            out.add(name)
    return out


def test_every_public_loss_has_a_row_and_every_row_names_a_loss():
    listed: set[str] = set()
    for cells in _table_rows():
        assert len(cells) == 8, cells
        if cells[0] == "no":  # a peer's loss fastloss does not have yet
            assert any(c != "—" for c in cells[1:]), cells
            continue
        names = re.findall(r"`([A-Za-z0-9_]+)`", cells[0])
        assert names, cells
        for name in names:
            assert isinstance(getattr(fl, name, None), type), f"{name} is not a fastloss class"
        listed.update(names)
    missing = _public_losses() - listed
    assert not missing, f"losses without a row in README's feature table: {sorted(missing)}"
