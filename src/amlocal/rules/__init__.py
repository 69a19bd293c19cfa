"""Azure ML's rules, in one place, shared by the host and the in-job runtime.

Every module here is standard library only (Python 3.8+) and imports only its own modules
(relatively), because the same files are copied into each training job (as the top-level
package ``amlocal_rules``) next to the ``azureml.core.run`` shim, where amlocal is not
installed. A rule written here is the one home of that rule: the local run history, the Azure
fakes, the shim and the user API all call it.

    statuses   run statuses, their order and the legal transitions
    metrics    how logged values are shaped by ``get_metrics``
    names      Azure ML's naming rules (workspace, experiment, compute target, datastore,
               model, environment, run id)
    paths      run-file names, the containment check for host paths built from user input,
               and opening / copying files under a root without following links out of it
    filters    tag and property filters
    models     where ``register_model(model_path=...)`` points in a run's files; tags and
               properties as strings
    packages   the distribution name of a pip requirement
    vm_sizes   Azure VM sizes (vCPUs, memory)
    uploads    the progress lines of a datastore upload
    errors     the ValueError subclasses the rules raise; on the host, importing
               ``amlocal.exceptions`` makes them raise subclasses that are also
               ``amlocal.exceptions.InvalidArgumentError``
    provisioning  what ``AmlCompute.provisioning_configuration`` refuses
"""
