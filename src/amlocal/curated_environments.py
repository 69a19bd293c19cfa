"""Azure ML's curated environments, as local definitions: one table, and ``lookup(name)``.

``Environment.get(ws, name="AzureML-sklearn-1.5")`` on Azure returns an environment Microsoft
builds and publishes. Locally, ``lookup`` turns the same name (any case) into an
``EnvironmentSpec`` with the Python version and the package pins of the published image, so a
sweep or a run trains against the same library versions it will meet on Azure. On Azure the name
passes through unchanged; this table is only for local builds.

What a local build installs. Every package of the published spec is kept in the table, each
marked ``local`` or not with the reason. Left out locally:
- Azure ML's runtime packages (azureml-core, azureml-defaults, azureml-mlflow, ...): they pull
  in azureml-core and talk to the service; a local job gets amlocal's ``azureml.core.run`` shim.
- Tooling of Azure's own job services (py-spy, debugpy, ipykernel, tensorboard, ...): profilers,
  debuggers and kernels that the image carries for the studio, not for the training script.
- Security floors for transitive dependencies of those runtime packages, and installer pins.
The machine-learning stack (numpy, scipy, pandas, scikit-learn, joblib, matplotlib, ...) is
installed with the published specifiers, unchanged.

Python. A local build uses the version below when the base image (for the process backend, this
machine) has it, else the base image's own, and then the run's warnings say so: pins with no
wheel for that Python move to their nearest release that has one (``amlocal._local.python_versions``,
with uv; without it pip finds no wheel and the build fails offline). Each entry's ``python_note``
says which pins that concerns.

Sources: each entry names the file it was read from (``source``) and that file's date
(``source_date``). "{{latest-pypi-version}}" in Azure's templates is filled in with the latest
release when Azure builds the image, so those packages are unpinned here.
"""

from dataclasses import dataclass, field

from .exceptions import UnknownCuratedEnvironmentError
from .specs import EnvironmentSpec

__all__ = ["CuratedEnvironment", "Package", "CURATED_ENVIRONMENTS", "entry", "is_curated_name", "known_names",
           "lookup"]

ASSETS = "https://github.com/Azure/azureml-assets/blob"
TRAINING_ENVIRONMENTS = "assets/training/general/environments"


def _asset(commit, asset):
    return f"{ASSETS}/{commit}/{TRAINING_ENVIRONMENTS}/{asset}/context/"

AZURE_RUNTIME = ("Azure ML runtime package: pulls in azureml-core and talks to the service; a local job "
                 "gets amlocal's azureml.core.run shim instead")
AZURE_TOOLING = ("tooling for Azure's job and studio services (profiler, debugger, notebook kernel, "
                 "TensorBoard); training scripts do not import it")
SECURITY_FLOOR = "security floor for a transitive dependency of the Azure runtime packages, not installed locally"
INSTALLER = "the installer itself; a local build uses its own"
INTEL_ACCELERATOR = ("Intel's optional scikit-learn accelerator (with daal, about 200 MB); used only by scripts "
                     "that call sklearnex.patch_sklearn()")
AUTOML_TOOLS = ("AutoML common-tools dependency; psutil 5.8 and py-cpuinfo 5.0 publish no wheel for these "
                "Pythons, so installing them needs a C compiler and the network")
MLFLOW_CLIENT = ("MLflow client, there for azureml-mlflow (tracking to the workspace); amlocal records "
                 "metrics through run.log")


@dataclass(frozen=True)
class Package:
    """One package of a curated environment: ``spec`` as published, from the ``conda`` or the
    ``pip`` section; ``local`` says whether a local build installs it, ``why_not`` why not."""

    spec: str
    section: str = "pip"
    local: bool = True
    why_not: str = ""


def _conda(*specs, local=True, why_not=""):
    return tuple(Package(s, "conda", local, why_not) for s in specs)


