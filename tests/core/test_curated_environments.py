"""Curated environment names resolve to local definitions with the published Python and pins."""

import json
import re

import pytest

from amlocal import curated_environments as curated
from amlocal.exceptions import InvalidArgumentError, UnknownCuratedEnvironmentError
from amlocal.specs import EnvironmentSpec

ISSUE_NAMES = ["AzureML-sklearn-1.5", "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu", "AzureML-Minimal",
               "AzureML-Tutorial"]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_the_names_the_docs_and_samples_use_resolve_in_any_case(name):
    for spelling in (name, name.lower(), name.upper()):
        spec = curated.lookup(spelling)
        assert isinstance(spec, EnvironmentSpec) and spec.curated
        assert spec.name == name                     # reported as Azure spells it


def test_the_notebooks_sklearn_environment_has_the_published_pins():
    spec = curated.lookup("azureml-sklearn-1.5")     # the notebook's own spelling
    assert spec.python_version == "3.10"
    assert {"scikit-learn~=1.5.0", "numpy~=1.22.0", "scipy~=1.10.0", "pandas~=1.5.3",
            "joblib~=1.2.0"} <= set(spec.pip_packages)
    assert not spec.conda_packages                   # local builds install everything with pip


def test_sklearn_1_0_py38_is_python_3_8_with_sklearn_1_0():
    spec = curated.lookup("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu")
    assert spec.python_version == "3.8"
    assert "scikit-learn~=1.0.0" in spec.pip_packages


def test_azure_runtime_packages_stay_in_the_table_but_are_not_installed_locally():
    env = curated.entry("AzureML-sklearn-1.5")
    azure = [p for p in env.packages if p.spec.startswith("azureml-")]
    assert {p.spec for p in azure} >= {"azureml-core", "azureml-defaults", "azureml-mlflow"}
    assert all(not p.local and "azureml-core" in p.why_not for p in azure)
    spec = env.to_spec()
    assert not any(p.startswith("azureml") for p in spec.pip_packages)
    assert curated.lookup("AzureML-Minimal").pip_packages == ()
    tutorial = curated.entry("AzureML-Tutorial")
    assert {"scikit-learn", "pandas", "numpy", "matplotlib"} <= set(tutorial.local_packages)
    assert "azureml-sdk==1.8.0" in {p.spec for p in tutorial.packages}


def test_every_left_out_package_says_why():
    for env in curated.CURATED_ENVIRONMENTS:
        for package in env.packages:
            assert package.local or package.why_not, (env.name, package.spec)
            assert package.section in ("pip", "conda")


def test_every_entry_names_its_source_date_image_and_python_caveat():
    for env in curated.CURATED_ENVIRONMENTS:
        assert env.name.startswith("AzureML-")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", env.source_date)
        assert env.source.startswith("https://github.com/")
        assert env.azure_image.startswith("mcr.microsoft.com/azureml/")
        assert re.fullmatch(r"3\.\d+(\.\d+)?", env.python_version)
        assert "Python" in env.python_note


def test_unknown_curated_name_lists_the_known_ones():
    with pytest.raises(UnknownCuratedEnvironmentError) as info:
        curated.lookup("AzureML-pytorch-1.13")
    error = info.value
    assert isinstance(error, InvalidArgumentError)
    for name in ISSUE_NAMES:
        assert name in str(error)
    assert error.known == sorted(curated.known_names(), key=str.lower)


def test_a_users_own_environment_name_is_not_curated():
    assert curated.lookup("sklearn-env") is None
    assert curated.entry("my-environment") is None
    assert not curated.is_curated_name("sklearn-env") and curated.is_curated_name("azureml-anything")


def test_known_names_are_unique_ignoring_case():
    names = [n.lower() for n in curated.known_names()]
    assert len(names) == len(set(names)) and set(n.lower() for n in ISSUE_NAMES) <= set(names)


def test_specs_cross_process_boundaries_unchanged():
    for name in curated.known_names():
        spec = curated.lookup(name)
        assert EnvironmentSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
