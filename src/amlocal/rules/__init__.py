"""Azure ML's rules, in one place, shared by the host and the in-job runtime.

Every module here is standard library only (Python 3.8+) and imports nothing outside this
package, because the same files are copied into each training job (as the top-level package
``amlocal_rules``) next to the ``azureml.core.run`` shim. A rule written here is the one
home of that rule: the local run history, the Azure fakes, the shim and the user API all
call it.

    statuses   run statuses, their order and the legal transitions
    metrics    how logged values are shaped by ``get_metrics``
    packages   the distribution name of a pip requirement
    models     where ``register_model(model_path=...)`` points in a run's files
    provisioning  what ``AmlCompute.provisioning_configuration`` refuses
"""