def _pip(*specs, local=True, why_not=""):
    return tuple(Package(s, "pip", local, why_not) for s in specs)


@dataclass(frozen=True)
class CuratedEnvironment:
    """A curated environment: its name on Azure, Python, packages, the image Azure runs it in,
    where the definition comes from, and what a base image with another Python means."""

    name: str
    python_version: str
    packages: tuple
    azure_image: str
    source: str
    source_date: str
    python_note: str
    channels: tuple = ()
    description: str = ""
    aliases: tuple = field(default_factory=tuple)

    @property
    def local_packages(self):
        """The package specs a local build installs (all through pip), in published order."""
        return [p.spec for p in self.packages if p.local]

    def to_spec(self):
        """The EnvironmentSpec a local build uses (``curated=True``; base image: the workspace's)."""
        return EnvironmentSpec(name=self.name, python_version=self.python_version,
                               pip_packages=tuple(self.local_packages), curated=True)


_SKLEARN_15_TOOLING = (
    _pip("py-spy==0.3.12", "debugpy~=1.6.3", "ipykernel~=6.0", "tensorboard", local=False, why_not=AZURE_TOOLING)
    + _pip("psutil~=5.8.0", local=False, why_not=AUTOML_TOOLS)
    + _pip("matplotlib~=3.5.0", "tqdm~=4.66.3")
    + _pip("py-cpuinfo==5.0.0", local=False, why_not=AUTOML_TOOLS)
    + _pip("torch-tb-profiler~=0.4.0", local=False, why_not=AZURE_TOOLING)
)

