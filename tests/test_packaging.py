"""Packaging promises: no extra a user installs beside their own TensorFlow brings a second one;
``fast_balance.tf`` says what to install when TensorFlow is missing; the version is written once;
and a wheel built from the sdist runs where no compiler is (.ci/wheels, Linux; FAST_BALANCE_WHEELS=0 skips it).

The extras are resolved by ``pip install --dry-run --report`` of this checkout, offline: in venvs
that hold a stub of one TensorFlow distribution each, against a local index of metadata-only
wheels that mirror what ``.[test]`` installed (so third-party requirements resolve as for real),
plus stubs of the TensorFlow distributions that are not installed.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import fast_balance

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: scikit-build-core depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])

#: Distributions that install the ``tensorflow`` package (all write the same folder).
TENSORFLOW_DISTRIBUTIONS = frozenset(canonicalize_name(name) for name in (
    "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel",
    "tensorflow-aarch64", "tensorflow-cpu-aws", "tensorflow-rocm", "intel-tensorflow",
    "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu",
))
#: The TensorFlow a user may already have, one stub venv each (None: a machine without one).
INSTALLED_TENSORFLOWS = (None, "tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-gpu",
                         "tensorflow-intel", "tf-nightly")
STUB_VERSION = "2.21.0"
#: Extras documented for a fresh machine only: they pick a TensorFlow build.
FRESH_MACHINE_EXTRAS = frozenset({"demo", "test"})
USER_EXTRAS = ("", *tuple(sorted(set(PYPROJECT["project"]["optional-dependencies"]) - FRESH_MACHINE_EXTRAS)))


def _wheel_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info(name: str, version: str, metadata: str) -> dict[str, str]:
    """Files of a dist-info folder that pip accepts as an installed (or wheel) distribution."""
    folder = f"{_wheel_name(name)}-{version}.dist-info"
    return {
        f"{folder}/METADATA": metadata,
        f"{folder}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests/test_packaging.py\nRoot-Is-Purelib: true\n"
                           "Tag: py3-none-any\n",
        f"{folder}/INSTALLER": "stub\n",
        f"{folder}/RECORD": "",
    }


def _stub_metadata(name: str) -> str:
    # and-cuda, so that a requirement of tensorflow[and-cuda] resolves to the stub too.
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {STUB_VERSION}\nProvides-Extra: and-cuda\n"


def _project_requirements(extras) -> list[Requirement]:
    """This project's requirements for ``extras`` as pyproject.toml lists them, self-references expanded."""
    optional = PYPROJECT["project"]["optional-dependencies"]
    requirements = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    queue, seen = [extra for extra in extras if extra], set()
    while queue:
        extra = queue.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for requirement in map(Requirement, optional[extra]):
            if canonicalize_name(requirement.name) == PROJECT:  # such as fast_balance[tf,plot]
                queue += requirement.extras
            else:
                requirements.append(requirement)
    return requirements


