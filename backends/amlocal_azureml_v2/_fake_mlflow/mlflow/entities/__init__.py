"""``mlflow.entities.Metric`` with the real constructor's parameters."""


class Metric(object):
    def __init__(self, key, value, timestamp, step, model_id=None, dataset_name=None, dataset_digest=None,
                 run_id=None):
        self.key, self.value, self.timestamp, self.step = key, value, timestamp, step
        self.model_id, self.dataset_name, self.dataset_digest, self.run_id = model_id, dataset_name, dataset_digest, run_id