CURATED_ENVIRONMENTS = (
    CuratedEnvironment(
        name="AzureML-sklearn-1.5",
        description="scikit-learn 1.5 training on Ubuntu, Python 3.10 (the sample notebook's environment)",
        python_version="3.10",
        channels=("conda-forge", "anaconda"),
        packages=(
            _conda("pip=26.1.2", local=False, why_not=INSTALLER)
            + _conda("pandas~=1.5.3", "scipy~=1.10.0", "numpy~=1.22.0")
            + _pip("scikit-learn-intelex", local=False, why_not=INTEL_ACCELERATOR)
            + _pip("azureml-core", "azureml-defaults", "azureml-inference-server-http", "azureml-mlflow",
                   "azureml-telemetry", local=False, why_not=AZURE_RUNTIME)
            + _pip("scikit-learn~=1.5.0", "joblib~=1.2.0")
            + _SKLEARN_15_TOOLING
            + _pip("starlette>=1.0.1", "idna>=3.15", "cryptography==48.0.1", "pyarrow>=23.0.1", "aiohttp>=3.14.0",
                   "distributed>=2026.1.0", local=False, why_not=SECURITY_FLOOR)
        ),
        azure_image=("mcr.microsoft.com/azureml/curated/sklearn-1.5 "
                     "(FROM mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04)"),
        source=(_asset("d3cfe967a11e46109aac55d10b151f717fcb5dd5", "sklearn-1.5")
                + "conda_dependencies.yaml and Dockerfile (Azure/azureml-assets)"),
        source_date="2026-07-20",
        python_note=("Python 3.10, as on Azure. numpy~=1.22.0 and matplotlib~=3.5.0 publish wheels only up to "
                     "CPython 3.10: on a base image with Python 3.11 or newer pip finds no wheel and tries to "
                     "compile them from source, which fails offline. Build on a Python 3.10 interpreter."),
    ),
    CuratedEnvironment(
        name="AzureML-sklearn-1.0-ubuntu20.04-py38-cpu",
        description="scikit-learn 1.0 training on Ubuntu 20.04, Python 3.8 (the name of the image before the "
                    "registry renamed it sklearn-1.0)",
        python_version="3.8",
        channels=("anaconda", "conda-forge"),
        packages=(
            _conda("pip=21.3.1", local=False, why_not=INSTALLER)
            + _conda("pandas~=1.3.0", "scipy~=1.7.0", "numpy~=1.22.0")
            + _pip("wheel~=0.38.1", local=False, why_not=INSTALLER)
            + _pip("azureml-core", "azureml-defaults", "azureml-mlflow", "azureml-telemetry",
                   "azureml-automl-common-tools", local=False, why_not=AZURE_RUNTIME)
            + _pip("scikit-learn~=1.0.0", "joblib~=1.2.0")
        ),
        azure_image=("mcr.microsoft.com/azureml/curated/sklearn-1.0-ubuntu20.04-py38-cpu "
                     "(FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04)"),
        source=(_asset("366fc7e95cab693db710b2341be3fa4e9ace9f90", "sklearn-1.0")
                + "conda_dependencies.yaml (Azure/azureml-assets, the asset's first version, still Python 3.8; "
                "from 2024-02-23 the sklearn-1.0 asset moved to Python 3.9, see AzureML-sklearn-1.0)"),
        source_date="2023-06-27",
        python_note=("Python 3.8, as the name says. pandas~=1.3.0, scipy~=1.7.0 and scikit-learn~=1.0.0 publish "
                     "wheels only up to CPython 3.10 (numpy~=1.22.0 likewise): with Python 3.11 or newer they "
                     "would have to compile from source, which fails offline. Build on Python 3.8 (3.9 and "
                     "3.10 also find wheels, but are not the published interpreter)."),
    ),
    CuratedEnvironment(
        name="AzureML-sklearn-1.0",
        description="scikit-learn 1.0 training, the registry's current sklearn-1.0 asset (Python 3.9)",
        python_version="3.9",
        channels=("anaconda", "conda-forge"),
        packages=(
            _conda("pip=21.3.1", local=False, why_not=INSTALLER)
            + _conda("pandas~=1.3.0", "scipy~=1.10.0", "numpy~=1.22.0")
            + _pip("wheel~=0.38.1", local=False, why_not=INSTALLER)
            + _pip("azureml-core", "azureml-defaults", "azureml-mlflow", "azureml-telemetry", local=False,
                   why_not=AZURE_RUNTIME)
            + _pip("scikit-learn~=1.0.0", "joblib~=1.2.0")
            + _pip("cryptography>=42.0.4", "certifi>=2023.07.22", "requests>=2.32.3", "idna>=3.7", local=False,
                   why_not=SECURITY_FLOOR)
            + _SKLEARN_15_TOOLING
        ),
        azure_image=("mcr.microsoft.com/azureml/curated/sklearn-1.0 "
                     "(FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04)"),
        source=(_asset("468e7b5166d99408beb5dffbb62592773db19016", "sklearn-1.0")
                + "conda_dependencies.yaml (Azure/azureml-assets)"),
        source_date="2024-05-31",
        python_note=("Python 3.9, as on Azure. pandas~=1.3.0, scikit-learn~=1.0.0, numpy~=1.22.0 and "
                     "matplotlib~=3.5.0 publish wheels only up to CPython 3.10: with Python 3.11 or newer they "
                     "would have to compile from source, which fails offline."),
    ),
    CuratedEnvironment(
        name="AzureML-Minimal",
        description="the minimal environment of SDK v1: Python and Azure ML's run tracking, nothing else",
        python_version="3.6.2",
        channels=("conda-forge",),
        packages=_pip("azureml-core==1.8.0", "azureml-defaults==1.8.0", local=False, why_not=AZURE_RUNTIME),
        azure_image=("mcr.microsoft.com/azureml/intelmpi2018.3-ubuntu16.04:20200423.v1 (SDK v1's CPU base "
                     "image of the time; the docs list the packages, not the image)"),
        source=("https://github.com/MicrosoftDocs/azure-docs/blob/5cace04239f5efef4c1eed78144191a8b7d7fee8/"
                "articles/machine-learning/resource-curated-environments.md#azureml-minimal (list 'updated "
                "as of June 2020', SDK 1.8.0)"),
        source_date="2020-07-08",
        python_note=("Python 3.6.2 is end-of-life and not available as a base image here; the local build uses "
                     "the base image's Python. Nothing is pinned for a local build (both packages are Azure's "
                     "runtime), so any Python 3 works; code relying on 3.6-only behaviour is not reproduced."),
    ),
    CuratedEnvironment(
        name="AzureML-Tutorial",
        description="SDK v1's tutorial environment: Azure ML packages plus common data-science packages",
        python_version="3.6.2",
        channels=("anaconda", "conda-forge"),
        packages=(
            _pip("azureml-core==1.8.0", "azureml-defaults==1.8.0", "azureml-telemetry==1.8.0",
                 "azureml-train-restclients-hyperdrive==1.8.0", "azureml-train-core==1.8.0",
                 "azureml-widgets==1.8.0", "azureml-pipeline-core==1.8.0", "azureml-pipeline-steps==1.8.0",
                 "azureml-opendatasets==1.8.0", "azureml-automl-core==1.8.0", "azureml-automl-runtime==1.8.0",
                 "azureml-train-automl-client==1.8.0", "azureml-train-automl-runtime==1.8.0.post1",
                 "azureml-train-automl==1.8.0", "azureml-train==1.8.0", "azureml-sdk==1.8.0",
                 "azureml-interpret==1.8.0", "azureml-tensorboard==1.8.0", "azureml-mlflow==1.8.0",
                 local=False, why_not=AZURE_RUNTIME)
            + _pip("mlflow", local=False, why_not=MLFLOW_CLIENT)
            + _pip("sklearn-pandas")
            + _conda("pandas", "numpy", "tqdm", "scikit-learn", "matplotlib")
        ),
        azure_image=("mcr.microsoft.com/azureml/intelmpi2018.3-ubuntu16.04:20200423.v1 (SDK v1's CPU base "
                     "image of the time; the docs list the packages, not the image)"),
        source=("https://github.com/MicrosoftDocs/azure-docs/blob/5cace04239f5efef4c1eed78144191a8b7d7fee8/"
                "articles/machine-learning/resource-curated-environments.md#azureml-tutorial (list 'updated "
                "as of June 2020', SDK 1.8.0)"),
        source_date="2020-07-08",
        python_note=("Python 3.6.2 is end-of-life and not available as a base image here; the local build uses "
                     "the base image's Python. The data-science packages were unpinned on Azure too, so a "
                     "local build installs their latest releases for that Python: newer than Azure's 2020 image "
                     "(e.g. numpy 2 has no np.float, which 2019-era scripts still call)."),
    ),
)

