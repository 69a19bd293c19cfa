"""The user's pip settings (index URLs, trusted hosts, CA bundle) are carried into builds."""

from amlocal._local import wheel_cache as packages
from amlocal.specs import EnvironmentSpec
from amlocal.local import PackagePlan
from amlocal_docker.image import CA_IN_BUILD, UV_IN_BUILD, EnvironmentImage


def test_pip_config_file_then_environment_variables(tmp_path, monkeypatch):
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_CERT"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://mirror.example/simple\n"
                      "extra-index-url = file:///opt/local/simple https://extra.example/simple\n"
                      "trusted-host = mirror.example\ncert = /etc/corp-ca.pem\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    settings = packages.pip_settings()
    assert settings["index_url"] == "https://mirror.example/simple"
    assert settings["trusted_hosts"] == ["mirror.example"]
    assert settings["cert"] == "/etc/corp-ca.pem"
    monkeypatch.setenv("PIP_INDEX_URL", "https://override.example/simple")
    assert packages.pip_settings()["index_url"] == "https://override.example/simple"
    remote = packages.remote_index_settings(packages.pip_settings())
    assert remote["extra_index_urls"] == ["https://extra.example/simple"]  # a file:// index is the host's


def build_plan(tmp_path, offline, installer="pip"):
    uv = str(tmp_path / "uv") if installer == "uv" else None
    return PackagePlan(("joblib",), (), tmp_path, offline, installer, uv)


def test_build_container_gets_the_indexes_and_the_ca_bundle(tmp_path):
    ca = tmp_path / "corp-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = {"index_url": "https://mirror.example/simple", "extra_index_urls": ["file:///opt/x"],
                "trusted_hosts": ["mirror.example"], "cert": str(ca)}
    image = EnvironmentImage(EnvironmentSpec(name="e", base_image="base", pip_packages=["joblib"]), api=None)
    command, environment, mounts = image._build_command(build_plan(tmp_path, False), "python3", [], False, settings)
    assert environment["PIP_INDEX_URL"] == "https://mirror.example/simple"
    assert environment["PIP_TRUSTED_HOST"] == "mirror.example"
    assert environment["PIP_CERT"] == CA_IN_BUILD and mounts[str(ca)] == CA_IN_BUILD
    assert "PIP_EXTRA_INDEX_URL" not in environment
    assert "--no-index" not in command and "joblib" in command
    wheels_only, _, _ = image._build_command(build_plan(tmp_path, True), "python3", [], False, settings)
    assert "--no-index" in wheels_only
    # uv installs only from the wheel cache (from an index it would ignore Requires-Python's upper bounds)
    with_uv, environment, mounts = image._build_command(build_plan(tmp_path, True, "uv"), "python3", [], False,
                                                        settings)
    assert "--no-index" in with_uv and "--index-url" not in with_uv and mounts[str(tmp_path / "uv")] == UV_IN_BUILD