def _installed_closure(requirements: list[Requirement]) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions that ``requirements`` need here, transitively."""
    environment = default_environment()
    found: dict[str, importlib.metadata.Distribution] = {}
    followed: dict[str, set[str]] = {}  # the extras whose requirements are queued, per distribution
    queue = [(requirement, {""}) for requirement in requirements]
    while queue:
        requirement, parent_extras = queue.pop()
        if requirement.marker and not any(requirement.marker.evaluate({**environment, "extra": extra})
                                          for extra in parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = {"", *requirement.extras}
        if extras <= followed.get(name, set()):
            continue
        if name not in found:
            try:
                found[name] = importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                if name in TENSORFLOW_DISTRIBUTIONS:  # the index has a stub of it
                    continue
                pytest.fail(f"{name} is not installed here: the offline index mirrors what '.[test]' installs")
        followed.setdefault(name, set()).update(extras)
        queue += [(Requirement(text), extras) for text in found[name].requires or []]
    return found


def _link_distributions(names: list[str], target: Path) -> None:
    """Symlinks the files of installed distributions (and what they require) into ``target``."""
    for distribution in _installed_closure([Requirement(name) for name in names]).values():
        for file in distribution.files or []:
            source = Path(distribution.locate_file(file))
            if ".." in file.parts or not source.is_file():
                continue
            (target / file).parent.mkdir(parents=True, exist_ok=True)
            if not (target / file).exists():
                (target / file).symlink_to(source)


@pytest.fixture(scope="module")
def offline_index(tmp_path_factory) -> Path:
    """A folder with ``wheels/`` (the local index) and ``backend/`` (scikit-build-core and pip)."""
    base = tmp_path_factory.mktemp("offline_index")
    wheels = base / "wheels"
    wheels.mkdir()
    mirrored = _installed_closure(_project_requirements({*USER_EXTRAS, "demo"}))
    for distribution in mirrored.values():
        _write_wheel(wheels, distribution.metadata["Name"], distribution.version, distribution.read_text("METADATA"))
    for name in TENSORFLOW_DISTRIBUTIONS - set(mirrored):
        _write_wheel(wheels, name, STUB_VERSION, _stub_metadata(name))
    # The stub venvs have no pip and no build backend of their own: both come in through a .pth file.
    _link_distributions(["pip", "scikit-build-core"], base / "backend")
    return base


def _write_wheel(folder: Path, name: str, version: str, metadata: str) -> None:
    with zipfile.ZipFile(folder / f"{_wheel_name(name)}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in _dist_info(name, version, metadata).items():
            wheel.writestr(path, text)


def _stub_venv(base: Path, tensorflow: str | None, offline_index: Path) -> Path:
    """A venv without pip whose only distribution is a stub of ``tensorflow`` (if given); its python."""
    folder = base / f"venv-{tensorflow or 'none'}"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_offline_backend.pth").write_text(f"{offline_index / 'backend'}\n")
    if tensorflow is not None:
        for path, text in _dist_info(tensorflow, STUB_VERSION, _stub_metadata(tensorflow)).items():
            (site / path).parent.mkdir(parents=True, exist_ok=True)
            (site / path).write_text(text)
    return python


def _dry_run(python: Path, extra: str, offline_index: Path, report: Path) -> dict[str, str]:
    """``{name: version}`` that ``pip install ".[extra]"`` would install into ``python``'s venv."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # no index or find-links of this machine's pip configuration
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    run = subprocess.run(
        [python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", report, "--no-index",
         "--find-links", offline_index / "wheels", "--no-build-isolation", target],
        capture_output=True, text=True, env=env,
    )
    assert run.returncode == 0, run.stderr
    return {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]}


@pytest.mark.parametrize("tensorflow", INSTALLED_TENSORFLOWS, ids=lambda name: name or "no-tensorflow")
def test_user_extras_install_no_tensorflow_beside_any_tensorflow(tensorflow, offline_index, tmp_path):
    python = _stub_venv(tmp_path, tensorflow, offline_index)
    for extra in USER_EXTRAS:
        installs = _dry_run(python, extra, offline_index, tmp_path / f"report-{extra}.json")
        assert PROJECT in installs  # the report is of this project, not empty
        assert not TENSORFLOW_DISTRIBUTIONS & set(installs), (
            f'pip install ".[{extra}]" beside {tensorflow or "no TensorFlow"} would install '
            f"{sorted(TENSORFLOW_DISTRIBUTIONS & set(installs))}"
        )


#: Framework builds that the user picks: no user extra may bring one (a `torch` requirement pulls
#: the index's default build over a CPU or ROCm one).
OTHER_FRAMEWORK_BUILDS = frozenset({"torch", "jax", "jaxlib"})


def test_user_extras_install_no_torch_or_jax(offline_index, tmp_path):
    python = _stub_venv(tmp_path, None, offline_index)
    for extra in USER_EXTRAS:
        installs = _dry_run(python, extra, offline_index, tmp_path / f"report-{extra}.json")
        assert not OTHER_FRAMEWORK_BUILDS & set(installs), f'pip install ".[{extra}]" would install {installs}'
    assert {"torch", "grain"} <= set(USER_EXTRAS)


