"""docker-compose.yml and the Dockerfile hang together and use the README's commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def readme_commands() -> tuple[str, str]:
    commands = re.findall(r"^    \$ (.+)$", (ROOT / "README.md").read_text(), flags=re.M)
    run = next(c for c in commands if "diplo serve" in c)
    test = next(c for c in commands if "pytest" in c)
    return run, test


def dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_compose_service_volume_port_and_healthcheck_fit_together() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["diplo"]
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    env = service["environment"]
    assert "${DIPLO_ADMIN_TOKEN" in env["DIPLO_ADMIN_TOKEN"]  # taken from the environment, never written down
    port = env["DIPLO_PORT"]
    assert f"8000:{port}" in service["ports"]
    volume, mount = service["volumes"][0].split(":")
    assert volume in compose["volumes"]  # a named volume
    assert Path(env["DIPLO_DB"]).parent == Path(mount)
    health = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/health" in health
    assert service["user"] not in ("0", "root")


def test_dockerfile_runs_the_readme_commands_as_a_non_root_user() -> None:
    run, _ = readme_commands()
    install, serve = run.rsplit(" && ", 1)
    steps = dockerfile()
    runs = [arg for op, arg in steps if op == "RUN"]
    assert install in runs  # the README's install step, word for word
    cmd = next(arg for op, arg in steps if op == "CMD")
    assert " ".join(yaml.safe_load(cmd)) == serve
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert any("10001" in arg for op, arg in steps if op == "RUN") and compose["services"]["diplo"]["user"] == "10001"
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "DIPLO_DB=/data/diplo.db" in env and '"/data"' in next(arg for op, arg in steps if op == "VOLUME")


def test_ci_runs_the_readme_test_command() -> None:
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in ci and "pytest" in ci
    assert shlex.split(test)[0] == "python3"


def test_the_wheel_installs_one_top_level_name(tmp_path: Path) -> None:
    """events, projections and service are common names on the package index: diplo installs only ``diplo``."""
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("diplo-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert tops == {"diplo"}
    # The parts, their pages and the entry point come along.
    for part in ("diplo/events/catalog.py", "diplo/projections/tables.py", "diplo/service/app.py"):
        assert part in names
    assert any(n.startswith("diplo/service/templates/") for n in names)
    assert any(n.startswith("diplo/service/static/") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "diplo = diplo.service.cli:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()
