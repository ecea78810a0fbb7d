"""The image recipe agrees with the repository: base image, copied paths, s6 service, labels.

There is no Docker engine on the CI machines, so this reads the Dockerfile and rootfs the way
`docker build` and s6-overlay v3 would use them (ha-addon.md §1.5, §1.6).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

import ttlock_nuki_addon

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "ttlock-nuki"
S6 = ROOT / "rootfs/etc/s6-overlay/s6-rc.d"
BASE = re.compile(r"ghcr\.io/home-assistant/base-python:(3\.\d+)-alpine(3\.\d+)")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (keyword, arguments) with continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation"
    result = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def args_of(keyword: str) -> list[str]:
    return [rest for key, rest in instructions() if key == keyword]


def labels() -> dict[str, str]:
    found: dict[str, str] = {}
    for rest in args_of("LABEL"):
        for item in shlex.split(rest):
            key, _, value = item.partition("=")
            found[key] = value
    return found


def test_the_dockerfile_names_a_pinned_base_python_image_itself() -> None:
    steps = instructions()
    assert steps[0][0] == "ARG" and steps[0][1].startswith("BUILD_FROM=")
    base = steps[0][1].removeprefix("BUILD_FROM=")
    match = BASE.fullmatch(base)
    assert match, f"{base} is not a pinned ghcr.io/home-assistant/base-python tag"
    assert steps[1] == ("FROM", "${BUILD_FROM}")
    python = tuple(int(part) for part in match.group(1).split("."))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floor = tuple(int(p) for p in project["requires-python"].removeprefix(">=").split("."))
    assert python >= floor


def test_build_yaml_lists_the_same_base_for_every_arch() -> None:
    base = instructions()[0][1].removeprefix("BUILD_FROM=")
    name, tag = base.rsplit(":", 1)
    build = yaml.safe_load((ROOT / "build.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert set(build["build_from"]) == set(config["arch"])
    for arch, image in build["build_from"].items():
        assert image == f"{name.replace('base-python', f'{arch}-base-python')}:{tag}"


def test_every_path_the_dockerfile_copies_exists_and_is_not_docker_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = args_of("COPY")
    assert copies
    for rest in copies:
        *sources, _target = shlex.split(rest)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert source.rstrip("/") not in ignored, f"COPY {source} is in .dockerignore"


def test_the_image_installs_the_package_and_finds_the_panel_files() -> None:
    run = " ".join(args_of("RUN"))
    assert "python3 -m venv /opt/venv" in run and "/opt/venv/bin/pip install" in run
    env = " ".join(args_of("ENV"))
    web_root = re.search(r"TTLOCK_NUKI_WEB_ROOT=(\S+)", env)
    assert web_root, "the image must tell the server where the panel files are"
    assert any(
        shlex.split(rest)[-1] == web_root.group(1) and shlex.split(rest)[0] == "web"
        for rest in args_of("COPY")
    )
    assert (ROOT / "web/templates/index.html").is_file()
    assert any(shlex.split(rest) == ["rootfs", "/"] for rest in args_of("COPY"))


def test_labels_name_the_app_its_arches_and_the_manifest_version() -> None:
    found = labels()
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert found["io.hass.type"] == "app"
    assert set(found["io.hass.arch"].split("|")) == set(config["arch"])
    assert found["io.hass.version"] == "${BUILD_VERSION}"
    build_version = next(a for a in args_of("ARG") if a.startswith("BUILD_VERSION="))
    assert build_version.removeprefix("BUILD_VERSION=") == config["version"]
    for key in ("title", "description", "version", "source", "licenses"):
        assert found[f"org.opencontainers.image.{key}"], key


def test_the_s6_longrun_is_registered_and_its_scripts_are_executable_in_git() -> None:
    service = S6 / SERVICE
    assert (service / "type").read_text(encoding="utf-8").strip() == "longrun"
    assert (service / "dependencies.d/base").is_file()
    assert (S6 / "user/contents.d" / SERVICE).is_file()
    modes = subprocess.run(
        ["git", "ls-files", "--stage", "--", "rootfs"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    staged = {line.split("\t")[1]: line.split()[0] for line in modes.splitlines()}
    for name in ("run", "finish"):
        script = service / name
        assert script.stat().st_mode & 0o111, f"{name} is not executable"
        assert script.read_text(encoding="utf-8").startswith("#!/command/with-contenv bashio\n")
        relative = str(script.relative_to(ROOT))
        if relative in staged:  # a clean clone gets git's mode, not the working tree's
            assert staged[relative] == "100755", f"{relative} is not executable in git"


@pytest.mark.parametrize("name", ["run", "finish"])
def test_the_service_scripts_are_valid_bash(name: str) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    subprocess.run([bash, "-n", str(S6 / SERVICE / name)], check=True)


def test_the_run_script_execs_the_package_from_the_images_venv() -> None:
    run = (S6 / SERVICE / "run").read_text(encoding="utf-8")
    last = [line for line in run.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last == "exec /opt/venv/bin/python3 -m ttlock_nuki_addon"
    package = Path(ttlock_nuki_addon.__file__).parent
    assert (package / "__main__.py").is_file()
    assert "def main(" in (package / "app.py").read_text(encoding="utf-8")


def test_the_finish_script_stops_the_container_on_a_crash(tmp_path: Path) -> None:
    """Run finish with stand-ins for bashio and s6's halt; a crash halts and keeps its code."""
    script = (S6 / SERVICE / "finish").read_text(encoding="utf-8")
    results = tmp_path / "exitcode"
    halt = tmp_path / "halt"
    halt.write_text(f"#!/bin/sh\necho halted >> {tmp_path / 'log'}\n")
    halt.chmod(0o755)
    body = script.split("\n", 1)[1]
    body = body.replace("/run/s6-linux-init-container-results/exitcode", str(results))
    body = body.replace("/run/s6/basedir/bin/halt", str(halt))
    stub = 'bashio::log.error() { echo "$*" >> ' + str(tmp_path / "log") + "; }\n"
    finish = tmp_path / "finish"
    finish.write_text("#!/bin/bash\n" + stub + body)
    finish.chmod(0o755)

    def run(code: int, signal: int) -> tuple[str, str]:
        results.write_text("0")
        (tmp_path / "log").write_text("")
        subprocess.run([str(finish), str(code), str(signal)], check=True)
        return results.read_text().strip(), (tmp_path / "log").read_text()

    code, log = run(1, 0)
    assert code == "1" and "halted" in log and "exited with code 1" in log
    code, log = run(256, 9)
    assert code == "137" and "halted" in log and "signal 9" in log
    code, log = run(256, 15)
    assert code == "143" and log.strip() == "halted"
    code, log = run(0, 0)
    assert code == "0" and log == ""
