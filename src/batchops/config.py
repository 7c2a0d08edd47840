"""Typed settings: the seed article's variables table, layered per environment.

Resolution order (later wins), as in kedro:

1. defaults declared on :class:`Settings`;
2. ``config/<environment>.yaml`` (one file per environment: data-science, staging,
   production) found through ``BATCHOPS_CONFIG_DIR`` or the ``config/`` folder of the
   repository the command runs in;
3. environment variables ``BATCHOPS_<FIELD>`` (values parsed as YAML, so ``true``, ``6.5``
   and ``[a, b]`` work).

The first twenty fields are the article's table, under the same names Terraform uses for
its variables (a test keeps the two in sync). The rest are what a multi-account set-up
adds: which account an environment is, where the central registry lives, and how to reach
GitLab. A bad file, key or value is reported as one line naming the file (or variable)
and the key.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from batchops.errors import ConfigError

ENVIRONMENTS: tuple[str, ...] = ("data-science", "staging", "production")
EnvironmentName = Literal["data-science", "staging", "production"]

#: Step statuses SageMaker reports in *Pipeline Execution Step Status Change* events.
STEP_STATUSES: tuple[str, ...] = (
    "Starting",
    "Executing",
    "Stopping",
    "Stopped",
    "Failed",
    "Succeeded",
)

ENV_PREFIX = "BATCHOPS_"
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: The article's variables table, in its order. ``config show`` prints these first.
ARTICLE_VARIABLES: tuple[str, ...] = (
    "bucket_name",
    "bucket_prefix",
    "bucket_train_prefix",
    "bucket_inf_prefix",
    "notification_function_name",
    "custom_notification_config",
    "email_recipient",
    "pipeline_inf",
    "pipeline_train",
    "pipeline_trainwhpo",
    "recreate_pipelines",
    "model_package_group_name",
    "accuracy_mse_threshold",
    "role_arn",
    "kms_key",
    "subnet_id",
    "sg_id",
    "upload_training_data",
    "upload_inference_data",
    "user_id",
)


class NotificationRule(BaseModel):
    """One entry of ``custom_notification_config``: a message for a step in a status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_name: str = Field(min_length=1, description="Pipeline step name, e.g. RegisterModel.")
    step_status: str = Field(description="One of " + ", ".join(STEP_STATUSES) + ".")
    step_custom_message: str = Field(min_length=1, description="Text sent for that step+status.")

    @field_validator("step_status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value not in STEP_STATUSES:
            raise ValueError(
                f"unknown step status {value!r}; expected one of {list(STEP_STATUSES)}"
            )
        return value


class Settings(BaseModel):
    """Resolved settings of one environment (account)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    # ----- the article's variables table ---------------------------------------------
    bucket_name: str = Field(
        description="S3 bucket that stores data, scripts and model artefacts.",
    )
    bucket_prefix: str = Field(
        "pipeline_shared/batch-scoring",
        description="S3 prefix of the ML project inside the bucket.",
    )
    bucket_train_prefix: str = Field(
        "training/data/raw", description="S3 prefix (under bucket_prefix) for training data."
    )
    bucket_inf_prefix: str = Field(
        # not "batch-scoring/...": under bucket_prefix "pipeline_shared/batch-scoring" that
        # doubled into ".../batch-scoring/batch-scoring/data/raw/"
        "inference/data/raw",
        description="S3 prefix (under bucket_prefix) for inference data and ground truth.",
    )
    notification_function_name: str = Field(
        "batchops-notify",
        description="Lambda function that formats and sends notifications about "
        "SageMaker pipeline step status changes.",
    )
    custom_notification_config: tuple[NotificationRule, ...] = Field(
        (),
        description="Custom notification messages for specific pipeline steps when a "
        "specific step status is detected (step_name, step_status, step_custom_message).",
    )
    email_recipient: tuple[str, ...] = Field(
        description="E-mail addresses that receive the pipeline step status notifications.",
        min_length=1,
    )
    pipeline_inf: str = Field(
        "batchops-inference", description="Name of the SageMaker batch inference pipeline."
    )
    pipeline_train: str = Field(
        "batchops-training", description="Name of the SageMaker training pipeline."
    )
    pipeline_trainwhpo: str = Field(
        "batchops-training-hpo",
        description="Name of the SageMaker training-with-HPO pipeline.",
    )
    recreate_pipelines: bool = Field(
        False,
        description="If true, existing pipelines are deleted and created anew on upsert.",
    )
    model_package_group_name: str = Field(
        "batchops-abalone", description="Name of the model package group (the registry)."
    )
    accuracy_mse_threshold: float = Field(
        10.0,
        gt=0,
        allow_inf_nan=False,
        description="Maximum MSE before the model needs an update (model-quality check).",
    )
    role_arn: str = Field(description="IAM role ARN of the SageMaker pipeline execution role.")
    kms_key: str = Field(description="KMS key ARN for S3 and SageMaker encryption.")
    subnet_id: str | None = Field(
        None, description="Subnet id for the SageMaker network configuration (optional)."
    )
    sg_id: str | None = Field(
        None, description="Security group id for the SageMaker network configuration (optional)."
    )
    upload_training_data: bool = Field(
        False,
        description="If true, training data is uploaded to S3, which triggers the "
        "training pipeline.",
    )
    upload_inference_data: bool = Field(
        False,
        description="If true, inference data is uploaded to S3, which triggers the "
        "inference pipeline.",
    )
    user_id: str = Field(
        min_length=1,
        description="Id of the SageMaker user, added as a tag to SageMaker resources.",
    )

    # ----- what a multi-account deployment adds ---------------------------------------
    environment: EnvironmentName = Field(
        description="Environment (account) these settings are for."
    )
    account_id: str = Field(description="12-digit AWS account id of this environment.")
    region: str = Field("us-east-1", description="AWS region of this environment.")
    registry_account_id: str = Field(
        description="Account that holds the central model registry (the data-science account)."
    )
    access_role_name: str = Field(
        "batchops-deploy",
        description="Role assumed to act on this account (CI through OIDC; the local "
        "cloud through sts:AssumeRole).",
    )
    data_quality_engine: Literal["batchops", "model-monitor"] = Field(
        "batchops",
        description="What runs the data-quality steps: batchops' engine as SageMaker "
        "Processing steps (works in every account), or SageMaker Model Monitor's "
        "QualityCheck steps (only for accounts that still have Model Monitor: it is closed "
        "to new customers since 2026-07-30).",
    )
    gitlab_url: str = Field(
        "https://gitlab.example.com", description="GitLab instance the approval Lambda triggers."
    )
    gitlab_project: str = Field(
        "ml/batchops", description="GitLab project path (or id) of this monorepo."
    )
    gitlab_trigger_secret_name: str = Field(
        "batchops/gitlab-trigger-token",
        description="Secrets Manager secret holding the pipeline trigger token (name only).",
    )
    gitlab_read_token_secret_name: str = Field(
        "batchops/gitlab-read-token",
        description="Secrets Manager secret holding a read-only GitLab API token (read_api) "
        "the approval Lambda uses to find a pipeline an unanswered trigger created (name only).",
    )
    gitlab_token: SecretStr | None = Field(
        None,
        description="GitLab API token for 'gitlab configure' (environment variable only; "
        "never in a file).",
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket(cls, value: str) -> str:
        """S3's naming rules for general purpose buckets (S3 User Guide, "Bucket naming rules")."""
        problem = bucket_name_problem(value)
        if problem:
            raise ValueError(f"{value!r} is not a valid S3 bucket name: {problem}")
        return value

    @field_validator(
        "model_package_group_name", "pipeline_inf", "pipeline_train", "pipeline_trainwhpo"
    )
    @classmethod
    def _sagemaker_name(cls, value: str) -> str:
        # SageMaker API: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (groups), {0,255} (pipelines)
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", value):
            raise ValueError(
                f"expected a SageMaker name (letters, digits and hyphens, not starting or ending "
                f"with a hyphen, at most 63 characters), got {value!r}"
            )
        return value

    @field_validator("notification_function_name")
    @classmethod
    def _function_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", value):
            raise ValueError(
                f"expected a Lambda function name (1-64 letters, digits, '-' or '_'), got {value!r}"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", value):
            raise ValueError(f"expected an AWS region like us-east-1, got {value!r}")
        return value

    @field_validator("subnet_id")
    @classmethod
    def _subnet(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"subnet-([0-9a-f]{8}|[0-9a-f]{17})", value):
            raise ValueError(f"expected a subnet id like subnet-0123456789abcdef0, got {value!r}")
        return value

    @field_validator("sg_id")
    @classmethod
    def _security_group(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"sg-([0-9a-f]{8}|[0-9a-f]{17})", value):
            raise ValueError(
                f"expected a security group id like sg-0123456789abcdef0, got {value!r}"
            )
        return value

    @field_validator("gitlab_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("account_id", "registry_account_id")
    @classmethod
    def _twelve_digits(cls, value: str) -> str:
        if not _ACCOUNT_ID.match(str(value)):
            raise ValueError(f"expected a 12-digit account id, got {value!r}")
        return str(value)

    @field_validator("email_recipient", mode="before")
    @classmethod
    def _emails(cls, value: Any) -> Any:
        values = [value] if isinstance(value, str) else value
        for address in values or ():
            if not isinstance(address, str) or not _EMAIL.match(address):
                raise ValueError(f"expected e-mail addresses, got {address!r}")
        return values

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str) -> str:
        if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+", value):
            raise ValueError(f"expected an IAM role ARN, got {value!r}")
        return value

    @field_validator("kms_key")
    @classmethod
    def _kms(cls, value: str) -> str:
        if not re.match(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+", value):
            raise ValueError(f"expected a KMS key or alias ARN, got {value!r}")
        return value

    @field_validator("bucket_prefix", "bucket_train_prefix", "bucket_inf_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return value.strip("/")

    # ----- derived values -------------------------------------------------------------
    @property
    def training_data_prefix(self) -> str:
        """Key prefix where training data lands (the training trigger watches it)."""
        return f"{self.bucket_prefix}/{self.bucket_train_prefix}/"

    @property
    def inference_data_prefix(self) -> str:
        """Key prefix where inference batches land (the inference trigger watches it)."""
        return f"{self.bucket_prefix}/{self.bucket_inf_prefix}/"

    @property
    def access_role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.access_role_name}"

    def notification_steps(self) -> set[str]:
        return {rule.step_name for rule in self.custom_notification_config}

    def public_dict(self) -> dict[str, Any]:
        """Settings as plain data, article variables first, secrets masked."""
        data = self.model_dump(mode="json")
        for name, field in type(self).model_fields.items():
            if field.annotation is not None and "SecretStr" in str(field.annotation):
                data[name] = "********" if getattr(self, name) is not None else None
        ordered = {key: data[key] for key in ARTICLE_VARIABLES}
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        return ordered


def bucket_name_problem(name: str) -> str | None:
    """What breaks S3's bucket naming rules in ``name`` (None: it follows them)."""
    if not 3 <= len(name) <= 63:
        return f"{len(name)} characters (3 to 63 allowed)"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return "only lowercase letters, digits, '.' and '-' are allowed"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must begin and end with a letter or digit"
    if ".." in name:
        return "two adjacent periods"
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", name):
        return "it is formatted as an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"the prefix {prefix!r} is reserved"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"the suffix {suffix!r} is reserved"
    return None


#: ``BATCHOPS_*`` variables that are not settings: tooling, and the Lambda functions'
#: configuration. Any other ``BATCHOPS_*`` name close to a setting is a misspelling.
NOT_SETTINGS = frozenset(
    {
        "ENDPOINT",
        "ACCOUNTS_DIR",  # batchops doctor: the backend.hcl folder (local up prints it)
        "CONFIG_DIR",
        "BUILD_DIR",
        "ENVIRONMENTS_DIR",
        "LOCAL_WARM",
        "LOCAL_PERSIST",
        "CONTAINER_ROOT",
        "GIT_COMMIT",
        "TEST_KEEP",
        "ENVIRONMENT",
        # Lambda configuration (functions' environments)
        "TOPIC_ARN",
        "IDEMPOTENCY_TABLE",
        "TRIGGER_ID",
        "TRIGGER_SECRET_ID",
        "GITLAB_READ_SECRET_ID",
        "GITLAB_REF",
        "GITLAB_TIMEOUT",
        "GITLAB_ATTEMPTS",
        "RETRY_BASE_DELAY",
        "RETRAIN_PIPELINE_NAME",
        "RETRAIN_COOLDOWN_MINUTES",
        "REQUIRE_APPROVED_MODEL",
        "NOTIFICATION_CONFIG",
        "KNOWN_STEPS",
        "PIPELINE_NAME",
        "MODEL_QUALITY_STEP",
    }
)


def find_config_dir(start: Path | None = None) -> Path:
    """``BATCHOPS_CONFIG_DIR`` or the nearest ``config/`` folder holding environment files."""
    explicit = os.environ.get("BATCHOPS_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    here = (start or Path.cwd()).resolve()
    # the working tree the command runs in, else the checkout batchops is installed from
    for folder in (here, *here.parents, Path(__file__).resolve().parents[2]):
        candidate = folder / "config"
        if (candidate / "data-science.yaml").is_file():
            return candidate
    return here / "config"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: environment file not found (expected one YAML per environment: "
            f"{', '.join(ENVIRONMENTS)}; set BATCHOPS_CONFIG_DIR to another folder)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{where}: YAML syntax error: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def _from_environment(environ: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    values: dict[str, tuple[Any, str]] = {}
    fields = Settings.model_fields
    for key, raw in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in fields or name == "environment":
            _unknown_variable(key)
            continue  # BATCHOPS_ENDPOINT, BATCHOPS_CONFIG_DIR... are not settings
        if name == "gitlab_token":
            values[name] = (raw, key)
            continue
        try:
            parsed = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            parsed = raw
        if isinstance(parsed, (int, float)) and fields[name].annotation is str:
            parsed = raw  # account ids and names stay text
        values[name] = (parsed, f"environment variable {key}")
    return values


def _unknown_variable(key: str) -> None:
    """A ``BATCHOPS_*`` name that is no setting: a misspelling is an error, not a no-op."""
    suffix = key[len(ENV_PREFIX) :]
    if suffix in NOT_SETTINGS:
        return
    near = difflib.get_close_matches(
        suffix.lower(), [f for f in Settings.model_fields if f != "environment"], n=1, cutoff=0.8
    )
    if near:
        raise ConfigError(
            f"environment variable {key}: not a setting (did you mean "
            f"{ENV_PREFIX}{near[0].upper()}?)"
        )


def _describe_error(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    got = err.get("input")
    if kind == "missing":
        return "required setting is missing"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {got!r}"
    if kind == "finite_number":
        return f"expected a finite number, got {got!r}"
    if kind == "greater_than":
        limit = (err.get("ctx") or {}).get("gt")
        return f"expected a number greater than {limit}, got {got!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {got!r}"
    if kind in ("string_type",):
        return f"expected text, got {got!r}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {got!r}"
    message = str(err.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def load_settings(
    environment: str,
    *,
    config_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the settings of ``environment`` (defaults < YAML < env vars < overrides)."""
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {environment!r}; expected one of {', '.join(ENVIRONMENTS)}"
        )
    folder = config_dir or find_config_dir()
    path = folder / f"{environment}.yaml"
    file_values = _read_yaml(path)
    sources: dict[str, str] = {}
    merged: dict[str, Any] = {}
    fields = Settings.model_fields
    for key, value in file_values.items():
        if key not in fields:
            near = difflib.get_close_matches(str(key), fields, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{path}: unknown key {key!r}{hint}")
        if key in ("environment", "gitlab_token"):
            raise ConfigError(
                f"{path}: key {key!r} cannot be set in a file"
                + (" (use BATCHOPS_GITLAB_TOKEN)" if key == "gitlab_token" else "")
            )
        merged[key] = value
        sources[key] = str(path)
    for key, (value, source) in _from_environment(
        os.environ if environ is None else environ
    ).items():
        merged[key] = value
        sources[key] = source
    for key, value in (overrides or {}).items():
        merged[key] = value
        sources[key] = "command line"
    merged["environment"] = environment
    try:
        return Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc", ())
        key = str(loc[0]) if loc else "?"
        detail = ".".join(str(part) for part in loc[1:])
        where = sources.get(key, str(path))
        label = f"key {key!r}" + (f" (item {detail})" if detail else "")
        raise ConfigError(f"{where}: {label}: {_describe_error(err)}") from None


def validate_notification_steps(settings: Settings, known_steps: set[str]) -> None:
    """Fail when ``custom_notification_config`` names a step no pipeline has."""
    unknown = sorted(settings.notification_steps() - known_steps)
    if unknown and known_steps:
        raise ConfigError(
            f"custom_notification_config ({settings.environment}): unknown step name(s) "
            f"{unknown}; the pipelines have {sorted(known_steps)}"
        )
