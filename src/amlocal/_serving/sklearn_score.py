"""amlocal's default entry script for a scikit-learn model (no score.py of your own).

init() loads the one model under AZUREML_MODEL_DIR (a joblib or pickle file, or a directory
holding exactly one such file). run() takes ``{"data": [[...], ...]}`` (rows of features, or a
list of {column: value} records for a model fitted on a DataFrame) and returns
``{"predictions": [...]}``, plus ``"probabilities"`` when the model has predict_proba and the
request says ``"method": "predict_proba"``. A body that is not such JSON gets HTTP 400 with
what was wrong; the server keeps serving.
"""

import json
import os

import joblib
from azureml_inference_server_http.api.aml_response import AMLResponse

MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav")
model = None


def _model_file(root):
    if os.path.isfile(root):
        return root
    found = []
    for directory, _, files in os.walk(root):
        found += [os.path.join(directory, f) for f in files if f.lower().endswith(MODEL_SUFFIXES)]
    if len(found) != 1:
        raise RuntimeError(f"The default scorer needs exactly one model file ({', '.join(MODEL_SUFFIXES)}) under "
                           f"{root}; found {len(found)}: {found[:10]}. Deploy with an entry script of your own.")
    return found[0]


def init():
    global model
    model = joblib.load(_model_file(os.environ["AZUREML_MODEL_DIR"]))


def _bad(message):
    return AMLResponse({"message": message}, 400, json_str=True)


def run(raw_data):
    try:
        body = json.loads(raw_data)
    except ValueError as err:
        return _bad(f"The request body is not JSON ({err}). Send {{\"data\": [[feature, ...], ...]}}.")
    if not isinstance(body, dict) or "data" not in body:
        return _bad("The request body must be a JSON object with a \"data\" list: {\"data\": [[feature, ...], ...]}.")
    data = body["data"]
    if not isinstance(data, list) or not data:
        return _bad("\"data\" must be a non-empty list of rows.")
    if all(isinstance(row, dict) for row in data):
        import pandas

        data = pandas.DataFrame.from_records(data)
    try:
        if body.get("method") == "predict_proba":
            if not hasattr(model, "predict_proba"):
                return _bad(f"This model ({type(model).__name__}) has no predict_proba.")
            return {"probabilities": model.predict_proba(data).tolist()}
        return {"predictions": model.predict(data).tolist()}
    except (ValueError, TypeError) as err:
        return _bad(f"The model cannot score this data: {err}")
