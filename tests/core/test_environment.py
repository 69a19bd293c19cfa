"""Environment and CondaDependencies: what a user declares is what the backends receive."""

import textwrap

import pytest

from amlocal.core import CondaDependencies, Environment
from amlocal.exceptions import InvalidArgumentError


def test_conda_dependencies_create():
    deps = CondaDependencies.create(pip_packages=["joblib", "scikit-learn==1.5.0", "joblib"],
                                    conda_packages=["libgomp"], python_version="3.11",
                                    pip_indexurl="https://example.org/simple")

    assert deps.pip_packages == ["joblib", "scikit-learn==1.5.0"]
    assert deps.conda_packages == ["libgomp"]
    assert deps.get_python_version() == "3.11"
    assert deps.pip_options == ["--index-url https://example.org/simple"]


def test_add_pip_package_does_not_duplicate():
    deps = CondaDependencies()
    deps.add_pip_package("numpy")
    deps.add_pip_package("numpy")
    deps.add_pip_package("pandas>=2")

    assert deps.pip_packages == ["numpy", "pandas>=2"]
    deps.remove_pip_package("NumPy")
    assert deps.pip_packages == ["pandas>=2"]


@pytest.mark.parametrize("package", ["", "   ", None, ["numpy"]])
def test_add_pip_package_rejects_non_packages(package):
    with pytest.raises(InvalidArgumentError):
        CondaDependencies().add_pip_package(package)


def test_from_pip_requirements(project):
    requirements = project / "requirements.txt"
    requirements.write_text(textwrap.dedent("""\
        # training requirements
        numpy==1.26.4\t# pinned for the model file
        -i https://example.org/simple
        --extra-index-url https://example.org/extra

        scikit-learn>=1.3
        joblib ; python_version >= "3.8"
    """))

    env = Environment.from_pip_requirements("train-env", str(requirements))

    deps = env.python.conda_dependencies
    assert env.name == "train-env"
    assert deps.pip_packages == ["numpy==1.26.4", "scikit-learn>=1.3", 'joblib ; python_version >= "3.8"']
    assert deps.pip_options == ["-i https://example.org/simple", "--extra-index-url https://example.org/extra"]
    assert deps.conda_packages == []


def test_from_pip_requirements_with_index_url_option(project):
    requirements = project / "requirements.txt"
    requirements.write_text("--index-url https://example.org/simple\nnumpy\n")

    deps = Environment.from_pip_requirements("e", str(requirements)).python.conda_dependencies

    assert deps.pip_options == ["--index-url https://example.org/simple"]
    assert deps.pip_packages == ["numpy"]


def test_from_pip_requirements_of_a_missing_file(project):
    with pytest.raises(InvalidArgumentError, match="requirements"):
        Environment.from_pip_requirements("e", str(project / "nope.txt"))


def test_from_conda_specification(project):
    spec = project / "environment.yml"
    spec.write_text(textwrap.dedent("""\
        name: project_environment
        channels:
          - conda-forge
          - defaults
        dependencies:
          - python=3.11
          - numpy  # from conda
          - pip
          - pip:
            - scikit-learn==1.5.0
            - --extra-index-url https://example.org/extra
            - git+https://github.com/example/tool.git@v1#egg=tool
          - libgomp
    """))

    env = Environment.from_conda_specification("conda-env", str(spec))

    deps = env.python.conda_dependencies
    assert env.name == "conda-env"
    assert deps.get_python_version() == "3.11"
    assert deps.conda_packages == ["numpy", "libgomp"]
    assert deps.pip_packages == ["scikit-learn==1.5.0", "git+https://github.com/example/tool.git@v1#egg=tool"]
    assert deps.pip_options == ["--extra-index-url https://example.org/extra"]
    assert deps.conda_channels == ["conda-forge", "defaults"]


def test_from_conda_specification_with_unindented_list(project):
    spec = project / "environment.yml"
    spec.write_text("name: e\ndependencies:\n- python=3.10\n- pip:\n  - joblib\n")

    deps = Environment.from_conda_specification("e", str(spec)).python.conda_dependencies

    assert deps.get_python_version() == "3.10"
    assert deps.pip_packages == ["joblib"]
    assert deps.conda_packages == []


def test_a_registered_environment_comes_back_whole(ws):
    env = Environment("round-trip")
    env.docker.base_image = "python:3.11-slim"
    env.python.user_managed_dependencies = True
    env.environment_variables = {"OMP_NUM_THREADS": "1"}
    env.python.conda_dependencies = CondaDependencies.create(pip_packages=["joblib"], python_version="3.11",
                                                             pip_indexurl="https://example.org/simple")
    env.register(ws)

    again = Environment.get(ws, "round-trip")

    assert again.name == "round-trip" and again.version == "1"
    assert again.python.conda_dependencies.get_python_version() == "3.11"
    assert again.python.conda_dependencies.pip_options == ["--index-url https://example.org/simple"]
    assert again.docker.base_image == "python:3.11-slim"
    assert again.python.user_managed_dependencies is True
    assert again.environment_variables == {"OMP_NUM_THREADS": "1"}
    assert again.python.conda_dependencies.pip_packages == ["joblib"]


def test_environment_needs_a_name():
    with pytest.raises(InvalidArgumentError):
        Environment("")


def test_register_and_get_versions(ws):
    env = Environment("team-env")
    env.python.conda_dependencies.add_pip_package("joblib")
    assert env.register(ws).version == "1"
    env.python.conda_dependencies.add_pip_package("numpy")
    assert env.register(ws).version == "2"

    latest = Environment.get(ws, "team-env")
    first = Environment.get(ws, "team-env", version=1)

    assert latest.version == "2"
    assert latest.python.conda_dependencies.pip_packages == ["joblib", "numpy"]
    assert first.version == "1"
    assert first.python.conda_dependencies.pip_packages == ["joblib"]


def test_get_of_an_unregistered_environment(ws):
    with pytest.raises(InvalidArgumentError, match="'nope'"):
        Environment.get(ws, "nope")
    Environment("some").register(ws)
    with pytest.raises(InvalidArgumentError, match="version 7"):
        Environment.get(ws, "some", version=7)
