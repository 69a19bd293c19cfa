"""AciWebservice (``azureml.core.webservice.AciWebservice``): Azure Container Instances.

On the azureml backend a deployment is Azure's own (the SDK call, translated). On a local
backend it runs on this machine like a LocalWebservice, with the CPU and memory limits asked
for, so the same deployment code can be tried here first."""

from ...exceptions import WebserviceException
from .webservice import Webservice, WebserviceDeploymentConfiguration

#: a local service's state as ACI names it
ACI_STATES = {"deploying": "Transitioning", "running": "Healthy", "failed": "Failed", "unknown": "Unknown"}


class AciWebservice(Webservice):
    _webservice_type = "ACI"

    def _apply(self, record):
        super()._apply(record)
        self.state = ACI_STATES.get(self.state, self.state)

    def _require_state(self, action, states):
        local = {ACI_STATES.get(s, s) for s in states}
        if self.state not in local and self.state not in states:
            raise WebserviceException(f"Cannot call {action}() when service is {self.state}.")

    def run(self, input_data):
        if self.state == "Transitioning":
            self.wait_for_deployment()
        return super().run(input_data)

    def _announce(self):
        print('ACI service creation operation finished, operation "Succeeded"')

    @staticmethod
    def deploy_configuration(cpu_cores=None, memory_gb=None, tags=None, properties=None, description=None,
                             location=None, auth_enabled=None, ssl_enabled=None, enable_app_insights=None,
                             ssl_cert_pem_file=None, ssl_key_pem_file=None, ssl_cname=None, dns_name_label=None,
                             primary_key=None, secondary_key=None, collect_model_data=None, cmk_vault_base_url=None,
                             cmk_key_name=None, cmk_key_version=None, vnet_name=None, subnet_name=None):
        return AciServiceDeploymentConfiguration(
            cpu_cores, memory_gb, tags, properties, description, location, auth_enabled, ssl_enabled,
            enable_app_insights, ssl_cert_pem_file, ssl_key_pem_file, ssl_cname, dns_name_label, primary_key,
            secondary_key, collect_model_data, cmk_vault_base_url, cmk_key_name, cmk_key_version, vnet_name,
            subnet_name)

    def update(self, image=None, tags=None, properties=None, description=None, auth_enabled=None, ssl_enabled=None,
               ssl_cert_pem_file=None, ssl_key_pem_file=None, ssl_cname=None, enable_app_insights=None, models=None,
               inference_config=None):
        if image is not None:
            raise WebserviceException("Error, images are not supported; pass models and an inference_config.")
        spec = self._update_spec(models=models, inference_config=inference_config, description=description,
                                 tags=tags, properties=properties)
        self._redeploy(spec, wait=False)

    def add_tags(self, tags):
        self.update(tags={**(self.tags or {}), **tags})

    def remove_tags(self, tags):
        self.update(tags={k: v for k, v in (self.tags or {}).items() if k not in tags})

    def add_properties(self, properties):
        self.update(properties={**(self.properties or {}), **properties})

    @staticmethod
    def _deploy(workspace, name, models, inference_config, deployment_config, overwrite=False):
        config = deployment_config
        Webservice.check_for_existing_webservice(workspace, name, overwrite)
        return Webservice._deploy_spec(workspace, name, models, inference_config, "ACI", cpu_cores=config.cpu_cores,
                                       memory_gb=config.memory_gb, description=config.description,
                                       tags=config.tags, properties=config.properties,
                                       deployment_options=config._sdk_options())


class AciServiceDeploymentConfiguration(WebserviceDeploymentConfiguration):
    def __init__(self, cpu_cores=None, memory_gb=None, tags=None, properties=None, description=None, location=None,
                 auth_enabled=None, ssl_enabled=None, enable_app_insights=None, ssl_cert_pem_file=None,
                 ssl_key_pem_file=None, ssl_cname=None, dns_name_label=None, primary_key=None, secondary_key=None,
                 collect_model_data=None, cmk_vault_base_url=None, cmk_key_name=None, cmk_key_version=None,
                 vnet_name=None, subnet_name=None):
        super().__init__(AciWebservice, description, tags, properties, primary_key, secondary_key, location)
        self.cpu_cores = cpu_cores
        self.memory_gb = memory_gb
        self.auth_enabled = auth_enabled
        self.ssl_enabled = ssl_enabled
        self.enable_app_insights = enable_app_insights
        self.ssl_cert_pem_file = ssl_cert_pem_file
        self.ssl_key_pem_file = ssl_key_pem_file
        self.ssl_cname = ssl_cname
        self.dns_name_label = dns_name_label
        self.collect_model_data = collect_model_data
        self.cmk_vault_base_url = cmk_vault_base_url
        self.cmk_key_name = cmk_key_name
        self.cmk_key_version = cmk_key_version
        self.vnet_name = vnet_name
        self.subnet_name = subnet_name
        self.validate_configuration()

    def validate_configuration(self):
        """The SDK's checks, with its messages."""
        import os

        if self.cpu_cores is not None and self.cpu_cores <= 0:
            raise WebserviceException("Invalid configuration, cpu_cores must be positive.")
        if self.memory_gb is not None and self.memory_gb <= 0:
            raise WebserviceException("Invalid configuration, memory_gb must be positive.")
        if self.ssl_enabled:
            if not self.ssl_cert_pem_file or not self.ssl_key_pem_file or not self.ssl_cname:
                raise WebserviceException("SSL is enabled, you must provide a SSL certificate, key, and cname.")
            if not os.path.exists(self.ssl_cert_pem_file):
                raise WebserviceException(f"Error, unable to find SSL cert pem file provided paths:\n"
                                          f"{self.ssl_cert_pem_file}")
            if not os.path.exists(self.ssl_key_pem_file):
                raise WebserviceException(f"Error, unable to find SSL key pem file provided paths:\n"
                                          f"{self.ssl_key_pem_file}")
        if not ((self.cmk_vault_base_url and self.cmk_key_name and self.cmk_key_version)
                or (not self.cmk_vault_base_url and not self.cmk_key_name and not self.cmk_key_version)):
            raise WebserviceException("customer managed key vault_base_url, key_name and key_version must all have "
                                      "values or all are empty/null")
        if (self.vnet_name and not self.subnet_name) or (not self.vnet_name and self.subnet_name):
            raise WebserviceException("vnet_name and subnet_name must all have values or both are empty/null")

    def print_deploy_configuration(self):
        shown = []
        if self.cpu_cores:
            shown.append(f"CPU requirement: {self.cpu_cores}")
        if self.memory_gb:
            shown.append(f"Memory requirement: {self.memory_gb}GB")
        if shown:
            print(", ".join(shown))

    def _sdk_options(self):
        """The keyword arguments of the SDK's AciWebservice.deploy_configuration."""
        names = ("cpu_cores", "memory_gb", "tags", "properties", "description", "location", "auth_enabled",
                 "ssl_enabled", "enable_app_insights", "ssl_cert_pem_file", "ssl_key_pem_file", "ssl_cname",
                 "dns_name_label", "primary_key", "secondary_key", "collect_model_data", "cmk_vault_base_url",
                 "cmk_key_name", "cmk_key_version", "vnet_name", "subnet_name")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}