_BY_NAME = {}
for _env in CURATED_ENVIRONMENTS:
    for _name in (_env.name,) + tuple(_env.aliases):
        _BY_NAME[_name.lower()] = _env


def known_names():
    """The curated names amlocal can build locally, as Azure spells them."""
    return [env.name for env in CURATED_ENVIRONMENTS]


def is_curated_name(name):
    """True for names in Azure's reserved curated namespace ("AzureML-...", any case)."""
    return isinstance(name, str) and name.lower().startswith("azureml")


def entry(name):
    """The table row for ``name`` (any case), or None when ``name`` is not a curated name at all.
    Raises UnknownCuratedEnvironmentError for an ``AzureML-*`` name not in the table."""
    if not isinstance(name, str):
        return None
    env = _BY_NAME.get(name.strip().lower())
    if env is None and is_curated_name(name.strip()):
        raise UnknownCuratedEnvironmentError(name, known_names())
    return env


def lookup(name):
    """The local EnvironmentSpec (``curated=True``) for the curated environment ``name`` (any
    case); None when ``name`` is not an ``AzureML-*`` name (a user's own environment).
    Raises UnknownCuratedEnvironmentError, listing the known names, for an unknown ``AzureML-*``."""
    env = entry(name)
    return None if env is None else env.to_spec()
