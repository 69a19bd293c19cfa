"""``Model.list(tags=..., properties=...)`` accepts what azureml accepts, filters as the service
does, and refuses the rest; checked against the query the real SDK builds."""

from types import SimpleNamespace

import pytest

from amlocal.core import Model, Workspace
from amlocal.exceptions import InvalidArgumentError
from amlocal.rules.filters import model_filter_pairs, model_filter_query

FILTERS = [
    ("tags", ["a", ["b", "c"]]), ("tags", ["k=v"]), ("tags", ("a",)), ("tags", {"a": "1"}), ("tags", [["a"]]),
    ("tags", [["a", 1]]), ("tags", [1]), ("tags", [["a", "b", "extra"]]), ("tags", []), ("tags", "a"),
    ("properties", {"a": "1", "b": "2"}), ("properties", ("x", ["y", "z"])), ("properties", [1]),
    ("properties", 5), ("properties", [["acc", "0.9"]]),
]


@pytest.fixture
def sdk_query(monkeypatch):
    """The filter query the real ``azureml.core.Model.list`` sends to the service."""
    import azureml.core.model as sdk_model

    sent = {}

    class CapturingModelsClient:
        def __init__(self, service_context):
            pass

        def query(self, **arguments):
            sent.update(arguments)
            return []

    monkeypatch.setattr(sdk_model, "ModelsClient", CapturingModelsClient)

    def query(label, wanted):
        sent.clear()
        sdk_model.Model.list(SimpleNamespace(service_context=None), **{label: wanted})
        return sent[label]

    return query


@pytest.mark.parametrize("label, wanted", FILTERS)
def test_the_rule_builds_the_sdks_query_or_refuses_what_it_refuses(label, wanted, sdk_query):
    query, problem = model_filter_query(label, wanted)
    try:
        expected = sdk_query(label, wanted)
    except Exception as err:  # UserErrorException, or the TypeError/IndexError its query building hits
        assert problem, f"azureml refuses {wanted!r} ({type(err).__name__}) but amlocal accepts it"
        if "must be list type" in str(err):
            assert problem == err.message
        return
    assert problem is None and query == expected


def test_how_the_service_reads_the_query():
    assert model_filter_pairs(["area", ["type", "classification"], "stage=prod"], "tags") == \
        [("area", None), ("type", "classification"), ("stage", "prod")]
    assert model_filter_pairs({"accuracy": "0.9"}) == [("accuracy", None)]  # a dict filters by its keys
    assert model_filter_pairs([["url", "a=b"]]) == [("url", "a=b")]


@pytest.fixture(params=["azureml", "process"])
def registry_ws(request, fake, project):
    if request.param == "process":
        return Workspace.from_config(backend="process")
    return Workspace.from_config(backend="azureml", backend_options={"adapter": fake})


def test_model_list_filters_as_azure_does_on_every_backend(registry_ws, project):
    model_file = project / "config.json"
    Model.register(registry_ws, str(model_file), "m", tags={"stage": "prod", "team": "ml"},
                   properties={"accuracy": "0.97"})
    Model.register(registry_ws, str(model_file), "m", tags={"stage": "dev"})

    def versions(**filters):
        return [m.version for m in Model.list(registry_ws, name="m", **filters)]

    assert versions(tags=["stage"]) == [2, 1]
    assert versions(tags=[["stage", "prod"]]) == [1]
    assert versions(tags=["stage=dev"]) == [2]
    assert versions(tags=[["stage", "dev", "ignored"]]) == [2]
    assert versions(properties={"accuracy": "anything"}) == [1]  # keys only, as azureml sends it
    assert versions(tags=[]) == [2, 1]
    with pytest.raises(InvalidArgumentError, match=r"Expected tags must be list type.*provided <class 'dict'>"):
        Model.list(registry_ws, tags={"stage": "prod"})
    with pytest.raises(InvalidArgumentError, match="must start with two strings"):
        Model.list(registry_ws, tags=[["stage"]])
    with pytest.raises(InvalidArgumentError, match="provided 1"):
        Model.list(registry_ws, properties=[1])


def test_tag_and_property_values_are_stored_as_strings_on_every_backend(registry_ws, project):
    """One rule (``amlocal.rules.models.string_tags``): values become strings as Azure stores them;
    a tag without a value stays one, and a filter by its key finds it."""
    model = Model.register(registry_ws, str(project / "config.json"), "m",
                           tags={"accuracy": 0.97, "candidate": None, 7: True}, properties={"epochs": 3})
    expected_tags = {"accuracy": "0.97", "candidate": None, "7": "True"}
    assert (model.tags, model.properties) == (expected_tags, {"epochs": "3"})
    again = Model(registry_ws, "m")
    assert (again.tags, again.properties) == (expected_tags, {"epochs": "3"})
    assert [m.version for m in Model.list(registry_ws, tags=[["accuracy", "0.97"]])] == [1]
    assert [m.version for m in Model.list(registry_ws, tags=["candidate"])] == [1]
