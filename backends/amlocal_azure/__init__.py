"""What the two Azure ML backends share: ``amlocal_azureml`` (SDK v1, azureml-core) and
``amlocal_azureml_v2`` (SDK v2, azure-ai-ml) say the same things in the same words and shape
records the same way; each keeps only what its SDK does differently.

Not a backend (no entry point) and SDK-free: it imports the standard library and amlocal's
public modules only, so either backend loads without the other's SDK.

    times          Azure's time strings <-> epoch seconds
    paths          a path from a service, a job or a user, kept inside its root
    credentials    the credential chain: its order and its messages
    timeouts       the limits of every call into Azure: variables over config.json over defaults
    errors         the Azure error tree, its messages, and the ``sdk_errors`` guard
    run_history    RunHistory over an adapter: errors, filters, files, logs
    registry       ModelRegistry over an adapter: lookups, messages, model filters
    execution      the execution backend's base: adapter, compute target, run details
    sdk            whether an SDK is installed (without importing it)
    stores         the workspace's stores bundle, compute targets, datastores, environments
    fake_jobs      a fake workspace's runs: statuses one step per poll, cluster nodes, the job's process
    fake_assets    a fake workspace's clusters (VM sizes, quota), model and environment versions
"""
