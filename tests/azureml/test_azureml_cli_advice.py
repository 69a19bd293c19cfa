"""The Azure CLI advice works: the azure-cli amlocal recommends installs next to azureml-core
without breaking its version caps (checked with pip's resolver against the package index), and
the README and the no-credentials error recommend that same one."""

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from amlocal_azureml.auth import AZURE_CLI_REQUIREMENT, find_credentials
from amlocal_azureml.errors import AzureCredentialsError

REPO = Path(__file__).resolve().parents[2]


def caps_broken_by(report):
    """[(package, azureml requirement, version pip would install)] that break a requirement of the
    installed azureml-core / azureml-train-core."""
    after = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
             for item in report["install"]}
    broken = []
    for top in ("azureml-core", "azureml-train-core"):
        try:
            requirements = distribution(top).requires or []
        except PackageNotFoundError:
            continue
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            version = after.get(requirement.name.lower().replace("_", "-"))
            if version and not requirement.specifier.contains(version, prereleases=True):
                broken.append((top, text, version))
    return broken


def test_the_error_and_the_readme_recommend_the_same_azure_cli(tmp_path):
    with pytest.raises(AzureCredentialsError) as raised:
        find_credentials({}, {"AZURE_CONFIG_DIR": str(tmp_path)}, cli_installed=False)
    assert f"pip install '{AZURE_CLI_REQUIREMENT}'" in str(raised.value)
    assert f"pip install '{AZURE_CLI_REQUIREMENT}'" in (REPO / "README.md").read_text()


@pytest.mark.slow
def test_the_recommended_azure_cli_keeps_azureml_cores_caps(tmp_path):
    report_file = tmp_path / "report.json"
    resolved = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
                               "--disable-pip-version-check", "--report", str(report_file), AZURE_CLI_REQUIREMENT],
                              capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if resolved.returncode != 0 and not report_file.exists():
        if "No matching distribution" in resolved.stderr or "ResolutionImpossible" in resolved.stderr:
            pytest.fail(f"pip cannot install {AZURE_CLI_REQUIREMENT} here:\n{resolved.stderr[-2000:]}")
        pytest.skip(f"the package index is not reachable: {resolved.stderr.strip()[-300:]}")
    report = json.loads(report_file.read_text())
    assert any(item["metadata"]["name"] == "azure-cli" for item in report["install"])
    assert caps_broken_by(report) == []