def test_demo_extra_installs_tensorflow_on_a_fresh_machine(offline_index, tmp_path):
    # Also shows that the check above sees a TensorFlow requirement when there is one.
    installs = _dry_run(_stub_venv(tmp_path, None, offline_index), "demo", offline_index, tmp_path / "report.json")
    assert TENSORFLOW_DISTRIBUTIONS & set(installs)
    assert {"matplotlib", "tqdm", "numpy"} <= set(installs)


def _installed_requirements() -> dict[str, set[str]]:
    """``{extra: names}`` of the installed distribution's requirements ("" for the base ones)."""
    by_extra: dict[str, set[str]] = {}
    for text in importlib.metadata.requires(PROJECT) or []:
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        extra = re.search(r'extra == "([^"]+)"', marker)
        by_extra.setdefault(extra.group(1) if extra else "", set()).add(canonicalize_name(requirement.name))
    return by_extra


def test_base_needs_only_numpy_and_tqdm_and_plotting_is_an_extra():
    requirements = _installed_requirements()
    assert requirements[""] == {"numpy", "tqdm"}  # progress bars work with only TensorFlow and NumPy
    assert [extra for extra, names in requirements.items() if "matplotlib" in names] == ["plot"]


def test_version_is_the_installed_distributions_and_ships_its_license():
    assert fast_balance.__version__ == importlib.metadata.version(PROJECT)
    metadata = importlib.metadata.metadata(PROJECT)
    assert metadata["License-Expression"] == "Apache-2.0"
    files = [file for file in importlib.metadata.distribution(PROJECT).files if file.name == "LICENSE"]
    assert files and "Apache License" in files[0].read_text()


def _import_tf_layer(prelude: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport fast_balance\nimport fast_balance.tf\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, **(env or {})})


def test_tf_layer_without_tensorflow_names_the_distributions_to_install(tmp_path):
    run = _import_tf_layer("import sys; sys.modules['tensorflow'] = None  # as if not installed", tmp_path)
    assert run.returncode != 0 and "ImportError: fast_balance.tf needs TensorFlow 2.15 or newer" in run.stderr
    for command in ("pip install tensorflow ", 'pip install "tensorflow[and-cuda]"', "pip install tensorflow-cpu",
                    "pip install tensorflow-macos"):
        assert command in run.stderr


def test_tf_layer_refuses_an_old_tensorflow(tmp_path):
    fake = "import sys, types; sys.modules['tensorflow'] = types.SimpleNamespace(__version__='2.14.1')"
    run = _import_tf_layer(fake, tmp_path)
    assert "needs TensorFlow 2.15 or newer; found 2.14.1" in run.stderr
    assert "pip install --upgrade " in run.stderr


def test_tf_layer_keeps_the_error_of_a_tensorflow_that_fails_to_load(tmp_path):
    broken = tmp_path / "site" / "tensorflow"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("import tensorflow._pywrap_tensorflow_internal\n")
    run = _import_tf_layer("", tmp_path, env={"PYTHONPATH": str(broken.parent)})
    assert "No module named 'tensorflow._pywrap_tensorflow_internal'" in run.stderr
    assert "needs TensorFlow" not in run.stderr


@pytest.mark.wheels
@pytest.mark.skipif(os.environ.get("FAST_BALANCE_WHEELS") == "0", reason="FAST_BALANCE_WHEELS=0")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="auditwheel and the compiler check are Linux's")
def test_wheel_from_the_sdist_installs_and_runs_without_a_compiler(tmp_path):
    # .ci/wheels checks each step itself (sdist contents, no -Werror, auditwheel, a failing compile,
    # the same epochs); its summary tells what it proved.
    run = subprocess.run([sys.executable, ROOT / ".ci" / "wheels", "--out", tmp_path], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert re.fullmatch(r"manylinux_2_\d+_\w+", summary["platform_tag"])
    assert summary["digest"] == summary["reference_digest"]
    assert summary["installed_module"].startswith(str(tmp_path / "fresh"))
    if os.geteuid() == 0:  # gcc's cc1plus hidden too, not only PATH
        assert "mount namespace" in summary["compiler_hidden_by"]
