"""The documentation works: the site builds with --strict, the README's quick start runs as written,
the performance page holds the benchmarks' tables, and every docstring example of the installed
package runs as a doctest."""

from __future__ import annotations

import doctest
import functools
import importlib
import importlib.util
import io
import operator
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: The README section whose code blocks the test runs, in order, as one script.
QUICK_START = "Quick start"


def _section(markdown: str, title: str) -> str:
    """The text under the level-2 heading ``title``, up to the next level-2 heading."""
    parts = re.split(r"^## +(.+?)\s*$", markdown, flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], parts[2::2]))
    assert title in sections, f"README.md has no '## {title}' section"
    return sections[title]


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def test_readme_quick_start_runs_as_written(tmp_path):
    blocks = _python_blocks(_section(README.read_text(), QUICK_START))
    assert len(blocks) >= 2, "the quick start shows the sampler and the image pipeline"
    script = tmp_path / "quick_start.py"
    script.write_text("\n".join(blocks))
    # In a folder of its own, as a user would paste it: it writes its small image folder there.
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    assert "[900 900 900]" in run.stdout and "[10 10 10]" in run.stdout
    assert "decode bank:" in run.stdout  # the last line, print(ds.report), was reached


def test_readme_keeps_the_set_up_commands_that_ci_runs():
    text = README.read_text()
    lines = text.splitlines()
    # .ci/run takes the first line starting so and runs it.
    test_command = next(line for line in lines if line.startswith('pip install ".[test]"'))
    assert test_command.startswith('pip install ".[test]" && python -m pytest')
    assert any(line.startswith('pip install ".[demo]" && fast-balance demo') for line in lines)


def test_site_builds_strict_with_every_page_and_link_checked(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    api = (tmp_path / "site" / "api" / "tf" / "index.html").read_text()
    assert 'id="fast_balance.tf.balanced_dataset"' in api  # the reference is generated from the docstrings


def test_performance_page_holds_the_tables_of_the_benchmark_json(tmp_path):
    # benchmarks/report.py --page rewrites each <!-- benchmark:KIND --> block from the JSON files.
    spec = importlib.util.spec_from_file_location("benchmark_report", ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    page = tmp_path / "performance.md"
    page.write_text((ROOT / "docs" / "performance.md").read_text())
    results = [str(ROOT / "benchmarks" / f"{kind}.json") for kind in ("sampler", "pipeline", "stream", "scale")]
    report.main(["--page", str(page), *results])
    assert page.read_text() == (ROOT / "docs" / "performance.md").read_text(), "rerun benchmarks/report.py --page"


def test_weights_performance_page_holds_the_tables_of_the_benchmark_json(tmp_path):
    spec = importlib.util.spec_from_file_location("benchmark_report", ROOT / "benchmarks" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    committed = (ROOT / "docs" / "performance-weights.md").read_text()
    page = tmp_path / "performance-weights.md"
    page.write_text(committed)
    report.main(["--page", str(page), str(ROOT / "benchmarks" / "weights.json")])
    assert page.read_text() == committed, "rerun benchmarks/report.py --page"


def _package_modules() -> list[str]:
    """The installed package's modules, by name, found without importing fast_balance.tf (TensorFlow)."""
    names = []
    for package in ("fast_balance", "fast_balance.tf"):
        names.append(package)
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations is not None
        for module in pkgutil.iter_modules(spec.submodule_search_locations):
            # __main__ runs the command line when imported; tf is a package of its own here.
            if not module.ispkg and module.name != "__main__":
                names.append(f"{package}.{module.name}")
    return sorted(names)


@pytest.mark.parametrize("module_name", _package_modules())
def test_docstring_examples_run(module_name, docstring_names, request):
    module = importlib.import_module(module_name)
    flags = functools.reduce(
        operator.or_, (doctest.OPTIONFLAGS_BY_NAME[name] for name in request.config.getini("doctest_optionflags")), 0
    )
    runner = doctest.DocTestRunner(optionflags=flags)
    report = io.StringIO()
    names = docstring_names(module_name)
    for example in doctest.DocTestFinder().find(module, module_name):  # the module's own docstrings
        example.globs.update(names)
        runner.run(example, out=report.write)
    assert runner.failures == 0, report.getvalue()
