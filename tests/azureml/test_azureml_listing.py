"""Listing runs on Azure costs one page of calls, not calls per run: the real-SDK adapter is run
over a counting fake of the SDK classes it uses (``Experiment``, ``Run``), which charges what
the run history service charges (one call per page of ``DEFAULT_PAGE_SIZE`` runs, three for a
run's ``get_details``)."""

import collections
import datetime

import pytest
from azureml._restclient.constants import DEFAULT_PAGE_SIZE

from amlocal_azureml import sdk_adapter
from amlocal_azureml.history import AzureRunHistory
from amlocal_azureml.translate import offline_workspace

EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class RunHistoryService:
    """The workspace's run history: experiments of runs, and the calls made to it."""

    def __init__(self):
        self.experiments = {}
        self.calls = collections.Counter()

    def add(self, experiment, count):
        runs = self.experiments.setdefault(experiment, [])
        for index in range(count):
            created = EPOCH + datetime.timedelta(minutes=len(runs))
            runs.append({"run_id": f"{experiment}_{len(runs)}", "status": "Completed" if index % 3 else "Failed",
                         "created_utc": created.isoformat().replace("+00:00", "Z"),
                         "start_time_utc": (created + datetime.timedelta(seconds=5)).isoformat(),
                         "end_time_utc": (created + datetime.timedelta(seconds=65)).isoformat(),
                         "script_name": "train.py", "target": "cpu-cluster", "tags": {"index": str(index)},
                         "properties": {"azureml.runsource": "experiment"},
                         "run_definition": {"script": "train.py", "arguments": ["--penalty", "1.0"]},
                         "error": {"error": {"code": "UserError", "message": "boom"}} if index % 3 == 0 else None})


def counting_sdk(service):
    class FakeRun:
        def __init__(self, experiment, dto):
            self.experiment, self._run_dto, self.id = experiment, dto, dto["run_id"]

        status = property(lambda self: self._run_dto["status"])
        tags = property(lambda self: self._run_dto["tags"])

        @staticmethod
        def list(experiment, type=None, tags=None, properties=None, status=None, include_children=False,
                 _rehydrate_runs=True):
            runs = sorted(service.experiments[experiment.name], key=lambda r: r["created_utc"], reverse=True)
            for start in range(0, len(runs), DEFAULT_PAGE_SIZE):
                service.calls["list runs (one page)"] += 1
                for dto in runs[start:start + DEFAULT_PAGE_SIZE]:
                    yield FakeRun(experiment, dto)

        def get_details(self):
            service.calls["get_details (run, its details, its logs)"] += 3
            return {"runId": self.id, "status": self.status}

        def get_tags(self):
            service.calls["get_tags"] += 1
            return dict(self.tags)

        def get_status(self):
            service.calls["get_status"] += 1
            return self.status

    class FakeExperiment:
        def __init__(self, workspace, name, _create_in_cloud=True, **kwargs):
            if _create_in_cloud:
                service.calls["get or create experiment"] += 1
                service.experiments.setdefault(name, [])
            self.workspace, self.name = workspace, name

        @staticmethod
        def list(workspace, experiment_name=None, view_type=None, tags=None):
            service.calls["list experiments"] += 1
            return [FakeExperiment(workspace, name, _create_in_cloud=False) for name in sorted(service.experiments)
                    if experiment_name in (None, name)]

        def get_runs(self, type=None, tags=None, properties=None, include_children=False):
            return FakeRun.list(self, type, tags, properties, include_children=include_children)

    return FakeExperiment, FakeRun


@pytest.fixture
def service(monkeypatch):
    service = RunHistoryService()
    experiment, run = counting_sdk(service)
    monkeypatch.setattr(sdk_adapter, "Experiment", experiment)
    monkeypatch.setattr(sdk_adapter, "Run", run)
    return service


@pytest.fixture
def adapter(service):
    return sdk_adapter.SdkAzureAdapter(offline_workspace("sub", "rg", "ws"))


def test_five_hundred_runs_list_in_one_page_of_calls(service, adapter):
    service.add("big", DEFAULT_PAGE_SIZE)
    records = adapter.list_runs("big")
    assert len(records) == DEFAULT_PAGE_SIZE == 500
    assert service.calls == {"list experiments": 1, "list runs (one page)": 1}


def test_each_further_page_costs_one_call(service, adapter):
    service.add("bigger", DEFAULT_PAGE_SIZE + 1)
    assert len(adapter.list_runs("bigger")) == DEFAULT_PAGE_SIZE + 1
    assert service.calls == {"list experiments": 1, "list runs (one page)": 2}


def test_every_experiment_of_the_workspace(service, adapter):
    service.add("a", 3)
    service.add("b", 2)
    records = adapter.list_runs()
    assert sorted(r["run_id"] for r in records) == ["a_0", "a_1", "a_2", "b_0", "b_1"]
    created = [r["created"] for r in records]
    assert created == sorted(created, reverse=True) and records[0]["run_id"] == "a_2"  # newest first
    assert service.calls == {"list experiments": 1, "list runs (one page)": 2}


def test_a_limit_stops_the_listing(service, adapter):
    service.add("big", 2 * DEFAULT_PAGE_SIZE)
    assert len(adapter.list_runs("big", limit=10)) == 10
    assert service.calls == {"list experiments": 1, "list runs (one page)": 1}


def test_an_unknown_experiment_is_not_created(service, adapter):
    assert adapter.list_runs("never-ran") == []
    assert "never-ran" not in service.experiments and "get or create experiment" not in service.calls


def test_records_carry_what_the_listing_holds(service, adapter):
    service.add("exp", 2)
    history = AzureRunHistory(adapter)
    newest, oldest = history.list_runs("exp")
    assert (newest["run_id"], newest["status"], newest["experiment"]) == ("exp_1", "Completed", "exp")
    assert newest["created"] == (EPOCH + datetime.timedelta(minutes=1)).timestamp()
    assert newest["end_time"] - newest["start_time"] == 60
    assert (newest["script"], newest["arguments"], newest["compute_target"]) == \
        ("train.py", ["--penalty", "1.0"], "cpu-cluster")
    assert newest["tags"] == {"index": "1"} and newest["error"] is None
    assert newest["properties"] == {"azureml.runsource": "experiment"}
    assert oldest["error"]["code"] == "UserError" and oldest["error"]["message"] == "boom"
    assert [r["run_id"] for r in history.list_runs("exp", tags={"index": "0"})] == ["exp_0"]
    assert "get_details (run, its details, its logs)" not in service.calls and "get_tags" not in service.calls
