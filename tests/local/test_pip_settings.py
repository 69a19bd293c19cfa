"""The user's pip settings (index URLs, trusted hosts, CA bundle) are carried into builds."""

from amlocal._local import wheel_cache as packages
from amlocal.specs import EnvironmentSpec
from amlocal_docker.image import CA_IN_BUILD, EnvironmentImage


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


def test_build_container_gets_the_indexes_and_the_ca_bundle(tmp_path):
    ca = tmp_path / "corp-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = {"index_url": "https://mirror.example/simple", "extra_index_urls": ["file:///opt/x"],
                "trusted_hosts": ["mirror.example"], "cert": str(ca)}
    image = EnvironmentImage(EnvironmentSpec(name="e", base_image="base", pip_packages=["joblib"]), api=None)
    command, environment, mounts = image._build_command(["joblib"], [], False, False, settings, tmp_path)
    assert environment["PIP_INDEX_URL"] == "https://mirror.example/simple"
    assert environment["PIP_TRUSTED_HOST"] == "mirror.example"
    assert environment["PIP_CERT"] == CA_IN_BUILD and mounts[str(ca)] == CA_IN_BUILD
    assert "PIP_EXTRA_INDEX_URL" not in environment
    assert "--no-index" not in command and "joblib" in command
    wheels_only, _, _ = image._build_command(["joblib"], [], False, True, settings, tmp_path)
    assert "--no-index" in wheels_only
