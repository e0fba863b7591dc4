"""The README's Python snippets run as written (the rail file is taken from ../shared/data)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_snippet_per_subpackage():
    joined = "\n".join(BLOCKS)
    for sub in ("control", "fem", "chem", "tt", "lowrank"):
        assert f"physfact.{sub}" in joined


@pytest.mark.parametrize("code", BLOCKS, ids=[re.search(r"physfact\.(\w+)", b).group(1) for b in BLOCKS])
def test_readme_snippet_runs(code, shared_data_dir_or_none):
    if "path/to/" in code:
        if shared_data_dir_or_none is None:
            pytest.skip("snippet reads a reference model from ../shared/data, absent here")
        code = code.replace("path/to/", str(shared_data_dir_or_none / "control") + "/")
    ns = {"__name__": "readme"}
    exec(compile(code, str(README), "exec"), ns)
    # the snippet really computed something with physfact (a result object, not just imports)
    made = [k for k, v in ns.items() if not k.startswith("__") and type(v).__module__.startswith("physfact")]
    assert made, "the snippet produced no physfact result"


@pytest.fixture
def shared_data_dir_or_none():
    from tests.conftest import shared_data_dir

    d = shared_data_dir()
    return d if d.is_dir() else None
